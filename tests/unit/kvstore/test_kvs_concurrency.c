/* SPDX-License-Identifier: MIT */
/*
 * Two worker threads, each with its own io_uring, against one store:
 *  - group commit: pipelined stores from both threads share writes and syncs (syncs < stores),
 *    every completion runs on the thread that submitted it, nothing is lost;
 *  - stores, retrieves and deletes from both threads while GC compacts small segments.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "kvs_test.h"
#include "kvstore/kvs_commit.h"

#define VMAX 2048

enum { W_STORE, W_RETRIEVE, W_DELETE };

struct worker;

struct wslot {
	struct kvs_io io;
	struct worker *w;
	int busy;
	int kind;
	int shared;
	uint32_t key, ver;
	uint8_t buf[VMAX];
};

#define PKEYS 64
#define SKEYS 16
#define QD 32

struct worker {
	int id;
	struct kvs *kv;
	pthread_t th;
	struct t_ring ring;
	int nops;
	int mixed;            /* phase 2: stores, retrieves, deletes on private keys */
	uint32_t rng;
	/* private keys: only this thread touches them; one op per key at a time */
	int pbusy[PKEYS];
	int64_t pver[PKEYS];  /* committed version, -1 = absent */
	uint32_t pnext[PKEYS];
	uint32_t slast[SKEYS]; /* last version this thread stored per shared key (+1, 0 = none) */
	uint32_t snext;
	uint64_t done, errors, wrong_thread, bad_data, stores;
	struct wslot slots[QD];
};

static __thread struct worker *cur_worker; /* the worker whose thread this is */
static atomic_int running;

static uint32_t w_rnd(struct worker *w)
{
	w->rng = w->rng * 1103515245u + 12345u;
	return w->rng >> 8;
}

static uint32_t val_len(uint32_t key, uint32_t ver)
{
	return 8 + (key * 2654435761u + ver * 40503u) % (VMAX - 8);
}

/* value = [u32 ver][u32 key-tag][pseudo-random bytes from (tag, ver)] */
static void val_fill(uint8_t *buf, uint32_t tag, uint32_t ver)
{
	uint32_t n = val_len(tag, ver);

	memcpy(buf, &ver, 4);
	memcpy(buf + 4, &tag, 4);
	t_fill(buf + 8, n - 8, tag, ver);
}

static int val_check(const uint8_t *buf, uint32_t size, uint32_t tag, uint32_t ver)
{
	static __thread uint8_t exp[VMAX];

	if (size != val_len(tag, ver))
		return 0;
	val_fill(exp, tag, ver);
	return !memcmp(buf, exp, size);
}

static uint32_t ptag(int wid, uint32_t k)
{
	return (uint32_t)wid << 16 | k;
}

static void key_of(struct wslot *s, char *key)
{
	if (s->shared)
		sprintf(key, "s%u", s->key);
	else
		sprintf(key, "p%d-%u", s->w->id, s->key);
}

static void slot_done(struct kvs_io *io)
{
	struct wslot *s = io->ctx;
	struct worker *w = s->w;

	if (cur_worker != w)
		w->wrong_thread++;
	s->busy = 0;
	w->done++;
	if (s->shared) {
		if (io->status)
			w->errors++;
		return;
	}
	w->pbusy[s->key] = 0;
	switch (s->kind) {
	case W_STORE:
		if (io->status)
			w->errors++;
		else
			w->pver[s->key] = s->ver;
		break;
	case W_DELETE:
		if (io->status != (w->pver[s->key] < 0 ? ST(0x87) : 0))
			w->errors++;
		w->pver[s->key] = -1;
		break;
	case W_RETRIEVE:
		if (w->pver[s->key] < 0) {
			if (io->status != ST(0x87))
				w->errors++;
		} else if (io->status) {
			w->errors++;
		} else if (!val_check(s->buf, io->value_size, ptag(w->id, s->key),
				      (uint32_t)w->pver[s->key])) {
			w->bad_data++;
		}
		break;
	}
}

