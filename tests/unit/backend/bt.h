/* SPDX-License-Identifier: MIT */
/* Backend test kit: a little event loop driving a real io_uring (TAP from tap.h). */
#ifndef NVRING_TESTS_BACKEND_BT_H
#define NVRING_TESTS_BACKEND_BT_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "tap.h"

/* CQEs routed by the test loop so far: shows how many SQEs an operation took. */
extern unsigned long bt_cqes;

/* One operation as the target would issue it, with its completion recorded. */
struct bt_io {
	struct be_io io;
	int res;
	int ndone; /* `done` calls seen: must end at exactly 1 */
	bool inline_done; /* done ran before be_submit returned */
	bool submitting;
};

void bt_prep(struct bt_io *b, enum be_op op, unsigned flags, uint64_t off, uint64_t len,
	     void *buf);
/* Submit one op and run the ring until it completes; returns its result (or -ETIMEDOUT-like
 * -EPROTO if `done` was not called exactly once). */
int bt_run(struct backend *be, struct io_uring *ring, struct bt_io *b);
/* Submit n ops at once (all in flight together), run until all complete. 0 if every one
 * completed exactly once with result 0. */
int bt_run_many(struct backend *be, struct io_uring *ring, struct bt_io *b, int n);
/* The two halves of bt_run_many, to look at queued SQEs in between. */
void bt_start(struct backend *be, struct io_uring *ring, struct bt_io *b);
int bt_finish(struct io_uring *ring, struct bt_io *b, int n);
int bt_do(struct backend *be, struct io_uring *ring, enum be_op op, unsigned flags,
	  uint64_t off, uint64_t len, void *buf);

/* The SQE most recently queued (not yet submitted) on the ring, or NULL. */
struct io_uring_sqe *bt_last_sqe(struct io_uring *ring);

void bt_fill(void *buf, uint64_t len, uint64_t seed);
bool bt_check(const void *buf, uint64_t len, uint64_t seed);
bool bt_is_zero(const void *buf, uint64_t len);
void *bt_alloc(uint64_t len); /* 4096-aligned, zeroed; abort-free: NULL on failure */

#endif
