/* SPDX-License-Identifier: MIT */
/*
 * Online compaction. One victim at a time, driven by its own CQEs on whichever ring runs it:
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

#include "../spec/crc32c.h"
#include "kvs_priv.h"

int kvs_gc_init(struct kvs *kv)
{
	struct kvs_gc *gc = &kv->gc;
	uint32_t max_rec = kvs_rec_len(KVS_KEY_MAX, kv->max_value);
	uint32_t chunk = 8u << 20;

	/* A chunk holds at least one whole record and at most one segment. */
	if (chunk < max_rec)
		chunk = max_rec;
	if (chunk > kv->seg_size - KVS_SEG_HDR_LEN)
		chunk = kv->seg_size - KVS_SEG_HDR_LEN;
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

/* log_lock held. The sealed segment with the least live data, if compacting it is due. */
static struct kvs_seg *kvs_gc_pick(struct kvs *kv)
{
	struct kvs_seg *best = NULL;
	int64_t best_live = INT64_MAX;
	uint32_t payload = kv->seg_size - KVS_SEG_HDR_LEN;
	bool low = kv->free_count <= KVS_GC_RESERVE + 1 || kv->space_wait;

	for (uint32_t i = 0; i < kv->nsegs; i++) {
		struct kvs_seg *s = &kv->segs[i];
		int64_t live = atomic_load(&s->live);

		if (s->state == KVS_SEG_SEALED && live < best_live) {
			best = s;
			best_live = live;
		}
	}
	if (!best)
		return NULL;
	/* The copies need a place: a free segment, or room left in the head. */
	if (kv->free_count == 0 &&
	    !(best_live == 0 || (kv->head && kv->seg_size - kv->head->used >= (uint64_t)best_live)))
		return NULL;
	if (best_live < kv->gc_live_thr)
		return best;
	/*
	 * Short of space: a segment whose compaction makes room. Either its live records fit in
	 * the head (a segment is freed outright), or they take a new segment, sealing the head,
	 * and that must leave room for the write that waits (or for the largest record). Less
	 * only moves the shortage around when records do not pack a segment: GC would compact
	 * the same data forever while the waiting store never completes.
	 */
	if (low && best_live < (int64_t)payload) {
		uint64_t room = kv->head ? kv->seg_size - kv->head->used : 0;
		uint32_t need = kv->space_wait && kv->fg_first ? kv->fg_first->len :
								   kvs_rec_len(KVS_KEY_MAX, kv->max_value);

		if ((uint64_t)best_live <= room || payload - (uint64_t)best_live >= room + need)
			return best;
	}
	return NULL;
}

static void kvs_gc_abort(struct kvs *kv)
{
	pthread_mutex_lock(&kv->log_lock);
	__atomic_store_n(&kv->gc.victim->state, KVS_SEG_SEALED, __ATOMIC_SEQ_CST);
	kv->gc.victim = NULL;
	kv->gc.state = KVS_GC_IDLE;
	kv->gc.busy = false;
	pthread_mutex_unlock(&kv->log_lock);
}

/* Foreground writes waiting for space GC cannot make: capacity exceeded. Flushes stay queued. */
static void kvs_gc_fail_waiters(struct kvs *kv, struct io_uring *ring, struct kvs_wr *list)
{
	struct kvs_wr *next, *flushes = NULL, **tail = &flushes;

	for (; list; list = next) {
		struct kvs_io *io = container_of(list, struct kvs_io, priv.wr);

		next = list->next;
		if (list->kind == KVS_WR_FLUSH) {
			*tail = list;
			tail = &list->next;
			continue;
		}
		kvs_ops_committed(kv, io, -ENOSPC);
		kvs_deliver(kv, ring, io);
	}
	if (!flushes)
		return;
	*tail = NULL;
	pthread_mutex_lock(&kv->log_lock);
	for (struct kvs_wr *f = flushes; f; f = next) {
		next = f->next;
		kvs_wr_append(&kv->fg_first, &kv->fg_last, f);
	}
	pthread_mutex_unlock(&kv->log_lock);
	kvs_log_kick(kv, ring);
}

static void kvs_gc_parse(struct kvs *kv, struct io_uring *ring);

