/* SPDX-License-Identifier: MIT */
/* Segment states, the free list and live-byte accounting (see kvs_seg.h). */
#include "kvs_seg.h"

#include <errno.h>
#include <stdlib.h>

int kvs_segs_init(struct kvs_segs *ss, uint32_t nsegs, uint32_t seg_size)
{
	ss->segs = calloc(nsegs, sizeof(*ss->segs));
	if (!ss->segs)
		return -ENOMEM;
	pthread_mutex_init(&ss->lock, NULL);
	ss->nsegs = nsegs;
	ss->seg_size = seg_size;
	for (uint32_t i = 0; i < nsegs; i++) {
		ss->segs[i].idx = i;
		ss->segs[i].state = KVS_SEG_FREE;
		ss->segs[i].old_seq = UINT64_MAX;
	}
	return 0;
}

void kvs_segs_fini(struct kvs_segs *ss)
{
	if (!ss->segs)
		return;
	free(ss->segs);
	ss->segs = NULL;
	pthread_mutex_destroy(&ss->lock);
}

void kvs_segs_build_free(struct kvs_segs *ss)
{
	for (uint32_t i = ss->nsegs; i-- > 0;) {
		struct kvs_seg *s = &ss->segs[i];

		if (s->state == KVS_SEG_FREE) {
			s->next_free = ss->free_list;
			ss->free_list = s;
			ss->free_count++;
		}
	}
}

void kvs_seg_set_state(struct kvs_seg *s, enum kvs_seg_state st)
{
	__atomic_store_n(&s->state, st, __ATOMIC_SEQ_CST);
}

struct kvs_seg *kvs_segs_take_locked(struct kvs_segs *ss, uint64_t epoch)
{
	struct kvs_seg *s = ss->free_list;

	if (!s)
		return NULL;
	ss->free_list = s->next_free;
	__atomic_sub_fetch(&ss->free_count, 1, __ATOMIC_RELAXED);
	s->epoch = epoch;
	s->used = 0;
	s->old_seq = UINT64_MAX;
	atomic_store(&s->live, 0);
	kvs_seg_set_state(s, KVS_SEG_OPEN);
	return s;
}

void kvs_segs_release_locked(struct kvs_segs *ss, struct kvs_seg *s)
{
	atomic_store(&s->live, 0);
	s->used = 0;
	s->epoch = 0;
	kvs_seg_set_state(s, KVS_SEG_FREE);
	s->next_free = ss->free_list;
	ss->free_list = s;
	__atomic_add_fetch(&ss->free_count, 1, __ATOMIC_RELAXED);
	atomic_fetch_add(&ss->st_freed, 1);
}

void kvs_seg_live_add(struct kvs_segs *ss, uint32_t seg, int64_t delta)
{
	struct kvs_seg *s = &ss->segs[seg];
	int64_t old = atomic_fetch_add(&s->live, delta);

	/* Crossing under the threshold makes a sealed segment a GC candidate. */
	if (delta < 0 && old >= ss->gc_live_thr && old + delta < ss->gc_live_thr)
		kvs_segs_mark_dirty(ss, true);
}

void kvs_seg_unpin(struct kvs_segs *ss, struct kvs_seg *s)
{
	/* Pairs with kvs_seg_retire_locked: it sets ZOMBIE then checks readers; we drop readers
	 * then check the state. */
	if (atomic_fetch_sub(&s->readers, 1) != 1)
		return;
	if (kvs_seg_state(s) != KVS_SEG_ZOMBIE)
		return;
	pthread_mutex_lock(&ss->lock);
	if (s->state == KVS_SEG_ZOMBIE && atomic_load(&s->readers) == 0)
		kvs_segs_release_locked(ss, s);
	pthread_mutex_unlock(&ss->lock);
}

void kvs_seg_retire_locked(struct kvs_segs *ss, struct kvs_seg *s)
{
	kvs_seg_set_state(s, KVS_SEG_ZOMBIE);
	if (atomic_load(&s->readers) == 0)
		kvs_segs_release_locked(ss, s);
}
