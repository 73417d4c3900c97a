/* SPDX-License-Identifier: MIT */
#ifndef NVR_UTIL_HANDOFF_H
#define NVR_UTIL_HANDOFF_H

#include <pthread.h>
#include <stdbool.h>

/*
 * A wait with a deadline for a result another thread delivers (a librbd/librados callback at
 * open or close time). If the waiter gives up first, the object becomes the completer's to
 * free: whichever side finishes last frees it, so a late callback never touches freed memory.
 */
struct nvr_handoff {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	bool done, abandoned;
	int r;
};

void nvr_handoff_init(struct nvr_handoff *h);
void nvr_handoff_destroy(struct nvr_handoff *h);
/* The completing side records r; true if the waiter gave up, and the completer must free. */
bool nvr_handoff_complete(struct nvr_handoff *h, int r);
/* The waiting side: 0 with *r the result, or -ETIMEDOUT after `seconds` (the completer frees). */
int nvr_handoff_wait(struct nvr_handoff *h, unsigned seconds, int *r);

#endif
