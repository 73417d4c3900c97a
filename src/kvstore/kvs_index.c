/* SPDX-License-Identifier: MIT */
/* The in-memory index (see kvs_index.h). */
#include "kvs_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KVS_STRIPE_SLOTS0 16u

static_assert(sizeof(struct kvs_ent) <= 64, "an entry is one cache line");

static struct kvs_ent *kvs_slots_alloc(uint32_t n)
{
	struct kvs_ent *s = aligned_alloc(64, (size_t)n * 64);

	if (s)
		memset(s, 0, (size_t)n * 64);
	return s;
}

int kvs_idx_init(struct kvs_index *idx)
{
	idx->stripes = aligned_alloc(64, KVS_IDX_STRIPES * sizeof(*idx->stripes));
	if (!idx->stripes)
		return -ENOMEM;
	memset(idx->stripes, 0, KVS_IDX_STRIPES * sizeof(*idx->stripes));
	for (unsigned i = 0; i < KVS_IDX_STRIPES; i++) {
		struct kvs_stripe *st = &idx->stripes[i];

		st->slots = kvs_slots_alloc(KVS_STRIPE_SLOTS0);
		if (!st->slots) {
			while (i--)
				free(idx->stripes[i].slots);
			free(idx->stripes);
			idx->stripes = NULL;
			return -ENOMEM;
		}
		st->mask = KVS_STRIPE_SLOTS0 - 1;
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
		free(idx->stripes[i].slots);
		pthread_mutex_destroy(&idx->stripes[i].lock);
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

static inline struct kvs_stripe *kvs_stripe_of(struct kvs_index *idx, uint64_t h)
{
	return &idx->stripes[h & (KVS_IDX_STRIPES - 1)];
}

/* Bits 8.. pick the home slot inside a stripe (bits 0..7 picked the stripe). */
static inline uint32_t kvs_home(uint64_t h, uint32_t mask)
{
	return (uint32_t)(h >> 8) & mask;
}

struct kvs_ent *kvs_idx_find(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen)
{
	struct kvs_stripe *st = kvs_stripe_of(idx, h);

	for (uint32_t i = kvs_home(h, st->mask);; i = (i + 1) & st->mask) {
		struct kvs_ent *e = &st->slots[i];

		if (!e->klen)
			return NULL;
		if (e->hash == h && e->klen == klen && !memcmp(e->key, key, klen))
			return e;
	}
}

/* Double the stripe's table (its lock held). */
static int kvs_stripe_grow(struct kvs_stripe *st)
{
	uint32_t nmask = st->mask * 2 + 1;
	struct kvs_ent *ns;

	if (nmask > (1u << 24) - 1 || !(ns = kvs_slots_alloc(nmask + 1)))
		return -ENOMEM;
	for (uint32_t i = 0; i <= st->mask; i++) {
		const struct kvs_ent *e = &st->slots[i];
		uint32_t j;

		if (!e->klen)
			continue;
		for (j = kvs_home(e->hash, nmask); ns[j].klen; j = (j + 1) & nmask)
			;
		ns[j] = *e;
	}
	free(st->slots);
	st->slots = ns;
	st->mask = nmask;
	return 0;
}

struct kvs_ent *kvs_idx_add(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen)
{
	struct kvs_stripe *st = kvs_stripe_of(idx, h);
	struct kvs_ent *e;
	uint32_t i;

	/* at most half full: probes stay short, and there is always a free slot */
	if ((st->count + 1) * 2 > st->mask + 1 && kvs_stripe_grow(st) && st->count + 1 > st->mask)
		return NULL;
	for (i = kvs_home(h, st->mask); st->slots[i].klen; i = (i + 1) & st->mask)
		;
	e = &st->slots[i];
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->seg = KVS_SEG_NONE;
	e->klen = (uint8_t)klen;
	memcpy(e->key, key, klen);
	st->count++;
	return e;
}

/* Linear probing without tombstones: entries after the hole that could live in it move back. */
void kvs_idx_del(struct kvs_index *idx, uint64_t h, struct kvs_ent *e)
{
	struct kvs_stripe *st = kvs_stripe_of(idx, h);
	uint32_t hole = (uint32_t)(e - st->slots), i = hole;

	for (;;) {
		uint32_t home;

		i = (i + 1) & st->mask;
		if (!st->slots[i].klen)
			break;
		home = kvs_home(st->slots[i].hash, st->mask);
		/* slot i may move to the hole unless its home lies cyclically in (hole, i] */
		if (hole <= i ? (home <= hole || home > i) : (home <= hole && home > i)) {
			st->slots[hole] = st->slots[i];
			hole = i;
		}
	}
	memset(&st->slots[hole], 0, sizeof(st->slots[hole]));
	st->count--;
}
