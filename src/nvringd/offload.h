/* SPDX-License-Identifier: MIT */
/*
 * Work too heavy for a worker's event loop (a DH-HMAC-CHAP ffdhe8192 exchange takes ~20 ms of
 * CPU): it runs on the offload thread, and its completion comes back to the submitting worker
 * through that worker's executor, so the worker never blocks and stays the only one touching
 * its queues.
 */
#ifndef NVRING_NVRINGD_OFFLOAD_H
#define NVRING_NVRINGD_OFFLOAD_H

#include "ring/executor.h"

struct offload_job {
	struct offload_job *next;
	void (*run)(struct offload_job *job);  /* on the offload thread */
	struct exec_completion done;           /* then posted to ex: done.fn runs on the worker */
	struct executor *ex;
};

int offload_start(void);
/* Finish the jobs queued, then stop the thread. */
void offload_stop(void);
void offload_submit(struct offload_job *job);

#endif
