/* SPDX-License-Identifier: MIT */
/* Commit through per-executor shards (see kvs_commit.h). */
#include "kvs_commit.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define kvs_batch_of(lio_ptr) \
	((struct kvs_batch *)((char *)(lio_ptr) - offsetof(struct kvs_batch, lio)))

static void kvs_shard_woken(struct exec_completion *xc);

int kvs_commit_init(struct kvs_commit *c, struct kvs_log *log, struct kvs_segs *segs, uint64_t seq,
		    bool volatile_cache)
{
	memset(c, 0, sizeof(*c));
	c->log = log;
	c->segs = segs;
	atomic_init(&c->seq, seq);
	atomic_init(&c->seq_bump_at, UINT64_MAX); /* RAM: nothing to record */
	c->volatile_cache = volatile_cache;
	pthread_mutex_init(&c->shard_lock, NULL);
	return 0;
}

void kvs_commit_fini(struct kvs_commit *c)
{
	for (unsigned i = 0; i < atomic_load(&c->nshards); i++)
		free(c->shards[i]);
	pthread_mutex_destroy(&c->shard_lock);
}

struct kvs_shard *kvs_commit_shard(struct kvs_commit *c, struct executor *ex)
{
	unsigned n = atomic_load_explicit(&c->nshards, memory_order_acquire);
	struct kvs_shard *sh;

	for (unsigned i = 0; i < n; i++)
		if (c->shards[i]->ex == ex)
			return c->shards[i];
	pthread_mutex_lock(&c->shard_lock);
	n = atomic_load(&c->nshards);
	for (unsigned i = 0; i < n; i++)
		if (c->shards[i]->ex == ex) {
			pthread_mutex_unlock(&c->shard_lock);
			return c->shards[i];
		}
	sh = n < KVS_MAX_SHARDS ? aligned_alloc(64, (sizeof(*sh) + 63) & ~(size_t)63) : NULL;
	if (sh) {
		memset(sh, 0, sizeof(*sh));
		sh->c = c;
		sh->ex = ex;
		sh->id = n;
		sh->wake.fn = kvs_shard_woken;
		for (unsigned i = 0; i < KVS_SHARD_BATCHES; i++)
			sh->batches[i].sh = sh;
		c->shards[n] = sh;
		atomic_store_explicit(&c->nshards, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&c->shard_lock);
	return sh;
}

uint32_t kvs_shard_head_room(const struct kvs_shard *sh)
{
	return sh->head ? sh->c->segs->seg_size - sh->head->used : 0;
}

/* ---- placement ---- */

/*
 * A fresh head for sh, the old one sealed (nothing of sh is in flight into it). Foreground
 * leaves the last free segments to GC so compaction can always run. NULL: no segment.
 */
static struct kvs_seg *kvs_shard_open_seg(struct kvs_shard *sh, bool gc)
{
	struct kvs_segs *ss = sh->c->segs;
	struct kvs_seg *s = NULL;

