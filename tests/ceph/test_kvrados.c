/* SPDX-License-Identifier: MIT */
/*
 * kvrados against the test cluster: every command and status (conditional stores, partial
 * retrieves, delete/exist of missing keys, key and value size limits), List order and
 * completeness across thousands of keys and many shards (with batches that run out), RADOS
 * namespaces kept apart, a reopen (close + open) finding every acknowledged store, two threads
 * at once (a contended must-not-exist store won exactly once), open errors, and `done` once
 * on the submitting thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ck.h"
#include "kvrados/kvrados.h"

#define ST(sc) ((uint16_t)(NVME_STATUS(0, (sc)) | NVME_STATUS_DNR))

static struct ck_worker W;

struct kio {
	struct kvs_io io;
	int ndone;
	bool foreign, submitting, inline_done;
	pthread_t owner;
};

static void kio_done(struct kvs_io *io)
{
	struct kio *k = io->ctx;

	k->ndone++;
	if (k->submitting)
		k->inline_done = true;
	if (!pthread_equal(pthread_self(), k->owner))
		k->foreign = true;
}

static void kio_prep(struct kio *k, enum kvs_op op, const void *key, unsigned klen, void *buf,
		     uint32_t len, uint8_t options)
{
	memset(k, 0, sizeof(*k));
	k->io.op = op;
	k->io.key_len = (uint8_t)klen;
	if (klen && klen <= KVS_KEY_MAX)
		memcpy(k->io.key, key, klen);
	k->io.buf = buf;
	k->io.len = len;
	k->io.options = options;
	k->io.done = kio_done;
	k->io.ctx = k;
}

static void kio_submit(struct kvr *kv, struct ck_worker *w, struct kio *k)
{
	k->owner = w->thread;
	k->submitting = true;
	kvr_submit(kv, &w->ex, &k->io);
	k->submitting = false;
}

struct kio_set {
	struct kio *k;
	int n;
};

static bool kio_all_done(void *arg)
{
	struct kio_set *s = arg;

	for (int i = 0; i < s->n; i++)
		if (!s->k[i].ndone)
			return false;
	return true;
}

static int kio_wait(struct ck_worker *w, struct kio *k, int n)
{
	struct kio_set s = { k, n };

	return ck_run_until(w, kio_all_done, &s, 30000);
}

/* One command: its status, or 0xFFFF if done was not called exactly once on this thread or the
 * executor still counts it as waiting on librados. */
static unsigned kv_do(struct kvr *kv, enum kvs_op op, const void *key, unsigned klen, void *buf,
		      uint32_t len, uint8_t options, uint32_t *value_size)
{
	struct kio k;

	kio_prep(&k, op, key, klen, buf, len, options);
	kio_submit(kv, &W, &k);
	/* completed, failed ones included, it no longer counts as waiting on librados */
	if (kio_wait(&W, &k, 1) || k.ndone != 1 || k.foreign || W.ex.foreign_waits)
		return 0xFFFF;
	if (value_size)
		*value_size = k.io.value_size;
	return k.io.status;
}

static unsigned kv_store(struct kvr *kv, const char *key, const void *v, uint32_t len, uint8_t opt)
{
	return kv_do(kv, KVS_OP_STORE, key, (unsigned)strlen(key), (void *)v, len, opt, NULL);
}

static int open_kv(struct kvr **kv, const char *pool, const char *ns, unsigned shards, char *err)
{
	struct kvr_config cfg = { .pool = pool, .nspace = ns, .conf = getenv("CEPH_CONF"),
				  .shards = shards };

	err[0] = 0;
	return kvr_open(kv, &cfg, err, 256);
}

