/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP queue pair: PDU receive and send state machines (NVMe/TCP transport spec 1.0).
 *
 * Receive: PDU headers (and small payloads that arrive with them) are read into a per-
 * connection buffer; a payload that is not there yet is received straight into the
 * request's buffer with one recvmsg whose last iovec is the header buffer again, so the
 * headers that follow arrive in the same call.
 * Send: every request queues its PDUs (R2T, C2HData, CapsuleResp) as iovecs; all queued
 * requests go out in one sendmsg.
 */
#include "conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvme/types.h>

#include "bufpool.h"
#include "ctrl.h"
#include "listener.h"
#include "log.h"
#include "target.h"
#include "spec/crc32c.h"

static void conn_arm_recv(struct conn *c);
static void conn_kick_send(struct conn *c);
static void conn_parse(struct conn *c);
static void conn_check_drained(struct conn *c);
static void req_data_ready(struct req *req);

/* ---- request pool ---------------------------------------------------------------------- */

static struct req *req_get(struct conn *c)
{
	struct req *req = c->free_reqs;

	if (!req)
		return NULL;
	c->free_reqs = req->next;
	c->busy_reqs++;
	req->next = NULL;
	req->ns = NULL;
	req->dir = REQ_DIR_NONE;
	req->data_len = req->xfer_len = req->h2c_done = 0;
	req->ddgst_failed = false;
	req->r2t_queued = req->exec_after_r2t = false;
	req->pending_status = 0;
	req->iovcnt = req->iov_done = 0;
	req->step = 0;
	memset(&req->cqe, 0, sizeof(req->cqe));
	return req;
}

/* Back to the pool, without side effects on the connection. */
static void req_release(struct req *req)
{
	struct conn *c = req->conn;

	if (req->buf_size)
		bufpool_put(c->w->bufs, req->buf, req->buf_size);
	if (req->aux_size)
		bufpool_put(c->w->bufs, req->aux, req->aux_size);
	req->buf = req->aux = NULL;
	req->buf_size = req->aux_size = 0;
	req->state = REQ_FREE;
	req->next = c->free_reqs;
	c->free_reqs = req;
	c->busy_reqs--;
}

static void req_put(struct req *req)
{
	struct conn *c = req->conn;

	req_release(req);
	if (c->rx_paused && c->state == CONN_LIVE) {
		c->rx_paused = false;
		conn_parse(c);
	}
	conn_check_drained(c);
}

/* Grow a request-owned pool buffer to at least len bytes. */
static int req_grow(struct req *req, void **buf, uint32_t *size, uint32_t len)
{
	struct bufpool *bp = req->conn->w->bufs;

	if (*size >= len)
		return 0;
	if (*size)
		bufpool_put(bp, *buf, *size);
	*size = 0;
	*buf = bufpool_get(bp, len, size);
	return *buf ? 0 : -ENOMEM;
}

int req_alloc_buf(struct req *req, uint32_t len)
{
	return req_grow(req, &req->buf, &req->buf_size, len);
}

int req_alloc_aux(struct req *req, uint32_t len)
{
	return req_grow(req, &req->aux, &req->aux_size, len);
}

static int conn_alloc_pool(struct conn *c, unsigned n)
{
	c->reqs = calloc(n, sizeof(*c->reqs));
	if (!c->reqs)
		return -ENOMEM;
	c->nr_reqs = n;
	for (unsigned i = n; i-- > 0;) {
		struct req *req = &c->reqs[i];

		req->conn = c;
		req->ttag = (uint16_t)i;
		req->io.buf_index = -1;
		req->next = c->free_reqs;
		c->free_reqs = req;
	}
	return 0;
}

/* ---- fatal errors ------------------------------------------------------------------------ */

/*
 * A fatal transport error: send a C2HTermReq carrying FES/FEI and a copy of the offending
 * header, then close. Nothing else is sent after it.
 */
static void conn_fatal(struct conn *c, uint16_t fes, uint32_t fei, const void *hdr, uint32_t hdr_len)
{
	struct nvme_tcp_term_pdu *t = (void *)c->ctl_pdu;

	if (c->state == CONN_ERROR || c->state == CONN_CLOSING)
		return;
	log_info("%s: fatal transport error fes %u fei %u, closing", c->peer, fes, fei);
	if (hdr_len > NVME_TCP_TERM_MAX_DATA)
		hdr_len = NVME_TCP_TERM_MAX_DATA;
	memset(t, 0, sizeof(*t));
	t->hdr.type = NVME_TCP_C2H_TERM;
	t->hdr.hlen = sizeof(*t);
	t->hdr.plen = (uint32_t)(sizeof(*t) + hdr_len);
	t->fes = fes;
	t->fei = fei;
	memcpy(c->ctl_pdu + sizeof(*t), hdr, hdr_len);
	c->ctl_len = t->hdr.plen;
	c->ctl_off = 0;
	c->state = CONN_ERROR;
	c->rx_state = RX_STOP;
	/* requests queued but not yet on the wire are dropped; their memory is freed at close */
	conn_kick_send(c);
}

