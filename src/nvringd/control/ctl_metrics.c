/* SPDX-License-Identifier: MIT */
/*
 * The metrics endpoint (--metrics ADDR:PORT): the I/O counters in the Prometheus text format.
 * The scrape runs on the HTTP thread; it holds the control lock, so no namespace, subsystem
 * or port goes while it reads, and reads the counters as any foreign thread does (stats.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"
#include "ctrl.h"
#include "log.h"
#include "ns/ns.h"
#include "rpc/metrics.h"
#include "stats.h"
#include "target.h"

struct ctl_mrow {
	char nqn[NVR_NQN_MAX];
	char id[16];           /* nsid or cntlid */
	char hostnqn[NVR_NQN_MAX];
	uint64_t size;         /* namespaces: bytes */
	struct io_totals t;
};

struct ctl_mset {
	struct ctl_mrow *rows;
	size_t nr, cap;
};

static struct ctl_mrow *ctl_mrow_add(struct ctl_mset *m)
{
	if (m->nr == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct ctl_mrow *r = realloc(m->rows, cap * sizeof(*r));

		if (!r)
			return NULL;
		m->rows = r;
		m->cap = cap;
	}
	memset(&m->rows[m->nr], 0, sizeof(m->rows[0]));
	return &m->rows[m->nr++];
}

static void ctl_metrics_gather(struct ctl *c, struct ctl_mset *ns, struct ctl_mset *ctrls)
{
	struct target *tgt = c->tgt;

	for (unsigned i = 0; i < tgt->nr_subsys; i++) {
		const struct ns_table *t = subsys_ns_table(tgt->subsys[i]);

		for (unsigned k = 0; t && k < t->nr; k++) {
			struct ctl_mrow *r = ctl_mrow_add(ns);

			if (!r)
				return;
			snprintf(r->nqn, sizeof(r->nqn), "%s", tgt->subsys[i]->nqn);
			snprintf(r->id, sizeof(r->id), "%u", t->ns[k]->nsid);
			if (t->ns[k]->csi == NVR_CSI_NVM)
				r->size = ns_nlba(t->ns[k]) << t->ns[k]->lba_shift;
			stats_ns(t->ns[k], &r->t);
		}
	}
	pthread_mutex_lock(&tgt->lock);
	for (unsigned id = 1; id <= NVR_MAX_CNTLID; id++) {
		const struct nvr_ctrl *ctrl = tgt->ctrls[id];
		struct ctl_mrow *r;

		if (!ctrl || ctrl->subsys->discovery || atomic_load(&ctrl->dead) || !(r = ctl_mrow_add(ctrls)))
			continue;
		snprintf(r->nqn, sizeof(r->nqn), "%s", ctrl->subsys->nqn);
		snprintf(r->id, sizeof(r->id), "%u", ctrl->cntlid);
		snprintf(r->hostnqn, sizeof(r->hostnqn), "%s", ctrl->hostnqn);
		stats_ctrl_locked(ctrl, &r->t);
	}
	pthread_mutex_unlock(&tgt->lock);
}

static const char *const ctl_kinds[STATS_NR_KINDS] = { "read", "write", "other" };

/* One family over every row; `what` picks the value. */
enum ctl_mval { MV_CMDS, MV_BYTES, MV_ERRORS, MV_MEDIA };

static void ctl_metrics_family(struct metrics_writer *w, const struct ctl_mset *m, bool is_ns, const char *name,
			       const char *help, enum ctl_mval what)
{
	const char *idl = is_ns ? "nsid" : "cntlid";

	metrics_family(w, name, METRICS_COUNTER, help);
	for (size_t i = 0; i < m->nr; i++) {
		const struct ctl_mrow *r = &m->rows[i];

		if (what == MV_ERRORS || what == MV_MEDIA) {
			uint64_t v = what == MV_ERRORS ? r->t.errors : r->t.media_errors;

			if (is_ns)
				metrics_counter(w, METRICS_LABELS({ "nqn", r->nqn }, { idl, r->id }), v);
			else
				metrics_counter(w, METRICS_LABELS({ "nqn", r->nqn }, { idl, r->id }, { "hostnqn", r->hostnqn }),
						v);
			continue;
		}
		for (unsigned k = 0; k < STATS_NR_KINDS; k++) {
			uint64_t v = what == MV_CMDS ? r->t.cmds[k] : r->t.bytes[k];

			if (is_ns)
				metrics_counter(w, METRICS_LABELS({ "nqn", r->nqn }, { idl, r->id }, { "op", ctl_kinds[k] }), v);
			else
				metrics_counter(w, METRICS_LABELS({ "nqn", r->nqn }, { idl, r->id }, { "hostnqn", r->hostnqn },
								  { "op", ctl_kinds[k] }), v);
		}
	}
}

