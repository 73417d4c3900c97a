/* SPDX-License-Identifier: MIT */
/* Group commit (see kvs_commit.h). */
#include "kvs_commit.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define kvs_batch_of(lio_ptr) \
	((struct kvs_batch *)((char *)(lio_ptr) - offsetof(struct kvs_batch, lio)))
#define kvs_commit_of(b) ((struct kvs_commit *)((char *)(b) - offsetof(struct kvs_commit, batch)))

void kvs_commit_init(struct kvs_commit *c, struct kvs_log *log, struct kvs_segs *segs, uint64_t seq,
		     bool volatile_cache)
{
	memset(c, 0, sizeof(*c));
	c->log = log;
	c->segs = segs;
	c->seq = seq;
	c->volatile_cache = volatile_cache;
}

uint64_t kvs_commit_next_seq_locked(struct kvs_commit *c)
{
	return ++c->seq;
}

uint32_t kvs_commit_head_room_locked(const struct kvs_commit *c)
{
	return c->head ? c->segs->seg_size - c->head->used : 0;
}

uint32_t kvs_commit_wait_need_locked(const struct kvs_commit *c)
{
	return c->space_wait && c->fg_first ? c->fg_first->len : 0;
}

/* ---- batch formation (lock held) ---- */

static void kvs_commit_open_seg(struct kvs_commit *c, struct kvs_batch *b)
{
	struct kvs_seg *s;

	if (c->head) {
		kvs_seg_set_state(c->head, KVS_SEG_SEALED);
		kvs_segs_mark_dirty(c->segs, true);
	}
	s = kvs_segs_take_locked(c->segs, ++c->seq);
	s->used = KVS_SEG_HDR_LEN;
	c->head = s;

	kvs_log_seg_hdr_init(&b->seg_hdr, s->idx, s->epoch);
	b->seg = s;
	b->off = 0;
	b->iov[0].iov_base = &b->seg_hdr;
	b->iov[0].iov_len = sizeof(b->seg_hdr);
	b->niov = 1;
	b->lio.len = sizeof(b->seg_hdr);
}

static void kvs_commit_take(struct kvs_commit *c, struct kvs_batch *b, struct kvs_wr *wr, bool gc)
{
	if (gc) {
		c->gc_wr = NULL;
	} else {
		c->fg_first = wr->next;
		if (!c->fg_first)
			c->fg_last = NULL;
	}
	kvs_wr_append(&b->first, &b->last, wr);
}

/* Seal what wr carries for its place in the head; GC copies keep their seqs. */
static void kvs_commit_seal(struct kvs_commit *c, struct kvs_wr *wr, struct kvs_seg *h)
{
	if (wr->kind == KVS_WR_RECORD) {
		wr->seq = ++c->seq;
		if (wr->seq < h->min_seq)
			h->min_seq = wr->seq;
		kvs_log_rec_seal(wr->iov[0].iov_base, wr->seq, h->epoch);
		return;
	}
	for (uint32_t p = 0; p < wr->len;) {
		struct kvs_rec_hdr *r = (struct kvs_rec_hdr *)((uint8_t *)wr->iov[0].iov_base + p);

		kvs_log_rec_seal(r, r->seq, h->epoch);
		if (r->seq < h->min_seq)
			h->min_seq = r->seq;
		p += kvs_rec_len(r->key_len, r->value_len);
	}
}

static void kvs_commit_place(struct kvs_commit *c, struct kvs_batch *b, struct kvs_wr *wr)
{
	struct kvs_seg *h = c->head;

	wr->seg = h->idx;
	wr->off = h->used;
	h->used += wr->len;
	kvs_commit_seal(c, wr, h);
	for (unsigned i = 0; i < wr->niov; i++)
		b->iov[b->niov++] = wr->iov[i];
	b->lio.len += wr->len;
}

/* Gather queued writes into the next batch: contiguous, in one segment. */
static bool kvs_commit_form(struct kvs_commit *c)
{
	struct kvs_batch *b = &c->batch;

	if (c->inflight)
		return false;
	b->first = b->last = NULL;
	b->seg = NULL;
	b->niov = 0;
	b->lio.len = 0;
	b->sync = !c->volatile_cache;
	c->space_wait = false;
	for (;;) {
		bool gc = c->gc_wr != NULL;
		struct kvs_wr *wr = gc ? c->gc_wr : c->fg_first;

		if (!wr)
			break;
		if (wr->kind == KVS_WR_FLUSH) { /* forces the sync, needs no space */
			b->sync = true;
			kvs_commit_take(c, b, wr, gc);
			continue;
		}
		if (!c->head || c->head->used + wr->len > c->segs->seg_size) {
			if (b->seg)
				break;
			/* Foreground leaves the last free segments to GC so compaction can run. */
			if (c->segs->free_count <= (gc ? 0 : KVS_GC_RESERVE)) {
				c->space_wait = !gc;
				break;
			}
			kvs_commit_open_seg(c, b);
		}
		if (b->niov + wr->niov > KVS_MAX_IOV)
			break;
		if (!b->seg) {
			b->seg = c->head;
			b->off = c->head->used;
		}
		if (gc)
			b->sync = true; /* a copy must be stable before its source is freed */
		kvs_commit_place(c, b, wr);
		kvs_commit_take(c, b, wr, gc);
	}
	if (!b->first)
		return false;
	c->inflight = true;
	return true;
}