static void t_ops(struct kvr *kv)
{
	uint8_t *big = ck_alloc(1 << 20), *r = ck_alloc(1 << 20);
	uint8_t key17[17] = { 0 };
	uint32_t vs = 0;

	ck_fill(big, 1 << 20, 42);
	tap_eq(kv_store(kv, "alpha", "one", 3, 0), 0, "store alpha");
	tap_eq(kv_do(kv, KVS_OP_RETRIEVE, "alpha", 5, r, 100, 0, &vs), 0, "retrieve alpha");
	tap_ok(vs == 3 && memcmp(r, "one", 3) == 0, "retrieve alpha: value and size");
	tap_eq(kv_store(kv, "alpha", "two!", 4, KVS_STORE_MUST_EXIST), 0,
	       "must-exist store of a present key replaces it");
	tap_eq(kv_store(kv, "alpha", "x", 1, KVS_STORE_MUST_NOT_EXIST), ST(NVME_SC_KV_KEY_EXISTS),
	       "must-not-exist store of a present key: Key Exists");
	tap_eq(kv_store(kv, "beta", "x", 1, KVS_STORE_MUST_EXIST), ST(NVME_SC_KV_KEY_NOT_EXIST),
	       "must-exist store of a missing key: Key Does Not Exist");
	tap_eq(kv_do(kv, KVS_OP_EXIST, "beta", 4, NULL, 0, 0, NULL), ST(NVME_SC_KV_KEY_NOT_EXIST),
	       "the refused store left nothing");
	tap_eq(kv_store(kv, "beta", "b", 1, KVS_STORE_MUST_NOT_EXIST), 0,
	       "must-not-exist store of a missing key");
	tap_eq(kv_store(kv, "gamma", "g", 1, KVS_STORE_MUST_EXIST | KVS_STORE_MUST_NOT_EXIST),
	       ST(NVME_SC_KV_KEY_NOT_EXIST), "both options, missing key: Key Does Not Exist");
	tap_eq(kv_store(kv, "beta", "g", 1, KVS_STORE_MUST_EXIST | KVS_STORE_MUST_NOT_EXIST),
	       ST(NVME_SC_KV_KEY_EXISTS), "both options, present key: Key Exists");
	memset(r, 0, 8);
	tap_ok(kv_do(kv, KVS_OP_RETRIEVE, "alpha", 5, r, 2, 0, &vs) == 0 && vs == 4 &&
	       memcmp(r, "tw", 2) == 0 && r[2] == 0,
	       "retrieve into a 2-byte buffer: 2 bytes, full size 4 reported");
	tap_eq(kv_do(kv, KVS_OP_RETRIEVE, "nokey", 5, r, 100, 0, NULL), ST(NVME_SC_KV_KEY_NOT_EXIST),
	       "retrieve of a missing key");
	tap_eq(kv_do(kv, KVS_OP_EXIST, "alpha", 5, NULL, 0, 0, NULL), 0, "exist alpha");
	tap_eq(kv_do(kv, KVS_OP_DELETE, "alpha", 5, NULL, 0, 0, NULL), 0, "delete alpha");
	tap_eq(kv_do(kv, KVS_OP_DELETE, "alpha", 5, NULL, 0, 0, NULL), ST(NVME_SC_KV_KEY_NOT_EXIST),
	       "delete again: Key Does Not Exist");
	tap_eq(kv_do(kv, KVS_OP_EXIST, "alpha", 5, NULL, 0, 0, NULL), ST(NVME_SC_KV_KEY_NOT_EXIST),
	       "exist after delete");
	tap_eq(kv_store(kv, "empty", "", 0, 0), 0, "store an empty value");
	tap_ok(kv_do(kv, KVS_OP_RETRIEVE, "empty", 5, r, 10, 0, &vs) == 0 && vs == 0,
	       "an empty value is a present key of size 0");
	tap_eq(kv_store(kv, "empty", "", 0, KVS_STORE_MUST_NOT_EXIST), ST(NVME_SC_KV_KEY_EXISTS),
	       "an empty value counts as existing");
	tap_eq(kv_store(kv, "big", big, 1 << 20, 0), 0, "store 1 MiB (the maximum)");
	memset(r, 0, 1 << 20);
	tap_ok(kv_do(kv, KVS_OP_RETRIEVE, "big", 3, r, 1 << 20, 0, &vs) == 0 && vs == 1 << 20 &&
	       memcmp(r, big, 1 << 20) == 0, "retrieve 1 MiB byte for byte");
	tap_eq(kv_store(kv, "toobig", big, (1 << 20) + 1, 0), ST(NVME_SC_KV_INVALID_VALUE_SIZE),
	       "1 MiB + 1: Invalid Value Size");
	tap_eq(kv_do(kv, KVS_OP_STORE, "", 0, big, 1, 0, NULL), ST(NVME_SC_KV_INVALID_KEY_SIZE),
	       "store with an empty key: Invalid Key Size");
	tap_eq(kv_do(kv, KVS_OP_RETRIEVE, key17, 17, r, 1, 0, NULL),
	       ST(NVME_SC_KV_INVALID_KEY_SIZE), "17-byte key: Invalid Key Size");
	tap_eq(kv_do(kv, KVS_OP_STORE, "\0\0\xff", 3, "bin", 3, 0, NULL), 0,
	       "binary key with zero bytes");
	tap_ok(kv_do(kv, KVS_OP_RETRIEVE, "\0\0\xff", 3, r, 3, 0, &vs) == 0 && vs == 3 &&
	       memcmp(r, "bin", 3) == 0, "binary key read back");
	tap_eq(kv_do(kv, KVS_OP_EXIST, "\0\0", 2, NULL, 0, 0, NULL), ST(NVME_SC_KV_KEY_NOT_EXIST),
	       "its prefix is another key");
	{
		struct kio k;

		kio_prep(&k, KVS_OP_FLUSH, NULL, 0, NULL, 0, 0);
		kio_submit(kv, &W, &k);
		tap_ok(k.inline_done && k.ndone == 1 && k.io.status == 0,
		       "flush completes at once (stores are on every replica when acknowledged)");
	}
	tap_ok(kvr_idle(kv), "idle after everything completed");
	free(big);
	free(r);
}

