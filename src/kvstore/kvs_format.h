/* SPDX-License-Identifier: MIT */
/* On-disk layout of the KV log (described in FORMAT.md). All integers little-endian. */
#ifndef NVRING_KVSTORE_KVS_FORMAT_H
#define NVRING_KVSTORE_KVS_FORMAT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "kvstore.h"

#define KVS_SB_MAGIC 0x3142535356524b4eull  /* "NKRVSSB1" */
#define KVS_SEG_MAGIC 0x3147455356524b4eull /* "NKRVSEG1" */
#define KVS_REC_MAGIC 0x3152564bu           /* "KVR1" */
#define KVS_VERSION 1

#define KVS_SB_LEN 4096u     /* superblock area; segments start after it */
#define KVS_SEG_HDR_LEN 64u  /* records start at this offset in a segment */
#define KVS_REC_ALIGN 8u

#define KVS_REC_TOMBSTONE 0x01

struct kvs_sb {
	uint64_t magic;
	uint32_t version;
	uint32_t crc;        /* CRC32C of the 128 bytes with this field 0 */
	uint64_t capacity;   /* bytes of the file/device in use */
	uint64_t seg_base;   /* byte offset of segment 0 */
	uint32_t seg_size;
	uint32_t nsegs;
	uint64_t seq_floor;  /* every seq and epoch ever written is below it (0: none recorded) */
	uint8_t rsvd[80];
} __attribute__((packed));

struct kvs_seg_hdr {
	uint64_t magic;
	uint32_t crc;        /* CRC32C of the 64 bytes with this field 0 */
	uint32_t index;      /* segment number, guards against misplaced data */
	uint64_t epoch;      /* sequence number taken when the segment was opened */
	uint8_t rsvd[40];
} __attribute__((packed));

struct kvs_rec_hdr {
	uint32_t magic;
	uint32_t hdr_crc;    /* CRC32C of the 40 header bytes with this field 0 */
	uint64_t seq;        /* global order of writes; GC copies keep it */
	uint64_t epoch;      /* epoch of the segment the record sits in */
	uint32_t value_len;
	uint32_t data_crc;   /* CRC32C of key bytes then value bytes */
	uint8_t key_len;
	uint8_t flags;       /* KVS_REC_TOMBSTONE */
	uint8_t rsvd[6];
} __attribute__((packed));

static_assert(sizeof(struct kvs_sb) == 128, "sb");
static_assert(offsetof(struct kvs_sb, seq_floor) == 40, "sb seq_floor");
static_assert(sizeof(struct kvs_seg_hdr) == KVS_SEG_HDR_LEN, "seg hdr");
static_assert(sizeof(struct kvs_rec_hdr) == KVS_REC_HDR_LEN, "rec hdr");
static_assert(offsetof(struct kvs_rec_hdr, value_len) == 24, "rec vlen");
static_assert(offsetof(struct kvs_rec_hdr, key_len) == 32, "rec klen");

/* Bytes of log a record takes: header, key, value, padding to 8. */
static inline uint32_t kvs_rec_len(uint32_t klen, uint32_t vlen)
{
	return (KVS_REC_HDR_LEN + klen + vlen + KVS_REC_ALIGN - 1) & ~(KVS_REC_ALIGN - 1);
}

#endif
