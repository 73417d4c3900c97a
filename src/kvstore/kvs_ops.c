/* SPDX-License-Identifier: MIT */
/*
 * The KV operations: validate, consult/update the index under its stripe lock, and either
 * complete inline or hand a record to group commit (store, delete) or read it (retrieve).
 */
#include <errno.h>
#include <string.h>

#include "../spec/crc32c.h"
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

/* Header + key in io->priv.hdr and the write's iovecs; seq/epoch are sealed at placement. */
static void kvs_build_record(struct kvs_io *io, uint32_t vlen, uint8_t flags)
{
	struct kvs_rec_hdr *h = (struct kvs_rec_hdr *)io->priv.hdr;
	struct kvs_wr *wr = &io->priv.wr;
	uint32_t crc = crc32c_update(NVR_CRC32C_SEED, io->key, io->key_len);
	uint32_t head = KVS_REC_HDR_LEN + io->key_len;
	static const uint8_t zeros[KVS_REC_ALIGN];

	if (vlen)
		crc = crc32c_update(crc, io->buf, vlen);
	memset(h, 0, sizeof(*h));
	h->magic = KVS_REC_MAGIC;
	h->value_len = vlen;
	h->data_crc = crc32c_final(crc);
	h->key_len = io->key_len;
	h->flags = flags;
	memcpy(io->priv.hdr + KVS_REC_HDR_LEN, io->key, io->key_len);

	wr->len = kvs_rec_len(io->key_len, vlen);
	wr->niov = 0;
	wr->iov[wr->niov++] = (struct iovec){ io->priv.hdr, head };
	if (vlen)
		wr->iov[wr->niov++] = (struct iovec){ io->buf, vlen };
	if (wr->len > head + vlen)
		wr->iov[wr->niov++] = (struct iovec){ (void *)zeros, wr->len - head - vlen };
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

static void kvs_store(struct kvs *kv, struct io_uring *ring, struct kvs_io *io)
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
	if ((uint64_t)(atomic_load(&kv->live_total) + atomic_load(&kv->inflight_bytes)) + rlen >
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
	io->priv.wr.kind = KVS_WR_STORE;
	kvs_build_record(io, io->len, 0);
	kvs_log_enqueue(kv, ring, &io->priv.wr);
}

static void kvs_delete(struct kvs *kv, struct io_uring *ring, struct kvs_io *io)
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
	io->priv.wr.kind = KVS_WR_DELETE;
	kvs_build_record(io, 0, KVS_REC_TOMBSTONE);
	kvs_log_enqueue(kv, ring, &io->priv.wr);
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

	kvs_seg_unpin(io->priv.kv, io->priv.seg);
	/* A short read means the record is not where the index says: an unrecovered error. */
	kvs_finish(io, cqe->res == (int)io->priv.want ? 0 : NVME_SC_KV_UNRECOVERED);
}

static void kvs_retrieve(struct kvs *kv, struct io_uring *ring, struct kvs_io *io)
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
	s = &kv->segs[e->seg];
	/* Pinned under the stripe lock: GC cannot free the segment until we unpin. */
	atomic_fetch_add(&s->readers, 1);
	dev_off = kvs_seg_dev_off(kv, s) + e->off + KVS_REC_HDR_LEN + e->klen;
	io->value_size = e->vlen;
	pthread_mutex_unlock(lk);

	n = io->len < io->value_size ? io->len : io->value_size;
	if (n && !io->buf) {
		kvs_seg_unpin(kv, s);
		return kvs_finish(io, KVS_SC_INTERNAL);
	}
	if (kv->fd < 0 || n == 0) {
		if (n)
			memcpy(io->buf, kv->mem + dev_off, n);
		kvs_seg_unpin(kv, s);
		return kvs_finish(io, 0);
	}
	io->priv.kv = kv;
	io->priv.seg = s;
	io->priv.want = n;
	io->priv.rop.complete = kvs_retrieve_cqe;
	sqe = ring_get_sqe(ring);
	io_uring_prep_read(sqe, kv->fd, io->buf, n, dev_off);
	ring_op_attach(sqe, &io->priv.rop);
}

void kvs_ops_committed(struct kvs *kv, struct kvs_io *io, int res)
{
	struct kvs_wr *wr = &io->priv.wr;
	uint64_t h;
	pthread_mutex_t *lk;
	struct kvs_ent *e;

	io->status = res < 0 ? kvs_errno_status(res) : 0;
	if (wr->kind == KVS_WR_FLUSH)
		return;
	atomic_fetch_sub(&kv->inflight_bytes, wr->len);
	e = kvs_find_locked(kv, io, &h, &lk);
	if (!e) { /* cannot happen: pending entries are never removed */
		pthread_mutex_unlock(lk);
		return;
	}
	if (res >= 0 && e->seq < io->priv.seq) {
		bool was = kvs_ent_live(e);

		if (e->seg != KVS_SEG_NONE)
			kvs_seg_live_add(kv, e->seg, -(int64_t)kvs_rec_len(e->klen, e->tomb ? 0 : e->vlen));
		e->seq = io->priv.seq;
		e->seg = wr->seg;
		e->off = wr->off;
		e->tomb = wr->kind == KVS_WR_DELETE;
		e->vlen = e->tomb ? 0 : io->len;
		kvs_seg_live_add(kv, e->seg, wr->len);
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
	pthread_mutex_unlock(lk);
}

void kvs_submit(struct kvs *kv, struct io_uring *ring, struct kvs_io *io)
{
	io->status = 0;
	io->value_size = 0;
	io->priv.ring = ring;
	switch (io->op) {
	case KVS_OP_STORE:
		return kvs_store(kv, ring, io);
	case KVS_OP_RETRIEVE:
		return kvs_retrieve(kv, ring, io);
	case KVS_OP_DELETE:
		return kvs_delete(kv, ring, io);
	case KVS_OP_EXIST:
		return kvs_exist(kv, io);
	case KVS_OP_LIST:
		kvs_list_run(kv, io);
		return io->done(io);
	case KVS_OP_FLUSH:
		if (kv->fd < 0 || !kv->volatile_cache)
			return kvs_finish(io, 0); /* every completed store is already stable */
		io->priv.wr.kind = KVS_WR_FLUSH;
		io->priv.wr.len = 0;
		io->priv.wr.niov = 0;
		return kvs_log_enqueue(kv, ring, &io->priv.wr);
	}
	kvs_finish(io, KVS_SC_INTERNAL);
}
