/* SPDX-License-Identifier: MIT */
/*
 * Segments: their states, the free list and the live-byte accounting GC decides by. One lock
 * (`lock`) covers states and the free list; live bytes and reader pins are atomics.
 */
#ifndef NVRING_KVSTORE_KVS_SEG_H
#define NVRING_KVSTORE_KVS_SEG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define KVS_SEG_NONE UINT32_MAX
#define KVS_GC_RESERVE 2u   /* free segments only GC may take, so compaction always progresses */

enum kvs_seg_state {
	KVS_SEG_FREE,
	KVS_SEG_OPEN,   /* a head: records are appended */
	KVS_SEG_SEALED,
	KVS_SEG_GC,     /* being compacted */
	KVS_SEG_ZOMBIE, /* compacted and invalidated; freed when the last reader leaves */
};

struct kvs_seg {
	uint32_t idx;
	enum kvs_seg_state state; /* written under the lock, read atomically */
	uint64_t epoch;
	uint32_t used;            /* bytes placed, from the segment start (its shard's; final once
				   * SEALED) */
	uint64_t old_seq;         /* lowest seq of a record here that may be an older version of a
				   * key with a newer record elsewhere while being below the epoch
				   * (see kvs_seg_min_seq); atomic */
	atomic_int_fast64_t live; /* bytes of records the index points at */
	atomic_int readers;       /* retrieves in flight on this segment */
	struct kvs_seg *next_free;
};

struct kvs_segs {
	pthread_mutex_t lock;
	struct kvs_seg *segs;
	uint32_t nsegs;
	uint32_t seg_size;
	uint32_t gc_live_thr;     /* bytes: sealed segments below are GC candidates */
	struct kvs_seg *free_list;
	uint32_t free_count;      /* written under the lock, read atomically */
	bool gc_dirty;            /* states/live changed: GC should look again (atomic) */
	atomic_uint_fast64_t st_freed;
};

int kvs_segs_init(struct kvs_segs *ss, uint32_t nsegs, uint32_t seg_size);
void kvs_segs_fini(struct kvs_segs *ss);
/* After recovery: every FREE segment onto the free list (lowest index first). */
void kvs_segs_build_free(struct kvs_segs *ss);

/* Lock held. A free segment becomes OPEN with this epoch; NULL if none. */
struct kvs_seg *kvs_segs_take_locked(struct kvs_segs *ss, uint64_t epoch);
/* Lock held. */
void kvs_segs_release_locked(struct kvs_segs *ss, struct kvs_seg *s);
void kvs_seg_set_state(struct kvs_seg *s, enum kvs_seg_state st);
static inline enum kvs_seg_state kvs_seg_state(const struct kvs_seg *s)
{
	return __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
}

static inline uint32_t kvs_segs_free_count(const struct kvs_segs *ss)
{
	return __atomic_load_n(&ss->free_count, __ATOMIC_RELAXED);
}

static inline void kvs_segs_mark_dirty(struct kvs_segs *ss, bool dirty)
{
	__atomic_store_n(&ss->gc_dirty, dirty, __ATOMIC_RELAXED);
}

static inline bool kvs_segs_dirty(const struct kvs_segs *ss)
{
	return __atomic_load_n(&ss->gc_dirty, __ATOMIC_RELAXED);
}

/* Live bytes of one segment (what GC picks victims by). */
void kvs_seg_live_add(struct kvs_segs *ss, uint32_t seg, int64_t delta);
/* GC copied a record into s (seq older than s's epoch) while a newer write of its key was
 * in flight: once that write lands, the copy is an older version of the key. */
static inline void kvs_seg_note_old_copy(struct kvs_seg *s, uint64_t seq)
{
	if (seq < __atomic_load_n(&s->old_seq, __ATOMIC_RELAXED))
		__atomic_store_n(&s->old_seq, seq, __ATOMIC_RELAXED);
}

/*
 * Below which seq s may hold an older version of some key than that key's newest record (what
 * decides whether GC may drop a tombstone). Records written into s after it opened have seqs
 * above its epoch. GC copies keep their old seqs, but a copy is of a key's newest record; it
 * can be superseded only by a write placed after it (seq above the epoch again), unless a
 * newer write was already in flight when GC copied it: those are noted in old_seq. Recovered
 * segments note every record they hold.
 */
static inline uint64_t kvs_seg_min_seq(const struct kvs_seg *s)
{
	uint64_t m = __atomic_load_n(&s->old_seq, __ATOMIC_RELAXED);

	return s->epoch < m ? s->epoch : m;
}

/* A retrieve reads from s (taken under the index stripe lock that points at s). */
static inline void kvs_seg_pin(struct kvs_seg *s)
{
	atomic_fetch_add(&s->readers, 1);
}
void kvs_seg_unpin(struct kvs_segs *ss, struct kvs_seg *s);
/* Lock held. Compaction finished and the medium no longer holds s: free it once no reader is
 * left (now, or at the last kvs_seg_unpin). */
void kvs_seg_retire_locked(struct kvs_segs *ss, struct kvs_seg *s);

#endif