void kvs_gc_kick(struct kvs *kv, struct io_uring *ring)
{
	struct kvs_gc *gc = &kv->gc;
	struct kvs_seg *v;
	struct kvs_wr *fail = NULL;

	pthread_mutex_lock(&kv->log_lock);
	if (gc->busy) {
		pthread_mutex_unlock(&kv->log_lock);
		return;
	}
	__atomic_store_n(&kv->gc_dirty, false, __ATOMIC_RELAXED);
	v = kvs_gc_pick(kv);
	if (!v) {
		if (kv->space_wait && !kv->inflight) {
			fail = kv->fg_first;
			kv->fg_first = kv->fg_last = NULL;
			kv->space_wait = false;
		}
		pthread_mutex_unlock(&kv->log_lock);
		kvs_gc_fail_waiters(kv, ring, fail);
		return;
	}
	gc->min_other_seq = UINT64_MAX;
	for (uint32_t i = 0; i < kv->nsegs; i++) {
		struct kvs_seg *s = &kv->segs[i];

		if (s != v && (s->state == KVS_SEG_OPEN || s->state == KVS_SEG_SEALED) &&
		    s->min_seq < gc->min_other_seq)
			gc->min_other_seq = s->min_seq;
	}
	__atomic_store_n(&v->state, KVS_SEG_GC, __ATOMIC_SEQ_CST);
	gc->victim = v;
	gc->busy = true;
	gc->state = KVS_GC_READ;
	gc->pos = KVS_SEG_HDR_LEN;
	gc->buf_base = gc->pos;
	gc->buf_fill = 0;
	pthread_mutex_unlock(&kv->log_lock);
	kvs_gc_parse(kv, ring);
}

static void kvs_gc_read_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct kvs_gc *gc = container_of(op, struct kvs_gc, rd_op);
	struct kvs *kv = container_of(gc, struct kvs, gc);

	if (kv->fd >= 0 && cqe->res != (int)gc->rd_len)
		return kvs_gc_abort(kv);
	gc->buf_fill = gc->rd_len;
	kvs_gc_parse(kv, gc->rd_ring);
}

static void kvs_gc_read(struct kvs *kv, struct io_uring *ring)
{
	struct kvs_gc *gc = &kv->gc;
	struct kvs_seg *v = gc->victim;
	uint32_t len = v->used - gc->pos;
	struct io_uring_sqe *sqe;

	if (len > gc->buf_size)
		len = gc->buf_size;
	gc->state = KVS_GC_READ;
	gc->buf_base = gc->pos;
	gc->buf_fill = 0;
	gc->rd_len = len;
	gc->rd_ring = ring;
	gc->rd_op.complete = kvs_gc_read_cqe;
	sqe = ring_get_sqe(ring);
	if (kv->fd < 0) {
		/* RAM: copy now, continue from a NOP CQE so a long victim never recurses. */
		memcpy(gc->buf, kv->mem + kvs_seg_dev_off(kv, v) + gc->pos, len);
		io_uring_prep_nop(sqe);
	} else {
		io_uring_prep_read(sqe, kv->fd, gc->buf, len, kvs_seg_dev_off(kv, v) + gc->pos);
	}
	ring_op_attach(sqe, &gc->rd_op);
}

static void kvs_gc_inv_cqe(struct ring_op *op, const struct io_uring_cqe *cqe);
static void kvs_gc_inv_sync_cqe(struct ring_op *op, const struct io_uring_cqe *cqe);

/* Every live record is elsewhere and stable: invalidate the victim on the medium. */
static void kvs_gc_free(struct kvs *kv, struct io_uring *ring)
{
	struct kvs_gc *gc = &kv->gc;
	struct io_uring_sqe *sqe;
	uint64_t off = kvs_seg_dev_off(kv, gc->victim);

	gc->state = KVS_GC_FREE;
	gc->inv_res = 0;
	gc->rd_ring = ring;
	gc->inv_op.complete = kvs_gc_inv_cqe;
	gc->inv_sync_op.complete = kvs_gc_inv_sync_cqe;
	memset(&gc->zero_hdr, 0, sizeof(gc->zero_hdr));
	if (kv->fd < 0) {
		memset(kv->mem + off, 0, sizeof(gc->zero_hdr));
		gc->inv_cqes = 1;
		sqe = ring_get_sqe(ring);
		io_uring_prep_nop(sqe);
		ring_op_attach(sqe, &gc->inv_op);
		return;
	}
	gc->inv_cqes = 2;
	sqe = kvs_get_sqes(ring, 2);
	io_uring_prep_write(sqe, kv->fd, &gc->zero_hdr, sizeof(gc->zero_hdr), off);
	sqe->flags |= IOSQE_IO_LINK;
	ring_op_attach(sqe, &gc->inv_op);
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_fsync(sqe, kv->fd, IORING_FSYNC_DATASYNC);
	ring_op_attach(sqe, &gc->inv_sync_op);
	atomic_fetch_add(&kv->st_syncs, 1);
}

