/* SPDX-License-Identifier: MIT */
#include "executor.h"

#include <errno.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void executor_efd_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct executor *ex = (struct executor *)((char *)op - offsetof(struct executor, efd_op));

	(void)cqe;
	executor_drain(ex);
	executor_arm(ex);
}

int executor_init(struct executor *ex, struct io_uring *ring)
{
	ex->ring = ring;
	atomic_init(&ex->remote, NULL);
	ex->local_head = ex->local_tail = NULL;
	ex->foreign_waits = 0;
	ex->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ex->efd < 0)
		return -errno;
	ex->efd_op.complete = executor_efd_done;
	return 0;
}

void executor_fini(struct executor *ex)
{
	if (ex->efd >= 0)
		close(ex->efd);
	ex->efd = -1;
}

void executor_arm(struct executor *ex)
{
	struct io_uring_sqe *sqe = executor_get_sqe(ex);

	io_uring_prep_read(sqe, ex->efd, &ex->efd_val, sizeof(ex->efd_val), 0);
	ring_op_attach(sqe, &ex->efd_op);
}

void executor_post(struct executor *ex, struct exec_completion *c)
{
	struct exec_completion *head = atomic_load_explicit(&ex->remote, memory_order_relaxed);
	uint64_t one = 1;

	do
		c->next = head;
	while (!atomic_compare_exchange_weak_explicit(&ex->remote, &head, c, memory_order_release,
						      memory_order_relaxed));
	/* only the push onto an empty stack wakes: the drain takes everything at once */
	if (!head && write(ex->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, so a wakeup is pending anyway */
	}
}

void executor_defer(struct executor *ex, struct exec_completion *c)
{
	c->next = NULL;
	if (ex->local_tail)
		ex->local_tail->next = c;
	else
		ex->local_head = c;
	ex->local_tail = c;
}

unsigned executor_drain(struct executor *ex)
{
	struct exec_completion *list, *rev = NULL, *next;
	unsigned n = 0;

	/* deferred ones first, including those they defer in turn */
	while (ex->local_head) {
		struct exec_completion *c = ex->local_head;

		ex->local_head = c->next;
		if (!ex->local_head)
			ex->local_tail = NULL;
		c->fn(c);
		n++;
	}
	if (!atomic_load_explicit(&ex->remote, memory_order_relaxed))
		return n;
	list = atomic_exchange_explicit(&ex->remote, NULL, memory_order_acquire);
	for (; list; list = next) { /* LIFO → posting order */
		next = list->next;
		list->next = rev;
		rev = list;
	}
	for (; rev; rev = next) {
		next = rev->next;
		rev->fn(rev);
		n++;
	}
	return n;
}
