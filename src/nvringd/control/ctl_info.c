/* SPDX-License-Identifier: MIT */
/* What the listing methods report: subsystems, namespaces, controllers, I/O counters. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core/queue.h"
#include "ctl_int.h"
#include "ctrl.h"
#include "ns/ns.h"
#include "rpc/rpc.h"
#include "stats.h"
#include "target.h"

static json_object *ctl_addr_str(int family, const char *addr, unsigned port)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "%s%s%s:%u", family == AF_INET6 ? "[" : "", addr, family == AF_INET6 ? "]" : "",
		 port);
	return json_object_new_string(buf);
}

static json_object *ctl_uuid_str(const uint8_t u[16])
{
	char buf[40];

	snprintf(buf, sizeof(buf), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	return json_object_new_string(buf);
}

static unsigned ctl_count_ctrls(struct target *tgt, const struct nvr_subsys *s)
{
	unsigned n = 0;

	pthread_mutex_lock(&tgt->lock);
	for (unsigned id = 1; id <= NVR_MAX_CNTLID; id++)
		n += tgt->ctrls[id] && tgt->ctrls[id]->subsys == s && !atomic_load(&tgt->ctrls[id]->dead);
	pthread_mutex_unlock(&tgt->lock);
	return n;
}

json_object *ctl_info_subsystems(struct ctl *c)
{
	const struct nvr_config *cfg = c->cfg;
	json_object *arr = json_object_new_array();

	for (size_t si = 0; arr && si < cfg->nr_subsys; si++) {
		const struct cfg_subsys *cs = &cfg->subsys[si];
		json_object *o = json_object_new_object(), *hosts = json_object_new_array(),
			    *ns = json_object_new_array(), *ls = json_object_new_array();

		json_object_object_add(o, "nqn", json_object_new_string(cs->nqn));
		json_object_object_add(o, "serial", json_object_new_string(cs->serial));
		json_object_object_add(o, "model", json_object_new_string(cs->model));
		json_object_object_add(o, "allow_any_host", json_object_new_boolean(cs->allow_any_host));
		for (size_t k = 0; k < cs->nr_allowed_hosts; k++)
			json_object_array_add(hosts, json_object_new_string(cs->allowed_hosts[k]));
		json_object_object_add(o, "hosts", hosts);
		for (size_t k = 0; k < cs->nr_ns; k++)
			json_object_array_add(ns, json_object_new_int64(cs->ns[k].nsid));
		json_object_object_add(o, "namespaces", ns);
		for (size_t pi = 0; pi < cfg->nr_ports; pi++) {
			const struct cfg_port *p = &cfg->ports[pi];

			if (!p->discovery_only && nvr_config_port_has_subsys(p, si))
				json_object_array_add(ls, ctl_addr_str(p->family, p->addr, p->port));
		}
		json_object_object_add(o, "listeners", ls);
		json_object_object_add(o, "controllers", json_object_new_int64(ctl_count_ctrls(c->tgt, c->tgt->subsys[si])));
		json_object_array_add(arr, o);
	}
	return arr;
}

json_object *ctl_info_namespaces(struct ctl *c, const char *nqn, struct ctl_err *e)
{
	long si = ctl_subsys_find(c, nqn, e);
	const struct cfg_subsys *cs;
	json_object *arr;

	if (si < 0)
		return NULL;
	cs = &c->cfg->subsys[si];
	arr = json_object_new_array();
	for (size_t k = 0; k < cs->nr_ns; k++) {
		const struct cfg_ns *cn = &cs->ns[k];
		const struct nvr_ns *ns = subsys_find_ns(c->tgt->subsys[si], cn->nsid);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "nsid", json_object_new_int64(cn->nsid));
		json_object_object_add(o, "kind", json_object_new_string(cn->kind));
		if (cn->path)
			json_object_object_add(o, "path", json_object_new_string(cn->path));
		json_object_object_add(o, "enabled", json_object_new_boolean(cn->enabled));
		if (ns && ns->csi == NVR_CSI_NVM) {
			json_object_object_add(o, "size", json_object_new_uint64(ns_nlba(ns) << ns->lba_shift));
			json_object_object_add(o, "lba_size", json_object_new_int64(1 << ns->lba_shift));
		} else if (cn->size) {
			json_object_object_add(o, "size", json_object_new_uint64(cn->size));
		}
		json_object_object_add(o, "readonly", json_object_new_boolean(ns ? ns->readonly : cn->readonly));
		json_object_object_add(o, "uuid", ctl_uuid_str(cn->uuid));
		json_object_array_add(arr, o);
	}
	return arr;
}

json_object *ctl_info_controllers(struct ctl *c, const char *nqn)
{
	struct target *tgt = c->tgt;
	json_object *arr = json_object_new_array();

	pthread_mutex_lock(&tgt->lock);
	for (unsigned id = 1; id <= NVR_MAX_CNTLID; id++) {
		struct nvr_ctrl *ctrl = tgt->ctrls[id];
		json_object *o, *qs;

		if (!ctrl || atomic_load(&ctrl->dead) || (nqn && strcmp(ctrl->subsys->nqn, nqn)))
			continue;
		o = json_object_new_object();
		qs = json_object_new_array();
		json_object_object_add(o, "cntlid", json_object_new_int64(ctrl->cntlid));
		json_object_object_add(o, "nqn", json_object_new_string(ctrl->subsys->nqn));
		json_object_object_add(o, "hostnqn", json_object_new_string(ctrl->hostnqn));
		json_object_object_add(o, "hostid", ctl_uuid_str(ctrl->hostid));
		if (ctrl->queues[0])
			json_object_object_add(o, "peer", json_object_new_string(ctrl->queues[0]->peer));
		for (unsigned qid = 0; qid <= NVR_MAX_IO_QUEUES; qid++) {
			const struct nvr_queue *q = ctrl->queues[qid];
			json_object *qo;

			if (!q)
				continue;
			qo = json_object_new_object();
			json_object_object_add(qo, "qid", json_object_new_int64(qid));
			json_object_object_add(qo, "peer", json_object_new_string(q->peer));
			json_object_object_add(qo, "size", json_object_new_int64(q->sqsize + 1));
			json_object_object_add(qo, "worker", json_object_new_int64(q->w->id));
			json_object_array_add(qs, qo);
		}
		json_object_object_add(o, "queues", qs);
		json_object_array_add(arr, o);
	}
	pthread_mutex_unlock(&tgt->lock);
	return arr;
}

static json_object *ctl_rw(uint64_t cmds, uint64_t bytes)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "commands", json_object_new_uint64(cmds));
	json_object_object_add(o, "bytes", json_object_new_uint64(bytes));
	return o;
}

json_object *ctl_info_totals(const struct io_totals *t)
{
	json_object *o = json_object_new_object(), *lat = json_object_new_object(), *b = json_object_new_array();

	json_object_object_add(o, "read", ctl_rw(t->cmds[STATS_READ], t->bytes[STATS_READ]));
	json_object_object_add(o, "write", ctl_rw(t->cmds[STATS_WRITE], t->bytes[STATS_WRITE]));
	json_object_object_add(o, "other", ctl_rw(t->cmds[STATS_OTHER], t->bytes[STATS_OTHER]));
	json_object_object_add(o, "errors", json_object_new_uint64(t->errors));
	json_object_object_add(o, "media_errors", json_object_new_uint64(t->media_errors));
	json_object_object_add(lat, "sum_ns", json_object_new_uint64(t->lat_sum_ns));
	/* per bucket, not cumulative: commands that took at most le_us (null: longer) */
	for (unsigned i = 0; i < STATS_LAT_BUCKETS; i++) {
		json_object *bo = json_object_new_object();
		uint64_t le = stats_bucket_us(i);

		json_object_object_add(bo, "le_us", le ? json_object_new_uint64(le) : NULL);
		json_object_object_add(bo, "count", json_object_new_uint64(t->lat[i]));
		json_object_array_add(b, bo);
	}
	json_object_object_add(lat, "buckets", b);
	json_object_object_add(o, "latency", lat);
	return o;
}

