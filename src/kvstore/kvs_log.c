/* SPDX-License-Identifier: MIT */
/*
 * The log head and group commit. Writes (stores, tombstones, GC copies, flushes) queue under
 * log_lock; whichever thread finds no batch in flight forms the next one from everything
 * queued and issues it on its own ring as one writev (+ a linked fdatasync). While it is in
 * flight, new writes accumulate, so concurrent stores share a write and a sync. The thread
 * that reaps the batch updates the index, issues the next batch and hands each store back to
 * its owner's ring (MSG_RING) so `done` runs where the command lives.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../spec/crc32c.h"
#include "kvs_priv.h"

/* MSG_RING orders the sender's writes before the receiver's reads in the kernel, where
 * ThreadSanitizer cannot see it: tell it. */
#if defined(__SANITIZE_THREAD__)
#define KVS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KVS_TSAN 1
#endif
#endif
#ifdef KVS_TSAN
#include <sanitizer/tsan_interface.h>
#define kvs_handoff_release(p) __tsan_release(p)
#define kvs_handoff_acquire(p) __tsan_acquire(p)
#else
#define kvs_handoff_release(p) ((void)(p))
#define kvs_handoff_acquire(p) ((void)(p))
#endif

void kvs_rec_seal(struct kvs_rec_hdr *h, uint64_t seq, uint64_t epoch)
{
	h->seq = seq;
	h->epoch = epoch;
	h->hdr_crc = 0;
	h->hdr_crc = crc32c(h, sizeof(*h));
}

/* n SQEs with room guaranteed for all of them, so a linked pair is never split by a submit. */
struct io_uring_sqe *kvs_get_sqes(struct io_uring *ring, unsigned n)
{
	while (io_uring_sq_space_left(ring) < n)
		io_uring_submit(ring);
	return io_uring_get_sqe(ring);
}

/* ---- delivery to the owner's ring ---- */

static void kvs_msg_arrived(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct kvs_io *io = container_of(op, struct kvs_io, priv.rop);

	(void)cqe;
	kvs_handoff_acquire(io);
	io->done(io);
}

static void kvs_msg_sent(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	/* The io may already be reused by its owner: never touch it here. */
	(void)op;
	if (cqe->res < 0)
		fprintf(stderr, "kvstore: MSG_RING delivery failed: %s\n", strerror(-cqe->res));
}

static struct ring_op kvs_msg_sent_op = { .complete = kvs_msg_sent };

void kvs_deliver(struct kvs *kv, struct io_uring *ring, struct kvs_io *io)
{
	struct io_uring_sqe *sqe;

	if (!ring || io->priv.ring == ring) {
		io->done(io);
		return;
	}
	atomic_fetch_add(&kv->st_xring, 1);
	io->priv.msg_src = ring;
	sqe = ring_get_sqe(ring);
	io_uring_prep_msg_ring(sqe, io->priv.ring->ring_fd, 0, (uint64_t)(uintptr_t)&io->priv.rop, 0);
	ring_op_attach(sqe, &kvs_msg_sent_op);
	kvs_handoff_release(io);
}

/* ---- segment accounting ---- */

void kvs_seg_live_add(struct kvs *kv, uint32_t seg, int64_t delta)
{
	struct kvs_seg *s = &kv->segs[seg];
	int64_t old = atomic_fetch_add(&s->live, delta);

	atomic_fetch_add(&kv->live_total, delta);
	/* Crossing under the threshold makes a sealed segment a GC candidate. */
	if (delta < 0 && old >= kv->gc_live_thr && old + delta < kv->gc_live_thr)
		__atomic_store_n(&kv->gc_dirty, true, __ATOMIC_RELAXED);
}

void kvs_seg_release_locked(struct kvs *kv, struct kvs_seg *s)
{
	atomic_store(&s->live, 0);
	s->used = 0;
	s->epoch = 0;
	__atomic_store_n(&s->state, KVS_SEG_FREE, __ATOMIC_SEQ_CST);
	s->next_free = kv->free_list;
	kv->free_list = s;
	__atomic_add_fetch(&kv->free_count, 1, __ATOMIC_RELAXED);
	atomic_fetch_add(&kv->st_gc_freed, 1);
}

void kvs_seg_unpin(struct kvs *kv, struct kvs_seg *s)
{
	/* Pairs with kvs_gc: it sets ZOMBIE then checks readers; we drop readers then check. */
	if (atomic_fetch_sub(&s->readers, 1) != 1)
		return;
	if (__atomic_load_n(&s->state, __ATOMIC_SEQ_CST) != KVS_SEG_ZOMBIE)
		return;
	pthread_mutex_lock(&kv->log_lock);
	if (s->state == KVS_SEG_ZOMBIE && atomic_load(&s->readers) == 0)
		kvs_seg_release_locked(kv, s);
	pthread_mutex_unlock(&kv->log_lock);
}

/* ---- batch formation (log_lock held) ---- */

