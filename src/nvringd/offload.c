/* SPDX-License-Identifier: MIT */
#include "offload.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

static pthread_mutex_t off_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t off_cond = PTHREAD_COND_INITIALIZER;
static struct offload_job *off_head, *off_tail;
static bool off_running, off_stop;
static pthread_t off_thread;

static void *offload_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&off_lock);
	for (;;) {
		struct offload_job *j;

		while (!off_head && !off_stop)
			pthread_cond_wait(&off_cond, &off_lock);
		if (!off_head)
			break;
		j = off_head;
		off_head = j->next;
		if (!off_head)
			off_tail = NULL;
		pthread_mutex_unlock(&off_lock);
		j->run(j);
		executor_post(j->ex, &j->done);
		pthread_mutex_lock(&off_lock);
	}
	pthread_mutex_unlock(&off_lock);
	return NULL;
}

int offload_start(void)
{
	int ret;

	if (off_running)
		return 0;
	off_stop = false;
	ret = pthread_create(&off_thread, NULL, offload_main, NULL);
	if (ret)
		return -ret;
	off_running = true;
	return 0;
}

void offload_stop(void)
{
	if (!off_running)
		return;
	pthread_mutex_lock(&off_lock);
	off_stop = true;
	pthread_cond_signal(&off_cond);
	pthread_mutex_unlock(&off_lock);
	pthread_join(off_thread, NULL);
	off_running = false;
}

void offload_submit(struct offload_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&off_lock);
	if (off_tail)
		off_tail->next = job;
	else
		off_head = job;
	off_tail = job;
	pthread_cond_signal(&off_cond);
	pthread_mutex_unlock(&off_lock);
}
