/* SPDX-License-Identifier: MIT */
/*
 * File/block-device backend on a real io_uring: regular files with O_DIRECT (/var/tmp) and
 * buffered (forced, and tmpfs), loop block devices at 512 and 4096, short reads, ENOSPC on a
 * tiny tmpfs, read-only namespaces, open errors. Needs root for mounts and loop devices;
 * those parts SKIP when not permitted.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/file_priv.h"
#include "bt.h"

static struct io_uring ring;
static char vardir[] = "/var/tmp/nvr-be-XXXXXX";

static int open_file(struct backend *be, const char *path, uint64_t size, unsigned lba,
		     bool buffered, bool readonly, char *err, size_t errlen)
{
	struct be_spec spec = { .kind = "file", .path = path, .size = size, .lba_size = lba,
				.buffered = buffered, .readonly = readonly };

	err[0] = 0;
	return be_file_open(be, &spec, err, errlen);
}

/* Read the whole range back and compare against `want`. */
static bool read_equals(struct backend *be, uint64_t off, const uint8_t *want, uint64_t len)
{
	uint8_t *r = bt_alloc(len);
	bool eq;

	memset(r, 0x5A, len);
	eq = r && bt_do(be, &ring, BE_READ, 0, off, len, r) == 0 && memcmp(r, want, len) == 0;
	free(r);
	return eq;
}

static void t_write_read(const char *l, struct backend *be, uint64_t lba)
{
	uint64_t len = 1 << 20, off = 8 * lba;
	uint8_t *w = bt_alloc(len);

	bt_fill(w, len, 11);
	tap_ok(bt_do(be, &ring, BE_WRITE, 0, off, len, w) == 0, "%s: write 1 MiB", l);
	tap_ok(read_equals(be, off, w, len), "%s: read back byte for byte", l);
	free(w);
}

static void t_concurrent(const char *l, struct backend *be)
{
	enum { N = 32, SZ = 8192 };
	struct bt_io b[N];
	uint8_t *w = bt_alloc(N * SZ), *r = bt_alloc(N * SZ);

	bt_fill(w, N * SZ, 12);
	/* reverse order offsets, all in flight together */
	for (int i = 0; i < N; i++)
		bt_prep(&b[i], BE_WRITE, 0, (uint64_t)(N - 1 - i) * SZ + (4 << 20), SZ,
			w + (N - 1 - i) * SZ);
	tap_ok(bt_run_many(be, &ring, b, N) == 0, "%s: %d writes in flight complete once each", l,
	       N);
	for (int i = 0; i < N; i++)
		bt_prep(&b[i], BE_READ, 0, (uint64_t)i * SZ + (4 << 20), SZ, r + i * SZ);
	tap_ok(bt_run_many(be, &ring, b, N) == 0 && memcmp(w, r, N * SZ) == 0,
	       "%s: %d reads in flight return the right blocks", l, N);
	free(w);
	free(r);
}

static void t_fua_flush(const char *l, struct backend *be, uint64_t lba)
{
	uint8_t *w = bt_alloc(lba);
	struct io_uring_sqe *sqe;
	struct bt_io b;
	bool sqe_ok;

	bt_fill(w, lba, 13);
	bt_prep(&b, BE_WRITE, BE_FUA, 2 * lba, lba, w);
	bt_start(be, &ring, &b);
	sqe = bt_last_sqe(&ring);
	sqe_ok = sqe && sqe->opcode == IORING_OP_WRITE && (sqe->rw_flags & RWF_DSYNC);
	tap_ok(sqe_ok, "%s: FUA write goes out as IORING_OP_WRITE with RWF_DSYNC", l);
	tap_ok(bt_finish(&ring, &b, 1) == 0 && b.res == 0 && read_equals(be, 2 * lba, w, lba),
	       "%s: FUA write completes and reads back", l);

	bt_prep(&b, BE_WRITE, 0, 2 * lba, lba, w);
	bt_start(be, &ring, &b);
	sqe = bt_last_sqe(&ring);
	tap_ok(sqe && sqe->opcode == IORING_OP_WRITE && !(sqe->rw_flags & RWF_DSYNC),
	       "%s: plain write has no RWF_DSYNC", l);
	bt_finish(&ring, &b, 1);

	bt_prep(&b, BE_FLUSH, 0, 0, 0, NULL);
	bt_start(be, &ring, &b);
	sqe = bt_last_sqe(&ring);
	tap_ok(sqe && sqe->opcode == IORING_OP_FSYNC && sqe->fsync_flags == IORING_FSYNC_DATASYNC,
	       "%s: flush goes out as IORING_OP_FSYNC DATASYNC", l);
	tap_ok(bt_finish(&ring, &b, 1) == 0 && b.res == 0, "%s: flush completes with 0", l);
	tap_ok(be_flush_sync(be) == 0, "%s: flush_sync", l);
	free(w);
}

