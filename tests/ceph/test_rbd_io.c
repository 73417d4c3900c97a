/* SPDX-License-Identifier: MIT */
/*
 * The rbd backend's data path against the test cluster (tests/ceph/run.sh): every operation
 * byte-checked at every size from 512 B to 1 MiB, across 4 MiB object boundaries, at 512 and
 * 4096-byte blocks; Write Zeroes and Deallocate read back; argument errors; FUA and Flush with
 * and without a volatile cache; 64 operations in flight; two worker threads on one image; and
 * `done` always once, on the submitting thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rio.h"

#define MiB (1ull << 20)
#define OBJ (4 * MiB)

static struct ck_worker W;

/* Write `len` bytes of pattern `seed` at off, read them back into a 0x5A-filled buffer. */
static bool write_read(struct backend *be, uint64_t off, uint64_t len, uint64_t seed)
{
	uint8_t *w = ck_alloc(len), *r = ck_alloc(len);
	bool ok = false;

	if (w && r) {
		ck_fill(w, len, seed);
		memset(r, 0x5A, len);
		ok = rio_do(be, &W, BE_WRITE, 0, off, len, w) == 0 &&
		     rio_do(be, &W, BE_READ, 0, off, len, r) == 0 && memcmp(w, r, len) == 0;
	}
	free(w);
	free(r);
	return ok;
}

static void t_sizes(const char *l, struct backend *be)
{
	uint64_t lba = 1ull << be->geom.lba_shift;
	int fails = 0, n = 0;

	/* every multiple-of-two size, plus odd block counts, each straddling an object edge */
	for (uint64_t len = lba; len <= MiB; len *= 2) {
		uint64_t sizes[] = { len, len * 3 <= MiB ? len * 3 : 0 };

		for (int k = 0; k < 2; k++) {
			uint64_t sz = sizes[k], off;

			if (!sz)
				continue;
			off = (uint64_t)(1 + n % 8) * OBJ - ((sz / 2) & ~(lba - 1));
			n++;
			if (!write_read(be, off, sz, sz + lba)) {
				fails++;
				tap_diag("%s: %llu bytes at %llu differ", l, (unsigned long long)sz,
					 (unsigned long long)off);
			}
		}
	}
	tap_ok(fails == 0, "%s: %d sizes %llu B..1 MiB across 4 MiB objects read back byte for byte",
	       l, n, (unsigned long long)lba);
	tap_ok(write_read(be, 0, lba, 7), "%s: first block", l);
	tap_ok(write_read(be, be->geom.size - 64 * 1024, 64 * 1024, 8), "%s: last 64 KiB", l);
}

/* Zero ranges (write zeroes or deallocate) in 12 MiB of pattern and compare with a model. */
static void t_zero_op(const char *l, struct backend *be, enum be_op op, const char *what)
{
	const uint64_t base = 8 * MiB, len = 12 * MiB, lba = 1ull << be->geom.lba_shift;
	struct { uint64_t off, len; } z[] = {
		{ 4096, 4096 },               /* inside an object */
		{ 64 * 1024, 64 * 1024 },
		{ OBJ - 4096, 8192 },         /* across the object edge */
		{ OBJ * 2 - base % OBJ, OBJ }, /* one whole object */
		{ len - lba, lba },
	};
	uint8_t *model = ck_alloc(len), *r = ck_alloc(len);
	bool ok;

	if (!tap_ok(model && r, "%s: buffers", l))
		goto out;
	ck_fill(model, len, 99 + op);
	ok = rio_do(be, &W, BE_WRITE, 0, base, len, model) == 0;
	for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++) {
		ok = ok && rio_do(be, &W, op, 0, base + z[i].off, z[i].len, NULL) == 0;
		memset(model + z[i].off, 0, z[i].len);
	}
	tap_ok(ok, "%s: %s of 4 KiB, 64 KiB, across an edge, a whole object, one block", l, what);
	memset(r, 0x5A, len);
	tap_ok(rio_do(be, &W, BE_READ, 0, base, len, r) == 0 && memcmp(r, model, len) == 0,
	       "%s: after %s the ranges read zeroes and their neighbours are intact", l, what);
