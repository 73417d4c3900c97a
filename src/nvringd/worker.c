/* SPDX-License-Identifier: MIT */
/*
 * The worker event loop: one io_uring carries every socket, timer, message and backend
 * operation of the queue pairs placed on this thread. SQEs are queued during CQE processing
 * and submitted together by one io_uring_submit_and_wait per iteration.
 */
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "target.h"
#include "tcp/tcp.h"

#define WORKER_RING_ENTRIES 1024
#define WORKER_TICK_MS 200
#define WORKER_SPIN_NS 50000 /* default mode: poll this long after the last completion */

static uint64_t worker_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t worker_now_ms(void)
{
	return worker_now_ns() / 1000000;
}

struct io_uring_sqe *worker_get_sqe(struct worker *w)
{
	return ring_get_sqe(&w->ring);
}

static void worker_arm_inbox(struct worker *w)
{
	struct io_uring_sqe *sqe = worker_get_sqe(w);

	io_uring_prep_read(sqe, w->inbox_efd, &w->inbox_val, sizeof(w->inbox_val), 0);
	ring_op_attach(sqe, &w->inbox_op);
}

static void worker_arm_tick(struct worker *w)
{
	struct io_uring_sqe *sqe = worker_get_sqe(w);

	io_uring_prep_timeout(sqe, &w->tick_ts, 0, 0);
	ring_op_attach(sqe, &w->tick_op);
}

static void worker_inbox_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct worker *w = container_of(op, struct worker, inbox_op);
	struct worker_msg *msgs, *next, *rev = NULL;

	(void)cqe;
	pthread_mutex_lock(&w->inbox_lock);
	msgs = w->inbox;
	w->inbox = NULL;
	pthread_mutex_unlock(&w->inbox_lock);
	/* the list is LIFO; run messages in the order they were posted */
	for (; msgs; msgs = next) {
		next = msgs->next;
		msgs->next = rev;
		rev = msgs;
	}
	for (; rev; rev = next) {
		next = rev->next;
		rev->fn(w, rev);
	}
	worker_arm_inbox(w);
}

/* Stopped: no connection or listener left, and no namespace I/O that might be on this ring. */
static bool worker_done(struct worker *w)
{
	if (!w->stopping || w->conns || w->nr_listeners)
		return false;
	for (unsigned i = 0; i < w->tgt->nr_pollers; i++)
		if (!w->tgt->pollers[i]->ops->idle(w->tgt->pollers[i]))
			return false;
	return true;
}

static void worker_tick_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct worker *w = container_of(op, struct worker, tick_op);

	(void)cqe;
	tcp_tick(w);
	if (!worker_done(w))
		worker_arm_tick(w);
}

void worker_post(struct worker *w, struct worker_msg *msg)
{
	uint64_t one = 1;

	pthread_mutex_lock(&w->inbox_lock);
	msg->next = w->inbox;
	w->inbox = msg;
	pthread_mutex_unlock(&w->inbox_lock);
	if (write(w->inbox_efd, &one, sizeof(one)) < 0)
		log_err("worker %d: eventfd write: %s", w->id, strerror(errno));
}

/*
 * Ring setup, best first: SINGLE_ISSUER|DEFER_TASKRUN (6.1+) runs socket completions only when
 * the worker asks for events, so a peer's send never interrupts (IPIs) a busy worker; COOP_TASKRUN
 * (5.19+) at least avoids the interrupt; plain rings elsewhere. DEFER_TASKRUN binds the ring to
 * the thread that enables it, so it is created disabled and enabled by the worker thread.
 */
static int worker_ring_init(struct worker *w, bool big_sqe)
{
	static const unsigned tiers[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
			IORING_SETUP_R_DISABLED,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
		0,
	};
	int ret = -EINVAL;

	for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | tiers[i];
		p.cq_entries = WORKER_RING_ENTRIES * 4;
		if (big_sqe)
			p.flags |= IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
		ret = io_uring_queue_init_params(WORKER_RING_ENTRIES, &w->ring, &p);
		if (ret != -EINVAL)
			break;
	}
	if (ret < 0)
		return ret;
	return 0;
}

int worker_init(struct worker *w, struct target *tgt, int id, bool big_sqe)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->tgt = tgt;
	ret = worker_ring_init(w, big_sqe);
	if (ret < 0)
		return ret;
	w->inbox_efd = eventfd(0, EFD_CLOEXEC);
	if (w->inbox_efd < 0) {
		ret = -errno;
		io_uring_queue_exit(&w->ring);
		return ret;
	}
	ret = executor_init(&w->ex, &w->ring);
	if (ret < 0) {
		close(w->inbox_efd);
		io_uring_queue_exit(&w->ring);
		return ret;
	}
	pthread_mutex_init(&w->inbox_lock, NULL);
	w->inbox_op.complete = worker_inbox_done;
	w->tick_op.complete = worker_tick_done;
	w->tick_ts.tv_sec = 0;
	w->tick_ts.tv_nsec = WORKER_TICK_MS * 1000000LL;
	w->now_ms = worker_now_ms();
	/* the global data-buffer budget, split evenly: no worker waits for another's buffers */
	w->budget.limit = tgt->limits.max_inflight / (tgt->nr_workers ? tgt->nr_workers : 1);
	return 0;
}