static void kvs_gc_inv_done(struct kvs *kv, int res)
{
	struct kvs_gc *gc = &kv->gc;
	struct io_uring *ring = gc->rd_ring;
	struct kvs_seg *v = gc->victim;

	if (res < 0 && gc->inv_res == 0)
		gc->inv_res = res;
	if (--gc->inv_cqes)
		return;
	if (gc->inv_res < 0)
		return kvs_gc_abort(kv);
	pthread_mutex_lock(&kv->log_lock);
	/* Pairs with kvs_seg_unpin: publish ZOMBIE, then look at readers. */
	__atomic_store_n(&v->state, KVS_SEG_ZOMBIE, __ATOMIC_SEQ_CST);
	if (atomic_load(&v->readers) == 0)
		kvs_seg_release_locked(kv, v);
	gc->victim = NULL;
	gc->state = KVS_GC_IDLE;
	gc->busy = false;
	pthread_mutex_unlock(&kv->log_lock);
	kvs_log_kick(kv, ring);  /* writes waiting for a segment */
	kvs_gc_kick(kv, ring);   /* next victim, if any is due */
}

static void kvs_gc_inv_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct kvs_gc *gc = container_of(op, struct kvs_gc, inv_op);
	struct kvs *kv = container_of(gc, struct kvs, gc);

	kvs_gc_inv_done(kv, cqe->res < 0 ? cqe->res :
			    (kv->fd >= 0 && cqe->res != (int)sizeof(gc->zero_hdr)) ? -EIO : 0);
}

static void kvs_gc_inv_sync_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct kvs_gc *gc = container_of(op, struct kvs_gc, inv_sync_op);

	kvs_gc_inv_done(container_of(gc, struct kvs, gc), cqe->res < 0 ? cqe->res : 0);
}

/* Validate the record header at victim offset p inside the buffer; its length or 0. */
static uint32_t kvs_gc_rec_at(struct kvs *kv, const struct kvs_rec_hdr *h, uint32_t p)
{
	struct kvs_rec_hdr c = *h;
	uint32_t rlen;

	if (c.magic != KVS_REC_MAGIC || c.epoch != kv->gc.victim->epoch)
		return 0;
	c.hdr_crc = 0;
	if (crc32c(&c, sizeof(c)) != h->hdr_crc)
		return 0;
	if (c.key_len < NVME_KV_KEY_MIN || c.key_len > NVME_KV_KEY_MAX)
		return 0;
	rlen = kvs_rec_len(c.key_len, c.value_len);
	if (c.value_len > kv->seg_size || rlen > kv->gc.victim->used - p)
		return 0;
	return rlen;
}

static void kvs_gc_parse(struct kvs *kv, struct io_uring *ring)
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
		rlen = kvs_gc_rec_at(kv, h, p);
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
			kvs_seg_live_add(kv, v->idx, -(int64_t)rlen);
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
		gc->wr.kind = KVS_WR_GC;
		gc->wr.len = gc->out_len;
		gc->wr.niov = 1;
		gc->wr.iov[0] = (struct iovec){ gc->out, gc->out_len };
		kvs_log_enqueue(kv, ring, &gc->wr);
	} else if (p < v->used) {
		kvs_gc_read(kv, ring);
	} else {
		kvs_gc_free(kv, ring);
	}
}

/* log_lock held: the copies land in seg; stamp them with its epoch. */
void kvs_gc_place(struct kvs *kv, struct kvs_wr *wr, struct kvs_seg *seg)
{
	struct kvs_gc *gc = &kv->gc;

	(void)wr;
	for (unsigned i = 0; i < gc->nmoves; i++) {
		struct kvs_rec_hdr *h = (struct kvs_rec_hdr *)(gc->out + gc->moves[i].out_off);

		kvs_rec_seal(h, h->seq, seg->epoch);
		if (h->seq < seg->min_seq)
			seg->min_seq = h->seq;
	}
}

void kvs_gc_written(struct kvs *kv, struct io_uring *ring, int res)
{
	struct kvs_gc *gc = &kv->gc;
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
			e->seg = gc->wr.seg;
			e->off = gc->wr.off + m->out_off;
			kvs_seg_live_add(kv, e->seg, m->len);
			kvs_seg_live_add(kv, v->idx, -(int64_t)m->len);
		}
		pthread_mutex_unlock(lk);
	}
	atomic_fetch_add(&kv->st_gc_moved, gc->nmoves);
	kvs_gc_parse(kv, ring);
}
