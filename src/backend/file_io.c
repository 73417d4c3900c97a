/* SPDX-License-Identifier: MIT */
/*
 * The file/block-device backend's data path: every operation is one or more SQEs on the
 * submitting worker's ring, continued from its CQE (short transfers, fallbacks, FUA sync).
 *
 * What each operation guarantees:
 * - READ/WRITE: IORING_OP_READ/WRITE (_FIXED with a registered buffer); a short transfer
 *   continues with the rest; a read reaching EOF (the file shrank under us) fills zeroes.
 *   A buffer/offset that misses the O_DIRECT alignment goes through a second, buffered fd
 *   of the same file (the kernel keeps direct and buffered I/O coherent: direct reads
 *   write back dirty pages first, direct writes invalidate them).
 * - FUA: RWF_DSYNC on the write; zeroing by fallocate is followed by a datasync.
 * - FLUSH: IORING_OP_FSYNC with IORING_FSYNC_DATASYNC.
 * - WRITE_ZEROES: fallocate ZERO_RANGE (block devices: the kernel's zeroout, which uses the
 *   device's Write Zeroes or writes zero pages), else PUNCH_HOLE (tmpfs), else writes from
 *   a shared 1 MiB zero buffer.
 * - DISCARD: fallocate PUNCH_HOLE (block devices: zeroout that may unmap, never BLKDISCARD,
 *   which is not on the ring in 6.1 and does not promise zeroes), else the WRITE_ZEROES
 *   path. Either way the range reads back as zeroes: DLFEAT read-zeroes is safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/uio.h>

#include "file_priv.h"

/* io->step: what the SQE in flight is doing */
enum file_step {
	STEP_RW,        /* READ/WRITE data on the buffered fd */
	STEP_RW_DIRECT, /* READ/WRITE data on the O_DIRECT fd */
	STEP_RW_BUFFERED_ONLY, /* O_DIRECT refused this op: the rest goes buffered */
	STEP_FSYNC,     /* FLUSH */
	STEP_FALLOC,    /* fallocate for WRITE_ZEROES/DISCARD; io->result holds the mode */
	STEP_ZERO_WRITE,/* chunked writes of the zero buffer */
	STEP_FUA_SYNC,  /* datasync after a fallocate that had FUA */
};

/* One SQE moves at most this much; the rest follows as a short transfer would. */
#define FILE_MAX_XFER (1u << 30)

#define io_of(rop_ptr) ((struct be_io *)((char *)(rop_ptr) - offsetof(struct be_io, rop)))

static inline struct file_ns *file_of(struct be_io *io)
{
	return io->be->priv;
}

static void file_finish(struct be_io *io, int res)
{
	io->done(io, res < 0 ? res : 0);
}

/* O_DIRECT fd only when this transfer meets its alignment; the buffered fd takes the rest. */
static int file_pick_fd(struct file_ns *f, const void *buf, uint64_t off, uint64_t len)
{
	if (!f->direct)
		return f->fd_buffered;
	if (((uintptr_t)buf & (f->dio_mem_align - 1)) ||
	    ((off | len) & (f->dio_offset_align - 1)))
		return f->fd_buffered;
	return f->fd;
}

static void file_issue_rw(struct be_io *io)
{
	struct file_ns *f = file_of(io);
	struct io_uring_sqe *sqe = executor_get_sqe(io->ex);
	uint64_t left = io->len - io->xfer;
	unsigned n = left > FILE_MAX_XFER ? FILE_MAX_XFER : (unsigned)left;
	uint8_t *buf = (uint8_t *)io->buf + io->xfer;
	uint64_t off = io->offset + io->xfer;
	bool stay_buffered = io->step == STEP_RW_BUFFERED_ONLY;
	int fd = stay_buffered ? f->fd_buffered : file_pick_fd(f, buf, off, n);

	if (io->op == BE_READ) {
		if (io->buf_index >= 0)
			io_uring_prep_read_fixed(sqe, fd, buf, n, off, io->buf_index);
		else
			io_uring_prep_read(sqe, fd, buf, n, off);
	} else {
		if (io->buf_index >= 0)
			io_uring_prep_write_fixed(sqe, fd, buf, n, off, io->buf_index);
		else
			io_uring_prep_write(sqe, fd, buf, n, off);
		if (io->flags & BE_FUA)
			sqe->rw_flags = RWF_DSYNC;
	}
	io->step = stay_buffered ? STEP_RW_BUFFERED_ONLY :
		   fd == f->fd_buffered ? STEP_RW : STEP_RW_DIRECT;
	ring_op_attach(sqe, &io->rop);
}

static void file_issue_fsync(struct be_io *io, enum file_step step)
{
	struct io_uring_sqe *sqe = executor_get_sqe(io->ex);

	io_uring_prep_fsync(sqe, file_of(io)->fd, IORING_FSYNC_DATASYNC);
	io->step = step;
	ring_op_attach(sqe, &io->rop);
}

static void file_issue_zero_write(struct be_io *io)
{
	struct file_ns *f = file_of(io);
	struct io_uring_sqe *sqe = executor_get_sqe(io->ex);
	uint64_t left = io->len - io->xfer;
	unsigned n = left > FILE_ZERO_BUF_LEN ? FILE_ZERO_BUF_LEN : (unsigned)left;
	uint64_t off = io->offset + io->xfer;

	io_uring_prep_write(sqe, file_pick_fd(f, f->zero_buf, off, n), f->zero_buf, n, off);
	if (io->flags & BE_FUA)
		sqe->rw_flags = RWF_DSYNC;
	io->step = STEP_ZERO_WRITE;
	ring_op_attach(sqe, &io->rop);
}