static void slot_start(struct worker *w, struct wslot *s)
{
	char key[16];
	uint32_t k;

	memset(&s->io, 0, sizeof(s->io));
	s->w = w;
	s->shared = !w->mixed && w_rnd(w) % 4 == 0;
	if (s->shared) {
		k = w_rnd(w) % SKEYS;
		s->kind = W_STORE;
		s->ver = (uint32_t)w->id << 24 | w->snext++;
		w->slast[k] = s->ver + 1;
	} else {
		do
			k = w_rnd(w) % PKEYS;
		while (w->pbusy[k]);
		w->pbusy[k] = 1;
		s->kind = W_STORE;
		if (w->mixed) {
			uint32_t r = w_rnd(w) % 10;

			s->kind = r < 5 ? W_STORE : r < 9 ? W_RETRIEVE : W_DELETE;
		}
		s->ver = w->pnext[k]++;
	}
	s->key = k;
	key_of(s, key);
	s->io.key_len = (uint8_t)strlen(key);
	memcpy(s->io.key, key, s->io.key_len);
	s->io.done = slot_done;
	s->io.ctx = s;
	s->io.buf = s->buf;
	s->busy = 1;
	switch (s->kind) {
	case W_STORE:
		val_fill(s->buf, s->shared ? k : ptag(w->id, k), s->ver);
		s->io.op = KVS_OP_STORE;
		s->io.len = val_len(s->shared ? k : ptag(w->id, k), s->ver);
		w->stores++;
		break;
	case W_RETRIEVE:
		s->io.op = KVS_OP_RETRIEVE;
		s->io.len = VMAX;
		break;
	case W_DELETE:
		s->io.op = KVS_OP_DELETE;
		break;
	}
	kvs_submit(w->kv, &w->ring.ex, &s->io);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int started = 0;

	cur_worker = w;
	for (;;) {
		int busy = 0;

		for (int i = 0; i < QD; i++) {
			if (!w->slots[i].busy && started < w->nops) {
				slot_start(w, &w->slots[i]);
				started++;
			}
			busy |= w->slots[i].busy;
		}
		if (!busy && started >= w->nops)
			break;
		kvs_poll(w->kv, &w->ring.ex);
		if (t_reap(&w->ring.ex, busy) < 0) { /* RAM: most complete inline */
			w->errors += 1000000; /* stuck */
			break;
		}
	}
	/* Keep serving our ring until the other thread is done too and the engine is idle: a
	 * batch we lead may carry its stores. */
	atomic_fetch_sub(&running, 1);
	while (atomic_load(&running) > 0 || !kvs_idle(w->kv)) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_nsec = 1000000 };

		io_uring_submit(&w->ring.ring);
		if (io_uring_wait_cqe_timeout(&w->ring.ring, &cqe, &ts) == 0)
			t_reap(&w->ring.ex, 0);
	}
	return NULL;
}

static void run_workers(struct kvs *kv, struct worker *w, int nops, int mixed)
{
	for (int i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		w[i].kv = kv;
		w[i].nops = nops;
		w[i].mixed = mixed;
		w[i].rng = 777 + 1000 * i;
		for (int k = 0; k < PKEYS; k++)
			w[i].pver[k] = -1;
		t_ring_init(&w[i].ring, 256);
	}
	atomic_store(&running, 2);
	for (int i = 0; i < 2; i++)
		pthread_create(&w[i].th, NULL, worker_main, &w[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i].th, NULL);
}

/* From the main thread's own ring: every key holds what its writers left. */
static int verify(struct kvs *kv, struct worker *w)
{
	struct t_ring ring;
	static uint8_t out[VMAX];
	int bad = 0;

	t_ring_init(&ring, 64);
	for (int i = 0; i < 2; i++)
		for (uint32_t k = 0; k < PKEYS; k++) {
			char key[16];
			uint32_t vs = 0;
			uint16_t st;

			sprintf(key, "p%d-%u", i, k);
			st = t_retrieve(kv, &ring.ex, key, (unsigned)strlen(key), out, VMAX, &vs);
			if (w[i].pver[k] < 0)
				bad += st != ST(0x87);
			else
				bad += st || !val_check(out, vs, ptag(i, k), (uint32_t)w[i].pver[k]);
		}
	for (uint32_t k = 0; k < SKEYS; k++) {
		char key[16];
		uint32_t vs = 0, ver;
		uint16_t st;

		if (!w[0].slast[k] && !w[1].slast[k])
			continue;
		sprintf(key, "s%u", k);
		st = t_retrieve(kv, &ring.ex, key, (unsigned)strlen(key), out, VMAX, &vs);
		memcpy(&ver, out, 4);
		/* the last store of one of the two threads wins */
		bad += st || !((w[0].slast[k] && ver == w[0].slast[k] - 1) ||
			       (w[1].slast[k] && ver == w[1].slast[k] - 1)) ||
		       !val_check(out, vs, k, ver);
	}
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	return bad;
}

