/* SPDX-License-Identifier: MIT */
/*
 * kvstore: the persistent key-value engine behind NVMe KV namespaces (CSI 1).
 *
 * An append-only log of CRC-protected records in fixed-size segments, with an in-memory hash
 * index (key -> segment, offset) that worker threads share. Every operation is asynchronous:
 * the caller passes its executor (src/ring/executor.h: its thread's io_uring), SQEs are
 * prepared on that ring, and completions come back as CQEs whose user_data is a struct ring_op.
 * Each executor that writes has its own commit shard (an open segment and a queue): its stores
 * are batched into one write + one fdatasync (group commit) on its own ring, so `done` always
 * runs on the thread that owns the executor and writers on different threads share no lock.
 * Some operations complete inline (before kvs_submit returns): errors, exist, list, RAM-mode
 * store, delete and retrieve, flush in write-through mode. At most 256 executors may write to
 * one store (beyond: Internal Error).
 *
 * open/close may block (daemon start and stop); nothing else does.
 */
#ifndef NVRING_KVSTORE_KVSTORE_H
#define NVRING_KVSTORE_KVSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../spec/nvme_cmd.h"
#include "../spec/nvme_kv.h"
#include "ring/executor.h"

struct kvs;
struct kvs_seg;
struct kvs_shard;

enum kvs_op {
	KVS_OP_STORE,
	KVS_OP_RETRIEVE,
	KVS_OP_DELETE,
	KVS_OP_EXIST,
	KVS_OP_LIST,
	KVS_OP_FLUSH,
};

/* Store options: the NVMe CDW11 bits 15:8 values. */
#define KVS_STORE_MUST_EXIST NVME_KV_STORE_OPT_MUST_EXIST         /* else KEY_NOT_EXIST */
#define KVS_STORE_MUST_NOT_EXIST NVME_KV_STORE_OPT_MUST_NOT_EXIST /* else KEY_EXISTS */

/* Statuses are NVMe status values, (SCT << 8) | SC, with DNR set on every error: none is
 * helped by retrying the same command. 0 is success. */
#define KVS_STATUS(sc) ((uint16_t)(NVME_STATUS(0, (sc)) | NVME_STATUS_DNR))
#define KVS_SC_INTERNAL 0x06 /* generic Internal Error */

#define KVS_KEY_MAX NVME_KV_KEY_MAX
#define KVS_REC_HDR_LEN 40 /* on-disk record header, see FORMAT.md */

/* One write queued for group commit (engine-private). */
struct kvs_wr {
	struct kvs_wr *next;
	uint8_t kind;     /* enum kvs_wr_kind in kvs_commit.h */
	uint8_t niov;
	uint32_t len;     /* bytes of log space, 8-byte multiple */
	uint32_t seg;     /* where it was placed */
	uint32_t off;
	uint64_t seq;     /* a record's sequence number, given at placement */
	struct iovec iov[3];
	void (*done)(struct kvs_wr *wr, struct executor *ex, int res);
};

/* Engine-private per-operation state; lives in the caller's kvs_io so no malloc per op. */
struct kvs_io_priv {
	struct ring_op rop;          /* read completion */
	struct kvs_wr wr;
	struct kvs *kv;
	struct kvs_shard *sh;        /* the caller's executor's commit shard */
	struct kvs_seg *seg;         /* retrieve: the pinned segment */
	uint32_t want;               /* retrieve: bytes being read */
	uint8_t hdr[KVS_REC_HDR_LEN + KVS_KEY_MAX]; /* record header + key */
};

/*
 * One KV operation. The caller fills the "in" fields, calls kvs_submit and gets `done` exactly
 * once, on the thread that owns the executor it passed. buf must stay valid until done.
 */
