/* SPDX-License-Identifier: MIT */
/*
 * Recovery: reopen finds every acknowledged store and respects deletes; a log cut at every
 * byte offset of its last records recovers exactly the records wholly before the cut; a
 * flipped byte loses only the record it hits; a crash between a GC copy and the freeing of
 * its source (same record twice, same seq) resolves to the newest data.
 */
#include <fcntl.h>

#include "kvs_test.h"
#include "kvstore/kvs_format.h"
#include "kvstore/kvs_priv.h"

#define SEG 65536u
#define CAP (4096u + 16 * SEG)
#define NK 13

struct op {
	int key;
	int ver; /* -1 = delete */
};

/* 12 stores, then the "last few records": overwrite, delete, new key, overwrite */
static const struct op ops[] = {
	{ 0, 0 }, { 1, 0 }, { 2, 0 }, { 3, 0 }, { 4, 0 }, { 5, 0 }, { 6, 0 }, { 7, 0 },
	{ 8, 0 }, { 9, 0 }, { 10, 0 }, { 11, 0 }, { 3, 1 }, { 5, -1 }, { 12, 0 }, { 0, 1 },
};
#define NOPS (int)(sizeof(ops) / sizeof(ops[0]))
#define LAST 4

static uint32_t vlen(int key, int ver)
{
	return (uint32_t)(20 + key * 13 + ver * 50);
}

static void keyname(char *buf, int key)
{
	sprintf(buf, "r%d", key);
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	int ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	off_t sz = lseek(fd, 0, SEEK_END);
	uint8_t *buf = malloc((size_t)sz);

	if (pread(fd, buf, (size_t)sz, 0) != sz)
		*len = 0;
	else
		*len = (size_t)sz;
	close(fd);
	return buf;
}

/* State after the first n ops: version per key, -1 = absent. */
static void model(int n, int *state)
{
	for (int k = 0; k < NK; k++)
		state[k] = -1;
	for (int i = 0; i < n; i++)
		state[ops[i].key] = ops[i].ver;
}

/* Check every key against the state; returns the number of mismatches. */
static int check_state(struct kvs *kv, struct executor *ex, const int *state)
{
	uint8_t out[1024], exp[1024];
	int bad = 0;

	for (int k = 0; k < NK; k++) {
		char key[8];
		uint32_t vs = 0;
		uint16_t st;

		keyname(key, k);
		st = t_retrieve(kv, ex, key, (unsigned)strlen(key), out, sizeof(out), &vs);
		if (state[k] < 0) {
			if (st != ST(0x87) && getenv("KVS_DEBUG"))
				fprintf(stderr, "key %d: status %#x, want absent\n", k, st);
			bad += st != ST(0x87);
			continue;
		}
		t_fill(exp, vlen(k, state[k]), (uint32_t)k, (uint32_t)state[k]);
		if (st != 0 || vs != vlen(k, state[k]) || memcmp(out, exp, vs)) {
			bad++;
			if (getenv("KVS_DEBUG"))
				fprintf(stderr, "key %d: status %#x size %u, want version %d\n", k, st, vs,
					state[k]);
		}
	}
	return bad;
}

static struct kvs *open_path(const char *path, bool format, char *err)
{
	struct kvs_config cfg = { .path = path, .capacity = CAP, .segment_size = SEG, .max_value = 4096,
				  .format = format };
	struct kvs *kv = NULL;

	if (kvs_open(&kv, &cfg, err, 256))
		return NULL;
	return kv;
}

/*
 * Write ops into a fresh log; note where each record ends and where its content (header, key,
 * value: everything but the zero padding) ends. Single thread, synced: strictly sequential.
 */
static int build_log(const char *path, uint64_t *ends, uint64_t *data_ends)
{
	struct t_ring ring;
	char err[256];
	struct kvs *kv = open_path(path, true, err);
	uint8_t val[1024];
	uint64_t off = KVS_SB_LEN + KVS_SEG_HDR_LEN; /* a fresh log starts in segment 0 */
	int bad = 0;

	if (!kv)
		return -1;
	t_ring_init(&ring, 16);
	for (int i = 0; i < NOPS; i++) {
		char key[8];

		keyname(key, ops[i].key);
		if (ops[i].ver < 0) {
			bad += t_simple(kv, &ring.ex, KVS_OP_DELETE, key, (unsigned)strlen(key)) != 0;
			data_ends[i] = off + KVS_REC_HDR_LEN + strlen(key);
			off += kvs_rec_len((unsigned)strlen(key), 0);
		} else {
			uint32_t n = vlen(ops[i].key, ops[i].ver);

			t_fill(val, n, (uint32_t)ops[i].key, (uint32_t)ops[i].ver);
			bad += t_store(kv, &ring.ex, key, (unsigned)strlen(key), val, n, 0) != 0;
			data_ends[i] = off + KVS_REC_HDR_LEN + strlen(key) + n;
			off += kvs_rec_len((unsigned)strlen(key), n);
		}
		ends[i] = off;
	}
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	kvs_close(kv);
	return bad ? -1 : 0;
}

