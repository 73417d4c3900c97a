/* SPDX-License-Identifier: MIT */
/*
 * NVMe Key Value Command Set (CSI 1) and the Samsung KV-SSD / NVMeVirt vendor opcodes.
 * libnvme 1.3 has only the opcode enum; the command fields and identify layout live here.
 */
#ifndef NVRING_SPEC_NVME_KV_H
#define NVRING_SPEC_NVME_KV_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define NVME_CSI_NVM_ID 0x00
#define NVME_CSI_KV_ID 0x01

enum nvme_kv_opc {
	NVME_KV_OPC_FLUSH = 0x00,
	NVME_KV_OPC_STORE = 0x01,
	NVME_KV_OPC_RETRIEVE = 0x02,
	NVME_KV_OPC_LIST = 0x06,
	NVME_KV_OPC_DELETE = 0x10,
	NVME_KV_OPC_EXIST = 0x14,
};

/* Samsung KV-SSD / NVMeVirt vendor opcodes: direction does not follow opcode bits 1:0. */
enum nvme_kv_vendor_opc {
	KVSSD_OPC_STORE = 0x81,
	KVSSD_OPC_APPEND = 0x83,
	KVSSD_OPC_BATCH = 0x85,
	KVSSD_OPC_RETRIEVE = 0x90,
	KVSSD_OPC_DELETE = 0xA1,
	KVSSD_OPC_ITER_REQ = 0xB1,
	KVSSD_OPC_ITER_READ = 0xB2,
	KVSSD_OPC_EXIST = 0xB3,
};

/* Data direction of a vendor KV opcode, in the NVMe bits-1:0 encoding (0 none, 1 host to
 * controller, 2 controller to host); -1 for an opcode outside the vendor KV set. The table is
 * needed because these opcodes do not follow that encoding (retrieve 0x90 reads with 00b). */
static inline int kvssd_opcode_dir(uint8_t opcode)
{
	switch (opcode) {
	case KVSSD_OPC_STORE:
	case KVSSD_OPC_APPEND:
	case KVSSD_OPC_BATCH:
		return 1;
	case KVSSD_OPC_RETRIEVE:
	case KVSSD_OPC_ITER_READ:
		return 2;
	case KVSSD_OPC_DELETE:
	case KVSSD_OPC_ITER_REQ:
	case KVSSD_OPC_EXIST:
		return 0;
	default:
		return -1;
	}
}

/* Vendor iterator request (0xB1) options, CDW11 bits 15:8 */
#define KVSSD_ITER_OPEN 0x01
#define KVSSD_ITER_CLOSE 0x02
#define KVSSD_ITER_HANDLES 16 /* handles 1..16, returned in DW0 by an open */

/* Vendor device statuses ((SCT << 8) | SC as KV-SSDs and NVMeVirt report them) */
#define KVSSD_SC_KEY_NOT_EXIST 0x310
#define KVSSD_SC_CAPACITY 0x312
#define KVSSD_SC_ITER_NO_HANDLE 0x391
#define KVSSD_SC_ITER_EOF 0x393

#define NVME_KV_KEY_MIN 1
#define NVME_KV_KEY_MAX 16

/* Store options, CDW11 bits 15:8 */
#define NVME_KV_STORE_OPT_MUST_EXIST 0x01     /* else 0x87 */
#define NVME_KV_STORE_OPT_MUST_NOT_EXIST 0x02 /* else 0x89 */

/* Command-set-specific statuses (SCT 0) */
enum nvme_kv_status {
	NVME_SC_KV_CAPACITY_EXCEEDED = 0x81,
	NVME_SC_KV_NS_NOT_READY = 0x82,
	NVME_SC_KV_INVALID_VALUE_SIZE = 0x85,
	NVME_SC_KV_INVALID_KEY_SIZE = 0x86,
	NVME_SC_KV_KEY_NOT_EXIST = 0x87,
	NVME_SC_KV_UNRECOVERED = 0x88,
	NVME_SC_KV_KEY_EXISTS = 0x89,
};

struct nvme_kv_format {
	uint16_t kvkml; /* max key length */
	uint8_t rsvd2;
	uint8_t afo;
	uint32_t kvvml; /* max value length */
	uint32_t mnks;  /* max number of keys, 0 = not reported */
	uint8_t rsvd12[4];
} __attribute__((packed));

struct nvme_kv_id_ns {
	uint64_t nsze; /* bytes */
	uint8_t rsvd8[8];
	uint64_t nuse; /* bytes */
	uint8_t nsfeat;
	uint8_t nkvf; /* 0's based */
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t kvfc;
	uint8_t rsvd30[2];
	uint32_t novg;
	uint32_t anagrpid;
	uint8_t rsvd40[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct nvme_kv_format kvf[16];
	uint8_t rsvd328[3512];
	uint8_t vs[256];
} __attribute__((packed));

static_assert(sizeof(struct nvme_kv_format) == 16, "kv format");
static_assert(sizeof(struct nvme_kv_id_ns) == 4096, "kv id ns");
static_assert(offsetof(struct nvme_kv_id_ns, nuse) == 16, "kv nuse");
static_assert(offsetof(struct nvme_kv_id_ns, novg) == 32, "kv novg");
static_assert(offsetof(struct nvme_kv_id_ns, nguid) == 48, "kv nguid");
static_assert(offsetof(struct nvme_kv_id_ns, kvf) == 72, "kv kvf");
static_assert(offsetof(struct nvme_kv_id_ns, vs) == 3840, "kv vs");

#endif
