/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP send: every request queues its PDUs (R2T, one C2HData for the whole transfer,
 * CapsuleResp) as iovecs; PDUs queued while the worker runs completions leave together in
 * one gathered send per queue, flushed before the worker enters the kernel.
 */
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "log.h"
#include "spec/crc32c.h"
#include "stats.h"
#include "tcp.h"
#include "worker.h"

static void tcp_sendq_append(struct tcp_queue *t, struct tcp_req *tr)
{
	tr->send_next = NULL;
	if (t->sendq_tail)
		t->sendq_tail->send_next = tr;
	else
		t->sendq_head = tr;
	t->sendq_tail = tr;
}

void tcp_want_send(struct tcp_queue *t)
{
	struct worker *w = t->q.w;

	if (t->tx_listed)
		return;
	t->tx_listed = true;
	t->tx_next = w->tx_pending;
	w->tx_pending = t;
}

void tcp_flush_sends(struct worker *w)
{
	while (w->tx_pending) {
		struct tcp_queue *t = w->tx_pending;

		w->tx_pending = t->tx_next;
		t->tx_next = NULL;
		t->tx_listed = false;
		tcp_kick_send(t);
	}
}

/* Gather iovecs of queued requests (or the control PDU) into one send. */
void tcp_kick_send(struct tcp_queue *t)
{
	unsigned n = 0;

	if (t->send_armed || t->state == TQ_CLOSING)
		return;
	if (t->tx_iov_want > t->tx_iov_cap) {
		struct iovec *iov = calloc(t->tx_iov_want, sizeof(*iov));

		if (iov) {
			if (t->tx_iov != t->tx_iov_small)
				free(t->tx_iov);
			t->tx_iov = iov;
			t->tx_iov_cap = t->tx_iov_want;
		}
		t->tx_iov_want = 0;
	}
	t->tx_ctl = false;
	if (t->ctl_len) {
		/* ICResp/TermReq go alone: at the start of the stream or after everything else */
		t->tx_iov[0].iov_base = t->ctl_pdu + t->ctl_off;
		t->tx_iov[0].iov_len = t->ctl_len - t->ctl_off;
		t->tx_ctl = true;
		n = 1;
	} else if (t->state == TQ_ERROR) {
		return;
	} else {
		uint64_t now_ns = 0;

		for (struct tcp_req *tr = t->sendq_head; tr && n < t->tx_iov_cap; tr = tr->send_next) {
			if (tr->req.lat_pending) {
				if (!now_ns)
					now_ns = stats_now_ns(); /* one clock read per send */
				stats_io_sent(&tr->req, now_ns);
			}
			for (unsigned i = tr->iov_done; i < tr->iovcnt && n < t->tx_iov_cap; i++)
				t->tx_iov[n++] = tr->iov[i];
		}
		if (!n)
			return;
	}
	t->st->ops->send(t->st, t->tx_iov, (int)n);
	t->send_armed = true;
	t->send_since_ms = t->q.w->now_ms;
}

/* A request's PDUs are all on the wire. */
static void tcp_req_sent(struct tcp_queue *t, struct tcp_req *tr)
{
	struct req *req = &tr->req;

	tr->iovcnt = tr->iov_done = 0;
	switch (req->state) {
	case REQ_R2T_QUEUED:
		req->state = REQ_RECV_H2C; /* the data may come (or be coming) */
		return;
	case REQ_H2C_EARLY:
		/* every byte arrived before we saw our R2T leave */
		req->state = REQ_EXECUTING;
		req_data_ready(req);
		return;
	default:
		tcp_req_put(t, tr);
	}
}

void tcp_on_send(struct stream *s, int res)
{
	struct tcp_queue *t = s->owner;
	size_t sent;

	t->send_armed = false;
	if (res <= 0 || t->state == TQ_CLOSING) {
		if (t->state != TQ_CLOSING && res < 0)
			log_debug("%s: send: %s", t->q.peer, strerror(-res));
		tcp_close(t, NULL);
		return;
	}
	sent = (size_t)res;
	if (t->tx_ctl) {
		t->ctl_off += (uint32_t)sent;
		if (t->ctl_off < t->ctl_len) {
			tcp_kick_send(t);
			return;
		}
		t->ctl_len = t->ctl_off = 0;
		if (t->state == TQ_ERROR) {
			tcp_close(t, NULL);
			return;
		}
		tcp_kick_send(t);
		return;
	}
	while (sent && t->sendq_head) {
		struct tcp_req *tr = t->sendq_head;
		struct iovec *iov = &tr->iov[tr->iov_done];

		if (sent < iov->iov_len) {
			iov->iov_base = (char *)iov->iov_base + sent;
			iov->iov_len -= sent;
			break;
		}
		sent -= iov->iov_len;
		if (++tr->iov_done == tr->iovcnt) {
			t->sendq_head = tr->send_next;
			if (!t->sendq_head)
				t->sendq_tail = NULL;
			tr->send_next = NULL;
			tcp_req_sent(t, tr);
			if (t->state == TQ_CLOSING)
				return;
		}
	}
	tcp_want_send(t);
}

