/* SPDX-License-Identifier: MIT */
/*
 * The NVMe/TCP PDU codec shared by the host (libnvring) and the target (nvringd): header
 * lengths per type, digest placement, PDU framing, and the common-header checks with the
 * FES/FEI a C2HTermReq or H2CTermReq reports (NVMe/TCP transport spec 1.0, 3.6 and 7.4).
 * The test oracles (tests/system/tclient, tests/host/fake_target) stay independent on purpose.
 */
#ifndef NVRING_SPEC_TCP_PDU_H
#define NVRING_SPEC_TCP_PDU_H

#include <stdbool.h>
#include <stdint.h>

#include "nvme_tcp.h"

#define TCP_PDU_BIT(type) (1u << (type))
/* What each side may receive. */
#define TCP_PDU_TO_TARGET (TCP_PDU_BIT(NVME_TCP_ICREQ) | TCP_PDU_BIT(NVME_TCP_H2C_TERM) | \
			   TCP_PDU_BIT(NVME_TCP_CMD) | TCP_PDU_BIT(NVME_TCP_H2C_DATA))
#define TCP_PDU_TO_HOST (TCP_PDU_BIT(NVME_TCP_ICRESP) | TCP_PDU_BIT(NVME_TCP_C2H_TERM) | \
			 TCP_PDU_BIT(NVME_TCP_RSP) | TCP_PDU_BIT(NVME_TCP_C2H_DATA) | TCP_PDU_BIT(NVME_TCP_R2T))

/* A fatal transport error as the TermReq reports it. */
struct tcp_pdu_err {
	uint16_t fes;
	uint32_t fei;
};

/* The receiving side's state for the header check. */
struct tcp_pdu_rx {
	uint32_t accept;     /* TCP_PDU_BIT of the types this side takes (TCP_PDU_TO_*) */
	bool connected;      /* ICReq/ICResp exchanged */
	bool hdgst, ddgst;   /* negotiated */
};

/* The fixed header length (hlen) of a PDU type; 0 for a type that does not exist. */
uint8_t tcp_pdu_hlen(uint8_t type);
/* Header plus header digest. */
static inline uint32_t tcp_pdu_hdr_total(uint8_t hlen, bool hdgst)
{
	return hlen + (hdgst ? NVME_TCP_DIGEST_LEN : 0u);
}

/*
 * Check a received common header (the 8 bytes are there): the type (unknown or the other
 * side's: invalid header at FEI 0; ICReq/ICResp again, or anything else before it: PDU
 * sequence error), hlen for the type, digest flags against
 * what was negotiated, pdo and plen against the header. true if fine, else *err is set.
 * Payload-specific checks (pdo of data PDUs, datal, ttag...) stay with the caller.
 */
bool tcp_pdu_check_hdr(const struct tcp_pdu_rx *rx, const struct nvme_tcp_hdr *h, struct tcp_pdu_err *err);

/* The header digest of a header of hlen bytes: write it after the header / check it. */
void tcp_pdu_put_hdgst(void *pdu, uint32_t hlen);
bool tcp_pdu_hdgst_ok(const void *pdu, uint32_t hlen);

/*
 * Fill a PDU's common header for sending: type, hlen, flags with HDGST/DDGST as negotiated
 * (DDGST only when there is data), pdo (0 without data) and plen. Returns the header length
 * including its digest, i.e. the bytes of header to send before the data.
 */
uint32_t tcp_pdu_frame(struct nvme_tcp_hdr *h, uint8_t type, bool hdgst, bool ddgst, uint32_t datalen);

#endif
