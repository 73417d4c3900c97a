/* SPDX-License-Identifier: MIT */
/*
 * Garbage collection: 10x the capacity in overwrites of a small key set (pipelined, with
 * retrieves checking bytes while GC moves records) never fills the store; store/delete churn
 * over ever-new keys never fills it either (tombstones are dropped); the log reopens intact; a
 * value lent by a RETRIEVE (by_ref) stays intact while GC recycles the store around it.
 */
#include "kvs_test.h"

#define NKEYS 96 /* ~40 % of the capacity live: sealed segments keep live records to move */
#define QD 16
#define MAXV 6000

struct slot {
	struct kvs_io io;
	int busy;
	int is_store;
	uint32_t key, ver, len;
	uint8_t buf[MAXV];
};

struct state {
	uint32_t committed[NKEYS]; /* version the index holds (from store completions) */
	uint32_t next_ver[NKEYS];
	uint32_t len[NKEYS];
	uint64_t bytes, stores, retrieves, bad_status, bad_data;
	uint32_t rng;
};

static struct state S;

static uint32_t rnd(void)
{
	S.rng = S.rng * 1103515245u + 12345u;
	return S.rng >> 8;
}

static uint32_t vlen_of(uint32_t key, uint32_t ver)
{
	return 1 + (key * 7919u + ver * 104729u) % MAXV;
}

static void slot_done(struct kvs_io *io)
{
	struct slot *s = io->ctx;

	s->busy = 0;
	if (io->status) {
		S.bad_status++;
		return;
	}
	if (s->is_store) {
		if (s->ver > S.committed[s->key] || S.committed[s->key] == UINT32_MAX)
			S.committed[s->key] = s->ver;
		return;
	}
	{
		uint8_t exp[MAXV];
		uint32_t n = vlen_of(s->key, s->ver);

		t_fill(exp, n, s->key, s->ver);
		if (io->value_size != n || memcmp(exp, s->buf, n))
			S.bad_data++;
	}
}

static void slot_start(struct kvs *kv, struct executor *ex, struct slot *s)
{
	char key[8];

	memset(&s->io, 0, sizeof(s->io));
	s->key = rnd() % NKEYS;
	snprintf(key, sizeof(key), "g%u", s->key);
	s->io.key_len = (uint8_t)strlen(key);
	memcpy(s->io.key, key, s->io.key_len);
	s->io.done = slot_done;
	s->io.ctx = s;
	s->busy = 1;
	s->is_store = S.committed[s->key] == UINT32_MAX || rnd() % 10 < 7;
	if (s->is_store) {
		s->ver = S.next_ver[s->key]++;
		s->len = vlen_of(s->key, s->ver);
		t_fill(s->buf, s->len, s->key, s->ver);
		s->io.op = KVS_OP_STORE;
		s->io.buf = s->buf;
		s->io.len = s->len;
		S.bytes += s->len;
		S.stores++;
	} else {
		s->ver = S.committed[s->key]; /* retrieve sees the index as of now */
		s->io.op = KVS_OP_RETRIEVE;
		s->io.buf = s->buf;
		s->io.len = MAXV;
		S.retrieves++;
	}
	kvs_submit(kv, ex, &s->io);
}

static int verify_all(struct kvs *kv, struct executor *ex)
{
	static uint8_t out[MAXV], exp[MAXV];
	int bad = 0;

	for (uint32_t k = 0; k < NKEYS; k++) {
		char key[8];
		uint32_t vs = 0, n;

		if (S.committed[k] == UINT32_MAX)
			continue;
		n = vlen_of(k, S.committed[k]);
		snprintf(key, sizeof(key), "g%u", k);
		t_fill(exp, n, k, S.committed[k]);
		if (t_retrieve(kv, ex, key, (unsigned)strlen(key), out, MAXV, &vs) || vs != n ||
		    memcmp(out, exp, n))
			bad++;
	}
	return bad;
}