static void ctl_stats_ns(json_object *arr, const struct nvr_subsys *s, const struct nvr_ns *ns)
{
	struct io_totals t;
	json_object *o;

	stats_ns(ns, &t);
	o = ctl_info_totals(&t);
	json_object_object_add(o, "nqn", json_object_new_string(s->nqn));
	json_object_object_add(o, "nsid", json_object_new_int64(ns->nsid));
	json_object_array_add(arr, o);
}

json_object *ctl_info_stats(struct ctl *c, const char *nqn, uint32_t nsid, struct ctl_err *e)
{
	struct target *tgt = c->tgt;
	json_object *res, *nss, *ctrls;
	long si = -1;

	if (nqn && (si = ctl_subsys_find(c, nqn, e)) < 0)
		return NULL;
	if (nsid && ctl_ns_find(c, (size_t)si, nsid, e) < 0)
		return NULL;
	res = json_object_new_object();
	nss = json_object_new_array();
	ctrls = json_object_new_array();
	for (unsigned i = 0; i < tgt->nr_subsys; i++) {
		const struct nvr_subsys *s = tgt->subsys[i];
		const struct ns_table *t = subsys_ns_table(s);

		if (si >= 0 && (long)i != si)
			continue;
		for (unsigned k = 0; t && k < t->nr; k++)
			if (!nsid || t->ns[k]->nsid == nsid)
				ctl_stats_ns(nss, s, t->ns[k]);
	}
	pthread_mutex_lock(&tgt->lock);
	for (unsigned id = 1; id <= NVR_MAX_CNTLID; id++) {
		struct nvr_ctrl *ctrl = tgt->ctrls[id];
		struct io_totals tot;
		json_object *o;

		if (!ctrl || ctrl->subsys->discovery || atomic_load(&ctrl->dead) ||
		    (si >= 0 && ctrl->subsys != tgt->subsys[si]))
			continue;
		stats_ctrl_locked(ctrl, &tot);
		o = ctl_info_totals(&tot);
		json_object_object_add(o, "cntlid", json_object_new_int64(ctrl->cntlid));
		json_object_object_add(o, "nqn", json_object_new_string(ctrl->subsys->nqn));
		json_object_object_add(o, "hostnqn", json_object_new_string(ctrl->hostnqn));
		json_object_array_add(ctrls, o);
	}
	pthread_mutex_unlock(&tgt->lock);
	json_object_object_add(res, "namespaces", nss);
	json_object_object_add(res, "controllers", ctrls);
	return res;
}
