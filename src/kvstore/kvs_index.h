/* SPDX-License-Identifier: MIT */
/*
 * The in-memory index: key -> committed record location. 256 stripes, each a lock (on its own
 * cache line) and an open-addressing table of its own (linear probing, entries in place, one
 * cache line each) that doubles past half full: a lookup is one miss, where a chained table
 * is two (bucket, then entry). Callers hold a stripe lock (kvs_idx_lock) around find/add/del
 * and never across I/O; an entry pointer is good until the next add or del in its stripe
 * (both move entries).
 */
#ifndef NVRING_KVSTORE_KVS_INDEX_H
#define NVRING_KVSTORE_KVS_INDEX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvs_seg.h"
#include "kvstore.h"

#define KVS_IDX_STRIPES 256u

#define KVS_ENT_TOMB 0x01     /* the committed record is a tombstone */
#define KVS_ENT_LPRESENT 0x02 /* present once all pending ops apply (for store options) */

struct kvs_ent {
	uint64_t hash;      /* most mismatches fail before the key compare; rehash without keys */
	uint64_t seq;       /* seq of the committed record (0 = none yet) */
	uint32_t seg;       /* committed record location, KVS_SEG_NONE if none */
	uint32_t off;
	uint32_t vlen;
	uint16_t pending;   /* stores/deletes submitted, not yet committed */
	uint8_t klen;       /* 0: a free slot */
	uint8_t flags;      /* KVS_ENT_* */
	uint8_t key[KVS_KEY_MAX];
};

struct kvs_stripe {
	pthread_mutex_t lock;
	struct kvs_ent *slots;
	uint32_t mask;
	uint32_t count;
} __attribute__((aligned(64)));

struct kvs_index {
	struct kvs_stripe *stripes;
	atomic_uint_fast64_t keys; /* live (non-tombstone, committed) keys */
};

int kvs_idx_init(struct kvs_index *idx);
void kvs_idx_fini(struct kvs_index *idx);
uint64_t kvs_idx_hash(const uint8_t *key, unsigned klen);
static inline pthread_mutex_t *kvs_idx_lock(struct kvs_index *idx, uint64_t h)
{
	return &idx->stripes[h & (KVS_IDX_STRIPES - 1)].lock;
}
/* The caller holds kvs_idx_lock(h). */
struct kvs_ent *kvs_idx_find(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen);
/* A new entry for a key not in the index; NULL when out of memory. */
struct kvs_ent *kvs_idx_add(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen);
void kvs_idx_del(struct kvs_index *idx, uint64_t h, struct kvs_ent *e);
/* Every entry of stripe st (its lock held by the caller, no add or del inside); an empty
 * stripe is not scanned, so List and recovery of a small store skip most of the table. */
#define kvs_idx_foreach(idx, st, e)                                                       \
	for (struct kvs_ent *e = (idx)->stripes[st].count                                   \
					 ? (idx)->stripes[st].slots                         \
					 : (idx)->stripes[st].slots + (idx)->stripes[st].mask + 1; \
	     e <= &(idx)->stripes[st].slots[(idx)->stripes[st].mask]; e++)                  \
		if (e->klen)

static inline bool kvs_ent_tomb(const struct kvs_ent *e)
{
	return e->flags & KVS_ENT_TOMB;
}
static inline bool kvs_ent_lpresent(const struct kvs_ent *e)
{
	return e->flags & KVS_ENT_LPRESENT;
}
static inline void kvs_ent_set(struct kvs_ent *e, uint8_t flag, bool on)
{
	e->flags = on ? (uint8_t)(e->flags | flag) : (uint8_t)(e->flags & ~flag);
}
/* Committed, non-deleted key. */
static inline bool kvs_ent_live(const struct kvs_ent *e)
{
	return e->seg != KVS_SEG_NONE && !kvs_ent_tomb(e);
}
/* Bytes of log the committed record takes. */
static inline uint32_t kvs_ent_rec_len(const struct kvs_ent *e)
{
	return (40u + e->klen + (kvs_ent_tomb(e) ? 0 : e->vlen) + 7u) & ~7u;
}

#endif
