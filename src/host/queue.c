/* SPDX-License-Identifier: MIT */
/*
 * One NVMe/TCP queue: a TCP connection driven by its own io_uring. One recv and at most one
 * sendmsg are in flight; everything queued between polls leaves in that one sendmsg.
 * Receive parses PDUs out of a staging buffer (rx.c), except that a large payload is received
 * straight into the command's buffer; stream.c decides what the ops move (TCP or TLS).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "spec/crc32c.h"
#include "spec/tcp_pdu.h"

static_assert(sizeof(struct nvr_sqe) == sizeof(struct nvme_sqe), "public SQE is the wire SQE");
static_assert(offsetof(struct nvr_sqe, cdw10) == offsetof(struct nvme_sqe, cdw10), "public SQE cdw10");
static_assert(offsetof(struct nvr_sqe, dptr) == offsetof(struct nvme_sqe, sgl), "public SQE dptr");

uint64_t hq_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void hq_put_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* x86/arm64 little-endian hosts only; the wire is LE */
}

/* ---------------------------------------------------------------- failure and completion */

/* Tell the controller why we give up (H2CTermReq), best effort: the connection is lost anyway.
 * Only when no sendmsg is in flight, so the PDU cannot land inside another one. */
static void hq_send_term(struct nvr_queue *q, int err)
{
	struct nvme_tcp_term_pdu t = { 0 };

	if (q->fd < 0 || q->send_op.busy || (err != -EPROTO && err != -EBADMSG))
		return;
	t.hdr.type = NVME_TCP_H2C_TERM;
	t.hdr.hlen = sizeof(t);
	t.hdr.plen = sizeof(t);
	t.fes = err == -EBADMSG ? NVME_TCP_FES_HDR_DIGEST_ERR : NVME_TCP_FES_INVALID_PDU_HDR;
	hq_stream_send_now(q, &t, sizeof(t));
}

void hq_fail(struct nvr_queue *q, int err)
{
	if (q->state == HQ_Q_FAILED)
		return;
	q->state = HQ_Q_FAILED;
	q->err = err;
	hq_send_term(q, err);
	/* wakes the recv/send in flight; commands are failed once both are back */
	if (q->fd >= 0)
		shutdown(q->fd, SHUT_RDWR);
}

static void hq_req_release(struct nvr_queue *q, struct hq_req *r)
{
	struct nvr_cpl cpl = r->cpl;
	nvr_cb cb = r->cb;
	void *arg = r->cb_arg;

	r->state = HQ_REQ_FREE;
	r->done = false;
	q->free_ids[q->nr_free++] = r->cid;
	q->completed++;
	if (cb)
		cb(arg, &cpl);
}

void hq_req_complete(struct nvr_queue *q, struct hq_req *r, uint16_t status, uint32_t dw0,
			    uint32_t dw1)
{
	r->cpl.err = 0;
	r->cpl.status = r->ddgst_err && !status ? NVME_STATUS(0, 0x04) : status;
	r->cpl.dw0 = dw0;
	r->cpl.dw1 = dw1;
	r->cpl.xfer_len = r->dir == NVR_DIR_C2H ? r->c2h_done : r->len;
	if (r->in_send) {
		r->done = true; /* header still referenced by the sendmsg in flight */
		return;
	}
	hq_req_release(q, r);
}

void hq_send_list_remove(struct nvr_queue *q, struct hq_req *r)
{
	struct hq_req **pp = &q->send_head, *prev = NULL;

	while (*pp && *pp != r) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = r->next;
	if (q->send_tail == r)
		q->send_tail = prev;
	r->next = NULL;
}

