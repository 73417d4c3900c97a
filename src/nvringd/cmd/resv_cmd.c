/* SPDX-License-Identifier: MIT */
/* Reservation commands, their notifications, log page 0x80 and features 0x82/0x83 (resv_cmd.h). */
#include "resv_cmd.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "core/queue.h"
#include "core/req.h"
#include "ctrl.h"
#include "identify.h"
#include "log.h"
#include "ns/registry.h"
#include "resv_ns.h"
#include "target.h"
#include "worker.h"

#define ST(sc) NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_##sc)
#define ST_DNR(sc) (ST(sc) | NVME_STATUS_DNR)
#define RESV_LOG_PAGE_LEN 64
/* Get Features SEL 3: changeable, namespace specific */
#define RESV_FEAT_CAPS ((1u << 2) | (1u << 1))

/* A command's state while its change is written to the state file (in req->aux). */
struct resv_cmd_ctx {
	struct resv_save sv;
	struct req *req;
	uint16_t status;
	struct nvr_ns *ns;     /* admin Set Features 0x83: referenced while saving */
};

bool resv_cmd_opcode(uint8_t opcode)
{
	return opcode == nvme_cmd_resv_register || opcode == nvme_cmd_resv_report ||
	       opcode == nvme_cmd_resv_acquire || opcode == nvme_cmd_resv_release;
}

bool resv_cmd_subsys_has(const struct nvr_subsys *s)
{
	const struct ns_table *t = subsys_ns_table(s);

	for (unsigned i = 0; t && i < t->nr; i++)
		if (t->ns[i]->resv)
			return true;
	return false;
}

/* ---- notifications ----------------------------------------------------------------------- */

struct resv_note_msg {
	struct worker_msg msg;
	struct nvr_ctrl *ctrl;
	uint32_t nsid;
	uint8_t rnlpt;
};

static void resv_note_run(struct worker *w, struct worker_msg *m)
{
	struct resv_note_msg *nm = container_of(m, struct resv_note_msg, msg);

	(void)w;
	if (!atomic_load(&nm->ctrl->dead)) {
		resv_log_post(&nm->ctrl->resv_log, nm->rnlpt, nm->nsid);
		ctrl_notify_event(nm->ctrl, RESV_AEN_RESULT);
	}
	ctrl_put(nm->ctrl);
	free(nm);
}

struct resv_fan {
	struct nvr_ctrl *ctrl;
	uint32_t nsid;
};

/* Under tgt->lock: one notification for one controller (resv_fanout's callback). */
static void resv_fan_one(void *arg, uint16_t cntlid, uint8_t rnlpt, bool abort)
{
	struct resv_fan *f = arg;
	struct resv_note_msg *nm;

	(void)cntlid;
	/* Preempt and Abort: commands already executing complete; new ones meet the conflict check */
	(void)abort;
	if (rnlpt == NVME_RESV_NOTIFY_RNLPT_EMPTY)
		return;
	nm = calloc(1, sizeof(*nm));
	if (!nm)
		return; /* lost: the host still sees the state in a Reservation Report */
	nm->msg.fn = resv_note_run;
	nm->ctrl = f->ctrl;
	nm->nsid = f->nsid;
	nm->rnlpt = rnlpt;
	atomic_fetch_add(&f->ctrl->refs, 1);
	worker_post(f->ctrl->queues[0]->w, &nm->msg);
}

/* Every controller of the subsystem whose host an event names gets its notification. */
static void resv_cmd_notify(struct target *tgt, const struct nvr_subsys *s, uint32_t nsid,
			    const struct resv_outcome *out)
{
	if (!out->nevents)
		return;
	pthread_mutex_lock(&tgt->lock);
	for (unsigned id = 1; id <= NVR_MAX_CNTLID; id++) {
		struct nvr_ctrl *ctrl = tgt->ctrls[id];
		struct resv_ctrl rc;
		struct resv_fan f;

		if (!ctrl || ctrl->subsys != s || atomic_load(&ctrl->dead) || !ctrl->queues[0])
			continue;
		rc.cntlid = (uint16_t)id;
		memcpy(rc.hostid, ctrl->hostid, sizeof(rc.hostid));
		f.ctrl = ctrl;
		f.nsid = nsid;
		resv_fanout(out, &rc, 1, resv_fan_one, &f);
	}
	pthread_mutex_unlock(&tgt->lock);
}

/* ---- the I/O commands ---------------------------------------------------------------------- */