static void test_overwrite(const char *path, const char *m)
{
	struct kvs_config cfg = { .path = path, .capacity = 4096 + 16 * 65536, .segment_size = 65536,
				  .max_value = 8192, .format = true };
	static struct slot slots[QD];
	struct kvs_stats st;
	struct kvs *kv;
	struct t_ring ring;
	char err[256];
	uint64_t target, max_used = 0;
	int stuck = 0;

	memset(&S, 0, sizeof(S));
	S.rng = 12345;
	for (int k = 0; k < NKEYS; k++)
		S.committed[k] = UINT32_MAX;
	if (kvs_open(&kv, &cfg, err, sizeof(err))) {
		tap_ok(0, "%s: open: %s", m, err);
		return;
	}
	t_ring_init(&ring, 128);
	target = 10 * kvs_capacity(kv);
	while (S.bytes < target && !stuck) {
		int busy = 0;

		for (int i = 0; i < QD; i++) {
			if (!slots[i].busy && S.bytes < target)
				slot_start(kv, &ring.ex, &slots[i]);
			busy |= slots[i].busy; /* RAM: most complete inline */
		}
		kvs_poll(kv, &ring.ex);
		if (t_reap(&ring.ex, busy) < 0)
			stuck = 1;
		if (kvs_used(kv) > max_used)
			max_used = kvs_used(kv);
	}
	while (!stuck) {
		int busy = 0;

		for (int i = 0; i < QD; i++)
			busy |= slots[i].busy;
		if (!busy)
			break;
		if (t_reap(&ring.ex, 1) < 0)
			stuck = 1;
	}
	t_drain(kv, &ring.ex);
	kvs_get_stats(kv, &st);
	tap_ok(!stuck, "%s: pipeline of %llu stores / %llu retrieves ran to the end", m,
	     (unsigned long long)S.stores, (unsigned long long)S.retrieves);
	tap_ok(S.bytes >= target && S.bad_status == 0,
	     "%s: %llu bytes (10x capacity %llu) of overwrites, no error status (%llu)", m,
	     (unsigned long long)S.bytes, (unsigned long long)kvs_capacity(kv),
	     (unsigned long long)S.bad_status);
	tap_ok(S.bad_data == 0, "%s: retrieves during GC returned the right bytes (%llu bad)", m,
	     (unsigned long long)S.bad_data);
	tap_ok(st.gc_freed > 10 && st.gc_moved > 0, "%s: GC reclaimed %llu segments, moved %llu records", m,
	     (unsigned long long)st.gc_freed, (unsigned long long)st.gc_moved);
	tap_ok(max_used <= NKEYS * (MAXV + 64) && st.keys == NKEYS,
	     "%s: live bytes stay bounded (max %llu), %llu keys", m, (unsigned long long)max_used,
	     (unsigned long long)st.keys);
	tap_ok(verify_all(kv, &ring.ex) == 0, "%s: every key holds its last stored value", m);
	t_ring_exit(&ring);
	kvs_close(kv);

	if (strcmp(path, "kv:mem")) {
		cfg.format = false;
		if (kvs_open(&kv, &cfg, err, sizeof(err))) {
			tap_ok(0, "%s: reopen: %s", m, err);
			return;
		}
		t_ring_init(&ring, 64);
		kvs_get_stats(kv, &st);
		tap_ok(st.keys == NKEYS && verify_all(kv, &ring.ex) == 0,
		     "%s: reopened after GC: every key holds its last value", m);
		tap_ok(t_store(kv, &ring.ex, "g0", 2, "after", 5, 0) == 0 && t_drain(kv, &ring.ex) == 0,
		     "%s: reopened log accepts stores", m);
		t_ring_exit(&ring);
		kvs_close(kv);
	}
}

/* Ever-new keys stored then deleted: tombstones must not accumulate. */
static void test_delete_churn(const char *path, const char *m, unsigned nkeys)
{
	struct kvs_config cfg = { .path = path, .capacity = 4096 + 16 * 65536, .segment_size = 65536,
				  .max_value = 8192, .format = true };
	struct kvs_stats st;
	struct kvs *kv;
	struct t_ring ring;
	char err[256];
	uint8_t val[1000];
	unsigned i, fails = 0;

	if (kvs_open(&kv, &cfg, err, sizeof(err))) {
		tap_ok(0, "%s: open: %s", m, err);
		return;
	}
	t_ring_init(&ring, 64);
	memset(val, 0x5a, sizeof(val));
	for (i = 0; i < nkeys && fails < 5; i++) {
		char key[16];

		snprintf(key, sizeof(key), "churn%u", i);
		if (t_store(kv, &ring.ex, key, (unsigned)strlen(key), val, sizeof(val), 0))
			fails++;
		if (i >= 8) { /* keep a few alive, delete the one from 8 steps ago */
			snprintf(key, sizeof(key), "churn%u", i - 8);
			if (t_simple(kv, &ring.ex, KVS_OP_DELETE, key, (unsigned)strlen(key)))
				fails++;
		}
	}
	t_drain(kv, &ring.ex);
	kvs_get_stats(kv, &st);
	tap_ok(fails == 0 && i == nkeys, "%s: %u new keys stored and deleted (%llu bytes, %llux capacity)",
	     m, nkeys, (unsigned long long)i * sizeof(val),
	     (unsigned long long)(i * sizeof(val) / kvs_capacity(kv)));
	tap_ok(st.keys == 8 && kvs_used(kv) < 64 * 1024, "%s: %llu keys, %llu live bytes after churn", m,
	     (unsigned long long)st.keys, (unsigned long long)kvs_used(kv));
	t_ring_exit(&ring);
	kvs_close(kv);
}

