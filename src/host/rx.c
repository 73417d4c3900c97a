/* SPDX-License-Identifier: MIT */
/*
 * A queue's receive side: where the next bytes go (the PDU staging buffer rbuf, or a command's
 * buffer for payload) and the PDU parser over what arrived: ICResp, CapsuleResp, R2T, C2HData
 * (with data digest), C2HTermReq.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "spec/crc32c.h"
#include "spec/tcp_pdu.h"

int hq_rx_dest(struct nvr_queue *q, struct iovec iov[2], uint32_t direct_min)
{
	if (q->rx_state == HQ_RX_DATA && q->rhead == q->rtail && q->rx_left && q->rx_left >= direct_min) {
		/* the payload straight into the command's buffer, what follows it (the next PDU
		 * headers) into rbuf */
		q->rx_direct = true;
		iov[0].iov_base = q->rx_dst;
		iov[0].iov_len = q->rx_left;
		iov[1].iov_base = q->rbuf + q->rtail;
		iov[1].iov_len = HQ_RBUF_SIZE - q->rtail;
		return 2;
	}
	q->rx_direct = false;
	iov[0].iov_base = q->rbuf + q->rtail;
	iov[0].iov_len = HQ_RBUF_SIZE - q->rtail;
	return 1;
}

static struct hq_req *hq_req_by_cid(struct nvr_queue *q, uint16_t cid)
{
	struct hq_req *r;

	if (cid >= q->depth)
		return NULL;
	r = &q->reqs[cid];
	return r->state == HQ_REQ_FREE || r->done ? NULL : r;
}

static int hq_handle_icresp(struct nvr_queue *q)
{
	const struct nvme_tcp_icresp_pdu *p = &q->rx_hdr.icresp;
	bool hd = p->digest & NVME_TCP_HDR_DIGEST_ENABLE, dd = p->digest & NVME_TCP_DATA_DIGEST_ENABLE;

	if (q->state != HQ_Q_CONNECTING || p->hdr.plen != sizeof(*p) || p->pfv != NVME_TCP_PFV_1_0)
		return -EPROTO;
	/* the controller may refuse a digest we asked for, never impose one */
	if ((hd && !q->hdgst) || (dd && !q->ddgst))
		return -EPROTO;
	if (p->cpda != 0) /* we would have to pad H2C data; no known target asks for that */
		return -EOPNOTSUPP;
	if (p->maxh2cdata < NVME_TCP_MIN_MAXH2CDATA || p->maxh2cdata % 4)
		return -EPROTO;
	q->hdgst = hd;
	q->ddgst = dd;
	q->maxh2cdata = p->maxh2cdata;
	q->state = HQ_Q_LIVE;
	return 0;
}

static int hq_handle_rsp(struct nvr_queue *q)
{
	const struct nvme_cqe *c = &q->rx_hdr.rsp.cqe;
	struct hq_req *r = hq_req_by_cid(q, c->cid);

	/* a capsule still in our sendmsg has reached the peer already if it answers */
	if (!r || (r->state == HQ_REQ_SEND_CMD && !r->in_send))
		return -EPROTO;
	r->r2t_pending = false;
	if (r->state == HQ_REQ_SEND_H2C && !r->in_send)
		hq_send_list_remove(q, r); /* early error: the controller wants no more data */
	hq_req_complete(q, r, nvme_status_from_wire(c->status), c->dw0, c->dw1);
	return 0;
}

static int hq_handle_r2t(struct nvr_queue *q)
{
	const struct nvme_tcp_r2t_pdu *p = &q->rx_hdr.r2t;
	struct hq_req *r = hq_req_by_cid(q, p->cccid);

	if (!r || r->dir != NVR_DIR_H2C || r->icd || r->r2t_pending)
		return -EPROTO;
	if (r->in_send && (r->state == HQ_REQ_SEND_CMD || r->state == HQ_REQ_SEND_H2C)) {
		/* the PDU before it is still in our sendmsg: apply when that send completes */
		r->r2t_pending = true;
		r->r2t_ttag = p->ttag;
		r->r2t_off = p->r2to;
		r->r2t_len = p->r2tl;
		return 0;
	}
	if (r->state != HQ_REQ_WAIT)
		return -EPROTO;
	return hq_r2t_apply(q, r, p->ttag, p->r2to, p->r2tl);
}

