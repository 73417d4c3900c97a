/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP receive: PDU headers (and small payloads that arrive with them) are read into the
 * queue's header buffer; a payload that is not there yet is received straight into the
 * request's buffer with one recvmsg whose last iovec is the header buffer again, so the
 * headers that follow arrive in the same call. Every malformed PDU gets a C2HTermReq with
 * the FES/FEI of the NVMe/TCP transport spec and the connection closes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "ctrl.h"
#include "log.h"
#include "spec/crc32c.h"
#include "target.h"
#include "tcp.h"
#include "worker.h"

#define ST_DNR(sc) (NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_##sc) | NVME_STATUS_DNR)

void tcp_fatal(struct tcp_queue *t, uint16_t fes, uint32_t fei, const void *hdr, uint32_t hdr_len)
{
	struct nvme_tcp_term_pdu *term = (void *)t->ctl_pdu;

	if (t->state >= TQ_ERROR)
		return;
	log_info("%s: fatal transport error fes %u fei %u, closing", t->q.peer, fes, fei);
	if (hdr_len > NVME_TCP_TERM_MAX_DATA)
		hdr_len = NVME_TCP_TERM_MAX_DATA;
	memset(term, 0, sizeof(*term));
	term->hdr.type = NVME_TCP_C2H_TERM;
	term->hdr.hlen = sizeof(*term);
	term->hdr.plen = (uint32_t)(sizeof(*term) + hdr_len);
	term->fes = fes;
	term->fei = fei;
	memcpy(t->ctl_pdu + sizeof(*term), hdr, hdr_len);
	t->ctl_len = term->hdr.plen;
	t->ctl_off = 0;
	t->state = TQ_ERROR;
	t->rx_state = TQ_RX_STOP;
	/* requests queued but not yet on the wire are dropped; their memory goes at close */
	tcp_kick_send(t);
}

static bool tcp_rx_in_payload(const struct tcp_queue *t)
{
	return t->rx_state == TQ_RX_DATA || t->rx_state == TQ_RX_DDGST;
}

void tcp_arm_recv(struct tcp_queue *t)
{
	int n = 0;

	if (t->recv_armed || t->rx_state == TQ_RX_STOP || t->state >= TQ_ERROR)
		return;
	if (tcp_rx_in_payload(t)) {
		if (t->rx_left) {
			t->rx_iov[n].iov_base = t->rx_dst;
			t->rx_iov[n++].iov_len = t->rx_left;
		}
		if (t->rx_ddgst_left) {
			t->rx_iov[n].iov_base = t->rx_ddgst + NVME_TCP_DIGEST_LEN - t->rx_ddgst_left;
			t->rx_iov[n++].iov_len = t->rx_ddgst_left;
		}
	}
	/* compact: move the unparsed tail to the front of the header buffer */
	if (t->roff) {
		memmove(t->rbuf, t->rbuf + t->roff, t->rlen - t->roff);
		t->rlen -= t->roff;
		t->roff = 0;
	}
	if (t->rbuf_want > t->rbuf_size) {
		uint8_t *rbuf = realloc(t->rbuf, t->rbuf_want);

		if (rbuf) {
			t->rbuf = rbuf;
			t->rbuf_size = t->rbuf_want;
		}
		t->rbuf_want = 0;
	}
	if (t->rlen < t->rbuf_size) {
		t->rx_iov[n].iov_base = t->rbuf + t->rlen;
		t->rx_iov[n++].iov_len = t->rbuf_size - t->rlen;
	}
	if (!n)
		return; /* paused with a full buffer: parsing resumes when a request frees */
	t->st->ops->recv(t->st, t->rx_iov, n);
	t->recv_armed = true;
}

/* Account n received bytes over the iovecs posted by tcp_arm_recv. */
static void tcp_rx_advance(struct tcp_queue *t, size_t n)
{
	if (tcp_rx_in_payload(t)) {
		size_t k = n < t->rx_left ? n : t->rx_left;

		t->rx_dst += k;
		t->rx_left -= (uint32_t)k;
		n -= k;
		k = n < t->rx_ddgst_left ? n : t->rx_ddgst_left;
		t->rx_ddgst_left -= (uint32_t)k;
		n -= k;
		if (!t->rx_left && t->rx_ddgst_left)
			t->rx_state = TQ_RX_DDGST;
	}
	t->rlen += (uint32_t)n;
}

