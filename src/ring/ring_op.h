/* SPDX-License-Identifier: MIT */
/*
 * Every asynchronous operation on a worker's io_uring carries a pointer to a struct ring_op
 * as its user_data; the worker calls op->complete with the CQE. One indirect call per CQE
 * routes sockets, timers, messages and backend I/O alike.
 */
#ifndef NVRING_TARGET_RING_OP_H
#define NVRING_TARGET_RING_OP_H

#include <stddef.h>

#include <liburing.h>

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

struct ring_op;
typedef void (*ring_op_fn)(struct ring_op *op, const struct io_uring_cqe *cqe);

struct ring_op {
	ring_op_fn complete;
};

static inline void ring_op_attach(struct io_uring_sqe *sqe, struct ring_op *op)
{
	io_uring_sqe_set_data(sqe, op);
}

/* An SQE from the ring; when the SQ is full, submit what is queued to make room. */
static inline struct io_uring_sqe *ring_get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	while (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

#endif