/* ---- send ------------------------------------------------------------------------------- */

static void conn_sendq_append(struct conn *c, struct req *req)
{
	req->next = NULL;
	if (c->sendq_tail)
		c->sendq_tail->next = req;
	else
		c->sendq_head = req;
	c->sendq_tail = req;
}

/*
 * PDUs queued while the worker runs completions leave together: the connection is listed
 * once, and conn_flush_sends (before the worker enters the kernel) gathers everything queued
 * by then into one sendmsg.
 */
static void conn_want_send(struct conn *c)
{
	struct worker *w = c->w;

	if (c->tx_listed)
		return;
	c->tx_listed = true;
	c->tx_next = w->tx_pending;
	w->tx_pending = c;
}

void conn_flush_sends(struct worker *w)
{
	while (w->tx_pending) {
		struct conn *c = w->tx_pending;

		w->tx_pending = c->tx_next;
		c->tx_next = NULL;
		c->tx_listed = false;
		conn_kick_send(c);
	}
}

static void conn_queue_send(struct conn *c, struct req *req)
{
	req->state = REQ_SENDING;
	conn_sendq_append(c, req);
	conn_want_send(c);
}

/* Gather iovecs of queued requests (or the control PDU) into one sendmsg. */
static void conn_kick_send(struct conn *c)
{
	struct io_uring_sqe *sqe;
	int n = 0;

	if (c->send_armed || c->state == CONN_CLOSING)
		return;
	c->tx_ctl = false;
	if (c->ctl_len) {
		/* ICResp/TermReq go alone: at the start of the stream or after everything else */
		c->tx_iov[0].iov_base = c->ctl_pdu + c->ctl_off;
		c->tx_iov[0].iov_len = c->ctl_len - c->ctl_off;
		c->tx_ctl = true;
		n = 1;
	} else if (c->state == CONN_ERROR) {
		return;
	} else {
		for (struct req *req = c->sendq_head; req && n < CONN_TX_IOV; req = req->next) {
			for (int i = req->iov_done; i < req->iovcnt && n < CONN_TX_IOV; i++)
				c->tx_iov[n++] = req->iov[i];
		}
		if (!n)
			return;
	}
	memset(&c->tx_msg, 0, sizeof(c->tx_msg));
	c->tx_msg.msg_iov = c->tx_iov;
	c->tx_msg.msg_iovlen = (size_t)n;
	sqe = worker_get_sqe(c->w);
	io_uring_prep_sendmsg(sqe, c->fd, &c->tx_msg, MSG_NOSIGNAL);
	ring_op_attach(sqe, &c->send_op);
	c->send_armed = true;
	c->ops_inflight++;
}

static void req_sent(struct req *req)
{
	if (req->r2t_queued) {
		/* R2T went out; the request waits for (or already has) its H2CData */
		req->r2t_queued = false;
		req->iovcnt = req->iov_done = 0;
		if (req->exec_after_r2t) {
			req->exec_after_r2t = false;
			req_data_ready(req);
		}
		return;
	}
	req_put(req);
}

static void conn_send_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct conn *c = container_of(op, struct conn, send_op);
	size_t sent;

	c->send_armed = false;
	c->ops_inflight--;
	if (cqe->res <= 0 || c->state == CONN_CLOSING) {
		if (c->state != CONN_CLOSING && cqe->res < 0)
			log_debug("%s: send: %s", c->peer, strerror(-cqe->res));
		conn_close(c);
		return;
	}
	sent = (size_t)cqe->res;
	if (c->tx_ctl) {
		c->ctl_off += (uint32_t)sent;
		if (c->ctl_off < c->ctl_len) {
			conn_kick_send(c);
			return;
		}
		c->ctl_len = c->ctl_off = 0;
		if (c->state == CONN_ERROR) {
			conn_close(c);
			return;
		}
		conn_kick_send(c);
		return;
	}
	while (sent && c->sendq_head) {
		struct req *req = c->sendq_head;
		struct iovec *iov = &req->iov[req->iov_done];

		if (sent < iov->iov_len) {
			iov->iov_base = (char *)iov->iov_base + sent;
			iov->iov_len -= sent;
			break;
		}
		sent -= iov->iov_len;
		if (++req->iov_done == req->iovcnt) {
			c->sendq_head = req->next;
			if (!c->sendq_head)
				c->sendq_tail = NULL;
			req->next = NULL;
			req_sent(req);
			if (c->state == CONN_CLOSING)
				return;
		}
	}
	conn_want_send(c);
}

static void req_add_iov(struct req *req, void *base, size_t len)
{
	req->iov[req->iovcnt].iov_base = base;
	req->iov[req->iovcnt].iov_len = len;
	req->iovcnt++;
}

