/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bufpool.h"
#include "config/config.h"
#include "setup.h"
#include "target.h"
#include "tcp/tcp.h"
#include "worker.h"

/* The in-memory stream: a receive waits for fed bytes, a send is taken whole at once. */
struct th_conn {
	struct stream s;
	struct tcp_queue *t;
	const struct iovec *riov;
	int rn;               /* a receive is posted */
	bool send_pending;
	int send_res;
	bool eof, down, closed;
	uint8_t *in;          /* fed, not yet received */
	size_t in_len, in_off, chunk;
	uint8_t *out;
	size_t out_len, out_cap;
};

#define TH_MAX_CONNS 4096

static struct target tgt;
static struct nvr_config cfg;
static struct th_conn *conns[TH_MAX_CONNS];
static unsigned nr_conns;

static void mem_recv(struct stream *s, const struct iovec *iov, int n)
{
	struct th_conn *c = (struct th_conn *)s;

	c->riov = iov;
	c->rn = n;
}

static void mem_send(struct stream *s, const struct iovec *iov, int n)
{
	struct th_conn *c = (struct th_conn *)s;
	size_t total = 0;

	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (c->out_len + total > c->out_cap) {
		size_t cap = (c->out_len + total) * 2 + 4096;
		uint8_t *o = realloc(c->out, cap);

		if (!o)
			abort();
		c->out = o;
		c->out_cap = cap;
	}
	for (int i = 0; i < n; i++) {
		memcpy(c->out + c->out_len, iov[i].iov_base, iov[i].iov_len);
		c->out_len += iov[i].iov_len;
	}
	c->send_pending = true;
	c->send_res = (int)total;
}

static void mem_shutdown(struct stream *s)
{
	((struct th_conn *)s)->down = true;
}

static bool mem_busy(const struct stream *s)
{
	const struct th_conn *c = (const struct th_conn *)s;

	return c->rn || c->send_pending;
}

static void mem_destroy(struct stream *s)
{
	struct th_conn *c = (struct th_conn *)s;

	c->closed = true; /* the queue is freed: keep the struct for the test */
	c->t = NULL;
}

static const struct stream_ops mem_ops = {
	.recv = mem_recv,
	.send = mem_send,
	.shutdown = mem_shutdown,
	.busy = mem_busy,
	.destroy = mem_destroy,
};

int th_init(const char *const *args)
{
	const char *argv[32] = { "nvringd" };
	char err[512];
	int argc = 1;

	while (args[argc - 1] && argc < 31) {
		argv[argc] = args[argc - 1];
		argc++;
	}
	if (nvr_config_parse_args(&cfg, argc, (char **)argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "harness: %s\n", err);
		return -1;
	}
	tgt.nr_workers = 1;
	if (target_setup(&tgt, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "harness: %s\n", err);
		return -1;
	}
	tgt.workers = calloc(1, sizeof(*tgt.workers));
	if (!tgt.workers || worker_init(&tgt.workers[0], &tgt, 0, tgt.big_sqe) < 0)
		return -1;
	tgt.workers[0].bufs = bufpool_create();
	if (worker_ring_start(&tgt.workers[0]) < 0)
		return -1;
	return 0;
}

void th_fini(void)
{
	struct worker *w = &tgt.workers[0];

	for (struct tcp_queue *t = w->conns; t; t = t->next)
		tcp_close(t, NULL);
	th_run();
	bufpool_destroy(w->bufs);
	worker_fini(w);
	free(tgt.workers);
	target_teardown(&tgt);
	nvr_config_free(&cfg);
	memset(&tgt, 0, sizeof(tgt));
}

struct th_conn *th_connect(void)
{
	struct th_conn *c = calloc(1, sizeof(*c));
	struct worker *w = &tgt.workers[0];

	if (!c)
		abort();
	c->s.ops = &mem_ops;
	c->s.ex = &w->ex;
	c->s.fd = -1;
	c->t = tcp_queue_new(w, &c->s, -1, &tgt.ports[0], "harness", NULL);
	if (!c->t || nr_conns == TH_MAX_CONNS)
		abort();
	conns[nr_conns++] = c;
	return c;
}