struct lkey {
	uint8_t len, key[16];
};

static int lkey_cmp(const void *pa, const void *pb)
{
	const struct lkey *a = pa, *b = pb;
	int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

	return c ? c : (int)a->len - (int)b->len;
}

/* Parse a List answer; 0 if it is well formed and equals want[0..n). */
static int list_matches(const uint8_t *buf, uint32_t size, const struct lkey *want, uint32_t n)
{
	uint32_t count, pos = 4;

	if (size < 4)
		return -1;
	memcpy(&count, buf, 4);
	if (count != n)
		return -2;
	for (uint32_t i = 0; i < count; i++) {
		uint16_t kl;

		memcpy(&kl, buf + pos, 2);
		if (kl != want[i].len || memcmp(buf + pos + 2, want[i].key, kl))
			return -3;
		pos += (2u + kl + 3u) & ~3u;
	}
	return pos == size ? 0 : -4;
}

static void t_list(void)
{
	enum { N = 5000, Q = 32 };
	static struct lkey keys[N];
	static struct kio k[Q];
	struct kvr *kv;
	char err[256];
	uint32_t size = 0, bufsz = 4 + N * 20, fit;
	uint8_t *buf = ck_alloc(bufsz);
	unsigned bad = 0, first, mid;
	uint64_t x = 12345;
	struct lkey start;

	/* 4 shards: 1250 keys each, more than one 1000-key batch, so batches run out mid-list */
	if (!tap_ok(open_kv(&kv, "kv", "list", 4, err) == 0, "list: open (namespace list): %s", err))
		return;
	for (int i = 0; i < N; i++) { /* distinct random keys of 1..16 bytes */
		keys[i].len = (uint8_t)(1 + i % 16);
		for (int j = 0; j < keys[i].len; j++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			keys[i].key[j] = (uint8_t)(x >> 56);
		}
		if (keys[i].len < 3) { /* make short keys unique */
			keys[i].key[0] = (uint8_t)(i >> 8);
			if (keys[i].len == 2)
				keys[i].key[1] = (uint8_t)i;
			else
				keys[i].key[0] = (uint8_t)(i / 16);
		}
	}
	qsort(keys, N, sizeof(keys[0]), lkey_cmp);
	{
		int u = 0;

		for (int i = 0; i < N; i++)
			if (!u || lkey_cmp(&keys[u - 1], &keys[i]))
				keys[u++] = keys[i];
		first = (unsigned)u;
	}
	for (unsigned i = 0; i < first; i += Q) {
		unsigned n = first - i < Q ? first - i : Q;

		for (unsigned j = 0; j < n; j++) {
			kio_prep(&k[j], KVS_OP_STORE, keys[i + j].key, keys[i + j].len, "v", 1, 0);
			kio_submit(kv, &W, &k[j]);
		}
		/* the worker loop does not spin while any of them waits on librados */
		bad += W.ex.foreign_waits != n;
		kio_wait(&W, k, (int)n);
		for (unsigned j = 0; j < n; j++)
			bad += k[j].ndone != 1 || k[j].io.status;
		bad += W.ex.foreign_waits != 0;
	}
	tap_ok(bad == 0, "list: %u distinct keys stored, 32 at a time, each counted as waiting on librados until it completed", first);
	tap_ok(kv_do(kv, KVS_OP_LIST, NULL, 0, buf, bufsz, 0, &size) == 0 &&
	       list_matches(buf, size, keys, first) == 0,
	       "list from the start: all %u keys in key order", first);
	start = keys[first / 2];
	tap_ok(kv_do(kv, KVS_OP_LIST, start.key, start.len, buf, bufsz, 0, &size) == 0 &&
	       list_matches(buf, size, keys + first / 2, first - first / 2) == 0,
	       "list from a present key: it and every key after it");
	mid = first / 2;
	while (keys[mid].len == 16)
		mid++;
	start = keys[mid];
	start.key[start.len++] = 0; /* absent (keys are distinct): sorts just after keys[mid] */
	tap_ok(kv_do(kv, KVS_OP_LIST, start.key, start.len, buf, bufsz, 0, &size) == 0 &&
	       list_matches(buf, size, keys + mid + 1, first - mid - 1) == 0,
	       "list from an absent key: the keys after it");
	/* a small buffer: exactly as many whole entries as fit */
	fit = 0;
	for (uint32_t pos = 4, i = 0; i < first; i++) {
		pos += (2u + keys[i].len + 3u) & ~3u;
		if (pos > 200)
			break;
		fit++;
	}
	tap_ok(kv_do(kv, KVS_OP_LIST, NULL, 0, buf, 200, 0, &size) == 0 &&
	       list_matches(buf, size, keys, fit) == 0, "list into 200 bytes: the first %u keys", fit);
	tap_ok(kv_do(kv, KVS_OP_LIST, NULL, 0, buf, 3, 0, &size) == 0 && size == 0,
	       "list into 3 bytes: nothing");
	tap_eq(kv_do(kv, KVS_OP_LIST, keys[0].key, 17, buf, bufsz, 0, NULL),
	       ST(NVME_SC_KV_INVALID_KEY_SIZE), "list with a 17-byte start key: Invalid Key Size");
	/* another namespace of the same pool sees none of it */
	{
		struct kvr *other;

		tap_ok(open_kv(&other, "kv", "elsewhere", 4, err) == 0 &&
		       kv_do(other, KVS_OP_LIST, NULL, 0, buf, bufsz, 0, &size) == 0 &&
		       list_matches(buf, size, keys, 0) == 0 &&
		       kv_do(other, KVS_OP_EXIST, keys[0].key, keys[0].len, NULL, 0, 0, NULL) ==
			       ST(NVME_SC_KV_KEY_NOT_EXIST),
		       "another RADOS namespace is empty: %s", err);
		kvr_close(other);
	}
	kvr_close(kv);
	free(buf);
}