static void tcp_add_iov(struct tcp_req *tr, void *base, size_t len)
{
	tr->iov[tr->iovcnt].iov_base = base;
	tr->iov[tr->iovcnt].iov_len = len;
	tr->iovcnt++;
}

void tcp_solicit_data(struct req *req)
{
	struct tcp_queue *t = tcp_of(req->q);
	struct tcp_req *tr = tcp_req_of(req);
	struct nvme_tcp_r2t_pdu *r2t = (void *)tr->hdr;
	uint32_t hlen;

	memset(r2t, 0, sizeof(*r2t));
	hlen = tcp_pdu_frame(&r2t->hdr, NVME_TCP_R2T, t->hdgst, false, 0);
	r2t->cccid = req->sqe.cid;
	r2t->ttag = tr->ttag;
	r2t->r2to = 0;
	r2t->r2tl = req->data_len;
	if (t->hdgst)
		tcp_pdu_put_hdgst(r2t, sizeof(*r2t));
	tr->iovcnt = tr->iov_done = 0;
	tcp_add_iov(tr, r2t, hlen);
	tcp_sendq_append(t, tr);
	/* before the send completes: the host may answer before we see the send's CQE */
	req->state = REQ_R2T_QUEUED;
	tr->r2t_ms = t->q.w->now_ms;
	t->h2c_waiting++;
	tcp_want_send(t);
}

/* One C2HData PDU for req->xfer_len bytes of req->buf, with SUCCESS if asked. */
static void tcp_build_c2h(struct tcp_queue *t, struct tcp_req *tr, bool success)
{
	struct nvme_tcp_data_pdu *d = (void *)tr->hdr;
	uint32_t n = tr->req.xfer_len, hlen;

	memset(d, 0, sizeof(*d));
	hlen = tcp_pdu_frame(&d->hdr, NVME_TCP_C2H_DATA, t->hdgst, t->ddgst, n);
	d->hdr.flags |= NVME_TCP_F_DATA_LAST;
	if (success)
		d->hdr.flags |= NVME_TCP_F_DATA_SUCCESS;
	d->cccid = tr->req.sqe.cid;
	d->datao = 0;
	d->datal = n;
	if (t->hdgst)
		tcp_pdu_put_hdgst(d, sizeof(*d));
	tcp_add_iov(tr, d, hlen);
	tcp_add_iov(tr, tr->req.buf, n);
	if (t->ddgst) {
		tr->ddgst = crc32c(tr->req.buf, n);
		tcp_add_iov(tr, &tr->ddgst, NVME_TCP_DIGEST_LEN);
	}
}

static void tcp_build_rsp(struct tcp_queue *t, struct tcp_req *tr)
{
	struct nvme_tcp_rsp_pdu *r = (void *)tr->rsp;
	uint32_t hlen;

	memset(&r->hdr, 0, sizeof(r->hdr));
	hlen = tcp_pdu_frame(&r->hdr, NVME_TCP_RSP, t->hdgst, false, 0);
	r->cqe = tr->req.cqe;
	if (t->hdgst)
		tcp_pdu_put_hdgst(r, sizeof(*r));
	tcp_add_iov(tr, r, hlen);
}

void tcp_queue_response(struct req *req)
{
	struct tcp_queue *t = tcp_of(req->q);
	struct tcp_req *tr = tcp_req_of(req);
	bool rsp = true;

	if (t->state >= TQ_ERROR) {
		/* the queue is going away: nothing to send */
		tcp_req_put(t, tr);
		return;
	}
	tr->iovcnt = tr->iov_done = 0;
	if (req->status == 0 && req->dir == REQ_DIR_C2H && req->xfer_len) {
		/* SUCCESS only when nothing is lost by skipping the CQE (reference A.10) */
		bool success = t->q.sqflow_off && req->cqe.dw0 == 0 && req->cqe.dw1 == 0;

		tcp_build_c2h(t, tr, success);
		rsp = !success;
	}
	if (rsp)
		tcp_build_rsp(t, tr);
	tcp_sendq_append(t, tr);
	tcp_want_send(t);
}

void tcp_send_icresp(struct tcp_queue *t)
{
	struct nvme_tcp_icresp_pdu *r = (void *)t->ctl_pdu;

	memset(r, 0, sizeof(*r));
	r->hdr.type = NVME_TCP_ICRESP;
	r->hdr.hlen = sizeof(*r);
	r->hdr.plen = sizeof(*r);
	r->pfv = NVME_TCP_PFV_1_0;
	r->cpda = 0;
	r->digest = (uint8_t)((t->hdgst ? NVME_TCP_HDR_DIGEST_ENABLE : 0) | (t->ddgst ? NVME_TCP_DATA_DIGEST_ENABLE : 0));
	r->maxh2cdata = t->maxh2cdata;
	t->ctl_len = sizeof(*r);
	t->ctl_off = 0;
	tcp_kick_send(t);
}
