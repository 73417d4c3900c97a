/* SPDX-License-Identifier: MIT */
/*
 * A TLS-only NVMe/TCP target for tests, built on src/tls: each connection is a TLS 1.3 PSK
 * server session (userspace records, or kernel TLS with --ktls) in front of the fake target
 * (tests/host/fake_target, in this process, plaintext on loopback). It prints its port and
 * serves until stdin closes. A stand-in for nvringd until the daemon has its own TLS stream.
 *
 *   tls_testsrv --psk KEY [--hostnqn NQN] [--nqn NQN] [--psk-variant rfc|compat|legacy]
 *               [--ktls] [--fault hello-close|mid-record] [--port N] [--backend PORT]
 *               [--key-update N]
 *
 * --key-update N: every N-th write to a host is preceded by a KeyUpdate asking the host to
 * update its keys too (userspace sessions only).
 * --backend PORT: relay to a plaintext NVMe/TCP target on 127.0.0.1:PORT (nvringd) instead of
 * the built-in fake target.
 *
 * The key is the one configured for the host (--hostnqn; any host without it). stderr gets
 * one line per connection: "accepted IDENTITY variant V mode userspace|kernel" or "refused: WHY".
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake_target.h"
#include "tls/ktls.h"
#include "tls/psk.h"
#include "tls/session.h"

enum fault { FAULT_NONE, FAULT_HELLO_CLOSE, FAULT_MID_RECORD };

static struct {
	struct tls_key key;
	const char *hostnqn, *subnqn;
	enum tls_psk_variant variant;
	bool ktls;
	enum fault fault;
	struct tls_ctx *ctx;
	const char *backend_port;
	unsigned key_update;
	pthread_mutex_t log_lock;
} srv = { .log_lock = PTHREAD_MUTEX_INITIALIZER };

struct conn {
	int fd, bfd;
	unsigned writes;
	struct tls_sess *s;
	bool kernel;
	enum tls_psk_variant used;
};

static void say(const char *fmt, const char *a, const char *b, const char *c)
{
	pthread_mutex_lock(&srv.log_lock);
	fprintf(stderr, fmt, a, b, c);
	fflush(stderr);
	pthread_mutex_unlock(&srv.log_lock);
}

static int lookup(void *arg, const char *identity, size_t len, uint8_t psk[TLS_PSK_MAX])
{
	struct conn *c = arg;
	struct tls_identity id;

	if (tls_identity_parse(identity, len, &id))
		return -ENOKEY;
	if ((srv.hostnqn && strcmp(id.hostnqn, srv.hostnqn)) || (srv.subnqn && strcmp(id.subnqn, srv.subnqn)))
		return -ENOKEY;
	return tls_psk_for_target(&srv.key, &id, srv.variant, psk, &c->used);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int send_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

static int flush_tx(struct conn *c)
{
	size_t n;
	const uint8_t *ct = tls_sess_tx_peek(c->s, &n);

	if (n && send_all(c->fd, ct, n))
		return -1;
	tls_sess_tx_consume(c->s, n);
	return 0;
}

/* One receive into the session; 0 on EOF, < 0 on error. */
static ssize_t recv_ct(struct conn *c)
{
	size_t room;
	uint8_t *p = tls_sess_rx_buf(c->s, &room);
	ssize_t r;

	if (!room)
		return -ENOBUFS;
	r = recv(c->fd, p, room, 0);
	if (r > 0)
		tls_sess_rx_commit(c->s, (size_t)r);
	else if (r == 0)
		tls_sess_rx_eof(c->s);
	return r < 0 ? -errno : r;
}

static int handshake(struct conn *c)
{
	for (;;) {
		int hs = tls_sess_handshake(c->s);
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		ssize_t r;

		if (flush_tx(c) || hs != -EAGAIN)
			return hs;
		if (poll(&pfd, 1, 100) == 0) {
			if (tls_sess_expired(c->s, now_ns()))
				return -ETIMEDOUT;
			continue;
		}
		r = recv_ct(c);
		if (r < 0)
			return (int)r;
		if (srv.fault == FAULT_HELLO_CLOSE)
			return -ECONNABORTED; /* the test wants the peer to die mid-handshake */
	}
}

/* Backend bytes to the host: records (userspace) or plaintext through kTLS. */
static int to_host(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->kernel)
		return send_all(c->fd, p, n);
	if (srv.key_update && ++c->writes % srv.key_update == 0 && tls_sess_key_update(c->s, true))
		return -1;
	while (n) {
		struct iovec iov = { (void *)p, n };
		ssize_t w = tls_sess_writev(c->s, &iov, 1);

		if (w < 0 || flush_tx(c))
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Every record the session holds now, to the backend. 0 to go on, 1 end of stream, < 0 error. */
static int drain(struct conn *c, uint8_t *buf, size_t cap)
{
	for (;;) {
		ssize_t n = tls_sess_read(c->s, buf, cap);

		if (flush_tx(c)) /* a KeyUpdate answer */
			return -1;
		if (n == -EAGAIN)
			return 0;
		if (n <= 0)
			return n == 0 ? 1 : -1;
		if (srv.fault == FAULT_MID_RECORD) {
			/* half a record of the answer, then gone */
			struct iovec iov = { buf, (size_t)n };
			size_t len;
			const uint8_t *ct;

			tls_sess_writev(c->s, &iov, 1);
			ct = tls_sess_tx_peek(c->s, &len);
			send_all(c->fd, ct, len / 2);
			return -1;
		}
		if (send_all(c->bfd, buf, (size_t)n))
			return -1;
	}
}

/* Host bytes to the backend. Returns 0 to go on, 1 at the end of the stream, < 0 on error. */
static int from_host(struct conn *c, uint8_t *buf, size_t cap)
{
	ssize_t r;

	if (c->kernel) {
		union {
			char b[TLS_KTLS_CMSG_SPACE];
			size_t align; /* as struct cmsghdr (which has a flexible array) */
		} cm;
		struct iovec iov = { buf, cap };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b) };
		int type;

		r = recvmsg(c->fd, &m, 0);
		if (r <= 0)
			return r == 0 ? 1 : -1;
		type = tls_ktls_cmsg_type(&m);
		if (type != TLS_RT_DATA) {
			char why[128];
			int ret = tls_ktls_control_record(type, buf, (size_t)r, why, sizeof(why));

			say("control record: %s%s%s\n", why, "", "");
			return ret == 1 ? 0 : ret == 0 ? 1 : -1;
		}
		return send_all(c->bfd, buf, (size_t)r);
	}
	r = recv_ct(c);
	if (r <= 0 && r != -ENOBUFS)
		return r == 0 ? 1 : -1;
	return drain(c, buf, cap);
}

