/* SPDX-License-Identifier: MIT */
/*
 * kvs_bench: the KV engine alone, no sockets. N threads, each with its own io_uring and
 * executor (as nvringd's workers), keep QD operations in flight against one store: a store
 * phase of random keys, then a retrieve phase of the same key space. Prints operations per
 * second, CPU time per operation, latency percentiles, syncs, batches and GC moves.
 *
 *   kvs_bench [--path FILE|kv:mem] [--size BYTES] [--threads N] [--qd N] [--keys N]
 *             [--value BYTES] [--time S] [--warmup S] [--vwc] [--segment BYTES] [--pin] [--poll]
 *             [--json]
 * --warmup: stores for S seconds before the measured store phase (a lap of the log: fresh
 * memory faulted in, GC in its steady state).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kvstore/kvstore.h"

/* latency histogram: 1 µs steps up to 1 ms, then 64 µs steps up to ~66 ms, then overflow */
#define HIST_FINE 1024
#define HIST_BUCKETS (HIST_FINE + 1024)

struct opts {
	const char *path;
	uint64_t size;
	unsigned threads, qd, keys, value, secs, segment, warmup;
	bool vwc, pin, poll, json;
};

struct thr;

struct slot {
	struct kvs_io io;
	struct thr *t;
	uint64_t t0;
	bool busy;
};

struct thr {
	unsigned id;
	pthread_t th;
	struct io_uring ring;
	struct executor ex;
	struct kvs *kv;
	const struct opts *o;
	uint32_t rng;
	uint8_t *vals;            /* qd value buffers */
	struct slot *slots;
	uint64_t ops, errors, misses, inflight;
	uint64_t hist[HIST_BUCKETS + 1];
};

static struct kvs *g_kv;
static atomic_int g_phase;   /* 0 run, 1 stop submitting */
static atomic_int g_running; /* threads still serving their ring */
static enum kvs_op g_op;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t rnd(struct thr *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 17;
	t->rng ^= t->rng << 5;
	return t->rng;
}

static void key_of(uint32_t k, uint8_t *key)
{
	uint64_t a = k, b = (uint64_t)k * 0x9e3779b97f4a7c15ull;

	memcpy(key, &a, 8);
	memcpy(key + 8, &b, 8);
}

static unsigned hist_bucket(uint64_t us)
{
	if (us < HIST_FINE)
		return (unsigned)us;
	us = HIST_FINE + (us - HIST_FINE) / 64;
	return us < HIST_BUCKETS ? (unsigned)us : HIST_BUCKETS;
}

static uint64_t hist_us(unsigned b)
{
	return b < HIST_FINE ? b : HIST_FINE + (uint64_t)(b - HIST_FINE) * 64;
}

static void slot_done(struct kvs_io *io)
{
	struct slot *s = io->ctx;
	struct thr *t = s->t;
	uint64_t us = (now_ns() - s->t0) / 1000;

	s->busy = false;
	t->inflight--;
	t->ops++;
	t->hist[hist_bucket(us)]++;
	if ((io->status & 0xff) == 0x87 && io->op == KVS_OP_RETRIEVE)
		t->misses++;
	else if (io->status)
		t->errors++;
}

static void slot_start(struct thr *t, struct slot *s)
{
	unsigned i = (unsigned)(s - t->slots);

	memset(&s->io, 0, sizeof(s->io));
	s->io.op = g_op;
	s->io.key_len = 16;
	key_of(rnd(t) % t->o->keys, s->io.key);
	s->io.buf = t->vals + (size_t)i * t->o->value;
	s->io.len = t->o->value;
	s->io.done = slot_done;
	s->io.ctx = s;
	s->busy = true;
	s->t0 = now_ns();
	t->inflight++;
	kvs_submit(t->kv, &t->ex, &s->io);
}