static void kvs_log_open_seg(struct kvs *kv, struct kvs_batch *b)
{
	struct kvs_seg *s = kv->free_list;

	if (kv->head) {
		__atomic_store_n(&kv->head->state, KVS_SEG_SEALED, __ATOMIC_SEQ_CST);
		__atomic_store_n(&kv->gc_dirty, true, __ATOMIC_RELAXED);
	}
	kv->free_list = s->next_free;
	__atomic_sub_fetch(&kv->free_count, 1, __ATOMIC_RELAXED);
	s->epoch = ++kv->seq;
	s->used = KVS_SEG_HDR_LEN;
	s->min_seq = UINT64_MAX;
	atomic_store(&s->live, 0);
	__atomic_store_n(&s->state, KVS_SEG_OPEN, __ATOMIC_SEQ_CST);
	kv->head = s;

	memset(&b->seg_hdr, 0, sizeof(b->seg_hdr));
	b->seg_hdr.magic = KVS_SEG_MAGIC;
	b->seg_hdr.index = s->idx;
	b->seg_hdr.epoch = s->epoch;
	b->seg_hdr.crc = crc32c(&b->seg_hdr, sizeof(b->seg_hdr));
	b->seg = s;
	b->off = 0;
	b->iov[0].iov_base = &b->seg_hdr;
	b->iov[0].iov_len = sizeof(b->seg_hdr);
	b->niov = 1;
	b->len = sizeof(b->seg_hdr);
}

static void kvs_log_take(struct kvs *kv, struct kvs_batch *b, struct kvs_wr *wr, bool gc)
{
	if (gc) {
		kv->gc_first = NULL;
	} else {
		kv->fg_first = wr->next;
		if (!kv->fg_first)
			kv->fg_last = NULL;
	}
	kvs_wr_append(&b->first, &b->last, wr);
}

static void kvs_log_place(struct kvs *kv, struct kvs_batch *b, struct kvs_wr *wr, bool gc)
{
	struct kvs_seg *h = kv->head;

	wr->seg = h->idx;
	wr->off = h->used;
	h->used += wr->len;
	if (gc) {
		kvs_gc_place(kv, wr, h);
	} else {
		struct kvs_io *io = container_of(wr, struct kvs_io, priv.wr);

		io->priv.seq = ++kv->seq;
		if (io->priv.seq < h->min_seq)
			h->min_seq = io->priv.seq;
		kvs_rec_seal((struct kvs_rec_hdr *)io->priv.hdr, io->priv.seq, h->epoch);
	}
	for (unsigned i = 0; i < wr->niov; i++)
		b->iov[b->niov++] = wr->iov[i];
	b->len += wr->len;
}

/* Gather queued writes into the next batch: contiguous, in one segment. */
static bool kvs_log_form(struct kvs *kv)
{
	struct kvs_batch *b = &kv->batch;

	if (kv->inflight)
		return false;
	b->first = b->last = NULL;
	b->seg = NULL;
	b->niov = 0;
	b->len = 0;
	b->res = 0;
	b->sync = !kv->volatile_cache;
	kv->space_wait = false;
	for (;;) {
		bool gc = kv->gc_first != NULL;
		struct kvs_wr *wr = gc ? kv->gc_first : kv->fg_first;

		if (!wr)
			break;
		if (wr->len == 0) { /* flush: forces the sync, needs no space */
			b->sync = true;
			kvs_log_take(kv, b, wr, gc);
			continue;
		}
		if (!kv->head || kv->head->used + wr->len > kv->seg_size) {
			if (b->seg)
				break;
			/* Foreground leaves the last free segments to GC so compaction can run. */
			if (kv->free_count <= (gc ? 0 : KVS_GC_RESERVE)) {
				kv->space_wait = !gc;
				break;
			}
			kvs_log_open_seg(kv, b);
		}
		if (b->niov + wr->niov > KVS_MAX_IOV)
			break;
		if (!b->seg) {
			b->seg = kv->head;
			b->off = kv->head->used;
		}
		if (gc)
			b->sync = true; /* a copy must be stable before its source is freed */
		kvs_log_place(kv, b, wr, gc);
		kvs_log_take(kv, b, wr, gc);
	}
	if (!b->first)
		return false;
	kv->inflight = true;
	return true;
}

/* ---- issue and completion ---- */

static void kvs_batch_done(struct kvs *kv, struct io_uring *ring);

static void kvs_batch_wr_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct kvs_batch *b = container_of(op, struct kvs_batch, wr_op);
	struct kvs *kv = container_of(b, struct kvs, batch);

	if (cqe->res < 0)
		b->res = cqe->res;
	else if (kv->fd >= 0 && (uint32_t)cqe->res != b->len)
		b->res = -EIO; /* a short write to a file or device: the medium is full or failing */
	if (--b->cqes == 0)
		kvs_batch_done(kv, b->ring);
}