/* After a failure, once no io_uring op can still touch a buffer, fail every command. */
static void hq_drain_failed(struct nvr_queue *q)
{
	if (q->state != HQ_Q_FAILED || q->send_op.busy || q->recv_op.busy)
		return;
	q->send_head = q->send_tail = NULL;
	for (unsigned i = 0; i < q->depth; i++) {
		struct hq_req *r = &q->reqs[i];

		if (r->state == HQ_REQ_FREE)
			continue;
		r->in_send = false;
		if (!r->done) {
			memset(&r->cpl, 0, sizeof(r->cpl));
			r->cpl.err = q->err;
		}
		hq_req_release(q, r);
	}
}

/* ---------------------------------------------------------------- send side */

/* An SQE for the next recv/sendmsg; the queue fails (-EBUSY) if the ring has none even after a submit. */
static struct io_uring_sqe *hq_get_sqe(struct nvr_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe) {
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	if (!sqe)
		hq_fail(q, -EBUSY);
	return sqe;
}

static void hq_send_append(struct nvr_queue *q, struct hq_req *r)
{
	r->next = NULL;
	if (q->send_tail)
		q->send_tail->next = r;
	else
		q->send_head = r;
	q->send_tail = r;
}

static bool hq_iov_room(struct nvr_queue *q, int n)
{
	return q->iov_cnt + n <= HQ_SEND_IOV_MAX;
}

static void hq_iov_add(struct nvr_queue *q, void *base, size_t len)
{
	q->iov[q->iov_cnt].iov_base = base;
	q->iov[q->iov_cnt].iov_len = len;
	q->iov_cnt++;
}

static void hq_emit_cmd(struct nvr_queue *q, struct hq_req *r)
{
	struct nvme_tcp_cmd_pdu *pdu = (struct nvme_tcp_cmd_pdu *)r->hdr;
	uint32_t dd = r->icd && q->ddgst ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t total = tcp_pdu_frame(&pdu->hdr, NVME_TCP_CMD, q->hdgst, q->ddgst, r->icd ? r->len : 0);

	if (q->hdgst)
		tcp_pdu_put_hdgst(pdu, sizeof(*pdu));
	hq_iov_add(q, r->hdr, total);
	if (r->icd) {
		hq_iov_add(q, r->buf, r->len);
		if (dd) {
			hq_put_le32(r->ddgst, crc32c(r->buf, r->len));
			hq_iov_add(q, r->ddgst, dd);
		}
	}
}

static void hq_emit_h2c(struct nvr_queue *q, struct hq_req *r)
{
	struct nvme_tcp_data_pdu *pdu = (struct nvme_tcp_data_pdu *)r->hdr;
	uint32_t dd = q->ddgst ? NVME_TCP_DIGEST_LEN : 0, total;
	uint32_t chunk = r->h2c_end - r->h2c_off;
	uint8_t *data = (uint8_t *)r->buf + r->h2c_off;

	if (chunk > q->maxh2cdata)
		chunk = q->maxh2cdata;
	r->h2c_chunk = chunk;
	memset(pdu, 0, sizeof(*pdu));
	total = tcp_pdu_frame(&pdu->hdr, NVME_TCP_H2C_DATA, q->hdgst, q->ddgst, chunk);
	if (r->h2c_off + chunk == r->h2c_end)
		pdu->hdr.flags |= NVME_TCP_F_DATA_LAST;
	pdu->cccid = r->cid;
	pdu->ttag = r->ttag;
	pdu->datao = r->h2c_off;
	pdu->datal = chunk;
	if (q->hdgst)
		tcp_pdu_put_hdgst(pdu, sizeof(*pdu));
	hq_iov_add(q, r->hdr, total);
	hq_iov_add(q, data, chunk);
	if (dd) {
		hq_put_le32(r->ddgst, crc32c(data, chunk));
		hq_iov_add(q, r->ddgst, dd);
	}
}

