/* SPDX-License-Identifier: MIT */
/* RAM backend on a real io_uring: data, zeroing, lazy allocation, argument checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"

static long rss_kib(void)
{
	long pages = -1, resident = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_open_errors(void)
{
	struct backend be;
	struct be_spec spec = { .kind = "mem", .size = 1 << 20, .lba_size = 1024 };
	char err[256] = "";

	tap_ok(be_mem_open(&be, &spec, err, sizeof(err)) == -EINVAL && err[0],
	       "lba size 1024 rejected with a reason (%s)", err);
	spec.lba_size = 4096;
	spec.size = (1 << 20) + 512;
	err[0] = 0;
	tap_ok(be_mem_open(&be, &spec, err, sizeof(err)) == -EINVAL && err[0],
	       "size not a multiple of the lba size rejected (%s)", err);
}

static void test_lazy(struct io_uring *ring)
{
	struct be_spec spec = { .kind = "mem" };
	struct backend be;
	char err[256];
	uint64_t len = 16 << 20;
	uint8_t *buf = bt_alloc(len); /* touched here, before the baseline */
	long before = rss_kib(), after_open, after_write, after_discard;

	tap_ok(be_mem_open(&be, &spec, err, sizeof(err)) == 0, "default mem namespace opens");
	tap_ok(be.geom.size == 1ull << 30 && be.geom.lba_shift == 9 && be.geom.discard &&
		       be.geom.write_zeroes && !be.geom.volatile_cache,
	       "default geometry: 1 GiB, 512-byte LBAs, no volatile cache");
	after_open = rss_kib();
	tap_ok(after_open - before < 4096, "1 GiB costs no memory until written (+%ld KiB)",
	       after_open - before);
	bt_fill(buf, len, 7);
	tap_ok(bt_do(&be, ring, BE_WRITE, 0, 512 << 20, len, buf) == 0, "write 16 MiB at 512 MiB");
	after_write = rss_kib();
	tap_ok(after_write - after_open >= 15 * 1024, "written pages are resident (+%ld KiB)",
	       after_write - after_open);
	tap_ok(bt_do(&be, ring, BE_DISCARD, 0, 512 << 20, len, NULL) == 0, "discard it");
	after_discard = rss_kib();
	tap_ok(after_write - after_discard >= 15 * 1024,
	       "discard gives whole pages back (-%ld KiB)", after_write - after_discard);
	memset(buf, 0xAA, len);
	tap_ok(bt_do(&be, ring, BE_READ, 0, 512 << 20, len, buf) == 0 && bt_is_zero(buf, len),
	       "discarded range reads as zeroes");
	be_close(&be);
	free(buf);
}

