/* SPDX-License-Identifier: MIT */
/*
 * Opening a file/block-device namespace: size, LBA size, and whether O_DIRECT works and
 * with which alignment. Runs at start and may block; the data path is file_io.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_priv.h"

static const struct backend_ops file_ops;

/*
 * STATX_DIOALIGN (Linux 6.1): glibc 2.36's struct statx predates the fields, which sit in
 * its padding at the kernel's offsets 0x98 (mem align) and 0x9c (offset align).
 */
#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN 0x00002000U
#endif
#define STX_DIO_MEM_ALIGN_OFF 0x98
#define STX_DIO_OFFSET_ALIGN_OFF 0x9c
_Static_assert(sizeof(struct statx) >= STX_DIO_OFFSET_ALIGN_OFF + 4, "statx too small");

static void file_statx_dioalign(int fd, unsigned *mem_align, unsigned *off_align)
{
	struct statx stx;
	uint32_t v;

	*mem_align = 0;
	*off_align = 0;
	memset(&stx, 0, sizeof(stx));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) || !(stx.stx_mask & STATX_DIOALIGN))
		return;
	memcpy(&v, (char *)&stx + STX_DIO_MEM_ALIGN_OFF, sizeof(v));
	*mem_align = v;
	memcpy(&v, (char *)&stx + STX_DIO_OFFSET_ALIGN_OFF, sizeof(v));
	*off_align = v;
}

static bool is_pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

/* An aligned O_DIRECT pread of `align` bytes at 0: does the fd take this alignment? */
static int file_probe_pread(int fd, unsigned align)
{
	void *buf;
	ssize_t n;
	int e = 0;

	if (posix_memalign(&buf, 4096, align < 4096 ? 4096 : align))
		return -ENOMEM;
	n = pread(fd, buf, align, 0);
	if (n < 0)
		e = -errno;
	free(buf);
	return e;
}

/*
 * Open the O_DIRECT fd and learn its alignment. 0 with f->direct set, 0 with f->direct
 * clear when the filesystem refuses O_DIRECT (tmpfs before 6.6), or a negative errno.
 */
static int file_open_direct(struct file_ns *f, const char *path, int oflags, unsigned dev_lbs,
			    char *err, size_t errlen)
{
	unsigned mem_align, off_align;
	int fd, e;

	fd = open(path, oflags | O_DIRECT);
	if (fd < 0) {
		if (errno == EINVAL)
			return 0; /* no O_DIRECT on this filesystem: buffered */
		e = errno;
		be_err(err, errlen, "file: open %s O_DIRECT: %s", path, strerror(e));
		return -e;
	}
	file_statx_dioalign(fd, &mem_align, &off_align);
	if (!is_pow2(off_align)) {
		/*
		 * No STATX_DIOALIGN answer: block devices use their logical block size; for
		 * files, try 512 then 4096 (a pread over a hole may pass any alignment, so this
		 * probe is the last resort, not the first).
		 */
		off_align = dev_lbs;
		if (!off_align) {
			off_align = 512;
			if (file_probe_pread(fd, 512))
				off_align = 4096;
		}
	}
	if (file_probe_pread(fd, off_align)) {
		close(fd);
		return 0; /* opened but unusable: buffered */
	}
	if (!is_pow2(mem_align) || mem_align > off_align)
		mem_align = off_align;
	f->fd = fd;
	f->direct = true;
	f->dio_offset_align = off_align;
	f->dio_mem_align = mem_align;
	return 0;
}