/* ---- issue and completion ---- */

static void kvs_commit_batch_done(struct kvs_log_io *lio, struct executor *ex, int res);

static void kvs_commit_issue(struct kvs_commit *c, struct executor *ex)
{
	struct kvs_batch *b = &c->batch;

	b->lio.done = kvs_commit_batch_done;
	atomic_fetch_add(&c->st_batches, 1);
	if (b->sync && !kvs_log_is_mem(c->log))
		atomic_fetch_add(&c->st_syncs, 1);
	if (!b->seg) { /* flushes only */
		kvs_log_sync(c->log, ex, &b->lio);
		return;
	}
	b->lio.iov = b->iov;
	b->lio.niov = b->niov;
	b->lio.off = kvs_log_seg_off(c->log, b->seg->idx) + b->off;
	b->lio.sync = b->sync;
	kvs_log_append(c->log, ex, &b->lio);
}

static void kvs_commit_batch_done(struct kvs_log_io *lio, struct executor *ex, int res)
{
	struct kvs_batch *b = kvs_batch_of(lio);
	struct kvs_commit *c = kvs_commit_of(b);
	struct kvs_wr *wr = b->first, *next;
	bool formed, wait;

	pthread_mutex_lock(&c->segs->lock);
	/* Never append behind a failed write: recovery stops at the first bad record. */
	if (res < 0 && b->seg && c->head == b->seg) {
		kvs_seg_set_state(c->head, KVS_SEG_SEALED);
		c->head = NULL;
	}
	c->inflight = false;
	formed = kvs_commit_form(c);
	wait = c->space_wait;
	pthread_mutex_unlock(&c->segs->lock);
	if (formed)
		kvs_commit_issue(c, ex);
	/* b now describes the next batch; wr is the list of the one that finished */
	for (; wr; wr = next) {
		next = wr->next;
		wr->done(wr, ex, res);
	}
	if (c->batch_done)
		c->batch_done(c, ex, wait);
}

void kvs_commit_kick(struct kvs_commit *c, struct executor *ex)
{
	bool formed;

	pthread_mutex_lock(&c->segs->lock);
	formed = kvs_commit_form(c);
	pthread_mutex_unlock(&c->segs->lock);
	if (formed)
		kvs_commit_issue(c, ex);
}

bool kvs_commit_enqueue(struct kvs_commit *c, struct executor *ex, struct kvs_wr *wr)
{
	bool formed, wait;

	wr->next = NULL;
	pthread_mutex_lock(&c->segs->lock);
	if (wr->kind == KVS_WR_COPIES)
		c->gc_wr = wr;
	else
		kvs_wr_append(&c->fg_first, &c->fg_last, wr);
	formed = kvs_commit_form(c);
	wait = c->space_wait;
	pthread_mutex_unlock(&c->segs->lock);
	if (formed)
		kvs_commit_issue(c, ex);
	return wait;
}

void kvs_commit_fail_waiting(struct kvs_commit *c, struct executor *ex)
{
	struct kvs_wr *list = NULL, *next, *flushes = NULL, **tail = &flushes;

	pthread_mutex_lock(&c->segs->lock);
	if (c->space_wait && !c->inflight) {
		list = c->fg_first;
		c->fg_first = c->fg_last = NULL;
		c->space_wait = false;
	}
	pthread_mutex_unlock(&c->segs->lock);
	for (; list; list = next) {
		next = list->next;
		if (list->kind == KVS_WR_FLUSH) {
			*tail = list;
			tail = &list->next;
			continue;
		}
		list->done(list, ex, -ENOSPC);
	}
	if (!flushes)
		return;
	*tail = NULL;
	pthread_mutex_lock(&c->segs->lock);
	for (struct kvs_wr *f = flushes; f; f = next) {
		next = f->next;
		kvs_wr_append(&c->fg_first, &c->fg_last, f);
	}
	pthread_mutex_unlock(&c->segs->lock);
	kvs_commit_kick(c, ex);
}

bool kvs_commit_idle(struct kvs_commit *c)
{
	bool idle;

	pthread_mutex_lock(&c->segs->lock);
	idle = !c->inflight && !c->fg_first && !c->gc_wr;
	pthread_mutex_unlock(&c->segs->lock);
	return idle;
}