/* Gather every queued PDU into one sendmsg. */
static void hq_send_start(struct nvr_queue *q)
{
	struct io_uring_sqe *sqe;

	if (q->send_op.busy || q->state == HQ_Q_FAILED)
		return;
	if (!q->ctl_len && !q->send_head && !hq_stream_tx_pending(q))
		return;
	q->iov_cnt = q->iov_idx = 0;
	q->nr_inflight = q->inflight_done = 0;
	if (q->ctl_len) {
		hq_iov_add(q, q->ctl, q->ctl_len);
		q->ctl_in_send = true;
	}
	while (q->send_head && hq_iov_room(q, 3) && q->state == HQ_Q_LIVE) {
		struct hq_req *r = q->send_head;

		q->send_head = r->next;
		if (!q->send_head)
			q->send_tail = NULL;
		r->next = NULL;
		if (r->state == HQ_REQ_SEND_CMD)
			hq_emit_cmd(q, r);
		else
			hq_emit_h2c(q, r);
		r->in_send = true;
		q->inflight[q->nr_inflight].req = r;
		q->inflight[q->nr_inflight++].iov_end = q->iov_cnt;
	}
	if (!q->iov_cnt && !hq_stream_tx_pending(q))
		return;
	sqe = hq_get_sqe(q);
	if (!sqe)
		return;
	hq_stream_prep_send(q, sqe);
	io_uring_sqe_set_data(sqe, &q->send_op);
	q->send_op.busy = true;
}

/* Start sending the data an R2T asked for. The window must continue where the data sent so far ends. */
int hq_r2t_apply(struct nvr_queue *q, struct hq_req *r, uint16_t ttag, uint32_t off, uint32_t len)
{
	if (!len || off != r->h2c_off || len > r->len - off)
		return -EPROTO;
	r->ttag = ttag;
	r->h2c_end = off + len;
	r->state = HQ_REQ_SEND_H2C;
	hq_send_append(q, r);
	return 0;
}

/* A sent PDU: advance the request to its next step. */
static void hq_req_sent(struct nvr_queue *q, struct hq_req *r)
{
	r->in_send = false;
	if (r->done) {
		hq_req_release(q, r);
		return;
	}
	if (r->state == HQ_REQ_SEND_CMD) {
		r->state = HQ_REQ_WAIT;
	} else if (r->state == HQ_REQ_SEND_H2C) {
		r->h2c_off += r->h2c_chunk;
		r->h2c_chunk = 0;
		if (r->h2c_off < r->h2c_end) {
			hq_send_append(q, r);
			return;
		}
		r->state = HQ_REQ_WAIT;
	}
	if (r->r2t_pending) {
		r->r2t_pending = false;
		if (hq_r2t_apply(q, r, r->r2t_ttag, r->r2t_off, r->r2t_len))
			hq_fail(q, -EPROTO);
	}
}

/* Requests whose PDUs lie entirely in the bytes sent so far move on now, not at the batch end. */
static void hq_sent_upto(struct nvr_queue *q)
{
	if (q->ctl_in_send && q->iov_idx >= 1) {
		q->ctl_in_send = false;
		q->ctl_len = 0;
	}
	while (q->inflight_done < q->nr_inflight && q->inflight[q->inflight_done].iov_end <= q->iov_idx)
		hq_req_sent(q, q->inflight[q->inflight_done++].req);
}

