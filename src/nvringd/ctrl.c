/* SPDX-License-Identifier: MIT */
/*
 * Controller lifetime: creation at admin Connect, queue membership, keep-alive expiry and
 * teardown. A controller dies with its admin queue; its I/O queues, possibly on other
 * workers, are closed through messages to those workers.
 */
#include <stdlib.h>
#include <string.h>

#include "core/queue.h"
#include "ctrl.h"
#include "log.h"
#include "target.h"

struct nvr_ctrl *target_ctrl_create(struct target *tgt, struct nvr_subsys *s)
{
	struct nvr_ctrl *ctrl = calloc(1, sizeof(*ctrl));

	if (!ctrl)
		return NULL;
	ctrl->tgt = tgt;
	ctrl->subsys = s;
	atomic_init(&ctrl->refs, 1);
	uint16_t lo = s->cntlid_min ? s->cntlid_min : 1, hi = s->cntlid_max ? s->cntlid_max : NVR_MAX_CNTLID;

	pthread_mutex_init(&ctrl->err_lock, NULL);
	/* counted before it can be found: subsystem deletion waits for the count to drop */
	atomic_fetch_add(&s->nr_ctrls, 1);

	if (hi > NVR_MAX_CNTLID)
		hi = NVR_MAX_CNTLID;
	pthread_mutex_lock(&tgt->lock);
	/* round robin in the subsystem's range [cntlid_min, cntlid_max] */
	for (unsigned tries = 0; lo <= hi && tries <= (unsigned)(hi - lo); tries++) {
		uint16_t id = s->next_cntlid < lo || s->next_cntlid > hi ? lo : s->next_cntlid;

		s->next_cntlid = (uint16_t)(id >= hi ? lo : id + 1);
		if (!tgt->ctrls[id]) {
			ctrl->cntlid = id;
			tgt->ctrls[id] = ctrl;
			break;
		}
	}
	pthread_mutex_unlock(&tgt->lock);
	if (!ctrl->cntlid) {
		atomic_fetch_sub(&s->nr_ctrls, 1);
		pthread_mutex_destroy(&ctrl->err_lock);
		free(ctrl);
		return NULL;
	}
	return ctrl;
}

struct nvr_ctrl *target_ctrl_get(struct target *tgt, uint16_t cntlid)
{
	struct nvr_ctrl *ctrl = NULL;

	if (!cntlid || cntlid > NVR_MAX_CNTLID)
		return NULL;
	pthread_mutex_lock(&tgt->lock);
	ctrl = tgt->ctrls[cntlid];
	if (ctrl && !atomic_load(&ctrl->dead))
		atomic_fetch_add(&ctrl->refs, 1);
	else
		ctrl = NULL;
	pthread_mutex_unlock(&tgt->lock);
	return ctrl;
}

void ctrl_put(struct nvr_ctrl *ctrl)
{
	if (atomic_fetch_sub(&ctrl->refs, 1) == 1) {
		struct nvr_subsys *s = ctrl->subsys;

		log_debug("controller %u freed", ctrl->cntlid);
		free(ctrl->changed);
		free(ctrl->errs);
		pthread_mutex_destroy(&ctrl->err_lock);
		free(ctrl);
		atomic_fetch_sub_explicit(&s->nr_ctrls, 1, memory_order_release);
	}
}

struct ctrl_close_msg {
	struct worker_msg msg;
	struct nvr_ctrl *ctrl;
	struct nvr_queue *q;
	uint16_t qid;
};

static void ctrl_close_queue_msg(struct worker *w, struct worker_msg *m)
{
	struct ctrl_close_msg *cm = container_of(m, struct ctrl_close_msg, msg);
	struct target *tgt = w->tgt;
	bool still_there;

	pthread_mutex_lock(&tgt->lock);
	still_there = cm->ctrl->queues[cm->qid] == cm->q;
	pthread_mutex_unlock(&tgt->lock);
	if (still_there)
		cm->q->ops->close(cm->q);
	ctrl_put(cm->ctrl);
	free(cm);
}

/* Admin queue gone (closed, keep-alive expired): the controller goes with it. */
static void ctrl_teardown(struct nvr_ctrl *ctrl)
{
	struct target *tgt = ctrl->tgt;

	atomic_store(&ctrl->dead, true);
	/* parked AERs belong to the closing admin queue; it frees them */
	ctrl->nr_aers = 0;
	pthread_mutex_lock(&tgt->lock);
	if (tgt->ctrls[ctrl->cntlid] == ctrl)
		tgt->ctrls[ctrl->cntlid] = NULL;
	for (unsigned qid = 1; qid <= NVR_MAX_IO_QUEUES; qid++) {
		struct nvr_queue *q = ctrl->queues[qid];
		struct ctrl_close_msg *cm;

		if (!q)
			continue;
		cm = calloc(1, sizeof(*cm));
		if (!cm)
			continue; /* the queue notices the dead controller on its next command */
		cm->msg.fn = ctrl_close_queue_msg;
		cm->ctrl = ctrl;
		cm->q = q;
		cm->qid = (uint16_t)qid;
		atomic_fetch_add(&ctrl->refs, 1);
		worker_post(q->w, &cm->msg);
	}
	pthread_mutex_unlock(&tgt->lock);
}

void ctrl_queue_gone(struct nvr_queue *q)
{
	struct nvr_ctrl *ctrl = q->ctrl;
	struct target *tgt = ctrl->tgt;

	pthread_mutex_lock(&tgt->lock);
	if (ctrl->queues[q->qid] == q) {
		ctrl->queues[q->qid] = NULL;
		/* its counters stay in the controller's: they only grow */
		stats_sum(&ctrl->stats_gone, &q->stats);
	}
	pthread_mutex_unlock(&tgt->lock);
	if (q->qid == 0) {
		log_info("controller %u (%s) released", ctrl->cntlid, ctrl->hostnqn);
		ctrl_teardown(ctrl);
	}
	q->ctrl = NULL;
	ctrl_put(ctrl);
}

void ctrl_kill_locked(struct nvr_ctrl *ctrl)
{
	struct nvr_queue *q = ctrl->queues[0];
	struct ctrl_close_msg *cm;

	if (!q || atomic_load(&ctrl->dead))
		return;
	cm = calloc(1, sizeof(*cm));
	if (!cm)
		return; /* the caller waits and tries again */
	cm->msg.fn = ctrl_close_queue_msg;
	cm->ctrl = ctrl;
	cm->q = q;
	cm->qid = 0;
	atomic_fetch_add(&ctrl->refs, 1);
	worker_post(q->w, &cm->msg);
}

void ctrl_check_keepalive(struct nvr_queue *q, uint64_t now_ms)
{
	struct nvr_ctrl *ctrl = q->ctrl;

	if (!ctrl || q->qid != 0 || !ctrl->kato_ms)
		return;
	/* last_ka_ms may be a little ahead of the tick's clock (read fresh by a Keep Alive in the
	 * same batch): no unsigned wrap into a false expiry */
	if (now_ms > ctrl->last_ka_ms && now_ms - ctrl->last_ka_ms > ctrl->kato_ms) {
		log_info("controller %u (%s): keep-alive timeout (%u ms), tearing down", ctrl->cntlid,
			 ctrl->hostnqn, ctrl->kato_ms);
		q->ops->close(q);
	}
}
