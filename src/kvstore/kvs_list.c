/* SPDX-License-Identifier: MIT */
/*
 * KV List: keys >= a start key, in key order (bytes compared with memcmp, then shorter first),
 * as many as fit: u32 LE count, then per key {u16 LE length; key; zero pad to 4 bytes}.
 * The index is a hash, so a list scans it (stripe by stripe) and sorts; List is not a hot path.
 */
#include <stdlib.h>
#include <string.h>

#include "kvs_priv.h"

struct kvs_lkey {
	uint8_t len;
	uint8_t key[KVS_KEY_MAX];
};

static int kvs_key_cmp(const uint8_t *a, unsigned alen, const uint8_t *b, unsigned blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return (int)alen - (int)blen;
}

static int kvs_lkey_cmp(const void *pa, const void *pb)
{
	const struct kvs_lkey *a = pa, *b = pb;

	return kvs_key_cmp(a->key, a->len, b->key, b->len);
}

static inline uint32_t kvs_list_ent_len(unsigned klen)
{
	return (2 + klen + 3) & ~3u;
}

void kvs_list_run(struct kvs *kv, struct kvs_io *io)
{
	struct kvs_index *idx = &kv->idx;
	struct kvs_lkey *keys = NULL;
	size_t n = 0, cap = 0;
	uint8_t *out = io->buf;
	uint32_t pos = 4, count = 0;

	io->status = 0;
	io->value_size = 0;
	if (io->key_len > NVME_KV_KEY_MAX) {
		io->status = KVS_STATUS(NVME_SC_KV_INVALID_KEY_SIZE);
		return;
	}
	if (io->len < 4 || !out)
		return;

	/* One stripe lock at a time. */
	for (uint32_t st = 0; st < KVS_IDX_STRIPES; st++) {
		pthread_mutex_t *lk = &idx->stripes[st].lock;

		pthread_mutex_lock(lk);
		{
			kvs_idx_foreach(idx, st, e) {
				if (!kvs_ent_live(e))
					continue;
				if (io->key_len &&
				    kvs_key_cmp(e->key, e->klen, io->key, io->key_len) < 0)
					continue;
				if (n == cap) {
					size_t ncap = cap ? cap * 2 : 256;
					struct kvs_lkey *nk = realloc(keys, ncap * sizeof(*keys));

					if (!nk) {
						pthread_mutex_unlock(lk);
						free(keys);
						io->status = KVS_STATUS(KVS_SC_INTERNAL);
						return;
					}
					keys = nk;
					cap = ncap;
				}
				keys[n].len = e->klen;
				memcpy(keys[n].key, e->key, e->klen);
				n++;
			}
		}
		pthread_mutex_unlock(lk);
	}
	if (n)
		qsort(keys, n, sizeof(*keys), kvs_lkey_cmp);

	for (size_t i = 0; i < n; i++) {
		uint32_t el = kvs_list_ent_len(keys[i].len);
		uint16_t kl = keys[i].len;

		if (pos + el > io->len)
			break;
		memcpy(out + pos, &kl, 2);
		memcpy(out + pos + 2, keys[i].key, kl);
		memset(out + pos + 2 + kl, 0, el - 2 - kl);
		pos += el;
		count++;
	}
	memcpy(out, &count, 4);
	io->value_size = pos;
	free(keys);
}