static int hq_handle_c2h(struct nvr_queue *q)
{
	const struct nvme_tcp_data_pdu *p = &q->rx_hdr.data;
	uint32_t hd = hq_hd(q), dd = (p->hdr.flags & NVME_TCP_F_DDGST) ? NVME_TCP_DIGEST_LEN : 0;
	struct hq_req *r = hq_req_by_cid(q, p->cccid);

	if (!r || r->dir != NVR_DIR_C2H || (r->state != HQ_REQ_WAIT && !(r->state == HQ_REQ_SEND_CMD && r->in_send)))
		return -EPROTO;
	if (!!dd != q->ddgst || p->hdr.pdo != p->hdr.hlen + hd ||
	    p->hdr.plen != p->hdr.pdo + p->datal + dd)
		return -EPROTO;
	if (p->datao != r->c2h_done || p->datal > r->len - p->datao)
		return -EPROTO;
	if ((p->hdr.flags & NVME_TCP_F_DATA_SUCCESS) && !(p->hdr.flags & NVME_TCP_F_DATA_LAST))
		return -EPROTO;
	q->rx_req = r;
	q->rx_dst = (uint8_t *)r->buf + p->datao;
	q->rx_left = p->datal;
	q->rx_crc = NVR_CRC32C_SEED;
	q->rx_flags = p->hdr.flags;
	q->rx_state = HQ_RX_DATA;
	return 0;
}

static void hq_c2h_done(struct nvr_queue *q)
{
	struct hq_req *r = q->rx_req;

	q->rx_req = NULL;
	q->rx_state = HQ_RX_HDR;
	if ((q->rx_flags & NVME_TCP_F_DATA_SUCCESS) && (q->rx_flags & NVME_TCP_F_DATA_LAST))
		hq_req_complete(q, r, 0, 0, 0);
}

uint32_t hq_rx_hdr_need(const struct nvr_queue *q)
{
	uint32_t have = q->rtail - q->rhead, want;
	const struct nvme_tcp_hdr *h = (const void *)(q->rbuf + q->rhead);

	if (q->rx_state == HQ_RX_DDGST)
		want = NVME_TCP_DIGEST_LEN;
	else if (q->rx_state != HQ_RX_HDR)
		return 0;
	else if (have < sizeof(*h))
		want = sizeof(*h);
	else
		want = (tcp_pdu_hlen(h->type) ?: sizeof(*h)) +
		       (h->type == NVME_TCP_ICRESP || h->type == NVME_TCP_C2H_TERM ? 0 : hq_hd(q));
	return want > have ? want - have : 0;
}

