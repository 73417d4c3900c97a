/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

unsigned long bt_cqes;

static void bt_done(struct be_io *io, int res)
{
	struct bt_io *b = (struct bt_io *)((char *)io - offsetof(struct bt_io, io));

	b->res = res;
	b->ndone++;
	if (b->submitting)
		b->inline_done = true;
}

void bt_prep(struct bt_io *b, enum be_op op, unsigned flags, uint64_t off, uint64_t len,
	     void *buf)
{
	memset(b, 0, sizeof(*b));
	b->io.op = op;
	b->io.flags = flags;
	b->io.offset = off;
	b->io.len = len;
	b->io.buf = buf;
	b->io.buf_index = -1;
	b->io.done = bt_done;
	b->res = 1; /* never a backend result */
}

void bt_start(struct backend *be, struct io_uring *ring, struct bt_io *b)
{
	/* mem and file use only the executor's ring; nothing here completes from another thread */
	static struct executor ex = { .efd = -1 };

	ex.ring = ring;
	b->submitting = true;
	be_submit(be, &ex, &b->io);
	b->submitting = false;
}

/* Run the ring like a worker: submit, wait, route each CQE to its ring_op. */
static int bt_loop(struct io_uring *ring, struct bt_io *b, int n)
{
	for (;;) {
		struct io_uring_cqe *cqe;
		int pending = 0, ret;

		for (int i = 0; i < n; i++)
			pending += b[i].ndone == 0;
		if (!pending && !io_uring_sq_ready(ring))
			return 0;
		if (pending) {
			/* a lost completion fails the test instead of hanging it */
			struct __kernel_timespec ts = { .tv_sec = 20 };

			ret = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL);
		} else {
			ret = io_uring_submit(ring);
		}
		if (ret < 0 && ret != -EINTR)
			return ret;
		while (io_uring_peek_cqe(ring, &cqe) == 0) {
			struct io_uring_cqe copy = *cqe;
			struct ring_op *rop = io_uring_cqe_get_data(cqe);

			io_uring_cqe_seen(ring, cqe);
			bt_cqes++;
			rop->complete(rop, &copy);
		}
	}
}

int bt_run(struct backend *be, struct io_uring *ring, struct bt_io *b)
{
	bt_start(be, ring, b);
	if (bt_loop(ring, b, 1))
		return -EPROTO;
	return b->ndone == 1 ? b->res : -EPROTO;
}

int bt_run_many(struct backend *be, struct io_uring *ring, struct bt_io *b, int n)
{
	for (int i = 0; i < n; i++)
		bt_start(be, ring, &b[i]);
	if (bt_loop(ring, b, n))
		return -EPROTO;
	for (int i = 0; i < n; i++)
		if (b[i].ndone != 1 || b[i].res != 0)
			return -EPROTO;
	return 0;
}

int bt_finish(struct io_uring *ring, struct bt_io *b, int n)
{
	if (bt_loop(ring, b, n))
		return -EPROTO;
	for (int i = 0; i < n; i++)
		if (b[i].ndone != 1)
			return -EPROTO;
	return 0;
}

int bt_do(struct backend *be, struct io_uring *ring, enum be_op op, unsigned flags,
	  uint64_t off, uint64_t len, void *buf)
{
	struct bt_io b;

	bt_prep(&b, op, flags, off, len, buf);
	return bt_run(be, ring, &b);
}

struct io_uring_sqe *bt_last_sqe(struct io_uring *ring)
{
	if (!io_uring_sq_ready(ring))
		return NULL;
	return &ring->sq.sqes[(ring->sq.sqe_tail - 1) & ring->sq.ring_mask];
}

/* Position-dependent bytes, so a misplaced block is caught, not just a wrong value. */
static uint8_t bt_byte(uint64_t i, uint64_t seed)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed * 0xBF58476D1CE4E5B9ull;

	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 8));
}

void bt_fill(void *buf, uint64_t len, uint64_t seed)
{
	uint8_t *p = buf;

	for (uint64_t i = 0; i < len; i++)
		p[i] = bt_byte(i, seed);
}

bool bt_check(const void *buf, uint64_t len, uint64_t seed)
{
	const uint8_t *p = buf;

	for (uint64_t i = 0; i < len; i++)
		if (p[i] != bt_byte(i, seed))
			return false;
	return true;
}

bool bt_is_zero(const void *buf, uint64_t len)
{
	const uint8_t *p = buf;

	for (uint64_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

void *bt_alloc(uint64_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len ? len : 1))
		return NULL;
	memset(p, 0, len);
	return p;
}
