/* SPDX-License-Identifier: MIT */
/*
 * CC.SHN: a host shutting the controller down expects its data on stable storage once
 * CSTS.SHST reads "complete". Every namespace with a volatile cache (file backends without
 * O_DIRECT+FUA semantics, KV stores with vwc) is flushed asynchronously on the admin queue's
 * ring; SHST goes from "occurring" to "complete" when the last flush is done.
 */
#include <stdlib.h>

#include <nvme/types.h>

#include "conn.h"
#include "ctrl.h"
#include "kvstore/kvstore.h"
#include "log.h"
#include "target.h"

struct shn_op {
	union {
		struct be_io io;
		struct kvs_io kv;
	};
	struct shn_flush *f;
};

struct shn_flush {
	struct nvr_ctrl *ctrl; /* holds a reference until the last flush is done */
	unsigned pending;
	bool failed;
	struct shn_op ops[];
};

static void shn_set(struct nvr_ctrl *ctrl, uint32_t shst)
{
	ctrl->csts &= ~(NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT);
	ctrl->csts |= shst << NVME_CSTS_SHST_SHIFT;
}

static void shn_op_done(struct shn_flush *f, bool ok)
{
	if (!ok)
		f->failed = true;
	if (--f->pending)
		return;
	if (f->failed)
		log_err("controller %u: flush at shutdown failed", f->ctrl->cntlid);
	log_info("controller %u: shutdown complete", f->ctrl->cntlid);
	/* a host that reset or cleared SHN meanwhile no longer waits for this shutdown */
	if ((f->ctrl->cc >> NVME_CC_SHN_SHIFT) & NVME_CC_SHN_MASK)
		shn_set(f->ctrl, NVME_CSTS_SHST_CMPLT);
	ctrl_put(f->ctrl);
	free(f);
}

static void shn_be_done(struct be_io *io, int res)
{
	struct shn_op *op = container_of(io, struct shn_op, io);

	shn_op_done(op->f, res >= 0);
}

static void shn_kv_done(struct kvs_io *io)
{
	struct shn_op *op = container_of(io, struct shn_op, kv);

	shn_op_done(op->f, io->status == 0);
}

void ctrl_shutdown_flush(struct nvr_ctrl *ctrl, struct worker *w)
{
	const struct nvr_subsys *s = ctrl->subsys;
	struct shn_flush *f = calloc(1, sizeof(*f) + s->nr_ns * sizeof(f->ops[0]));
	unsigned n = 0;

	shn_set(ctrl, NVME_CSTS_SHST_OCCUR);
	if (!f) {
		shn_set(ctrl, NVME_CSTS_SHST_CMPLT); /* nothing we can do better: say we are done */
		return;
	}
	f->ctrl = ctrl;
	atomic_fetch_add(&ctrl->refs, 1);
	f->pending = 1; /* ours, dropped below: completions may arrive inline */
	for (unsigned i = 0; i < s->nr_ns; i++) {
		struct nvr_ns *ns = s->ns[i];
		struct shn_op *op = &f->ops[n];

		if (!ns->be.geom.volatile_cache || (!ns->kv && !ns->be.ops))
			continue;
		op->f = f;
		f->pending++;
		n++;
		if (ns->kv) {
			op->kv.op = KVS_OP_FLUSH;
			op->kv.done = shn_kv_done;
			kvs_submit(ns->kv, &w->ex, &op->kv);
		} else {
			op->io.op = BE_FLUSH;
			op->io.buf_index = -1;
			op->io.done = shn_be_done;
			be_submit(&ns->be, &w->ex, &op->io);
		}
	}
	shn_op_done(f, true);
}