/* Common header of a C2H PDU; returns the header length including the header digest. */
static uint32_t pdu_hdr_init(struct conn *c, struct nvme_tcp_hdr *h, uint8_t type, uint8_t hlen)
{
	h->type = type;
	h->hlen = hlen;
	if (!c->hdgst)
		return hlen;
	h->flags |= NVME_TCP_F_HDGST;
	return hlen + NVME_TCP_DIGEST_LEN;
}

/* Header digest right after a header of hlen bytes, once every field is final. */
static void pdu_hdr_digest(struct conn *c, void *hdr, uint32_t hlen)
{
	if (c->hdgst) {
		uint32_t d = crc32c(hdr, hlen);

		memcpy((uint8_t *)hdr + hlen, &d, 4);
	}
}

static void conn_queue_r2t(struct conn *c, struct req *req)
{
	struct nvme_tcp_r2t_pdu *r2t = (void *)req->hdrs[0];
	uint32_t hlen;

	memset(r2t, 0, sizeof(*r2t));
	hlen = pdu_hdr_init(c, &r2t->hdr, NVME_TCP_R2T, sizeof(*r2t));
	r2t->hdr.plen = hlen;
	r2t->cccid = req->sqe.cid;
	r2t->ttag = req->ttag;
	r2t->r2to = 0;
	r2t->r2tl = req->data_len;
	pdu_hdr_digest(c, r2t, sizeof(*r2t));
	req->iovcnt = req->iov_done = 0;
	req_add_iov(req, r2t, hlen);
	conn_sendq_append(c, req);
	/* set before the send completes: the host may answer before we see the send CQE */
	req->state = REQ_RECV_H2C;
	req->r2t_queued = true;
	conn_want_send(c);
}

/* C2HData PDUs for req->xfer_len bytes of req->buf, SUCCESS on the last one if asked. */
static void req_build_c2h(struct conn *c, struct req *req, bool success)
{
	uint32_t off = 0, left = req->xfer_len;
	int pdu = 0;

	while (left) {
		struct nvme_tcp_data_pdu *d = (void *)req->hdrs[pdu];
		uint32_t n = left > NVR_C2H_PDU_MAX ? NVR_C2H_PDU_MAX : left;
		uint32_t hlen, plen;

		memset(d, 0, sizeof(*d));
		hlen = pdu_hdr_init(c, &d->hdr, NVME_TCP_C2H_DATA, sizeof(*d));
		d->hdr.pdo = (uint8_t)hlen;
		plen = hlen + n;
		if (c->ddgst) {
			d->hdr.flags |= NVME_TCP_F_DDGST;
			plen += NVME_TCP_DIGEST_LEN;
		}
		d->hdr.plen = plen;
		if (n == left) {
			d->hdr.flags |= NVME_TCP_F_DATA_LAST;
			if (success)
				d->hdr.flags |= NVME_TCP_F_DATA_SUCCESS;
		}
		d->cccid = req->sqe.cid;
		d->datao = off;
		d->datal = n;
		pdu_hdr_digest(c, d, sizeof(*d));
		req_add_iov(req, d, hlen);
		req_add_iov(req, (char *)req->buf + off, n);
		if (c->ddgst) {
			req->ddgst[pdu] = crc32c((char *)req->buf + off, n);
			req_add_iov(req, &req->ddgst[pdu], 4);
		}
		off += n;
		left -= n;
		pdu++;
	}
}

static void req_build_rsp(struct conn *c, struct req *req)
{
	struct nvme_tcp_rsp_pdu *r = (void *)req->rsp;
	uint32_t hlen;

	memset(&r->hdr, 0, sizeof(r->hdr));
	hlen = pdu_hdr_init(c, &r->hdr, NVME_TCP_RSP, sizeof(*r));
	r->hdr.plen = hlen;
	r->cqe = req->cqe;
	pdu_hdr_digest(c, r, sizeof(*r));
	req_add_iov(req, r, hlen);
}

void req_complete(struct req *req, uint16_t status, uint32_t dw0, uint32_t dw1)
{
	struct conn *c = req->conn;

	if (c->state != CONN_LIVE) {
		/* the queue is going away: nothing to send */
		req_put(req);
		return;
	}
	if (!c->sqflow_off && c->sqsize)
		c->sqhd = (uint16_t)((c->sqhd + 1) % (c->sqsize + 1u));
	req->cqe.dw0 = dw0;
	req->cqe.dw1 = dw1;
	req->cqe.cid = req->sqe.cid;
	req->cqe.sqid = c->qid;
	if (!c->ctrl && req->sqe.opcode == NVME_FABRICS_OPCODE)
		/* a failed Connect answers for the queue it named */
		req->cqe.sqid = ((const struct nvmf_connect_sqe *)&req->sqe)->qid;
	req->cqe.sqhd = c->sqflow_off ? 0xffff : c->sqhd;
	req->cqe.status = nvme_status_to_wire(status);
	req->iovcnt = req->iov_done = 0;
	if (status == 0 && req->dir == REQ_DIR_C2H && req->xfer_len) {
		/* SUCCESS only when nothing is lost by skipping the CQE (reference A.10) */
		bool success_flag = c->sqflow_off && dw0 == 0 && dw1 == 0;

		req_build_c2h(c, req, success_flag);
		if (success_flag) {
			conn_queue_send(c, req);
			return;
		}
	}
	req_build_rsp(c, req);
	conn_queue_send(c, req);
}

