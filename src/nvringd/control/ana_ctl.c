/* SPDX-License-Identifier: MIT */
/* ANA from the control plane: ana_set_state and ana_get (ana_ctl.h). */
#include "ana_ctl.h"
#include "util/errf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "ana_subsys.h"
#include "config/config.h"
#include "log.h"
#include "rpc/rpc.h"
#include "target.h"
#include "topo.h"

/* ---- the topology, as the target has it ---- */

static const struct nvr_port *ana_ctl_port_by_addr(const struct target *tgt, const char *addr)
{
	char a[NVR_CFG_ADDR_SIZE];
	uint16_t port;
	int family;

	if (nvr_parse_addr(addr, a, sizeof(a), &port, &family))
		return NULL;
	for (unsigned i = 0; i < tgt->nr_ports; i++) {
		const struct nvr_port *p = tgt->ports[i];

		if (p->family == family && !strcmp(p->traddr, a) && (unsigned)atoi(p->trsvcid) == port)
			return p;
	}
	return NULL;
}

static const struct nvr_port *ana_ctl_port_by_id(const struct target *tgt, uint32_t portid)
{
	for (unsigned i = 0; i < tgt->nr_ports; i++)
		if (tgt->ports[i]->portid == portid)
			return tgt->ports[i];
	return NULL;
}

static bool ana_ctl_on_port(const struct target *tgt, const struct nvr_subsys *s, const struct nvr_port *p)
{
	return topo_subsys_on_port(target_topo(tgt), s, p);
}

/* The I/O subsystems, for iteration (0 .. n-1). */
static unsigned ana_ctl_nr_subsys(const struct target *tgt)
{
	return tgt->nr_subsys;
}

static struct nvr_subsys *ana_ctl_subsys(const struct target *tgt, unsigned i)
{
	return tgt->subsys[i];
}

static void ana_ctl_port_name(const struct nvr_port *p, char *out, size_t len)
{
	bool v6 = p->family == AF_INET6;

	snprintf(out, len, "%s%s%s:%s", v6 ? "[" : "", p->traddr, v6 ? "]" : "", p->trsvcid);
}

/* ---- ana_set_state ---- */