void tcp_on_recv(struct stream *s, int res)
{
	struct tcp_queue *t = s->owner;

	t->recv_armed = false;
	if (t->state == TQ_CLOSING)
		return;
	if (res <= 0) {
		if (res == 0 && t->state == TQ_LIVE && (tcp_rx_in_payload(t) || t->rlen > t->roff))
			log_info("%s: peer closed in the middle of a PDU", t->q.peer);
		else if (res < 0)
			log_debug("%s: recv: %s", t->q.peer, strerror(-res));
		else
			log_debug("%s: peer closed", t->q.peer);
		tcp_close(t, NULL);
		return;
	}
	tcp_rx_advance(t, (size_t)res);
	tcp_parse(t);
}

/* Start receiving `len` payload bytes of the current PDU into dst (plus digest if enabled). */
static void tcp_rx_payload(struct tcp_queue *t, struct tcp_req *tr, uint8_t *dst, uint32_t len, bool ddgst)
{
	uint32_t avail = t->rlen - t->roff, k = len < avail ? len : avail;

	t->rx_req = tr;
	t->rx_pdu_start = dst;
	t->rx_pdu_len = len;
	if (dst != t->rbuf + t->roff) /* in-capsule data may be used where it lies */
		memcpy(dst, t->rbuf + t->roff, k);
	t->roff += k;
	t->rx_dst = dst + k;
	t->rx_left = len - k;
	t->rx_ddgst_left = ddgst ? NVME_TCP_DIGEST_LEN : 0;
	t->rx_state = TQ_RX_DATA;
	if (t->rx_ddgst_left && !t->rx_left) {
		avail = t->rlen - t->roff;
		k = avail < NVME_TCP_DIGEST_LEN ? avail : NVME_TCP_DIGEST_LEN;
		memcpy(t->rx_ddgst, t->rbuf + t->roff, k);
		t->roff += k;
		t->rx_ddgst_left -= k;
		t->rx_state = TQ_RX_DDGST;
	}
}

/* The capsule's SGL against what the transport carries: in-capsule data or a transport data
 * block for R2T/C2HData. 0 or a status. */
uint16_t tcp_check_sgl(struct req *req, uint32_t icd_len)
{
	const struct tcp_queue *t = tcp_of(req->q);
	const struct nvme_sqe *sqe = &req->sqe;

	if (sqe->sgl.type == NVME_SGL_TYPE_ICD) {
		if (req->dir != REQ_DIR_H2C || sqe->sgl.addr != 0)
			return ST_DNR(SGL_INVALID_OFFSET);
		if (sqe->sgl.length != icd_len)
			return ST_DNR(SGL_INVALID_DATA);
		/* Connect data (1 KiB) is always in-capsule, whatever IOCCSZ says */
		if (icd_len > t->q.max_icd && !(sqe->opcode == NVME_FABRICS_OPCODE && icd_len <= NVR_ADMIN_ICD))
			return ST_DNR(SGL_INVALID_OFFSET);
		return 0;
	}
	if (icd_len || sqe->sgl.type != NVME_SGL_TYPE_TRANSPORT)
		return ST_DNR(SGL_INVALID_TYPE);
	return 0;
}

/*
 * A command beyond SQSIZE + 1 outstanding breaks SQ flow control (the host must not submit
 * to a full queue): it is not run and completes with Command Sequence Error.
 */
static uint16_t tcp_sq_check(const struct tcp_queue *t)
{
	if (t->q.ctrl && t->q.outstanding > queue_depth(&t->q))
		return ST_DNR(CMD_SEQ_ERROR);
	return 0;
}

/* An NVM write to a RAM namespace whose in-capsule data is all in rbuf: executed before this
 * parse pass ends (rbuf is compacted only after it), so the data is used where it lies. */
static bool tcp_icd_in_place(const struct tcp_queue *t, const struct req *req, uint32_t need)
{
	return !req->status && t->rlen - t->roff >= need && req->exec_inline;
}