/* Close and open again: every acknowledged store is there, deleted keys are not. */
static void t_reopen(void)
{
	enum { N = 300 };
	struct kvr *kv;
	char err[256], key[16];
	uint8_t v[256], r[256];
	unsigned bad = 0;
	uint32_t vs;

	if (!tap_ok(open_kv(&kv, "kv", "reopen", 8, err) == 0, "reopen: open: %s", err))
		return;
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "k%05d", i);
		ck_fill(v, sizeof(v), (uint64_t)i);
		bad += kv_store(kv, key, v, (uint32_t)(i % 256), 0) != 0;
		if (i % 3 == 0)
			bad += kv_do(kv, KVS_OP_DELETE, key, 6, NULL, 0, 0, NULL) != 0;
	}
	tap_ok(bad == 0, "reopen: %d stores (a third deleted again) acknowledged", N);
	kvr_close(kv);
	/* configured with another shard count: the data set keeps the one it was made with */
	if (!tap_ok(open_kv(&kv, "kv", "reopen", 64, err) == 0, "reopen: open again: %s", err))
		return;
	tap_eq(kvr_shards(kv), 8, "reopen: the shard count is the data set's (8), not the config's");
	bad = 0;
	for (int i = 0; i < N; i++) {
		unsigned st;

		snprintf(key, sizeof(key), "k%05d", i);
		ck_fill(v, sizeof(v), (uint64_t)i);
		st = kv_do(kv, KVS_OP_RETRIEVE, key, 6, r, sizeof(r), 0, &vs);
		if (i % 3 == 0)
			bad += st != ST(NVME_SC_KV_KEY_NOT_EXIST);
		else
			bad += st != 0 || vs != (uint32_t)(i % 256) || memcmp(r, v, vs);
	}
	tap_ok(bad == 0, "reopen: every stored value read back, every deleted key gone");
	tap_ok(kvr_capacity(kv) > 0 && kvr_max_value(kv) == 1 << 20, "reopen: capacity %llu, max "
	       "value %u", (unsigned long long)kvr_capacity(kv), kvr_max_value(kv));
	kvr_close(kv);
}