out:
	free(model);
	free(r);
}

static void t_invalid(const char *l, struct backend *be)
{
	uint64_t lba = 1ull << be->geom.lba_shift;
	uint8_t *b = ck_alloc(2 * lba);
	struct rio r;

	rio_prep(&r, BE_WRITE, 0, lba / 2, lba, b);
	rio_submit(be, &W, &r);
	tap_ok(r.inline_done && r.ndone == 1 && r.res == -EINVAL, "%s: misaligned offset: -EINVAL "
	       "inline", l);
	tap_eq(rio_do(be, &W, BE_READ, 0, 0, lba + 1, b), -EINVAL, "%s: odd length: -EINVAL", l);
	tap_eq(rio_do(be, &W, BE_READ, 0, be->geom.size - lba, 2 * lba, b), -ERANGE,
	       "%s: past the end: -ERANGE", l);
	tap_eq(rio_do(be, &W, BE_WRITE_ZEROES, 0, be->geom.size, lba, NULL), -ERANGE,
	       "%s: write zeroes past the end: -ERANGE", l);
	tap_eq(rio_do(be, &W, BE_WRITE, 0, 0, lba, NULL), -EINVAL, "%s: no buffer: -EINVAL", l);
	free(b);
}

static void t_flush_fua(void)
{
	struct backend be = { 0 }, bev = { 0 };
	struct rio_open o = { .image = "t-io512" }, ov = { .image = "t-io512", .vwc = true };
	char err[256];
	uint8_t *b = ck_alloc(8192);
	struct rio r;
	unsigned long posted;

	ck_fill(b, 8192, 5);
	tap_ok(rio_open(&be, &o, err, sizeof(err)) == 0, "no-vwc open: %s", err);
	tap_ok(!be.geom.volatile_cache, "no-vwc: no volatile cache reported");
	rio_prep(&r, BE_FLUSH, 0, 0, 0, NULL);
	rio_submit(&be, &W, &r);
	tap_ok(r.inline_done && r.res == 0, "no-vwc: flush completes at once (nothing is cached)");
	posted = W.posted;
	tap_eq(rio_do(&be, &W, BE_WRITE, BE_FUA, 0, 8192, b), 0, "no-vwc: FUA write");
	tap_eq(W.posted - posted, 1, "no-vwc: FUA write is one librbd call");

	tap_ok(rio_open(&bev, &ov, err, sizeof(err)) == 0, "vwc open (same image): %s", err);
	tap_ok(bev.geom.volatile_cache, "vwc: volatile cache reported");
	tap_eq(rio_do(&bev, &W, BE_WRITE, 0, 8192, 8192, b), 0, "vwc: write");
	rio_prep(&r, BE_FLUSH, 0, 0, 0, NULL);
	rio_submit(&bev, &W, &r);
	tap_ok(!r.inline_done && rio_wait(&W, &r, 1, 20000) == 0 && r.res == 0 && r.ndone == 1,
	       "vwc: flush goes to librbd and completes");
	posted = W.posted;
	tap_eq(rio_do(&bev, &W, BE_WRITE, BE_FUA, 16384, 8192, b), 0, "vwc: FUA write");
	tap_eq(W.posted - posted, 2, "vwc: FUA write is a write and then a flush");
	tap_eq(be_flush_sync(&bev), 0, "vwc: flush_sync");
	be_close(&bev);
	be_close(&be);
	free(b);
}