/* The configuration's port `portid` says group grpid is in state st from now on. */
static int ana_ctl_cfg_record(struct nvr_config *cfg, uint16_t portid, uint32_t grpid, enum cfg_ana_state st)
{
	struct cfg_port *p = NULL;
	struct cfg_ana_group *g;

	for (size_t i = 0; i < cfg->nr_ports && !p; i++)
		if (cfg->ports[i].portid == portid)
			p = &cfg->ports[i];
	if (!p)
		return 0; /* a port the configuration does not have: nothing to keep */
	for (size_t i = 0; i < p->nr_ana_groups; i++)
		if (p->ana_groups[i].grpid == grpid) {
			p->ana_groups[i].state = st;
			return 0;
		}
	g = realloc(p->ana_groups, (p->nr_ana_groups + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	p->ana_groups = g;
	g[p->nr_ana_groups++] = (struct cfg_ana_group){ grpid, st };
	return 0;
}

static int ana_ctl_apply(struct target *tgt, struct nvr_config *cfg, const struct ana_ctl_set *a, char *err,
			 size_t errlen);

int ana_ctl_set_state(struct target *tgt, const struct ana_ctl_set *a, char *err, size_t errlen)
{
	return ana_ctl_apply(tgt, NULL, a, err, errlen);
}

int ana_ctl_set_state_cfg(struct target *tgt, struct nvr_config *cfg, const struct ana_ctl_set *a, char *err,
			  size_t errlen)
{
	return ana_ctl_apply(tgt, cfg, a, err, errlen);
}

static int ana_ctl_apply(struct target *tgt, struct nvr_config *cfg, const struct ana_ctl_set *a, char *err,
			 size_t errlen)
{
	uint64_t now = worker_now_ms();
	const struct nvr_port *p;
	char pname[112];
	unsigned n = 0;
	int ret;

	p = a->addr ? ana_ctl_port_by_addr(tgt, a->addr) : ana_ctl_port_by_id(tgt, a->portid);
	if (!p && a->addr)
		return nvr_errf(err, errlen, -ENOENT, "addr: no listener on '%s'", a->addr);
	if (!p)
		return nvr_errf(err, errlen, -ENOENT, "portid: no port %u", a->portid);
	ana_ctl_port_name(p, pname, sizeof(pname));
	/* what ana_subsys would refuse, named by the param that is wrong */
	if (a->grpid < 1 || a->grpid > ANA_MAX_GROUPS)
		return nvr_errf(err, errlen, -EINVAL, "grpid: ANA group %u is not in 1..%u", a->grpid, ANA_MAX_GROUPS);
	if (ana_state_from_name(a->state) < 0)
		return nvr_errf(err, errlen, -EINVAL,
				    "state: unknown ANA state '%s' (optimized, non-optimized, inaccessible, "
				    "persistent-loss, change)",
				    a->state ? a->state : "");
	if (a->transition_ms && ana_state_from_name(a->state) == NVME_ANA_STATE_CHANGE)
		return nvr_errf(err, errlen, -EINVAL, "state: a transition ends in a state other than 'change'");
	if (a->transition_ms > ANA_SUBSYS_ANATT * 1000u)
		return nvr_errf(err, errlen, -ERANGE, "transition_ms: %u ms is longer than ANATT (%u s)",
				    a->transition_ms, ANA_SUBSYS_ANATT);
	/* first every check, then every change */
	for (int apply = 0; apply < 2; apply++) {
		for (unsigned i = 0; i < ana_ctl_nr_subsys(tgt); i++) {
			struct nvr_subsys *s = ana_ctl_subsys(tgt, i);
			char why[256];

			if (!s->ana || !ana_ctl_on_port(tgt, s, p) || (a->nqn && strcmp(a->nqn, s->nqn)))
				continue;
			ret = apply ? ana_subsys_set_state(s->ana, p->portid, a->grpid, a->state, a->transition_ms, now,
							   why, sizeof(why))
				    : ana_subsys_check_state(s->ana, p->portid, a->grpid, a->state, a->transition_ms, why,
							     sizeof(why));
			if (ret)
				return nvr_errf(err, errlen, ret, "state: %s on %s: %s", s->nqn, pname, why);
			if (apply)
				log_info("%s: ANA group %u on port %u (%s): %s%s", s->nqn, a->grpid, p->portid, pname,
					 a->state, a->transition_ms ? " after a transition" : "");
			n += apply == 0;
		}
		if (!n && a->nqn)
			return nvr_errf(err, errlen, -ENOENT, "nqn: subsystem '%s' is not exported on %s", a->nqn,
					    pname);
		if (!n)
			return nvr_errf(err, errlen, -ENOENT, "%s exports no subsystem (discovery only)", pname);
		/* checked: what the configuration keeps, before anything changes (all or nothing) */
		if (!apply && cfg && !a->nqn && (a->transition_ms || ana_state_from_name(a->state) != NVME_ANA_STATE_CHANGE) &&
		    ana_ctl_cfg_record(cfg, p->portid, a->grpid, (enum cfg_ana_state)ana_state_from_name(a->state)) < 0)
			return nvr_errf(err, errlen, -ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- ana_get ---- */

static int ana_ctl_add(json_object *arr, const struct nvr_subsys *s, const struct nvr_port *p,
		       const struct ana *m, const struct ana_state_info *st)
{
	json_object *o = json_object_new_object(), *nsids = json_object_new_array();
	char pname[112];

	if (!o || !nsids) {
		json_object_put(o);
		json_object_put(nsids);
		return -ENOMEM;
	}
	ana_ctl_port_name(p, pname, sizeof(pname));
	json_object_object_add(o, "nqn", json_object_new_string(s->nqn));
	json_object_object_add(o, "portid", json_object_new_int(st->portid));
	json_object_object_add(o, "addr", json_object_new_string(pname));
	json_object_object_add(o, "grpid", json_object_new_int64(st->grpid));
	json_object_object_add(o, "state", json_object_new_string(ana_state_name(st->state)));
	if (st->state == NVME_ANA_STATE_CHANGE) {
		json_object_object_add(o, "target", json_object_new_string(ana_state_name(st->target)));
		json_object_object_add(o, "remaining_ms", json_object_new_int64((int64_t)(st->remaining_ns / 1000000)));
	}
	json_object_object_add(o, "chgcnt", json_object_new_int64((int64_t)st->chgcnt));
	for (uint32_t nsid = 1; nsid <= ANA_MAX_NSID; nsid++)
		if (m->ns_grp[nsid] == st->grpid)
			json_object_array_add(nsids, json_object_new_int64(nsid));
	json_object_object_add(o, "nsids", nsids);
	json_object_array_add(arr, o);
	return 0;
}

json_object *ana_ctl_get(struct target *tgt, const char *nqn, uint32_t grpid, char *err, size_t errlen)
{
	struct ana_state_info *st = calloc((size_t)ANA_MAX_PORTS * ANA_MAX_GROUPS, sizeof(*st));
	struct ana *m = malloc(sizeof(*m));
	json_object *arr = json_object_new_array();
	bool found = false;

	if (!st || !m || !arr) {
		nvr_errf(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	if (grpid > ANA_MAX_GROUPS) {
		nvr_errf(err, errlen, -EINVAL, "grpid: ANA group %u is not in 1..%u", grpid, ANA_MAX_GROUPS);
		goto fail;
	}
	for (unsigned i = 0; i < ana_ctl_nr_subsys(tgt); i++) {
		struct nvr_subsys *s = ana_ctl_subsys(tgt, i);
		size_t n;

		if (!s->ana || (nqn && strcmp(nqn, s->nqn)))
			continue;
		found = true;
		ana_subsys_snapshot(s->ana, worker_now_ms(), m);
		n = ana_get_states(m, worker_now_ms() * 1000000ull, st, (size_t)ANA_MAX_PORTS * ANA_MAX_GROUPS);
		for (size_t k = 0; k < n; k++) {
			const struct nvr_port *p = ana_ctl_port_by_id(tgt, st[k].portid);

			if (!p || (grpid ? st[k].grpid != grpid : !st[k].nnsids))
				continue;
			if (ana_ctl_add(arr, s, p, m, &st[k]) < 0) {
				nvr_errf(err, errlen, -ENOMEM, "out of memory");
				goto fail;
			}
		}
	}
	if (nqn && !found) {
		nvr_errf(err, errlen, -ENOENT, "nqn: subsystem '%s' not found", nqn);
		goto fail;
	}
	free(st);
	free(m);
	return arr;
fail:
	free(st);
	free(m);
	json_object_put(arr);
	return NULL;
}

/* ---- the RPC methods ---- */

static int ana_rpc_code(int rc)
{
	return rc == -ENOENT ? RPC_ERR_NOT_FOUND : rc == -ENOMEM ? RPC_ERR_INTERNAL : RPC_ERR_INVALID_PARAMS;
}

int ana_rpc_set_state(struct rpc_call *call, struct target *tgt, struct nvr_config *cfg)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ana_ctl_set a = { 0 };
	uint64_t grpid, portid = 0, ms;
	char err[512];
	int rc;

	if (rpc_param_has(p, "addr") == rpc_param_has(p, "portid"))
		return rpc_error(call, RPC_ERR_INVALID_PARAMS, "params: give one of addr and portid");
	if ((rpc_param_has(p, "addr") && rpc_param_str(p, "addr", &a.addr)) ||
	    (rpc_param_has(p, "portid") && rpc_param_uint(p, "portid", 0, 0xffff, &portid)) ||
	    rpc_param_uint(p, "grpid", 1, ANA_MAX_GROUPS, &grpid) || rpc_param_str(p, "state", &a.state) ||
	    rpc_param_uint_opt(p, "transition_ms", 0, ANA_MAX_ANATT * 1000u, 0, &ms) ||
	    rpc_param_str_opt(p, "nqn", NULL, &a.nqn) || rpc_params_done(p))
		return -EINVAL;
	a.portid = (uint32_t)portid;
	a.grpid = (uint32_t)grpid;
	a.transition_ms = (uint32_t)ms;
	rc = ana_ctl_set_state_cfg(tgt, cfg, &a, err, sizeof(err));
	if (rc)
		return rpc_error(call, ana_rpc_code(rc), "%s%s", rc == -ENOMEM ? "" : "params.", err);
	return 0;
}

int ana_rpc_get(struct rpc_call *call, struct target *tgt)
{
	struct rpc_params *p = rpc_call_params(call);
	const char *nqn;
	uint64_t grpid;
	json_object *r;
	char err[512];

	if (rpc_param_str_opt(p, "nqn", NULL, &nqn) || rpc_param_uint_opt(p, "grpid", 1, ANA_MAX_GROUPS, 0, &grpid) ||
	    rpc_params_done(p))
		return -EINVAL;
	r = ana_ctl_get(tgt, nqn, (uint32_t)grpid, err, sizeof(err));
	if (!r)
		return nqn && strstr(err, "nqn:") == err ? rpc_error(call, RPC_ERR_NOT_FOUND, "params.%s", err)
							  : rpc_error(call, RPC_ERR_INTERNAL, "%s", err);
	rpc_result_set(call, r);
	return 0;
}