/* Zero [zoff, zoff+zlen) inside a written region and check zeroes plus intact neighbours. */
static bool zero_and_check(struct backend *be, enum be_op op, unsigned flags, uint64_t base,
			   uint64_t blen, uint64_t zoff, uint64_t zlen, uint64_t seed, int *expect_op,
			   int *expect_mode)
{
	uint8_t *w = bt_alloc(blen);
	struct io_uring_sqe *sqe;
	struct bt_io b;
	bool good;

	bt_fill(w, blen, seed);
	good = bt_do(be, &ring, BE_WRITE, 0, base, blen, w) == 0;
	bt_prep(&b, op, flags, zoff, zlen, NULL);
	bt_start(be, &ring, &b);
	sqe = bt_last_sqe(&ring);
	if (expect_op)
		good = good && sqe && sqe->opcode == *expect_op;
	if (expect_mode)
		good = good && sqe && sqe->len == (unsigned)*expect_mode;
	good = good && bt_finish(&ring, &b, 1) == 0 && b.res == 0;
	memset(w + (zoff - base), 0, zlen);
	good = good && read_equals(be, base, w, blen);
	free(w);
	return good;
}

static void t_zeroes(const char *l, struct backend *be, uint64_t lba)
{
	uint64_t base = 16 << 20, blen = 1 << 20;
	int falloc = IORING_OP_FALLOCATE, write = IORING_OP_WRITE;
	int zr = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	int ph = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	struct file_ns *f = be->priv;
	unsigned long cqes;

	tap_ok(zero_and_check(be, BE_WRITE_ZEROES, 0, base, blen, base + 3 * lba, 64 * 1024 + 5 * lba,
			      21, &falloc, &zr),
	       "%s: write zeroes (fallocate ZERO_RANGE first) reads zeroes, neighbours intact", l);
	tap_diag("%s: write zeroes method now %d (0 zero range, 1 punch, 2 write)", l,
		 atomic_load(&f->zero_mode));
	tap_ok(zero_and_check(be, BE_DISCARD, 0, base, blen, base + lba, 128 * 1024 + lba, 22,
			      &falloc, &ph),
	       "%s: discard (fallocate PUNCH_HOLE first) reads zeroes, neighbours intact", l);
	tap_ok(zero_and_check(be, BE_WRITE_ZEROES, BE_FUA, base, blen, base, blen, 23, NULL, NULL),
	       "%s: write zeroes with FUA over a whole written region", l);

	be_file_force_zero_writes(be);
	cqes = bt_cqes;
	tap_ok(zero_and_check(be, BE_WRITE_ZEROES, 0, base, 4 << 20, base + lba,
			      (3 << 20) + 7 * lba, 24, &write, NULL),
	       "%s: write zeroes by zero-buffer writes (several chunks) reads zeroes", l);
	/* 1 write + 4 chunks (1 MiB each) + 1 read, at least; more if a transfer was short */
	cqes = bt_cqes - cqes;
	tap_ok(cqes >= 6, "%s: zero writes went out in 1 MiB chunks (%lu CQEs)", l, cqes);
	tap_ok(zero_and_check(be, BE_DISCARD, BE_FUA, base, blen, base + 2 * lba, 4 * lba, 25,
			      &write, NULL),
	       "%s: discard by zero-buffer writes reads zeroes", l);
}

