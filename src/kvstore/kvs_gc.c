/* SPDX-License-Identifier: MIT */
/*
 * Online compaction. One victim at a time, driven by its own CQEs on whichever executor runs it:
 *   READ  a chunk of the victim
 *   parse: records the index still points at are copied into `out`
 *   MOVE  `out` goes through group commit (always synced); the index is switched to each
 *         copy only if it still points at the victim's record (a newer store wins)
 *   FREE  the victim's header is zeroed and synced, then the segment returns to the free list
 *         once no retrieve is reading it.
 * Copies keep their sequence numbers, so recovery orders them correctly against newer writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvs_priv.h"

int kvs_gc_init(struct kvs *kv)
{
	struct kvs_gc *gc = &kv->gc;
	uint32_t max_rec = kvs_rec_len(KVS_KEY_MAX, kv->max_value);
	uint32_t chunk = 8u << 20;

	/* A chunk holds at least one whole record and at most one segment. */
	if (chunk < max_rec)
		chunk = max_rec;
	if (chunk > kv->log.seg_size - KVS_SEG_HDR_LEN)
		chunk = kv->log.seg_size - KVS_SEG_HDR_LEN;
	gc->buf_size = chunk;
	gc->buf = malloc(chunk);
	gc->out = malloc(chunk);
	if (!gc->buf || !gc->out)
		return -ENOMEM;
	gc->state = KVS_GC_IDLE;
	return 0;
}

void kvs_gc_fini(struct kvs *kv)
{
	free(kv->gc.buf);
	free(kv->gc.out);
	kv->gc.buf = kv->gc.out = NULL;
}

bool kvs_gc_busy(struct kvs *kv)
{
	bool busy;

	pthread_mutex_lock(&kv->segs.lock);
	busy = kv->gc.busy;
	pthread_mutex_unlock(&kv->segs.lock);
	return busy;
}

/* segs.lock held. The sealed segment with the least live data, if compacting it is due. */
static struct kvs_seg *kvs_gc_pick(struct kvs *kv)
{
	struct kvs_segs *ss = &kv->segs;
	struct kvs_seg *best = NULL;
	int64_t best_live = INT64_MAX;
	uint32_t payload = ss->seg_size - KVS_SEG_HDR_LEN;
	uint32_t need = kvs_commit_wait_need_locked(&kv->commit);
	uint64_t room = kvs_commit_head_room_locked(&kv->commit);
	bool low = ss->free_count <= KVS_GC_RESERVE + 1 || need;

	for (uint32_t i = 0; i < ss->nsegs; i++) {
		struct kvs_seg *s = &ss->segs[i];
		int64_t live = atomic_load(&s->live);

		if (s->state == KVS_SEG_SEALED && live < best_live) {
			best = s;
			best_live = live;
		}
	}
	if (!best)
		return NULL;
	/* The copies need a place: a free segment, or room left in the head. */
	if (ss->free_count == 0 && !(best_live == 0 || room >= (uint64_t)best_live))
		return NULL;
	if (best_live < ss->gc_live_thr)
		return best;
	/*
	 * Short of space: a segment whose compaction makes room. Either its live records fit in
	 * the head (a segment is freed outright), or they take a new segment, sealing the head,
	 * and that must leave room for the write that waits (or for the largest record). Less
	 * only moves the shortage around when records do not pack a segment: GC would compact
	 * the same data forever while the waiting store never completes.
	 */
	if (low && best_live < (int64_t)payload) {
		if (!need)
			need = kvs_rec_len(KVS_KEY_MAX, kv->max_value);
		if ((uint64_t)best_live <= room || payload - (uint64_t)best_live >= room + need)
			return best;
	}
	return NULL;
}

static void kvs_gc_abort(struct kvs *kv)
{
	pthread_mutex_lock(&kv->segs.lock);
	kvs_seg_set_state(kv->gc.victim, KVS_SEG_SEALED);
	kv->gc.victim = NULL;
	kv->gc.state = KVS_GC_IDLE;
	kv->gc.busy = false;
	pthread_mutex_unlock(&kv->segs.lock);
}

static void kvs_gc_parse(struct kvs *kv, struct executor *ex);