	pthread_mutex_lock(&ss->lock);
	if (ss->free_count > (gc ? 0 : KVS_GC_RESERVE)) {
		if (sh->head) {
			kvs_seg_set_state(sh->head, KVS_SEG_SEALED);
			kvs_segs_mark_dirty(ss, true);
		}
		s = kvs_segs_take_locked(ss, kvs_commit_next_seq(sh->c, sh, 1));
		s->used = KVS_SEG_HDR_LEN;
		sh->head = s;
		atomic_store_explicit(&sh->holds_head, true, memory_order_relaxed);
	}
	pthread_mutex_unlock(&ss->lock);
	return s;
}

/* Seal what wr carries for its place in the head; GC copies keep their seqs. */
static void kvs_shard_seal(struct kvs_shard *sh, struct kvs_wr *wr, struct kvs_seg *h)
{
	if (wr->kind == KVS_WR_RECORD) {
		wr->seq = kvs_commit_next_seq(sh->c, sh, 1);
		kvs_log_rec_seal(wr->iov[0].iov_base, wr->seq, h->epoch);
		return;
	}
	for (uint32_t p = 0; p < wr->len;) {
		struct kvs_rec_hdr *r = (struct kvs_rec_hdr *)((uint8_t *)wr->iov[0].iov_base + p);

		kvs_log_rec_seal(r, r->seq, h->epoch);
		p += kvs_rec_len(r->key_len, r->value_len);
	}
}

static void kvs_shard_place(struct kvs_shard *sh, struct kvs_wr *wr)
{
	struct kvs_seg *h = sh->head;

	wr->seg = h->idx;
	wr->off = h->used;
	h->used += wr->len;
	kvs_shard_seal(sh, wr, h);
}

static bool kvs_shard_fits(const struct kvs_shard *sh, const struct kvs_wr *wr)
{
	return sh->head && sh->head->used + wr->len <= sh->c->segs->seg_size;
}

bool kvs_shard_place_now(struct kvs_shard *sh, struct kvs_wr *wr)
{
	struct kvs_log *log = sh->c->log;
	uint8_t *dst;

	if (sh->q_first || sh->gc_wr || sh->space_wait)
		return false;
	if (!kvs_shard_fits(sh, wr)) {
		struct kvs_seg *s;
		struct kvs_seg_hdr sh_hdr;

		if (sh->nflight || sh->completing || !(s = kvs_shard_open_seg(sh, false)))
			return false;
		kvs_log_seg_hdr_init(&sh_hdr, s->idx, s->epoch);
		memcpy(log->mem + kvs_log_seg_off(log, s->idx), &sh_hdr, sizeof(sh_hdr));
	}
	kvs_shard_place(sh, wr);
	dst = log->mem + kvs_log_seg_off(log, wr->seg) + wr->off;
	for (unsigned i = 0; i < wr->niov; i++) {
		memcpy(dst, wr->iov[i].iov_base, wr->iov[i].iov_len);
		dst += wr->iov[i].iov_len;
	}
	return true;
}

/* ---- batches ---- */

static void kvs_shard_take(struct kvs_shard *sh, struct kvs_batch *b, struct kvs_wr *wr, bool gc)
{
	if (gc) {
		sh->gc_wr = NULL;
	} else {
		sh->q_first = wr->next;
		if (!sh->q_first)
			sh->q_last = NULL;
	}
	kvs_wr_append(&b->first, &b->last, wr);
}

/* Start b in a freshly opened head: the segment header goes first. */
static void kvs_batch_open(struct kvs_batch *b, struct kvs_seg *s)
{
	kvs_log_seg_hdr_init(&b->seg_hdr, s->idx, s->epoch);
	b->seg = s;
	b->off = 0;
	b->iov[0].iov_base = &b->seg_hdr;
	b->iov[0].iov_len = sizeof(b->seg_hdr);
	b->niov = 1;
	b->lio.len = sizeof(b->seg_hdr);
}

/*
 * Gather queued writes into the next batch: contiguous, in one segment. The head changes only
 * when nothing of this shard is in flight into it, so a sealed segment never has writes (or
 * index updates) still to come. *need_space: a foreground write waits for a free segment.
 */
static struct kvs_batch *kvs_shard_form(struct kvs_shard *sh, bool *need_space)
{
	struct kvs_batch *b;