static void t_args(const char *l, struct backend *be, uint64_t lba)
{
	uint8_t *w = bt_alloc(2 * lba);
	struct bt_io b;

	bt_prep(&b, BE_WRITE, 0, lba / 2, lba, w);
	tap_ok(bt_run(be, &ring, &b) == -EINVAL && b.ndone == 1 && b.inline_done,
	       "%s: unaligned offset -> EINVAL inline, once", l);
	tap_ok(bt_do(be, &ring, BE_READ, 0, 0, lba + 512 / 2, w) == -EINVAL,
	       "%s: length not a multiple of the lba -> EINVAL", l);
	tap_ok(bt_do(be, &ring, BE_READ, 0, be->geom.size - lba, 2 * lba, w) == -ERANGE &&
		       be_errno_to_status(-ERANGE, BE_READ) == 0x4080,
	       "%s: past the end -> ERANGE -> LBA Out of Range", l);
	tap_ok(bt_do(be, &ring, BE_READ, 0, be->geom.size - lba, lba, w) == 0,
	       "%s: last block readable", l);
	tap_ok(bt_do(be, &ring, BE_READ, 0, 0, 0, w) == 0, "%s: zero-length read is a no-op", l);
	free(w);
}

static void t_fixed(const char *l, struct backend *be)
{
	enum { SZ = 64 * 1024 };
	uint8_t *mem = bt_alloc(2 * SZ);
	struct iovec iov = { .iov_base = mem, .iov_len = 2 * SZ };
	struct io_uring_sqe *sqe;
	struct bt_io b;
	bool good;

	if (io_uring_register_buffers(&ring, &iov, 1)) {
		tap_ok(false, "%s: register a buffer", l);
		free(mem);
		return;
	}
	bt_fill(mem, SZ, 31);
	bt_prep(&b, BE_WRITE, 0, 1 << 20, SZ, mem);
	b.io.buf_index = 0;
	bt_start(be, &ring, &b);
	sqe = bt_last_sqe(&ring);
	good = sqe && sqe->opcode == IORING_OP_WRITE_FIXED && sqe->buf_index == 0;
	tap_ok(good && bt_finish(&ring, &b, 1) == 0 && b.res == 0,
	       "%s: registered buffer write uses IORING_OP_WRITE_FIXED", l);
	bt_prep(&b, BE_READ, 0, 1 << 20, SZ, mem + SZ);
	b.io.buf_index = 0;
	bt_start(be, &ring, &b);
	sqe = bt_last_sqe(&ring);
	good = sqe && sqe->opcode == IORING_OP_READ_FIXED;
	tap_ok(good && bt_finish(&ring, &b, 1) == 0 && b.res == 0 && memcmp(mem, mem + SZ, SZ) == 0,
	       "%s: READ_FIXED reads it back", l);
	io_uring_unregister_buffers(&ring);
	free(mem);
}

static void t_unaligned_buf(const char *l, struct backend *be, uint64_t lba)
{
	uint64_t len = 16 * lba;
	uint8_t *mem = bt_alloc(len + 4096), *buf = mem + 8;
	struct io_uring_sqe *sqe;
	struct bt_io b;
	int fd_aligned, fd_unaligned;

	bt_fill(buf, len, 41);
	bt_prep(&b, BE_WRITE, 0, 2 << 20, len, mem);
	bt_start(be, &ring, &b);
	sqe = bt_last_sqe(&ring);
	fd_aligned = sqe ? sqe->fd : -1;
	bt_finish(&ring, &b, 1);
	bt_prep(&b, BE_WRITE, 0, 2 << 20, len, buf);
	bt_start(be, &ring, &b);
	sqe = bt_last_sqe(&ring);
	fd_unaligned = sqe ? sqe->fd : -1;
	tap_ok(bt_finish(&ring, &b, 1) == 0 && b.res == 0 && read_equals(be, 2 << 20, buf, len),
	       "%s: write from a buffer off O_DIRECT alignment works and reads back", l);
	if (be_file_is_direct(be))
		tap_ok(fd_aligned != fd_unaligned && fd_aligned >= 0 && fd_unaligned >= 0,
		       "%s: unaligned buffer goes through the buffered fd (%d vs %d)", l,
		       fd_aligned, fd_unaligned);
	else
		tap_ok(fd_aligned == fd_unaligned, "%s: buffered mode uses one fd", l);
	memset(buf, 0, len);
	tap_ok(bt_do(be, &ring, BE_READ, 0, 2 << 20, len, buf) == 0 && bt_check(buf, len, 41),
	       "%s: read into an unaligned buffer", l);
	free(mem);
}

