/* SPDX-License-Identifier: MIT */
/*
 * The executor a backend runs on: one worker thread's io_uring, plus a way for threads that
 * are not ours (librbd's, librados') to hand completions back to that worker. Everything a
 * backend starts completes on the thread that owns the executor.
 *
 * Foreign completions go on a lock-free stack; the first push onto an empty stack writes the
 * executor's eventfd, whose read is always armed on the ring, so a sleeping worker wakes. The
 * worker also drains the stack before it sleeps, so no completion waits for a wakeup that the
 * push skipped.
 */
#ifndef NVRING_RING_EXECUTOR_H
#define NVRING_RING_EXECUTOR_H

#include <stdatomic.h>
#include <stdint.h>

#include "ring_op.h"

/* A completion handed over from another thread; embedded in the operation it completes. */
struct exec_completion {
	struct exec_completion *next;
	void (*fn)(struct exec_completion *c); /* runs on the executor's thread */
};

struct executor {
	struct io_uring *ring;
	_Atomic(struct exec_completion *) remote;
	int efd;
	uint64_t efd_val;
	struct ring_op efd_op;
};

/* Bind to a ring owned by the calling thread's loop; 0 or negative errno. */
int executor_init(struct executor *ex, struct io_uring *ring);
void executor_fini(struct executor *ex);
/* Owner thread: arm the eventfd read on the ring (once, after the ring is enabled). */
void executor_arm(struct executor *ex);
/* Any thread: queue c to run on the executor's thread. */
void executor_post(struct executor *ex, struct exec_completion *c);
/* Owner thread: run every posted completion in the order posted; returns how many ran. */
unsigned executor_drain(struct executor *ex);

static inline struct io_uring_sqe *executor_get_sqe(struct executor *ex)
{
	return ring_get_sqe(ex->ring);
}

#endif
