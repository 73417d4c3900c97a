/* SPDX-License-Identifier: MIT */
/*
 * The KV operations: validate, consult/update the index under its stripe lock, and either
 * complete inline or hand a record to group commit (store, delete) or read it (retrieve).
 * A write group commit finished on another thread is handed back with IORING_OP_MSG_RING.
 */
#include <errno.h>
#include <string.h>

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

static void kvs_finish(struct kvs_io *io, uint8_t sc)
{
	io->status = sc ? KVS_STATUS(sc) : 0;
	io->done(io);
}

static uint16_t kvs_errno_status(int res)
{
	if (res == -ENOSPC)
		return KVS_STATUS(NVME_SC_KV_CAPACITY_EXCEEDED);
	if (res == -ENOMEM)
		return KVS_STATUS(KVS_SC_INTERNAL);
	return KVS_STATUS(NVME_SC_KV_UNRECOVERED);
}

static bool kvs_key_ok(const struct kvs_io *io)
{
	return io->key_len >= NVME_KV_KEY_MIN && io->key_len <= NVME_KV_KEY_MAX;
}

/* The key's index entry (NULL if none) with its stripe lock held; h and lk for the caller. */
static struct kvs_ent *kvs_find_locked(struct kvs *kv, const struct kvs_io *io, uint64_t *h,
				       pthread_mutex_t **lk)
{
	*h = kvs_idx_hash(io->key, io->key_len);
	*lk = kvs_idx_lock(&kv->idx, *h);
	pthread_mutex_lock(*lk);
	return kvs_idx_find(&kv->idx, *h, io->key, io->key_len);
}

/* ---- completion of writes ---- */

/* Back on the submitter's thread (the executor_post fallback). */
static void kvs_delivered(struct exec_completion *xc)
{
	struct kvs_io *io = container_of(xc, struct kvs_io, priv.xc);

	io->done(io);
}

/* The write finished on another thread: its completion arrives on the owner's ring. */
static void kvs_msg_arrived(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct kvs_io *io = container_of(op, struct kvs_io, priv.rop);

	(void)cqe;
	kvs_handoff_acquire(io);
	io->done(io);
}

/* Only a MSG_RING that failed posts a CQE on the sender (IOSQE_CQE_SKIP_SUCCESS): the target
 * got nothing, so the io is still ours to hand over the slow way. */
static void kvs_msg_failed(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct kvs_io *io = container_of(op, struct kvs_io, priv.msg_rop);

	(void)cqe;
	executor_post(io->priv.ex, &io->priv.xc);
}

/* Hand io's completion to the thread that owns its executor. MSG_RING costs the sender one SQE
 * and no syscall of its own, about half of executor_post's eventfd wakeup per completion
 * (bench/xdeliver_bench); executor_post is the fallback that cannot fail. */