static void test_group_commit(const char *path, const char *m)
{
	struct kvs_config cfg = { .path = path, .capacity = 64u << 20, .segment_size = 1u << 20,
				  .max_value = 65536, .format = true };
	struct worker *w = calloc(2, sizeof(*w));
	struct kvs_stats st;
	struct kvs *kv;
	char err[256];

	if (kvs_open(&kv, &cfg, err, sizeof(err))) {
		tap_ok(0, "%s: open: %s", m, err);
		free(w);
		return;
	}
	run_workers(kv, w, 3000, 0);
	kvs_get_stats(kv, &st);
	tap_ok(w[0].done == 3000 && w[1].done == 3000 && !w[0].errors && !w[1].errors,
	     "%s: 2 threads x 3000 pipelined stores completed without error", m);
	tap_ok(!w[0].wrong_thread && !w[1].wrong_thread,
	     "%s: every completion ran on its submitter's thread", m);
	tap_ok(st.stores == 6000 && st.syncs < st.stores / 4,
	     "%s: group commit: %llu syncs, %llu batches for %llu stores", m,
	     (unsigned long long)st.syncs, (unsigned long long)st.batches,
	     (unsigned long long)st.stores);
	tap_ok(verify(kv, w) == 0, "%s: every key holds the last value its writers stored", m);
	t_ring_exit(&w[0].ring);
	t_ring_exit(&w[1].ring);
	kvs_close(kv);
	free(w);
}

static void test_mixed_gc(const char *path, const char *m)
{
	struct kvs_config cfg = { .path = path, .capacity = 4096 + 24 * 65536, .segment_size = 65536,
				  .max_value = 4096, .format = true };
	struct worker *w = calloc(2, sizeof(*w));
	struct kvs_stats st;
	struct kvs *kv;
	char err[256];

	if (kvs_open(&kv, &cfg, err, sizeof(err))) {
		tap_ok(0, "%s: open: %s", m, err);
		free(w);
		return;
	}
	run_workers(kv, w, 8000, 1);
	kvs_get_stats(kv, &st);
	tap_ok(w[0].done == 8000 && w[1].done == 8000 && !w[0].errors && !w[1].errors &&
		     !w[0].bad_data && !w[1].bad_data,
	     "%s: 2 threads x 8000 store/retrieve/delete with GC: statuses and bytes right", m);
	tap_ok(!w[0].wrong_thread && !w[1].wrong_thread && st.gc_freed > 10,
	     "%s: completions on their own threads; GC reclaimed %llu segments", m,
	     (unsigned long long)st.gc_freed);
	tap_ok(verify(kv, w) == 0, "%s: final state matches both threads' view", m);
	t_ring_exit(&w[0].ring);
	t_ring_exit(&w[1].ring);
	kvs_close(kv);
	free(w);
}

/* ---- shards: two executors on one thread, waits for space, the shard limit ---- */

struct sio {
	struct kvs_io io;
	struct executor *ex; /* it was submitted on */
	int done;
};

static struct executor *pumping; /* the executor whose completions are being run */
static int wrong_ex;

static void sio_done(struct kvs_io *io)
{
	struct sio *s = io->ctx;

	if (pumping != s->ex)
		wrong_ex++;
	s->done++;
}

/* Run the loops of executors 0..n-1 until the engine is idle (GC may be running on any). */
static int drain_all(struct kvs *kv, struct t_ring *r, int n)
{
	for (int round = 0; round < 100000; round++) {
		if (kvs_idle(kv))
			return 0;
		for (int j = 0; j < n; j++) {
			kvs_poll(kv, &r[j].ex);
			t_reap(&r[j].ex, 0);
		}
	}
	return -ETIME;
}

/*
 * Bursts of overwrites from two executors into a store with little room: writes of both
 * queue waiting for space, GC (run by whichever executor asked) frees segments, and every
 * waiting write completes, with status 0, from its own executor's loop.
 */
