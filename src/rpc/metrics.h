/* SPDX-License-Identifier: MIT */
/*
 * Metrics for Prometheus: a writer of the text exposition format (version 0.0.4) and an HTTP
 * endpoint (libmicrohttpd, its own thread) that serves GET /metrics from a collect callback.
 *
 *	static void collect(struct metrics_writer *w, void *ctx)
 *	{
 *		metrics_family(w, "nvring_commands_total", METRICS_COUNTER, "commands completed");
 *		metrics_counter(w, METRICS_LABELS({ "nqn", nqn }, { "nsid", "1" }), atomic_load(&n));
 *	}
 */
#ifndef NVRING_RPC_METRICS_H
#define NVRING_RPC_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM, METRICS_UNTYPED };

struct metrics_label {
	const char *name, *value; /* value: any UTF-8; escaped on output */
};

/* A label list as a compound literal ending with { NULL, NULL }; NULL means no labels. */
#define METRICS_LABELS(...) ((const struct metrics_label[]){ __VA_ARGS__, { NULL, NULL } })

struct metrics_writer;

/*
 * Start a family: "# HELP" and "# TYPE" lines. Its samples follow; every family once. A name
 * or label that the format does not allow, a sample of another type than its family's, or a
 * family twice fails the whole scrape (HTTP 500 with the reason): these are program errors.
 */
void metrics_family(struct metrics_writer *w, const char *name, enum metrics_type type, const char *help);
void metrics_counter(struct metrics_writer *w, const struct metrics_label *labels, uint64_t value);
/* A gauge (or untyped) sample; NaN and infinities are written as the format spells them. */
void metrics_gauge(struct metrics_writer *w, const struct metrics_label *labels, double value);
/*
 * A histogram: counts[i] observations fell in (bounds[i-1], bounds[i]] and counts[nbounds]
 * above the last bound (bounds strictly increasing and finite). Written as cumulative
 * _bucket{le="..."} lines ending with le="+Inf", then _sum and _count.
 */
void metrics_histogram(struct metrics_writer *w, const struct metrics_label *labels, const double *bounds,
		       const uint64_t *counts, size_t nbounds, double sum);

typedef void (*metrics_collect_fn)(struct metrics_writer *w, void *ctx);

/* Run collect into a new text (malloc'd, NUL-terminated). Returns 0, or -EINVAL with the
 * reason in err, -ENOMEM. */
int metrics_render(metrics_collect_fn collect, void *ctx, char **text, size_t *len, char *err, size_t errlen);

struct metrics_server_opts {
	const char *listen;          /* "127.0.0.1:9100", "[::1]:9100"; port 0: any free port */
	metrics_collect_fn collect;  /* runs on the HTTP thread: read counters atomically or lock */
	void *ctx;
	unsigned max_clients;        /* 0: 8 */
	unsigned timeout_s;          /* a connection idle this long is closed; 0: 10 */
};

struct metrics_server;

/* Returns 0, or a negative errno with a message naming the address in err. */
int metrics_server_start(const struct metrics_server_opts *opts, struct metrics_server **out, char *err, size_t errlen);
uint16_t metrics_server_port(const struct metrics_server *srv);
void metrics_server_stop(struct metrics_server *srv); /* NULL: no-op */

#endif