static void resv_cmd_saved(struct resv_save *sv)
{
	struct resv_cmd_ctx *ctx = container_of(sv, struct resv_cmd_ctx, sv);
	struct req *req = ctx->req;
	uint16_t st = ctx->status;

	/* the change holds in memory but would not survive a power loss: say so */
	if (!st && sv->rc)
		st = ST(INTERNAL);
	if (ctx->ns)
		ns_put(ctx->ns, req->q->w);
	req_complete_status(req, st);
}

/* The command's context in its aux area, zeroed; NULL (and the command completed) if none. */
static struct resv_cmd_ctx *resv_cmd_ctx_new(struct req *req)
{
	struct resv_cmd_ctx *ctx;

	if (req_alloc_aux(req, sizeof(*ctx)) < 0) {
		req_complete_status(req, ST(INTERNAL));
		return NULL;
	}
	ctx = req->aux;
	memset(ctx, 0, sizeof(*ctx));
	return ctx;
}

/* Complete now, or once the state file is written (saving); hold keeps a namespace meanwhile. */
static void resv_cmd_finish(struct req *req, struct resv_cmd_ctx *ctx, uint16_t st, bool saving,
			    struct nvr_ns *hold)
{
	if (!saving) {
		req_complete_status(req, st);
		return;
	}
	if (hold) {
		ns_ref(hold, req->q->w);
		ctx->ns = hold;
	}
	ctx->req = req;
	ctx->status = st;
	ctx->sv.done = resv_cmd_saved;
}

static void resv_cmd_report(struct req *req, struct resv_ns *rn)
{
	uint16_t st;

	pthread_mutex_lock(&rn->lock);
	st = resv_report(&rn->rs, le32toh(req->sqe.cdw11), req->buf, req->data_len);
	pthread_mutex_unlock(&rn->lock);
	req->xfer_len = st ? 0 : req->data_len;
	req_complete_status(req, st);
}

static void resv_cmd_execute(struct req *req)
{
	struct nvr_ns *ns = req->ns;
	struct resv_ns *rn = ns->resv;
	uint32_t cdw10 = le32toh(req->sqe.cdw10);
	const uint8_t *hostid = req->ctrl->hostid;
	struct resv_outcome out;
	struct resv_cmd_ctx *ctx;
	bool saving = false;
	uint16_t st;

	if (req->sqe.opcode == nvme_cmd_resv_report) {
		resv_cmd_report(req, rn);
		return;
	}
	ctx = resv_cmd_ctx_new(req);
	if (!ctx)
		return;
	pthread_mutex_lock(&rn->lock);
	switch (req->sqe.opcode) {
	case nvme_cmd_resv_register:
		st = resv_register(&rn->rs, hostid, cdw10, req->buf, req->data_len, &out);
		break;
	case nvme_cmd_resv_acquire:
		st = resv_acquire(&rn->rs, hostid, cdw10, req->buf, req->data_len, &out);
		break;
	default:
		st = resv_release(&rn->rs, hostid, cdw10, req->buf, req->data_len, &out);
		break;
	}
	if (!st)
		saving = resv_ns_changed_locked(rn, &out, &ctx->sv, req_executor(req));
	pthread_mutex_unlock(&rn->lock);
	if (!st)
		resv_cmd_notify(req->q->w->tgt, req->ctrl->subsys, ns->nsid, &out);
	resv_cmd_finish(req, ctx, st, saving, NULL);
}

uint16_t resv_cmd_parse(struct req *req)
{
	req->execute = resv_cmd_execute;
	if (req->sqe.opcode == nvme_cmd_resv_report) {
		/* the host's buffer is NUMD; an SGL of another length is a malformed command (as nvmet) */
		if (resv_report_len(le32toh(req->sqe.cdw10)) != req->data_len)
			return ST_DNR(SGL_INVALID_DATA);
		return 0;
	}
	req->aux_need = sizeof(struct resv_cmd_ctx);
	return 0;
}

/* ---- log page 0x80 --------------------------------------------------------------------------- */

void resv_cmd_log_page(struct req *req, const struct identify_log_args *a)
{
	uint8_t page[RESV_LOG_PAGE_LEN];

	if (a->offset > sizeof(page)) {
		req_complete_status(req, ST_DNR(INVALID_FIELD));
		return;
	}
	if (req_alloc_buf(req, a->len ? a->len : 1) < 0) {
		req_complete_status(req, ST(INTERNAL));
		return;
	}
	/* each read takes the oldest notification (nvmet does the same) */
	resv_log_read(&req->ctrl->resv_log, page);
	identify_log_copy(a, page, sizeof(page), req->buf);
	if (!a->rae)
		ctrl_aen_log_read(req->ctrl, a->lid);
	req->xfer_len = a->len < req->data_len ? a->len : req->data_len;
	req_complete(req, 0, 0, 0);
}

