/* SPDX-License-Identifier: MIT */
/*
 * Group commit: writes (records, GC copies, flushes) queue; whichever thread finds no batch in
 * flight forms the next one from everything queued, places it at the head of the log (sealing
 * each record with its seq and the head's epoch) and has the log writer issue it on its own
 * executor as one append (+ fdatasync). While it is in flight new writes accumulate, so
 * concurrent writers share a write and a sync. When it finishes, each write's `done` runs on
 * the executor that reaped the batch; delivering to the writer's own thread is the writer's
 * business. Knows segments and the log writer; nothing of the index, the operations or GC.
 */
#ifndef NVRING_KVSTORE_KVS_COMMIT_H
#define NVRING_KVSTORE_KVS_COMMIT_H

#include "kvs_log.h"
#include "kvs_seg.h"
#include "kvstore.h"

#define KVS_MAX_IOV 256     /* iovecs in one batch write */

enum kvs_wr_kind {
	KVS_WR_RECORD, /* one record, header + key in iov[0]: gets the next seq */
	KVS_WR_COPIES, /* whole records back to back in iov[0] (GC): they keep their seqs */
	KVS_WR_FLUSH,  /* no data: the batch carrying it is synced */
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

struct kvs_batch {
	struct kvs_log_io lio;
	struct kvs_wr *first, *last;
	bool sync;
	struct kvs_seg *seg;
	uint32_t off;             /* segment offset the write starts at */
	int niov;
	struct iovec iov[KVS_MAX_IOV + 1];
	struct kvs_seg_hdr seg_hdr; /* written first when the batch opens a segment */
};

struct kvs_commit {
	struct kvs_log *log;
	struct kvs_segs *segs;     /* segs->lock also covers everything below */
	bool volatile_cache;       /* foreground batches are not synced */
	uint64_t seq;              /* last sequence number handed out */
	struct kvs_seg *head;      /* open segment or NULL */
	struct kvs_wr *fg_first, *fg_last; /* foreground writes waiting for a batch */
	struct kvs_wr *gc_wr;      /* GC write waiting (at most one; it goes first) */
	bool inflight;
	bool space_wait;           /* a foreground write waits for GC to free a segment */
	struct kvs_batch batch;
	/* after every batch, on the executor that reaped it (the owner kicks GC from here);
	 * space_wait: foreground writes wait for a free segment */
	void (*batch_done)(struct kvs_commit *c, struct executor *ex, bool space_wait);
	atomic_uint_fast64_t st_batches, st_syncs;
};

void kvs_commit_init(struct kvs_commit *c, struct kvs_log *log, struct kvs_segs *segs, uint64_t seq,
		     bool volatile_cache);
/* Queue wr (its kind, len, iov and done set); issue a batch if none is in flight. Returns true
 * when foreground writes wait for space (the caller should start GC). */
bool kvs_commit_enqueue(struct kvs_commit *c, struct executor *ex, struct kvs_wr *wr);
/* Issue a batch if writes wait and none is in flight (after GC freed space). */
void kvs_commit_kick(struct kvs_commit *c, struct executor *ex);
/* Foreground writes wait for space and no batch is in flight: fail them with -ENOSPC (their
 * done runs here); flushes stay queued. */
void kvs_commit_fail_waiting(struct kvs_commit *c, struct executor *ex);
bool kvs_commit_idle(struct kvs_commit *c);

/* segs->lock held: what GC needs to decide. */
uint32_t kvs_commit_head_room_locked(const struct kvs_commit *c);
uint32_t kvs_commit_wait_need_locked(const struct kvs_commit *c); /* 0: nothing waits */
uint64_t kvs_commit_next_seq_locked(struct kvs_commit *c);

#endif