/* ---- receive ----------------------------------------------------------------------------- */

static void conn_arm_recv(struct conn *c)
{
	struct io_uring_sqe *sqe;
	int n = 0;

	if (c->recv_armed || c->rx_state == RX_STOP || c->state >= CONN_ERROR)
		return;
	if (c->rx_state == RX_DATA) {
		if (c->rx_left) {
			c->rx_iov[n].iov_base = c->rx_dst;
			c->rx_iov[n++].iov_len = c->rx_left;
		}
		if (c->rx_ddgst_left) {
			c->rx_iov[n].iov_base = c->rx_ddgst + 4 - c->rx_ddgst_left;
			c->rx_iov[n++].iov_len = c->rx_ddgst_left;
		}
	}
	/* compact: move the unparsed tail to the front of the header buffer */
	if (c->roff) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	if (c->rlen < CONN_RBUF_SIZE) {
		c->rx_iov[n].iov_base = c->rbuf + c->rlen;
		c->rx_iov[n++].iov_len = CONN_RBUF_SIZE - c->rlen;
	}
	if (!n)
		return; /* paused with a full buffer: parsing resumes when a request frees */
	memset(&c->rx_msg, 0, sizeof(c->rx_msg));
	c->rx_msg.msg_iov = c->rx_iov;
	c->rx_msg.msg_iovlen = (size_t)n;
	sqe = worker_get_sqe(c->w);
	io_uring_prep_recvmsg(sqe, c->fd, &c->rx_msg, 0);
	ring_op_attach(sqe, &c->recv_op);
	c->recv_armed = true;
	c->ops_inflight++;
}

/* Account n received bytes over the iovecs posted by conn_arm_recv. */
static void conn_rx_advance(struct conn *c, size_t n)
{
	if (c->rx_state == RX_DATA) {
		size_t k = n < c->rx_left ? n : c->rx_left;

		c->rx_dst += k;
		c->rx_left -= (uint32_t)k;
		n -= k;
		k = n < c->rx_ddgst_left ? n : c->rx_ddgst_left;
		c->rx_ddgst_left -= (uint32_t)k;
		n -= k;
	}
	c->rlen += (uint32_t)n;
}

static void conn_recv_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct conn *c = container_of(op, struct conn, recv_op);

	c->recv_armed = false;
	c->ops_inflight--;
	if (c->state == CONN_CLOSING)
		return;
	if (cqe->res <= 0) {
		if (cqe->res == 0 && c->state == CONN_LIVE && (c->rx_state == RX_DATA || c->rlen > c->roff))
			log_info("%s: peer closed in the middle of a PDU", c->peer);
		else if (cqe->res < 0)
			log_debug("%s: recv: %s", c->peer, strerror(-cqe->res));
		else
			log_debug("%s: peer closed", c->peer);
		conn_close(c);
		return;
	}
	conn_rx_advance(c, (size_t)cqe->res);
	conn_parse(c);
}

static bool conn_check_hdgst(struct conn *c, const uint8_t *pdu, uint32_t hlen)
{
	uint32_t want = crc32c(pdu, hlen), got;

	memcpy(&got, pdu + hlen, 4);
	if (want == got)
		return true;
	log_info("%s: header digest error: got %#x want %#x", c->peer, got, want);
	conn_fatal(c, NVME_TCP_FES_HDR_DIGEST_ERR, 0, pdu, hlen);
	return false;
}

/* Start receiving `len` payload bytes of the current PDU into dst (plus digest if enabled). */
static void conn_rx_payload(struct conn *c, struct req *req, uint8_t *dst, uint32_t len, bool ddgst)
{
	uint32_t avail = c->rlen - c->roff, k = len < avail ? len : avail;

	c->rx_req = req;
	c->rx_pdu_start = dst;
	c->rx_pdu_len = len;
	if (dst != c->rbuf + c->roff) /* in-capsule data may be used where it lies */
		memcpy(dst, c->rbuf + c->roff, k);
	c->roff += k;
	c->rx_dst = dst + k;
	c->rx_left = len - k;
	c->rx_ddgst_left = ddgst ? 4 : 0;
	if (c->rx_ddgst_left && !c->rx_left) {
		avail = c->rlen - c->roff;
		k = avail < 4 ? avail : 4;
		memcpy(c->rx_ddgst, c->rbuf + c->roff, k);
		c->roff += k;
		c->rx_ddgst_left -= k;
	}
	c->rx_state = RX_DATA;
}

