/* SPDX-License-Identifier: MIT */
/*
 * The index alone: random adds, finds and deletes of keys 1..16 bytes long against a model,
 * with stripes growing from 16 slots and deletes shifting entries back (linear probing without
 * tombstones); every key the model has is found with its payload, no other is.
 */
#include <stdlib.h>
#include <string.h>

#include "kvstore/kvs_index.h"
#include "tap.h"

#define NKEYS 20000

struct mkey {
	uint8_t len;
	uint8_t key[16];
	bool present;
	uint32_t off; /* payload stored in the entry */
};

static struct mkey model[NKEYS];

/* Unique keys: 0..255 are one byte long, the rest 2..16 bytes starting with their number. */
static void key_of(unsigned i, struct mkey *k)
{
	uint32_t x = i * 2654435761u;

	memset(k->key, 0, sizeof(k->key));
	k->len = (uint8_t)(i < 256 ? 1 : 2 + i % 15);
	for (unsigned b = 0; b < k->len; b++, x = x * 1103515245u + 12345u)
		k->key[b] = (uint8_t)(x >> 16);
	k->key[0] = (uint8_t)i;
	if (i >= 256)
		k->key[1] = (uint8_t)(i >> 8);
}

int main(void)
{
	struct kvs_index idx;
	uint32_t rng = 99;
	unsigned bad_find = 0, bad_absent = 0, bad_add = 0, live = 0;

	tap_ok(kvs_idx_init(&idx) == 0, "index: init");
	for (unsigned i = 0; i < NKEYS; i++)
		key_of(i, &model[i]);
	for (unsigned step = 0; step < 200000; step++) {
		unsigned i;
		struct mkey *k;
		uint64_t h;
		struct kvs_ent *e;

		rng = rng * 1103515245u + 12345u;
		i = (rng >> 8) % NKEYS;
		k = &model[i];
		h = kvs_idx_hash(k->key, k->len);
		e = kvs_idx_find(&idx, h, k->key, k->len);
		if (!k->present) {
			if (e)
				bad_absent++;
			e = kvs_idx_add(&idx, h, k->key, k->len);
			if (!e) {
				bad_add++;
				continue;
			}
			e->off = k->off = step;
			k->present = true;
			live++;
		} else if (!e || e->off != k->off) {
			bad_find++;
		} else if ((rng >> 4) % 3 == 0) {
			kvs_idx_del(&idx, h, e);
			k->present = false;
			live--;
		}
	}
	for (unsigned i = 0; i < NKEYS; i++) {
		struct mkey *k = &model[i];
		struct kvs_ent *e = kvs_idx_find(&idx, kvs_idx_hash(k->key, k->len), k->key, k->len);

		if (k->present ? !e || e->off != k->off : e != NULL)
			bad_find++;
	}
	{
		unsigned counted = 0, slots = 0;

		for (unsigned st = 0; st < KVS_IDX_STRIPES; st++) {
			slots += idx.stripes[st].mask + 1;
			kvs_idx_foreach(&idx, st, e)
				counted++;
		}
		tap_ok(counted == live && slots >= 2 * live && slots > 16 * KVS_IDX_STRIPES,
		       "index: %u live keys, iteration sees each once, %u slots (grown, at most half full)",
		       live, slots);
	}
	tap_ok(!bad_add, "index: every add succeeded");
	tap_ok(!bad_find && !bad_absent,
	       "index: 200000 random adds/deletes: present keys found with their payload, absent "
	       "ones not (%u, %u wrong)", bad_find, bad_absent);
	kvs_idx_fini(&idx);
	return tap_done();
}
