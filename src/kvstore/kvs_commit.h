/* SPDX-License-Identifier: MIT */
/*
 * Commit: getting records onto the log. Every executor that writes gets a shard of its own: an
 * open segment (its head) and a queue, used only by that executor's thread, so writers on
 * different workers share no lock and no cache line on the fast path. A shard forms batches
 * from its queue (records placed contiguously in its head, sealed with seqs from the one
 * global counter and the head's epoch) and has the log writer issue each as one append + one
 * fdatasync; up to KVS_SHARD_BATCHES are in flight, finished in order. In RAM a record can
 * be placed and copied at once (kvs_shard_place_now). Each write's done runs on the shard's
 * executor. Knows segments and the log writer; nothing of the index, the operations or GC.
 *
 * Space: a foreground write never takes one of the last KVS_GC_RESERVE free segments. A shard
 * that needs one waits (space_needed tells the owner, who starts GC on that shard);
 * kvs_commit_wake tells every waiting shard, on its own thread, that space was freed or cannot
 * be. Heads are per shard, so with little space their free tails may be all there is:
 * kvs_commit_release_heads has the shards seal them for GC to merge.
 */
#ifndef NVRING_KVSTORE_KVS_COMMIT_H
#define NVRING_KVSTORE_KVS_COMMIT_H

#include "kvs_log.h"
#include "kvs_seg.h"
#include "kvstore.h"

#define KVS_MAX_IOV 256       /* iovecs in one batch write */
#ifndef KVS_SHARD_BATCHES
#define KVS_SHARD_BATCHES 2   /* batches in flight per shard: the next write overlaps a sync */
#endif
#define KVS_MAX_SHARDS 256    /* executors that may write to one store */

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

struct kvs_shard;

struct kvs_batch {
	struct kvs_log_io lio;
	struct kvs_shard *sh;
	struct kvs_wr *first, *last;
	bool sync;
	bool finished;            /* its I/O is done; waits for older batches */
	int res;
	struct kvs_seg *seg;
	uint32_t off;             /* segment offset the write starts at */
	int niov;
	struct iovec iov[KVS_MAX_IOV + 1];
	struct kvs_seg_hdr seg_hdr; /* written first when the batch opens a segment */
};

struct kvs_commit;

struct kvs_shard {
	struct kvs_commit *c;
	struct executor *ex;      /* the owner: everything below is its thread's */
	unsigned id;
	struct kvs_seg *head;     /* open segment or NULL */
	struct kvs_wr *q_first, *q_last; /* foreground writes waiting for a batch */
	struct kvs_wr *gc_wr;     /* GC copies waiting (they go first) */
	unsigned nflight, oldest; /* batches in flight, index of the oldest */
	bool failed;              /* a batch failed: fail the rest in flight, then seal */
	bool completing;          /* finished writes' done callbacks are running */
	bool release_pending;     /* seal the head once nothing is in flight into it */
	atomic_bool asked_release; /* a release request is outstanding */
	atomic_bool holds_head;   /* head != NULL, for other threads */
	bool space_wait;          /* queued writes wait for a free segment */
	struct exec_completion wake;
	atomic_int wake_flags;    /* KVS_WAKE_* posted, not yet handled */
	atomic_int busy;          /* writes queued or in flight (kvs_idle reads it) */
	atomic_int_fast64_t used_local; /* ops: space used, not yet added to the shared count */
	atomic_uint_fast64_t st_stores, st_batches, st_syncs; /* written by the owner only */
	struct kvs_batch batches[KVS_SHARD_BATCHES];
};

#define KVS_WAKE_POSTED 1
#define KVS_WAKE_SPACE 2   /* space was freed: retry */
#define KVS_WAKE_FAIL 4    /* GC can free nothing: fail what waits for space */
#define KVS_WAKE_RELEASE 8 /* space is short: seal the head so GC can compact it */

