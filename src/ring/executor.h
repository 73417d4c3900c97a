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
	struct exec_completion *local_head, *local_tail; /* deferred by the owner itself */
	_Atomic(struct exec_completion *) remote;
	int efd;
	uint64_t efd_val;
	struct ring_op efd_op;
	unsigned foreign_waits; /* operations this thread handed to another library's threads */
};

/* Bind to a ring owned by the calling thread's loop; 0 or negative errno. */
int executor_init(struct executor *ex, struct io_uring *ring);
void executor_fini(struct executor *ex);
/* Owner thread: arm the eventfd read on the ring (once, after the ring is enabled). */
void executor_arm(struct executor *ex);
/* Any thread: queue c to run on the executor's thread. */
void executor_post(struct executor *ex, struct exec_completion *c);
/* Owner thread: run c from the event loop, after the callback running now has returned (a
 * completion must never run inside the call that started the operation). No syscall. */
void executor_defer(struct executor *ex, struct exec_completion *c);
/* Owner thread: run every deferred and posted completion in order; returns how many ran. */
unsigned executor_drain(struct executor *ex);
/* Owner thread: something is deferred: the loop must not sleep. */
static inline bool executor_has_deferred(const struct executor *ex)
{
	return ex->local_head != NULL;
}

/*
 * Owner thread: an operation now waits on another library's threads (librbd, librados), or
 * no longer does. While any does, the loop sleeps instead of spinning: those threads need
 * this machine's CPU to finish it, and the eventfd wakes the loop when they have.
 */
static inline void executor_foreign_begin(struct executor *ex)
{
	ex->foreign_waits++;
}

static inline void executor_foreign_end(struct executor *ex)
{
	ex->foreign_waits--;
}

static inline struct io_uring_sqe *executor_get_sqe(struct executor *ex)
{
	return ring_get_sqe(ex->ring);
}

#endif