/* Validate a capsule's SGL and set up its data transfer; returns an NVMe status or 0. */
static uint16_t req_setup_data(struct conn *c, struct req *req, uint32_t icd_len)
{
	const struct nvme_sqe *sqe = &req->sqe;
	uint8_t type = sqe->sgl.type;
	int dir;

	if ((sqe->flags & 0xc0) != NVME_CMD_PSDT_SGL || (sqe->flags & NVME_CMD_FUSE_MASK))
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR;
	if (sqe->opcode == NVME_FABRICS_OPCODE)
		dir = ((const struct nvmf_common_sqe *)sqe)->fctype & 3;
	else if (c->qid == 0)
		dir = admin_opcode_dir(sqe->opcode);
	else
		dir = conn_io_dir(req);
	if (dir < 0 || dir == 3)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR;
	req->dir = (enum req_dir)dir;

	if (type == NVME_SGL_TYPE_ICD) {
		if (dir != REQ_DIR_H2C || sqe->sgl.addr != 0)
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_OFFSET) | NVME_STATUS_DNR;
		if (sqe->sgl.length != icd_len)
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA) | NVME_STATUS_DNR;
		req->data_len = icd_len;
		return 0;
	}
	if (icd_len || type != NVME_SGL_TYPE_TRANSPORT)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_TYPE) | NVME_STATUS_DNR;
	if (dir == REQ_DIR_NONE)
		return 0; /* a data length without a data direction is ignored */
	if (sqe->sgl.length > NVR_MDTS_BYTES)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR;
	req->data_len = sqe->sgl.length;
	return 0;
}

/* The command's namespace (req->ns, looked up by conn_io_dir) is RAM: addressable in place. */
static bool req_on_ram_ns(const struct req *req)
{
	const struct nvr_ns *ns = req->ns;

	return ns && !ns->pt && !ns->kv && be_mem_ptr((struct backend *)&ns->be, 0);
}

/*
 * An NVM Read on a RAM namespace needs no buffer: nvm.c points req->buf into the namespace and
 * the data is sent from there, without a copy. Not with data digests, where a write from
 * another queue could change the data between the CRC and the send.
 */
static bool req_reads_from_ram(const struct conn *c, const struct req *req)
{
	return !c->ddgst && req->dir == REQ_DIR_C2H && req->sqe.opcode == nvme_cmd_read && req_on_ram_ns(req);
}

/* An NVM Write to a RAM namespace: executed inline (mem.c completes in submit). */
static bool req_writes_to_ram(const struct req *req)
{
	return req->sqe.opcode == nvme_cmd_write && req_on_ram_ns(req);
}

/* The request's data has fully arrived (or none was needed). */
static void req_data_ready(struct req *req)
{
	req->state = REQ_EXECUTING;
	if (req->ddgst_failed) {
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_TRAN_TPORT_ERROR));
		return;
	}
	if (req->pending_status) {
		req_complete_status(req, req->pending_status);
		return;
	}
	conn_execute(req);
}

/* Returns false if parsing must stop (fatal error or no free request). */
static bool conn_handle_capsule(struct conn *c, const uint8_t *pdu, uint32_t hdr_total, uint32_t plen)
{
	const struct nvme_tcp_cmd_pdu *cmd = (const void *)pdu;
	uint32_t ddgst_len = (cmd->hdr.flags & NVME_TCP_F_DDGST) ? 4 : 0;
	uint32_t icd_len = 0;
	uint16_t status;
	struct req *req;

	if (plen > hdr_total) {
		if (cmd->hdr.pdo != hdr_total) {
			conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PDO, pdu, cmd->hdr.hlen);
			return false;
		}
		if (plen < hdr_total + ddgst_len + 1) {
			conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PLEN, pdu, cmd->hdr.hlen);
			return false;
		}
		icd_len = plen - hdr_total - ddgst_len;
		/* beyond any transfer we take: the stream cannot be trusted */
		if (icd_len > NVR_MDTS_BYTES) {
			conn_fatal(c, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, NVME_TCP_FEI_PLEN, pdu, cmd->hdr.hlen);
			return false;
		}
	} else if (ddgst_len) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_FLAGS, pdu, cmd->hdr.hlen);
		return false;
	}

	req = req_get(c);
	if (!req) {
		/* more commands than the queue holds: wait for one to finish */
		c->rx_paused = true;
		return false;
	}
	c->roff += hdr_total;
	memcpy(&req->sqe, &cmd->cmd, sizeof(req->sqe));

	status = req_setup_data(c, req, icd_len);
	/* Connect data (1 KiB) is always in-capsule, whatever IOCCSZ says; more is drained and refused */
	if (!status && icd_len > c->max_icd && !(req->sqe.opcode == NVME_FABRICS_OPCODE && icd_len <= NVR_ADMIN_ICD))
		status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_OFFSET) | NVME_STATUS_DNR;
	if (!status && !icd_len && req->dir == REQ_DIR_H2C && req->data_len)
		/* refuse before soliciting data a command that will fail anyway */
		status = conn_precheck(req);
	if (icd_len) {
		/* receive the data even if the command is rejected: the stream must stay in sync */
		if (!status && c->rlen - c->roff >= icd_len + ddgst_len && req_writes_to_ram(req)) {
			/* all here, and the RAM backend copies it to the namespace before this parse
			 * pass ends (rbuf is compacted only after it): take it from rbuf, no buffer */
			req->buf = c->rbuf + c->roff;
		} else if (req_alloc_buf(req, icd_len)) {
			req_release(req);
			conn_fatal(c, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, NVME_TCP_FEI_PLEN, pdu, 0);
			return false;
		}
		req->pending_status = status;
		req->state = REQ_RECV_ICD;
		conn_rx_payload(c, req, req->buf, icd_len, ddgst_len != 0);
		return true;
	}
	if (status) {
		req->state = REQ_EXECUTING;
		req_complete_status(req, status);
		return true;
	}
	if (req->dir != REQ_DIR_NONE && req->data_len && !req_reads_from_ram(c, req)) {
		if (req_alloc_buf(req, req->data_len)) {
			req->state = REQ_EXECUTING;
			req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
			return true;
		}
		if (req->dir == REQ_DIR_H2C) {
			conn_queue_r2t(c, req);
			return true;
		}
	}
	req_data_ready(req);
	return true;
}