struct kvs_commit {
	struct kvs_log *log;
	struct kvs_segs *segs;
	bool volatile_cache;      /* foreground batches are not synced */
	atomic_uint_fast64_t seq; /* last sequence number handed out */
	/* seqs must stay below the floor recorded in the superblock; past bump_at the owner is
	 * asked (once at a time) to record a higher one */
	atomic_uint_fast64_t seq_bump_at;
	atomic_bool seq_bumping;
	void (*seq_low)(struct kvs_commit *c, struct kvs_shard *sh);
	pthread_mutex_t shard_lock; /* creating shards */
	struct kvs_shard *shards[KVS_MAX_SHARDS];
	atomic_uint nshards;
	atomic_uint_fast64_t waiters[KVS_MAX_SHARDS / 64]; /* bit per shard waiting for space */
	atomic_uint wait_need;    /* largest write waiting for space */
	atomic_uint release_rounds; /* rounds of head releases since GC last freed a segment */
	atomic_uint releasing;    /* shards asked to release that have not yet */
	/* a shard starts waiting for space: the owner starts GC on that shard's executor */
	void (*space_needed)(struct kvs_commit *c, struct kvs_shard *sh);
};

int kvs_commit_init(struct kvs_commit *c, struct kvs_log *log, struct kvs_segs *segs, uint64_t seq,
		    bool volatile_cache);
void kvs_commit_fini(struct kvs_commit *c);
/* The calling thread's shard for ex (created on first use); NULL: out of memory, or more than
 * KVS_MAX_SHARDS executors. */
struct kvs_shard *kvs_commit_shard(struct kvs_commit *c, struct executor *ex);
/* n sequence numbers, the first returned; sh: the shard taking them (it issues the floor
 * update when one is due). */
static inline uint64_t kvs_commit_next_seq(struct kvs_commit *c, struct kvs_shard *sh, unsigned n)
{
	uint64_t s = atomic_fetch_add_explicit(&c->seq, n, memory_order_relaxed) + 1;

	if (__builtin_expect(s + n > atomic_load_explicit(&c->seq_bump_at, memory_order_relaxed), 0) &&
	    !atomic_exchange(&c->seq_bumping, true))
		c->seq_low(c, sh);
	return s;
}

/* Queue wr (kind, len, iov, done set); issue a batch if one may go. done runs later, on
 * sh->ex, never inside this call. */
void kvs_shard_enqueue(struct kvs_shard *sh, struct kvs_wr *wr);
/* RAM, foreground: place the record now (seq, seg, off set; bytes copied). False when it
 * must queue instead: writes wait already, or the head is full and no segment may be opened. */
bool kvs_shard_place_now(struct kvs_shard *sh, struct kvs_wr *wr);
/* Issue what waits if it can go now. */
void kvs_shard_kick(struct kvs_shard *sh);
/* Room left in sh's head (GC decides whether copies fit). */
uint32_t kvs_shard_head_room(const struct kvs_shard *sh);

/* Any thread: every shard waiting for space learns (on its thread) that space was freed, or
 * with fail, that none can be: its waiting foreground writes then fail with -ENOSPC. */
void kvs_commit_wake(struct kvs_commit *c, bool fail);
/*
 * Any thread, space short and nothing to compact: every shard holding a head seals it (on its
 * thread, once nothing is in flight into it), so GC can merge what those partly filled heads
 * hold, then wakes the waiters. Returns how many shards were asked.
 */
unsigned kvs_commit_release_heads(struct kvs_commit *c);
static inline bool kvs_commit_releasing(struct kvs_commit *c)
{
	return atomic_load_explicit(&c->releasing, memory_order_relaxed) != 0;
}
static inline bool kvs_commit_waiting(struct kvs_commit *c)
{
	for (unsigned i = 0; i < KVS_MAX_SHARDS / 64; i++)
		if (atomic_load_explicit(&c->waiters[i], memory_order_relaxed))
			return true;
	return false;
}
bool kvs_commit_idle(struct kvs_commit *c);
void kvs_commit_stats(struct kvs_commit *c, uint64_t *stores, uint64_t *batches, uint64_t *syncs);

#endif
