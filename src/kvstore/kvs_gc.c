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
 * A victim with no live bytes skips straight to FREE. Copies go through the commit shard of the
 * executor GC runs on.
 *
 * Policy: a sealed segment with nothing live is freed at once; one under the gc threshold is
 * compacted only once free segments fall below free_target (1/8 of the segments), so with
 * room to spare compaction waits until victims are mostly dead (it copies little); short of
 * space, any segment whose compaction makes room.
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
	gc->free_target = kv->log.nsegs / 8;
	if (gc->free_target < KVS_GC_RESERVE + 2)
		gc->free_target = KVS_GC_RESERVE + 2;
	gc->idle_free = UINT32_MAX;
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
	return __atomic_load_n(&kv->gc.busy, __ATOMIC_ACQUIRE);
}

static void kvs_gc_set_busy(struct kvs_gc *gc, bool busy)
{
	__atomic_store_n(&gc->busy, busy, __ATOMIC_RELEASE);
}

/*
 * segs.lock held. The victim, if compacting one is due; its copies would go to sh's head.
 * A segment with nothing live goes first (freed without copying). Then, among candidates under
 * the threshold, the best by LFS's cost-benefit, free space gained x age / cost of the copy:
 * old segments are cheap in the long run (their data is cold, and their tombstones are the
 * ones old enough to drop). Short of space, the one with the least live data.
 */
static struct kvs_seg *kvs_gc_pick(struct kvs *kv, struct kvs_shard *sh)
{
	struct kvs_segs *ss = &kv->segs;
	struct kvs_seg *best = NULL, *cb = NULL;
	int64_t best_live = INT64_MAX, cb_live = 0;
	double cb_score = -1;
	uint32_t payload = ss->seg_size - KVS_SEG_HDR_LEN;
	uint32_t need = atomic_load(&kv->commit.wait_need);
	uint64_t room = kvs_shard_head_room(sh), now = atomic_load(&kv->commit.seq);
	bool low = ss->free_count <= KVS_GC_RESERVE + 1 || kvs_commit_waiting(&kv->commit);

	for (uint32_t i = 0; i < ss->nsegs; i++) {
		struct kvs_seg *s = &ss->segs[i];
		int64_t live = atomic_load(&s->live);
		double score;

		if (s->state != KVS_SEG_SEALED)
			continue;
		if (live < best_live) {
			best = s;
			best_live = live;
		}
		if (live >= ss->gc_live_thr)
			continue;
		score = (double)(payload - live) * (double)(now - s->epoch + 1) / (double)(payload + live);
		if (score > cb_score) {
			cb = s;
			cb_score = score;
			cb_live = live;
		}
	}
	if (!best)
		return NULL;
	if (best_live == 0)
		return best;
	/* The copies need a place: a free segment, or room left in the head. */
	if (cb && (ss->free_count < kv->gc.free_target || low) &&
	    (ss->free_count > 0 || room >= (uint64_t)cb_live))
		return cb;
	if (ss->free_count == 0 && room < (uint64_t)best_live)
		return NULL;
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

/* An I/O error: the victim stays sealed; writes waiting for space are not kept waiting on a
 * compaction that failed. */
static void kvs_gc_abort(struct kvs *kv)
{
	pthread_mutex_lock(&kv->segs.lock);
	kvs_seg_set_state(kv->gc.victim, KVS_SEG_SEALED);
	kv->gc.victim = NULL;
	kv->gc.state = KVS_GC_IDLE;
	kvs_gc_set_busy(&kv->gc, false);
	pthread_mutex_unlock(&kv->segs.lock);
	kvs_commit_wake(&kv->commit, true);
}

static void kvs_gc_parse(struct kvs *kv, struct executor *ex);
static void kvs_gc_free(struct kvs *kv, struct executor *ex);

void kvs_gc_kick(struct kvs *kv, struct kvs_shard *sh)
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
	v = kvs_gc_pick(kv, sh);
	if (!v) {
		__atomic_store_n(&gc->idle_free, ss->free_count, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&ss->lock);
		if (!kvs_commit_waiting(&kv->commit))
			return;
		/* nothing to compact, but the shards' heads may hold free tails: have them sealed
		 * (a round at a time, twice at most without progress); then waiting writes get
		 * Capacity Exceeded */
		if (kvs_commit_releasing(&kv->commit))
			return;
		if (atomic_fetch_add(&kv->commit.release_rounds, 1) < 2 &&
		    kvs_commit_release_heads(&kv->commit))
			return;
		kvs_commit_wake(&kv->commit, true);
		return;
	}
	gc->min_other_seq = UINT64_MAX;
	for (uint32_t i = 0; i < ss->nsegs; i++) {
		struct kvs_seg *s = &ss->segs[i];
		enum kvs_seg_state st = kvs_seg_state(s);

		if (s != v && (st == KVS_SEG_OPEN || st == KVS_SEG_SEALED) &&
		    kvs_seg_min_seq(s) < gc->min_other_seq)
			gc->min_other_seq = kvs_seg_min_seq(s);
	}
	kvs_seg_set_state(v, KVS_SEG_GC);
	gc->victim = v;
	gc->sh = sh;
	kvs_gc_set_busy(gc, true);
	gc->state = KVS_GC_READ;
	gc->pos = KVS_SEG_HDR_LEN;
	gc->buf_base = gc->pos;
	gc->buf_fill = 0;
	pthread_mutex_unlock(&ss->lock);
	/* nothing live (nothing can become live in a sealed segment): no need to read it */
	if (atomic_load(&v->live) == 0)
		kvs_gc_free(kv, sh->ex);
	else
		kvs_gc_parse(kv, sh->ex);
}