static void reap(struct thr *t, bool wait)
{
	struct io_uring_cqe *cqe;
	unsigned n = executor_drain(&t->ex);

	if (wait && !n && t->inflight && !t->o->poll) {
		struct __kernel_timespec ts = { .tv_nsec = 1000000 };

		io_uring_submit_and_wait_timeout(&t->ring, &cqe, 1, &ts, NULL);
	} else {
		io_uring_submit(&t->ring);
	}
	while (io_uring_peek_cqe(&t->ring, &cqe) == 0) {
		struct io_uring_cqe c = *cqe;
		struct ring_op *op = io_uring_cqe_get_data(cqe);

		io_uring_cqe_seen(&t->ring, cqe);
		op->complete(op, &c);
	}
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;

	if (t->o->pin) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(t->id % (unsigned)sysconf(_SC_NPROCESSORS_ONLN), &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!atomic_load_explicit(&g_phase, memory_order_relaxed)) {
		for (unsigned i = 0; i < t->o->qd; i++)
			if (!t->slots[i].busy)
				slot_start(t, &t->slots[i]);
		kvs_poll(t->kv, &t->ex);
		reap(t, true);
	}
	/* A batch another thread leads may carry our writes, and ours theirs: keep serving
	 * until every thread is done and the engine is idle. */
	while (t->inflight)
		reap(t, true);
	atomic_fetch_sub(&g_running, 1);
	while (atomic_load(&g_running) > 0 || !kvs_idle(t->kv)) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_nsec = 200000 };

		/* nothing of ours in flight: wait for what another thread hands us, briefly */
		io_uring_submit_and_wait_timeout(&t->ring, &cqe, 1, &ts, NULL);
		reap(t, false);
	}
	return NULL;
}

static uint64_t pct(const uint64_t *hist, uint64_t total, double p)
{
	uint64_t want = (uint64_t)(total * p), acc = 0;

	for (unsigned i = 0; i <= HIST_BUCKETS; i++) {
		acc += hist[i];
		if (acc > want)
			return hist_us(i);
	}
	return hist_us(HIST_BUCKETS);
}