static bool conn_handle_h2c(struct conn *c, const uint8_t *pdu, uint32_t hdr_total, uint32_t plen)
{
	const struct nvme_tcp_data_pdu *d = (const void *)pdu;
	uint32_t ddgst_len = c->ddgst ? 4 : 0;
	uint32_t hl = d->hdr.hlen;
	struct req *req;

	if (d->ttag >= c->nr_reqs || c->reqs[d->ttag].state != REQ_RECV_H2C || c->reqs[d->ttag].exec_after_r2t) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_data_pdu, ttag), pdu, hl);
		return false;
	}
	req = &c->reqs[d->ttag];
	if (d->cccid != req->sqe.cid) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_data_pdu, cccid), pdu, hl);
		return false;
	}
	if (d->datao != req->h2c_done) {
		conn_fatal(c, NVME_TCP_FES_DATA_OUT_OF_RANGE, offsetof(struct nvme_tcp_data_pdu, datao), pdu, hl);
		return false;
	}
	if (!d->datal || d->datal > req->data_len - req->h2c_done) {
		conn_fatal(c, NVME_TCP_FES_DATA_OUT_OF_RANGE, offsetof(struct nvme_tcp_data_pdu, datal), pdu, hl);
		return false;
	}
	if (d->datal > c->maxh2cdata) {
		conn_fatal(c, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, offsetof(struct nvme_tcp_data_pdu, datal), pdu, hl);
		return false;
	}
	if (d->hdr.pdo != hdr_total) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PDO, pdu, hl);
		return false;
	}
	if (plen != hdr_total + d->datal + ddgst_len) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PLEN, pdu, hl);
		return false;
	}
	c->rx_h2c_last = req->h2c_done + d->datal == req->data_len;
	if (!!(d->hdr.flags & NVME_TCP_F_DATA_LAST) != c->rx_h2c_last) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_FLAGS, pdu, hl);
		return false;
	}
	c->roff += hdr_total;
	conn_rx_payload(c, req, (uint8_t *)req->buf + req->h2c_done, d->datal, ddgst_len != 0);
	return true;
}

static void conn_send_icresp(struct conn *c)
{
	struct nvme_tcp_icresp_pdu *r = (void *)c->ctl_pdu;

	memset(r, 0, sizeof(*r));
	r->hdr.type = NVME_TCP_ICRESP;
	r->hdr.hlen = sizeof(*r);
	r->hdr.plen = sizeof(*r);
	r->pfv = NVME_TCP_PFV_1_0;
	r->cpda = 0;
	r->digest = (uint8_t)((c->hdgst ? NVME_TCP_HDR_DIGEST_ENABLE : 0) |
			      (c->ddgst ? NVME_TCP_DATA_DIGEST_ENABLE : 0));
	r->maxh2cdata = c->maxh2cdata;
	c->ctl_len = sizeof(*r);
	c->ctl_off = 0;
	conn_kick_send(c);
}