struct thr {
	struct kvr *kv;
	int id, errors, foreign, contended_ok;
};

static void *thr_run(void *arg)
{
	enum { QD = 16, ROUNDS = 20 };
	struct thr *t = arg;
	struct ck_worker w;
	struct kio k[QD];
	uint8_t val[QD][64], r[QD][64];
	char key[QD][16];

	if (ck_worker_init(&w)) {
		t->errors++;
		return NULL;
	}
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < QD; i++) {
			snprintf(key[i], 16, "t%d-%03d", t->id, round * QD + i);
			ck_fill(val[i], 64, (uint64_t)(t->id * 1000 + round * QD + i));
			kio_prep(&k[i], KVS_OP_STORE, key[i], (unsigned)strlen(key[i]), val[i], 64, 0);
			k[i].owner = w.thread;
			kio_submit(t->kv, &w, &k[i]);
		}
		t->errors += kio_wait(&w, k, QD) != 0;
		for (int i = 0; i < QD; i++) {
			t->errors += k[i].ndone != 1 || k[i].io.status;
			t->foreign += k[i].foreign;
			kio_prep(&k[i], KVS_OP_RETRIEVE, key[i], (unsigned)strlen(key[i]), r[i], 64, 0);
			kio_submit(t->kv, &w, &k[i]);
		}
		t->errors += kio_wait(&w, k, QD) != 0;
		for (int i = 0; i < QD; i++) {
			t->errors += k[i].ndone != 1 || k[i].io.status || k[i].io.value_size != 64 ||
				     memcmp(r[i], val[i], 64);
			t->foreign += k[i].foreign;
		}
		/* both threads race for the same new key */
		snprintf(key[0], 16, "race%03d", round);
		kio_prep(&k[0], KVS_OP_STORE, key[0], 7, &t->id, sizeof(t->id),
			 KVS_STORE_MUST_NOT_EXIST);
		kio_submit(t->kv, &w, &k[0]);
		t->errors += kio_wait(&w, k, 1) != 0;
		if (k[0].io.status == 0)
			t->contended_ok++;
		else if (k[0].io.status != ST(NVME_SC_KV_KEY_EXISTS))
			t->errors++;
	}
	ck_worker_fini(&w);
	return NULL;
}

