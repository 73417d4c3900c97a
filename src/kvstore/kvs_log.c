/* SPDX-License-Identifier: MIT */
/* The log writer (see kvs_log.h): record framing and the I/O on the medium. */
#include "kvs_log.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "../spec/crc32c.h"

#define kvs_log_io_of(ptr, member) \
	((struct kvs_log_io *)((char *)(ptr) - offsetof(struct kvs_log_io, member)))

/* ---- framing ---- */

void kvs_log_rec_init(struct kvs_rec_hdr *h, const uint8_t *key, unsigned klen, const void *val,
		      uint32_t vlen, uint8_t flags)
{
	uint32_t crc = crc32c_update(NVR_CRC32C_SEED, key, klen);

	if (vlen)
		crc = crc32c_update(crc, val, vlen);
	memset(h, 0, sizeof(*h));
	h->magic = KVS_REC_MAGIC;
	h->value_len = vlen;
	h->data_crc = crc32c_final(crc);
	h->key_len = (uint8_t)klen;
	h->flags = flags;
}

void kvs_log_rec_seal(struct kvs_rec_hdr *h, uint64_t seq, uint64_t epoch)
{
	h->seq = seq;
	h->epoch = epoch;
	h->hdr_crc = 0;
	h->hdr_crc = crc32c(h, sizeof(*h));
}

uint32_t kvs_log_rec_check(const struct kvs_rec_hdr *h, uint32_t room, uint64_t epoch)
{
	struct kvs_rec_hdr c;
	uint64_t rlen;

	if (room < KVS_REC_HDR_LEN)
		return 0;
	memcpy(&c, h, sizeof(c));
	if (c.magic != KVS_REC_MAGIC || c.epoch != epoch)
		return 0;
	c.hdr_crc = 0;
	if (crc32c(&c, sizeof(c)) != h->hdr_crc)
		return 0;
	if (c.key_len < NVME_KV_KEY_MIN || c.key_len > NVME_KV_KEY_MAX || c.seq == 0)
		return 0;
	/* 64-bit: a value_len near 4 GiB must not wrap into a short record */
	rlen = ((uint64_t)KVS_REC_HDR_LEN + c.key_len + c.value_len + KVS_REC_ALIGN - 1) &
	       ~(uint64_t)(KVS_REC_ALIGN - 1);
	if (rlen > room)
		return 0;
	return (uint32_t)rlen;
}

bool kvs_log_rec_data_ok(const struct kvs_rec_hdr *h)
{
	return crc32c(h + 1, h->key_len + (size_t)h->value_len) == h->data_crc;
}

void kvs_log_seg_hdr_init(struct kvs_seg_hdr *h, uint32_t seg, uint64_t epoch)
{
	memset(h, 0, sizeof(*h));
	h->magic = KVS_SEG_MAGIC;
	h->index = seg;
	h->epoch = epoch;
	h->crc = crc32c(h, sizeof(*h));
}

bool kvs_log_seg_hdr_ok(const struct kvs_seg_hdr *h, uint32_t seg)
{
	struct kvs_seg_hdr c = *h;

	if (c.magic != KVS_SEG_MAGIC || c.index != seg || c.epoch == 0)
		return false;
	c.crc = 0;
	return crc32c(&c, sizeof(c)) == h->crc;
}

/* ---- asynchronous I/O ---- */

static void kvs_log_step(struct kvs_log_io *lio, int res)
{
	if (res < 0 && lio->res == 0)
		lio->res = res;
	if (--lio->cqes == 0)
		lio->done(lio, lio->ex, lio->res);
}

/* Writes and reads: the full length or -EIO (a file or device that is full or failing). */
static void kvs_log_rw_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct kvs_log_io *lio = kvs_log_io_of(op, op);
	int res = cqe->res < 0 ? cqe->res : (uint32_t)cqe->res != lio->len ? -EIO : 0;
	bool syncing = lio->cqes == 2; /* the linked sync runs next */

	lio->written = true;
	kvs_log_step(lio, res);
	if (syncing && !res && lio->on_written)
		lio->on_written(lio, lio->ex);
}

/* RAM: the copy is done; the NOP only makes the completion asynchronous like the file's. */
static void kvs_log_nop_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	(void)cqe;
	kvs_log_step(kvs_log_io_of(op, op), 0);
}

static void kvs_log_sync_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	kvs_log_step(kvs_log_io_of(op, sync_op), cqe->res < 0 ? cqe->res : 0);
}

