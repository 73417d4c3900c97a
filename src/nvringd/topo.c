/* SPDX-License-Identifier: MIT */
/* The published topology: lookups for workers, building and replacing it for the control plane. */
#include "topo.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/queue.h"
#include "ctrl.h"
#include "log.h"
#include "ns/registry.h"
#include "target.h"

#define TOPO_AEN_DISC_CHANGED 0x0070f002u /* notice, Discovery Log Page Change, log 0x70 */

const struct nvr_topo *target_topo(const struct target *tgt)
{
	return atomic_load_explicit(&((struct target *)tgt)->topo, memory_order_acquire);
}

struct nvr_subsys *topo_find_subsys(const struct nvr_topo *t, const char *nqn)
{
	for (unsigned i = 0; t && i < t->nr_subsys; i++)
		if (!strcmp(t->subsys[i].s->nqn, nqn))
			return t->subsys[i].s;
	return NULL;
}

bool topo_subsys_on_port(const struct nvr_topo *t, const struct nvr_subsys *s, const struct nvr_port *port)
{
	bool listed = false;

	for (unsigned i = 0; t && i < t->nr_ports && !listed; i++)
		listed = t->ports[i] == port;
	if (!listed)
		return false; /* a removed port reaches nothing any more */
	if (s->discovery)
		return true;
	if (port->discovery_only)
		return false;
	for (unsigned i = 0; i < t->nr_subsys; i++) {
		if (t->subsys[i].s != s)
			continue;
		for (unsigned k = 0; k < t->subsys[i].nr_ports; k++)
			if (t->subsys[i].ports[k] == port)
				return true;
	}
	return false;
}

void topo_free(struct nvr_topo *t)
{
	if (!t)
		return;
	for (unsigned i = 0; t->subsys && i < t->nr_subsys; i++)
		free(t->subsys[i].ports);
	free(t->subsys);
	free(t->ports);
	free(t);
}

struct nvr_topo *topo_build(const struct target *tgt)
{
	const struct nvr_config *cfg = tgt->cfg;
	struct nvr_topo *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ports = calloc(tgt->nr_ports + 1, sizeof(*t->ports));
	t->subsys = calloc(tgt->nr_subsys + 1, sizeof(*t->subsys));
	if (!t->ports || !t->subsys)
		goto oom;
	for (unsigned i = 0; i < tgt->nr_ports; i++)
		t->ports[t->nr_ports++] = tgt->ports[i];
	t->subsys[t->nr_subsys++].s = tgt->disc;
	for (unsigned si = 0; si < tgt->nr_subsys; si++) {
		struct topo_subsys *ts = &t->subsys[t->nr_subsys++];

		ts->s = tgt->subsys[si];
		ts->ports = calloc(tgt->nr_ports + 1, sizeof(*ts->ports));
		if (!ts->ports)
			goto oom;
		for (unsigned pi = 0; pi < tgt->nr_ports; pi++)
			if (!cfg->ports[pi].discovery_only && nvr_config_port_has_subsys(&cfg->ports[pi], si))
				ts->ports[ts->nr_ports++] = tgt->ports[pi];
	}
	return t;
oom:
	topo_free(t);
	return NULL;
}

void topo_publish(struct target *tgt, struct nvr_topo *t)
{
	struct nvr_topo *old = atomic_exchange_explicit(&tgt->topo, t, memory_order_acq_rel);

	registry_sync(tgt);
	topo_free(old);
}

/* ---- telling discovery hosts ---------------------------------------------------------- */

struct disc_changed_msg {
	struct worker_msg msg;
	struct nvr_ctrl *ctrl;
};

static void disc_changed_run(struct worker *w, struct worker_msg *m)
{
	struct disc_changed_msg *dm = container_of(m, struct disc_changed_msg, msg);

	(void)w;
	/* a persistent discovery controller is one with a keep-alive (NVMe base spec 2.0 3.1.3.3.2) */
	if (!atomic_load(&dm->ctrl->dead) && dm->ctrl->kato_ms)
		ctrl_notify_event(dm->ctrl, TOPO_AEN_DISC_CHANGED);
	ctrl_put(dm->ctrl);
	free(dm);
}

void topo_discovery_changed(struct target *tgt)
{
	atomic_fetch_add(&tgt->genctr, 1);
	pthread_mutex_lock(&tgt->lock);
	for (unsigned id = 1; id <= NVR_MAX_CNTLID; id++) {
		struct nvr_ctrl *ctrl = tgt->ctrls[id];
		struct disc_changed_msg *dm;

		if (!ctrl || !ctrl->subsys->discovery || atomic_load(&ctrl->dead) || !ctrl->queues[0])
			continue;
		dm = calloc(1, sizeof(*dm));
		if (!dm)
			continue; /* the host still sees the new GENCTR at its next read */
		dm->msg.fn = disc_changed_run;
		dm->ctrl = ctrl;
		atomic_fetch_add(&ctrl->refs, 1);
		worker_post(ctrl->queues[0]->w, &dm->msg);
	}
	pthread_mutex_unlock(&tgt->lock);
	log_debug("discovery log changed (genctr %llu)", (unsigned long long)atomic_load(&tgt->genctr));
}