static void kvs_deliver_remote(struct executor *from, struct kvs_io *io)
{
	struct io_uring_sqe *sqe = executor_get_sqe(from);

	io_uring_prep_msg_ring(sqe, io->priv.ex->ring->ring_fd, 0, (uint64_t)(uintptr_t)&io->priv.rop, 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	ring_op_attach(sqe, &io->priv.msg_rop);
	kvs_handoff_release(io);
}

/* Stripe lock held: the write of io committed (res 0) or failed; update the entry. */
static void kvs_apply(struct kvs *kv, struct kvs_io *io, struct kvs_ent *e, uint64_t h, int res)
{
	struct kvs_wr *wr = &io->priv.wr;

	if (res >= 0 && e->seq < wr->seq) {
		bool was = kvs_ent_live(e);

		if (e->seg != KVS_SEG_NONE)
			kvs_seg_live_add(&kv->segs, e->seg,
					 -(int64_t)kvs_rec_len(e->klen, e->tomb ? 0 : e->vlen));
		e->seq = wr->seq;
		e->seg = wr->seg;
		e->off = wr->off;
		e->tomb = io->op == KVS_OP_DELETE;
		e->vlen = e->tomb ? 0 : io->len;
		kvs_seg_live_add(&kv->segs, e->seg, wr->len);
		if (was != kvs_ent_live(e)) {
			if (was)
				atomic_fetch_sub(&kv->idx.keys, 1);
			else
				atomic_fetch_add(&kv->idx.keys, 1);
		}
		atomic_fetch_add(&kv->st_stores, 1);
	}
	if (--e->pending == 0) {
		e->lpresent = kvs_ent_live(e);
		if (e->seg == KVS_SEG_NONE)
			kvs_idx_del(&kv->idx, h, e);
	}
}

/* Group commit finished the write (on ex): index first, so a store is visible before its
 * completion is delivered. */
static void kvs_committed(struct kvs_wr *wr, struct executor *ex, int res)
{
	struct kvs_io *io = container_of(wr, struct kvs_io, priv.wr);
	struct kvs *kv = io->priv.kv;

	io->status = res < 0 ? kvs_errno_status(res) : 0;
	if (wr->kind != KVS_WR_FLUSH) {
		uint64_t h;
		pthread_mutex_t *lk;
		struct kvs_ent *e;

		atomic_fetch_sub(&kv->inflight_bytes, wr->len);
		e = kvs_find_locked(kv, io, &h, &lk);
		if (e) /* always: entries with writes pending are never removed */
			kvs_apply(kv, io, e, h, res);
		pthread_mutex_unlock(lk);
	}
	if (io->priv.ex == ex) {
		io->done(io);
		return;
	}
	atomic_fetch_add(&kv->st_xring, 1);
	kvs_deliver_remote(ex, io);
}

static void kvs_enqueue(struct kvs *kv, struct executor *ex, struct kvs_io *io)
{
	io->priv.wr.done = kvs_committed;
	/* Set here, on the owner's thread: the CQE a delivering thread posts lands on them. */
	io->priv.rop.complete = kvs_msg_arrived;
	io->priv.msg_rop.complete = kvs_msg_failed;
	if (kvs_commit_enqueue(&kv->commit, ex, &io->priv.wr))
		kvs_gc_kick(kv, ex); /* it waits for space */
}

/* Header + key in io->priv.hdr and the write's iovecs; seq/epoch are sealed at placement. */
static void kvs_build_record(struct kvs_io *io, uint32_t vlen, uint8_t flags)
{
	struct kvs_wr *wr = &io->priv.wr;
	uint32_t head = KVS_REC_HDR_LEN + io->key_len;
	static const uint8_t zeros[KVS_REC_ALIGN];

	kvs_log_rec_init((struct kvs_rec_hdr *)io->priv.hdr, io->key, io->key_len, io->buf, vlen, flags);
	memcpy(io->priv.hdr + KVS_REC_HDR_LEN, io->key, io->key_len);
	wr->kind = KVS_WR_RECORD;
	wr->len = kvs_rec_len(io->key_len, vlen);
	wr->niov = 0;
	wr->iov[wr->niov++] = (struct iovec){ io->priv.hdr, head };
	if (vlen)
		wr->iov[wr->niov++] = (struct iovec){ io->buf, vlen };
	if (wr->len > head + vlen)
		wr->iov[wr->niov++] = (struct iovec){ (void *)zeros, wr->len - head - vlen };
}

/* ---- the operations ---- */

static void kvs_store(struct kvs *kv, struct executor *ex, struct kvs_io *io)
{
	uint64_t h;
	pthread_mutex_t *lk;
	struct kvs_ent *e;
	uint32_t rlen;

	if (!kvs_key_ok(io))
		return kvs_finish(io, NVME_SC_KV_INVALID_KEY_SIZE);
	if (io->len > kv->max_value || (io->len && !io->buf))
		return kvs_finish(io, NVME_SC_KV_INVALID_VALUE_SIZE);
	rlen = kvs_rec_len(io->key_len, io->len);
	if ((uint64_t)(atomic_load(&kv->segs.live_total) + atomic_load(&kv->inflight_bytes)) + rlen >
	    kv->live_limit)
		return kvs_finish(io, NVME_SC_KV_CAPACITY_EXCEEDED);

	e = kvs_find_locked(kv, io, &h, &lk);
	if ((io->options & KVS_STORE_MUST_EXIST) && !(e && e->lpresent)) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, NVME_SC_KV_KEY_NOT_EXIST);
	}
	if ((io->options & KVS_STORE_MUST_NOT_EXIST) && e && e->lpresent) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, NVME_SC_KV_KEY_EXISTS);
	}
	if (!e)
		e = kvs_idx_add(&kv->idx, h, io->key, io->key_len);
	if (!e || e->pending == UINT16_MAX) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, KVS_SC_INTERNAL);
	}
	e->lpresent = 1;
	e->pending++;
	pthread_mutex_unlock(lk);

	atomic_fetch_add(&kv->inflight_bytes, rlen);
	kvs_build_record(io, io->len, 0);
	kvs_enqueue(kv, ex, io);
}