/* Parse one PDU header from rbuf if complete. Returns 1 consumed, 0 need more, <0 error. */
static int hq_rx_hdr(struct nvr_queue *q)
{
	uint32_t avail = q->rtail - q->rhead, hlen, hd = 0;
	const struct nvme_tcp_hdr *h = (const void *)(q->rbuf + q->rhead);
	struct tcp_pdu_rx rx = { .accept = TCP_PDU_TO_HOST };
	uint8_t *p = q->rbuf + q->rhead;
	struct tcp_pdu_err err;

	/* a TLS record (alert or handshake, version 3.x) answering our plaintext ICReq */
	if (q->state == HQ_Q_CONNECTING && q->stream == HQ_STREAM_TCP && avail >= 2 &&
	    (p[0] == 0x15 || p[0] == 0x16) && p[1] == 0x03)
		return -EPROTONOSUPPORT;
	if (avail < sizeof(*h))
		return 0;
	/* the common-header checks the target makes too (src/spec/tcp_pdu.c) */
	rx.connected = q->state != HQ_Q_CONNECTING;
	rx.hdgst = q->hdgst;
	rx.ddgst = q->ddgst;
	if (!tcp_pdu_check_hdr(&rx, h, &err))
		return -EPROTO;
	if (rx.connected && q->state != HQ_Q_LIVE)
		return -EPROTO;
	hlen = h->hlen;
	if (h->type != NVME_TCP_ICRESP && h->type != NVME_TCP_C2H_TERM)
		hd = tcp_pdu_hdr_total(hlen, q->hdgst) - hlen;
	if (h->type == NVME_TCP_C2H_TERM) {
		/* fatal by definition: report its FES, ignore the error data */
		if (avail < hlen)
			return 0;
		memcpy(&q->rx_hdr, p, hlen);
		q->fes = q->rx_hdr.term.fes;
		return -ECONNABORTED;
	}
	if (avail < hlen + hd)
		return 0;
	if (hd && !tcp_pdu_hdgst_ok(p, hlen))
		return -EBADMSG;
	memcpy(&q->rx_hdr, p, hlen);
	q->rhead += hlen + hd;
	switch (h->type) {
	case NVME_TCP_ICRESP:
		return hq_handle_icresp(q) ?: 1;
	case NVME_TCP_RSP:
		if (q->rx_hdr.hdr.plen != hlen + hd)
			return -EPROTO;
		return hq_handle_rsp(q) ?: 1;
	case NVME_TCP_R2T:
		if (q->rx_hdr.hdr.plen != hlen + hd)
			return -EPROTO;
		return hq_handle_r2t(q) ?: 1;
	default:
		return hq_handle_c2h(q) ?: 1;
	}
}

static void hq_rx_data_got(struct nvr_queue *q, const uint8_t *src, uint32_t n)
{
	if (q->rx_flags & NVME_TCP_F_DDGST)
		q->rx_crc = crc32c_update(q->rx_crc, src, n);
	q->rx_dst += n;
	q->rx_left -= n;
	q->rx_req->c2h_done += n;
	if (!q->rx_left) {
		if (q->rx_flags & NVME_TCP_F_DDGST)
			q->rx_state = HQ_RX_DDGST;
		else
			hq_c2h_done(q);
	}
}

static int hq_rx_parse(struct nvr_queue *q)
{
	for (;;) {
		uint32_t avail = q->rtail - q->rhead;
		int ret;

		if (q->rx_state == HQ_RX_HDR) {
			ret = hq_rx_hdr(q);
			if (ret <= 0)
				return ret;
			if (q->rx_state == HQ_RX_DATA && !q->rx_left)
				hq_rx_data_got(q, NULL, 0);
		} else if (q->rx_state == HQ_RX_DATA) {
			uint32_t n = avail < q->rx_left ? avail : q->rx_left;

			if (!n)
				return 0;
			memcpy(q->rx_dst, q->rbuf + q->rhead, n);
			q->rhead += n;
			hq_rx_data_got(q, q->rx_dst, n);
		} else {
			if (avail < NVME_TCP_DIGEST_LEN)
				return 0;
			if (hq_get_le32(q->rbuf + q->rhead) != crc32c_final(q->rx_crc))
				q->rx_req->ddgst_err = true; /* per command, as the Linux host does */
			q->rhead += NVME_TCP_DIGEST_LEN;
			hq_c2h_done(q);
		}
	}
}

int hq_rx_got(struct nvr_queue *q, uint32_t n)
{
	int ret;

	if (q->rx_direct) {
		/* bytes landed in the command's buffer already (crc32c over them in place), the
		 * rest after rtail in rbuf */
		uint32_t d = n < q->rx_left ? n : q->rx_left;

		hq_rx_data_got(q, q->rx_dst, d);
		q->rtail += n - d;
	} else {
		q->rtail += n;
	}
	ret = hq_rx_parse(q);
	if (ret < 0)
		return ret;
	/* what is left is less than one PDU header: keep it at the front */
	if (q->rhead) {
		memmove(q->rbuf, q->rbuf + q->rhead, q->rtail - q->rhead);
		q->rtail -= q->rhead;
		q->rhead = 0;
	}
	return 0;
}