/*
 * O_DIRECT refusing an op the backend thought aligned (here: we make it believe any buffer
 * address is fine) must not reach the host: the op is redone on the buffered fd.
 */
static void t_einval_retry(const char *l, struct backend *be, uint64_t lba, bool strict)
{
	struct file_ns *f = be->priv;
	uint64_t len = 4 * lba;
	uint8_t *mem = bt_alloc(len + 4096), *buf = mem + 1; /* below any DMA alignment */
	unsigned saved = f->dio_mem_align;
	unsigned long cqes = bt_cqes;
	int ret;

	f->dio_mem_align = 1;
	bt_fill(buf, len, 91);
	ret = bt_do(be, &ring, BE_WRITE, 0, 6 << 20, len, buf);
	cqes = bt_cqes - cqes;
	f->dio_mem_align = saved;
	/* 2 CQEs when the kernel refused (EINVAL, then the retry). Newer kernels take some
	 * misaligned direct writes (6.18: ext4 and 512-byte loop devices do): 1 CQE */
	tap_ok(ret == 0 && (cqes == 2 || (!strict && cqes == 1)) && read_equals(be, 6 << 20, buf, len),
	       "%s: misaligned O_DIRECT write succeeds, EINVAL retried buffered (%lu CQEs)", l,
	       cqes);
	free(mem);
}

/* Everything a namespace must do, on an open backend of at least 32 MiB. */
static void battery(const char *l, struct backend *be)
{
	uint64_t lba = 1ull << be->geom.lba_shift;

	tap_ok(be->geom.volatile_cache && be->geom.discard && be->geom.write_zeroes,
	       "%s: volatile cache, discard and write zeroes advertised", l);
	tap_ok(be_mem_ptr(be, 0) == NULL, "%s: be_mem_ptr is NULL for a file", l);
	t_write_read(l, be, lba);
	t_concurrent(l, be);
	t_fua_flush(l, be, lba);
	t_args(l, be, lba);
	t_fixed(l, be);
	t_unaligned_buf(l, be, lba);
	t_zeroes(l, be, lba); /* last: it forces the zero-write fallback */
}

static void suite_regular(unsigned lba, bool buffered)
{
	char path[256], l[64], err[256];
	uint64_t size = 64 << 20;
	struct backend be;
	uint8_t *w, *r;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/ns-%u-%d", vardir, lba, buffered);
	snprintf(l, sizeof(l), "var/tmp file bs=%u%s", lba, buffered ? " buffered" : "");
	ret = open_file(&be, path, size, lba, buffered, false, err, sizeof(err));
	tap_ok(ret == 0, "%s: open creates the file (%s)", l, err);
	if (ret)
		return;
	tap_ok(be.geom.size == size && be.geom.lba_shift == (lba == 512 ? 9u : 12u),
	       "%s: geometry size %llu lba shift %u", l, (unsigned long long)be.geom.size,
	       be.geom.lba_shift);
	/* ext4/xfs/btrfs take O_DIRECT; the backend must use it there unless told not to */
	fd = open(path, O_RDONLY | O_DIRECT);
	tap_ok(be_file_is_direct(&be) == (!buffered && fd >= 0), "%s: O_DIRECT %s", l,
	       buffered ? "off when forced buffered" : fd >= 0 ? "on (the filesystem takes it)" :
								  "off (the filesystem refuses it)");
	if (fd >= 0)
		close(fd);
	battery(l, &be);
	if (be_file_is_direct(&be))
		t_einval_retry(l, &be, 1ull << be.geom.lba_shift, false);

	/* the bytes are in the file, at the namespace offsets */
	w = bt_alloc(64 * 1024);
	r = bt_alloc(64 * 1024);
	bt_fill(w, 64 * 1024, 51);
	bt_do(&be, &ring, BE_WRITE, 0, 40 << 20, 64 * 1024, w);
	bt_do(&be, &ring, BE_FLUSH, 0, 0, 0, NULL);
	be_close(&be);
	fd = open(path, O_RDONLY);
	tap_ok(fd >= 0 && pread(fd, r, 64 * 1024, 40 << 20) == 64 * 1024 &&
		       memcmp(w, r, 64 * 1024) == 0,
	       "%s: data is in the file at the namespace offset after close", l);
	if (fd >= 0)
		close(fd);

	/* reopening without size uses the file's size */
	ret = open_file(&be, path, 0, lba, buffered, false, err, sizeof(err));
	tap_ok(ret == 0 && be.geom.size == size && read_equals(&be, 40 << 20, w, 64 * 1024),
	       "%s: reopen without size= keeps size and data", l);
	if (!ret)
		be_close(&be);
	free(w);
	free(r);
	unlink(path);
}

