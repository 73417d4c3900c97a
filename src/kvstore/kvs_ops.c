/* SPDX-License-Identifier: MIT */
/*
 * The KV operations: validate, consult/update the index under its stripe lock, and either
 * complete inline or hand a record to the caller's commit shard (store, delete) or read it
 * (retrieve). In RAM a store or delete is placed, copied and indexed at once and completes
 * inline; on a file it completes when its batch is on the medium. Either way `done` runs on
 * the submitting thread: a shard only ever runs on its own executor.
 */
#include <errno.h>
#include <string.h>

#include "kvs_priv.h"

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

void kvs_space_add(struct kvs *kv, struct kvs_shard *sh, int64_t delta)
{
	int64_t local = atomic_load_explicit(&sh->used_local, memory_order_relaxed) + delta;

	if (local >= kv->used_chunk || local <= -kv->used_chunk) {
		atomic_fetch_add_explicit(&kv->used, local, memory_order_relaxed);
		local = 0;
	}
	atomic_store_explicit(&sh->used_local, local, memory_order_relaxed);
}

/* Admission: what is used (this shard's unpublished share included) plus len fits. */
static bool kvs_space_ok(struct kvs *kv, struct kvs_shard *sh, uint32_t len)
{
	int64_t used = atomic_load_explicit(&kv->used, memory_order_relaxed) +
		       atomic_load_explicit(&sh->used_local, memory_order_relaxed);

	return used + (int64_t)len <= (int64_t)kv->live_limit;
}

/* Stripe lock held: the record of wr (placed, now on the medium or in RAM) becomes the key's
 * if nothing newer has. Returns the space it frees (the replaced or the losing record). */
static int64_t kvs_apply(struct kvs *kv, struct kvs_io *io, struct kvs_ent *e)
{
	struct kvs_wr *wr = &io->priv.wr;
	int64_t freed;
	bool was;

	if (e->seq > wr->seq)
		return wr->len; /* a newer record applied first: this one is dead on arrival */
	was = kvs_ent_live(e);
	freed = 0;
	if (e->seg != KVS_SEG_NONE) {
		freed = kvs_ent_rec_len(e);
		kvs_seg_live_add(&kv->segs, e->seg, -freed);
	}
	e->seq = wr->seq;
	e->seg = wr->seg;
	e->off = wr->off;
	kvs_ent_set(e, KVS_ENT_TOMB, io->op == KVS_OP_DELETE);
	e->vlen = io->op == KVS_OP_DELETE ? 0 : io->len;
	kvs_seg_live_add(&kv->segs, e->seg, wr->len);
	if (was != kvs_ent_live(e)) {
		if (was)
			atomic_fetch_sub(&kv->idx.keys, 1);
		else
			atomic_fetch_add(&kv->idx.keys, 1);
	}
	return freed;
}

