/* SPDX-License-Identifier: MIT */
/* State shared by the file backend's open path (file.c) and its I/O path (file_io.c). */
#ifndef NVRING_BACKEND_FILE_PRIV_H
#define NVRING_BACKEND_FILE_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "be_priv.h"

/*
 * How a range is zeroed. Each starts at the best method and degrades (sticky, shared by
 * all workers, relaxed atomics: a race costs one extra failed attempt) when the kernel
 * answers -EOPNOTSUPP: ZERO_RANGE → PUNCH (regular files) → WRITE (zero buffer).
 */
enum file_zero_mode {
	FILE_ZERO_RANGE, /* fallocate ZERO_RANGE|KEEP_SIZE (block device: zeroout with fallback) */
	FILE_ZERO_PUNCH, /* fallocate PUNCH_HOLE|KEEP_SIZE (block device: unmapping zeroout) */
	FILE_ZERO_WRITE, /* write from the shared zero buffer, in chunks */
};

struct file_ns {
	int fd;          /* O_DIRECT when `direct`, else the same as fd_buffered */
	int fd_buffered; /* no O_DIRECT: remainders that miss the O_DIRECT alignment */
	bool direct;
	bool blockdev;
	unsigned dio_offset_align; /* offset/len alignment O_DIRECT needs */
	unsigned dio_mem_align;    /* buffer address alignment O_DIRECT needs */
	_Atomic int zero_mode;     /* enum file_zero_mode for WRITE_ZEROES */
	_Atomic int discard_mode;  /* FILE_ZERO_PUNCH, or FILE_ZERO_RANGE = use the zero path */
	void *zero_buf;            /* FILE_ZERO_BUF_LEN zeroes, 4096-aligned */
};

#define FILE_ZERO_BUF_LEN (1u << 20)

int file_submit(struct backend *be, struct executor *ex, struct be_io *io);

/* Tests only: make WRITE_ZEROES/DISCARD use the zero-buffer write path. */
void be_file_force_zero_writes(struct backend *be);

#endif