/* One step of the stream: complete a pending send, deliver input to a pending receive. */
static bool mem_step(struct th_conn *c)
{
	if (c->closed)
		return false;
	if (c->send_pending) {
		c->send_pending = false;
		c->s.on_send(&c->s, c->down ? -EPIPE : c->send_res);
		return true;
	}
	if (c->rn && (c->down || c->eof || c->in_off < c->in_len)) {
		size_t avail = c->in_len - c->in_off, got = 0;
		int n = c->rn;

		if (c->chunk && avail > c->chunk)
			avail = c->chunk;
		c->rn = 0;
		if (c->down) {
			c->s.on_recv(&c->s, -ECONNRESET);
			return true;
		}
		for (int i = 0; i < n && avail; i++) {
			size_t k = c->riov[i].iov_len < avail ? c->riov[i].iov_len : avail;

			memcpy(c->riov[i].iov_base, c->in + c->in_off, k);
			c->in_off += k;
			avail -= k;
			got += k;
		}
		c->s.on_recv(&c->s, (int)got);
		return true;
	}
	return false;
}


void th_run(void)
{
	struct worker *w = &tgt.workers[0];
	bool progress;

	do {
		progress = false;
		tcp_flush_sends(w);
		if (io_uring_sq_ready(&w->ring))
			io_uring_submit(&w->ring);
		/* the worker loop's own pass: completions, namespace hooks (KV log/GC), reaping */
		progress |= worker_process(w) != 0;
		progress |= executor_drain(&w->ex) != 0;
		for (unsigned i = 0; i < nr_conns; i++)
			while (mem_step(conns[i]))
				progress = true;
	} while (progress);
}

void th_feed(struct th_conn *c, const void *buf, size_t len, size_t chunk)
{
	if (c->in_off == c->in_len)
		c->in_len = c->in_off = 0;
	c->in = realloc(c->in, c->in_len + len + 1);
	if (!c->in)
		abort();
	memcpy(c->in + c->in_len, buf, len);
	c->in_len += len;
	c->chunk = chunk;
	th_run();
}

void th_hangup(struct th_conn *c)
{
	c->eof = true;
	th_run();
}

const uint8_t *th_out(struct th_conn *c, size_t *len)
{
	*len = c->out_len;
	return c->out;
}

void th_take(struct th_conn *c, size_t n)
{
	memmove(c->out, c->out + n, c->out_len - n);
	c->out_len -= n;
}

bool th_closed(const struct th_conn *c)
{
	return c->closed || c->down;
}

/* Wait for the ring to complete something (a backend operation still in flight). */
static bool th_wait_ring(unsigned ms)
{
	struct worker *w = &tgt.workers[0];
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000ll };
	struct io_uring_cqe *cqe;

	return io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL) >= 0;
}

void th_drop(struct th_conn *c)
{
	unsigned waited = 0;

	if (c->t)
		tcp_close(c->t, NULL);
	th_run();
	/* the queue is freed once its backend operations are done: until then it uses c->s */
	while (!c->closed) {
		if (++waited > 5000) {
			fprintf(stderr, "harness: a closed queue was not freed within 5 s:");
			for (unsigned i = 0; c->t && i < c->t->nr_reqs; i++)
				fprintf(stderr, " req %u opcode %#x state %d;", i, c->t->reqs[i]->req.sqe.opcode,
					c->t->reqs[i]->req.state);
			fprintf(stderr, " stream busy %d\n", mem_busy(&c->s));
			abort();
		}
		th_wait_ring(1);
		th_run();
	}
	for (unsigned i = 0; i < nr_conns; i++)
		if (conns[i] == c)
			conns[i] = conns[--nr_conns];
	free(c->in);
	free(c->out);
	free(c);
}

void th_advance(uint64_t ms)
{
	struct worker *w = &tgt.workers[0];

	w->now_ms += ms;
	tcp_tick(w);
	th_run();
}

struct target *th_target(void)
{
	return &tgt;
}
