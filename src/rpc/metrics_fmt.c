/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text exposition format, version 0.0.4: "# HELP name text" (\\ and \n
 * escaped), "# TYPE name type", then samples "name{label=\"value\",...} value" (label values
 * with \\, \" and \n escaped), one per line, every line ending with \n.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/metrics.h"

#define METRICS_NAME_MAX 128

struct metrics_writer {
	char *buf;
	size_t len, cap;
	char family[METRICS_NAME_MAX];
	enum metrics_type type;
	bool in_family;
	int err; /* first error: every later call is ignored */
	char errmsg[192];
};

static void mw_fail(struct metrics_writer *w, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void mw_fail(struct metrics_writer *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (w->err)
		return;
	w->err = err;
	va_start(ap, fmt);
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
}

static void mw_put(struct metrics_writer *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		char *p;

		while (w->len + n + 1 > cap)
			cap *= 2;
		p = realloc(w->buf, cap);
		if (!p) {
			mw_fail(w, -ENOMEM, "out of memory");
			return;
		}
		w->buf = p;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void mw_str(struct metrics_writer *w, const char *s)
{
	mw_put(w, s, strlen(s));
}

/* s with backslash and newline escaped, and the double quote too in label values. */
static void mw_escaped(struct metrics_writer *w, const char *s, bool quote)
{
	for (const char *p = s; *p; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : quote && *p == '"' ? "\\\"" : NULL;

		if (esc) {
			mw_put(w, s, (size_t)(p - s));
			mw_str(w, esc);
			s = p + 1;
		}
	}
	mw_str(w, s);
}

static bool mw_name_ok(const char *s, bool colon)
{
	size_t n = strlen(s);

	if (!n || n >= METRICS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');

		if (!alpha && !(i && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

/* The shortest of %.15g..%.17g that reads back as v; the spellings the format has for the rest. */
static const char *mw_fmt_double(char *b, size_t size, double v)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(b, size, "%.*g", prec, v);
		if (strtod(b, NULL) == v)
			break;
	}
	return b;
}

static void mw_double(struct metrics_writer *w, double v)
{
	char b[40];

	mw_str(w, mw_fmt_double(b, sizeof(b), v));
}

static void mw_u64(struct metrics_writer *w, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	mw_str(w, b);
}

static const char *const mw_type_names[] = {
	[METRICS_COUNTER] = "counter", [METRICS_GAUGE] = "gauge",
	[METRICS_HISTOGRAM] = "histogram", [METRICS_UNTYPED] = "untyped",
};

static bool mw_family_written(const struct metrics_writer *w, const char *name)
{
	char line[METRICS_NAME_MAX + 10];
	size_t n = (size_t)snprintf(line, sizeof(line), "# TYPE %s ", name);

	for (const char *p = w->buf; p && (p = strstr(p, line)); p += n)
		if (p == w->buf || p[-1] == '\n')
			return true;
	return false;
}

void metrics_family(struct metrics_writer *w, const char *name, enum metrics_type type, const char *help)
{
	if ((unsigned)type > METRICS_UNTYPED) {
		mw_fail(w, -EINVAL, "family %s: unknown type %d", name, (int)type);
		return;
	}
	if (!mw_name_ok(name, true)) {
		mw_fail(w, -EINVAL, "'%.*s' is not a metric name", METRICS_NAME_MAX, name);
		return;
	}
	if (mw_family_written(w, name)) {
		mw_fail(w, -EINVAL, "family %s written twice", name);
		return;
	}
	if (help) {
		mw_str(w, "# HELP ");
		mw_str(w, name);
		mw_str(w, " ");
		mw_escaped(w, help, false);
		mw_str(w, "\n");
	}
	mw_str(w, "# TYPE ");
	mw_str(w, name);
	mw_str(w, " ");
	mw_str(w, mw_type_names[type]);
	mw_str(w, "\n");
	snprintf(w->family, sizeof(w->family), "%s", name);
	w->type = type;
	w->in_family = true;
}

/* name{labels[,le="..."]} ; checks the labels first. */
static void mw_sample_start(struct metrics_writer *w, const char *suffix, const struct metrics_label *labels,
			    const char *le)
{
	bool any = false;

	for (const struct metrics_label *l = labels; l && l->name; l++) {
		if (!mw_name_ok(l->name, false) || !strncmp(l->name, "__", 2) || !l->value) {
			mw_fail(w, -EINVAL, "%s: '%.*s' is not a label name (or has no value)", w->family,
				       METRICS_NAME_MAX, l->name);
			return;
		}
		if (w->type == METRICS_HISTOGRAM && !strcmp(l->name, "le")) {
			mw_fail(w, -EINVAL, "%s: a histogram's label may not be called le", w->family);
			return;
		}
		for (const struct metrics_label *o = labels; o < l; o++)
			if (!strcmp(o->name, l->name)) {
				mw_fail(w, -EINVAL, "%s: label %s given twice", w->family, l->name);
				return;
			}
	}
	mw_str(w, w->family);
	mw_str(w, suffix);
	for (const struct metrics_label *l = labels; l && l->name; l++) {
		mw_str(w, any ? "," : "{");
		mw_str(w, l->name);
		mw_str(w, "=\"");
		mw_escaped(w, l->value, true);
		mw_str(w, "\"");
		any = true;
	}
	if (le) {
		mw_str(w, any ? ",le=\"" : "{le=\"");
		mw_str(w, le);
		mw_str(w, "\"");
		any = true;
	}
	mw_str(w, any ? "} " : " ");
}

static bool mw_expect(struct metrics_writer *w, enum metrics_type t1, enum metrics_type t2, const char *what)
{
	if (!w->in_family) {
		mw_fail(w, -EINVAL, "a %s sample before any family", what);
		return false;
	}
	if (w->type != t1 && w->type != t2) {
		mw_fail(w, -EINVAL, "%s: a %s sample in a %s family", w->family, what, mw_type_names[w->type]);
		return false;
	}
	return !w->err;
}

void metrics_counter(struct metrics_writer *w, const struct metrics_label *labels, uint64_t value)
{
	if (!mw_expect(w, METRICS_COUNTER, METRICS_UNTYPED, "counter"))
		return;
	mw_sample_start(w, "", labels, NULL);
	mw_u64(w, value);
	mw_str(w, "\n");
}

void metrics_gauge(struct metrics_writer *w, const struct metrics_label *labels, double value)
{
	if (!mw_expect(w, METRICS_GAUGE, METRICS_UNTYPED, "gauge"))
		return;
	mw_sample_start(w, "", labels, NULL);
	mw_double(w, value);
	mw_str(w, "\n");
}

void metrics_histogram(struct metrics_writer *w, const struct metrics_label *labels, const double *bounds,
		       const uint64_t *counts, size_t nbounds, double sum)
{
	uint64_t total = 0;

	if (!mw_expect(w, METRICS_HISTOGRAM, METRICS_HISTOGRAM, "histogram"))
		return;
	for (size_t i = 0; i < nbounds; i++)
		if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1])) {
			mw_fail(w, -EINVAL, "%s: bucket bounds must be finite and increasing", w->family);
			return;
		}
	for (size_t i = 0; i <= nbounds; i++) {
		char b[40];

		total += counts[i];
		mw_sample_start(w, "_bucket", labels, i < nbounds ? mw_fmt_double(b, sizeof(b), bounds[i]) : "+Inf");
		mw_u64(w, total);
		mw_str(w, "\n");
	}
	mw_sample_start(w, "_sum", labels, NULL);
	mw_double(w, sum);
	mw_str(w, "\n");
	mw_sample_start(w, "_count", labels, NULL);
	mw_u64(w, total);
	mw_str(w, "\n");
}

int metrics_render(metrics_collect_fn collect, void *ctx, char **text, size_t *len, char *err, size_t errlen)
{
	struct metrics_writer w = { 0 };

	mw_put(&w, "", 0); /* an empty scrape is a valid, empty text */
	collect(&w, ctx);
	if (w.err) {
		snprintf(err, errlen, "%s", w.errmsg);
		free(w.buf);
		return w.err;
	}
	*text = w.buf;
	*len = w.len;
	return 0;
}