static void test_reopen(const char *path)
{
	struct t_ring ring;
	char err[256];
	struct kvs *kv = open_path(path, false, err);
	struct kvs_stats st;
	int state[NK];

	model(NOPS, state);
	if (!kv) {
		tap_ok(0, "reopen: %s", err);
		return;
	}
	t_ring_init(&ring, 16);
	kvs_get_stats(kv, &st);
	tap_ok(check_state(kv, &ring.ex, state) == 0 && st.keys == NK - 1,
	     "reopen: every acknowledged store found, deleted key absent (%llu keys)",
	     (unsigned long long)st.keys);
	tap_ok(t_drain(kv, &ring.ex) == 0 && check_state(kv, &ring.ex, state) == 0,
	     "reopen: same state after GC compacts the recovered segment");
	t_ring_exit(&ring);
	kvs_close(kv);
}

/* A record is recovered iff its content is wholly before the cut (padding does not matter). */
static void test_truncate(const uint8_t *img, const uint64_t *ends, const uint64_t *data_ends,
			  const char *tmp)
{
	uint64_t from = ends[NOPS - LAST - 1], to = ends[NOPS - 1];
	int bad_open = 0, bad_state = 0, bad_after = 0, n = 0;

	for (uint64_t t = from; t <= to; t++, n++) {
		struct t_ring ring;
		char err[256];
		struct kvs *kv;
		int state[NK], applied = 0;

		while (applied < NOPS && data_ends[applied] <= t)
			applied++;
		model(applied, state);
		write_file(tmp, img, t);
		kv = open_path(tmp, false, err);
		if (!kv) {
			bad_open++;
			continue;
		}
		t_ring_init(&ring, 16);
		if (check_state(kv, &ring.ex, state)) {
			bad_state++;
			if (getenv("KVS_DEBUG"))
				fprintf(stderr, "cut %llu applied %d (ends %llu..%llu)\n", (unsigned long long)t, applied, (unsigned long long)ends[applied ? applied - 1 : 0], (unsigned long long)ends[applied < NOPS ? applied : NOPS - 1]);
		}
		/* the recovered log keeps working: a new store survives another reopen */
		if (t_store(kv, &ring.ex, "r1", 2, "post", 4, 0) != 0 || t_drain(kv, &ring.ex))
			bad_after++;
		t_ring_exit(&ring);
		kvs_close(kv);
		kv = open_path(tmp, false, err);
		if (!kv) {
			bad_open++;
			continue;
		}
		t_ring_init(&ring, 16);
		{
			uint8_t out[16];
			uint32_t vs = 0;

			if (t_retrieve(kv, &ring.ex, "r1", 2, out, sizeof(out), &vs) || vs != 4 ||
			    memcmp(out, "post", 4) || t_drain(kv, &ring.ex))
				bad_after++;
		}
		t_ring_exit(&ring);
		kvs_close(kv);
	}
	tap_ok(bad_open == 0, "truncate: log cut at each of %d offsets opens", n);
	tap_ok(bad_state == 0, "truncate: exactly the records wholly before the cut recovered (%d bad)",
	     bad_state);
	tap_ok(bad_after == 0, "truncate: recovered logs accept stores that survive a reopen (%d bad)",
	     bad_after);
}

