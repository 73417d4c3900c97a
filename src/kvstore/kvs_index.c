/* SPDX-License-Identifier: MIT */
/* The in-memory index (see kvs_index.h). */
#include "kvs_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KVS_STRIPE_BUCKETS0 16u

int kvs_idx_init(struct kvs_index *idx)
{
	idx->stripes = aligned_alloc(64, KVS_IDX_STRIPES * sizeof(*idx->stripes));
	if (!idx->stripes)
		return -ENOMEM;
	memset(idx->stripes, 0, KVS_IDX_STRIPES * sizeof(*idx->stripes));
	for (unsigned i = 0; i < KVS_IDX_STRIPES; i++) {
		struct kvs_stripe *st = &idx->stripes[i];

		st->buckets = calloc(KVS_STRIPE_BUCKETS0, sizeof(*st->buckets));
		if (!st->buckets) {
			while (i--)
				free(idx->stripes[i].buckets);
			free(idx->stripes);
			idx->stripes = NULL;
			return -ENOMEM;
		}
		st->mask = KVS_STRIPE_BUCKETS0 - 1;
		pthread_mutex_init(&st->lock, NULL);
	}
	atomic_init(&idx->keys, 0);
	return 0;
}

void kvs_idx_fini(struct kvs_index *idx)
{
	if (!idx->stripes)
		return;
	for (unsigned i = 0; i < KVS_IDX_STRIPES; i++) {
		struct kvs_stripe *st = &idx->stripes[i];

		for (uint32_t b = 0; b <= st->mask; b++) {
			struct kvs_ent *e = st->buckets[b];

			while (e) {
				struct kvs_ent *next = e->next;

				free(e);
				e = next;
			}
		}
		free(st->buckets);
		pthread_mutex_destroy(&st->lock);
	}
	free(idx->stripes);
	idx->stripes = NULL;
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

/* Bits 8.. pick the bucket inside a stripe (bits 0..7 picked the stripe). */
static inline uint32_t kvs_bucket_of(uint64_t h, uint32_t mask)
{
	return (uint32_t)(h >> 8) & mask;
}

struct kvs_ent *kvs_idx_find(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen)
{
	struct kvs_stripe *st = &idx->stripes[h & (KVS_IDX_STRIPES - 1)];
	for (struct kvs_ent *e = st->buckets[kvs_bucket_of(h, st->mask)]; e; e = e->next)
		if (e->hash == h && e->klen == klen && !memcmp(e->key, key, klen))
			return e;
	return NULL;
}

/* Double the stripe's buckets (its lock held). Entries keep their addresses. */
static void kvs_stripe_grow(struct kvs_stripe *st)
{
	uint32_t nmask = st->mask * 2 + 1;
	struct kvs_ent **nb;

	if (nmask > (1u << 26) - 1)
		return;
	nb = calloc((size_t)nmask + 1, sizeof(*nb));
	if (!nb)
		return; /* longer chains, still correct */
	for (uint32_t b = 0; b <= st->mask; b++) {
		struct kvs_ent *e = st->buckets[b], *next;

		for (; e; e = next) {
			uint32_t nbk = kvs_bucket_of(e->hash, nmask);

			next = e->next;
			e->next = nb[nbk];
			nb[nbk] = e;
		}
	}
	free(st->buckets);
	st->buckets = nb;
	st->mask = nmask;
}

struct kvs_ent *kvs_idx_add(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen)
{
	struct kvs_stripe *st = &idx->stripes[h & (KVS_IDX_STRIPES - 1)];
	/* One allocation per new key (not per operation), a cache line of its own. */
	struct kvs_ent *e = aligned_alloc(64, 64);
	struct kvs_ent **b;

	static_assert(sizeof(struct kvs_ent) <= 64, "an entry is one cache line");
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	if (st->count >= st->mask + 1)
		kvs_stripe_grow(st);
	e->hash = h;
	e->seg = KVS_SEG_NONE;
	e->klen = (uint8_t)klen;
	memcpy(e->key, key, klen);
	b = &st->buckets[kvs_bucket_of(h, st->mask)];
	e->next = *b;
	*b = e;
	st->count++;
	return e;
}

void kvs_idx_del(struct kvs_index *idx, uint64_t h, struct kvs_ent *e)
{
	struct kvs_stripe *st = &idx->stripes[h & (KVS_IDX_STRIPES - 1)];
	struct kvs_ent **p = &st->buckets[kvs_bucket_of(h, st->mask)];

	while (*p && *p != e)
		p = &(*p)->next;
	if (*p) {
		*p = e->next;
		st->count--;
	}
	free(e);
}