static void kvs_delete(struct kvs *kv, struct executor *ex, struct kvs_io *io)
{
	uint64_t h;
	pthread_mutex_t *lk;
	struct kvs_ent *e;

	if (!kvs_key_ok(io))
		return kvs_finish(io, NVME_SC_KV_INVALID_KEY_SIZE);
	e = kvs_find_locked(kv, io, &h, &lk);
	if (!e || !e->lpresent) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, NVME_SC_KV_KEY_NOT_EXIST);
	}
	if (e->pending == UINT16_MAX) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, KVS_SC_INTERNAL);
	}
	e->lpresent = 0;
	e->pending++;
	pthread_mutex_unlock(lk);

	/* No admission check: a tombstone must always be writable to free space. */
	atomic_fetch_add(&kv->inflight_bytes, kvs_rec_len(io->key_len, 0));
	kvs_build_record(io, 0, KVS_REC_TOMBSTONE);
	kvs_enqueue(kv, ex, io);
}

static void kvs_exist(struct kvs *kv, struct kvs_io *io)
{
	uint64_t h;
	pthread_mutex_t *lk;
	struct kvs_ent *e;
	bool live;

	if (!kvs_key_ok(io))
		return kvs_finish(io, NVME_SC_KV_INVALID_KEY_SIZE);
	e = kvs_find_locked(kv, io, &h, &lk);
	live = e && kvs_ent_live(e);
	pthread_mutex_unlock(lk);
	kvs_finish(io, live ? 0 : NVME_SC_KV_KEY_NOT_EXIST);
}

static void kvs_retrieve_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct kvs_io *io = container_of(op, struct kvs_io, priv.rop);

	kvs_seg_unpin(&io->priv.kv->segs, io->priv.seg);
	/* A short read means the record is not where the index says: an unrecovered error. */
	kvs_finish(io, cqe->res == (int)io->priv.want ? 0 : NVME_SC_KV_UNRECOVERED);
}

static void kvs_retrieve(struct kvs *kv, struct executor *ex, struct kvs_io *io)
{
	uint64_t h, dev_off;
	pthread_mutex_t *lk;
	struct kvs_ent *e;
	struct kvs_seg *s;
	uint32_t n;
	struct io_uring_sqe *sqe;

	if (!kvs_key_ok(io))
		return kvs_finish(io, NVME_SC_KV_INVALID_KEY_SIZE);
	e = kvs_find_locked(kv, io, &h, &lk);
	if (!e || !kvs_ent_live(e)) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, NVME_SC_KV_KEY_NOT_EXIST);
	}
	s = &kv->segs.segs[e->seg];
	/* Pinned under the stripe lock: GC cannot free the segment until we unpin. */
	kvs_seg_pin(s);
	dev_off = kvs_log_seg_off(&kv->log, s->idx) + e->off + KVS_REC_HDR_LEN + e->klen;
	io->value_size = e->vlen;
	pthread_mutex_unlock(lk);

	n = io->len < io->value_size ? io->len : io->value_size;
	if (n && !io->buf) {
		kvs_seg_unpin(&kv->segs, s);
		return kvs_finish(io, KVS_SC_INTERNAL);
	}
	if (kvs_log_is_mem(&kv->log) || n == 0) {
		if (n)
			memcpy(io->buf, kv->log.mem + dev_off, n);
		kvs_seg_unpin(&kv->segs, s);
		return kvs_finish(io, 0);
	}
	io->priv.seg = s;
	io->priv.want = n;
	io->priv.rop.complete = kvs_retrieve_cqe;
	sqe = executor_get_sqe(ex);
	io_uring_prep_read(sqe, kv->log.fd, io->buf, n, dev_off);
	ring_op_attach(sqe, &io->priv.rop);
}

void kvs_submit(struct kvs *kv, struct executor *ex, struct kvs_io *io)
{
	io->status = 0;
	io->value_size = 0;
	io->priv.ex = ex;
	io->priv.kv = kv;
	io->priv.xc.fn = kvs_delivered;
	switch (io->op) {
	case KVS_OP_STORE:
		return kvs_store(kv, ex, io);
	case KVS_OP_RETRIEVE:
		return kvs_retrieve(kv, ex, io);
	case KVS_OP_DELETE:
		return kvs_delete(kv, ex, io);
	case KVS_OP_EXIST:
		return kvs_exist(kv, io);
	case KVS_OP_LIST:
		kvs_list_run(kv, io);
		return io->done(io);
	case KVS_OP_FLUSH:
		if (kvs_log_is_mem(&kv->log) || !kv->commit.volatile_cache)
			return kvs_finish(io, 0); /* every completed store is already stable */
		io->priv.wr.kind = KVS_WR_FLUSH;
		io->priv.wr.len = 0;
		io->priv.wr.niov = 0;
		return kvs_enqueue(kv, ex, io);
	}
	kvs_finish(io, KVS_SC_INTERNAL);
}

void kvs_poll(struct kvs *kv, struct executor *ex)
{
	if (kvs_segs_dirty(&kv->segs) || kvs_segs_free_count(&kv->segs) <= KVS_GC_RESERVE + 1)
		kvs_gc_kick(kv, ex);
}