/* ---- features 0x82 / 0x83 ------------------------------------------------------------------ */

/* The namespace a namespace-specific feature names: NULL with *st set if none fits. */
static struct nvr_ns *resv_cmd_feat_ns(struct req *req, uint16_t *st)
{
	uint32_t nsid = le32toh(req->sqe.nsid);
	struct nvr_ns *ns;

	*st = 0;
	if (nsid == 0 || (nsid > req->ctrl->subsys->max_nsid && nsid != NVME_NSID_ALL)) {
		*st = ST_DNR(INVALID_NS);
		return NULL;
	}
	ns = subsys_find_ns(req->ctrl->subsys, nsid);
	if (!ns)
		*st = nsid == NVME_NSID_ALL ? ST_DNR(INVALID_FIELD) : ST_DNR(INVALID_NS);
	else if (!ns->resv)
		*st = ST_DNR(INVALID_FIELD); /* a passthrough drive keeps its own */
	return ns;
}

static void resv_cmd_set_mask_all(struct req *req, uint32_t cdw11)
{
	const struct ns_table *t = subsys_ns_table(req->ctrl->subsys);
	uint16_t st = 0;

	/* check first, then apply: all or none */
	{
		struct resv probe;

		resv_init(&probe, 0, false);
		st = resv_set_notify_mask(&probe, cdw11);
	}
	for (unsigned i = 0; !st && t && i < t->nr; i++) {
		struct resv_ns *rn = t->ns[i]->resv;

		if (!rn)
			continue;
		pthread_mutex_lock(&rn->lock);
		resv_set_notify_mask(&rn->rs, cdw11);
		pthread_mutex_unlock(&rn->lock);
	}
	req_complete_status(req, st);
}

void resv_cmd_set_feature(struct req *req)
{
	uint32_t cdw11 = le32toh(req->sqe.cdw11);
	uint8_t fid = le32toh(req->sqe.cdw10) & 0xff;
	struct resv_outcome out;
	struct resv_cmd_ctx *ctx;
	struct resv_ns *rn;
	struct nvr_ns *ns;
	bool saving;
	uint16_t st;

	if (fid == NVME_FEAT_FID_RESV_MASK && le32toh(req->sqe.nsid) == NVME_NSID_ALL) {
		resv_cmd_set_mask_all(req, cdw11);
		return;
	}
	/* PTPL for every namespace at once would be several files with several outcomes: refused */
	ns = resv_cmd_feat_ns(req, &st);
	if (st) {
		req_complete_status(req, st);
		return;
	}
	rn = ns->resv;
	if (fid == NVME_FEAT_FID_RESV_MASK) {
		pthread_mutex_lock(&rn->lock);
		st = resv_set_notify_mask(&rn->rs, cdw11);
		pthread_mutex_unlock(&rn->lock);
		req_complete_status(req, st);
		return;
	}
	ctx = resv_cmd_ctx_new(req);
	if (!ctx)
		return;
	pthread_mutex_lock(&rn->lock);
	st = resv_set_persistence(&rn->rs, cdw11, &out);
	saving = !st && resv_ns_changed_locked(rn, &out, &ctx->sv, req_executor(req));
	pthread_mutex_unlock(&rn->lock);
	/* the namespace stays while its file is written */
	resv_cmd_finish(req, ctx, st, saving, ns);
}

void resv_cmd_get_feature(struct req *req)
{
	uint32_t cdw10 = le32toh(req->sqe.cdw10);
	uint8_t fid = cdw10 & 0xff, sel = (cdw10 >> 8) & 7;
	struct nvr_ns *ns;
	uint32_t dw0;
	uint16_t st;

	if (sel == 3) {
		req_complete(req, 0, RESV_FEAT_CAPS, 0);
		return;
	}
	ns = resv_cmd_feat_ns(req, &st);
	if (st) {
		req_complete_status(req, st);
		return;
	}
	if (sel == 1) { /* default: nothing masked, PTPL off */
		req_complete(req, 0, 0, 0);
		return;
	}
	pthread_mutex_lock(&ns->resv->lock);
	dw0 = fid == NVME_FEAT_FID_RESV_MASK ? resv_get_notify_mask(&ns->resv->rs) : resv_get_persistence(&ns->resv->rs);
	pthread_mutex_unlock(&ns->resv->lock);
	req_complete(req, 0, dw0, 0);
}
