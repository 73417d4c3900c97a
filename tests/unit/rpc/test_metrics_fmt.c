/* SPDX-License-Identifier: MIT */
/* Unit tests: the Prometheus text exposition writer, byte by byte, and its refusals. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/metrics.h"
#include "tap.h"

static void c_families(struct metrics_writer *w, void *ctx)
{
	static const double bounds[] = { 0.0001, 0.001, 0.1, 1 };
	static const uint64_t counts[] = { 3, 0, 5, 1, 2 };

	(void)ctx;
	metrics_family(w, "nvring_commands_total", METRICS_COUNTER, "commands completed\\by \"kind\"\nsecond line");
	metrics_counter(w, METRICS_LABELS({ "nqn", "nqn.a\"b\\c\nd" }, { "nsid", "1" }), 18446744073709551615ull);
	metrics_counter(w, NULL, 0);
	metrics_family(w, "nvring_queue_depth", METRICS_GAUGE, NULL);
	metrics_gauge(w, METRICS_LABELS({ "q", "\xc3\xa9t\xc3\xa9" }), 0.1);
	metrics_gauge(w, NULL, 1e-9);
	metrics_gauge(w, NULL, -2.5e300);
	metrics_gauge(w, NULL, NAN);
	metrics_gauge(w, NULL, INFINITY);
	metrics_gauge(w, NULL, -INFINITY);
	metrics_gauge(w, NULL, 3);
	metrics_family(w, "nvring_latency_seconds", METRICS_HISTOGRAM, "latency");
	metrics_histogram(w, METRICS_LABELS({ "op", "read" }), bounds, counts, 4, 0.5);
	metrics_histogram(w, NULL, NULL, counts, 0, 0);
	metrics_family(w, "ns:x_untyped", METRICS_UNTYPED, "");
	metrics_counter(w, NULL, 7);
	metrics_gauge(w, NULL, 7.5);
}

static const char want_families[] =
	"# HELP nvring_commands_total commands completed\\\\by \"kind\"\\nsecond line\n"
	"# TYPE nvring_commands_total counter\n"
	"nvring_commands_total{nqn=\"nqn.a\\\"b\\\\c\\nd\",nsid=\"1\"} 18446744073709551615\n"
	"nvring_commands_total 0\n"
	"# TYPE nvring_queue_depth gauge\n"
	"nvring_queue_depth{q=\"\xc3\xa9t\xc3\xa9\"} 0.1\n"
	"nvring_queue_depth 1e-09\n"
	"nvring_queue_depth -2.5e+300\n"
	"nvring_queue_depth NaN\n"
	"nvring_queue_depth +Inf\n"
	"nvring_queue_depth -Inf\n"
	"nvring_queue_depth 3\n"
	"# HELP nvring_latency_seconds latency\n"
	"# TYPE nvring_latency_seconds histogram\n"
	"nvring_latency_seconds_bucket{op=\"read\",le=\"0.0001\"} 3\n"
	"nvring_latency_seconds_bucket{op=\"read\",le=\"0.001\"} 3\n"
	"nvring_latency_seconds_bucket{op=\"read\",le=\"0.1\"} 8\n"
	"nvring_latency_seconds_bucket{op=\"read\",le=\"1\"} 9\n"
	"nvring_latency_seconds_bucket{op=\"read\",le=\"+Inf\"} 11\n"
	"nvring_latency_seconds_sum{op=\"read\"} 0.5\n"
	"nvring_latency_seconds_count{op=\"read\"} 11\n"
	"nvring_latency_seconds_bucket{le=\"+Inf\"} 3\n"
	"nvring_latency_seconds_sum 0\n"
	"nvring_latency_seconds_count 3\n"
	"# HELP ns:x_untyped \n"
	"# TYPE ns:x_untyped untyped\n"
	"ns:x_untyped 7\n"
	"ns:x_untyped 7.5\n";

static void c_empty(struct metrics_writer *w, void *ctx)
{
	(void)w;
	(void)ctx;
}

/* Each ctx names one misuse. */
static void c_bad(struct metrics_writer *w, void *ctx)
{
	static const double up_down[] = { 1, 0.5 }, inf[] = { 1, INFINITY };
	static const uint64_t counts[] = { 1, 1, 1 };
	int which = *(int *)ctx;

	if (which == 0) {
		metrics_family(w, "1abc", METRICS_COUNTER, NULL);
		return;
	}
	if (which == 1) {
		metrics_counter(w, NULL, 1);
		return;
	}
	metrics_family(w, "fam", which < 6 ? METRICS_GAUGE : METRICS_HISTOGRAM, NULL);
	switch (which) {
	case 2: metrics_counter(w, NULL, 1); break;
	case 3: metrics_gauge(w, METRICS_LABELS({ "__name", "x" }), 1); break;
	case 4: metrics_gauge(w, METRICS_LABELS({ "a", "x" }, { "a", "y" }), 1); break;
	case 5: metrics_family(w, "fam", METRICS_GAUGE, NULL); break;
	case 6: metrics_histogram(w, METRICS_LABELS({ "le", "1" }), up_down, counts, 0, 0); break;
	case 7: metrics_histogram(w, NULL, up_down, counts, 2, 0); break;
	case 8: metrics_histogram(w, NULL, inf, counts, 2, 0); break;
	case 9: metrics_gauge(w, NULL, 1); break;
	case 10: metrics_histogram(w, METRICS_LABELS({ "a-b", "1" }), inf, counts, 0, 0); break;
	case 11: metrics_histogram(w, METRICS_LABELS({ "a", NULL }), inf, counts, 0, 0); break;
	}
}

int main(void)
{
	static const char *const bad_msgs[] = {
		"'1abc' is not a metric name",
		"a counter sample before any family",
		"fam: a counter sample in a gauge family",
		"fam: '__name' is not a label name (or has no value)",
		"fam: label a given twice",
		"family fam written twice",
		"fam: a histogram's label may not be called le",
		"fam: bucket bounds must be finite and increasing",
		"fam: bucket bounds must be finite and increasing",
		"fam: a gauge sample in a histogram family",
		"fam: 'a-b' is not a label name (or has no value)",
		"fam: 'a' is not a label name (or has no value)",
	};
	char *text = NULL, err[256];
	size_t len = 0;
	int ret;

	ret = metrics_render(c_families, NULL, &text, &len, err, sizeof(err));
	if (!tap_ok(ret == 0 && len == strlen(want_families) && !strcmp(text, want_families), "families, escapes, values, histograms"))
		tap_diag("got:\n%s", text ? text : err);
	free(text);
	ret = metrics_render(c_empty, NULL, &text, &len, err, sizeof(err));
	tap_ok(ret == 0 && len == 0 && text && !*text, "nothing to say: an empty text");
	free(text);
	for (int i = 0; i < (int)(sizeof(bad_msgs) / sizeof(bad_msgs[0])); i++) {
		text = NULL;
		ret = metrics_render(c_bad, &i, &text, &len, err, sizeof(err));
		if (!tap_ok(ret == -EINVAL && !text && !strcmp(err, bad_msgs[i]), "refused: %s", bad_msgs[i]))
			tap_diag("ret %d err '%s'", ret, err);
	}
	return tap_done();
}
