/* SPDX-License-Identifier: MIT */
/* A bounded wait for another thread's result, freed by whichever side finishes last. */
#include "util/handoff.h"

#include <errno.h>
#include <time.h>

void nvr_handoff_init(struct nvr_handoff *h)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&h->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cv, &ca);
	pthread_condattr_destroy(&ca);
	h->done = h->abandoned = false;
	h->r = 0;
}

void nvr_handoff_destroy(struct nvr_handoff *h)
{
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
}

bool nvr_handoff_complete(struct nvr_handoff *h, int r)
{
	bool abandoned;

	pthread_mutex_lock(&h->mu);
	h->r = r;
	h->done = true;
	abandoned = h->abandoned;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return abandoned;
}

int nvr_handoff_wait(struct nvr_handoff *h, unsigned seconds, int *r)
{
	struct timespec dl;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += seconds;
	pthread_mutex_lock(&h->mu);
	while (!h->done && pthread_cond_timedwait(&h->cv, &h->mu, &dl) != ETIMEDOUT)
		;
	if (!h->done) {
		h->abandoned = true;
		pthread_mutex_unlock(&h->mu);
		return -ETIMEDOUT;
	}
	*r = h->r;
	pthread_mutex_unlock(&h->mu);
	return 0;
}
