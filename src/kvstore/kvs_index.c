/* SPDX-License-Identifier: MIT */
/*
 * The in-memory index: key -> committed record location. A chained hash table with a fixed
 * bucket array (sized from the capacity at open, so no rehash under concurrency) and lock
 * stripes; callers hold the stripe lock only for the lookup/update itself, never across I/O.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvs_index.h"

int kvs_idx_init(struct kvs_index *idx, uint64_t nbuckets)
{
	uint64_t n = 1;

	while (n < nbuckets)
		n <<= 1;
	idx->buckets = calloc(n, sizeof(*idx->buckets));
	if (!idx->buckets)
		return -ENOMEM;
	idx->mask = n - 1;
	for (unsigned i = 0; i < KVS_IDX_LOCKS; i++)
		pthread_mutex_init(&idx->locks[i], NULL);
	atomic_init(&idx->keys, 0);
	return 0;
}

void kvs_idx_fini(struct kvs_index *idx)
{
	if (!idx->buckets)
		return;
	for (uint64_t b = 0; b <= idx->mask; b++) {
		struct kvs_ent *e = idx->buckets[b];

		while (e) {
			struct kvs_ent *next = e->next;

			free(e);
			e = next;
		}
	}
	free(idx->buckets);
	idx->buckets = NULL;
	for (unsigned i = 0; i < KVS_IDX_LOCKS; i++)
		pthread_mutex_destroy(&idx->locks[i]);
}

static inline uint64_t kvs_mix(uint64_t x)
{
	/* splitmix64 finalizer: cheap and spreads short keys across all bits */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint64_t kvs_idx_hash(const uint8_t *key, unsigned klen)
{
	uint64_t w[2] = { 0, 0 };

	memcpy(w, key, klen);
	return kvs_mix(w[0] ^ kvs_mix(w[1] ^ ((uint64_t)klen << 56)));
}

pthread_mutex_t *kvs_idx_lock(struct kvs_index *idx, uint64_t h)
{
	/* Stripe by bucket so one stripe lock covers whole chains. */
	return &idx->locks[(h & idx->mask) & (KVS_IDX_LOCKS - 1)];
}

struct kvs_ent *kvs_idx_find(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen)
{
	for (struct kvs_ent *e = idx->buckets[h & idx->mask]; e; e = e->next)
		if (e->klen == klen && !memcmp(e->key, key, klen))
			return e;
	return NULL;
}

struct kvs_ent *kvs_idx_add(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen)
{
	/* One allocation per new key (not per operation); overwrites reuse the entry. */
	struct kvs_ent *e = calloc(1, sizeof(*e));
	struct kvs_ent **b = &idx->buckets[h & idx->mask];

	if (!e)
		return NULL;
	e->seg = KVS_SEG_NONE;
	e->klen = (uint8_t)klen;
	memcpy(e->key, key, klen);
	e->next = *b;
	*b = e;
	return e;
}

void kvs_idx_del(struct kvs_index *idx, uint64_t h, struct kvs_ent *e)
{
	struct kvs_ent **p = &idx->buckets[h & idx->mask];

	while (*p && *p != e)
		p = &(*p)->next;
	if (*p)
		*p = e->next;
	free(e);
}
