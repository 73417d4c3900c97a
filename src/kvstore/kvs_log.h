/* SPDX-License-Identifier: MIT */
/*
 * The log writer: the medium (file, block device or RAM) and the framing of what goes on it.
 * It builds and checks record and segment headers, appends iovecs at a place its caller chose
 * (optionally followed by an fdatasync), reads, and invalidates segment headers. It knows
 * nothing of the index, of group commit or of GC: its callers drive it, and each operation
 * completes through its own callback on the executor it was issued on.
 */
#ifndef NVRING_KVSTORE_KVS_LOG_H
#define NVRING_KVSTORE_KVS_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "kvs_format.h"
#include "ring/executor.h"

struct kvs_log {
	int fd;          /* -1: RAM */
	uint8_t *mem;    /* RAM mode: the whole log */
	uint64_t dev_size;
	uint64_t seg_base;
	uint32_t seg_size;
	uint32_t nsegs;
};

static inline uint64_t kvs_log_seg_off(const struct kvs_log *log, uint32_t seg)
{
	return log->seg_base + (uint64_t)seg * log->seg_size;
}

static inline bool kvs_log_is_mem(const struct kvs_log *log)
{
	return log->fd < 0;
}

/* ---- framing ---- */

/* A record header for key + value (data CRC included); seq/epoch are sealed at placement. */
void kvs_log_rec_init(struct kvs_rec_hdr *h, const uint8_t *key, unsigned klen, const void *val,
		      uint32_t vlen, uint8_t flags);
/* Stamp seq and epoch and compute the header CRC. */
void kvs_log_rec_seal(struct kvs_rec_hdr *h, uint64_t seq, uint64_t epoch);
/* The header at segment offset p (room bytes of the segment follow it) is sound and belongs to
 * epoch: its record length, else 0. Does not check the data CRC. */
uint32_t kvs_log_rec_check(const struct kvs_rec_hdr *h, uint32_t room, uint64_t epoch);
/* Data CRC of a record whose header passed kvs_log_rec_check. */
bool kvs_log_rec_data_ok(const struct kvs_rec_hdr *h);
void kvs_log_seg_hdr_init(struct kvs_seg_hdr *h, uint32_t seg, uint64_t epoch);
bool kvs_log_seg_hdr_ok(const struct kvs_seg_hdr *h, uint32_t seg);

/* ---- asynchronous I/O ---- */

/* One append, read or sync. The caller owns it until done runs (on the issuing executor). */
struct kvs_log_io {
	struct ring_op op;
	struct ring_op sync_op;
	const struct iovec *iov;
	int niov;
	uint32_t len;             /* bytes (sum of the iovecs; the read length) */
	uint64_t off;             /* device offset */
	bool sync;                /* append: fdatasync after the write (linked) */
	bool written;             /* append: the write part is done (its sync may still run) */
	int cqes, res;
	void (*done)(struct kvs_log_io *lio, struct executor *ex, int res);
	/* optional, a synced append: its write is done and the sync is running */
	void (*on_written)(struct kvs_log_io *lio, struct executor *ex);
	struct executor *ex;
};

/* Write iov at off, then (sync) fdatasync. res: 0 or negative errno (a short write is -EIO). */
void kvs_log_append(struct kvs_log *log, struct executor *ex, struct kvs_log_io *lio);
/* fdatasync alone. */
void kvs_log_sync(struct kvs_log *log, struct executor *ex, struct kvs_log_io *lio);
/* Read len bytes at off into iov[0]; res 0 or negative errno (short read: -EIO). */
void kvs_log_read(struct kvs_log *log, struct executor *ex, struct kvs_log_io *lio);
/* Zero the header of segment seg and sync: nothing in it can be recovered any more. */
void kvs_log_invalidate(struct kvs_log *log, struct executor *ex, struct kvs_log_io *lio, uint32_t seg);

/* ---- blocking I/O (open, recovery, close) ---- */

/* Exactly len bytes; bytes past the end of a file read as zero. 0 or negative errno. */
int kvs_log_pread(struct kvs_log *log, void *buf, size_t len, uint64_t off);
int kvs_log_pwrite(struct kvs_log *log, const void *buf, size_t len, uint64_t off);
int kvs_log_fdatasync(struct kvs_log *log);

#endif
