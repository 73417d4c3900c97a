/* SPDX-License-Identifier: MIT */
/*
 * Recovery: find the segments with a valid header, scan them in epoch order and replay every
 * valid record into the index; the highest sequence number wins per key, so overwrites,
 * tombstones and GC copies (which keep their sequence) resolve the same way they did live.
 * A record whose header fails its CRC ends the segment (torn tail); one whose header is sound
 * but whose key/value CRC fails is skipped. Recovered segments are sealed: appending after a
 * recovered tail could revive stale records behind it, so new writes start a new segment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../spec/crc32c.h"
#include "kvs_priv.h"
#include "kvs_recover.h"

static int kvs_rec_err(char *err, size_t errlen, int ret, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "recovery: %s: %s", what, strerror(-ret));
	return ret;
}

/* Read exactly len bytes at off (RAM: copy); bytes past the end of a file read as zero. */
static int kvs_rec_read(struct kvs *kv, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (kv->fd < 0) {
		memcpy(buf, kv->mem + off, len);
		return 0;
	}
	while (done < len) {
		ssize_t n = pread(kv->fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			memset((char *)buf + done, 0, len - done);
			break;
		}
		done += (size_t)n;
	}
	return 0;
}

static bool kvs_seg_hdr_ok(const struct kvs_seg_hdr *h, uint32_t idx)
{
	struct kvs_seg_hdr c = *h;

	if (c.magic != KVS_SEG_MAGIC || c.index != idx || c.epoch == 0)
		return false;
	c.crc = 0;
	return crc32c(&c, sizeof(c)) == h->crc;
}

/* Header at p is sound and belongs to this segment's epoch: the record length, else 0. */
static uint32_t kvs_rec_hdr_ok(const struct kvs *kv, const uint8_t *buf, uint32_t p, uint64_t epoch)
{
	const struct kvs_rec_hdr *h = (const struct kvs_rec_hdr *)(buf + p);
	struct kvs_rec_hdr c;
	uint64_t rlen;

	if (p + KVS_REC_HDR_LEN > kv->seg_size)
		return 0;
	memcpy(&c, h, sizeof(c));
	if (c.magic != KVS_REC_MAGIC || c.epoch != epoch)
		return 0;
	c.hdr_crc = 0;
	if (crc32c(&c, sizeof(c)) != h->hdr_crc)
		return 0;
	if (c.key_len < NVME_KV_KEY_MIN || c.key_len > NVME_KV_KEY_MAX || c.seq == 0)
		return 0;
	rlen = kvs_rec_len(c.key_len, 0) + (uint64_t)c.value_len;
	if (c.value_len > kv->seg_size || p + rlen > kv->seg_size)
		return 0;
	return kvs_rec_len(c.key_len, c.value_len);
}

static int kvs_rec_apply(struct kvs *kv, struct kvs_seg *s, const struct kvs_rec_hdr *h, uint32_t p,
			 uint32_t rlen)
{
	const uint8_t *key = (const uint8_t *)(h + 1);
	uint64_t hash = kvs_idx_hash(key, h->key_len);
	struct kvs_ent *e = kvs_idx_find(&kv->idx, hash, key, h->key_len);

	if (!e) {
		e = kvs_idx_add(&kv->idx, hash, key, h->key_len);
		if (!e)
			return -ENOMEM;
	}
	/* Equal seq = a GC copy of the same record: the later segment (scanned last) holds it. */
	if (e->seq > h->seq)
		return 0;
	if (e->seg != KVS_SEG_NONE)
		kvs_seg_live_add(kv, e->seg, -(int64_t)kvs_rec_len(e->klen, e->tomb ? 0 : e->vlen));
	e->seq = h->seq;
	e->seg = s->idx;
	e->off = p;
	e->tomb = (h->flags & KVS_REC_TOMBSTONE) != 0;
	e->vlen = e->tomb ? 0 : h->value_len;
	kvs_seg_live_add(kv, s->idx, rlen);
	return 0;
}