static void hq_on_send(struct nvr_queue *q, int res)
{
	size_t left;

	q->send_op.busy = false;
	if (res >= 0)
		q->last_progress_ns = hq_now_ns();
	if (res >= 0 && q->state != HQ_Q_FAILED)
		res = hq_stream_sent(q, res); /* TLS: the plaintext whose records are all out */
	if (res == -EINPROGRESS) {
		struct io_uring_sqe *sqe = hq_get_sqe(q);

		if (!sqe)
			return;
		hq_stream_prep_send(q, sqe);
		io_uring_sqe_set_data(sqe, &q->send_op);
		q->send_op.busy = true;
		return;
	}
	if (res < 0) {
		hq_fail(q, res);
		return;
	}
	left = (size_t)res;
	/* skip what went out; on a short send, send the rest before anything new */
	while (q->iov_idx < q->iov_cnt && left) {
		struct iovec *v = &q->iov[q->iov_idx];
		size_t n = left < v->iov_len ? left : v->iov_len;

		v->iov_base = (uint8_t *)v->iov_base + n;
		v->iov_len -= n;
		left -= n;
		if (!v->iov_len)
			q->iov_idx++;
	}
	hq_sent_upto(q);
	if (q->state == HQ_Q_FAILED)
		return;
	if (q->iov_idx < q->iov_cnt) {
		struct io_uring_sqe *sqe;

		if (res == 0) {
			hq_fail(q, -ECONNRESET);
			return;
		}
		sqe = hq_get_sqe(q);
		if (!sqe)
			return;
		hq_stream_prep_send(q, sqe);
		io_uring_sqe_set_data(sqe, &q->send_op);
		q->send_op.busy = true;
		return;
	}
	q->nr_inflight = q->inflight_done = 0;
}

/* ---------------------------------------------------------------- receive side */

static void hq_recv_start(struct nvr_queue *q)
{
	struct io_uring_sqe *sqe;

	if (q->recv_op.busy || q->state == HQ_Q_FAILED)
		return;
	sqe = hq_get_sqe(q);
	if (!sqe)
		return;
	hq_stream_prep_recv(q, sqe);
	io_uring_sqe_set_data(sqe, &q->recv_op);
	q->recv_op.busy = true;
}

static void hq_on_recv(struct nvr_queue *q, int res)
{
	q->recv_op.busy = false;
	if (q->state == HQ_Q_FAILED)
		return;
	if (res <= 0) {
		hq_fail(q, res == 0 ? -ECONNRESET : res);
		return;
	}
	q->last_progress_ns = hq_now_ns();
	res = hq_stream_recvd(q, res);
	if (res < 0)
		hq_fail(q, res);
}

/* ---------------------------------------------------------------- event loop */

static int hq_reap(struct nvr_queue *q)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0, before = q->completed;

	io_uring_for_each_cqe(&q->ring, head, cqe) {
		struct hq_op *op = io_uring_cqe_get_data(cqe);

		n++;
		if (!op)
			continue;
		if (op->kind == HQ_OP_RECV)
			hq_on_recv(q, cqe->res);
		else
			hq_on_send(q, cqe->res);
	}
	io_uring_cq_advance(&q->ring, n);
	hq_drain_failed(q);
	return (int)(q->completed - before);
}

static void hq_kick(struct nvr_queue *q)
{
	hq_send_start(q);
	hq_recv_start(q);
}

static bool hq_busy(const struct nvr_queue *q)
{
	return q->state == HQ_Q_CONNECTING || q->nr_free < q->depth;
}

int nvr_queue_poll(struct nvr_queue *q)
{
	int n, ret;

	hq_kick(q);
	/* enter only with something to submit or completions waiting as task work */
	if (io_uring_sq_ready(&q->ring) || (IO_URING_READ_ONCE(*q->ring.sq.kflags) & IORING_SQ_TASKRUN)) {
		ret = io_uring_submit_and_get_events(&q->ring);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			hq_fail(q, ret);
	}
	n = hq_reap(q);
	hq_kick(q);
	if (n)
		return n;
	if (q->state == HQ_Q_FAILED)
		return q->err;
	if (hq_busy(q) && hq_now_ns() - q->last_progress_ns > (uint64_t)q->timeout_ms * 1000000ull)
		hq_fail(q, -ETIMEDOUT);
	return 0;
}

static bool hq_events_waiting(struct nvr_queue *q)
{
	return io_uring_cq_ready(&q->ring) || (IO_URING_READ_ONCE(*q->ring.sq.kflags) & IORING_SQ_TASKRUN);
}

