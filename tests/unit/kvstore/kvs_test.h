/* SPDX-License-Identifier: MIT */
/* Shared bits of the kvstore tests: an io_uring event loop, synchronous wrappers (TAP from tap.h). */
#ifndef NVRING_TESTS_KVS_TEST_H
#define NVRING_TESTS_KVS_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvstore/kvstore.h"
#include "tap.h"

/* A test thread's loop: its ring and the executor the engine is given. */
struct t_ring {
	struct io_uring ring;
	struct executor ex;
};

static inline void t_ring_init(struct t_ring *t, unsigned entries)
{
	if (io_uring_queue_init(entries, &t->ring, 0) || executor_init(&t->ex, &t->ring)) {
		fprintf(stderr, "io_uring/executor setup failed\n");
		exit(2);
	}
	executor_arm(&t->ex);
}

static inline void t_ring_exit(struct t_ring *t)
{
	io_uring_queue_exit(&t->ring);
	executor_fini(&t->ex);
}

/* Run every completion now available (posted ones, then CQEs); with wait, block (bounded)
 * for at least one CQE unless a posted completion ran. */
static inline int t_reap(struct executor *ex, int wait)
{
	struct io_uring *ring = ex->ring;
	struct io_uring_cqe *cqe;
	int n = (int)executor_drain(ex);

	io_uring_submit(ring);
	if (wait && !n) {
		struct __kernel_timespec ts = { .tv_sec = 10 };
		int r = io_uring_wait_cqe_timeout(ring, &cqe, &ts);

		if (r < 0)
			return r;
	}
	while (io_uring_peek_cqe(ring, &cqe) == 0) {
		struct io_uring_cqe c = *cqe;
		struct ring_op *op = io_uring_cqe_get_data(cqe);

		io_uring_cqe_seen(ring, cqe);
		op->complete(op, &c);
		n++;
	}
	return n;
}

struct t_io {
	struct kvs_io io;
	int done;
};

static inline void t_io_done(struct kvs_io *io)
{
	((struct t_io *)io->ctx)->done++;
}

static inline void t_io_prep(struct t_io *t, enum kvs_op op, const void *key, unsigned klen, void *buf,
		      uint32_t len, uint8_t options)
{
	memset(t, 0, sizeof(*t));
	t->io.op = op;
	t->io.key_len = (uint8_t)klen;
	if (key && klen)
		memcpy(t->io.key, key, klen > KVS_KEY_MAX ? KVS_KEY_MAX : klen);
	t->io.buf = buf;
	t->io.len = len;
	t->io.options = options;
	t->io.done = t_io_done;
	t->io.ctx = t;
}

/* Pump the loop until *flag >= target; -ETIME if nothing moves for 10 s. */
static inline int t_wait_flag(struct kvs *kv, struct executor *ex, int *flag, int target)
{
	while (*(volatile int *)flag < target) {
		int r;

		kvs_poll(kv, ex);
		r = t_reap(ex, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Pump until the engine has nothing in flight (GC finished, batches done). */
static inline int t_drain(struct kvs *kv, struct executor *ex)
{
	for (int idle_rounds = 0; idle_rounds < 2;) {
		kvs_poll(kv, ex);
		if (kvs_idle(kv)) {
			t_reap(ex, 0);
			idle_rounds++;
			continue;
		}
		idle_rounds = 0;
		if (t_reap(ex, 1) < 0)
			return -ETIME;
	}
	return 0;
}

/* One operation, start to finish; returns its status. */
static inline uint16_t t_run(struct kvs *kv, struct executor *ex, struct t_io *t)
{
	kvs_submit(kv, ex, &t->io);
	if (t_wait_flag(kv, ex, &t->done, 1))
		return 0xffff;
	return t->io.done ? t->io.status : 0xffff;
}

static inline uint16_t t_store(struct kvs *kv, struct executor *ex, const void *key, unsigned klen,
			const void *val, uint32_t vlen, uint8_t opt)
{
	struct t_io t;

	t_io_prep(&t, KVS_OP_STORE, key, klen, (void *)val, vlen, opt);
	return t_run(kv, ex, &t);
}

static inline uint16_t t_retrieve(struct kvs *kv, struct executor *ex, const void *key, unsigned klen,
			   void *buf, uint32_t len, uint32_t *vsize)
{
	struct t_io t;
	uint16_t st;

	t_io_prep(&t, KVS_OP_RETRIEVE, key, klen, buf, len, 0);
	st = t_run(kv, ex, &t);
	if (vsize)
		*vsize = t.io.value_size;
	return st;
}

static inline uint16_t t_simple(struct kvs *kv, struct executor *ex, enum kvs_op op, const void *key,
			 unsigned klen)
{
	struct t_io t;

	t_io_prep(&t, op, key, klen, NULL, 0, 0);
	return t_run(kv, ex, &t);
}

/* Deterministic value bytes for (key number, version). */
static inline void t_fill(uint8_t *buf, size_t len, uint32_t keyno, uint32_t ver)
{
	uint32_t x = keyno * 2654435761u ^ (ver + 1) * 40503u;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

static inline char *t_tmpfile(void)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	size_t len = strlen(dir) + 32;
	char *path = malloc(len);
	int fd;

	if (!path)
		exit(2);
	snprintf(path, len, "%s/kvs-test-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	close(fd);
	return path;
}

#define ST(sc) KVS_STATUS(sc)

#endif