/* A RAM store lends a retrieved value in place; GC over 10x the capacity cannot recycle the
 * segment under it; giving it back frees the segment GC retired meanwhile. A file store copies. */
static void test_lend(const char *path, const char *m)
{
	struct kvs_config cfg = { .path = path, .capacity = 4096 + 16 * 65536, .segment_size = 65536,
				  .max_value = 8192, .format = true };
	static uint8_t val[3000], other[4000], out[8192];
	struct kvs_stats before, after;
	struct kvs *kv;
	struct t_ring ring;
	struct t_io t;
	char err[256];
	unsigned fails = 0;
	uint16_t st;

	if (kvs_open(&kv, &cfg, err, sizeof(err))) {
		tap_ok(0, "%s: open: %s", m, err);
		return;
	}
	t_ring_init(&ring, 64);
	t_fill(val, sizeof(val), 7, 1);
	t_fill(other, sizeof(other), 8, 1);
	fails += t_store(kv, &ring.ex, "lent", 4, val, sizeof(val), 0) != 0;
	t_io_prep(&t, KVS_OP_RETRIEVE, "lent", 4, strcmp(path, "kv:mem") ? out : NULL, sizeof(out), 0);
	t.io.by_ref = true;
	st = t_run(kv, &ring.ex, &t);
	if (strcmp(path, "kv:mem")) {
		tap_ok(st == 0 && !t.io.ref && t.io.value_size == sizeof(val) && !memcmp(out, val, sizeof(val)),
		       "%s: a file store copies a by_ref retrieve into the buffer (status 0x%x)", m, st);
		goto out;
	}
	tap_ok(st == 0 && t.io.ref && t.io.value_size == sizeof(val) && !memcmp(t.io.ref, val, sizeof(val)),
	       "%s: a by_ref retrieve lends the value in place (status 0x%x)", m, st);
	if (!t.io.ref)
		goto out;
	/* overwrite the lent key and churn others: every segment turns over many times */
	for (unsigned i = 0; i < 10 * kvs_capacity(kv) / sizeof(other) && fails < 5; i++) {
		char key[16];

		snprintf(key, sizeof(key), "o%u", i % 64);
		fails += t_store(kv, &ring.ex, i % 8 ? key : "lent", i % 8 ? (unsigned)strlen(key) : 4, other,
				 sizeof(other), 0) != 0;
		kvs_poll(kv, &ring.ex);
	}
	t_drain(kv, &ring.ex);
	kvs_get_stats(kv, &before);
	tap_ok(fails == 0 && before.gc_freed > 10, "%s: 10x capacity of overwrites while lent, GC freed %llu segments",
	       m, (unsigned long long)before.gc_freed);
	tap_ok(!memcmp(t.io.ref, val, sizeof(val)), "%s: the lent value is intact after GC ran around it", m);
	kvs_io_unref(&t.io);
	kvs_get_stats(kv, &after);
	tap_ok(!t.io.ref && after.gc_freed == before.gc_freed + 1,
	       "%s: giving it back frees the segment GC retired while it was lent (%llu -> %llu)", m,
	       (unsigned long long)before.gc_freed, (unsigned long long)after.gc_freed);
	st = t_retrieve(kv, &ring.ex, "lent", 4, out, sizeof(out), NULL);
	tap_ok(st == 0 && !memcmp(out, other, sizeof(other)), "%s: the key holds its last value", m);
out:
	t_ring_exit(&ring);
	kvs_close(kv);
}

int main(void)
{
	char *path = t_tmpfile();

	test_overwrite("kv:mem", "mem");
	test_overwrite(path, "file");
	test_delete_churn("kv:mem", "mem", 12000);
	/* every step is a synced write on its own: fewer steps, still several times the capacity */
	test_delete_churn(path, "file", 4000);
	test_lend("kv:mem", "mem");
	test_lend(path, "file");
	unlink(path);
	free(path);
	return tap_done();
}
