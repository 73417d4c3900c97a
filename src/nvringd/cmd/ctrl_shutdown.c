/* SPDX-License-Identifier: MIT */
/*
 * CC.SHN: a host shutting the controller down expects its data on stable storage once
 * CSTS.SHST reads "complete". Every namespace with a volatile cache is flushed asynchronously
 * on the admin queue's worker; SHST goes from "occurring" to "complete" when the last flush is
 * done. References keep the namespaces while their flushes run.
 */
#include <stdlib.h>

#include <nvme/types.h>

#include "ctrl.h"
#include "log.h"
#include "ns/registry.h"
#include "target.h"

struct shn_op {
	struct ns_flush f;
	struct nvr_ns *ns;
	struct shn_flush *sf;
};

struct shn_flush {
	struct nvr_ctrl *ctrl; /* holds a reference until the last flush is done */
	struct worker *w;
	unsigned pending;
	bool failed;
	struct shn_op ops[];
};

static void shn_set(struct nvr_ctrl *ctrl, uint32_t shst)
{
	ctrl->csts &= ~(NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT);
	ctrl->csts |= shst << NVME_CSTS_SHST_SHIFT;
}

static void shn_op_done(struct shn_flush *sf, bool ok)
{
	if (!ok)
		sf->failed = true;
	if (--sf->pending)
		return;
	if (sf->failed)
		log_err("controller %u: flush at shutdown failed", sf->ctrl->cntlid);
	log_info("controller %u: shutdown complete", sf->ctrl->cntlid);
	/* a host that reset or cleared SHN meanwhile no longer waits for this shutdown */
	if ((sf->ctrl->cc >> NVME_CC_SHN_SHIFT) & NVME_CC_SHN_MASK)
		shn_set(sf->ctrl, NVME_CSTS_SHST_CMPLT);
	ctrl_put(sf->ctrl);
	free(sf);
}

static void shn_flush_done(struct ns_flush *f, bool ok)
{
	struct shn_op *op = container_of(f, struct shn_op, f);
	struct shn_flush *sf = op->sf;

	ns_put(op->ns, sf->w);
	shn_op_done(sf, ok);
}

void ctrl_shutdown_flush(struct nvr_ctrl *ctrl, struct worker *w)
{
	const struct ns_table *t = subsys_ns_table(ctrl->subsys);
	unsigned nr = t ? t->nr : 0;
	struct shn_flush *sf = calloc(1, sizeof(*sf) + nr * sizeof(sf->ops[0]));
	unsigned n = 0;

	shn_set(ctrl, NVME_CSTS_SHST_OCCUR);
	if (!sf) {
		shn_set(ctrl, NVME_CSTS_SHST_CMPLT); /* nothing we can do better: say we are done */
		return;
	}
	sf->ctrl = ctrl;
	sf->w = w;
	atomic_fetch_add(&ctrl->refs, 1);
	/* take every reference first: flushes may complete inline */
	for (unsigned i = 0; i < nr; i++) {
		struct nvr_ns *ns = t->ns[i];

		if (!ns->vwc || !ns->ops->flush)
			continue;
		ns_ref(ns, w);
		sf->ops[n].ns = ns;
		sf->ops[n].sf = sf;
		sf->ops[n].f.done = shn_flush_done;
		n++;
	}
	sf->pending = n + 1; /* ours, dropped below */
	for (unsigned i = 0; i < n; i++)
		sf->ops[i].ns->ops->flush(sf->ops[i].ns, &w->ex, &sf->ops[i].f);
	shn_op_done(sf, true);
}