/*
 * Before sleeping with commands in flight, poll for up to HQ_SPIN_NS: an answer is usually
 * microseconds away, and a sleep/wake-up pair costs more than that (on a VM, far more).
 * Only with COOP_TASKRUN, where pending socket completions show in the SQ flags. True when
 * something arrived (its completions are posted).
 */
static bool hq_spin(struct nvr_queue *q, uint64_t now)
{
	uint64_t t;

	if (!(q->ring.flags & IORING_SETUP_COOP_TASKRUN) || q->state == HQ_Q_FAILED)
		return false;
	if (io_uring_sq_ready(&q->ring) && io_uring_submit(&q->ring) < 0)
		return false;
	do {
		for (int i = 0; i < 64; i++)
			if (hq_events_waiting(q)) {
				io_uring_get_events(&q->ring);
				return true;
			}
		t = hq_now_ns();
	} while (t - now < HQ_SPIN_NS);
	return false;
}

int nvr_queue_wait(struct nvr_queue *q, unsigned min_cpl, int timeout_ms)
{
	uint64_t start = hq_now_ns();
	uint64_t limit = (uint64_t)(timeout_ms < 0 ? q->timeout_ms : timeout_ms) * 1000000ull;
	uint64_t qlimit = (uint64_t)q->timeout_ms * 1000000ull;
	unsigned done = 0;

	for (;;) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts;
		uint64_t now, wait_ns;
		int ret;

		hq_kick(q);
		done += (unsigned)hq_reap(q);
		hq_kick(q);
		if (done >= min_cpl && done)
			return (int)done;
		if (q->state == HQ_Q_FAILED && !q->send_op.busy && !q->recv_op.busy)
			return done ? (int)done : q->err;
		if (!hq_busy(q) && q->state != HQ_Q_FAILED) {
			/* idle: push out the re-armed recv, nothing to wait for */
			if (io_uring_sq_ready(&q->ring))
				io_uring_submit(&q->ring);
			return (int)done;
		}
		now = hq_now_ns();
		if (q->state != HQ_Q_FAILED && now - q->last_progress_ns >= qlimit) {
			hq_fail(q, -ETIMEDOUT);
			continue;
		}
		if (now - start >= limit) {
			if (q->state == HQ_Q_FAILED)
				return q->err; /* shutdown did not wake the ops: give up waiting */
			return (int)done;
		}
		wait_ns = limit - (now - start);
		if (q->state != HQ_Q_FAILED && qlimit - (now - q->last_progress_ns) < wait_ns)
			wait_ns = qlimit - (now - q->last_progress_ns);
		if (hq_spin(q, now))
			continue;
		ts.tv_sec = (long long)(wait_ns / 1000000000ull);
		ts.tv_nsec = (long long)(wait_ns % 1000000000ull);
		ret = io_uring_submit_and_wait_timeout(&q->ring, &cqe, 1, &ts, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			hq_fail(q, ret);
	}
}

/* ---------------------------------------------------------------- submission */