static void phase(struct thr *t, const struct opts *o, enum kvs_op op, const char *name,
		  unsigned secs_to_run, bool quiet)
{
	struct kvs_stats s0, s1;
	uint64_t ops = 0, errors = 0, misses = 0, t0, t1;
	static uint64_t hist[HIST_BUCKETS + 1];
	double secs, cpu;
	struct rusage r0, r1;

	g_op = op;
	atomic_store(&g_phase, 0);
	atomic_store(&g_running, (int)o->threads);
	kvs_get_stats(g_kv, &s0);
	getrusage(RUSAGE_SELF, &r0);
	t0 = now_ns();
	for (unsigned i = 0; i < o->threads; i++) {
		memset(t[i].hist, 0, sizeof(t[i].hist));
		t[i].ops = t[i].errors = t[i].misses = 0;
		pthread_create(&t[i].th, NULL, thr_main, &t[i]);
	}
	usleep(secs_to_run * 1000000u);
	atomic_store(&g_phase, 1);
	for (unsigned i = 0; i < o->threads; i++)
		pthread_join(t[i].th, NULL);
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &r1);
	kvs_get_stats(g_kv, &s1);
	memset(hist, 0, sizeof(hist));
	for (unsigned i = 0; i < o->threads; i++) {
		ops += t[i].ops;
		errors += t[i].errors;
		misses += t[i].misses;
		for (unsigned b = 0; b <= HIST_BUCKETS; b++)
			hist[b] += t[i].hist[b];
	}
	secs = (double)(t1 - t0) / 1e9;
	if (quiet)
		return;
	/* CPU time of every thread (io-wq workers included) per operation: robust to a shared host */
	cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e6 +
	      (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
	cpu = ops ? cpu / (double)ops : 0;
	if (o->json) {
		printf("{\"phase\":\"%s\",\"mode\":\"%s\",\"threads\":%u,\"qd\":%u,\"ops_per_s\":%.0f,\"cpu_us_per_op\":%.2f,"
		       "\"p50_us\":%llu,\"p99_us\":%llu,\"errors\":%llu,\"misses\":%llu,"
		       "\"syncs\":%llu,\"batches\":%llu,\"gc_moved\":%llu}\n",
		       name, o->path ? o->path : "kv:mem", o->threads, o->qd, ops / secs, cpu,
		       (unsigned long long)pct(hist, ops, 0.5), (unsigned long long)pct(hist, ops, 0.99),
		       (unsigned long long)errors, (unsigned long long)misses,
		       (unsigned long long)(s1.syncs - s0.syncs), (unsigned long long)(s1.batches - s0.batches),
		       (unsigned long long)(s1.gc_moved - s0.gc_moved));
	} else {
		printf("%-8s %s, %u thread(s), QD %u: %.0f ops/s, %.2f CPU-us/op, p50 %llu us, p99 %llu us, errors %llu, "
		       "misses %llu; %llu syncs, %llu batches, %llu GC moves\n",
		       name, o->path ? o->path : "kv:mem", o->threads, o->qd, ops / secs, cpu,
		       (unsigned long long)pct(hist, ops, 0.5), (unsigned long long)pct(hist, ops, 0.99),
		       (unsigned long long)errors, (unsigned long long)misses,
		       (unsigned long long)(s1.syncs - s0.syncs), (unsigned long long)(s1.batches - s0.batches),
		       (unsigned long long)(s1.gc_moved - s0.gc_moved));
	}
	fflush(stdout);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k': case 'K': return v << 10;
	case 'm': case 'M': return v << 20;
	case 'g': case 'G': return v << 30;
	default: return v;
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "path", required_argument, 0, 'p' }, { "size", required_argument, 0, 's' },
		{ "threads", required_argument, 0, 't' }, { "qd", required_argument, 0, 'q' },
		{ "keys", required_argument, 0, 'k' }, { "value", required_argument, 0, 'v' },
		{ "time", required_argument, 0, 'T' }, { "segment", required_argument, 0, 'S' },
		{ "warmup", required_argument, 0, 'W' },
		{ "vwc", no_argument, 0, 'w' }, { "pin", no_argument, 0, 'P' },
		{ "poll", no_argument, 0, 'o' }, { "json", no_argument, 0, 'j' }, { 0, 0, 0, 0 },
	};
	struct opts o = { .size = 2ull << 30, .threads = 1, .qd = 32, .keys = 50000, .value = 4096,
			  .secs = 5 };
	struct kvs_config cfg = { 0 };
	struct thr *t;
	char err[256];
	bool created;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o.path = strcmp(optarg, "kv:mem") && strcmp(optarg, "mem") ? optarg : NULL; break;
		case 's': o.size = parse_size(optarg); break;
		case 't': o.threads = (unsigned)atoi(optarg); break;
		case 'q': o.qd = (unsigned)atoi(optarg); break;
		case 'k': o.keys = (unsigned)atoi(optarg); break;
		case 'v': o.value = (unsigned)parse_size(optarg); break;
		case 'T': o.secs = (unsigned)atoi(optarg); break;
		case 'W': o.warmup = (unsigned)atoi(optarg); break;
		case 'S': o.segment = (unsigned)parse_size(optarg); break;
		case 'w': o.vwc = true; break;
		case 'P': o.pin = true; break;
		case 'o': o.poll = true; break;
		case 'j': o.json = true; break;
		default:
			fprintf(stderr, "usage: %s [--path FILE|kv:mem] [--size B] [--threads N] [--qd N] "
				"[--keys N] [--value B] [--time S] [--warmup S] [--segment B] [--vwc] [--pin] [--poll] "
				"[--json]\n", argv[0]);
			return 2;
		}
	}
	if (!o.threads || !o.qd || !o.keys || !o.value || !o.secs) {
		fprintf(stderr, "kvs_bench: threads, qd, keys, value and time must be positive\n");
		return 2;
	}
	cfg.path = o.path;
	cfg.capacity = o.size;
	cfg.segment_size = o.segment;
	cfg.volatile_cache = o.vwc;
	cfg.format = true;
	created = o.path && access(o.path, F_OK) != 0; /* remove only a file we made */
	if (kvs_open(&g_kv, &cfg, err, sizeof(err))) {
		fprintf(stderr, "kvs_bench: open: %s\n", err);
		return 1;
	}
	t = calloc(o.threads, sizeof(*t));
	if (!t)
		return 1;
	for (unsigned i = 0; i < o.threads; i++) {
		t[i].id = i;
		t[i].kv = g_kv;
		t[i].o = &o;
		t[i].rng = 2463534242u + i * 7919u;
		t[i].vals = malloc((size_t)o.qd * o.value);
		t[i].slots = calloc(o.qd, sizeof(*t[i].slots));
		if (!t[i].vals || !t[i].slots || io_uring_queue_init(4 * o.qd + 64, &t[i].ring, 0) ||
		    executor_init(&t[i].ex, &t[i].ring)) {
			fprintf(stderr, "kvs_bench: setup failed\n");
			return 1;
		}
		for (size_t b = 0; b < (size_t)o.qd * o.value; b++)
			t[i].vals[b] = (uint8_t)(b * 31 + i);
		for (unsigned s = 0; s < o.qd; s++)
			t[i].slots[s].t = &t[i];
		executor_arm(&t[i].ex);
	}
	if (o.warmup) /* a lap of the log first: first-touch faults, GC in its steady state */
		phase(t, &o, KVS_OP_STORE, "warmup", o.warmup, true);
	phase(t, &o, KVS_OP_STORE, "store", o.secs, false);
	phase(t, &o, KVS_OP_RETRIEVE, "retrieve", o.secs, false);
	for (unsigned i = 0; i < o.threads; i++) {
		io_uring_queue_exit(&t[i].ring);
		executor_fini(&t[i].ex);
		free(t[i].vals);
		free(t[i].slots);
	}
	free(t);
	kvs_close(g_kv);
	if (created)
		unlink(o.path);
	return 0;
}