/* Zero the rest of the range with `mode` (fallocate flavours, or zero-buffer writes). */
static void file_issue_zero(struct be_io *io, int mode)
{
	struct io_uring_sqe *sqe;
	int falloc_mode;

	if (mode == FILE_ZERO_WRITE) {
		file_issue_zero_write(io);
		return;
	}
	falloc_mode = FALLOC_FL_KEEP_SIZE |
		      (mode == FILE_ZERO_RANGE ? FALLOC_FL_ZERO_RANGE : FALLOC_FL_PUNCH_HOLE);
	sqe = executor_get_sqe(io->ex);
	io_uring_prep_fallocate(sqe, file_of(io)->fd, falloc_mode, (off_t)io->offset,
				(off_t)io->len);
	io->step = STEP_FALLOC;
	io->result = mode;
	ring_op_attach(sqe, &io->rop);
}

/* The next method after `mode` failed with -EOPNOTSUPP. */
static int file_zero_degrade(const struct file_ns *f, int mode)
{
	if (mode == FILE_ZERO_RANGE && !f->blockdev)
		return FILE_ZERO_PUNCH;
	/* block device PUNCH is a zeroout without fallback: ZERO_RANGE already covers it */
	return FILE_ZERO_WRITE;
}

static void file_start_write_zeroes(struct be_io *io)
{
	file_issue_zero(io, atomic_load_explicit(&file_of(io)->zero_mode,
						  memory_order_relaxed));
}

static void file_falloc_done(struct be_io *io, int res)
{
	struct file_ns *f = file_of(io);
	int mode = io->result;

	if (res == -EOPNOTSUPP) {
		if (io->op == BE_DISCARD && mode == FILE_ZERO_PUNCH &&
		    atomic_load_explicit(&f->discard_mode, memory_order_relaxed) ==
			    FILE_ZERO_PUNCH) {
			/* no deallocation here: DISCARD becomes WRITE_ZEROES (still reads zeroes) */
			atomic_store_explicit(&f->discard_mode, FILE_ZERO_RANGE,
					      memory_order_relaxed);
			file_start_write_zeroes(io);
			return;
		}
		mode = file_zero_degrade(f, mode);
		atomic_store_explicit(&f->zero_mode, mode, memory_order_relaxed);
		file_issue_zero(io, mode);
		return;
	}
	if (res < 0) {
		file_finish(io, res);
		return;
	}
	if (io->flags & BE_FUA) {
		file_issue_fsync(io, STEP_FUA_SYNC);
		return;
	}
	file_finish(io, 0);
}

static void file_rw_done(struct be_io *io, int res)
{
	if (res == -EINVAL && io->step == STEP_RW_DIRECT) {
		/* an alignment rule we did not know about: the buffered fd has none */
		io->step = STEP_RW_BUFFERED_ONLY;
		file_issue_rw(io);
		return;
	}
	if (res < 0) {
		file_finish(io, res);
		return;
	}
	if (res == 0) {
		/*
		 * End of file: only possible when the file shrank under us (open extended it to
		 * the namespace size). Past EOF a file reads as zeroes; a write making no
		 * progress is an error rather than a loop.
		 */
		if (io->op == BE_WRITE) {
			file_finish(io, -EIO);
			return;
		}
		memset((uint8_t *)io->buf + io->xfer, 0, io->len - io->xfer);
		io->xfer = io->len;
	} else {
		io->xfer += (unsigned)res;
	}
	if (io->xfer < io->len) {
		file_issue_rw(io); /* short transfer: continue with the rest */
		return;
	}
	file_finish(io, 0);
}

static void file_complete(struct ring_op *rop, const struct io_uring_cqe *cqe)
{
	struct be_io *io = io_of(rop);
	int res = cqe->res;

	switch (io->step) {
	case STEP_RW:
	case STEP_RW_DIRECT:
	case STEP_RW_BUFFERED_ONLY:
		file_rw_done(io, res);
		break;
	case STEP_FALLOC:
		file_falloc_done(io, res);
		break;
	case STEP_ZERO_WRITE:
		if (res < 0) {
			file_finish(io, res);
		} else if (res == 0) {
			file_finish(io, -EIO);
		} else {
			io->xfer += (unsigned)res;
			if (io->xfer < io->len)
				file_issue_zero_write(io);
			else
				file_finish(io, 0);
		}
		break;
	case STEP_FSYNC:
	case STEP_FUA_SYNC:
	default:
		file_finish(io, res);
		break;
	}
}

int file_submit(struct backend *be, struct executor *ex, struct be_io *io)
{
	struct file_ns *f = be->priv;
	int res;

	io->be = be;
	io->ex = ex;
	io->xfer = 0;
	io->step = STEP_RW;
	io->result = 0;
	io->pending = 0;
	io->rop.complete = file_complete;

	res = be_io_validate(be, io);
	if (res) {
		io->done(io, res);
		return 0;
	}
	if (io->op != BE_FLUSH && io->len == 0) {
		io->done(io, 0);
		return 0;
	}
	switch (io->op) {
	case BE_READ:
	case BE_WRITE:
		file_issue_rw(io);
		break;
	case BE_FLUSH:
		file_issue_fsync(io, STEP_FSYNC);
		break;
	case BE_WRITE_ZEROES:
		file_start_write_zeroes(io);
		break;
	case BE_DISCARD:
		if (atomic_load_explicit(&f->discard_mode, memory_order_relaxed) ==
		    FILE_ZERO_PUNCH)
			file_issue_zero(io, FILE_ZERO_PUNCH);
		else
			file_start_write_zeroes(io);
		break;
	}
	return 0;
}