/* Run every completion waiting; returns how many. */
static unsigned worker_reap_cqes(struct worker *w)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&w->ring, head, cqe) {
		struct ring_op *op = io_uring_cqe_get_data(cqe);

		n++;
		if (op)
			op->complete(op, cqe);
	}
	io_uring_cq_advance(&w->ring, n);
	return n;
}

unsigned worker_process(struct worker *w)
{
	unsigned n = worker_reap_cqes(w);

	n += executor_drain(&w->ex);
	/* garbage collection starts from whichever worker sees it due; not while stopping */
	for (unsigned i = 0; !w->stopping && i < w->tgt->nr_pollers; i++)
		w->tgt->pollers[i]->ops->poll(w->tgt->pollers[i], &w->ex);
	tcp_reap(w);
	return n;
}

static bool worker_events_waiting(struct worker *w)
{
	return io_uring_cq_ready(&w->ring) || (IO_URING_READ_ONCE(*w->ring.sq.kflags) & IORING_SQ_TASKRUN);
}

/*
 * Wait for completions, submitting what is queued. --poll never sleeps. The default mode spins
 * for WORKER_SPIN_NS after the last completion before it sleeps: under load the next capsule
 * is microseconds away, and a sleep/wake-up pair costs far more than that on a VM; idle, the
 * worker sleeps after one short spin. It does not spin while a command waits on librbd's or
 * librados' threads: on a gateway that shares its cores with them (or with an OSD) the spin
 * would take the CPU that finishes the command; their eventfd wakes the worker. (A worker that
 * also serves RAM or file namespaces then sleeps between their commands too while one waits.)
 */
static int worker_enter(struct worker *w, bool had_work)
{
	uint64_t t0;

	if (executor_drain(&w->ex))
		had_work = true;
	if (executor_has_deferred(&w->ex))
		/* completions deferred by the drain itself: run them before any sleep */
		return io_uring_sq_ready(&w->ring) ? io_uring_submit(&w->ring) : 0;
	if (w->tgt->poll) {
		/* busy polling must still enter the kernel when deferred task work (socket data) waits */
		if (io_uring_sq_ready(&w->ring) || worker_events_waiting(w))
			return io_uring_submit_and_get_events(&w->ring);
		return 0;
	}
	if (!had_work || w->ex.foreign_waits ||
	    !(w->ring.flags & (IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN)))
		return io_uring_submit_and_wait(&w->ring, 1);
	if (io_uring_sq_ready(&w->ring)) {
		int ret = io_uring_submit(&w->ring);

		if (ret < 0)
			return ret;
	}
	t0 = worker_now_ns();
	do {
		for (int i = 0; i < 64; i++)
			if (worker_events_waiting(w))
				return io_uring_submit_and_get_events(&w->ring);
	} while (worker_now_ns() - t0 < WORKER_SPIN_NS);
	return io_uring_submit_and_wait(&w->ring, 1);
}

int worker_ring_start(struct worker *w)
{
	if (w->ring.flags & IORING_SETUP_R_DISABLED) {
		/* liburing 2.3 declares io_uring_enable_rings but does not export it */
		if (syscall(__NR_io_uring_register, w->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0) {
			log_err("worker %d: enabling the ring: %s", w->id, strerror(errno));
			return -errno;
		}
	}
	/* one fewer fd lookup per io_uring_enter; optional */
	io_uring_register_ring_fd(&w->ring);
	worker_arm_inbox(w);
	executor_arm(&w->ex);
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	bool had_work = false;

	if (worker_ring_start(w) < 0)
		return NULL;
	worker_arm_tick(w);
	listener_start(w);
	while (!worker_done(w)) {
		int ret;

		tcp_flush_sends(w);
		ret = worker_enter(w, had_work);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY && ret != -ETIME) {
			log_err("worker %d: io_uring_submit: %s", w->id, strerror(-ret));
			break;
		}
		w->now_ns = worker_now_ns();
		w->now_ms = w->now_ns / 1000000;
		had_work = worker_process(w) != 0;
	}
	log_debug("worker %d: stopped", w->id);
	return NULL;
}

int worker_start(struct worker *w)
{
	return -pthread_create(&w->thread, NULL, worker_main, w);
}

void worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

void worker_fini(struct worker *w)
{
	struct worker_msg *m, *next;

	/* Messages posted after this worker's loop ended (a controller torn down by another
	 * worker closing its queues): every handler copes with a stopped worker; run them so
	 * what they own is released. */
	for (m = w->inbox, w->inbox = NULL; m; m = next) {
		next = m->next;
		m->fn(w, m);
	}
	executor_fini(&w->ex);
	io_uring_queue_exit(&w->ring);
	close(w->inbox_efd);
	pthread_mutex_destroy(&w->inbox_lock);
}