	if (sh->nflight == KVS_SHARD_BATCHES || sh->failed)
		return NULL;
	/* The next batch goes once the newest one's write is done and its sync runs: writes then
	 * overlap syncs, and what arrives meanwhile makes the next batch bigger (fewer syncs per
	 * store) instead of a batch of its own next to one still being written. */
	if (sh->nflight &&
	    !sh->batches[(sh->oldest + sh->nflight - 1) % KVS_SHARD_BATCHES].lio.written)
		return NULL;
	b = &sh->batches[(sh->oldest + sh->nflight) % KVS_SHARD_BATCHES];
	b->first = b->last = NULL;
	b->seg = NULL;
	b->niov = 0;
	b->lio.len = 0;
	b->res = 0;
	b->finished = false;
	b->sync = !sh->c->volatile_cache;
	for (;;) {
		bool gc = sh->gc_wr != NULL;
		struct kvs_wr *wr = gc ? sh->gc_wr : sh->q_first;

		if (!wr)
			break;
		if (wr->kind == KVS_WR_FLUSH) { /* forces the sync, needs no space */
			b->sync = true;
			kvs_shard_take(sh, b, wr, gc);
			continue;
		}
		if (!kvs_shard_fits(sh, wr)) {
			struct kvs_seg *s;

			if (b->seg || sh->nflight || sh->completing)
				break;
			if (!gc && sh->space_wait)
				break;
			s = kvs_shard_open_seg(sh, gc);
			if (!s) {
				if (!gc)
					*need_space = true;
				break;
			}
			kvs_batch_open(b, s);
		}
		if (b->niov + wr->niov > KVS_MAX_IOV)
			break;
		if (!b->seg) {
			b->seg = sh->head;
			b->off = sh->head->used;
		}
		if (gc)
			b->sync = true; /* a copy must be stable before its source is freed */
		kvs_shard_place(sh, wr);
		for (unsigned i = 0; i < wr->niov; i++)
			b->iov[b->niov++] = wr->iov[i];
		b->lio.len += wr->len;
		kvs_shard_take(sh, b, wr, gc);
	}
	if (!b->first)
		return NULL;
	sh->nflight++;
	return b;
}

static void kvs_batch_io_done(struct kvs_log_io *lio, struct executor *ex, int res);

/* The newest batch's write is done, its sync runs: the next batch may go. */
static void kvs_batch_written(struct kvs_log_io *lio, struct executor *ex)
{
	(void)ex;
	kvs_shard_kick(kvs_batch_of(lio)->sh);
}

static void kvs_shard_issue(struct kvs_shard *sh, struct kvs_batch *b)
{
	struct kvs_commit *c = sh->c;

	b->lio.done = kvs_batch_io_done;
	b->lio.on_written = kvs_batch_written;
	atomic_store_explicit(&sh->st_batches, atomic_load_explicit(&sh->st_batches, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (b->sync && !kvs_log_is_mem(c->log))
		atomic_store_explicit(&sh->st_syncs,
				      atomic_load_explicit(&sh->st_syncs, memory_order_relaxed) + 1,
				      memory_order_relaxed);
	if (!b->seg) { /* flushes only */
		kvs_log_sync(c->log, sh->ex, &b->lio);
		b->lio.written = true; /* nothing to write: only the sync runs */
		return;
	}
	b->lio.iov = b->iov;
	b->lio.niov = b->niov;
	b->lio.off = kvs_log_seg_off(c->log, b->seg->idx) + b->off;
	b->lio.sync = b->sync;
	kvs_log_append(c->log, sh->ex, &b->lio);
	if (!b->sync && !kvs_log_is_mem(c->log))
		b->lio.written = true; /* vwc: writes may overlap each other */
}

/* Start this foreground wait for space: tell the owner once per wait. */
static void kvs_shard_need_space(struct kvs_shard *sh)
{
	struct kvs_commit *c = sh->c;
	unsigned need = sh->q_first ? sh->q_first->len : 0, cur;

	if (sh->space_wait)
		return;
	sh->space_wait = true;
	cur = atomic_load(&c->wait_need);
	while (cur < need && !atomic_compare_exchange_weak(&c->wait_need, &cur, need))
		;
	atomic_fetch_or(&c->waiters[sh->id / 64], 1ull << (sh->id % 64));
	if (c->space_needed)
		c->space_needed(c, sh);
}

/* Issue every batch that may go; true when foreground writes wait for space (ask_gc: and
 * the owner has been told). */
static bool kvs_shard_run(struct kvs_shard *sh, bool ask_gc)
{
	struct kvs_batch *b;
	bool need = false;

	while ((b = kvs_shard_form(sh, &need)))
		kvs_shard_issue(sh, b);
	if (need && ask_gc)
		kvs_shard_need_space(sh); /* after forming: GC may queue copies on this shard */
	return need;
}

void kvs_shard_kick(struct kvs_shard *sh)
{
	kvs_shard_run(sh, true);
}

void kvs_shard_enqueue(struct kvs_shard *sh, struct kvs_wr *wr)
{
	wr->next = NULL;
	atomic_fetch_add_explicit(&sh->busy, 1, memory_order_relaxed);
	if (wr->kind == KVS_WR_COPIES)
		sh->gc_wr = wr;
	else
		kvs_wr_append(&sh->q_first, &sh->q_last, wr);
	kvs_shard_kick(sh);
}

/* The head becomes an ordinary sealed segment (nothing of this shard is in flight into it). */
static void kvs_shard_seal_head(struct kvs_shard *sh)
{
	if (!sh->head)
		return;
	pthread_mutex_lock(&sh->c->segs->lock);
	kvs_seg_set_state(sh->head, KVS_SEG_SEALED);
	kvs_segs_mark_dirty(sh->c->segs, true);
	pthread_mutex_unlock(&sh->c->segs->lock);
	sh->head = NULL;
	atomic_store_explicit(&sh->holds_head, false, memory_order_relaxed);
}

/* Asked to give up the head: now if nothing is in flight into it, else when that finishes. */
static void kvs_shard_release(struct kvs_shard *sh)
{
	if (sh->nflight || sh->completing) {
		sh->release_pending = true;
		return;
	}
	sh->release_pending = false;
	kvs_shard_seal_head(sh);
	atomic_store(&sh->asked_release, false);
	atomic_fetch_sub(&sh->c->releasing, 1);
	kvs_commit_wake(sh->c, false);
}

/* Batches finish in the order they were issued: a record is never acknowledged while one
 * before it in the segment might not be on the medium. After a failure every batch still in
 * flight fails too, and the head is sealed: nothing is appended behind a failed write. */
static void kvs_batch_io_done(struct kvs_log_io *lio, struct executor *ex, int res)
{
	struct kvs_batch *b = kvs_batch_of(lio);
	struct kvs_shard *sh = b->sh;

	b->res = res;
	b->finished = true;
	/* while writes' done run, the head stays: their index updates are not all applied */
	sh->completing = true;
	while (sh->nflight && sh->batches[sh->oldest].finished) {
		struct kvs_batch *o = &sh->batches[sh->oldest];
		struct kvs_wr *wr = o->first, *next;
		int r = sh->failed && o->res >= 0 ? -EIO : o->res;

		if (r < 0)
			sh->failed = true;
		o->finished = false;
		sh->oldest = (sh->oldest + 1) % KVS_SHARD_BATCHES;
		sh->nflight--;
		for (; wr; wr = next) {
			next = wr->next;
			atomic_fetch_sub_explicit(&sh->busy, 1, memory_order_relaxed);
			wr->done(wr, ex, r);
		}
	}
	sh->completing = false;
	if (sh->failed && !sh->nflight) {
		kvs_shard_seal_head(sh);
		sh->failed = false;
	}
	if (sh->release_pending && !sh->nflight)
		kvs_shard_release(sh);
	kvs_shard_kick(sh);
}

/* ---- waiting for space ---- */

/* One post at a time per shard; its handler reads every flag set meanwhile. The flags that
 * were set already. */
static int kvs_shard_post(struct kvs_shard *sh, int flags)
{
	int old = atomic_fetch_or(&sh->wake_flags, KVS_WAKE_POSTED | flags);

	if (!(old & KVS_WAKE_POSTED))
		executor_post(sh->ex, &sh->wake);
	return old;
}

void kvs_commit_wake(struct kvs_commit *c, bool fail)
{
	bool any = false;

	for (unsigned w = 0; w < KVS_MAX_SHARDS / 64; w++) {
		uint64_t bits = atomic_exchange(&c->waiters[w], 0);

		for (unsigned i = 0; bits; i++, bits >>= 1)
			if (bits & 1) {
				kvs_shard_post(c->shards[w * 64 + i], KVS_WAKE_SPACE | (fail ? KVS_WAKE_FAIL : 0));
				any = true;
			}
	}
	if (any)
		atomic_store(&c->wait_need, 0);
}

unsigned kvs_commit_release_heads(struct kvs_commit *c)
{
	unsigned n = atomic_load_explicit(&c->nshards, memory_order_acquire), asked = 0;

	for (unsigned i = 0; i < n; i++) {
		struct kvs_shard *sh = c->shards[i];

		if (!atomic_load_explicit(&sh->holds_head, memory_order_relaxed) ||
		    atomic_exchange(&sh->asked_release, true))
			continue;
		/* counted until the shard has sealed (or found it has no head) */
		atomic_fetch_add(&c->releasing, 1);
		kvs_shard_post(sh, KVS_WAKE_RELEASE);
		asked++;
	}
	return asked;
}

/* On the shard's thread: release the head if asked; retry; if GC said no space can be made and the writes still wait,
 * the foreground ones fail with -ENOSPC (Capacity Exceeded). Flushes stay queued. */
static void kvs_shard_woken(struct exec_completion *xc)
{
	struct kvs_shard *sh = (struct kvs_shard *)((char *)xc - offsetof(struct kvs_shard, wake));
	int flags = atomic_exchange(&sh->wake_flags, 0);
	struct kvs_wr *list, *next, *keep = NULL, *keep_last = NULL;

	if (flags & KVS_WAKE_RELEASE)
		kvs_shard_release(sh);
	if (!(flags & (KVS_WAKE_SPACE | KVS_WAKE_FAIL)))
		return;
	sh->space_wait = false;
	/* after a "no space" verdict, retry without asking GC again */
	if (!kvs_shard_run(sh, !(flags & KVS_WAKE_FAIL)) || !(flags & KVS_WAKE_FAIL))
		return;
	list = sh->q_first;
	for (struct kvs_wr *wr = list; wr; wr = next) {
		next = wr->next;
		if (wr->kind == KVS_WR_FLUSH)
			kvs_wr_append(&keep, &keep_last, wr);
	}
	sh->q_first = keep;
	sh->q_last = keep_last;
	for (struct kvs_wr *wr = list; wr; wr = next) {
		next = wr->next;
		if (wr->kind == KVS_WR_FLUSH)
			continue;
		atomic_fetch_sub_explicit(&sh->busy, 1, memory_order_relaxed);
		wr->done(wr, sh->ex, -ENOSPC);
	}
	kvs_shard_kick(sh);
}

bool kvs_commit_idle(struct kvs_commit *c)
{
	unsigned n = atomic_load_explicit(&c->nshards, memory_order_acquire);

	for (unsigned i = 0; i < n; i++)
		if (atomic_load_explicit(&c->shards[i]->busy, memory_order_acquire))
			return false;
	return true;
}

void kvs_commit_stats(struct kvs_commit *c, uint64_t *stores, uint64_t *batches, uint64_t *syncs)
{
	unsigned n = atomic_load_explicit(&c->nshards, memory_order_acquire);

	*stores = *batches = *syncs = 0;
	for (unsigned i = 0; i < n; i++) {
		*stores += atomic_load_explicit(&c->shards[i]->st_stores, memory_order_relaxed);
		*batches += atomic_load_explicit(&c->shards[i]->st_batches, memory_order_relaxed);
		*syncs += atomic_load_explicit(&c->shards[i]->st_syncs, memory_order_relaxed);
	}
}