static void test_corrupt(const uint8_t *img, size_t len, const uint64_t *ends, const char *tmp)
{
	uint8_t *c = malloc(len);
	struct t_ring ring;
	char err[256];
	struct kvs *kv;
	int state[NK];
	struct {
		int op;          /* record to damage */
		uint32_t where;  /* byte offset inside it */
		const char *what;
	} cases[] = {
		{ 7, KVS_REC_HDR_LEN + 4, "a value byte of a middle record" },
		{ 12, KVS_REC_HDR_LEN, "a key byte of an overwrite" },
		{ NOPS - 1, 10, "the header of the last record" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int opi = cases[i].op;
		uint64_t start = opi ? ends[opi - 1] : KVS_SB_LEN + KVS_SEG_HDR_LEN;

		memcpy(c, img, len);
		c[start + cases[i].where] ^= 0x40;
		if (getenv("KVS_DEBUG"))
			fprintf(stderr, "flip at %llu\n", (unsigned long long)(start + cases[i].where));
		write_file(tmp, c, len);
		model(NOPS, state);
		/* the damaged record is lost; older versions of its key show through */
		{
			int k = ops[opi].key, prev = -1;

			for (int j = 0; j < NOPS; j++)
				if (j != opi && ops[j].key == k)
					prev = ops[j].ver;
			state[k] = prev;
		}
		kv = open_path(tmp, false, err);
		if (!kv) {
			tap_ok(0, "corrupt %s: open: %s", cases[i].what, err);
			continue;
		}
		t_ring_init(&ring, 16);
		tap_ok(check_state(kv, &ring.ex, state) == 0 && t_drain(kv, &ring.ex) == 0,
		     "corrupt %s: only that record is lost", cases[i].what);
		t_ring_exit(&ring);
		kvs_close(kv);
	}
	free(c);
}

/*
 * Snapshot the file at the instant GC's copies are stable but its source segment is not yet
 * invalidated (SQEs for that are prepared, not submitted): a crash there leaves every moved
 * record twice with the same seq.
 */
#define GC_KEYS 24

static void test_gc_crash(const char *path, const char *tmp)
{
	struct t_ring ring;
	char err[256];
	struct kvs *kv = open_path(path, true, err);
	static uint8_t val[2048];
	uint8_t *snap = NULL;
	int ver[GC_KEYS], snap_ver[GC_KEYS], bad = 0;
	uint64_t moved_seen = 0;
	size_t snap_len = 0;

	if (!kv) {
		tap_ok(0, "gc crash: open: %s", err);
		return;
	}
	t_ring_init(&ring, 64);
	for (int k = 0; k < GC_KEYS; k++)
		ver[k] = -1;
	/* keys 0..5 are overwritten; every 40th store is a key written once: a cold record in
	 * almost every segment, so free space runs low and GC has to move records */
	for (int round = 0; round < 4000 && !snap; round++) {
		int k = round % 40 == 0 && round / 40 < GC_KEYS - 6 ? 6 + round / 40 : round % 6;
		char key[8];
		struct t_io t;

		keyname(key, k);
		ver[k] = round;
		t_fill(val, 1500, (uint32_t)k, (uint32_t)round);
		t_io_prep(&t, KVS_OP_STORE, key, (unsigned)strlen(key), val, 1500, 0);
		kvs_submit(kv, &ring.ex, &t.io);
		kvs_poll(kv, &ring.ex);
		while (!t.done || !kvs_idle(kv)) {
			struct io_uring_cqe *cqe;

			/* a victim that had live records moved, with our store complete */
			if (kv->gc.state == KVS_GC_FREE && !snap && t.done) {
				uint64_t moved = atomic_load(&kv->gc.st_moved);

				if (moved != moved_seen) {
					snap = read_file(path, &snap_len);
					memcpy(snap_ver, ver, sizeof(ver));
				}
			}
			if (kv->gc.state == KVS_GC_FREE)
				moved_seen = atomic_load(&kv->gc.st_moved);
			io_uring_submit_and_wait(&ring.ring, 1);
			while (io_uring_peek_cqe(&ring.ring, &cqe) == 0) {
				struct io_uring_cqe c = *cqe;
				struct ring_op *op = io_uring_cqe_get_data(cqe);

				io_uring_cqe_seen(&ring.ring, cqe);
				op->complete(op, &c);
			}
		}
	}
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	kvs_close(kv);
	tap_ok(snap != NULL && snap_len == CAP, "gc crash: caught GC between copy and free");
	if (!snap)
		return;
	write_file(tmp, snap, snap_len);
	kv = open_path(tmp, false, err);
	if (!kv) {
		tap_ok(0, "gc crash: reopen: %s", err);
		free(snap);
		return;
	}
	t_ring_init(&ring, 16);
	for (int k = 0; k < GC_KEYS; k++) {
		char key[8];
		uint8_t out[2048];
		uint32_t vs = 0;
		uint16_t st;

		keyname(key, k);
		st = t_retrieve(kv, &ring.ex, key, (unsigned)strlen(key), out, sizeof(out), &vs);
		if (snap_ver[k] < 0) {
			bad += st != ST(0x87);
			continue;
		}
		t_fill(val, 1500, (uint32_t)k, (uint32_t)snap_ver[k]);
		if (st || vs != 1500 || memcmp(out, val, 1500))
			bad++;
	}
	tap_ok(bad == 0, "gc crash: duplicates resolve to each key's newest value (%d bad)", bad);
	/* and GC of the doubled state finishes cleanly */
	for (int i = 0; i < 200; i++) {
		char key[8];

		keyname(key, i % 8);
		t_fill(val, 1500, (uint32_t)(i % 8), (uint32_t)(1000 + i));
		bad += t_store(kv, &ring.ex, key, (unsigned)strlen(key), val, 1500, 0) != 0;
	}
	tap_ok(bad == 0 && t_drain(kv, &ring.ex) == 0, "gc crash: recovered log keeps collecting");
	t_ring_exit(&ring);
	kvs_close(kv);
	free(snap);
}

/* ---- fuzz findings (tests/fuzz/fuzz_kvs_recover.c) ---- */

/* Highest seq or epoch of the valid records in segment seg of img. */
static uint64_t max_seq_in(const uint8_t *img, uint32_t seg)
{
	const uint8_t *base = img + KVS_SB_LEN + (size_t)seg * SEG;
	const struct kvs_seg_hdr *sh = (const struct kvs_seg_hdr *)base;
	uint64_t m = sh->epoch;
	uint32_t p = KVS_SEG_HDR_LEN, rlen;

	while ((rlen = kvs_log_rec_check((const struct kvs_rec_hdr *)(base + p), SEG - p, sh->epoch))) {
		const struct kvs_rec_hdr *h = (const struct kvs_rec_hdr *)(base + p);

		if (h->seq > m)
			m = h->seq;
		p += rlen;
	}
	return m;
}

/*
 * A free segment holding a well-formed record whose epoch is the next one recovery's highest
 * seq would give (as a torn first batch, or a file made to look so, leaves): the segment is
 * reused for new writes and, reopened, must not revive the record. Found by
 * fuzz_kvs_recover ("6 keys after the reopen, expected 1"): epochs now start above a floor
 * kept in the superblock, with a random step.
 */
static void test_planted_epoch(const char *path)
{
	struct t_ring ring;
	char err[256];
	struct kvs *kv = open_path(path, true, err);
	uint8_t *img, out[16];
	size_t len;
	uint64_t m;
	uint32_t vs = 0;
	struct kvs_sb sb;
	uint16_t st;

	if (!kv) {
		tap_ok(0, "planted epoch: open: %s", err);
		return;
	}
	t_ring_init(&ring, 16);
	st = t_store(kv, &ring.ex, "a", 1, "one", 3, 0);
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	kvs_close(kv);
	img = read_file(path, &len);
	m = max_seq_in(img, 0);
	{
		/* in segment 1 (free, the next to be opened), just past where one store of a 1-byte
		 * key and value will land: key "a", a higher seq, the epoch m + 1 */
		uint8_t *at = img + KVS_SB_LEN + SEG + KVS_SEG_HDR_LEN + kvs_rec_len(1, 1);
		struct kvs_rec_hdr *h = (struct kvs_rec_hdr *)at;

		kvs_log_rec_init(h, (const uint8_t *)"a", 1, "stale", 5, 0);
		memcpy(at + KVS_REC_HDR_LEN, "a", 1);
		memcpy(at + KVS_REC_HDR_LEN + 1, "stale", 5);
		kvs_log_rec_seal(h, m + 100, m + 1);
	}
	write_file(path, img, len);
	kv = open_path(path, false, err);
	if (!kv || st) {
		tap_ok(0, "planted epoch: reopen: %s", err);
		free(img);
		return;
	}
	t_ring_init(&ring, 16);
	st = t_store(kv, &ring.ex, "b", 1, "x", 1, 0);
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	kvs_close(kv);
	kv = open_path(path, false, err);
	if (!kv) {
		tap_ok(0, "planted epoch: second reopen: %s", err);
		free(img);
		return;
	}
	t_ring_init(&ring, 16);
	st |= t_retrieve(kv, &ring.ex, "a", 1, out, sizeof(out), &vs);
	tap_ok(st == 0 && vs == 3 && !memcmp(out, "one", 3),
	       "planted epoch: a stale record in a reused segment stays dead (status %#x, %u bytes)",
	       st, vs);
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	kvs_close(kv);
	free(img);
	/* the floor on the medium is above every seq and epoch written */
	img = read_file(path, &len);
	memcpy(&sb, img, sizeof(sb));
	m = 0;
	for (uint32_t i = 0; i < (CAP - KVS_SB_LEN) / SEG; i++) {
		const struct kvs_seg_hdr *h = (const struct kvs_seg_hdr *)(img + KVS_SB_LEN + (size_t)i * SEG);

		if (h->magic == KVS_SEG_MAGIC && max_seq_in(img, i) > m)
			m = max_seq_in(img, i);
	}
	tap_ok(m > 0 && sb.seq_floor > m, "planted epoch: the superblock's seq floor %llu is above all %llu",
	       (unsigned long long)sb.seq_floor, (unsigned long long)m);
	free(img);
}

/*
 * Writes that fail on the medium (the log's descriptor swapped for a read-only one): every
 * store of the failed batches gets Unrecovered Error, none is acknowledged, later stores go to
 * a fresh segment and work, and a reopen holds exactly the acknowledged ones.
 */
static void test_write_failure(const char *path)
{
	struct t_ring ring;
	char err[256];
	struct kvs *kv = open_path(path, true, err);
	struct t_io t[6];
	int rofd, fd, bad = 0, ok_before, ok_after;
	uint8_t out[16];

	if (!kv) {
		tap_ok(0, "write failure: open: %s", err);
		return;
	}
	t_ring_init(&ring, 64);
	ok_before = t_store(kv, &ring.ex, "k1", 2, "one", 3, 0) == 0;
	rofd = open(path, O_RDONLY);
	fd = kv->log.fd;
	kv->log.fd = rofd; /* the "medium" now refuses writes: EBADF */
	for (int i = 0; i < 6; i++) {
		char key[8];

		snprintf(key, sizeof(key), "f%d", i);
		t_io_prep(&t[i], KVS_OP_STORE, key, (unsigned)strlen(key), "lost", 4, 0);
		kvs_submit(kv, &ring.ex, &t[i].io); /* pipelined: several batches */
	}
	for (int i = 0; i < 6; i++)
		if (t_wait_flag(kv, &ring.ex, &t[i].done, 1) || t[i].io.status != ST(0x88))
			bad++;
	kv->log.fd = fd;
	close(rofd);
	ok_after = t_store(kv, &ring.ex, "k2", 2, "two", 3, 0) == 0;
	tap_ok(ok_before && !bad && ok_after,
	       "write failure: every store of the failed batches got 0x88 (%d did not), the next one works",
	       bad);
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	kvs_close(kv);
	kv = open_path(path, false, err);
	if (!kv) {
		tap_ok(0, "write failure: reopen: %s", err);
		return;
	}
	t_ring_init(&ring, 16);
	bad = t_retrieve(kv, &ring.ex, "k1", 2, out, sizeof(out), NULL) != 0 ||
	      t_retrieve(kv, &ring.ex, "k2", 2, out, sizeof(out), NULL) != 0 || memcmp(out, "two", 3);
	for (int i = 0; i < 6; i++) {
		char key[8];

		snprintf(key, sizeof(key), "f%d", i);
		bad += t_retrieve(kv, &ring.ex, key, (unsigned)strlen(key), out, sizeof(out), NULL) != ST(0x87);
	}
	tap_ok(!bad, "write failure: reopened, the acknowledged stores are there, the failed ones not");
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	kvs_close(kv);
}

int main(void)
{
	char *path = t_tmpfile(), *tmp = t_tmpfile();
	uint64_t ends[NOPS], data_ends[NOPS];
	uint8_t *img;
	size_t len = 0;

	tap_ok(build_log(path, ends, data_ends) == 0, "build a log of %d records", NOPS);
	img = read_file(path, &len); /* before reopening: GC may compact the recovered segment */
	test_reopen(path);
	tap_ok(len == CAP, "log file is %zu bytes", len);
	test_truncate(img, ends, data_ends, tmp);
	test_corrupt(img, len, ends, tmp);
	free(img);
	test_gc_crash(path, tmp);
	test_planted_epoch(path);
	test_write_failure(path);
	unlink(path);
	unlink(tmp);
	free(path);
	free(tmp);
	return tap_done();
}