static bool conn_handle_icreq(struct conn *c, const uint8_t *pdu)
{
	const struct nvme_tcp_icreq_pdu *icreq = (const void *)pdu;

	if (icreq->hdr.plen != sizeof(*icreq)) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PLEN, pdu, sizeof(*icreq));
		return false;
	}
	if (icreq->pfv != NVME_TCP_PFV_1_0) {
		conn_fatal(c, NVME_TCP_FES_UNSUPPORTED_PARAM, offsetof(struct nvme_tcp_icreq_pdu, pfv), pdu,
			   sizeof(*icreq));
		return false;
	}
	if (icreq->hpda != 0) {
		/* we never pad C2H data; Linux nvmet refuses hpda != 0 as well */
		conn_fatal(c, NVME_TCP_FES_UNSUPPORTED_PARAM, offsetof(struct nvme_tcp_icreq_pdu, hpda), pdu,
			   sizeof(*icreq));
		return false;
	}
	c->hdgst = icreq->digest & NVME_TCP_HDR_DIGEST_ENABLE;
	c->ddgst = icreq->digest & NVME_TCP_DATA_DIGEST_ENABLE;
	c->roff += sizeof(*icreq);
	c->state = CONN_LIVE;
	log_debug("%s: ICReq hdgst %d ddgst %d maxr2t %u", c->peer, c->hdgst, c->ddgst, icreq->maxr2t);
	conn_send_icresp(c);
	return true;
}

/* Payload (and digest) of the current PDU has fully arrived. */
static void conn_payload_done(struct conn *c)
{
	struct req *req = c->rx_req;

	c->rx_state = RX_PDU;
	c->rx_req = NULL;
	if (c->rx_pdu_len && c->ddgst) {
		uint32_t want = crc32c(c->rx_pdu_start, c->rx_pdu_len), got;

		memcpy(&got, c->rx_ddgst, 4);
		if (want != got) {
			log_info("%s: data digest error cid %u: got %#x want %#x", c->peer, req->sqe.cid, got, want);
			req->ddgst_failed = true;
		}
	}
	if (req->state == REQ_RECV_ICD) {
		req_data_ready(req);
		return;
	}
	/* H2CData */
	req->h2c_done += c->rx_pdu_len;
	if (c->rx_h2c_last) {
		if (req->r2t_queued)
			req->exec_after_r2t = true;
		else
			req_data_ready(req);
	}
}

/* Check a PDU header against the PDU types a host may send; false if fatal. */
static bool conn_check_live_hdr(struct conn *c, const uint8_t *pdu)
{
	const struct nvme_tcp_hdr *ch = (const void *)pdu;

	switch (ch->type) {
	case NVME_TCP_CMD:
		if (ch->hlen != sizeof(struct nvme_tcp_cmd_pdu))
			goto bad_hlen;
		break;
	case NVME_TCP_H2C_DATA:
		if (ch->hlen != sizeof(struct nvme_tcp_data_pdu))
			goto bad_hlen;
		break;
	case NVME_TCP_ICREQ:
		conn_fatal(c, NVME_TCP_FES_PDU_SEQ_ERR, 0, pdu, sizeof(*ch));
		return false;
	default:
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_TYPE, pdu, sizeof(*ch));
		return false;
	}
	if (!!(ch->flags & NVME_TCP_F_HDGST) != c->hdgst || (!c->ddgst && (ch->flags & NVME_TCP_F_DDGST))) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_FLAGS, pdu, sizeof(*ch));
		return false;
	}
	return true;
bad_hlen:
	conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_HLEN, pdu, sizeof(*ch));
	return false;
}

/* Parse as many PDUs as the header buffer holds; then post the next receive. */
static void conn_parse(struct conn *c)
{
	while (c->state <= CONN_LIVE && !c->rx_paused) {
		uint32_t avail, hdr_total;
		const struct nvme_tcp_hdr *ch;
		const uint8_t *pdu;
		bool ok;

		if (c->rx_state == RX_DATA) {
			if (c->rx_left || c->rx_ddgst_left)
				break;
			conn_payload_done(c);
			continue;
		}
		avail = c->rlen - c->roff;
		if (avail < sizeof(*ch))
			break;
		pdu = c->rbuf + c->roff;
		ch = (const void *)pdu;

		if (c->state == CONN_WAIT_ICREQ) {
			if (ch->type != NVME_TCP_ICREQ) {
				if (ch->type == NVME_TCP_CMD || ch->type == NVME_TCP_H2C_DATA)
					conn_fatal(c, NVME_TCP_FES_PDU_SEQ_ERR, 0, pdu, sizeof(*ch));
				else
					conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_TYPE, pdu, sizeof(*ch));
				break;
			}
			if (ch->hlen != sizeof(struct nvme_tcp_icreq_pdu)) {
				conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_HLEN, pdu, sizeof(*ch));
				break;
			}
			if (ch->pdo != 0) {
				conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PDO, pdu, sizeof(*ch));
				break;
			}
			if (avail < ch->hlen || !conn_handle_icreq(c, pdu))
				break;
			continue;
		}
		if (ch->type == NVME_TCP_H2C_TERM) {
			log_info("%s: host sent H2CTermReq, closing", c->peer);
			conn_close(c);
			return;
		}
		if (!conn_check_live_hdr(c, pdu))
			break;
		hdr_total = ch->hlen + (c->hdgst ? NVME_TCP_DIGEST_LEN : 0);
		if (ch->plen < hdr_total) {
			conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PLEN, pdu, sizeof(*ch));
			break;
		}
		if (avail < hdr_total)
			break;
		if (c->hdgst && !conn_check_hdgst(c, pdu, ch->hlen))
			break;
		if (ch->type == NVME_TCP_CMD)
			ok = conn_handle_capsule(c, pdu, hdr_total, ch->plen);
		else
			ok = conn_handle_h2c(c, pdu, hdr_total, ch->plen);
		if (!ok)
			break;
	}
	conn_arm_recv(c);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