/* 64 writes in flight in reverse order, then 64 reads, each completed once on this thread. */
static void t_depth(const char *l, struct backend *be)
{
	enum { N = 64, SZ = 16384 };
	static struct rio r[N];
	uint8_t *w = ck_alloc(N * SZ), *rd = ck_alloc(N * SZ);
	bool once = true;

	ck_fill(w, N * SZ, 31);
	for (int i = 0; i < N; i++)
		rio_prep(&r[i], BE_WRITE, 0, 40 * MiB + (uint64_t)(N - 1 - i) * SZ, SZ,
			 w + (N - 1 - i) * SZ);
	for (int i = 0; i < N; i++)
		rio_submit(be, &W, &r[i]);
	/* the worker loop does not spin while any of them waits on librbd */
	tap_eq(W.ex.foreign_waits, N, "%s: %d writes counted as waiting on librbd", l, N);
	tap_ok(rio_wait(&W, r, N, 30000) == 0, "%s: %d writes in flight complete", l, N);
	tap_eq(W.ex.foreign_waits, 0, "%s: none counted as waiting once they completed", l);
	for (int i = 0; i < N; i++)
		once = once && r[i].ndone == 1 && r[i].res == 0 && !r[i].foreign && !r[i].inline_done;
	tap_ok(once, "%s: each write completed once, on the submitting thread, after submit", l);
	for (int i = 0; i < N; i++)
		rio_prep(&r[i], BE_READ, 0, 40 * MiB + (uint64_t)i * SZ, SZ, rd + i * SZ);
	for (int i = 0; i < N; i++)
		rio_submit(be, &W, &r[i]);
	tap_ok(rio_wait(&W, r, N, 30000) == 0 && memcmp(w, rd, N * SZ) == 0,
	       "%s: %d reads in flight return the right blocks", l, N);
	free(w);
	free(rd);
}

/* Two workers on one image at once, each keeping 16 operations in flight on its own range. */
struct thr {
	struct backend *be;
	uint64_t base;
	int seed;
	int errors, foreign, ops;
};

static void *thr_run(void *arg)
{
	enum { QD = 16, SZ = 65536, ROUNDS = 8 };
	struct thr *t = arg;
	struct ck_worker w;
	static __thread struct rio r[QD];
	uint8_t *buf = ck_alloc(QD * SZ), *rd = ck_alloc(QD * SZ);

	if (!buf || !rd || ck_worker_init(&w)) {
		t->errors++;
		goto out;
	}
	for (int round = 0; round < ROUNDS; round++) {
		ck_fill(buf, QD * SZ, (uint64_t)(t->seed * 100 + round));
		for (int i = 0; i < QD; i++) {
			rio_prep(&r[i], BE_WRITE, 0, t->base + (uint64_t)i * SZ, SZ, buf + i * SZ);
			rio_submit(t->be, &w, &r[i]);
		}
		if (rio_wait(&w, r, QD, 30000))
			t->errors++;
		for (int i = 0; i < QD; i++) {
			t->errors += r[i].res != 0 || r[i].ndone != 1;
			t->foreign += r[i].foreign;
			rio_prep(&r[i], BE_READ, 0, t->base + (uint64_t)i * SZ, SZ, rd + i * SZ);
			rio_submit(t->be, &w, &r[i]);
		}
		if (rio_wait(&w, r, QD, 30000))
			t->errors++;
		for (int i = 0; i < QD; i++) {
			t->errors += r[i].res != 0 || r[i].ndone != 1;
			t->foreign += r[i].foreign;
		}
		t->errors += memcmp(buf, rd, QD * SZ) != 0;
		t->ops += 2 * QD;
	}
	ck_worker_fini(&w);
out:
	free(buf);
	free(rd);
	return NULL;
}

