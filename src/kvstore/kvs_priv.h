/* SPDX-License-Identifier: MIT */
/* Internals shared by the kvstore files: index, log/commit, GC, recovery. */
#ifndef NVRING_KVSTORE_KVS_PRIV_H
#define NVRING_KVSTORE_KVS_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "kvs_format.h"
#include "kvstore.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "on-disk format is written natively");

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define KVS_SEG_NONE UINT32_MAX
#define KVS_GC_RESERVE 2u   /* free segments only GC may take, so compaction always progresses */
#define KVS_MAX_IOV 256     /* iovecs in one batch write */
#define KVS_IDX_LOCKS 256u  /* lock stripes over the hash buckets */

/* ---- index ---- */

struct kvs_ent {
	struct kvs_ent *next;
	uint64_t seq;       /* seq of the committed record (0 = none yet) */
	uint32_t seg;       /* committed record location, KVS_SEG_NONE if none */
	uint32_t off;
	uint32_t vlen;
	uint16_t pending;   /* stores/deletes submitted, not yet committed */
	uint8_t klen;
	uint8_t tomb;       /* committed record is a tombstone */
	uint8_t lpresent;   /* present once all pending ops apply (for store options) */
	uint8_t key[KVS_KEY_MAX];
};

struct kvs_index {
	struct kvs_ent **buckets;
	uint64_t mask;
	pthread_mutex_t locks[KVS_IDX_LOCKS];
	atomic_uint_fast64_t keys; /* live (non-tombstone, committed) keys */
};

int kvs_idx_init(struct kvs_index *idx, uint64_t nbuckets);
void kvs_idx_fini(struct kvs_index *idx);
uint64_t kvs_idx_hash(const uint8_t *key, unsigned klen);
pthread_mutex_t *kvs_idx_lock(struct kvs_index *idx, uint64_t h);
/* The caller holds kvs_idx_lock(h). */
struct kvs_ent *kvs_idx_find(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen);
struct kvs_ent *kvs_idx_add(struct kvs_index *idx, uint64_t h, const uint8_t *key, unsigned klen);
void kvs_idx_del(struct kvs_index *idx, uint64_t h, struct kvs_ent *e);
/* Committed, non-deleted key. */
static inline bool kvs_ent_live(const struct kvs_ent *e)
{
	return e->seg != KVS_SEG_NONE && !e->tomb;
}

/* ---- segments and the log ---- */

enum kvs_seg_state {
	KVS_SEG_FREE,
	KVS_SEG_OPEN,   /* the head: records are appended */
	KVS_SEG_SEALED,
	KVS_SEG_GC,     /* being compacted */
	KVS_SEG_ZOMBIE, /* compacted and invalidated; freed when the last reader leaves */
};

struct kvs_seg {
	uint32_t idx;
	enum kvs_seg_state state; /* under log_lock */
	uint64_t epoch;
	uint32_t used;            /* bytes written, from the segment start */
	uint64_t min_seq;         /* lowest record seq inside (GC copies keep old seqs) */
	atomic_int_fast64_t live; /* bytes of records the index points at */
	atomic_int readers;       /* retrieves in flight on this segment */
	struct kvs_seg *next_free;
};

enum kvs_wr_kind {
	KVS_WR_STORE,
	KVS_WR_DELETE,
	KVS_WR_FLUSH,
	KVS_WR_GC,
};

/* Append wr to a write queue kept as first/last pointers. */
static inline void kvs_wr_append(struct kvs_wr **first, struct kvs_wr **last, struct kvs_wr *wr)
{
	wr->next = NULL;
	if (*last)
		(*last)->next = wr;
	else
		*first = wr;
	*last = wr;
}

/* The one group-commit write in flight. */
struct kvs_batch {
	struct ring_op wr_op;
	struct ring_op sync_op;
	struct io_uring *ring;
	struct kvs_wr *first, *last;
	int cqes;                 /* CQEs still expected */
	int res;
	bool sync;
	struct kvs_seg *seg;
	uint32_t off;             /* segment offset the write starts at */
	uint32_t len;
	int niov;
	struct iovec iov[KVS_MAX_IOV + 1];
	struct kvs_seg_hdr seg_hdr; /* written first when the batch opens a segment */
};

#define KVS_GC_MOVES 4096

struct kvs_gc_move {
	uint32_t old_off;
	uint32_t out_off;   /* offset in the out buffer */
	uint32_t len;
	uint64_t seq;
	uint64_t hash;
};

