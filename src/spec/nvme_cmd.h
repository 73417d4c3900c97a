/* SPDX-License-Identifier: MIT */
/*
 * The 64-byte submission queue entry and 16-byte completion queue entry as they travel
 * in capsules, plus the SGL descriptor and fabrics command fields libnvme has no wire
 * structure for. Identify/log/connect-data structures come from libnvme's <nvme/types.h>.
 */
#ifndef NVRING_SPEC_NVME_CMD_H
#define NVRING_SPEC_NVME_CMD_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

struct nvme_sgl_desc {
	uint64_t addr;
	uint32_t length;
	uint8_t rsvd[3];
	uint8_t type; /* (descriptor type << 4) | subtype */
} __attribute__((packed));

/* SGL type bytes used by NVMe/TCP hosts */
#define NVME_SGL_TYPE_ICD 0x01      /* data block, offset address: in-capsule data */
#define NVME_SGL_TYPE_TRANSPORT 0x5A /* transport data block: data by R2T/C2HData */
#define NVME_CMD_PSDT_SGL 0x40      /* flags bits 7:6 = 01b */
#define NVME_CMD_FUSE_MASK 0x03

struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	struct nvme_sgl_desc sgl; /* DPTR, CDW6-9 */
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
} __attribute__((packed));

struct nvme_cqe {
	uint32_t dw0;
	uint32_t dw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status; /* bit 0 phase (always 0 on fabrics), bits 15:1 status field */
} __attribute__((packed));

static_assert(sizeof(struct nvme_sgl_desc) == 16, "sgl");
static_assert(sizeof(struct nvme_sqe) == 64, "sqe");
static_assert(offsetof(struct nvme_sqe, sgl) == 24, "sqe dptr");
static_assert(offsetof(struct nvme_sqe, cdw10) == 40, "sqe cdw10");
static_assert(sizeof(struct nvme_cqe) == 16, "cqe");
static_assert(offsetof(struct nvme_cqe, status) == 14, "cqe status");

/* Fabrics command (opcode 0x7F) fields inside the SQE */
#define NVME_FABRICS_OPCODE 0x7f
struct nvmf_common_sqe {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[19];
	struct nvme_sgl_desc sgl;
	uint8_t spec[24];
} __attribute__((packed));

struct nvmf_connect_sqe {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[19];
	struct nvme_sgl_desc sgl;
	uint16_t recfmt;
	uint16_t qid;
	uint16_t sqsize;
	uint8_t cattr;
	uint8_t rsvd47;
	uint32_t kato;
	uint8_t rsvd52[12];
} __attribute__((packed));

struct nvmf_property_sqe {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	uint8_t attrib; /* bits 2:0: 0 = 4 bytes, 1 = 8 bytes */
	uint8_t rsvd41[3];
	uint32_t offset;
	uint64_t value;
	uint8_t rsvd56[8];
} __attribute__((packed));

static_assert(sizeof(struct nvmf_common_sqe) == 64, "fabrics sqe");
static_assert(sizeof(struct nvmf_connect_sqe) == 64, "connect sqe");
static_assert(offsetof(struct nvmf_connect_sqe, recfmt) == 40, "connect recfmt");
static_assert(offsetof(struct nvmf_connect_sqe, qid) == 42, "connect qid");
static_assert(offsetof(struct nvmf_connect_sqe, sqsize) == 44, "connect sqsize");
static_assert(offsetof(struct nvmf_connect_sqe, cattr) == 46, "connect cattr");
static_assert(offsetof(struct nvmf_connect_sqe, kato) == 48, "connect kato");
static_assert(sizeof(struct nvmf_property_sqe) == 64, "property sqe");
static_assert(offsetof(struct nvmf_property_sqe, attrib) == 40, "property attrib");
static_assert(offsetof(struct nvmf_property_sqe, offset) == 44, "property offset");
static_assert(offsetof(struct nvmf_property_sqe, value) == 48, "property value");

#define NVMF_CONNECT_DISABLE_SQFLOW (1 << 2)
#define NVMF_CONNECT_DATA_LEN 1024
/* Connect Invalid Parameters: CQE DW0 = IATTR (bit 16: 1 = in the data) | IPO (bits 15:0, byte offset) */
#define NVMF_IPO_IATTR_DATA(off) ((1u << 16) | (uint32_t)(off))
#define NVMF_IPO_IATTR_SQE(off) ((uint32_t)(off))

/* Status field helpers: status is (SCT << 8) | SC, DNR 0x4000, More 0x2000 (libnvme encoding). */
#define NVME_STATUS(sct, sc) ((uint16_t)(((sct) << 8) | (sc)))
#define NVME_STATUS_DNR 0x4000
#define NVME_STATUS_MORE 0x2000
/* CQE status field on the wire: bits 15:1 = status, with SC at 8:1, SCT at 11:9, More 13, DNR 14 */
static inline uint16_t nvme_status_to_wire(uint16_t st)
{
	uint16_t sc = st & 0xff, sct = (st >> 8) & 0x7;
	uint16_t wire = (uint16_t)((sc << 1) | (sct << 9));

	if (st & NVME_STATUS_MORE)
		wire |= 1u << 14;
	if (st & NVME_STATUS_DNR)
		wire |= 1u << 15;
	return wire;
}

static inline uint16_t nvme_status_from_wire(uint16_t wire)
{
	uint16_t st = (uint16_t)(((wire >> 1) & 0xff) | (((wire >> 9) & 0x7) << 8));

	if (wire & (1u << 14))
		st |= NVME_STATUS_MORE;
	if (wire & (1u << 15))
		st |= NVME_STATUS_DNR;
	return st;
}

#endif