static void t_threads(const char *l, struct backend *be)
{
	struct thr a = { be, 64 * MiB, 1, 0, 0, 0 }, b = { be, 80 * MiB, 2, 0, 0, 0 };
	pthread_t ta, tb;

	pthread_create(&ta, NULL, thr_run, &a);
	pthread_create(&tb, NULL, thr_run, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	tap_ok(a.errors == 0 && b.errors == 0, "%s: 2 threads x %d ops, QD 16 each: every write "
	       "read back, every op completed once", l, a.ops);
	tap_ok(a.foreign == 0 && b.foreign == 0, "%s: every completion ran on its submitting "
	       "thread", l);
}

static void t_image(unsigned lba, const char *name)
{
	struct backend be = { 0 };
	struct rio_open o = { .image = name, .lba = lba };
	char err[256], l[32];

	snprintf(l, sizeof(l), "bs=%u", lba);
	if (!tap_ok(rio_open(&be, &o, err, sizeof(err)) == 0, "%s: open %s: %s", l, name, err))
		return;
	tap_eq(be.geom.size, 256 * MiB, "%s: size from the image", l);
	tap_eq(be.geom.lba_shift, lba == 4096 ? 12 : 9, "%s: lba shift", l);
	tap_ok(be.geom.discard && be.geom.write_zeroes && !be.geom.readonly,
	       "%s: deallocate and write zeroes advertised, writable", l);
	t_sizes(l, &be);
	t_zero_op(l, &be, BE_WRITE_ZEROES, "write zeroes");
	t_zero_op(l, &be, BE_DISCARD, "deallocate");
	t_invalid(l, &be);
	t_depth(l, &be);
	t_threads(l, &be);
	be_close(&be);
}

static void t_readonly(void)
{
	struct backend be = { 0 };
	struct rio_open o = { .image = "t-io512", .ro = true };
	char err[256];
	uint8_t *b = ck_alloc(4096);

	if (!tap_ok(rio_open(&be, &o, err, sizeof(err)) == 0, "ro: open: %s", err))
		return;
	tap_ok(be.geom.readonly, "ro: reported read-only");
	tap_eq(rio_do(&be, &W, BE_READ, 0, 0, 4096, b), 0, "ro: read");
	tap_eq(rio_do(&be, &W, BE_WRITE, 0, 0, 4096, b), -EROFS, "ro: write: -EROFS");
	tap_eq(rio_do(&be, &W, BE_DISCARD, 0, 0, 4096, NULL), -EROFS, "ro: deallocate: -EROFS");
	be_close(&be);
	free(b);
}

/* Size not a multiple of the block: the namespace ends at the last whole block. */
static void t_odd_size(void)
{
	struct backend be = { 0 };
	struct rio_open o = { .image = "t-odd", .lba = 4096 };
	char err[256];

	tap_eq(ck_image_create("rbd", "t-odd", 16 * MiB + 1536), 0, "odd: create 16 MiB + 1536");
	tap_ok(rio_open(&be, &o, err, sizeof(err)) == 0 && be.geom.size == 16 * MiB,
	       "odd: bs=4096 namespace is 16 MiB: %s", err);
	be_close(&be);
	o.lba = 512;
	tap_ok(rio_open(&be, &o, err, sizeof(err)) == 0 && be.geom.size == 16 * MiB + 1536,
	       "odd: bs=512 namespace keeps every whole block: %s", err);
	be_close(&be);
	ck_image_remove("rbd", "t-odd");
}

int main(void)
{
	const char *conf, *dir;

	if (!ck_env(&conf, &dir)) {
		printf("1..0 # SKIP no test cluster (run through tests/ceph/run.sh)\n");
		return 0;
	}
	if (ck_worker_init(&W) || !tap_ok(ck_admin_init() == 0, "admin connection"))
		return tap_done();
	tap_eq(ck_image_create("rbd", "t-io512", 256 * MiB), 0, "create t-io512");
	tap_eq(ck_image_create("rbd", "t-io4k", 256 * MiB), 0, "create t-io4k");
	t_image(512, "t-io512");
	t_image(4096, "t-io4k");
	t_flush_fua();
	t_readonly();
	t_odd_size();
	ck_image_remove("rbd", "t-io512");
	ck_image_remove("rbd", "t-io4k");
	ck_admin_fini();
	ck_worker_fini(&W);
	return tap_done();
}