struct conn *conn_create(struct worker *w, int fd, struct nvr_port *port, const char *peer)
{
	struct conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c)
		goto fail;
	c->rbuf = malloc(CONN_RBUF_SIZE);
	/* enough requests for a full queue plus as many whose responses are still on the wire */
	if (!c->rbuf || conn_alloc_pool(c, 2 * (NVR_MQES + 1) + NVR_AERL + 1)) {
		free(c->rbuf);
		free(c);
		goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->w = w;
	c->fd = fd;
	c->port = port;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->state = CONN_WAIT_ICREQ;
	c->rx_state = RX_PDU;
	c->maxh2cdata = NVR_MDTS_BYTES;
	c->max_icd = NVR_ADMIN_ICD; /* until Connect tells which queue this is */
	c->recv_op.complete = conn_recv_done;
	c->send_op.complete = conn_send_done;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	log_debug("%s: connected on worker %d", c->peer, w->id);
	conn_arm_recv(c);
	return c;
fail:
	log_err("%s: out of memory for a new connection", peer);
	close(fd);
	return NULL;
}

static void conn_free(struct conn *c)
{
	struct worker *w = c->w;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->tx_listed) {
		struct conn **pp = &w->tx_pending;

		while (*pp != c)
			pp = &(*pp)->tx_next;
		*pp = c->tx_next;
	}
	log_debug("%s: connection freed", c->peer);
	close(c->fd);
	free(c->reqs);
	free(c->rbuf);
	free(c);
}

static void conn_release_stalled(struct conn *c)
{
	for (unsigned i = 0; i < c->nr_reqs; i++) {
		struct req *req = &c->reqs[i];

		switch (req->state) {
		case REQ_HELD:
		case REQ_RECV_ICD:
		case REQ_NEED_R2T:
		case REQ_RECV_H2C:
		case REQ_SENDING:
			req_release(req);
			break;
		case REQ_EXECUTING:
			/* unless it only waits for its R2T to leave */
			if (req->exec_after_r2t)
				req_release(req);
			break;
		default:
			break;
		}
	}
	c->sendq_head = c->sendq_tail = NULL;
}

/*
 * The ownership rule: a connection is freed only here, by the worker loop between completion
 * batches, never from inside a completion or command handler that may still hold it. Once
 * closed it waits on the worker's reap list until the kernel holds none of its buffers (no
 * recv/send in flight) and no request is out in a backend.
 */
void conn_reap_closed(struct worker *w)
{
	struct conn **pp = &w->reap;

	while (*pp) {
		struct conn *c = *pp;

		if (c->ops_inflight) {
			pp = &c->reap_next;
			continue;
		}
		conn_release_stalled(c);
		if (c->busy_reqs) {
			pp = &c->reap_next;
			continue;
		}
		*pp = c->reap_next;
		conn_free(c);
	}
}

/* Target stopping: close once only parked AERs are left. */
static void conn_check_drained(struct conn *c)
{
	unsigned held = 0;

	if (!c->draining || c->state != CONN_LIVE || c->sendq_head || c->send_armed)
		return;
	for (unsigned i = 0; i < c->nr_reqs; i++)
		held += c->reqs[i].state == REQ_HELD;
	if (c->busy_reqs == held)
		conn_close(c);
}

void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	c->rx_state = RX_STOP;
	/* shutdown makes the pending recv/send complete; their CQEs drop ops_inflight */
	shutdown(c->fd, SHUT_RDWR);
	if (c->ctrl)
		ctrl_queue_gone(c);
	c->reap_next = w->reap;
	w->reap = c;
}

/* ---- worker hooks ------------------------------------------------------------------------ */

#define CONN_DRAIN_MS 5000

void conn_worker_start(struct worker *w)
{
	listener_start(w);
}

void conn_tick_all(struct worker *w)
{
	struct conn *c, *next;

	for (c = w->conns; c; c = next) {
		next = c->next;
		if (c->draining) {
			if (c->state != CONN_CLOSING && w->now_ms > c->drain_deadline_ms)
				conn_close(c);
		} else if (c->state == CONN_LIVE && c->ctrl) {
			ctrl_check_keepalive(c, w->now_ms);
		}
	}
}

void conn_worker_stop(struct worker *w)
{
	struct conn *c, *next;

	w->stopping = true;
	listener_stop(w);
	for (c = w->conns; c; c = next) {
		next = c->next;
		c->draining = true;
		c->drain_deadline_ms = w->now_ms + CONN_DRAIN_MS;
		if (c->state != CONN_LIVE)
			conn_close(c);
		else
			conn_check_drained(c);
	}
}
