/* SPDX-License-Identifier: MIT */
/*
 * Data-buffer budget of a worker: every data buffer a peer can make us hold (write data it
 * was asked for, read data it has not taken yet, second buffers of Compare, Verify and KV
 * Append) counts against its queue's limit and its worker's share of --max-inflight-bytes.
 * A command that would go beyond waits here, in arrival order, until buffers come back:
 * nothing fails.
 */
#ifndef NVRING_NVRINGD_CORE_BUDGET_H
#define NVRING_NVRINGD_CORE_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

struct req;

struct buf_budget {
	uint64_t used;
	uint64_t limit;
	struct req *wait_head, *wait_tail;
	unsigned waiting;
	bool kicking, rekick;
	uint64_t waits;  /* commands that had to wait (statistics) */
};

/* Queue req (REQ_NEED_BUFFER) behind the others. */
void budget_wait(struct buf_budget *b, struct req *req);
/* Take req off the wait list (its queue is going away). */
void budget_cancel(struct buf_budget *b, struct req *req);
/* Buffers came back: start the waiters that now fit, in order. */
void budget_kick(struct buf_budget *b);

#endif