static void kvs_batch_sync_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct kvs_batch *b = container_of(op, struct kvs_batch, sync_op);
	struct kvs *kv = container_of(b, struct kvs, batch);

	if (cqe->res < 0 && b->res == 0)
		b->res = cqe->res;
	if (--b->cqes == 0)
		kvs_batch_done(kv, b->ring);
}

static void kvs_log_issue(struct kvs *kv, struct io_uring *ring)
{
	struct kvs_batch *b = &kv->batch;
	struct io_uring_sqe *sqe;

	b->ring = ring;
	b->wr_op.complete = kvs_batch_wr_cqe;
	b->sync_op.complete = kvs_batch_sync_cqe;
	atomic_fetch_add(&kv->st_batches, 1);
	if (kv->fd < 0) {
		/* RAM: copy now, complete through a NOP so callers see the same async flow. */
		if (b->seg) {
			uint8_t *dst = kv->mem + kvs_seg_dev_off(kv, b->seg) + b->off;

			for (int i = 0; i < b->niov; i++) {
				memcpy(dst, b->iov[i].iov_base, b->iov[i].iov_len);
				dst += b->iov[i].iov_len;
			}
		}
		b->cqes = 1;
		sqe = ring_get_sqe(ring);
		io_uring_prep_nop(sqe);
		ring_op_attach(sqe, &b->wr_op);
		return;
	}
	if (!b->seg) { /* flush only */
		b->cqes = 1;
		atomic_fetch_add(&kv->st_syncs, 1);
		sqe = ring_get_sqe(ring);
		io_uring_prep_fsync(sqe, kv->fd, IORING_FSYNC_DATASYNC);
		ring_op_attach(sqe, &b->sync_op);
		return;
	}
	b->cqes = b->sync ? 2 : 1;
	sqe = kvs_get_sqes(ring, b->cqes);
	io_uring_prep_writev(sqe, kv->fd, b->iov, b->niov, kvs_seg_dev_off(kv, b->seg) + b->off);
	ring_op_attach(sqe, &b->wr_op);
	if (b->sync) {
		sqe->flags |= IOSQE_IO_LINK; /* the sync runs only after the write succeeded */
		sqe = io_uring_get_sqe(ring);
		io_uring_prep_fsync(sqe, kv->fd, IORING_FSYNC_DATASYNC);
		ring_op_attach(sqe, &b->sync_op);
		atomic_fetch_add(&kv->st_syncs, 1);
	}
}

static void kvs_batch_done(struct kvs *kv, struct io_uring *ring)
{
	struct kvs_batch *b = &kv->batch;
	struct kvs_wr *list = b->first, *wr, *next;
	int res = b->res;
	bool formed, wait;

	/* Index first: a store is visible before its completion is delivered. */
	for (wr = list; wr; wr = wr->next)
		if (wr->kind != KVS_WR_GC)
			kvs_ops_committed(kv, container_of(wr, struct kvs_io, priv.wr), res);

	pthread_mutex_lock(&kv->log_lock);
	/* Never append behind a failed write: recovery stops at the first bad record. */
	if (res < 0 && b->seg && kv->head == b->seg) {
		__atomic_store_n(&kv->head->state, KVS_SEG_SEALED, __ATOMIC_SEQ_CST);
		kv->head = NULL;
	}
	kv->inflight = false;
	formed = kvs_log_form(kv);
	wait = kv->space_wait;
	pthread_mutex_unlock(&kv->log_lock);
	if (formed)
		kvs_log_issue(kv, ring);

	for (wr = list; wr; wr = next) {
		next = wr->next;
		if (wr->kind == KVS_WR_GC)
			kvs_gc_written(kv, ring, res);
		else
			kvs_deliver(kv, ring, container_of(wr, struct kvs_io, priv.wr));
	}
	if (__atomic_load_n(&kv->gc_dirty, __ATOMIC_RELAXED) || wait)
		kvs_gc_kick(kv, ring);
}

void kvs_log_kick(struct kvs *kv, struct io_uring *ring)
{
	bool formed;

	pthread_mutex_lock(&kv->log_lock);
	formed = kvs_log_form(kv);
	pthread_mutex_unlock(&kv->log_lock);
	if (formed)
		kvs_log_issue(kv, ring);
}

void kvs_log_enqueue(struct kvs *kv, struct io_uring *ring, struct kvs_wr *wr)
{
	bool formed, wait;

	wr->next = NULL;
	/* Set here, on the owner's thread: the CQE a delivering thread posts lands on it. */
	if (wr->kind != KVS_WR_GC)
		container_of(wr, struct kvs_io, priv.wr)->priv.rop.complete = kvs_msg_arrived;
	pthread_mutex_lock(&kv->log_lock);
	if (wr->kind == KVS_WR_GC)
		kv->gc_first = wr;
	else
		kvs_wr_append(&kv->fg_first, &kv->fg_last, wr);
	formed = kvs_log_form(kv);
	wait = kv->space_wait;
	pthread_mutex_unlock(&kv->log_lock);
	if (formed)
		kvs_log_issue(kv, ring);
	if (wait)
		kvs_gc_kick(kv, ring);
}