/* Returns false if parsing must stop (fatal error or no free request). */
static bool tcp_handle_capsule(struct tcp_queue *t, const uint8_t *pdu, uint32_t hdr_total, uint32_t plen)
{
	const struct nvme_tcp_cmd_pdu *cmd = (const void *)pdu;
	uint32_t ddgst_len = (cmd->hdr.flags & NVME_TCP_F_DDGST) ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t icd_len = 0;
	struct tcp_req *tr;
	struct req *req;
	uint16_t st;

	if (plen > hdr_total) {
		if (cmd->hdr.pdo != hdr_total) {
			tcp_fatal(t, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PDO, pdu, cmd->hdr.hlen);
			return false;
		}
		if (plen < hdr_total + ddgst_len + 1) {
			tcp_fatal(t, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PLEN, pdu, cmd->hdr.hlen);
			return false;
		}
		icd_len = plen - hdr_total - ddgst_len;
		/* beyond any transfer we take: the stream cannot be trusted */
		if (icd_len > NVR_MDTS_BYTES) {
			tcp_fatal(t, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, NVME_TCP_FEI_PLEN, pdu, cmd->hdr.hlen);
			return false;
		}
	} else if (ddgst_len) {
		tcp_fatal(t, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_FLAGS, pdu, cmd->hdr.hlen);
		return false;
	}

	tr = tcp_req_get(t);
	if (!tr) {
		/* more commands than the queue holds: wait for one to finish */
		t->rx_paused = true;
		return false;
	}
	req = &tr->req;
	t->roff += hdr_total;
	memcpy(&req->sqe, &cmd->cmd, sizeof(req->sqe));
	t->q.outstanding++;
	st = tcp_sq_check(t);
	req->status = st ? st : req_init(req, icd_len);
	if (icd_len) {
		/* receive the data even if the command is rejected: the stream must stay in sync */
		if (tcp_icd_in_place(t, req, icd_len + ddgst_len)) {
			req->buf = t->rbuf + t->roff;
		} else if (req_alloc_buf(req, icd_len)) {
			tcp_req_put(t, tr);
			tcp_fatal(t, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, NVME_TCP_FEI_PLEN, pdu, 0);
			return false;
		}
		req->state = REQ_RECV_ICD;
		tcp_rx_payload(t, tr, req->buf, icd_len, ddgst_len != 0);
		return true;
	}
	req->state = REQ_EXECUTING;
	req_start(req);
	return true;
}

static bool tcp_handle_h2c(struct tcp_queue *t, const uint8_t *pdu, uint32_t hdr_total, uint32_t plen)
{
	const struct nvme_tcp_data_pdu *d = (const void *)pdu;
	uint32_t ddgst_len = t->ddgst ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t hl = d->hdr.hlen;
	struct tcp_req *tr = d->ttag < t->nr_reqs ? t->reqs[d->ttag] : NULL;

	if (!tr || (tr->req.state != REQ_RECV_H2C && tr->req.state != REQ_R2T_QUEUED)) {
		tcp_fatal(t, NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_data_pdu, ttag), pdu, hl);
		return false;
	}
	if (d->cccid != tr->req.sqe.cid) {
		tcp_fatal(t, NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_data_pdu, cccid), pdu, hl);
		return false;
	}
	if (d->datao != tr->h2c_done) {
		tcp_fatal(t, NVME_TCP_FES_DATA_OUT_OF_RANGE, offsetof(struct nvme_tcp_data_pdu, datao), pdu, hl);
		return false;
	}
	if (!d->datal || d->datal > tr->req.data_len - tr->h2c_done) {
		tcp_fatal(t, NVME_TCP_FES_DATA_OUT_OF_RANGE, offsetof(struct nvme_tcp_data_pdu, datal), pdu, hl);
		return false;
	}
	if (d->datal > t->maxh2cdata) {
		tcp_fatal(t, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, offsetof(struct nvme_tcp_data_pdu, datal), pdu, hl);
		return false;
	}
	if (d->hdr.pdo != hdr_total) {
		tcp_fatal(t, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PDO, pdu, hl);
		return false;
	}
	if (plen != hdr_total + d->datal + ddgst_len) {
		tcp_fatal(t, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PLEN, pdu, hl);
		return false;
	}
	t->rx_h2c_last = tr->h2c_done + d->datal == tr->req.data_len;
	if (!!(d->hdr.flags & NVME_TCP_F_DATA_LAST) != t->rx_h2c_last) {
		tcp_fatal(t, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_FLAGS, pdu, hl);
		return false;
	}
	t->roff += hdr_total;
	tcp_rx_payload(t, tr, (uint8_t *)tr->req.buf + tr->h2c_done, d->datal, ddgst_len != 0);
	return true;
}

static bool tcp_handle_icreq(struct tcp_queue *t, const uint8_t *pdu)
{
	const struct nvme_tcp_icreq_pdu *icreq = (const void *)pdu;
	const struct nvr_limits *lim = &t->q.w->tgt->limits;

	if (icreq->pfv != NVME_TCP_PFV_1_0) {
		tcp_fatal(t, NVME_TCP_FES_UNSUPPORTED_PARAM, offsetof(struct nvme_tcp_icreq_pdu, pfv), pdu,
			  sizeof(*icreq));
		return false;
	}
	if (icreq->hpda != 0) {
		/* we never pad C2H data; Linux nvmet refuses hpda != 0 as well */
		tcp_fatal(t, NVME_TCP_FES_UNSUPPORTED_PARAM, offsetof(struct nvme_tcp_icreq_pdu, hpda), pdu,
			  sizeof(*icreq));
		return false;
	}
	t->hdgst = icreq->digest & NVME_TCP_HDR_DIGEST_ENABLE;
	t->ddgst = icreq->digest & NVME_TCP_DATA_DIGEST_ENABLE;
	/* with a data digest, data sent must not change between its CRC and the send */
	t->q.zero_copy_ok = !t->ddgst;
	t->pdu_rx.connected = true;
	t->pdu_rx.hdgst = t->hdgst;
	t->pdu_rx.ddgst = t->ddgst;
	t->roff += sizeof(*icreq);
	t->state = TQ_WAIT_CONNECT;
	t->deadline_ms = lim->connect_timeout_ms ? t->q.w->now_ms + lim->connect_timeout_ms : 0;
	t->deadline_what = "no Connect after ICResp";
	log_debug("%s: ICReq hdgst %d ddgst %d maxr2t %u", t->q.peer, t->hdgst, t->ddgst, icreq->maxr2t);
	tcp_send_icresp(t);
	return true;
}