void kvs_gc_kick(struct kvs *kv, struct executor *ex)
{
	struct kvs_gc *gc = &kv->gc;
	struct kvs_segs *ss = &kv->segs;
	struct kvs_seg *v;

	pthread_mutex_lock(&ss->lock);
	if (gc->busy) {
		pthread_mutex_unlock(&ss->lock);
		return;
	}
	kvs_segs_mark_dirty(ss, false);
	v = kvs_gc_pick(kv);
	if (!v) {
		pthread_mutex_unlock(&ss->lock);
		/* nothing to compact: writes waiting for space get Capacity Exceeded */
		kvs_commit_fail_waiting(&kv->commit, ex);
		return;
	}
	gc->min_other_seq = UINT64_MAX;
	for (uint32_t i = 0; i < ss->nsegs; i++) {
		struct kvs_seg *s = &ss->segs[i];

		if (s != v && (s->state == KVS_SEG_OPEN || s->state == KVS_SEG_SEALED) &&
		    s->min_seq < gc->min_other_seq)
			gc->min_other_seq = s->min_seq;
	}
	kvs_seg_set_state(v, KVS_SEG_GC);
	gc->victim = v;
	gc->busy = true;
	gc->state = KVS_GC_READ;
	gc->pos = KVS_SEG_HDR_LEN;
	gc->buf_base = gc->pos;
	gc->buf_fill = 0;
	pthread_mutex_unlock(&ss->lock);
	kvs_gc_parse(kv, ex);
}

static void kvs_gc_read_done(struct kvs_log_io *lio, struct executor *ex, int res)
{
	struct kvs_gc *gc = container_of(lio, struct kvs_gc, lio);
	struct kvs *kv = container_of(gc, struct kvs, gc);

	if (res < 0)
		return kvs_gc_abort(kv);
	gc->buf_fill = lio->len;
	kvs_gc_parse(kv, ex);
}

static void kvs_gc_read(struct kvs *kv, struct executor *ex)
{
	struct kvs_gc *gc = &kv->gc;
	struct kvs_seg *v = gc->victim;
	uint32_t len = v->used - gc->pos;

	if (len > gc->buf_size)
		len = gc->buf_size;
	gc->state = KVS_GC_READ;
	gc->buf_base = gc->pos;
	gc->buf_fill = 0;
	gc->rd_iov = (struct iovec){ gc->buf, len };
	gc->lio.iov = &gc->rd_iov;
	gc->lio.niov = 1;
	gc->lio.len = len;
	gc->lio.off = kvs_log_seg_off(&kv->log, v->idx) + gc->pos;
	gc->lio.done = kvs_gc_read_done;
	/* RAM: the copy is made now and the step continues from a NOP CQE: no recursion */
	kvs_log_read(&kv->log, ex, &gc->lio);
}

/* The victim's header is zeroed and synced: it returns to the free list. */
static void kvs_gc_freed(struct kvs_log_io *lio, struct executor *ex, int res)
{
	struct kvs_gc *gc = container_of(lio, struct kvs_gc, lio);
	struct kvs *kv = container_of(gc, struct kvs, gc);

	if (res < 0)
		return kvs_gc_abort(kv);
	pthread_mutex_lock(&kv->segs.lock);
	kvs_seg_retire_locked(&kv->segs, gc->victim);
	gc->victim = NULL;
	gc->state = KVS_GC_IDLE;
	gc->busy = false;
	pthread_mutex_unlock(&kv->segs.lock);
	kvs_commit_kick(&kv->commit, ex); /* writes waiting for a segment */
	kvs_gc_kick(kv, ex);              /* next victim, if any is due */
}

/* Every live record is elsewhere and stable: invalidate the victim on the medium. */
static void kvs_gc_free(struct kvs *kv, struct executor *ex)
{
	struct kvs_gc *gc = &kv->gc;

	gc->state = KVS_GC_FREE;
	gc->lio.done = kvs_gc_freed;
	if (!kvs_log_is_mem(&kv->log))
		atomic_fetch_add(&kv->commit.st_syncs, 1);
	kvs_log_invalidate(&kv->log, ex, &gc->lio, gc->victim->idx);
}

static void kvs_gc_written(struct kvs_wr *wr, struct executor *ex, int res);