/* A record of sh reached the log (whether or not it stays the key's newest). */
static void kvs_count_store(struct kvs_shard *sh)
{
	atomic_store_explicit(&sh->st_stores, atomic_load_explicit(&sh->st_stores, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* The shard finished the write (on the submitter's executor): index, then done. */
static void kvs_committed(struct kvs_wr *wr, struct executor *ex, int res)
{
	struct kvs_io *io = container_of(wr, struct kvs_io, priv.wr);
	struct kvs *kv = io->priv.kv;
	struct kvs_shard *sh = io->priv.sh;

	(void)ex;
	io->status = res < 0 ? kvs_errno_status(res) : 0;
	if (wr->kind != KVS_WR_FLUSH) {
		uint64_t h;
		pthread_mutex_t *lk;
		struct kvs_ent *e = kvs_find_locked(kv, io, &h, &lk);
		int64_t freed = wr->len;

		/* always found: entries with writes pending are never removed */
		if (res >= 0)
			kvs_count_store(sh);
		if (e) {
			if (res >= 0)
				freed = kvs_apply(kv, io, e);
			if (--e->pending == 0) {
				kvs_ent_set(e, KVS_ENT_LPRESENT, kvs_ent_live(e));
				if (e->seg == KVS_SEG_NONE)
					kvs_idx_del(&kv->idx, h, e);
			}
		}
		pthread_mutex_unlock(lk);
		kvs_space_add(kv, sh, -freed);
	}
	io->done(io);
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
	wr->done = kvs_committed;
	wr->len = kvs_rec_len(io->key_len, vlen);
	wr->niov = 0;
	wr->iov[wr->niov++] = (struct iovec){ io->priv.hdr, head };
	if (vlen)
		wr->iov[wr->niov++] = (struct iovec){ io->buf, vlen };
	if (wr->len > head + vlen)
		wr->iov[wr->niov++] = (struct iovec){ (void *)zeros, wr->len - head - vlen };
}

/*
 * Stripe lock held, e the key's entry (created if need be), the record built. In RAM the
 * record is placed and indexed now and the operation completes inline, unless the shard
 * must queue it; otherwise it is queued with the entry's pending count raised. Unlocks.
 */
static void kvs_write(struct kvs *kv, struct kvs_shard *sh, struct kvs_io *io, struct kvs_ent *e,
		      pthread_mutex_t *lk, bool present)
{
	struct kvs_wr *wr = &io->priv.wr;

	if (kvs_log_is_mem(&kv->log) && kvs_shard_place_now(sh, wr)) {
		int64_t freed = kvs_apply(kv, io, e);

		kvs_ent_set(e, KVS_ENT_LPRESENT, present);
		pthread_mutex_unlock(lk);
		kvs_count_store(sh);
		kvs_space_add(kv, sh, (int64_t)wr->len - freed);
		return kvs_finish(io, 0);
	}
	kvs_ent_set(e, KVS_ENT_LPRESENT, present);
	e->pending++;
	pthread_mutex_unlock(lk);
	kvs_space_add(kv, sh, wr->len);
	kvs_shard_enqueue(sh, wr);
}

/* ---- the operations ---- */

static void kvs_store(struct kvs *kv, struct kvs_shard *sh, struct kvs_io *io)
{
	uint64_t h;
	pthread_mutex_t *lk;
	struct kvs_ent *e;

	if (!kvs_key_ok(io))
		return kvs_finish(io, NVME_SC_KV_INVALID_KEY_SIZE);
	if (io->len > kv->max_value || (io->len && !io->buf))
		return kvs_finish(io, NVME_SC_KV_INVALID_VALUE_SIZE);
	if (!kvs_space_ok(kv, sh, kvs_rec_len(io->key_len, io->len)))
		return kvs_finish(io, NVME_SC_KV_CAPACITY_EXCEEDED);
	/* outside the stripe lock: the value's CRC */
	kvs_build_record(io, io->len, 0);

	e = kvs_find_locked(kv, io, &h, &lk);
	if ((io->options & KVS_STORE_MUST_EXIST) && !(e && kvs_ent_lpresent(e))) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, NVME_SC_KV_KEY_NOT_EXIST);
	}
	if ((io->options & KVS_STORE_MUST_NOT_EXIST) && e && kvs_ent_lpresent(e)) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, NVME_SC_KV_KEY_EXISTS);
	}
	if (!e)
		e = kvs_idx_add(&kv->idx, h, io->key, io->key_len);
	if (!e || e->pending == UINT16_MAX) {
		if (e && e->seg == KVS_SEG_NONE && !e->pending)
			kvs_idx_del(&kv->idx, h, e);
		pthread_mutex_unlock(lk);
		return kvs_finish(io, KVS_SC_INTERNAL);
	}
	kvs_write(kv, sh, io, e, lk, true);
}

