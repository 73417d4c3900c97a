/* SPDX-License-Identifier: MIT */
/*
 * The request core: the one parse of a command (req_init), its buffers under the worker's
 * budget, the start of its data phase and execution, and the transport-independent half of
 * its completion (the CQE). The PDU half is the transport's (queue->ops).
 */
#include "req.h"

#include <errno.h>
#include <string.h>

#include <nvme/types.h>

#include "ana_subsys.h"
#include "bufpool.h"
#include "cmd/auth.h"
#include "cmd/resv_cmd.h"
#include "cmd/health.h"
#include "budget.h"
#include "ctrl.h"
#include "ns/registry.h"
#include "queue.h"
#include "resv_ns.h"
#include "stats.h"
#include "target.h"
#include "worker.h"

#define ST_DNR(sc) (NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_##sc) | NVME_STATUS_DNR)

struct executor *req_executor(const struct req *req)
{
	return &req->q->w->ex;
}

uint64_t req_now_ms(const struct req *req)
{
	return req->q->w->now_ms;
}

/* ---- buffers ------------------------------------------------------------------------- */

static struct buf_budget *req_budget(const struct req *req)
{
	return &req->q->w->budget;
}

static void req_buf_put(struct req *req, void **buf, uint32_t *size)
{
	if (*size) {
		bufpool_put(req->q->w->bufs, *buf, *size);
		req->q->buf_bytes -= *size;
		req_budget(req)->used -= *size;
	}
	*buf = NULL;
	*size = 0;
}

/* Grow a request-owned pool buffer to at least len bytes (counted, never refused for budget). */
static int req_grow(struct req *req, void **buf, uint32_t *size, uint32_t len)
{
	if (*size >= len)
		return 0;
	req_buf_put(req, buf, size);
	*buf = bufpool_get(req->q->w->bufs, len, size);
	if (!*buf)
		return -ENOMEM;
	req->q->buf_bytes += *size;
	req_budget(req)->used += *size;
	return 0;
}

int req_alloc_buf(struct req *req, uint32_t len)
{
	if (!req->buf_size)
		req->buf = NULL; /* rbuf or namespace memory is not ours to grow */
	return req_grow(req, &req->buf, &req->buf_size, len);
}

int req_alloc_aux(struct req *req, uint32_t len)
{
	return req_grow(req, &req->aux, &req->aux_size, len);
}

/* What the data phase needs before it can start (0 once the buffer is there). */
static uint32_t req_need_data(const struct req *req)
{
	if (req->dir == REQ_DIR_NONE || req->zero_copy || req->data_in)
		return 0;
	return req->data_len;
}

static uint32_t req_need_aux(const struct req *req)
{
	return req->aux_need > req->aux_size ? req->aux_need : 0;
}

/* Bytes of budget the buffers still to take will cost. */
static uint64_t req_buffers_cost(const struct req *req)
{
	uint32_t data = req_need_data(req), aux = req_need_aux(req);

	return (data ? bufpool_class_size(data) : 0) + (aux ? bufpool_class_size(aux) : 0);
}

/* Take the data (and aux) buffers if the queue's and the worker's budget allow. */
static bool req_take_buffers(struct req *req)
{
	struct buf_budget *b = req_budget(req);
	uint32_t data = req_need_data(req), aux = req_need_aux(req);
	uint64_t need = req_buffers_cost(req);

	if (req->q->buf_bytes + need > req->q->buf_limit || b->used + need > b->limit)
		return false;
	if ((data && req_alloc_buf(req, data)) || (aux && req_alloc_aux(req, aux))) {
		req_buf_put(req, &req->buf, &req->buf_size);
		req_buf_put(req, &req->aux, &req->aux_size);
		req->status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
	}
	return true;
}

void req_release(struct req *req)
{
	struct buf_budget *b = req_budget(req);

	if (req->state == REQ_NEED_BUFFER)
		budget_cancel(b, req);
	req_buf_put(req, &req->buf, &req->buf_size);
	req_buf_put(req, &req->aux, &req->aux_size);
	req->buf = NULL;
	if (req->lat_pending)
		stats_io_sent(req, stats_now_ns()); /* its response was never sent */
	if (req->zero_copy && req->ns && req->ns->ops->release)
		req->ns->ops->release(req);
	if (req->ns) {
		ns_put(req->ns, req->q->w);
		req->ns = NULL;
	}
	req->state = REQ_FREE;
	if (b->waiting)
		budget_kick(b);
}