static bool mount_tmpfs(char *dir, size_t dirlen, const char *opts)
{
	snprintf(dir, dirlen, "%s/tmpfs-XXXXXX", vardir);
	if (!mkdtemp(dir))
		return false;
	if (mount("tmpfs", dir, "tmpfs", 0, opts)) {
		rmdir(dir);
		return false;
	}
	return true;
}

static void umount_tmpfs(const char *dir)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

static void suite_tmpfs(void)
{
	char dir[256], path[300], err[256];
	bool mounted = mount_tmpfs(dir, sizeof(dir), "size=128m");
	struct backend be;
	int fd, ret;
	bool fs_direct;

	if (!mounted)
		snprintf(dir, sizeof(dir), "/dev/shm");
	snprintf(path, sizeof(path), "%s/nvr-be-ns-%d", dir, (int)getpid());
	ret = open_file(&be, path, 64 << 20, 512, false, false, err, sizeof(err));
	tap_ok(ret == 0, "tmpfs file: opens (%s)", err);
	if (ret)
		goto out;
	/* tmpfs refuses O_DIRECT before Linux 6.6 and takes it since: follow the kernel */
	fd = open(path, O_RDWR | O_DIRECT);
	fs_direct = fd >= 0;
	if (fd >= 0)
		close(fd);
	tap_ok(fs_direct || !be_file_is_direct(&be),
	       "tmpfs file: buffered fallback when O_DIRECT is refused (kernel takes O_DIRECT: %s, backend direct: %s)",
	       fs_direct ? "yes" : "no", be_file_is_direct(&be) ? "yes" : "no");
	battery("tmpfs file", &be);
	be_close(&be);

	ret = open_file(&be, path, 64 << 20, 4096, true, false, err, sizeof(err));
	tap_ok(ret == 0 && !be_file_is_direct(&be), "tmpfs file bs=4096 buffered: opens buffered");
	if (!ret) {
		battery("tmpfs file bs=4096 buffered", &be);
		be_close(&be);
	}
out:
	unlink(path);
	if (mounted)
		umount_tmpfs(dir);
}