static int kvs_rec_scan_seg(struct kvs *kv, struct kvs_seg *s, uint8_t *buf)
{
	uint32_t p = KVS_SEG_HDR_LEN, rlen;
	int ret = kvs_rec_read(kv, buf, kv->seg_size, kvs_seg_dev_off(kv, s));

	if (ret)
		return ret;
	s->min_seq = UINT64_MAX;
	while ((rlen = kvs_rec_hdr_ok(kv, buf, p, s->epoch)) != 0) {
		const struct kvs_rec_hdr *h = (const struct kvs_rec_hdr *)(buf + p);
		uint32_t crc = crc32c(buf + p + KVS_REC_HDR_LEN, h->key_len + (size_t)h->value_len);

		if (h->seq > kv->seq)
			kv->seq = h->seq;
		if (h->seq < s->min_seq)
			s->min_seq = h->seq;
		if (crc == h->data_crc) {
			ret = kvs_rec_apply(kv, s, h, p, rlen);
			if (ret)
				return ret;
		}
		p += rlen;
	}
	s->used = p;
	return 0;
}

static int kvs_seg_epoch_cmp(const void *a, const void *b)
{
	const struct kvs_seg *x = *(struct kvs_seg *const *)a, *y = *(struct kvs_seg *const *)b;

	return x->epoch < y->epoch ? -1 : x->epoch > y->epoch;
}

int kvs_recover(struct kvs *kv, char *err, size_t errlen)
{
	struct kvs_seg **used = NULL;
	uint8_t *buf = NULL;
	uint32_t nused = 0;
	uint64_t nbuckets;
	int ret;

	kv->segs = calloc(kv->nsegs, sizeof(*kv->segs));
	used = calloc(kv->nsegs, sizeof(*used));
	buf = malloc(kv->seg_size);
	/* ~1 bucket per 512 bytes of space: short chains for small values. */
	nbuckets = kv->dev_size / 512;
	nbuckets = nbuckets < 1024 ? 1024 : nbuckets > (1u << 24) ? (1u << 24) : nbuckets;
	if (!kv->segs || !used || !buf || kvs_idx_init(&kv->idx, nbuckets)) {
		ret = kvs_rec_err(err, errlen, -ENOMEM, "allocation");
		goto out;
	}

	for (uint32_t i = 0; i < kv->nsegs; i++) {
		struct kvs_seg *s = &kv->segs[i];
		struct kvs_seg_hdr h;

		s->idx = i;
		s->state = KVS_SEG_FREE;
		ret = kvs_rec_read(kv, &h, sizeof(h), kvs_seg_dev_off(kv, s));
		if (ret) {
			kvs_rec_err(err, errlen, ret, "segment header");
			goto out;
		}
		if (kvs_seg_hdr_ok(&h, i)) {
			s->epoch = h.epoch;
			s->state = KVS_SEG_SEALED;
			used[nused++] = s;
			if (h.epoch > kv->seq)
				kv->seq = h.epoch;
		}
	}
	qsort(used, nused, sizeof(*used), kvs_seg_epoch_cmp);
	for (uint32_t i = 0; i < nused; i++) {
		ret = kvs_rec_scan_seg(kv, used[i], buf);
		if (ret) {
			kvs_rec_err(err, errlen, ret, "segment scan");
			goto out;
		}
	}

	/* Entries left with no record at all cannot exist; count live keys and set lpresent. */
	for (uint64_t b = 0; b <= kv->idx.mask; b++)
		for (struct kvs_ent *e = kv->idx.buckets[b]; e; e = e->next) {
			e->lpresent = kvs_ent_live(e);
			if (e->lpresent)
				atomic_fetch_add(&kv->idx.keys, 1);
		}
	for (uint32_t i = kv->nsegs; i-- > 0;) {
		struct kvs_seg *s = &kv->segs[i];

		if (s->state == KVS_SEG_FREE) {
			s->next_free = kv->free_list;
			kv->free_list = s;
			kv->free_count++;
		}
	}
	ret = 0;
out:
	free(used);
	free(buf);
	return ret;
}