static void test_data(struct io_uring *ring, unsigned lba)
{
	struct be_spec spec = { .kind = "mem", .size = 8 << 20, .lba_size = lba };
	struct backend be;
	struct bt_io b;
	char err[256];
	uint64_t len = 256 * 1024;
	uint8_t *w = bt_alloc(len), *r = bt_alloc(len);
	uint64_t off = 3 * lba;
	int res;

	tap_ok(be_mem_open(&be, &spec, err, sizeof(err)) == 0 &&
		       be.geom.lba_shift == (lba == 512 ? 9u : 12u) && be.geom.size == 8 << 20,
	       "lba %u: opens with the asked geometry", lba);

	bt_fill(w, len, lba);
	bt_prep(&b, BE_WRITE, 0, off, len, w);
	res = bt_run(&be, ring, &b);
	tap_ok(res == 0 && b.ndone == 1 && b.inline_done && !io_uring_sq_ready(ring),
	       "lba %u: write completes inline, once, with no SQE", lba);
	tap_ok(bt_do(&be, ring, BE_READ, 0, off, len, r) == 0 && memcmp(w, r, len) == 0,
	       "lba %u: read back byte for byte", lba);
	tap_ok(be_mem_ptr(&be, off) && memcmp(be_mem_ptr(&be, off), w, len) == 0,
	       "lba %u: be_mem_ptr shows the written bytes", lba);
	tap_ok(be_mem_ptr(&be, 8 << 20) == NULL && be_mem_ptr(&be, (8 << 20) - 1) != NULL,
	       "lba %u: be_mem_ptr NULL past the end only", lba);

	/* zero a range with partial pages at both ends and whole pages inside */
	{
		uint64_t zoff = off + lba, zlen = len - 3 * lba;

		tap_ok(bt_do(&be, ring, BE_WRITE_ZEROES, 0, zoff, zlen, NULL) == 0,
		       "lba %u: write zeroes", lba);
		memset(r, 0x55, len);
		res = bt_do(&be, ring, BE_READ, 0, off, len, r);
		tap_ok(res == 0 && memcmp(r, w, lba) == 0 && bt_is_zero(r + lba, zlen) &&
			       memcmp(r + lba + zlen, w + lba + zlen, len - lba - zlen) == 0,
		       "lba %u: zeroed range reads zeroes, its neighbours keep their data", lba);
	}
	bt_fill(w, len, lba + 1);
	bt_do(&be, ring, BE_WRITE, 0, off, len, w);
	tap_ok(bt_do(&be, ring, BE_DISCARD, 0, off + 2 * lba, lba, NULL) == 0,
	       "lba %u: discard one block", lba);
	bt_do(&be, ring, BE_READ, 0, off, len, r);
	tap_ok(memcmp(r, w, 2 * lba) == 0 && bt_is_zero(r + 2 * lba, lba) &&
		       memcmp(r + 3 * lba, w + 3 * lba, len - 3 * lba) == 0,
	       "lba %u: discarded block reads zeroes, neighbours intact", lba);
	tap_ok(bt_do(&be, ring, BE_FLUSH, 0, 0, 0, NULL) == 0, "lba %u: flush succeeds", lba);
	tap_ok(be_flush_sync(&be) == 0, "lba %u: flush_sync succeeds", lba);

	/* argument checks, each reported once through done */
	bt_prep(&b, BE_READ, 0, off + 1, lba, r);
	tap_ok(bt_run(&be, ring, &b) == -EINVAL && b.ndone == 1, "lba %u: unaligned offset -> EINVAL", lba);
	tap_ok(bt_do(&be, ring, BE_WRITE, 0, off, lba + 8, w) == -EINVAL,
	       "lba %u: length not a multiple of the lba -> EINVAL", lba);
	tap_ok(bt_do(&be, ring, BE_READ, 0, (8 << 20) - lba, 2 * lba, r) == -ERANGE,
	       "lba %u: read past the end -> ERANGE", lba);
	tap_ok(bt_do(&be, ring, BE_WRITE_ZEROES, 0, UINT64_MAX - (lba - 1), 2 * lba, NULL) == -ERANGE,
	       "lba %u: offset + len overflow -> ERANGE", lba);
	tap_ok(bt_do(&be, ring, BE_READ, 0, (8 << 20) - lba, lba, r) == 0,
	       "lba %u: the last block is readable", lba);
	be_close(&be);
	free(w);
	free(r);
}

static void test_readonly(struct io_uring *ring)
{
	struct be_spec spec = { .kind = "mem", .size = 1 << 20, .readonly = true };
	struct backend be;
	char err[256];
	uint8_t *buf = bt_alloc(4096);
	int res;

	be_mem_open(&be, &spec, err, sizeof(err));
	res = bt_do(&be, ring, BE_WRITE, 0, 0, 4096, buf);
	tap_ok(res == -EROFS && be_errno_to_status(res, BE_WRITE) == 0x4020,
	       "read-only: write -> EROFS -> Namespace Write Protected");
	tap_ok(bt_do(&be, ring, BE_DISCARD, 0, 0, 4096, NULL) == -EROFS,
	       "read-only: discard -> EROFS");
	tap_ok(bt_do(&be, ring, BE_READ, 0, 0, 4096, buf) == 0 && bt_is_zero(buf, 4096),
	       "read-only: read works");
	be_close(&be);
	free(buf);
}

int main(void)
{
	struct io_uring ring;

	if (io_uring_queue_init(64, &ring, 0)) {
		tap_ok(false, "io_uring_queue_init");
		return tap_done();
	}
	test_open_errors();
	test_lazy(&ring);
	test_data(&ring, 512);
	test_data(&ring, 4096);
	test_readonly(&ring);
	io_uring_queue_exit(&ring);
	return tap_done();
}