/* ramfs has no O_DIRECT and no fallocate: the buffered fallback and every zeroing fallback. */
static void suite_ramfs(void)
{
	char dir[256], path[300], err[256];
	struct backend be;
	int ret;

	snprintf(dir, sizeof(dir), "%s/ramfs-XXXXXX", vardir);
	if (!mkdtemp(dir) || mount("ramfs", dir, "ramfs", 0, NULL)) {
		tap_skip("cannot mount ramfs", "ramfs file: O_DIRECT refused -> buffered");
		return;
	}
	snprintf(path, sizeof(path), "%s/ns", dir);
	ret = open_file(&be, path, 32 << 20, 512, false, false, err, sizeof(err));
	tap_ok(ret == 0 && !be_file_is_direct(&be),
	       "ramfs file: O_DIRECT refused by the filesystem -> opens buffered (%s)", err);
	if (!ret) {
		struct file_ns *f = be.priv;
		unsigned long cqes = bt_cqes, n;

		ret = bt_do(&be, &ring, BE_WRITE_ZEROES, 0, 0, 8192, NULL);
		n = bt_cqes - cqes;
		tap_ok(ret == 0 && n == 3 && atomic_load(&f->zero_mode) == FILE_ZERO_WRITE,
		       "ramfs file: write zeroes degrades ZERO_RANGE -> PUNCH -> zero writes (%lu CQEs)",
		       n);
		cqes = bt_cqes;
		ret = bt_do(&be, &ring, BE_DISCARD, 0, 0, 8192, NULL);
		n = bt_cqes - cqes;
		tap_ok(ret == 0 && n == 2 && atomic_load(&f->discard_mode) == FILE_ZERO_RANGE,
		       "ramfs file: discard degrades PUNCH -> write-zeroes path (%lu CQEs)", n);
		cqes = bt_cqes;
		ret = bt_do(&be, &ring, BE_DISCARD, 0, 0, 8192, NULL);
		n = bt_cqes - cqes;
		tap_ok(ret == 0 && n == 1, "ramfs file: the fallback is remembered (%lu CQE)", n);
		be_close(&be);
		ret = open_file(&be, path, 32 << 20, 512, false, false, err, sizeof(err));
	}
	if (!ret) {
		battery("ramfs file", &be);
		be_close(&be);
	}
	unlink(path);
	umount_tmpfs(dir);
}

/* A loop device over a file in vardir, detached automatically on last close. */
static int loop_attach(const char *backing, unsigned bs, char *dev, size_t devlen)
{
	int ctl, bfd, lfd = -1;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	bfd = open(backing, O_RDWR | O_CLOEXEC);
	if (bfd < 0) {
		close(ctl);
		return -errno;
	}
	for (int tries = 0; tries < 20; tries++) {
		struct loop_config cfg;
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0)
			break;
		snprintf(dev, devlen, "/dev/loop%d", n);
		lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0)
			break;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned)bfd;
		cfg.block_size = bs;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		close(lfd); /* raced with another user of that device: take the next */
		lfd = -1;
	}
	close(bfd);
	close(ctl);
	return lfd < 0 ? -ENODEV : lfd;
}

