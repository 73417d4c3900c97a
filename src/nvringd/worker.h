/* SPDX-License-Identifier: MIT */
/*
 * A worker thread owns one io_uring and everything placed on it: listeners, queue pairs
 * (connections) and the backend I/O of their commands. Nothing in a worker blocks.
 */
#ifndef NVRING_NVRINGD_WORKER_H
#define NVRING_NVRINGD_WORKER_H

#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/budget.h"
#include "ring/executor.h"
#include "ring/ring_op.h"

struct target;
struct worker;

/* A message posted from another thread; runs on the receiving worker. */
struct worker_msg {
	struct worker_msg *next;
	void (*fn)(struct worker *w, struct worker_msg *msg);
};

struct worker {
	int id;
	struct io_uring ring; /* ring.flags has SQE128|CQE32 when a passthrough namespace exists */
	struct executor ex;   /* what backends submit to: this ring + foreign completions */
	struct target *tgt;
	pthread_t thread;

	/* cross-thread inbox: mutex-protected list + eventfd read posted on the ring */
	pthread_mutex_t inbox_lock;
	struct worker_msg *inbox;
	int inbox_efd;
	uint64_t inbox_val;
	struct ring_op inbox_op;

	/* periodic tick for keep-alive and shutdown progress */
	struct __kernel_timespec tick_ts;
	struct ring_op tick_op;
	/* CLOCK_MONOTONIC, read once per loop iteration when the ring returns: when capsules of
	 * this pass arrived (one clock read per pass, not one per command) */
	uint64_t now_ns;
	uint64_t now_ms;

	struct tcp_queue *conns;      /* queue pairs living on this worker */
	struct tcp_queue *tx_pending; /* queues with PDUs queued since the last flush */
	struct tcp_queue *reap;       /* closed queues, freed once nothing refers to them */
	unsigned nr_listeners;  /* accept operations still armed */
	bool stopping;
	struct bufpool *bufs;   /* data buffers for requests on this worker */
	struct buf_budget budget; /* this worker's share of --max-inflight-bytes */
	unsigned freed_since_trim; /* queues freed since memory was last given back */
};

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

/* Get an SQE on the worker's ring; submits queued SQEs to make room if needed. Never NULL. */
struct io_uring_sqe *worker_get_sqe(struct worker *w);
/* Post a message to a worker from any thread. */
void worker_post(struct worker *w, struct worker_msg *msg);
uint64_t worker_now_ms(void);

int worker_init(struct worker *w, struct target *tgt, int id, bool big_sqe);
/* On the thread that will run the ring: enable it (rings start disabled so that the thread
 * that runs them owns them), arm the inbox and the executor. */
int worker_ring_start(struct worker *w);
/* One pass of the loop once the kernel has returned: every completion, the namespaces'
 * event-loop hooks, and the frees of closed queues. Returns the completions run. The clock
 * (now_ms) is the caller's to refresh; the in-process test harness drives this too. */
unsigned worker_process(struct worker *w);
int worker_start(struct worker *w);
void worker_join(struct worker *w);
void worker_fini(struct worker *w);

#endif