static void kvs_gc_parse(struct kvs *kv, struct executor *ex)
{
	struct kvs_gc *gc = &kv->gc;
	struct kvs_seg *v = gc->victim;
	uint32_t p = gc->pos;

	gc->nmoves = 0;
	gc->out_len = 0;
	while (p < v->used) {
		const struct kvs_rec_hdr *h;
		const uint8_t *key;
		uint32_t rlen;
		uint64_t hash;
		pthread_mutex_t *lk;
		struct kvs_ent *e;
		bool live;

		if (p + KVS_REC_HDR_LEN > gc->buf_base + gc->buf_fill)
			break;
		h = (const struct kvs_rec_hdr *)(gc->buf + (p - gc->buf_base));
		rlen = kvs_log_rec_check(h, v->used - p, v->epoch);
		if (!rlen) { /* end of the valid records (a torn tail recovery stopped at) */
			p = v->used;
			break;
		}
		if (p + rlen > gc->buf_base + gc->buf_fill)
			break;
		if (gc->out_len + rlen > gc->buf_size || gc->nmoves == KVS_GC_MOVES)
			break;
		key = (const uint8_t *)(h + 1);
		hash = kvs_idx_hash(key, h->key_len);
		lk = kvs_idx_lock(&kv->idx, hash);
		pthread_mutex_lock(lk);
		e = kvs_idx_find(&kv->idx, hash, key, h->key_len);
		live = e && e->seg == v->idx && e->off == p && e->seq == h->seq;
		if (live && e->tomb && e->pending == 0 && h->seq < gc->min_other_seq) {
			/* No older record of this key exists anywhere else: the tombstone can go. */
			kvs_seg_live_add(&kv->segs, v->idx, -(int64_t)rlen);
			kvs_idx_del(&kv->idx, hash, e);
			live = false;
		}
		pthread_mutex_unlock(lk);
		if (live) {
			struct kvs_gc_move *m = &gc->moves[gc->nmoves++];

			memcpy(gc->out + gc->out_len, h, rlen);
			m->old_off = p;
			m->out_off = gc->out_len;
			m->len = rlen;
			m->seq = h->seq;
			m->hash = hash;
			gc->out_len += rlen;
		}
		p += rlen;
	}
	gc->pos = p;
	if (gc->nmoves) {
		gc->state = KVS_GC_MOVE;
		gc->wr.kind = KVS_WR_COPIES;
		gc->wr.len = gc->out_len;
		gc->wr.niov = 1;
		gc->wr.iov[0] = (struct iovec){ gc->out, gc->out_len };
		gc->wr.done = kvs_gc_written;
		kvs_commit_enqueue(&kv->commit, ex, &gc->wr);
	} else if (p < v->used) {
		kvs_gc_read(kv, ex);
	} else {
		kvs_gc_free(kv, ex);
	}
}

/* The copies are stable: point the index at them where it still points at the victim. */
static void kvs_gc_written(struct kvs_wr *wr, struct executor *ex, int res)
{
	struct kvs_gc *gc = container_of(wr, struct kvs_gc, wr);
	struct kvs *kv = container_of(gc, struct kvs, gc);
	struct kvs_seg *v = gc->victim;

	if (res < 0)
		return kvs_gc_abort(kv);
	for (unsigned i = 0; i < gc->nmoves; i++) {
		struct kvs_gc_move *m = &gc->moves[i];
		const struct kvs_rec_hdr *h = (const struct kvs_rec_hdr *)(gc->out + m->out_off);
		pthread_mutex_t *lk = kvs_idx_lock(&kv->idx, m->hash);
		struct kvs_ent *e;

		pthread_mutex_lock(lk);
		e = kvs_idx_find(&kv->idx, m->hash, (const uint8_t *)(h + 1), h->key_len);
		/* Switch only if nothing newer arrived meanwhile. */
		if (e && e->seg == v->idx && e->off == m->old_off && e->seq == m->seq) {
			e->seg = wr->seg;
			e->off = wr->off + m->out_off;
			kvs_seg_live_add(&kv->segs, e->seg, m->len);
			kvs_seg_live_add(&kv->segs, v->idx, -(int64_t)m->len);
		}
		pthread_mutex_unlock(lk);
	}
	atomic_fetch_add(&gc->st_moved, gc->nmoves);
	kvs_gc_parse(kv, ex);
}
