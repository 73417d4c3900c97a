/* SPDX-License-Identifier: MIT */
/*
 * The namespace backend interface. A backend turns block I/O (or, for passthrough, raw
 * NVMe commands) into SQEs on the calling worker's executor (its io_uring; get SQEs with
 * executor_get_sqe) and completes through a callback on that worker; a backend whose library
 * completes on its own threads hands completions back with executor_post.
 * open/close run at start and stop (may block); submit runs on a worker and never blocks.
 */
#ifndef NVRING_BACKEND_BACKEND_H
#define NVRING_BACKEND_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ring/executor.h"

struct backend;

enum be_op {
	BE_READ,
	BE_WRITE,
	BE_FLUSH,
	BE_WRITE_ZEROES,
	BE_DISCARD, /* deallocate: reads of the range return zeroes afterwards */
};

enum be_io_flags {
	BE_FUA = 1 << 0, /* write through to stable storage before completing */
};

/*
 * One backend operation, embedded in the request that issued it. The backend uses
 * `rop` as the user_data of its SQEs and calls `done` exactly once with a result:
 * >= 0 success (the built-in backends pass 0), negative errno on failure. `done` may be
 * called before submit returns (the RAM backend completes inline, and every backend
 * reports invalid arguments inline: -EINVAL for offset/len not multiples of the LBA
 * size, -ERANGE beyond the namespace, -EROFS for writes to a read-only namespace).
 * The caller fills op..done; the fields after `done` belong to the backend while the
 * operation is in flight.
 */
struct be_io {
	struct ring_op rop;
	enum be_op op;
	unsigned flags;
	uint64_t offset; /* bytes */
	uint64_t len;    /* bytes */
	void *buf;       /* contiguous data buffer of len bytes (READ/WRITE) */
	int buf_index;   /* registered buffer index on the worker's ring, or -1 */
	int pending;     /* SQEs in flight (a backend may split an op) */
	int result;
	void (*done)(struct be_io *io, int res);

	/* backend private while in flight */
	struct backend *be;
	struct executor *ex;   /* the submitting worker: completions continue on it */
	struct exec_completion xc; /* for backends completing from a foreign thread */
	uint64_t xfer;         /* bytes completed so far (short I/O is resubmitted) */
	unsigned step;         /* backend-specific sub-state */
};

struct ns_geom {
	uint64_t size;       /* bytes; changes while I/O runs (resize): read with be_size() */
	unsigned lba_shift;  /* 9 or 12 */
	bool volatile_cache; /* flush needed for durability (VWC) */
	bool discard;        /* deallocate supported */
	bool write_zeroes;   /* efficient write zeroes */
	bool readonly;       /* writes fail with -EROFS (namespace write protected) */
};

struct backend_ops {
	const char *name;
	int (*submit)(struct backend *be, struct executor *ex, struct be_io *io);
	/* Synchronous flush at shutdown. */
	int (*flush_sync)(struct backend *be);
	void (*close)(struct backend *be);
	/*
	 * Change the size while I/O runs (control thread; may block); NULL: fixed size. Growing
	 * makes the new range read as zeroes before the size moves; shrinking only moves the
	 * size: the caller waits until no operation from before can touch the tail, then calls
	 * release. 0 or a negative errno with the reason in err.
	 */
	int (*resize)(struct backend *be, uint64_t bytes, char *err, size_t errlen);
	/* Give back the storage beyond the size (after a shrink); NULL: nothing to do. */
	void (*release)(struct backend *be);
};

struct backend {
	const struct backend_ops *ops;
	struct ns_geom geom;
	void *priv;
};

/* Options parsed from a namespace spec (`mem:1G`, `file:/path,size=…,bs=4096`). */
struct be_spec {
	const char *kind;   /* "mem", "file", ... */
	const char *path;   /* file/device path, NULL for mem */
	uint64_t size;      /* bytes, 0 = from the file/device */
	unsigned lba_size;  /* 512 or 4096, 0 = default (512 for mem, device's for blockdevs) */
	bool buffered;      /* force buffered I/O (no O_DIRECT) */
	bool readonly;
};