enum kvs_gc_state {
	KVS_GC_IDLE,
	KVS_GC_READ,
	KVS_GC_MOVE,
	KVS_GC_FREE,
};

struct kvs_gc {
	bool busy;                /* a victim is being compacted; under log_lock */
	enum kvs_gc_state state;  /* step in progress; only the thread running the step */
	struct kvs_seg *victim;
	uint64_t min_other_seq;   /* tombstones older than every other record shadow nothing */
	uint32_t pos;             /* next record to examine in the victim */
	uint8_t *buf;             /* victim bytes [buf_base, buf_base + buf_fill) */
	uint32_t buf_base, buf_fill, buf_size;
	uint8_t *out;             /* live records being copied forward */
	uint32_t out_len;
	struct kvs_gc_move moves[KVS_GC_MOVES];
	unsigned nmoves;
	struct kvs_wr wr;
	struct ring_op rd_op;
	struct ring_op inv_op;
	struct ring_op inv_sync_op;
	uint32_t rd_len;
	struct io_uring *rd_ring; /* ring the current GC step runs on */
	int inv_cqes, inv_res;
	struct kvs_seg_hdr zero_hdr;
};

struct kvs {
	/* device */
	int fd;                   /* -1 in RAM mode */
	uint8_t *mem;             /* RAM mode log */
	bool volatile_cache;
	uint64_t dev_size;
	uint64_t seg_base;
	uint32_t seg_size;
	uint32_t nsegs;
	uint32_t max_value;
	uint32_t gc_live_thr;     /* bytes: sealed segments below are GC candidates */
	uint64_t live_limit;      /* admission: stores beyond it get CAPACITY_EXCEEDED */

	struct kvs_index idx;
	struct kvs_seg *segs;
	atomic_int_fast64_t live_total;
	atomic_int_fast64_t inflight_bytes;

	/* log state, commit queue and GC bookkeeping: one lock, short sections */
	pthread_mutex_t log_lock;
	uint64_t seq;             /* last sequence number handed out */
	struct kvs_seg *head;     /* open segment or NULL */
	struct kvs_seg *free_list;
	uint32_t free_count;
	struct kvs_wr *fg_first, *fg_last; /* foreground writes waiting for a batch */
	struct kvs_wr *gc_first;           /* GC write waiting (at most one) */
	bool inflight;
	bool space_wait;          /* a foreground write waits for GC to free a segment */
	bool gc_dirty;            /* segment states/live changed: re-evaluate GC */
	struct kvs_batch batch;
	struct kvs_gc gc;

	atomic_uint_fast64_t st_stores, st_batches, st_syncs, st_gc_moved, st_gc_freed, st_xring;
};

static inline uint64_t kvs_seg_dev_off(const struct kvs *kv, const struct kvs_seg *s)
{
	return kv->seg_base + (uint64_t)s->idx * kv->seg_size;
}

/* kvs_log.c */
void kvs_log_enqueue(struct kvs *kv, struct io_uring *ring, struct kvs_wr *wr);
void kvs_log_kick(struct kvs *kv, struct io_uring *ring);
struct io_uring_sqe *kvs_get_sqes(struct io_uring *ring, unsigned n);
void kvs_deliver(struct kvs *kv, struct io_uring *ring, struct kvs_io *io);
void kvs_seg_live_add(struct kvs *kv, uint32_t seg, int64_t delta);
void kvs_seg_unpin(struct kvs *kv, struct kvs_seg *s);
void kvs_seg_release_locked(struct kvs *kv, struct kvs_seg *s);

/* kvs_ops.c: a batch carrying these writes finished */
void kvs_ops_committed(struct kvs *kv, struct kvs_io *io, int res);

/* kvs_gc.c */
void kvs_gc_kick(struct kvs *kv, struct io_uring *ring);
void kvs_gc_place(struct kvs *kv, struct kvs_wr *wr, struct kvs_seg *seg);
void kvs_gc_written(struct kvs *kv, struct io_uring *ring, int res);
int kvs_gc_init(struct kvs *kv);
void kvs_gc_fini(struct kvs *kv);

/* kvs_list.c */
void kvs_list_run(struct kvs *kv, struct kvs_io *io);

/* Finish a record header (seq, epoch, CRC) in place. */
void kvs_rec_seal(struct kvs_rec_hdr *h, uint64_t seq, uint64_t epoch);

#endif
