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

#include "kvs_priv.h"
#include "kvs_recover.h"

static int kvs_rec_err(char *err, size_t errlen, int ret, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "recovery: %s: %s", what, strerror(-ret));
	return ret;
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
		kvs_seg_live_add(&kv->segs, e->seg, -(int64_t)kvs_ent_rec_len(e));
	e->seq = h->seq;
	e->seg = s->idx;
	e->off = p;
	kvs_ent_set(e, KVS_ENT_TOMB, h->flags & KVS_REC_TOMBSTONE);
	e->vlen = kvs_ent_tomb(e) ? 0 : h->value_len;
	kvs_seg_live_add(&kv->segs, s->idx, rlen);
	return 0;
}

static int kvs_rec_scan_seg(struct kvs *kv, struct kvs_seg *s, uint8_t *buf, uint64_t *last_seq)
{
	uint32_t p = KVS_SEG_HDR_LEN, rlen, size = kv->log.seg_size;
	int ret = kvs_log_pread(&kv->log, buf, size, kvs_log_seg_off(&kv->log, s->idx));

	if (ret)
		return ret;
	s->old_seq = UINT64_MAX;
	while ((rlen = kvs_log_rec_check((const struct kvs_rec_hdr *)(buf + p), size - p, s->epoch))) {
		const struct kvs_rec_hdr *h = (const struct kvs_rec_hdr *)(buf + p);

		if (h->seq > *last_seq)
			*last_seq = h->seq;
		if (h->seq < s->old_seq) /* which records were copies is not known: any */
			s->old_seq = h->seq;
		if (kvs_log_rec_data_ok(h)) {
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

int kvs_recover(struct kvs *kv, uint64_t *last_seq, char *err, size_t errlen)
{
	struct kvs_log *log = &kv->log;
	struct kvs_seg **used = NULL;
	uint8_t *buf = NULL;
	uint32_t nused = 0;
	int64_t used_bytes = 0;
	int ret;

	*last_seq = 0;
	used = calloc(log->nsegs, sizeof(*used));
	buf = malloc(log->seg_size);
	if (!used || !buf || kvs_segs_init(&kv->segs, log->nsegs, log->seg_size) ||
	    kvs_idx_init(&kv->idx)) {
		ret = kvs_rec_err(err, errlen, -ENOMEM, "allocation");
		goto out;
	}

	for (uint32_t i = 0; i < log->nsegs; i++) {
		struct kvs_seg *s = &kv->segs.segs[i];
		struct kvs_seg_hdr h;

		ret = kvs_log_pread(log, &h, sizeof(h), kvs_log_seg_off(log, i));
		if (ret) {
			kvs_rec_err(err, errlen, ret, "segment header");
			goto out;
		}
		if (kvs_log_seg_hdr_ok(&h, i)) {
			s->epoch = h.epoch;
			s->state = KVS_SEG_SEALED;
			used[nused++] = s;
			if (h.epoch > *last_seq)
				*last_seq = h.epoch;
		}
	}
	qsort(used, nused, sizeof(*used), kvs_seg_epoch_cmp);
	for (uint32_t i = 0; i < nused; i++) {
		ret = kvs_rec_scan_seg(kv, used[i], buf, last_seq);
		if (ret) {
			kvs_rec_err(err, errlen, ret, "segment scan");
			goto out;
		}
	}

	/* Count live keys and bytes, set lpresent. */
	for (uint32_t st = 0; st < KVS_IDX_STRIPES; st++) {
		kvs_idx_foreach(&kv->idx, st, e) {
			kvs_ent_set(e, KVS_ENT_LPRESENT, kvs_ent_live(e));
			if (kvs_ent_live(e))
				atomic_fetch_add(&kv->idx.keys, 1);
			if (e->seg != KVS_SEG_NONE)
				used_bytes += kvs_ent_rec_len(e);
		}
	}
	atomic_store(&kv->used, used_bytes);
	kvs_segs_build_free(&kv->segs);
	ret = 0;
out:
	free(used);
	free(buf);
	return ret;
}