/* ---- parse --------------------------------------------------------------------------- */

static uint16_t req_init_io(struct req *req, int *dir)
{
	const struct nvme_sqe *sqe = &req->sqe;
	struct nvr_ns *ns = NULL;

	if (req->ctrl)
		ns = req->ns = ns_get(req->ctrl->subsys, sqe->nsid, req->q->w);
	/* a namespace we do not have still moves its data by the opcode's bits 1:0 */
	*dir = ns ? ns->ops->io_dir(ns, sqe->opcode) : sqe->opcode & 3;
	return 0;
}

uint16_t req_init(struct req *req, uint32_t icd_len)
{
	const struct nvme_sqe *sqe = &req->sqe;
	struct nvr_queue *q = req->q;
	bool fabrics = sqe->opcode == NVME_FABRICS_OPCODE;
	uint16_t st;
	int dir;

	if (q->qid)
		req->start_ns = q->w->now_ns; /* the pass that received the capsule */
	req->ctrl = q->ctrl;
	req->dir = REQ_DIR_NONE;
	req->execute = NULL;
	req->exec_inline = false;
	if ((sqe->flags & 0xc0) != NVME_CMD_PSDT_SGL || (sqe->flags & NVME_CMD_FUSE_MASK))
		return ST_DNR(INVALID_FIELD);
	if (fabrics) {
		dir = ((const struct nvmf_common_sqe *)sqe)->fctype & 3;
		req->execute = fabrics_execute;
	} else if (q->qid == 0) {
		dir = admin_opcode_dir(sqe->opcode);
		if (req->ctrl)
			req->execute = req->ctrl->subsys->discovery ? discovery_execute : admin_execute;
	} else {
		req_init_io(req, &dir);
	}
	if (dir < 0 || dir == 3)
		return ST_DNR(INVALID_FIELD);
	req->dir = (enum req_dir)dir;
	/* an unauthenticated queue takes authentication commands only (before anything else is
	 * looked at, as nvmet gates in its parse) */
	st = auth_gate(req);
	if (st)
		return st;
	st = q->ops->check_data(req, icd_len);
	if (st)
		return st;
	if (dir != REQ_DIR_NONE) {
		/* a data length without a data direction is ignored */
		if (sqe->sgl.length > NVR_MDTS_BYTES)
			return ST_DNR(INVALID_FIELD);
		req->data_len = sqe->sgl.length;
	}
	if (fabrics)
		return 0; /* Connect comes before a controller; the others check for one */
	if (!req->ctrl)
		return ST_DNR(INVALID_OPCODE); /* the first command on a queue must be Connect */
	if (q->draining)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORT_QUEUE);
	if (q->qid == 0)
		return 0;
	if (!req->ns) {
		/* Flush with the broadcast NSID reaches every namespace */
		if (sqe->opcode == nvme_cmd_flush && sqe->nsid == NVME_NSID_ALL) {
			req->execute = nvm_flush_all;
			return 0;
		}
		return ST_DNR(INVALID_NS);
	}
	/* the path first (the namespace's ANA group on this port: SCT 3 without DNR, so a multipath
	 * host retries elsewhere), then the reservation, then the kind's own checks (as nvmet) */
	if (req->ctrl->subsys->ana &&
	    (st = ana_subsys_io_status(req->ctrl->subsys->ana, q->port, req->ns->anagrpid)))
		return st;
	if (req->ns->resv) {
		if (resv_cmd_opcode(sqe->opcode))
			return resv_cmd_parse(req);
		st = resv_ns_io_check(req->ns, req->ctrl->hostid, false, sqe->opcode);
		if (st)
			return st;
	}
	return req->ns->ops->parse(req);
}

/* ---- data phase and execution ------------------------------------------------------ */