static int backend_connect(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_port = htons((uint16_t)atoi(srv.backend_port));
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct tls_sess_opts o = { .lookup = lookup, .lookup_arg = c, .ktls = srv.ktls };
	static const size_t cap = 256 * 1024;
	uint8_t *buf = malloc(cap);
	int ret;

	o.deadline_ns = now_ns() + 10000000000ull;
	c->bfd = -1;
	if (!buf || tls_sess_new(srv.ctx, &o, &c->s))
		goto out;
	ret = handshake(c);
	if (ret) {
		say("refused: %s (%s)%s\n", tls_sess_error(c->s), strerror(-ret), "");
		goto out;
	}
	if (srv.ktls) {
		ret = tls_ktls_start(c->fd, c->s);
		if (ret < 0)
			goto out;
		c->kernel = ret == 0;
	}
	say("accepted %s variant %s mode %s\n", tls_sess_identity(c->s), tls_psk_variant_name(c->used),
	    c->kernel ? "kernel" : "userspace");
	c->bfd = backend_connect();
	/* the handshake's last read may have brought the first records too */
	if (c->bfd < 0 || (!c->kernel && drain(c, buf, cap)))
		goto out;
	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN }, { .fd = c->bfd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0)
			break;
		if (p[0].revents && from_host(c, buf, cap))
			break;
		if (p[1].revents) {
			ssize_t r = recv(c->bfd, buf, cap, 0);

			if (r <= 0 || to_host(c, buf, (size_t)r))
				break;
		}
	}
out:
	if (c->bfd >= 0)
		close(c->bfd);
	close(c->fd);
	tls_sess_free(c->s);
	free(buf);
	free(c);
	return NULL;
}

static void *accept_main(void *arg)
{
	int lfd = *(int *)arg;

	for (;;) {
		struct conn *c;
		pthread_t t;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), one = 1;

		if (fd < 0)
			return NULL;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		if (pthread_create(&t, NULL, conn_main, c)) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "psk", required_argument, NULL, 'k' }, { "hostnqn", required_argument, NULL, 'q' },
		{ "nqn", required_argument, NULL, 'n' }, { "psk-variant", required_argument, NULL, 'V' },
		{ "ktls", no_argument, NULL, 'K' },      { "fault", required_argument, NULL, 'f' },
		{ "port", required_argument, NULL, 'p' }, { "backend", required_argument, NULL, 'b' },
		{ "key-update", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct ft_opts fo = { .mode = FT_GOOD };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	const char *key = NULL;
	char err[200], b[64];
	struct ft *ft;
	pthread_t t;
	int c, lfd, one = 1;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'q': srv.hostnqn = optarg; break;
		case 'n': srv.subnqn = optarg; break;
		case 'V':
			if (tls_psk_variant_parse(optarg) < 0)
				goto usage;
			srv.variant = (enum tls_psk_variant)tls_psk_variant_parse(optarg);
			break;
		case 'K': srv.ktls = true; break;
		case 'f':
			srv.fault = !strcmp(optarg, "hello-close") ? FAULT_HELLO_CLOSE
				    : !strcmp(optarg, "mid-record") ? FAULT_MID_RECORD : FAULT_NONE;
			if (srv.fault == FAULT_NONE)
				goto usage;
			break;
		case 'p': a.sin_port = htons((uint16_t)atoi(optarg)); break;
		case 'b': srv.backend_port = optarg; break;
		case 'u': srv.key_update = (unsigned)atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!key)
		goto usage;
	if (tls_key_parse(key, &srv.key, err, sizeof(err))) {
		fprintf(stderr, "tls_testsrv: --psk: %s\n", err);
		return 2;
	}
	srv.ctx = tls_ctx_new(TLS_ROLE_SERVER);
	ft = srv.backend_port ? NULL : ft_start(&fo);
	if (!srv.ctx || (!srv.backend_port && !ft))
		return 1;
	if (ft)
		srv.backend_port = ft_port(ft);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 64) ||
	    getsockname(lfd, (struct sockaddr *)&a, &al)) {
		perror("tls_testsrv: listen");
		return 1;
	}
	if (pthread_create(&t, NULL, accept_main, &lfd))
		return 1;
	printf("%u\n", ntohs(a.sin_port));
	fflush(stdout);
	while (read(STDIN_FILENO, b, sizeof(b)) > 0)
		;
	shutdown(lfd, SHUT_RDWR);
	if (ft)
		ft_stop(ft);
	return 0;
usage:
	fprintf(stderr, "usage: tls_testsrv --psk KEY [--hostnqn NQN] [--nqn NQN] [--psk-variant rfc|compat|legacy]\n"
			"                   [--ktls] [--fault hello-close|mid-record] [--port N] [--backend PORT]\n"
			"                   [--key-update N]\n");
	return 2;
}