static void kvs_delete(struct kvs *kv, struct kvs_shard *sh, struct kvs_io *io)
{
	uint64_t h;
	pthread_mutex_t *lk;
	struct kvs_ent *e;

	if (!kvs_key_ok(io))
		return kvs_finish(io, NVME_SC_KV_INVALID_KEY_SIZE);
	kvs_build_record(io, 0, KVS_REC_TOMBSTONE);
	e = kvs_find_locked(kv, io, &h, &lk);
	if (!e || !kvs_ent_lpresent(e)) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, NVME_SC_KV_KEY_NOT_EXIST);
	}
	if (e->pending == UINT16_MAX) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, KVS_SC_INTERNAL);
	}
	/* No admission check: a tombstone must always be writable to free space. */
	kvs_write(kv, sh, io, e, lk, false);
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
	io->value_size = e->vlen;
	n = io->len < io->value_size ? io->len : io->value_size;
	s = &kv->segs.segs[e->seg];
	dev_off = kvs_log_seg_off(&kv->log, s->idx) + e->off + KVS_REC_HDR_LEN + e->klen;
	if (n && io->by_ref && kvs_log_is_mem(&kv->log)) {
		/* Lent in place: pinned under the stripe lock, so GC cannot recycle the segment
		 * (and nothing writes a segment before it is recycled) until kvs_io_unref. */
		kvs_seg_pin(s);
		pthread_mutex_unlock(lk);
		io->priv.seg = s;
		io->ref = kv->log.mem + dev_off;
		return kvs_finish(io, 0);
	}
	if (n && !io->buf) {
		pthread_mutex_unlock(lk);
		return kvs_finish(io, KVS_SC_INTERNAL);
	}
	if (kvs_log_is_mem(&kv->log) || n == 0) {
		/* Copied under the stripe lock: GC cannot move the record or free its segment
		 * before it switched this entry, which needs the lock. No pin. */
		if (n)
			memcpy(io->buf, kv->log.mem + dev_off, n);
		pthread_mutex_unlock(lk);
		return kvs_finish(io, 0);
	}
	/* Pinned under the stripe lock: GC cannot free the segment until we unpin. */
	kvs_seg_pin(s);
	pthread_mutex_unlock(lk);
	io->priv.seg = s;
	io->priv.want = n;
	io->priv.rop.complete = kvs_retrieve_cqe;
	sqe = executor_get_sqe(ex);
	io_uring_prep_read(sqe, kv->log.fd, io->buf, n, dev_off);
	ring_op_attach(sqe, &io->priv.rop);
}

void kvs_io_unref(struct kvs_io *io)
{
	if (!io->ref)
		return;
	io->ref = NULL;
	kvs_seg_unpin(&io->priv.kv->segs, io->priv.seg);
}

bool kvs_in_memory(const struct kvs *kv)
{
	return kvs_log_is_mem(&kv->log);
}

void kvs_submit(struct kvs *kv, struct executor *ex, struct kvs_io *io)
{
	io->status = 0;
	io->value_size = 0;
	io->ref = NULL;
	io->priv.kv = kv;
	switch (io->op) {
	case KVS_OP_RETRIEVE:
		return kvs_retrieve(kv, ex, io);
	case KVS_OP_EXIST:
		return kvs_exist(kv, io);
	case KVS_OP_LIST:
		kvs_list_run(kv, io);
		return io->done(io);
	case KVS_OP_STORE:
	case KVS_OP_DELETE:
	case KVS_OP_FLUSH:
		break;
	default:
		return kvs_finish(io, KVS_SC_INTERNAL);
	}
	io->priv.sh = kvs_commit_shard(&kv->commit, ex);
	if (!io->priv.sh)
		return kvs_finish(io, KVS_SC_INTERNAL); /* more writing executors than shards */
	if (io->op == KVS_OP_STORE)
		return kvs_store(kv, io->priv.sh, io);
	if (io->op == KVS_OP_DELETE)
		return kvs_delete(kv, io->priv.sh, io);
	if (kvs_log_is_mem(&kv->log) || !kv->commit.volatile_cache)
		return kvs_finish(io, 0); /* every completed store is already stable */
	/* a sync issued now covers every store completed on any shard */
	io->priv.wr.kind = KVS_WR_FLUSH;
	io->priv.wr.len = 0;
	io->priv.wr.niov = 0;
	io->priv.wr.done = kvs_committed;
	kvs_shard_enqueue(io->priv.sh, &io->priv.wr);
}
