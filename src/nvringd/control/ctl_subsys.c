/* SPDX-License-Identifier: MIT */
/*
 * subsystem_create / subsystem_delete. A subsystem appears to hosts when the topology that
 * names it is published; it goes in the opposite order: unpublished (no new Connect finds
 * it), its controllers torn down and waited for, its namespaces drained and closed, freed.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"
#include "ctrl.h"
#include "log.h"
#include "ns/registry.h"
#include "rpc/rpc.h"
#include "setup.h"
#include "target.h"
#include "topo.h"

/* Make room for one more running subsystem (the arrays grow before anything changes). */
static int ctl_subsys_reserve(struct target *tgt)
{
	struct nvr_subsys **a = realloc(tgt->subsys, (tgt->nr_subsys + 2) * sizeof(*a));

	if (!a)
		return -1;
	tgt->subsys = a;
	return 0;
}

int ctl_subsys_create(struct ctl *c, struct cfg_subsys *cs, const size_t *ports, size_t nr_ports,
		      struct ctl_err *e)
{
	struct target *tgt = c->tgt;
	struct nvr_config *cfg = c->cfg;
	struct nvr_subsys *s;
	char err[512];
	size_t si = cfg->nr_subsys;

	if (nvr_config_check_subsys(cfg, cs, "params", err, sizeof(err)))
		return ctl_fail(e, strstr(err, "is also") ? RPC_ERR_EXISTS : RPC_ERR_INVALID_PARAMS, "%s", err);
	for (size_t k = 0; k < nr_ports; k++)
		if (cfg->ports[ports[k]].discovery_only)
			return ctl_fail(e, RPC_ERR_INVALID_PARAMS, "params.listeners[%zu]: %s:%u serves discovery only", k,
					cfg->ports[ports[k]].addr, cfg->ports[ports[k]].port);
	if (ctl_subsys_reserve(tgt))
		return ctl_fail(e, RPC_ERR_INTERNAL, "out of memory");
	if (nvr_config_add_subsys(cfg, cs, "params", err, sizeof(err)))
		return ctl_fail(e, RPC_ERR_INTERNAL, "%s", err);
	s = target_subsys_new(tgt, cfg, si, err, sizeof(err));
	if (!s) {
		ctl_cfg_remove_subsys(cfg, si);
		return ctl_fail(e, RPC_ERR_IO, "%s", err);
	}
	/* ports listing their subsystems get it; "all subsystems" ports have it already */
	for (size_t k = 0; k < nr_ports; k++) {
		struct cfg_port *p = &cfg->ports[ports[k]];
		size_t *idx;

		if (nvr_config_port_has_subsys(p, si))
			continue;
		idx = realloc(p->subsys, (p->nr_subsys + 1) * sizeof(*idx));
		if (!idx)
			goto oom;
		p->subsys = idx;
		p->subsys[p->nr_subsys++] = si;
	}
	tgt->subsys[tgt->nr_subsys++] = s;
	if (ctl_publish_topo(c, NULL, NULL, e) < 0) {
		tgt->nr_subsys--;
		goto undo;
	}
	topo_discovery_changed(tgt);
	log_info("control: subsystem %s created", s->nqn);
	return 0;
oom:
	ctl_fail(e, RPC_ERR_INTERNAL, "out of memory");
undo:
	ctl_cfg_remove_subsys(cfg, si);
	target_subsys_free(s);
	return -1;
}

static bool ctl_ctrl_of_subsys(const struct nvr_ctrl *ctrl, const void *s)
{
	return ctrl->subsys == s;
}

int ctl_subsys_delete(struct ctl *c, const char *nqn, struct ctl_err *e)
{
	struct target *tgt = c->tgt;
	long si = ctl_subsys_find(c, nqn, e);
	const struct ns_table *t;
	struct nvr_subsys *s;

	if (si < 0)
		return -1;
	s = tgt->subsys[si];
	t = subsys_ns_table(s);
	for (unsigned i = 0; t && i < t->nr; i++)
		if (t->ns[i]->ops->poll)
			return ctl_fail(e, RPC_ERR_UNSUPPORTED,
					"namespace %u of '%s' runs background work on the workers (%s): "
					"it goes only with a restart", t->ns[i]->nsid, nqn, t->ns[i]->ops->kind);
	if (ctl_publish_topo(c, s, NULL, e) < 0)
		return -1;
	/* nobody can connect to it now; the hosts connected go, then its namespaces */
	ctl_kill_ctrls(c, ctl_ctrl_of_subsys, s, s);
	while ((t = subsys_ns_table(s)) && t->nr)
		registry_ns_remove(tgt, s, t->ns[0]->nsid);
	memmove(&tgt->subsys[si], &tgt->subsys[si + 1], (tgt->nr_subsys - (size_t)si - 1) * sizeof(tgt->subsys[0]));
	tgt->nr_subsys--;
	ctl_cfg_remove_subsys(c->cfg, (size_t)si);
	target_subsys_free(s);
	topo_discovery_changed(tgt);
	log_info("control: subsystem %s deleted", nqn);
	return 0;
}