static void test_shard_space_waits(void)
{
	struct kvs_config cfg = { .path = "kv:mem", .capacity = 4096 + 8 * 65536, .segment_size = 65536,
				  .max_value = 8192 };
	enum { N = 600, BURST = 12 }; /* a burst from each side, then both loops run */
	static struct sio ios[N];
	static uint8_t val[6000];
	struct t_ring r[2];
	struct kvs_stats st;
	struct kvs *kv;
	char err[256];
	int queued[2] = { 0, 0 }, bad = 0, left = N, rounds = 0;

	if (kvs_open(&kv, &cfg, err, sizeof(err))) {
		tap_ok(0, "shards: open: %s", err);
		return;
	}
	t_ring_init(&r[0], 64);
	t_ring_init(&r[1], 64);
	memset(val, 0x3c, sizeof(val));
	for (int i = 0; i < N; i++) {
		struct sio *s = &ios[i];
		int w = i / BURST % 2;
		char key[8];

		snprintf(key, sizeof(key), "w%d", i % 6);
		memset(s, 0, sizeof(*s));
		s->io.op = KVS_OP_STORE;
		s->io.key_len = (uint8_t)strlen(key);
		memcpy(s->io.key, key, s->io.key_len);
		s->io.buf = val;
		s->io.len = sizeof(val);
		s->io.done = sio_done;
		s->io.ctx = s;
		s->ex = &r[w].ex;
		pumping = s->ex; /* inline completions run in kvs_submit, on this executor */
		kvs_submit(kv, s->ex, &s->io);
		pumping = NULL;
		if (!s->done)
			queued[w]++;
		if (i % (2 * BURST) != 2 * BURST - 1 && i != N - 1)
			continue;
		for (left = 1; left && rounds++ < 100000;) {
			left = 0;
			for (int x = 0; x < 2; x++) {
				pumping = &r[x].ex;
				kvs_poll(kv, &r[x].ex);
				t_reap(&r[x].ex, 0);
			}
			pumping = NULL;
			for (int j = 0; j <= i; j++)
				left += !ios[j].done;
		}
	}
	for (int i = 0; i < N; i++) {
		bad += ios[i].done != 1 || ios[i].io.status != 0;
		if (getenv("KVS_DEBUG") && (ios[i].done != 1 || ios[i].io.status))
			fprintf(stderr, "io %d: done %d status %#x\n", i, ios[i].done, ios[i].io.status);
	}
	kvs_get_stats(kv, &st);
	tap_ok(queued[0] > 0 && queued[1] > 0 && !left && !bad && !wrong_ex && st.gc_freed > 0,
	       "shards: writes of both executors waited for space (%d, %d), all completed once with "
	       "status 0 on their own executor (%d bad, %d elsewhere), GC freed %llu segments",
	       queued[0], queued[1], bad, wrong_ex, (unsigned long long)st.gc_freed);
	tap_ok(drain_all(kv, r, 2) == 0, "shards: the engine drains");
	t_ring_exit(&r[0]);
	t_ring_exit(&r[1]);
	kvs_close(kv);
}

/* One store on executor i while the loops of executors 0..n-1 all run (as workers' would). */
static uint16_t store_on(struct kvs *kv, struct t_ring *r, int n, int i, const char *key)
{
	struct t_io t;

	t_io_prep(&t, KVS_OP_STORE, key, (unsigned)strlen(key), "v", 1, 0);
	kvs_submit(kv, &r[i].ex, &t.io);
	for (int round = 0; !t.done && round < 100000; round++)
		for (int j = 0; j < n; j++) {
			kvs_poll(kv, &r[j].ex);
			t_reap(&r[j].ex, 0);
		}
	return t.done ? t.io.status : 0xffff;
}

/*
 * Each writing executor holds a head of its own: KVS_MAX_SHARDS + 1 of them on a 16-segment
 * store. When the
 * free segments run out, the idle executors are asked to seal their heads, GC merges what they
 * hold, and the next executor stores. Writers beyond KVS_MAX_SHARDS get Internal Error;
 * readers are not limited.
 */
static void test_shard_limit(void)
{
	struct kvs_config cfg = { .path = "kv:mem", .capacity = 16u << 20, .segment_size = 1u << 20,
				  .max_value = 4096 };
	enum { NEX = KVS_MAX_SHARDS + 1 };
	struct t_ring *r = calloc(NEX, sizeof(*r));
	struct kvs *kv;
	char err[256];
	int ok = 0;
	uint16_t last = 0, rd;

	if (!r || kvs_open(&kv, &cfg, err, sizeof(err))) {
		tap_ok(0, "shard limit: open: %s", err);
		free(r);
		return;
	}
	for (int i = 0; i < NEX; i++)
		t_ring_init(&r[i], 8);
	for (int i = 0; i < NEX; i++) {
		char key[8];

		snprintf(key, sizeof(key), "k%d", i);
		last = store_on(kv, r, NEX, i, key);
		ok += last == 0;
		if (getenv("KVS_DEBUG") && last)
			fprintf(stderr, "executor %d: status %#x\n", i, last);
	}
	rd = t_retrieve(kv, &r[NEX - 1].ex, "k0", 2, err, sizeof(err), NULL);
	tap_ok(ok == KVS_MAX_SHARDS && last == ST(KVS_SC_INTERNAL) && rd == 0,
	       "shard limit: %d writing executors store in 16 segments (%d did), one more gets "
	       "Internal Error (%#x), and still reads (%#x)", KVS_MAX_SHARDS, ok, last, rd);
	tap_ok(drain_all(kv, r, NEX) == 0, "shard limit: the engine drains");
	for (int i = 0; i < NEX; i++)
		t_ring_exit(&r[i]);
	kvs_close(kv);
	free(r);
}

int main(void)
{
	char *path = t_tmpfile();

	test_group_commit(path, "file");
	test_group_commit("kv:mem", "mem");
	test_mixed_gc(path, "file");
	test_mixed_gc("kv:mem", "mem");
	test_shard_space_waits();
	test_shard_limit();
	unlink(path);
	free(path);
	return tap_done();
}