struct kvs_io {
	/* in */
	enum kvs_op op;
	uint8_t key_len;  /* 1..16; LIST: 0..16 (0 = from the first key) */
	uint8_t options;  /* STORE: KVS_STORE_* */
	uint8_t key[KVS_KEY_MAX];
	void *buf;        /* STORE: value; RETRIEVE: destination; LIST: output */
	uint32_t len;     /* STORE: value size; RETRIEVE/LIST: buffer size */
	bool by_ref;      /* RETRIEVE: the value may be lent in place (ref) instead of copied */
	void (*done)(struct kvs_io *io);
	void *ctx;        /* the caller's */
	/* out, valid in done */
	const void *ref;  /* RETRIEVE by_ref from a RAM store: the value's bytes, which stay valid
			   * (GC cannot recycle them) until kvs_io_unref; NULL: copied into buf */
	uint16_t status;     /* 0 or KVS_STATUS(...) */
	uint32_t value_size; /* RETRIEVE: full size of the stored value (data is partial if
			      * larger than len); LIST: bytes written to buf */
	struct kvs_io_priv priv;
};

struct kvs_config {
	const char *path;       /* regular file or block device; NULL or "kv:mem" = RAM */
	uint64_t capacity;      /* bytes; 0 = size of the existing file/device (required for RAM) */
	uint32_t segment_size;  /* log segment bytes, default 4 MiB; a reopened log keeps its own */
	uint32_t max_value;     /* default 1 MiB; must fit in a segment */
	unsigned gc_threshold;  /* % live under which a sealed segment may be compacted (once free
				 * segments run under 1/8), default 50 */
	bool volatile_cache;    /* stores are durable only after a flush */
	bool format;            /* discard existing content */
};

/*
 * Apply one namespace-spec option: size|capacity=BYTES, segment_size|segment=BYTES,
 * max_value=BYTES, gc_threshold|gc=PERCENT, volatile_cache|vwc[=BOOL], format[=BOOL]
 * (BYTES takes K/M/G/T suffixes; val NULL = bare flag). -ENOENT for an unknown key,
 * -EINVAL/-ERANGE for a bad value; err says which.
 */
int kvs_config_opt(struct kvs_config *cfg, const char *key, const char *val, char *err, size_t errlen);

int kvs_open(struct kvs **out, const struct kvs_config *cfg, char *err, size_t errlen);
/* Call when kvs_idle() (no operation, batch or GC step in flight). Syncs and frees. */
void kvs_close(struct kvs *kv);

/*
 * Start an operation; done is called exactly once (possibly before this returns), on ex's
 * thread. An executor that writes (store, delete, flush) or polls must stay valid, with its
 * loop running (CQEs reaped, executor_drain), until kvs_close: it owns a commit shard, may run
 * GC steps, and is told through executor_post when space it waits for is freed.
 */
void kvs_submit(struct kvs *kv, struct executor *ex, struct kvs_io *io);

/* Give back a value lent by a RETRIEVE (io->ref); nothing if none was lent. Any thread. */
void kvs_io_unref(struct kvs_io *io);
/* Values live in memory: a RETRIEVE with by_ref lends them instead of copying (RAM stores). */
bool kvs_in_memory(const struct kvs *kv);

/* Start garbage collection on this executor if it is due. Cheap; call from the event loop of
 * every executor that writes. GC steps then continue from their own CQEs. Stores also start
 * GC when they wait for space. */
void kvs_poll(struct kvs *kv, struct executor *ex);
/* True when the engine has no internal I/O in flight (no queued write, batch or GC step). */
bool kvs_idle(struct kvs *kv);

uint64_t kvs_capacity(const struct kvs *kv); /* NSZE: bytes of record space */
uint64_t kvs_used(const struct kvs *kv);     /* NUSE: bytes of live records (and writes in flight) */
uint32_t kvs_max_value(const struct kvs *kv);
/* Synchronous fdatasync (shutdown, tests). */
int kvs_sync(struct kvs *kv);

struct kvs_stats {
	uint64_t stores;        /* records written by store/delete */
	uint64_t batches;       /* group-commit writes (in RAM: only of queued records) */
	uint64_t syncs;         /* fdatasyncs issued */
	uint64_t gc_moved;      /* records copied forward by GC */
	uint64_t gc_freed;      /* segments reclaimed */
	uint64_t keys;          /* live keys */
	uint32_t nsegs;
	uint32_t free_segs;
	uint32_t segment_size;
};
void kvs_get_stats(struct kvs *kv, struct kvs_stats *st);

#endif