int hq_submit(struct nvr_queue *q, const void *sqe, enum nvr_dir dir, void *buf, uint32_t len,
	      bool force_icd, nvr_cb cb, void *arg)
{
	struct nvme_sqe *cmd;
	struct hq_req *r;

	if (q->state == HQ_Q_FAILED)
		return q->err;
	if (q->state != HQ_Q_LIVE)
		return -ENOTCONN;
	if (dir > NVR_DIR_C2H || (dir != NVR_DIR_NONE && (!buf || !len)) || (dir == NVR_DIR_NONE && len))
		return -EINVAL;
	if (!q->nr_free)
		return -EBUSY;
	r = &q->reqs[q->free_ids[--q->nr_free]];
	r->state = HQ_REQ_SEND_CMD;
	r->dir = (uint8_t)dir;
	r->buf = buf;
	r->len = len;
	r->icd = dir == NVR_DIR_H2C && (force_icd || len <= q->icd_max);
	r->in_send = r->done = r->ddgst_err = r->r2t_pending = false;
	r->c2h_done = r->h2c_off = r->h2c_end = r->h2c_chunk = 0;
	r->cb = cb;
	r->cb_arg = arg;
	memset(&r->cpl, 0, sizeof(r->cpl));
	/* straight into the capsule: hq_emit_cmd adds the PDU header around it */
	cmd = &((struct nvme_tcp_cmd_pdu *)r->hdr)->cmd;
	memcpy(cmd, sqe, sizeof(*cmd));
	cmd->cid = r->cid;
	cmd->flags = (uint8_t)((cmd->flags & ~0xc0) | NVME_CMD_PSDT_SGL);
	memset(&cmd->sgl, 0, sizeof(cmd->sgl));
	cmd->sgl.length = len;
	cmd->sgl.type = r->icd ? NVME_SGL_TYPE_ICD : NVME_SGL_TYPE_TRANSPORT;
	if (q->nr_free + 1 == q->depth)
		q->last_progress_ns = hq_now_ns(); /* idle queue: the timeout starts now */
	hq_send_append(q, r);
	return 0;
}

int nvr_submit(struct nvr_queue *q, const void *sqe, enum nvr_dir dir, void *buf, uint32_t len,
	       nvr_cb cb, void *cb_arg)
{
	return hq_submit(q, sqe, dir, buf, len, false, cb, cb_arg);
}

struct hq_sync {
	struct nvr_cpl *cpl;
	bool done;
};

static void hq_sync_cb(void *arg, const struct nvr_cpl *cpl)
{
	struct hq_sync *s = arg;

	*s->cpl = *cpl;
	s->done = true;
}

int hq_exec(struct nvr_queue *q, const void *sqe, enum nvr_dir dir, void *buf, uint32_t len,
	    bool force_icd, struct nvr_cpl *cpl)
{
	struct nvr_cpl local;
	struct hq_sync s = { .cpl = cpl ? cpl : &local };
	int ret;

	ret = hq_submit(q, sqe, dir, buf, len, force_icd, hq_sync_cb, &s);
	if (ret == -EBUSY) {
		nvr_queue_wait(q, 1, -1);
		ret = hq_submit(q, sqe, dir, buf, len, force_icd, hq_sync_cb, &s);
	}
	if (ret)
		return ret;
	while (!s.done) {
		ret = nvr_queue_wait(q, 1, -1);
		if (ret < 0 && !s.done) {
			/* the queue gave up with our command still held: never call back into this frame */
			for (unsigned i = 0; i < q->depth; i++)
				if (q->reqs[i].cb_arg == &s)
					q->reqs[i].cb = NULL;
			return ret;
		}
	}
	if (s.cpl->err)
		return s.cpl->err;
	return s.cpl->status;
}

int nvr_exec(struct nvr_queue *q, const void *sqe, enum nvr_dir dir, void *buf, uint32_t len,
	     struct nvr_cpl *cpl)
{
	return hq_exec(q, sqe, dir, buf, len, false, cpl);
}

/* ---------------------------------------------------------------- open / close */

/*
 * COOP_TASKRUN (5.19+): socket completions wait for our next io_uring_enter instead of
 * interrupting the thread with an IPI; TASKRUN_FLAG tells a busy poller when to enter.
 * (DEFER_TASKRUN would bind the ring to the opening thread, and queues may move between
 * threads, e.g. nvring perf opens them in main and drives them from its workers.)
 */
static int hq_ring_init(struct nvr_queue *q)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	ret = io_uring_queue_init_params(8, &q->ring, &p);
	if (ret == -EINVAL)
		ret = io_uring_queue_init(8, &q->ring, 0);
	return ret;
}

void hq_set_icd_max(struct nvr_queue *q, uint32_t max)
{
	q->icd_max = max;
}

