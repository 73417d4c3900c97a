/* SPDX-License-Identifier: MIT */
/*
 * The in-memory index: key -> committed record location, with lock stripes. Callers hold a
 * stripe lock (kvs_idx_lock) around find/add/del and never across I/O.
 */
#ifndef NVRING_KVSTORE_KVS_INDEX_H
#define NVRING_KVSTORE_KVS_INDEX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvs_seg.h"
#include "kvstore.h"

#define KVS_IDX_LOCKS 256u  /* lock stripes over the hash buckets */

struct kvs_ent {
	struct kvs_ent *next;
	uint64_t seq;       /* seq of the committed record (0 = none yet) */
	uint32_t seg;       /* committed record location, KVS_SEG_NONE if none */
	uint32_t off;
	uint32_t vlen;
	uint16_t pending;   /* stores/deletes submitted, not yet committed */
	uint8_t klen;
	uint8_t tomb;       /* committed record is a tombstone */
	uint8_t lpresent;   /* present once all pending ops apply (for store options) */
	uint8_t key[KVS_KEY_MAX];
};

struct kvs_index {
	struct kvs_ent **buckets;
	uint64_t mask;
	pthread_mutex_t locks[KVS_IDX_LOCKS];
	atomic_uint_fast64_t keys; /* live (non-tombstone, committed) keys */
};

int kvs_idx_init(struct kvs_index *idx, uint64_t nbuckets);
void kvs_idx_fini(struct kvs_index *idx);
uint64_t kvs_idx_hash(const uint8_t *key, unsigned klen);
pthread_mutex_t *kvs_idx_lock(struct kvs_index *idx, uint64_t h);
/* The caller holds kvs_idx_lock(h). */
struct kvs_ent *kvs_idx_find(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen);
struct kvs_ent *kvs_idx_add(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen);
void kvs_idx_del(struct kvs_index *idx, uint64_t h, struct kvs_ent *e);
/* Committed, non-deleted key. */
static inline bool kvs_ent_live(const struct kvs_ent *e)
{
	return e->seg != KVS_SEG_NONE && !e->tomb;
}

#endif