static void req_run(struct req *req)
{
	req->state = REQ_EXECUTING;
	if (req->status) {
		req_complete_status(req, req->status);
		return;
	}
	req->execute(req);
}

/* Buffers in hand (or none needed): fetch the host's data, or run. */
static void req_continue(struct req *req)
{
	if (!req->status && req->dir == REQ_DIR_H2C && req->data_len && !req->data_in) {
		req->q->ops->solicit_data(req);
		return;
	}
	req_run(req);
}

void req_start(struct req *req)
{
	struct buf_budget *b = req_budget(req);

	/* behind earlier waiters: the budget is served in arrival order */
	if (!req->status && req_buffers_cost(req) && (b->waiting || !req_take_buffers(req))) {
		budget_wait(b, req);
		return;
	}
	req_continue(req);
}

void req_data_ready(struct req *req)
{
	req->data_in = true;
	if (req->data_error)
		req->status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_TRAN_TPORT_ERROR);
	/* in-capsule data came with the capsule; a second buffer may still have to wait */
	req_start(req);
}

/* ---- budget ------------------------------------------------------------------------ */

void budget_wait(struct buf_budget *b, struct req *req)
{
	req->state = REQ_NEED_BUFFER;
	req->wait_next = NULL;
	if (b->wait_tail)
		b->wait_tail->wait_next = req;
	else
		b->wait_head = req;
	b->wait_tail = req;
	b->waiting++;
	b->waits++;
}

void budget_cancel(struct buf_budget *b, struct req *req)
{
	struct req **pp = &b->wait_head, *prev = NULL;

	while (*pp && *pp != req) {
		prev = *pp;
		pp = &(*pp)->wait_next;
	}
	if (!*pp)
		return;
	*pp = req->wait_next;
	if (b->wait_tail == req)
		b->wait_tail = prev;
	b->waiting--;
}

void budget_kick(struct buf_budget *b)
{
	if (b->kicking) {
		/* a waiter started below completed inline and freed buffers: look again after it */
		b->rekick = true;
		return;
	}
	b->kicking = true;
	do {
		struct req *req = b->wait_head, *prev = NULL;

		b->rekick = false;
		while (req) {
			uint64_t need = req_buffers_cost(req);

			if (b->used + need > b->limit)
				break; /* the worker's share: nobody behind may overtake */
			if (req->q->buf_bytes + need > req->q->buf_limit) {
				prev = req; /* only its own queue is full: the others may go */
				req = req->wait_next;
				continue;
			}
			if (prev)
				prev->wait_next = req->wait_next;
			else
				b->wait_head = req->wait_next;
			if (b->wait_tail == req)
				b->wait_tail = prev;
			b->waiting--;
			req_take_buffers(req);
			req->state = REQ_EXECUTING;
			req_continue(req);
			b->rekick = true; /* the list may have changed under us: start over */
			break;
		}
	} while (b->rekick);
	b->kicking = false;
}

/* ---- completion -------------------------------------------------------------------- */

void req_complete(struct req *req, uint16_t status, uint32_t dw0, uint32_t dw1)
{
	struct nvr_queue *q = req->q;

	if (q->outstanding)
		q->outstanding--;
	if (!q->sqflow_off && q->sqsize)
		q->sqhd = (uint16_t)((q->sqhd + 1) % (q->sqsize + 1u));
	req->cqe.dw0 = dw0;
	req->cqe.dw1 = dw1;
	req->cqe.cid = req->sqe.cid;
	req->cqe.sqid = q->qid;
	if (!q->ctrl && req->sqe.opcode == NVME_FABRICS_OPCODE)
		/* a failed Connect answers for the queue it named */
		req->cqe.sqid = ((const struct nvmf_connect_sqe *)&req->sqe)->qid;
	req->cqe.sqhd = q->sqflow_off ? 0xffff : q->sqhd;
	req->cqe.status = nvme_status_to_wire(status);
	req->status = status;
	if (q->qid && req->sqe.opcode != NVME_FABRICS_OPCODE)
		stats_io_done(req, status);
	else if (status && q->ctrl)
		health_record_error(q->ctrl, req, status);
	req->state = REQ_SENDING;
	q->ops->queue_response(req);
}