static void t_threads(void)
{
	struct kvr *kv;
	char err[256];
	struct thr a = { 0 }, b = { 0 };
	pthread_t ta, tb;

	if (!tap_ok(open_kv(&kv, "kv", "threads", 16, err) == 0, "threads: open: %s", err))
		return;
	a.kv = b.kv = kv;
	a.id = 1;
	b.id = 2;
	pthread_create(&ta, NULL, thr_run, &a);
	pthread_create(&tb, NULL, thr_run, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	tap_ok(a.errors == 0 && b.errors == 0, "threads: 2 x 640 stores and retrieves at QD 16, "
	       "every value read back");
	tap_ok(a.foreign == 0 && b.foreign == 0, "threads: every done ran on its submitting thread");
	tap_eq(a.contended_ok + b.contended_ok, 20, "threads: each of 20 contended must-not-exist "
	       "stores won by exactly one thread (%d / %d)", a.contended_ok, b.contended_ok);
	tap_ok(kvr_idle(kv), "threads: idle at the end");
	kvr_close(kv);
}

static void t_open_errors(void)
{
	struct kvr *kv = (struct kvr *)1;
	struct kvr_config cfg = { .pool = "nopool", .conf = getenv("CEPH_CONF") };
	char err[256];
	int r;

	r = kvr_open(&kv, &cfg, err, sizeof(err));
	tap_ok(r == -ENOENT && kv == NULL && strstr(err, "no pool 'nopool'"), "missing pool: %d %s",
	       r, err);
	cfg.pool = "";
	tap_eq(kvr_open(&kv, &cfg, err, sizeof(err)), -EINVAL, "empty pool: %s", err);
	cfg.pool = "kv";
	cfg.conf = "/nonexistent.conf";
	r = kvr_open(&kv, &cfg, err, sizeof(err));
	tap_ok(r < 0 && strstr(err, "conf=/nonexistent.conf"), "missing conf: %d %s", r, err);
	cfg.conf = getenv("CEPH_CONF");
	cfg.shards = 5000;
	tap_eq(kvr_open(&kv, &cfg, err, sizeof(err)), -EINVAL, "shards=5000: %s", err);
	cfg.shards = 0;
	cfg.client_id = "nocaps";
	if (getenv("NVR_CEPH_AUTH") && !strcmp(getenv("NVR_CEPH_AUTH"), "cephx")) {
		r = kvr_open(&kv, &cfg, err, sizeof(err));
		tap_ok((r == -EPERM || r == -EACCES) && strstr(err, "client.nocaps may not"),
		       "client without caps: %d %s", r, err);
	}
}

/* No monitor answers: the open fails with a clear message once connect_timeout has passed. */
static void t_no_cluster(void)
{
	char conf[] = "/tmp/nvr-kvr-dead-XXXXXX", err[256];
	struct kvr_config cfg = { .pool = "kv", .conf = conf, .connect_timeout = 2 };
	struct kvr *kv;
	uint64_t t0, dt;
	int fd = mkstemp(conf), r;

	if (fd >= 0)
		close(fd);
	tap_ok(fd >= 0 && ck_write_dead_conf(conf) == 0, "no cluster: conf at a dead port");
	t0 = ck_now_ms();
	r = kvr_open(&kv, &cfg, err, sizeof(err));
	dt = ck_now_ms() - t0;
	tap_ok(r == -ETIMEDOUT && strstr(err, "no Ceph monitor answered within 2 s") && dt >= 1500 &&
	       dt < 8000, "no cluster: %d after %llu ms: %s", r, (unsigned long long)dt, err);
	unlink(conf);
}

/* The OSD goes away: with op_timeout a store fails retryably (no DNR); a store without a
 * timeout waits and completes once the OSD is back; both are then readable. */
static void t_outage(void)
{
	struct kvr *kv, *kvt;
	struct kvr_config cfg = { .pool = "kv", .nspace = "outage", .conf = getenv("CEPH_CONF") };
	char err[256] = "";
	struct kio wait_k, to_k;
	uint8_t r[8];
	uint64_t t0, dt;
	unsigned st = 0xFFFF;
	int waited;

	if (!tap_ok(kvr_open(&kv, &cfg, err, sizeof(err)) == 0, "outage: open: %s", err))
		return;
	cfg.op_timeout = 2;
	err[0] = 0;
	if (!tap_ok(kvr_open(&kvt, &cfg, err, sizeof(err)) == 0, "outage: open with op_timeout: %s",
		    err)) {
		kvr_close(kv);
		return;
	}
	tap_eq(kv_store(kv, "before", "b4", 2, 0), 0, "outage: a store before");
	tap_eq(ck_osd_stop(0, "TERM"), 0, "outage: osd.0 stopped");
	kio_prep(&wait_k, KVS_OP_STORE, "during", 6, "du", 2, KVS_STORE_MUST_NOT_EXIST);
	kio_submit(kv, &W, &wait_k);
	kio_prep(&to_k, KVS_OP_STORE, "timeout", 7, "to", 2, 0);
	t0 = ck_now_ms();
	kio_submit(kvt, &W, &to_k);
	waited = kio_wait(&W, &to_k, 1);
	dt = ck_now_ms() - t0;
	tap_ok(waited == 0 && to_k.io.status == NVME_SC_KV_NS_NOT_READY && dt >= 1500,
	       "outage: op_timeout store fails after %llu ms with 0x%x (Namespace Not Ready, no DNR)",
	       (unsigned long long)dt, to_k.io.status);
	tap_eq(wait_k.ndone, 0, "outage: the store without a timeout is still waiting");
	{
		struct kvr_config c2 = { .pool = "kv", .nspace = "outage2", .connect_timeout = 2,
					 .conf = getenv("CEPH_CONF") };
		struct kvr *k2;
		int r;

		t0 = ck_now_ms();
		r = kvr_open(&k2, &c2, err, sizeof(err));
		dt = ck_now_ms() - t0;
		tap_ok(r == -ETIMEDOUT && strstr(err, "no OSD answered within 2 s") && dt >= 1500 &&
		       dt < 8000, "outage: an open gives up after %llu ms: %s",
		       (unsigned long long)dt, err);
	}
	tap_eq(ck_osd_start(0), 0, "outage: osd.0 started again");
	tap_ok(kio_wait(&W, &wait_k, 1) == 0 && wait_k.ndone == 1 && wait_k.io.status == 0,
	       "outage: the waiting store completes once the OSD is back");
	t0 = ck_now_ms();
	while (ck_now_ms() - t0 < 60000 && (st = kv_store(kvt, "timeout", "to", 2, 0)) != 0)
		; /* the host's retry; may time out again while the OSD boots */
	tap_eq(st, 0, "outage: the retried store succeeds");
	tap_ok(kv_do(kv, KVS_OP_RETRIEVE, "before", 6, r, 8, 0, NULL) == 0 && !memcmp(r, "b4", 2) &&
	       kv_do(kv, KVS_OP_RETRIEVE, "during", 6, r, 8, 0, NULL) == 0 && !memcmp(r, "du", 2) &&
	       kv_do(kv, KVS_OP_RETRIEVE, "timeout", 7, r, 8, 0, NULL) == 0 && !memcmp(r, "to", 2),
	       "outage: all three values read back");
	kvr_close(kvt);
	kvr_close(kv);
}

int main(void)
{
	const char *conf, *dir;
	struct kvr *kv;
	char err[256];

	if (!ck_env(&conf, &dir)) {
		printf("1..0 # SKIP no test cluster (run through tests/ceph/run.sh)\n");
		return 0;
	}
	if (ck_worker_init(&W))
		return tap_done();
	t_open_errors();
	if (tap_ok(open_kv(&kv, "kv", "ops", 0, err) == 0, "open kv:rados:kv/ops: %s", err)) {
		tap_eq(kvr_shards(kv), 16, "a new data set gets 16 shards by default");
		t_ops(kv);
		kvr_close(kv);
	}
	t_list();
	t_reopen();
	t_threads();
	t_no_cluster();
	t_outage();
	ck_worker_fini(&W);
	return tap_done();
}
