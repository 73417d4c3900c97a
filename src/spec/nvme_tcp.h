/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP PDU wire formats (NVMe TCP Transport Specification 1.0).
 * All multi-byte fields are little-endian. libnvme has no PDU structures, so they live here.
 */
#ifndef NVRING_SPEC_NVME_TCP_H
#define NVRING_SPEC_NVME_TCP_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme_cmd.h"

enum nvme_tcp_pdu_type {
	NVME_TCP_ICREQ = 0x00,
	NVME_TCP_ICRESP = 0x01,
	NVME_TCP_H2C_TERM = 0x02,
	NVME_TCP_C2H_TERM = 0x03,
	NVME_TCP_CMD = 0x04,
	NVME_TCP_RSP = 0x05,
	NVME_TCP_H2C_DATA = 0x06,
	NVME_TCP_C2H_DATA = 0x07,
	NVME_TCP_R2T = 0x09,
};

enum nvme_tcp_pdu_flags {
	NVME_TCP_F_HDGST = 1 << 0,
	NVME_TCP_F_DDGST = 1 << 1,
	NVME_TCP_F_DATA_LAST = 1 << 2,
	NVME_TCP_F_DATA_SUCCESS = 1 << 3,
};

/* ICReq/ICResp dgst byte */
enum nvme_tcp_digest_option {
	NVME_TCP_HDR_DIGEST_ENABLE = 1 << 0,
	NVME_TCP_DATA_DIGEST_ENABLE = 1 << 1,
};

enum nvme_tcp_fatal_error_status {
	NVME_TCP_FES_INVALID_PDU_HDR = 0x01,
	NVME_TCP_FES_PDU_SEQ_ERR = 0x02,
	NVME_TCP_FES_HDR_DIGEST_ERR = 0x03,
	NVME_TCP_FES_DATA_OUT_OF_RANGE = 0x04,
	NVME_TCP_FES_DATA_LIMIT_EXCEEDED = 0x05, /* also "R2T limit exceeded" */
	NVME_TCP_FES_UNSUPPORTED_PARAM = 0x06,
};

#define NVME_TCP_PFV_1_0 0
#define NVME_TCP_DIGEST_LEN 4
#define NVME_TCP_MIN_MAXH2CDATA 4096
#define NVME_TCP_TERM_MAX_DATA 128 /* error data: copy of the offending header */
#define NVME_TCP_DISC_PORT 8009
#define NVME_TCP_IO_PORT 4420

struct nvme_tcp_hdr {
	uint8_t type;
	uint8_t flags;
	uint8_t hlen; /* header length, without header digest */
	uint8_t pdo;  /* PDU data offset */
	uint32_t plen; /* total PDU length */
} __attribute__((packed));

struct nvme_tcp_icreq_pdu {
	struct nvme_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t hpda;
	uint8_t digest;
	uint32_t maxr2t; /* 0's based */
	uint8_t rsvd[112];
} __attribute__((packed));

struct nvme_tcp_icresp_pdu {
	struct nvme_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t cpda;
	uint8_t digest;
	uint32_t maxh2cdata;
	uint8_t rsvd[112];
} __attribute__((packed));

/* FEI sits at byte 10 (spec/SPDK layout); Linux's unpacked struct puts it at 12. */
struct nvme_tcp_term_pdu {
	struct nvme_tcp_hdr hdr;
	uint16_t fes;
	uint32_t fei;
	uint8_t rsvd[10];
} __attribute__((packed));

struct nvme_tcp_cmd_pdu {
	struct nvme_tcp_hdr hdr;
	struct nvme_sqe cmd;
} __attribute__((packed));

struct nvme_tcp_rsp_pdu {
	struct nvme_tcp_hdr hdr;
	struct nvme_cqe cqe;
} __attribute__((packed));

/* H2CData and C2HData */
struct nvme_tcp_data_pdu {
	struct nvme_tcp_hdr hdr;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t datao;
	uint32_t datal;
	uint8_t rsvd[4];
} __attribute__((packed));

struct nvme_tcp_r2t_pdu {
	struct nvme_tcp_hdr hdr;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t r2to;
	uint32_t r2tl;
	uint8_t rsvd[4];
} __attribute__((packed));

static_assert(sizeof(struct nvme_tcp_hdr) == 8, "common header");
static_assert(offsetof(struct nvme_tcp_hdr, plen) == 4, "plen");
static_assert(sizeof(struct nvme_tcp_icreq_pdu) == 128, "icreq");
static_assert(offsetof(struct nvme_tcp_icreq_pdu, pfv) == 8, "icreq pfv");
static_assert(offsetof(struct nvme_tcp_icreq_pdu, hpda) == 10, "icreq hpda");
static_assert(offsetof(struct nvme_tcp_icreq_pdu, digest) == 11, "icreq dgst");
static_assert(offsetof(struct nvme_tcp_icreq_pdu, maxr2t) == 12, "icreq maxr2t");
static_assert(sizeof(struct nvme_tcp_icresp_pdu) == 128, "icresp");
static_assert(offsetof(struct nvme_tcp_icresp_pdu, cpda) == 10, "icresp cpda");
static_assert(offsetof(struct nvme_tcp_icresp_pdu, maxh2cdata) == 12, "icresp maxh2cdata");
static_assert(sizeof(struct nvme_tcp_term_pdu) == 24, "term");
static_assert(offsetof(struct nvme_tcp_term_pdu, fes) == 8, "term fes");
static_assert(offsetof(struct nvme_tcp_term_pdu, fei) == 10, "term fei");
static_assert(sizeof(struct nvme_tcp_cmd_pdu) == 72, "capsule cmd");
static_assert(sizeof(struct nvme_tcp_rsp_pdu) == 24, "capsule resp");
static_assert(sizeof(struct nvme_tcp_data_pdu) == 24, "data pdu");
static_assert(offsetof(struct nvme_tcp_data_pdu, cccid) == 8, "data cccid");
static_assert(offsetof(struct nvme_tcp_data_pdu, ttag) == 10, "data ttag");
static_assert(offsetof(struct nvme_tcp_data_pdu, datao) == 12, "data datao");
static_assert(offsetof(struct nvme_tcp_data_pdu, datal) == 16, "data datal");
static_assert(sizeof(struct nvme_tcp_r2t_pdu) == 24, "r2t");
static_assert(offsetof(struct nvme_tcp_r2t_pdu, r2tl) == 16, "r2t r2tl");

/* Byte offsets of header fields, used as FEI in a C2HTermReq (FES 0x01). */
#define NVME_TCP_FEI_TYPE 0
#define NVME_TCP_FEI_FLAGS 1
#define NVME_TCP_FEI_HLEN 2
#define NVME_TCP_FEI_PDO 3
#define NVME_TCP_FEI_PLEN 4

#endif
