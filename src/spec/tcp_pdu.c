/* SPDX-License-Identifier: MIT */
#include "tcp_pdu.h"

#include <string.h>

#include "crc32c.h"

uint8_t tcp_pdu_hlen(uint8_t type)
{
	switch (type) {
	case NVME_TCP_ICREQ:
	case NVME_TCP_ICRESP:
		return sizeof(struct nvme_tcp_icreq_pdu);
	case NVME_TCP_H2C_TERM:
	case NVME_TCP_C2H_TERM:
		return sizeof(struct nvme_tcp_term_pdu);
	case NVME_TCP_CMD:
		return sizeof(struct nvme_tcp_cmd_pdu);
	case NVME_TCP_RSP:
		return sizeof(struct nvme_tcp_rsp_pdu);
	case NVME_TCP_H2C_DATA:
	case NVME_TCP_C2H_DATA:
		return sizeof(struct nvme_tcp_data_pdu);
	case NVME_TCP_R2T:
		return sizeof(struct nvme_tcp_r2t_pdu);
	default:
		return 0;
	}
}

static bool pdu_fail(struct tcp_pdu_err *err, uint16_t fes, uint32_t fei)
{
	err->fes = fes;
	err->fei = fei;
	return false;
}

static bool pdu_is_ic(uint8_t type)
{
	return type == NVME_TCP_ICREQ || type == NVME_TCP_ICRESP;
}

static bool pdu_is_term(uint8_t type)
{
	return type == NVME_TCP_H2C_TERM || type == NVME_TCP_C2H_TERM;
}

bool tcp_pdu_check_hdr(const struct tcp_pdu_rx *rx, const struct nvme_tcp_hdr *h, struct tcp_pdu_err *err)
{
	uint8_t hlen = tcp_pdu_hlen(h->type);
	bool with_digests;

	if (!hlen)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_TYPE);
	if (!(rx->accept & TCP_PDU_BIT(h->type)))
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_TYPE); /* the other side's */
	if (rx->connected == pdu_is_ic(h->type) && !pdu_is_term(h->type))
		/* ICReq twice, or a command before ICReq */
		return pdu_fail(err, NVME_TCP_FES_PDU_SEQ_ERR, 0);
	if (h->hlen != hlen)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_HLEN);
	with_digests = rx->connected && !pdu_is_term(h->type);
	if (with_digests && (!!(h->flags & NVME_TCP_F_HDGST) != rx->hdgst || (!rx->ddgst && (h->flags & NVME_TCP_F_DDGST))))
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_FLAGS);
	if (pdu_is_ic(h->type)) {
		if (h->pdo != 0)
			return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PDO);
		if (h->plen != hlen)
			return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PLEN);
		return true;
	}
	if (h->plen < tcp_pdu_hdr_total(hlen, with_digests && rx->hdgst))
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PLEN);
	return true;
}

void tcp_pdu_put_hdgst(void *pdu, uint32_t hlen)
{
	uint32_t d = crc32c(pdu, hlen);

	memcpy((uint8_t *)pdu + hlen, &d, sizeof(d));
}

bool tcp_pdu_hdgst_ok(const void *pdu, uint32_t hlen)
{
	uint32_t want = crc32c(pdu, hlen), got;

	memcpy(&got, (const uint8_t *)pdu + hlen, sizeof(got));
	return want == got;
}

uint32_t tcp_pdu_frame(struct nvme_tcp_hdr *h, uint8_t type, bool hdgst, bool ddgst, uint32_t datalen)
{
	uint32_t total;

	h->type = type;
	h->hlen = tcp_pdu_hlen(type);
	h->flags = hdgst ? NVME_TCP_F_HDGST : 0;
	total = tcp_pdu_hdr_total(h->hlen, hdgst);
	h->pdo = datalen ? (uint8_t)total : 0;
	h->plen = total + datalen;
	if (datalen && ddgst) {
		h->flags |= NVME_TCP_F_DDGST;
		h->plen += NVME_TCP_DIGEST_LEN;
	}
	return total;
}