/* Size the regular file to the namespace: created/extended when `size` asks for more. */
static int file_size_regular(int fd, const struct be_spec *spec, const char *path,
			     uint64_t *size, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st)) {
		be_err(err, errlen, "file: stat %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!spec->size) {
		if (!st.st_size) {
			be_err(err, errlen, "file: %s is empty; give size=", path);
			return -EINVAL;
		}
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if ((uint64_t)st.st_size < spec->size) {
		if (spec->readonly) {
			be_err(err, errlen, "file: %s is smaller than size=%llu and read-only", path,
			       (unsigned long long)spec->size);
			return -EINVAL;
		}
		if (ftruncate(fd, (off_t)spec->size)) {
			be_err(err, errlen, "file: extend %s to %llu: %s", path,
			       (unsigned long long)spec->size, strerror(errno));
			return -errno;
		}
	}
	*size = spec->size;
	return 0;
}

static int file_size_blockdev(int fd, const struct be_spec *spec, const char *path,
			      uint64_t *size, unsigned *lbs, char *err, size_t errlen)
{
	uint64_t dev_size;
	int ss;

	if (ioctl(fd, BLKGETSIZE64, &dev_size) || ioctl(fd, BLKSSZGET, &ss)) {
		be_err(err, errlen, "file: %s: block device size: %s", path, strerror(errno));
		return -errno;
	}
	if (spec->size > dev_size) {
		be_err(err, errlen, "file: size=%llu exceeds %s (%llu bytes)",
		       (unsigned long long)spec->size, path, (unsigned long long)dev_size);
		return -EINVAL;
	}
	*size = spec->size ? spec->size : dev_size;
	*lbs = (unsigned)ss;
	return 0;
}

/* The namespace LBA size: requested, or the device's, and never below what O_DIRECT needs. */
static int file_pick_lba(const struct file_ns *f, const struct be_spec *spec, unsigned dev_lbs,
			 const char *path, unsigned *shift, char *err, size_t errlen)
{
	unsigned need = f->direct ? f->dio_offset_align : 0;
	unsigned lba = spec->lba_size;

	if (f->blockdev && dev_lbs > need)
		need = dev_lbs;
	if (!lba)
		lba = need > 512 ? 4096 : 512;
	if (be_lba_shift(lba, shift)) {
		be_err(err, errlen, "file: bs=%u not supported (512 or 4096)", lba);
		return -EINVAL;
	}
	if (lba < need) {
		be_err(err, errlen,
		       "file: bs=%u is smaller than the logical block size %u of %s%s; use bs=%u%s",
		       lba, need, path, f->direct ? " (O_DIRECT)" : "", need > 512 ? 4096 : 512,
		       f->direct && !f->blockdev ? " or buffered" : "");
		return -EINVAL;
	}
	if (need > 4096) {
		be_err(err, errlen, "file: %s needs %u-byte alignment; bs is at most 4096", path,
		       need);
		return -EINVAL;
	}
	return 0;
}

static void file_free(struct file_ns *f)
{
	if (f->fd >= 0 && f->fd != f->fd_buffered)
		close(f->fd);
	if (f->fd_buffered >= 0)
		close(f->fd_buffered);
	free(f->zero_buf);
	free(f);
}

int be_file_open(struct backend *be, const struct be_spec *spec, char *err, size_t errlen)
{
	const char *path = spec->path;
	int oflags = (spec->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	unsigned dev_lbs = 0, shift;
	uint64_t size = 0;
	struct file_ns *f;
	struct stat st;
	int ret;

	if (!path || !*path) {
		be_err(err, errlen, "file: no path");
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		be_err(err, errlen, "file: out of memory");
		return -ENOMEM;
	}
	f->fd = -1;
	/* Create only when a size says how big; a typo in a device path must not make a file. */
	f->fd_buffered = open(path, oflags | (spec->size && !spec->readonly ? O_CREAT : 0), 0644);
	if (f->fd_buffered < 0) {
		ret = -errno;
		be_err(err, errlen, "file: open %s: %s", path, strerror(errno));
		goto out_free;
	}
	if (fstat(f->fd_buffered, &st)) {
		ret = -errno;
		be_err(err, errlen, "file: stat %s: %s", path, strerror(errno));
		goto out_free;
	}
	if (S_ISBLK(st.st_mode)) {
		f->blockdev = true;
		ret = file_size_blockdev(f->fd_buffered, spec, path, &size, &dev_lbs, err, errlen);
	} else if (S_ISREG(st.st_mode)) {
		ret = file_size_regular(f->fd_buffered, spec, path, &size, err, errlen);
	} else {
		be_err(err, errlen, "file: %s is not a regular file or block device", path);
		ret = -EINVAL;
	}
	if (ret)
		goto out_free;
	if (!spec->buffered) {
		ret = file_open_direct(f, path, oflags, dev_lbs, err, errlen);
		if (ret)
			goto out_free;
	}
	if (!f->direct)
		f->fd = f->fd_buffered;
	ret = file_pick_lba(f, spec, dev_lbs, path, &shift, err, errlen);
	if (ret)
		goto out_free;
	size &= ~((1ull << shift) - 1);
	if (!size) {
		be_err(err, errlen, "file: %s is smaller than one block", path);
		ret = -EINVAL;
		goto out_free;
	}
	if (posix_memalign(&f->zero_buf, 4096, FILE_ZERO_BUF_LEN)) {
		f->zero_buf = NULL;
		be_err(err, errlen, "file: out of memory");
		ret = -ENOMEM;
		goto out_free;
	}
	memset(f->zero_buf, 0, FILE_ZERO_BUF_LEN);
	atomic_init(&f->zero_mode, FILE_ZERO_RANGE);
	atomic_init(&f->discard_mode, FILE_ZERO_PUNCH);

	memset(be, 0, sizeof(*be));
	be->ops = &file_ops;
	be->priv = f;
	be->geom.size = size;
	be->geom.lba_shift = shift;
	be->geom.volatile_cache = true; /* page cache or device cache: FLUSH matters */
	be->geom.discard = true;
	be->geom.write_zeroes = true;
	be->geom.readonly = spec->readonly;
	return 0;

out_free:
	file_free(f);
	return ret;
}

static int file_flush_sync(struct backend *be)
{
	struct file_ns *f = be->priv;

	return fdatasync(f->fd) ? -errno : 0;
}

static void file_close(struct backend *be)
{
	if (be->priv)
		file_free(be->priv);
	be->priv = NULL;
}

/*
 * A regular file grows with ftruncate, its new range punched first in case the file was
 * longer than the namespace (a shrink, or writes that raced one); a block device can take any
 * size up to its own (what it holds there shows through, as after lvextend).
 */
static int file_resize(struct backend *be, uint64_t bytes, char *err, size_t errlen)
{
	struct file_ns *f = be->priv;
	uint64_t old = be_size(be);
	struct stat st;

	if (bytes & ((1ull << be->geom.lba_shift) - 1)) {
		be_err(err, errlen, "file: size %llu is not a multiple of the lba size %u", (unsigned long long)bytes,
		       1u << be->geom.lba_shift);
		return -EINVAL;
	}
	if (be->geom.readonly) {
		be_err(err, errlen, "file: read-only");
		return -EROFS;
	}
	if (f->blockdev) {
		uint64_t dev = 0;

		if (ioctl(f->fd_buffered, BLKGETSIZE64, &dev) == 0 && bytes > dev) {
			be_err(err, errlen, "file: the block device has %llu bytes", (unsigned long long)dev);
			return -ENOSPC;
		}
	} else if (bytes > old) {
		if (fstat(f->fd_buffered, &st)) {
			be_err(err, errlen, "file: stat: %s", strerror(errno));
			return -errno;
		}
		/* stale data beyond the namespace (a shrink, or writes that raced one) must not show */
		if ((uint64_t)st.st_size > old &&
		    fallocate(f->fd_buffered, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)old,
			      (off_t)((uint64_t)st.st_size - old)) &&
		    ftruncate(f->fd_buffered, (off_t)old)) {
			be_err(err, errlen, "file: clear beyond %llu: %s", (unsigned long long)old, strerror(errno));
			return -errno;
		}
		if (fstat(f->fd_buffered, &st) == 0 && (uint64_t)st.st_size < bytes &&
		    ftruncate(f->fd_buffered, (off_t)bytes)) {
			be_err(err, errlen, "file: extend to %llu: %s", (unsigned long long)bytes, strerror(errno));
			return -errno;
		}
	}
	__atomic_store_n(&be->geom.size, bytes, __ATOMIC_RELAXED);
	return 0;
}

static void file_release(struct backend *be)
{
	struct file_ns *f = be->priv;

	if (!f->blockdev && ftruncate(f->fd_buffered, (off_t)be_size(be)))
		return; /* the next grow punches what is left */
}

static const struct backend_ops file_ops = {
	.name = "file",
	.submit = file_submit,
	.flush_sync = file_flush_sync,
	.close = file_close,
	.resize = file_resize,
	.release = file_release,
};

bool be_file_is_direct(const struct backend *be)
{
	const struct file_ns *f = be->priv;

	return be->ops == &file_ops && f && f->direct;
}

void be_file_force_zero_writes(struct backend *be)
{
	struct file_ns *f = be->priv;

	atomic_store(&f->zero_mode, FILE_ZERO_WRITE);
	atomic_store(&f->discard_mode, FILE_ZERO_RANGE);
}
