/* SPDX-License-Identifier: MIT */
/* The executor: completions posted from foreign threads run on the owner, each once, in the
 * order each thread posted them, and a sleeping owner is woken through the ring. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ring/executor.h"
#include "tap.h"

#define THREADS 4
#define PER_THREAD 20000

struct item {
	struct exec_completion xc;
	unsigned thread, seq;
};

static unsigned ran, last_seq[THREADS], out_of_order, ran_twice;
static unsigned char seen[THREADS][PER_THREAD];
static struct executor ex;

static void item_run(struct exec_completion *c)
{
	struct item *it = (struct item *)c;

	if (seen[it->thread][it->seq]++)
		ran_twice++;
	if (it->seq && it->seq != last_seq[it->thread] + 1)
		out_of_order++;
	last_seq[it->thread] = it->seq;
	ran++;
}

static void *poster(void *arg)
{
	struct item *items = arg;

	for (unsigned i = 0; i < PER_THREAD; i++)
		executor_post(&ex, &items[i].xc);
	return NULL;
}

int main(void)
{
	static struct item items[THREADS][PER_THREAD];
	pthread_t th[THREADS];
	struct io_uring ring;
	unsigned wakeups = 0;

	if (!tap_ok(io_uring_queue_init(8, &ring, 0) == 0, "ring"))
		return tap_done();
	tap_ok(executor_init(&ex, &ring) == 0, "executor_init");
	tap_eq(executor_drain(&ex), 0, "nothing to drain at first");
	executor_arm(&ex);
	for (unsigned t = 0; t < THREADS; t++) {
		for (unsigned i = 0; i < PER_THREAD; i++)
			items[t][i] = (struct item){ .xc.fn = item_run, .thread = t, .seq = i };
		pthread_create(&th[t], NULL, poster, items[t]);
	}
	/* the owner only sleeps in the ring: every batch must wake it through the eventfd */
	while (ran < THREADS * PER_THREAD) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = 10 };

		if (io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL) < 0)
			break;
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			struct io_uring_cqe copy = *cqe;
			struct ring_op *op = io_uring_cqe_get_data(cqe);

			io_uring_cqe_seen(&ring, cqe);
			op->complete(op, &copy);
			wakeups++;
		}
	}
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	executor_drain(&ex);
	tap_eq(ran, THREADS * PER_THREAD, "every posted completion ran");
	tap_eq(ran_twice, 0, "none ran twice");
	tap_eq(out_of_order, 0, "each thread's completions ran in posting order");
	tap_ok(wakeups >= 1 && wakeups <= ran, "woken through the ring (%u wakeups for %u completions)", wakeups, ran);
	executor_fini(&ex);
	io_uring_queue_exit(&ring);
	return tap_done();
}