static void suite_loop(unsigned bs)
{
	char backing[256], dev[64], l[64], err[256];
	uint64_t size = 48 << 20;
	struct backend be;
	int bfd, lfd, ret;

	snprintf(l, sizeof(l), "loop bs=%u", bs);
	snprintf(backing, sizeof(backing), "%s/loop-%u", vardir, bs);
	bfd = open(backing, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (bfd < 0 || ftruncate(bfd, (off_t)size)) {
		tap_ok(false, "%s: backing file", l);
		return;
	}
	close(bfd);
	lfd = loop_attach(backing, bs, dev, sizeof(dev));
	if (lfd < 0) {
		tap_skip("no loop device (not permitted or none free)", "%s: block device suite", l);
		unlink(backing);
		return;
	}
	ret = open_file(&be, dev, 0, 0, false, false, err, sizeof(err));
	tap_ok(ret == 0, "%s: %s opens as a block device (%s)", l, dev, err);
	if (!ret) {
		tap_ok(be.geom.size == size && (1u << be.geom.lba_shift) == bs &&
			       be_file_is_direct(&be),
		       "%s: size from BLKGETSIZE64, lba = device block size, O_DIRECT", l);
		battery(l, &be);
		t_einval_retry(l, &be, bs, false);
		be_close(&be);
	}
	if (bs > 512) {
		ret = open_file(&be, dev, 0, 512, false, false, err, sizeof(err));
		tap_ok(ret == -EINVAL && strstr(err, "smaller than the logical block size"),
		       "%s: bs=512 rejected: %s", l, err);
		if (!ret)
			be_close(&be);
	}
	ret = open_file(&be, dev, size + 4096, 0, false, false, err, sizeof(err));
	tap_ok(ret == -EINVAL && err[0], "%s: size= beyond the device rejected: %s", l, err);
	if (!ret)
		be_close(&be);
	ret = open_file(&be, dev, 8 << 20, 0, false, false, err, sizeof(err));
	tap_ok(ret == 0 && be.geom.size == 8 << 20, "%s: size= smaller than the device is used", l);
	if (!ret)
		be_close(&be);
	close(lfd);
	unlink(backing);
}

/* The file shrinks under the namespace: short read, then EOF, reads zeroes beyond. */
static void suite_short_read(bool buffered)
{
	char path[256], l[64], err[256];
	uint64_t size = 1 << 20, eof = size - 4096 - 100;
	unsigned long cqes;
	uint8_t *w = bt_alloc(16384), *r = bt_alloc(16384);
	struct backend be;
	int ret;

	snprintf(path, sizeof(path), "%s/short-%d", vardir, buffered);
	snprintf(l, sizeof(l), "short read%s", buffered ? " buffered" : " O_DIRECT");
	ret = open_file(&be, path, size, 512, buffered, false, err, sizeof(err));
	if (ret) {
		tap_ok(false, "%s: open (%s)", l, err);
		goto out;
	}
	bt_fill(w, 16384, 61);
	bt_do(&be, &ring, BE_WRITE, 0, size - 16384, 16384, w);
	if (truncate(path, (off_t)eof)) {
		tap_ok(false, "%s: truncate", l);
		be_close(&be);
		goto out;
	}
	memset(r, 0xEE, 16384);
	cqes = bt_cqes;
	ret = bt_do(&be, &ring, BE_READ, 0, size - 16384, 16384, r);
	cqes = bt_cqes - cqes;
	tap_ok(cqes == 2, "%s: short read resubmitted for the rest (%lu CQEs)", l, cqes);
	tap_ok(ret == 0 && memcmp(r, w, eof - (size - 16384)) == 0 &&
		       bt_is_zero(r + (eof - (size - 16384)), size - eof),
	       "%s: data up to EOF, zeroes after it, no error", l);
	be_close(&be);
out:
	unlink(path);
	free(w);
	free(r);
}

static void suite_enospc(void)
{
	char dir[256], path[300], err[256];
	uint64_t len = 1 << 20;
	uint8_t *w = bt_alloc(len);
	struct backend be;
	int ret;

	if (!mount_tmpfs(dir, sizeof(dir), "size=256k")) {
		tap_skip("cannot mount a small tmpfs", "ENOSPC -> Capacity Exceeded");
		free(w);
		return;
	}
	snprintf(path, sizeof(path), "%s/full", dir);
	ret = open_file(&be, path, 4 << 20, 512, true, false, err, sizeof(err));
	tap_ok(ret == 0, "ENOSPC: 4 MiB sparse file on a 256 KiB tmpfs opens (%s)", err);
	if (!ret) {
		bt_fill(w, len, 71);
		/* tmpfs takes the first pages (a short write), then fails the rest */
		ret = bt_do(&be, &ring, BE_WRITE, 0, 0, len, w);
		tap_ok(ret == -ENOSPC, "ENOSPC: 1 MiB write fails with ENOSPC (%d)", ret);
		tap_ok(be_errno_to_status(ret, BE_WRITE) == 0x4081,
		       "ENOSPC: maps to Capacity Exceeded with DNR (0x%04x)",
		       be_errno_to_status(ret, BE_WRITE));
		be_close(&be);
	}
	unlink(path);
	umount_tmpfs(dir);
	free(w);
}

static void suite_readonly(void)
{
	char path[256], err[256];
	uint8_t *w = bt_alloc(8192), *r = bt_alloc(8192);
	struct backend be;
	int ret;

	snprintf(path, sizeof(path), "%s/ro", vardir);
	ret = open_file(&be, path, 1 << 20, 512, false, false, err, sizeof(err));
	bt_fill(w, 8192, 81);
	if (!ret) {
		bt_do(&be, &ring, BE_WRITE, 0, 8192, 8192, w);
		be_close(&be);
	}
	ret = open_file(&be, path, 0, 512, false, true, err, sizeof(err));
	tap_ok(ret == 0 && be.geom.readonly, "read-only: opens (%s)", err);
	if (ret)
		goto out;
	ret = bt_do(&be, &ring, BE_WRITE, 0, 0, 8192, w);
	tap_ok(ret == -EROFS && be_errno_to_status(ret, BE_WRITE) == 0x4020,
	       "read-only: write -> EROFS -> Namespace Write Protected with DNR");
	tap_ok(bt_do(&be, &ring, BE_WRITE_ZEROES, 0, 0, 8192, NULL) == -EROFS &&
		       bt_do(&be, &ring, BE_DISCARD, 0, 0, 8192, NULL) == -EROFS,
	       "read-only: write zeroes and discard -> EROFS");
	tap_ok(bt_do(&be, &ring, BE_READ, 0, 8192, 8192, r) == 0 && memcmp(r, w, 8192) == 0,
	       "read-only: reads work");
	tap_ok(bt_do(&be, &ring, BE_FLUSH, 0, 0, 0, NULL) == 0, "read-only: flush works");
	be_close(&be);
	ret = open_file(&be, path, 2 << 20, 512, false, true, err, sizeof(err));
	tap_ok(ret == -EINVAL && err[0], "read-only: size= beyond the file rejected: %s", err);
	if (!ret)
		be_close(&be);
out:
	unlink(path);
	free(w);
	free(r);
}

static void suite_open_errors(void)
{
	char path[256], err[256];
	struct backend be;
	int ret, fd;

	snprintf(path, sizeof(path), "%s/absent", vardir);
	ret = open_file(&be, path, 0, 0, false, false, err, sizeof(err));
	tap_ok(ret == -ENOENT && err[0] && access(path, F_OK) != 0,
	       "missing file without size= is not created: %s", err);
	ret = open_file(&be, vardir, 0, 0, false, false, err, sizeof(err));
	tap_ok(ret < 0 && err[0], "a directory is refused: %s", err);
	snprintf(path, sizeof(path), "%s/empty", vardir);
	fd = open(path, O_CREAT | O_RDWR, 0644);
	if (fd >= 0)
		close(fd);
	ret = open_file(&be, path, 0, 0, false, false, err, sizeof(err));
	tap_ok(ret == -EINVAL && strstr(err, "size="), "empty file without size= refused: %s", err);
	ret = open_file(&be, path, 1 << 20, 1024, false, false, err, sizeof(err));
	tap_ok(ret == -EINVAL && strstr(err, "1024"), "bs=1024 refused: %s", err);
	ret = open_file(&be, path, 1000, 512, false, false, err, sizeof(err));
	tap_ok(ret == 0 && be.geom.size == 512, "size rounds down to whole blocks (%llu)",
	       ret ? 0ull : (unsigned long long)be.geom.size);
	if (!ret)
		be_close(&be);
	ret = open_file(&be, path, 100, 512, false, false, err, sizeof(err));
	tap_ok(ret == -EINVAL && err[0], "smaller than one block refused: %s", err);
	unlink(path);

	/* a file bigger than size= is used in part, not shrunk */
	snprintf(path, sizeof(path), "%s/big", vardir);
	fd = open(path, O_CREAT | O_RDWR, 0644);
	if (fd >= 0) {
		if (ftruncate(fd, 8 << 20))
			tap_diag("ftruncate: %s", strerror(errno));
		close(fd);
	}
	ret = open_file(&be, path, 2 << 20, 512, false, false, err, sizeof(err));
	if (!ret)
		be_close(&be);
	{
		struct stat st;

		tap_ok(ret == 0 && stat(path, &st) == 0 && st.st_size == 8 << 20,
		       "size= smaller than the file: file keeps its size");
	}
	unlink(path);
}

int main(void)
{
	if (io_uring_queue_init(64, &ring, 0)) {
		tap_ok(false, "io_uring_queue_init");
		return tap_done();
	}
	if (!mkdtemp(vardir)) {
		tap_ok(false, "mkdtemp %s", vardir);
		return tap_done();
	}
	suite_open_errors();
	suite_regular(512, false);
	suite_regular(4096, false);
	suite_regular(512, true);
	suite_tmpfs();
	suite_ramfs();
	suite_loop(512);
	suite_loop(4096);
	suite_short_read(false);
	suite_short_read(true);
	suite_enospc();
	suite_readonly();
	rmdir(vardir);
	io_uring_queue_exit(&ring);
	return tap_done();
}