/* Payload (and digest) of the current PDU has fully arrived. */
static void tcp_payload_done(struct tcp_queue *t)
{
	struct tcp_req *tr = t->rx_req;
	struct req *req = &tr->req;

	t->rx_state = TQ_RX_PDU;
	t->rx_req = NULL;
	if (t->rx_pdu_len && t->ddgst) {
		uint32_t want = crc32c(t->rx_pdu_start, t->rx_pdu_len), got;

		memcpy(&got, t->rx_ddgst, sizeof(got));
		if (want != got) {
			log_info("%s: data digest error cid %u: got %#x want %#x", t->q.peer, req->sqe.cid, got, want);
			req->data_error = true; /* this command fails (0x22), the queue goes on */
		}
	}
	if (req->state == REQ_RECV_ICD) {
		req->state = REQ_EXECUTING;
		req_data_ready(req);
		return;
	}
	/* H2CData */
	tr->h2c_done += t->rx_pdu_len;
	if (!t->rx_h2c_last)
		return;
	tr->r2t_ms = 0;
	t->h2c_waiting--;
	if (req->state == REQ_R2T_QUEUED) {
		req->state = REQ_H2C_EARLY; /* runs when our R2T's send completes */
		return;
	}
	req->state = REQ_EXECUTING;
	req_data_ready(req);
}

/* Parse as many PDUs as the header buffer holds; then post the next receive. */
void tcp_parse(struct tcp_queue *t)
{
	while (t->state < TQ_ERROR && !t->rx_paused) {
		const struct nvme_tcp_hdr *ch;
		struct tcp_pdu_err err;
		uint32_t avail, hdr_total;
		const uint8_t *pdu;
		bool ok;

		if (tcp_rx_in_payload(t)) {
			if (t->rx_left || t->rx_ddgst_left)
				break;
			tcp_payload_done(t);
			continue;
		}
		avail = t->rlen - t->roff;
		if (avail < sizeof(*ch))
			break;
		pdu = t->rbuf + t->roff;
		ch = (const void *)pdu;
		if (ch->type == NVME_TCP_H2C_TERM) {
			log_info("%s: host sent H2CTermReq, closing", t->q.peer);
			tcp_close(t, NULL);
			return;
		}
		if (!tcp_pdu_check_hdr(&t->pdu_rx, ch, &err)) {
			tcp_fatal(t, err.fes, err.fei, pdu, sizeof(*ch));
			break;
		}
		hdr_total = tcp_pdu_hdr_total(ch->hlen, t->hdgst && ch->type != NVME_TCP_ICREQ);
		if (avail < hdr_total)
			break;
		if (ch->type == NVME_TCP_ICREQ) {
			if (!tcp_handle_icreq(t, pdu))
				break;
			continue;
		}
		if (t->hdgst && !tcp_pdu_hdgst_ok(pdu, ch->hlen)) {
			log_info("%s: header digest error", t->q.peer);
			tcp_fatal(t, NVME_TCP_FES_HDR_DIGEST_ERR, 0, pdu, ch->hlen);
			break;
		}
		if (ch->type == NVME_TCP_CMD)
			ok = tcp_handle_capsule(t, pdu, hdr_total, ch->plen);
		else
			ok = tcp_handle_h2c(t, pdu, hdr_total, ch->plen);
		if (!ok)
			break;
	}
	/* a PDU the peer has started must finish within --pdu-timeout (not while we pause) */
	if (!t->rx_paused && t->state < TQ_ERROR && (tcp_rx_in_payload(t) || t->rlen > t->roff)) {
		if (!t->pdu_start_ms)
			t->pdu_start_ms = t->q.w->now_ms;
	} else {
		t->pdu_start_ms = 0;
	}
	tcp_arm_recv(t);
}