/*
 * Open a backend into caller-owned `be` (may block; run at start). 0 or negative errno with a
 * one-line reason in `err`.
 * mem: anonymous MAP_NORESERVE memory of spec->size bytes (0 = 1 GiB), touched lazily, in a
 * reservation of address space it can grow into without moving (BE_MEM_RESERVE_MIN or 4 times
 * the size, whichever is more), so data sent straight from it stays where it is.
 * file: regular file (created/extended to spec->size if given) or block device; O_DIRECT
 * when the filesystem takes it unless spec->buffered. Discard and write zeroes always
 * leave the range reading back as zeroes (safe to advertise DLFEAT read-zeroes).
 */
int be_mem_open(struct backend *be, const struct be_spec *spec, char *err, size_t errlen);
#define BE_MEM_RESERVE_MIN (64ull << 30)
int be_file_open(struct backend *be, const struct be_spec *spec, char *err, size_t errlen);

/*
 * A Ceph RBD image (`rbd:POOL/IMAGE[,conf=PATH][,id=CLIENT][,cluster=NAME][,bs=512|4096][,vwc][,ro]`).
 * Images share one RADOS connection per (cluster, client, conf, op timeout, cache mode) in the
 * process. vwc: librbd's write-back cache on, NVMe Flush = rbd_aio_flush; without it the cache
 * is off and a write completes once the OSDs have it. Without librbd at build time (no
 * NVR_HAVE_RBD) be_rbd_open fails with -EOPNOTSUPP.
 */
struct be_rbd_spec {
	const char *pool;
	const char *nspace;      /* RADOS namespace of the image; NULL or "" = the pool's default */
	const char *image;
	const char *conf;        /* ceph.conf; NULL = librados' search ($CEPH_CONF, /etc/ceph/) */
	const char *client_id;   /* without "client."; NULL = "admin" */
	const char *cluster;     /* NULL = "ceph" */
	unsigned lba_size;       /* 512 or 4096; 0 = 512 */
	bool vwc;
	bool readonly;
	unsigned connect_timeout; /* seconds to reach the cluster and open the image; 0 = 10 */
	unsigned op_timeout;     /* seconds before an OSD operation fails with -ETIMEDOUT
				  * (retryable); 0 = wait until the cluster answers */
};

int be_rbd_open(struct backend *be, const struct be_rbd_spec *spec, char *err, size_t errlen);
/*
 * Grow or shrink an rbd backend's image to `bytes` (a multiple of the LBA size) while I/O runs;
 * blocks (control thread). The backend's size follows: before the image shrinks, after it grew,
 * so no I/O is let past the end of the image. -EOPNOTSUPP for other backends.
 */
int be_rbd_resize(struct backend *be, uint64_t bytes, char *err, size_t errlen);

/*
 * RAM namespace only: the address of byte `offset` of the namespace, so reads can be sent
 * straight from it (zero-copy). NULL for other backends or offsets beyond the size.
 */
void *be_mem_ptr(struct backend *be, uint64_t offset);

/* File backend: true when its data goes through O_DIRECT (false for buffered and others). */
bool be_file_is_direct(const struct backend *be);

/* The current size in bytes (any thread). */
static inline uint64_t be_size(const struct backend *be)
{
	return __atomic_load_n(&be->geom.size, __ATOMIC_RELAXED);
}

/* Close a backend opened by be_*_open (safe on a zeroed struct backend). */
static inline void be_close(struct backend *be)
{
	if (be->ops && be->ops->close)
		be->ops->close(be);
	be->ops = NULL;
	be->priv = NULL;
}

static inline int be_flush_sync(struct backend *be)
{
	return be->ops->flush_sync(be);
}

/*
 * Start `io` on the calling worker's executor. Returns 0: every outcome, including rejected
 * arguments, arrives through io->done exactly once (possibly before this returns).
 */
static inline int be_submit(struct backend *be, struct executor *ex, struct be_io *io)
{
	return be->ops->submit(be, ex, io);
}

/*
 * Map a backend errno to an NVMe status ((SCT << 8) | SC, with DNR where retrying cannot
 * help): -EIO → Unrecovered Read Error (READ) / Write Fault (WRITE) / Internal Error;
 * -ENOSPC → Capacity Exceeded; -EOPNOTSUPP → Invalid Field (READ/WRITE) or Invalid Opcode;
 * -EROFS/-EPERM/-EACCES → Namespace Write Protected; -EINVAL → Invalid Field;
 * -ERANGE → LBA Out of Range; anything else → Internal Error. 0 and positive → 0.
 */
uint16_t be_errno_to_status(int err, enum be_op op);

#endif
