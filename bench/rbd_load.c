/* SPDX-License-Identifier: MIT */
/*
 * Load for the rbd backend without the daemon: one worker (an io_uring + executor loop, as a
 * daemon worker runs it) keeps QD operations in flight on an image through be_rbd_open /
 * be_submit, for a time, and prints IOPS, MiB/s and latency percentiles as one JSON line.
 *
 *   rbd_load --pool P --image I [--rw randread|randwrite|read|write] [--bs BYTES] [--qd N]
 *            [--time S] [--span BYTES] [--conf PATH] [--id CLIENT]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"

struct load_io {
	struct be_io io;
	uint64_t t0;
};

static struct {
	struct backend be;
	struct executor ex;
	struct io_uring ring;
	uint64_t bs, span, next_seq, rng, done_ops, errors, end_ns;
	bool write, random, stop;
	unsigned inflight;
	uint32_t *lat_us; /* one per completed op, up to cap */
	size_t nlat, cap;
} L;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t next_offset(void)
{
	uint64_t blocks = L.span / L.bs, off;

	if (L.random) {
		L.rng = L.rng * 6364136223846793005ull + 1442695040888963407ull;
		return ((L.rng >> 17) % blocks) * L.bs;
	}
	off = L.next_seq;
	L.next_seq = (L.next_seq + L.bs) % (blocks * L.bs);
	return off;
}

static void load_issue(struct load_io *l);

static void load_done(struct be_io *io, int res)
{
	struct load_io *l = (struct load_io *)io;
	uint64_t t = now_ns();

	if (res < 0)
		L.errors++;
	L.done_ops++;
	if (L.nlat < L.cap)
		L.lat_us[L.nlat++] = (uint32_t)((t - l->t0) / 1000);
	L.inflight--;
	if (t < L.end_ns)
		load_issue(l);
}

static void load_issue(struct load_io *l)
{
	void *buf = l->io.buf;

	memset(&l->io, 0, sizeof(l->io));
	l->io.op = L.write ? BE_WRITE : BE_READ;
	l->io.offset = next_offset();
	l->io.len = L.bs;
	l->io.buf = buf;
	l->io.buf_index = -1;
	l->io.done = load_done;
	l->t0 = now_ns();
	L.inflight++;
	be_submit(&L.be, &L.ex, &l->io);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void run_loop(void)
{
	while (L.inflight) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = 1 };

		executor_drain(&L.ex);
		if (!L.inflight)
			break;
		io_uring_submit_and_wait_timeout(&L.ring, &cqe, 1, &ts, NULL);
		while (io_uring_peek_cqe(&L.ring, &cqe) == 0) {
			struct io_uring_cqe copy = *cqe;
			struct ring_op *rop = io_uring_cqe_get_data(cqe);

			io_uring_cqe_seen(&L.ring, cqe);
			if (rop)
				rop->complete(rop, &copy);
		}
	}
}

int main(int argc, char **argv)
{
	struct be_rbd_spec spec = { .pool = "rbd", .image = "bench" };
	const char *rw = "randread";
	unsigned qd = 32, secs = 10;
	struct load_io *ios;
	char err[256];
	uint64_t t0, el;
	int c;
	static const struct option opts[] = {
		{ "pool", 1, 0, 'p' }, { "image", 1, 0, 'i' }, { "rw", 1, 0, 'r' },
		{ "bs", 1, 0, 'b' },   { "qd", 1, 0, 'q' },    { "time", 1, 0, 't' },
		{ "span", 1, 0, 's' }, { "conf", 1, 0, 'c' },  { "id", 1, 0, 'n' },
		{ 0, 0, 0, 0 },
	};

	L.bs = 4096;
	L.span = 256ull << 20;
	L.rng = 88172645463325252ull;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': spec.pool = optarg; break;
		case 'i': spec.image = optarg; break;
		case 'r': rw = optarg; break;
		case 'b': L.bs = strtoull(optarg, NULL, 0); break;
		case 'q': qd = (unsigned)atoi(optarg); break;
		case 't': secs = (unsigned)atoi(optarg); break;
		case 's': L.span = strtoull(optarg, NULL, 0); break;
		case 'c': spec.conf = optarg; break;
		case 'n': spec.client_id = optarg; break;
		default: return 2;
		}
	}
	L.write = strstr(rw, "write") != NULL;
	L.random = strncmp(rw, "rand", 4) == 0;
	if (!qd || !L.bs || L.bs % 512 || L.span < L.bs) {
		fprintf(stderr, "rbd_load: bad --qd/--bs/--span\n");
		return 2;
	}
	if (be_rbd_open(&L.be, &spec, err, sizeof(err))) {
		fprintf(stderr, "rbd_load: %s\n", err);
		return 1;
	}
	if (L.span > L.be.geom.size)
		L.span = L.be.geom.size;
	if (io_uring_queue_init(64, &L.ring, 0) || executor_init(&L.ex, &L.ring)) {
		fprintf(stderr, "rbd_load: io_uring/executor setup failed\n");
		return 1;
	}
	executor_arm(&L.ex);
	L.cap = 20000000;
	L.lat_us = malloc(L.cap * sizeof(*L.lat_us));
	ios = calloc(qd, sizeof(*ios));
	if (!L.lat_us || !ios)
		return 1;
	for (unsigned i = 0; i < qd; i++) {
		if (posix_memalign(&ios[i].io.buf, 4096, L.bs))
			return 1;
		memset(ios[i].io.buf, (int)i + 1, L.bs);
	}
	t0 = now_ns();
	L.end_ns = t0 + (uint64_t)secs * 1000000000ull;
	for (unsigned i = 0; i < qd; i++)
		load_issue(&ios[i]);
	run_loop();
	el = now_ns() - t0;
	qsort(L.lat_us, L.nlat, sizeof(*L.lat_us), cmp_u32);
	printf("{\"tool\": \"nvring-rbd-backend\", \"rw\": \"%s\", \"bs\": %llu, \"qd\": %u, "
	       "\"iops\": %.0f, \"mib_s\": %.1f, \"lat_p50_us\": %u, \"lat_p99_us\": %u, "
	       "\"ops\": %llu, \"errors\": %llu}\n", rw, (unsigned long long)L.bs, qd,
	       (double)L.done_ops * 1e9 / (double)el,
	       (double)L.done_ops * (double)L.bs * 1e9 / (double)el / 1048576.0,
	       L.nlat ? L.lat_us[L.nlat / 2] : 0, L.nlat ? L.lat_us[L.nlat * 99 / 100] : 0,
	       (unsigned long long)L.done_ops, (unsigned long long)L.errors);
	be_close(&L.be);
	executor_fini(&L.ex);
	io_uring_queue_exit(&L.ring);
	return L.errors ? 1 : 0;
}
