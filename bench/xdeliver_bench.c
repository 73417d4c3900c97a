/* SPDX-License-Identifier: MIT */
/*
 * xdeliver_bench: the cost of handing completions to another worker's ring, the two ways the
 * KV engine could: executor_post (lock-free push, one eventfd write per batch) and
 * IORING_OP_MSG_RING (one SQE per completion, submitted with the sender's next batch, no CQE
 * for the sender on success).
 * Thread A delivers a batch of B completions to thread C, which delivers one back when it has
 * run all of them; both sleep in io_uring_enter when idle, like nvringd's workers.
 *
 *   xdeliver_bench [--batch B] [--time S]
 * Prints per mechanism: completions/s and CPU µs per completion (both threads).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ring/executor.h"

#define MAXB 256

enum mech { M_POST, M_MSG };

struct side;

struct item {
	struct exec_completion xc;
	struct ring_op rop;
	struct side *to;
};

struct side {
	struct io_uring ring;
	struct executor ex;
	struct side *peer;
	struct item items[MAXB];
	unsigned got;             /* completions arrived in this round */
	unsigned want;            /* completions that make a round */
	uint64_t rounds;
	bool initiator;
	pthread_t th;
};

static enum mech g_mech;
static unsigned g_batch;
static atomic_bool g_stop;
static struct ring_op g_sent_op;

static void sent_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	(void)op;
	(void)cqe;
}

static void send_to(struct side *from, struct side *to, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct item *it = &from->items[i];

		it->to = to;
		if (g_mech == M_POST) {
			executor_post(&to->ex, &it->xc);
		} else {
			struct io_uring_sqe *sqe = executor_get_sqe(&from->ex);

			io_uring_prep_msg_ring(sqe, to->ring.ring_fd, 0, (uint64_t)(uintptr_t)&it->rop, 0);
			sqe->flags |= IOSQE_CQE_SKIP_SUCCESS; /* as kvstore sends them */
			ring_op_attach(sqe, &g_sent_op);
		}
	}
}

static void arrived(struct item *it)
{
	struct side *s = it->to;

	if (++s->got < s->want)
		return;
	s->got = 0;
	s->rounds++;
	if (!atomic_load_explicit(&g_stop, memory_order_relaxed) || !s->initiator)
		send_to(s, s->peer, s->initiator ? g_batch : 1);
}

static void arrived_post(struct exec_completion *xc)
{
	arrived((struct item *)((char *)xc - offsetof(struct item, xc)));
}

static void arrived_msg(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	(void)cqe;
	arrived((struct item *)((char *)op - offsetof(struct item, rop)));
}

static void *side_main(void *arg)
{
	struct side *s = arg;

	if (s->initiator)
		send_to(s, s->peer, g_batch);
	while (!atomic_load(&g_stop) || !s->initiator) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_nsec = 1000000 };

		if (!s->initiator && atomic_load(&g_stop) && s->got == 0)
			break;
		if (!executor_drain(&s->ex))
			io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, &ts, NULL);
		else
			io_uring_submit(&s->ring);
		while (io_uring_peek_cqe(&s->ring, &cqe) == 0) {
			struct io_uring_cqe c = *cqe;
			struct ring_op *op = io_uring_cqe_get_data(cqe);

			io_uring_cqe_seen(&s->ring, cqe);
			op->complete(op, &c);
		}
	}
	return NULL;
}

static double cpu_us(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 +
	       (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

static void run(enum mech m, unsigned secs)
{
	static struct side a, c;
	struct timespec t0, t1;
	double cpu0, cpu1, el;
	uint64_t n;

	g_mech = m;
	atomic_store(&g_stop, false);
	memset(&a, 0, sizeof(a));
	memset(&c, 0, sizeof(c));
	a.peer = &c;
	c.peer = &a;
	a.initiator = true;
	a.want = 1;
	c.want = g_batch;
	g_sent_op.complete = sent_cqe;
	for (struct side *s = &a; s; s = s == &a ? &c : NULL) {
		if (io_uring_queue_init(2 * MAXB, &s->ring, 0) || executor_init(&s->ex, &s->ring)) {
			fprintf(stderr, "setup failed\n");
			exit(1);
		}
		executor_arm(&s->ex);
		for (unsigned i = 0; i < MAXB; i++) {
			s->items[i].xc.fn = arrived_post;
			s->items[i].rop.complete = arrived_msg;
		}
	}
	cpu0 = cpu_us();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&c.th, NULL, side_main, &c);
	pthread_create(&a.th, NULL, side_main, &a);
	struct timespec d = { .tv_sec = secs };
	nanosleep(&d, NULL);
	atomic_store(&g_stop, true);
	pthread_join(a.th, NULL);
	pthread_join(c.th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cpu1 = cpu_us();
	el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	n = c.rounds * g_batch + a.rounds; /* every completion delivered either way */
	printf("%-16s batch %3u: %9.0f completions/s, %.2f CPU-us per completion\n",
	       m == M_POST ? "executor_post" : "IORING_OP_MSG_RING", g_batch, (double)n / el,
	       (cpu1 - cpu0) / (double)n);
	for (struct side *s = &a; s; s = s == &a ? &c : NULL) {
		io_uring_queue_exit(&s->ring);
		executor_fini(&s->ex);
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "batch", required_argument, 0, 'b' },
					    { "time", required_argument, 0, 't' }, { 0, 0, 0, 0 } };
	unsigned secs = 3;
	int o;

	g_batch = 16;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 'b')
			g_batch = (unsigned)atoi(optarg);
		else if (o == 't')
			secs = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (g_batch < 1 || g_batch > MAXB) {
		fprintf(stderr, "batch: 1..%d\n", MAXB);
		return 2;
	}
	run(M_POST, secs);
	run(M_MSG, secs);
	return 0;
}