static void ctl_metrics_latency(struct metrics_writer *w, const struct ctl_mset *m, bool is_ns, const char *name,
				const char *help)
{
	double bounds[STATS_LAT_BUCKETS - 1];

	for (unsigned i = 0; i + 1 < STATS_LAT_BUCKETS; i++)
		bounds[i] = (double)stats_bucket_us(i) / 1e6;
	metrics_family(w, name, METRICS_HISTOGRAM, help);
	for (size_t i = 0; i < m->nr; i++) {
		const struct ctl_mrow *r = &m->rows[i];
		double sum = (double)r->t.lat_sum_ns / 1e9;

		if (is_ns)
			metrics_histogram(w, METRICS_LABELS({ "nqn", r->nqn }, { "nsid", r->id }), bounds, r->t.lat,
					  STATS_LAT_BUCKETS - 1, sum);
		else
			metrics_histogram(w, METRICS_LABELS({ "nqn", r->nqn }, { "cntlid", r->id }, { "hostnqn", r->hostnqn }),
					  bounds, r->t.lat, STATS_LAT_BUCKETS - 1, sum);
	}
}

static void ctl_metrics_collect(struct metrics_writer *w, void *ctx)
{
	struct ctl *c = ctx;
	struct ctl_mset ns = { 0 }, ctrls = { 0 };

	pthread_mutex_lock(&c->lock);
	ctl_metrics_gather(c, &ns, &ctrls);
	pthread_mutex_unlock(&c->lock);

	metrics_family(w, "nvring_namespace_size_bytes", METRICS_GAUGE, "size of a block namespace");
	for (size_t i = 0; i < ns.nr; i++)
		metrics_gauge(w, METRICS_LABELS({ "nqn", ns.rows[i].nqn }, { "nsid", ns.rows[i].id }), (double)ns.rows[i].size);
	ctl_metrics_family(w, &ns, true, "nvring_namespace_commands_total", "I/O commands completed", MV_CMDS);
	ctl_metrics_family(w, &ns, true, "nvring_namespace_bytes_total", "data moved by successful commands", MV_BYTES);
	ctl_metrics_family(w, &ns, true, "nvring_namespace_errors_total", "commands completed with an error", MV_ERRORS);
	ctl_metrics_family(w, &ns, true, "nvring_namespace_media_errors_total", "commands the backend failed", MV_MEDIA);
	ctl_metrics_latency(w, &ns, true, "nvring_namespace_latency_seconds", "I/O command latency, capsule to completion");
	metrics_family(w, "nvring_controllers", METRICS_GAUGE, "connected controllers (discovery ones aside)");
	metrics_gauge(w, NULL, (double)ctrls.nr);
	ctl_metrics_family(w, &ctrls, false, "nvring_controller_commands_total", "I/O commands completed", MV_CMDS);
	ctl_metrics_family(w, &ctrls, false, "nvring_controller_bytes_total", "data moved by successful commands", MV_BYTES);
	ctl_metrics_family(w, &ctrls, false, "nvring_controller_errors_total", "commands completed with an error", MV_ERRORS);
	ctl_metrics_family(w, &ctrls, false, "nvring_controller_media_errors_total", "commands the backend failed", MV_MEDIA);
	ctl_metrics_latency(w, &ctrls, false, "nvring_controller_latency_seconds", "I/O command latency, capsule to completion");
	free(ns.rows);
	free(ctrls.rows);
}

int ctl_metrics_start(struct ctl *c, char *err, size_t errlen)
{
	const struct cfg_metrics *m = &c->cfg->metrics;
	struct metrics_server_opts o = { 0 };
	char listen[96];

	snprintf(listen, sizeof(listen), "%s%s%s:%u", m->family == AF_INET6 ? "[" : "", m->addr,
		 m->family == AF_INET6 ? "]" : "", m->port);
	o.listen = listen;
	o.collect = ctl_metrics_collect;
	o.ctx = c;
	if (metrics_server_start(&o, &c->metrics, err, errlen) < 0)
		return -1;
	log_err("metrics on %s%s%s:%u", m->family == AF_INET6 ? "[" : "", m->addr, m->family == AF_INET6 ? "]" : "",
		metrics_server_port(c->metrics));
	return 0;
}
