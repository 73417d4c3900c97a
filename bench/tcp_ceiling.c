/* SPDX-License-Identifier: MIT */
/*
 * Raw-TCP ceiling: the request/response exchange of an NVMe/TCP workload (same byte counts,
 * same queue depth) over loopback with no NVMe at all. Server pinned to one CPU, client to
 * another; both sides batch the way a lean event loop would: one recv takes what has arrived,
 * one send answers every request completed by it. Prints one JSON line.
 *
 * usage: tcp_ceiling --req BYTES --rsp BYTES [--qd N] [--time S] [--server-cpu C] [--client-cpu C]
 *                    [--payload BYTES] [--poll 1] [--zerocopy 1] [--sockbuf BYTES]
 * payload: bytes counted for MiB/s (default max(req, rsp)); --poll 1: both sides spin on
 * non-blocking recv instead of sleeping (the ceiling for busy-polling targets); --zerocopy 1:
 * sends of 16 KiB and more use MSG_ZEROCOPY (on loopback the receiver then copies: the copy
 * moves off the sending CPU); --sockbuf: SO_SNDBUF/SO_RCVBUF on both ends. A ceiling takes the
 * best of these (bench.py runs them all).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE (4u << 20)

struct cfg {
	size_t req, rsp, payload;
	unsigned qd, seconds;
	int server_cpu, client_cpu;
	int lfd;
	int rflags; /* MSG_DONTWAIT when polling */
	int zerocopy;
	int sockbuf;
};

#define ZC_MIN (16u << 10)

/* Socket options both ends share: no Nagle, buffers, zero-copy sends. */
static void sock_setup(int fd, const struct cfg *c)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->sockbuf) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &c->sockbuf, sizeof(c->sockbuf));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &c->sockbuf, sizeof(c->sockbuf));
	}
	if (c->zerocopy)
		setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one));
}

/* Zero-copy completions pile up on the error queue: take them (the data never changes here,
 * so nothing waits for them), or the socket's option memory runs out. */