/* n SQEs with room guaranteed for all of them, so a linked pair is never split by a submit. */
static struct io_uring_sqe *kvs_log_sqes(struct executor *ex, unsigned n)
{
	while (io_uring_sq_space_left(ex->ring) < n)
		io_uring_submit(ex->ring);
	return io_uring_get_sqe(ex->ring);
}

static void kvs_log_start(struct kvs_log_io *lio, struct executor *ex, int cqes)
{
	lio->ex = ex;
	lio->res = 0;
	lio->written = false;
	lio->cqes = cqes;
	lio->op.complete = kvs_log_rw_cqe;
	lio->sync_op.complete = kvs_log_sync_cqe;
}

static void kvs_log_nop(struct kvs_log_io *lio, struct executor *ex)
{
	struct io_uring_sqe *sqe = executor_get_sqe(ex);

	kvs_log_start(lio, ex, 1);
	lio->op.complete = kvs_log_nop_cqe;
	io_uring_prep_nop(sqe);
	ring_op_attach(sqe, &lio->op);
}

void kvs_log_append(struct kvs_log *log, struct executor *ex, struct kvs_log_io *lio)
{
	struct io_uring_sqe *sqe;

	if (kvs_log_is_mem(log)) {
		uint8_t *dst = log->mem + lio->off;

		for (int i = 0; i < lio->niov; i++) {
			memcpy(dst, lio->iov[i].iov_base, lio->iov[i].iov_len);
			dst += lio->iov[i].iov_len;
		}
		kvs_log_nop(lio, ex);
		return;
	}
	kvs_log_start(lio, ex, lio->sync ? 2 : 1);
	sqe = kvs_log_sqes(ex, (unsigned)lio->cqes);
	io_uring_prep_writev(sqe, log->fd, lio->iov, (unsigned)lio->niov, lio->off);
	ring_op_attach(sqe, &lio->op);
	if (lio->sync) {
		sqe->flags |= IOSQE_IO_LINK; /* the sync runs only after the write succeeded */
		sqe = io_uring_get_sqe(ex->ring);
		io_uring_prep_fsync(sqe, log->fd, IORING_FSYNC_DATASYNC);
		ring_op_attach(sqe, &lio->sync_op);
	}
}

void kvs_log_sync(struct kvs_log *log, struct executor *ex, struct kvs_log_io *lio)
{
	struct io_uring_sqe *sqe;

	if (kvs_log_is_mem(log)) {
		kvs_log_nop(lio, ex);
		return;
	}
	kvs_log_start(lio, ex, 1);
	sqe = executor_get_sqe(ex);
	io_uring_prep_fsync(sqe, log->fd, IORING_FSYNC_DATASYNC);
	ring_op_attach(sqe, &lio->sync_op);
}

void kvs_log_read(struct kvs_log *log, struct executor *ex, struct kvs_log_io *lio)
{
	struct io_uring_sqe *sqe;

	if (kvs_log_is_mem(log)) {
		memcpy(lio->iov[0].iov_base, log->mem + lio->off, lio->len);
		kvs_log_nop(lio, ex);
		return;
	}
	kvs_log_start(lio, ex, 1);
	sqe = executor_get_sqe(ex);
	io_uring_prep_read(sqe, log->fd, lio->iov[0].iov_base, lio->len, lio->off);
	ring_op_attach(sqe, &lio->op);
}

void kvs_log_invalidate(struct kvs_log *log, struct executor *ex, struct kvs_log_io *lio, uint32_t seg)
{
	static const struct kvs_seg_hdr zero;
	static const struct iovec zero_iov = { (void *)&zero, sizeof(zero) };

	lio->iov = &zero_iov;
	lio->niov = 1;
	lio->len = sizeof(zero);
	lio->off = kvs_log_seg_off(log, seg);
	lio->sync = true;
	kvs_log_append(log, ex, lio);
}

/* ---- blocking I/O ---- */

int kvs_log_pread(struct kvs_log *log, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (kvs_log_is_mem(log)) {
		memcpy(buf, log->mem + off, len);
		return 0;
	}
	while (done < len) {
		ssize_t n = pread(log->fd, (char *)buf + done, len - done, (off_t)(off + done));

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

int kvs_log_pwrite(struct kvs_log *log, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (kvs_log_is_mem(log)) {
		memcpy(log->mem + off, buf, len);
		return 0;
	}
	while (done < len) {
		ssize_t n = pwrite(log->fd, (const char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int kvs_log_fdatasync(struct kvs_log *log)
{
	if (!kvs_log_is_mem(log) && fdatasync(log->fd))
		return -errno;
	return 0;
}
