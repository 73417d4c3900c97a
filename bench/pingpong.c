/* SPDX-License-Identifier: MIT */
/*
 * Placement probe: bounce one cache line between two CPUs and print the median round trip in
 * ns. This VM's two vCPUs sit either close on the host (~55 ns) or far apart (~330 ns), and
 * every networking figure follows that state, so the bench records it around each point.
 *
 * usage: pingpong [CPU_A CPU_B [ROUNDS]]   (default 0 1 200000)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCH 1000
#define SAMPLES 64

struct line {
	_Alignas(64) _Atomic uint64_t v;
};

static struct line ball;
static unsigned rounds;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "pingpong: cannot pin to CPU %d\n", cpu);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The responder turns every odd value into the next even one. */
static void *responder(void *arg)
{
	uint64_t want = 1, total = 2ull * rounds;

	pin(*(int *)arg);
	while (want < total) {
		while (atomic_load_explicit(&ball.v, memory_order_acquire) != want)
			;
		atomic_store_explicit(&ball.v, want + 1, memory_order_release);
		want += 2;
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int cpu_a = argc > 2 ? atoi(argv[1]) : 0, cpu_b = argc > 2 ? atoi(argv[2]) : 1;
	uint64_t samples[SAMPLES];
	unsigned nsamp = 0;
	pthread_t t;
	uint64_t v = 0;

	rounds = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 200000;
	if (rounds < BATCH * 4)
		rounds = BATCH * 4;
	rounds -= rounds % BATCH;
	if (pthread_create(&t, NULL, responder, &cpu_b)) {
		fprintf(stderr, "pingpong: pthread_create failed\n");
		return 1;
	}
	pin(cpu_a);
	/* medians over batches: a preempted batch (other load on the VM) does not skew the figure */
	for (unsigned r = 0; r < rounds; r += BATCH) {
		uint64_t t0 = now_ns();

		for (unsigned i = 0; i < BATCH; i++) {
			atomic_store_explicit(&ball.v, v + 1, memory_order_release);
			while (atomic_load_explicit(&ball.v, memory_order_acquire) != v + 2)
				;
			v += 2;
		}
		if (r >= BATCH) /* the first batch warms up */
			samples[nsamp++ % SAMPLES] = (now_ns() - t0) / BATCH;
	}
	pthread_join(t, NULL);
	if (nsamp > SAMPLES)
		nsamp = SAMPLES;
	qsort(samples, nsamp, sizeof(samples[0]), cmp_u64);
	printf("%llu\n", (unsigned long long)samples[nsamp / 2]);
	return 0;
}
