/* SPDX-License-Identifier: MIT */
/*
 * RAM namespace: one anonymous MAP_NORESERVE mapping, so untouched LBAs cost no memory and
 * read as zeroes. Every operation is a memcpy/memset done inline; nothing goes on the ring.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "be_priv.h"

#define MEM_DEFAULT_SIZE (1ull << 30)

struct mem_ns {
	uint8_t *base;
	size_t map_len;
	size_t page;
};

static const struct backend_ops mem_ops;

/* Zero [off, off+len): whole pages go back to the kernel (they read as zeroes again). */
static void mem_zero_range(struct mem_ns *m, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	uint64_t pg_start = (off + m->page - 1) & ~(uint64_t)(m->page - 1);
	uint64_t pg_end = end & ~(uint64_t)(m->page - 1);

	if (pg_start >= pg_end) {
		memset(m->base + off, 0, len);
		return;
	}
	memset(m->base + off, 0, pg_start - off);
	/* Private anonymous memory: DONTNEED guarantees zero-fill on the next touch. */
	if (madvise(m->base + pg_start, pg_end - pg_start, MADV_DONTNEED))
		memset(m->base + pg_start, 0, pg_end - pg_start);
	memset(m->base + pg_end, 0, end - pg_end);
}

static int mem_submit(struct backend *be, struct executor *ex, struct be_io *io)
{
	struct mem_ns *m = be->priv;
	int res = be_io_validate(be, io);

		io->be = be;
	io->ex = ex;
	io->xfer = 0;
	if (res) {
		io->done(io, res);
		return 0;
	}
	switch (io->op) {
	case BE_READ:
		memcpy(io->buf, m->base + io->offset, io->len);
		break;
	case BE_WRITE:
		memcpy(m->base + io->offset, io->buf, io->len);
		break;
	case BE_WRITE_ZEROES:
	case BE_DISCARD:
		mem_zero_range(m, io->offset, io->len);
		break;
	case BE_FLUSH:
		break;
	}
	io->xfer = io->len;
	io->done(io, res);
	return 0;
}

static int mem_flush_sync(struct backend *be)
{
	(void)be;
	return 0;
}

static void mem_close(struct backend *be)
{
	struct mem_ns *m = be->priv;

	if (!m)
		return;
	munmap(m->base, m->map_len);
	free(m);
	be->priv = NULL;
}

static const struct backend_ops mem_ops = {
	.name = "mem",
	.submit = mem_submit,
	.flush_sync = mem_flush_sync,
	.close = mem_close,
};

int be_mem_open(struct backend *be, const struct be_spec *spec, char *err, size_t errlen)
{
	unsigned shift;
	uint64_t size = spec->size ? spec->size : MEM_DEFAULT_SIZE;
	struct mem_ns *m;

	if (be_lba_shift(spec->lba_size ? spec->lba_size : 512, &shift)) {
		be_err(err, errlen, "mem: lba size %u not supported (512 or 4096)", spec->lba_size);
		return -EINVAL;
	}
	if (size & ((1ull << shift) - 1)) {
		be_err(err, errlen, "mem: size %llu is not a multiple of the lba size %u",
		       (unsigned long long)size, 1u << shift);
		return -EINVAL;
	}
	if (size > SIZE_MAX / 2) {
		be_err(err, errlen, "mem: size %llu too large", (unsigned long long)size);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		be_err(err, errlen, "mem: out of memory");
		return -ENOMEM;
	}
	m->page = (size_t)sysconf(_SC_PAGESIZE);
	m->map_len = (size + m->page - 1) & ~(m->page - 1);
	m->base = mmap(NULL, m->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->base == MAP_FAILED) {
		int e = errno;

		free(m);
		be_err(err, errlen, "mem: mmap %llu bytes: %s", (unsigned long long)size,
		       strerror(e));
		return -e;
	}
	memset(be, 0, sizeof(*be));
	be->ops = &mem_ops;
	be->priv = m;
	be->geom.size = size;
	be->geom.lba_shift = shift;
	be->geom.volatile_cache = false; /* nothing to flush: RAM is the medium */
	be->geom.discard = true;
	be->geom.write_zeroes = true;
	be->geom.readonly = spec->readonly;
	return 0;
}

void *be_mem_ptr(struct backend *be, uint64_t offset)
{
	struct mem_ns *m = be->priv;

	if (be->ops != &mem_ops || !m || offset >= be->geom.size)
		return NULL;
	return m->base + offset;
}