void kvs_poll(struct kvs *kv, struct executor *ex)
{
	uint32_t free = kvs_segs_free_count(&kv->segs);
	struct kvs_shard *sh;

	if (kvs_gc_busy(kv))
		return;
	if (!kvs_segs_dirty(&kv->segs) && !kvs_commit_waiting(&kv->commit) &&
	    (free >= kv->gc.free_target || free == __atomic_load_n(&kv->gc.idle_free, __ATOMIC_RELAXED)))
		return;
	sh = kvs_commit_shard(&kv->commit, ex);
	if (sh)
		kvs_gc_kick(kv, sh);
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
	struct kvs_shard *sh = gc->sh; /* ours (ex's): once GC is not busy, another may take it */

	if (res < 0)
		return kvs_gc_abort(kv);
	(void)ex;
	pthread_mutex_lock(&kv->segs.lock);
	kvs_seg_retire_locked(&kv->segs, gc->victim);
	gc->victim = NULL;
	gc->state = KVS_GC_IDLE;
	kvs_gc_set_busy(gc, false);
	pthread_mutex_unlock(&kv->segs.lock);
	atomic_store(&kv->commit.release_rounds, 0);
	kvs_commit_wake(&kv->commit, false); /* writes waiting for a segment */
	kvs_gc_kick(kv, sh);                 /* next victim, if any is due */
}

/* Every live record is elsewhere and stable: invalidate the victim on the medium. */
static void kvs_gc_free(struct kvs *kv, struct executor *ex)
{
	struct kvs_gc *gc = &kv->gc;

	gc->state = KVS_GC_FREE;
	gc->lio.done = kvs_gc_freed;
	if (!kvs_log_is_mem(&kv->log))
		atomic_fetch_add(&gc->st_syncs, 1);
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
		bool live, pending;

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
		pending = live && e->pending;
		if (live && kvs_ent_tomb(e) && e->pending == 0 && h->seq < gc->min_other_seq) {
			/* No older record of this key exists anywhere else: the tombstone can go. */
			kvs_seg_live_add(&kv->segs, v->idx, -(int64_t)rlen);
			kvs_idx_del(&kv->idx, hash, e);
			kvs_space_add(kv, gc->sh, -(int64_t)rlen);
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
			m->superseded = pending;
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
		kvs_shard_enqueue(gc->sh, &gc->wr);
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

		if (m->superseded) /* before the next GC step can decide on tombstones */
			kvs_seg_note_old_copy(&kv->segs.segs[wr->seg], m->seq);
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