int hq_open(struct nvr_queue **out, const struct nvr_connect_opts *o, uint16_t qid, unsigned depth)
{
	struct nvr_queue *q;
	struct nvme_tcp_icreq_pdu *ic;
	int ret;

	if (!depth || depth > 65535)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->fd = -1;
	q->qid = qid;
	q->depth = depth;
	q->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	q->hdgst = o->hdgst;
	q->ddgst = o->ddgst;
	q->icd_max = qid == 0 ? HQ_ADMIN_ICD_MAX : 0;
	q->recv_op.kind = HQ_OP_RECV;
	q->send_op.kind = HQ_OP_SEND;
	q->reqs = calloc(depth, sizeof(*q->reqs));
	q->free_ids = calloc(depth, sizeof(*q->free_ids));
	q->rbuf = malloc(HQ_RBUF_SIZE);
	if (!q->reqs || !q->free_ids || !q->rbuf) {
		ret = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < depth; i++) {
		q->reqs[i].cid = (uint16_t)i;
		q->free_ids[i] = (uint16_t)(depth - 1 - i); /* CID 0 first */
	}
	q->nr_free = depth;
	ret = hq_ring_init(q);
	if (ret < 0)
		goto fail;
	q->ring_ok = true;
	ret = hq_stream_open(q, o);
	if (ret < 0)
		goto fail;

	ic = (struct nvme_tcp_icreq_pdu *)q->ctl;
	memset(ic, 0, sizeof(*ic));
	ic->hdr.type = NVME_TCP_ICREQ;
	ic->hdr.hlen = sizeof(*ic);
	ic->hdr.plen = sizeof(*ic);
	ic->pfv = NVME_TCP_PFV_1_0;
	ic->hpda = 0;
	ic->maxr2t = 0; /* one R2T outstanding per command */
	ic->digest = (o->hdgst ? NVME_TCP_HDR_DIGEST_ENABLE : 0) | (o->ddgst ? NVME_TCP_DATA_DIGEST_ENABLE : 0);
	q->ctl_len = sizeof(*ic);
	q->state = HQ_Q_CONNECTING;
	q->last_progress_ns = hq_now_ns();
	while (q->state == HQ_Q_CONNECTING) {
		ret = nvr_queue_wait(q, 1, -1);
		if (ret < 0)
			break;
	}
	if (q->state != HQ_Q_LIVE) {
		ret = q->err ? q->err : -ETIMEDOUT;
		goto fail;
	}
	*out = q;
	return 0;
fail:
	hq_close(q);
	return ret;
}

void hq_close(struct nvr_queue *q)
{
	if (!q)
		return;
	if (q->fd >= 0) {
		hq_stream_close(q); /* close_notify while the connection still works */
		hq_fail(q, -ESHUTDOWN);
		/* the socket is shut down: the ops in flight come back promptly */
		for (int i = 0; i < 100 && (q->send_op.busy || q->recv_op.busy); i++)
			nvr_queue_wait(q, 1, 10);
		close(q->fd);
	}
	if (q->ring_ok)
		io_uring_queue_exit(&q->ring);
	hq_stream_free(q);
	free(q->reqs);
	free(q->free_ids);
	free(q->rbuf);
	free(q);
}

unsigned nvr_queue_depth(const struct nvr_queue *q)
{
	return q->depth;
}

unsigned nvr_queue_outstanding(const struct nvr_queue *q)
{
	return q->depth - q->nr_free;
}

uint16_t nvr_queue_qid(const struct nvr_queue *q)
{
	return q->qid;
}

enum nvr_tls_mode nvr_queue_tls(const struct nvr_queue *q)
{
	return q->stream == HQ_STREAM_KTLS ? NVR_TLS_KERNEL : q->stream == HQ_STREAM_TLS ? NVR_TLS_USERSPACE : NVR_TLS_OFF;
}

int nvr_queue_error(const struct nvr_queue *q, uint16_t *fes)
{
	if (fes)
		*fes = q->fes;
	return q->state == HQ_Q_FAILED ? q->err : 0;
}