static void zc_reap(int fd)
{
	char ctl[128];
	struct msghdr m = { .msg_control = ctl, .msg_controllen = sizeof(ctl) };

	while (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0)
		m.msg_controllen = sizeof(ctl);
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int send_all(int fd, const uint8_t *p, size_t len, int zerocopy)
{
	if (zerocopy && len >= ZC_MIN)
		zc_reap(fd);
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | (zerocopy && len >= ZC_MIN ? MSG_ZEROCOPY : 0));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* recv that spins on EAGAIN/EINTR when polling */
static ssize_t recv_some(int fd, void *buf, size_t len, int flags)
{
	for (;;) {
		ssize_t n = recv(fd, buf, len, flags);

		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			return n;
	}
}

/* Answer every complete request with one response, all answers of one recv in one send. */
static void *server(void *arg)
{
	const struct cfg *c = arg;
	uint8_t *rbuf = malloc(RBUF_SIZE), *rsp = calloc(c->qd, c->rsp);
	uint64_t got = 0, done = 0;
	int fd;

	pin(c->server_cpu);
	fd = accept(c->lfd, NULL, NULL);
	if (fd < 0 || !rbuf || !rsp) {
		perror("tcp_ceiling: server");
		exit(1);
	}
	sock_setup(fd, c);
	for (;;) {
		ssize_t n = recv_some(fd, rbuf, RBUF_SIZE, c->rflags);
		uint64_t k;

		if (n <= 0)
			break;
		got += (uint64_t)n;
		k = got / c->req - done;
		done += k;
		/* the client never has more than qd requests out, so k <= qd */
		if (k && send_all(fd, rsp, k * c->rsp, c->zerocopy))
			break;
	}
	close(fd);
	free(rbuf);
	free(rsp);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: tcp_ceiling --req BYTES --rsp BYTES [--qd N] [--time S] [--server-cpu C]"
			" [--client-cpu C] [--payload BYTES] [--poll 1]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct cfg c = { .qd = 32, .seconds = 10, .server_cpu = 0, .client_cpu = 1 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sa);
	uint64_t got = 0, done = 0, sent = 0, t0, t_end, elapsed;
	uint8_t *rbuf, *req;
	pthread_t st;
	int fd;

	for (int i = 1; i + 1 < argc; i += 2) {
		unsigned long v = strtoul(argv[i + 1], NULL, 0);

		if (!strcmp(argv[i], "--req"))
			c.req = v;
		else if (!strcmp(argv[i], "--rsp"))
			c.rsp = v;
		else if (!strcmp(argv[i], "--payload"))
			c.payload = v;
		else if (!strcmp(argv[i], "--qd"))
			c.qd = (unsigned)v;
		else if (!strcmp(argv[i], "--time"))
			c.seconds = (unsigned)v;
		else if (!strcmp(argv[i], "--poll"))
			c.rflags = v ? MSG_DONTWAIT : 0;
		else if (!strcmp(argv[i], "--zerocopy"))
			c.zerocopy = (int)v;
		else if (!strcmp(argv[i], "--sockbuf"))
			c.sockbuf = (int)v;
		else if (!strcmp(argv[i], "--server-cpu"))
			c.server_cpu = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--client-cpu"))
			c.client_cpu = atoi(argv[i + 1]);
		else
			usage();
	}
	if (!c.req || !c.rsp || !c.qd || !c.seconds)
		usage();
	if (!c.payload)
		c.payload = c.req > c.rsp ? c.req : c.rsp;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (c.lfd < 0 || bind(c.lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(c.lfd, 1) ||
	    getsockname(c.lfd, (struct sockaddr *)&sa, &slen)) {
		perror("tcp_ceiling: listen");
		return 1;
	}
	if (pthread_create(&st, NULL, server, &c)) {
		fprintf(stderr, "tcp_ceiling: pthread_create failed\n");
		return 1;
	}
	pin(c.client_cpu);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("tcp_ceiling: connect");
		return 1;
	}
	sock_setup(fd, &c);
	rbuf = malloc(RBUF_SIZE);
	req = calloc(c.qd, c.req);
	if (!rbuf || !req) {
		fprintf(stderr, "tcp_ceiling: out of memory\n");
		return 1;
	}
	t0 = now_ns();
	t_end = t0 + (uint64_t)c.seconds * 1000000000ull;
	if (send_all(fd, req, c.qd * c.req, c.zerocopy))
		return 1;
	sent = c.qd;
	while (done < sent) {
		ssize_t n = recv_some(fd, rbuf, RBUF_SIZE, c.rflags);
		uint64_t k;

		if (n <= 0) {
			perror("tcp_ceiling: recv");
			return 1;
		}
		got += (uint64_t)n;
		k = got / c.rsp - done;
		done += k;
		/* closed loop: each completed response sends a new request, until time is up */
		if (k && now_ns() < t_end) {
			if (send_all(fd, req, k * c.req, c.zerocopy))
				return 1;
			sent += k;
		}
	}
	elapsed = now_ns() - t0;
	shutdown(fd, SHUT_RDWR);
	close(fd);
	pthread_join(st, NULL);
	{
		double secs = (double)elapsed / 1e9, iops = (double)done / secs;

		printf("{\"req\": %zu, \"rsp\": %zu, \"qd\": %u, \"seconds\": %.3f, \"ios\": %llu, \"iops\": %.0f, "
		       "\"mib_per_s\": %.2f, \"lat_avg_us\": %.2f, \"zerocopy\": %d, \"sockbuf\": %d}\n",
		       c.req, c.rsp, c.qd, secs, (unsigned long long)done, iops,
		       iops * (double)c.payload / (1024.0 * 1024.0), (double)c.qd / iops * 1e6, c.zerocopy, c.sockbuf);
	}
	free(rbuf);
	free(req);
	return 0;
}
