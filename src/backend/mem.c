/* SPDX-License-Identifier: MIT */
/*
 * RAM namespace: one anonymous MAP_NORESERVE mapping, so untouched LBAs cost no memory and
 * read as zeroes. Every operation is a memcpy/memset done inline; nothing goes on the ring.
 * The mapping is a reservation larger than the namespace (PROT_NONE beyond it, so it is not
 * counted as committed memory): growing opens more of it in place and never moves the data
 * that zero-copy sends point into.
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
	size_t map_len; /* reserved */
	size_t rw_len;  /* accessible: the size rounded up to pages, at least */
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

static size_t mem_round(const struct mem_ns *m, uint64_t v)
{
	return (size_t)((v + m->page - 1) & ~(uint64_t)(m->page - 1));
}

static int mem_resize(struct backend *be, uint64_t bytes, char *err, size_t errlen)
{
	struct mem_ns *m = be->priv;
	size_t want;

	if (bytes & ((1ull << be->geom.lba_shift) - 1)) {
		be_err(err, errlen, "mem: size %llu is not a multiple of the lba size %u", (unsigned long long)bytes,
		       1u << be->geom.lba_shift);
		return -EINVAL;
	}
	if (bytes > m->map_len) {
		be_err(err, errlen, "mem: can grow to at most %llu bytes (the address space reserved at open)",
		       (unsigned long long)m->map_len);
		return -ENOSPC;
	}
	want = mem_round(m, bytes);
	if (want > m->rw_len) {
		/* never touched, or given back by release: reads as zeroes */
		if (mprotect(m->base + m->rw_len, want - m->rw_len, PROT_READ | PROT_WRITE)) {
			int e = errno;

			be_err(err, errlen, "mem: grow to %llu bytes: %s", (unsigned long long)bytes, strerror(e));
			return -e;
		}
		m->rw_len = want;
	}
	__atomic_store_n(&be->geom.size, bytes, __ATOMIC_RELAXED);
	return 0;
}

/* After a shrink: what lies beyond the size reads as zeroes if it grows back, and costs no memory. */
static void mem_release(struct backend *be)
{
	struct mem_ns *m = be->priv;
	uint64_t size = be_size(be);
	size_t up = mem_round(m, size);

	if (up > m->rw_len)
		return;
	memset(m->base + size, 0, up - size);
	if (m->rw_len > up)
		mem_zero_range(m, up, m->rw_len - up);
}

static const struct backend_ops mem_ops = {
	.name = "mem",
	.submit = mem_submit,
	.flush_sync = mem_flush_sync,
	.close = mem_close,
	.resize = mem_resize,
	.release = mem_release,
};

/* Address space to reserve for a namespace of `size` bytes (page rounded). */
static size_t mem_reserve_len(const struct mem_ns *m, uint64_t size)
{
	uint64_t r = size <= UINT64_MAX / 4 ? size * 4 : size;

	if (r < BE_MEM_RESERVE_MIN)
		r = BE_MEM_RESERVE_MIN;
	if (r > SIZE_MAX / 2)
		r = size;
	return mem_round(m, r);
}

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
	m->rw_len = mem_round(m, size);
	m->map_len = mem_reserve_len(m, size);
	m->base = mmap(NULL, m->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->base == MAP_FAILED && m->map_len > m->rw_len) {
		m->map_len = m->rw_len; /* no room for a reservation (RLIMIT_AS): it cannot grow */
		m->base = mmap(NULL, m->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (m->base == MAP_FAILED || mprotect(m->base, m->rw_len, PROT_READ | PROT_WRITE)) {
		int e = errno;

		if (m->base != MAP_FAILED)
			munmap(m->base, m->map_len);
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

	if (be->ops != &mem_ops || !m || offset >= be_size(be))
		return NULL;
	return m->base + offset;
}
