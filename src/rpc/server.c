/* SPDX-License-Identifier: MIT */
/*
 * The control socket: a Unix stream socket served by one thread that polls the listener and up
 * to max_clients connections, parses their requests (stream.c) and runs the handlers. Sockets
 * are non-blocking; a client is limited in request size, in the time a started request may take
 * to arrive, in responses it leaves unread, and in idle time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rpc/rpc_priv.h"

#define RPC_READ_CHUNK 65536
#define RPC_OUT_LIMIT (1u << 20)   /* unread response bytes before a client's next requests wait */
#define RPC_ACCEPT_BACKOFF_MS 100  /* after EMFILE: the pending connection stays queued */

struct rpc_conn {
	int fd;
	struct rpc_stream stream;
	char *in;                  /* received, not yet parsed (RPC_READ_CHUNK) */
	size_t in_len;
	struct rpc_buf out;
	uint64_t values_seen;      /* stream.values_started when value_at was taken */
	int64_t value_at;          /* when the request being received started */
	int64_t active_at;         /* last byte in or out */
	bool closing;              /* send what is queued, then close */
};

struct rpc_server {
	struct rpc_registry reg;
	struct rpc_server_opts opts;
	uid_t allow_uid;
	int lfd, wakefd, lockfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lockpath[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	dev_t dev;
	ino_t ino;
	pthread_t thread;
	atomic_bool stop;
	struct rpc_conn *conns;
	unsigned nconns;
	struct pollfd *pfds;
	int64_t accept_after;
};

static int64_t rpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An error to a client we do not keep (best effort: the socket is new, its buffer is empty). */
static void rpc_reject(int fd, int code, const char *msg)
{
	struct rpc_buf b = { 0 };

	if (!rpc_buf_put_json(&b, rpc_error_response(code, msg)))
		(void)!send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	rpc_buf_free(&b);
	close(fd);
}

static void rpc_conn_close(struct rpc_server *srv, unsigned i)
{
	struct rpc_conn *c = &srv->conns[i];

	close(c->fd);
	rpc_stream_fini(&c->stream);
	rpc_buf_free(&c->out);
	free(c->in);
	srv->conns[i] = srv->conns[--srv->nconns];
}

/* Close connections whose client has gone and that owe it nothing, so that a client that
 * connects right after another hung up finds its slot (poll may not have reported it yet). */
static void rpc_reap_gone(struct rpc_server *srv)
{
	for (unsigned i = srv->nconns; i-- > 0;) {
		struct rpc_conn *c = &srv->conns[i];
		char b;

		if (!rpc_buf_pending(&c->out) && !c->in_len && recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			rpc_conn_close(srv, i);
	}
}

static void rpc_accept(struct rpc_server *srv, int64_t now)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct rpc_conn *c;
		char msg[128];
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				srv->accept_after = now + RPC_ACCEPT_BACKOFF_MS;
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || len != sizeof(cred)) {
			close(fd);
			continue;
		}
		if (cred.uid != 0 && cred.uid != srv->allow_uid) {
			snprintf(msg, sizeof(msg), "permission denied: uid %u may not use this socket", (unsigned)cred.uid);
			rpc_reject(fd, RPC_ERR_ACCESS, msg);
			continue;
		}
		if (srv->nconns == srv->opts.max_clients)
			rpc_reap_gone(srv);
		if (srv->nconns == srv->opts.max_clients) {
			snprintf(msg, sizeof(msg), "too many clients (%u)", srv->opts.max_clients);
			rpc_reject(fd, RPC_ERR_SERVER_BUSY, msg);
			continue;
		}
		c = &srv->conns[srv->nconns];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->in = malloc(RPC_READ_CHUNK);
		if (!c->in || rpc_stream_init(&c->stream, &srv->reg, srv->opts.max_request)) {
			free(c->in);
			rpc_stream_fini(&c->stream);
			rpc_reject(fd, RPC_ERR_INTERNAL, "out of memory");
			continue;
		}
		c->active_at = now;
		srv->nconns++;
	}
}

/* Parse what was received; returns false if the connection must go now. */
static bool rpc_conn_parse(struct rpc_conn *c, int64_t now)
{
	size_t used;
	int ret;

	if (c->closing || !c->in_len)
		return true;
	ret = rpc_stream_feed(&c->stream, c->in, c->in_len, &used, &c->out, RPC_OUT_LIMIT);
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	if (c->stream.values_started != c->values_seen) {
		c->values_seen = c->stream.values_started;
		c->value_at = now;
	}
	if (ret < 0)
		return false;
	if (ret == RPC_STREAM_CLOSE)
		c->closing = true;
	return true;
}

/* Send what is queued; returns false if the peer is gone. */
static bool rpc_conn_flush(struct rpc_conn *c, int64_t now)
{
	while (rpc_buf_pending(&c->out)) {
		ssize_t n = send(c->fd, c->out.data + c->out.off, rpc_buf_pending(&c->out), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->out.off += (size_t)n;
		c->active_at = now;
	}
	return true;
}

/* Returns false if the connection must go now. */
static bool rpc_conn_io(struct rpc_conn *c, short revents, int64_t now)
{
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->closing && c->in_len < RPC_READ_CHUNK) {
		ssize_t n = recv(c->fd, c->in + c->in_len, RPC_READ_CHUNK - c->in_len, MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (n > 0) {
			c->in_len += (size_t)n;
			c->active_at = now;
		}
		if (!rpc_conn_parse(c, now))
			return false;
		if (n == 0) /* the client sent all it will: answer what is complete, then close */
			c->closing = true;
	}
	for (;;) {
		size_t before = rpc_buf_pending(&c->out);

		if (!rpc_conn_flush(c, now))
			return false;
		if (rpc_buf_pending(&c->out) >= before || !c->in_len)
			break;
		if (!rpc_conn_parse(c, now)) /* responses drained: requests held back by them go on */
			return false;
	}
	return !(c->closing && !rpc_buf_pending(&c->out));
}

/* The time this connection's limit runs out (INT64_MAX: none). */
static int64_t rpc_conn_deadline(const struct rpc_server *srv, const struct rpc_conn *c)
{
	if (rpc_buf_pending(&c->out))
		return c->active_at + srv->opts.request_timeout_ms;
	if (c->stream.in_value && !c->closing)
		return c->value_at + srv->opts.request_timeout_ms;
	return c->active_at + srv->opts.idle_timeout_ms;
}

/* Returns false if the connection must go now. */
static bool rpc_conn_expire(const struct rpc_server *srv, struct rpc_conn *c, int64_t now)
{
	char msg[96];

	if (rpc_buf_pending(&c->out) || !c->stream.in_value || c->closing)
		return false; /* responses unread for too long, or idle */
	snprintf(msg, sizeof(msg), "request incomplete after %u ms", srv->opts.request_timeout_ms);
	if (rpc_buf_put_json(&c->out, rpc_error_response(RPC_ERR_TIMEOUT, msg)))
		return false;
	c->closing = true;
	c->active_at = now;
	return rpc_conn_flush(c, now) && rpc_buf_pending(&c->out);
}

static void *rpc_server_loop(void *arg)
{
	struct rpc_server *srv = arg;

	while (!atomic_load(&srv->stop)) {
		int64_t now = rpc_now_ms(), next = INT64_MAX;
		unsigned n = 2, nconns = srv->nconns;
		int timeout;

		srv->pfds[0] = (struct pollfd){ .fd = srv->wakefd, .events = POLLIN };
		srv->pfds[1] = (struct pollfd){ .fd = now >= srv->accept_after ? srv->lfd : -1, .events = POLLIN };
		if (now < srv->accept_after)
			next = srv->accept_after;
		for (unsigned i = 0; i < nconns; i++) {
			struct rpc_conn *c = &srv->conns[i];
			int64_t d = rpc_conn_deadline(srv, c);
			short ev = 0;

			if (!c->closing && c->in_len < RPC_READ_CHUNK)
				ev |= POLLIN;
			if (rpc_buf_pending(&c->out))
				ev |= POLLOUT;
			srv->pfds[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
			if (d < next)
				next = d;
		}
		timeout = next == INT64_MAX ? -1 : next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
		if (poll(srv->pfds, n, timeout) < 0 && errno != EINTR)
			break;
		if (srv->pfds[0].revents)
			break;
		now = rpc_now_ms();
		/* Backwards, so that closing one (the last moves into its slot) skips none. Limits are
		 * checked only where poll saw nothing: data that arrived while a handler ran is read. */
		for (unsigned i = nconns; i-- > 0;) {
			struct rpc_conn *c = &srv->conns[i];
			short rev = srv->pfds[2 + i].revents;
			bool keep;

			if (rev)
				keep = rpc_conn_io(c, rev, now);
			else
				keep = rpc_conn_deadline(srv, c) > now || rpc_conn_expire(srv, c, now);
			if (!keep)
				rpc_conn_close(srv, i);
		}
		if (srv->pfds[1].revents)
			rpc_accept(srv, now);
	}
	while (srv->nconns)
		rpc_conn_close(srv, srv->nconns - 1);
	return NULL;
}

/* ---- start and stop ---- */

static int rpc_fail(char *err, size_t errlen, int ret, const char *fmt, const char *path)
{
	char why[64];

	snprintf(why, sizeof(why), "%s", strerror(-ret));
	snprintf(err, errlen, fmt, path, why);
	return ret;
}

/* A socket file already there: someone's (refuse) or stale (remove). */
static int rpc_take_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : rpc_fail(err, errlen, -errno, "rpc socket %s: %s", path);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "rpc socket %s: exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return rpc_fail(err, errlen, -errno, "rpc socket %s: %s", path);
	memcpy(sa.sun_path, path, strlen(path));
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	if (ret == 0 || ret == -EAGAIN) {
		if (ret == 0 && !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) && cred.pid > 0)
			snprintf(err, errlen, "rpc socket %s: in use by another process (pid %d)", path, (int)cred.pid);
		else
			snprintf(err, errlen, "rpc socket %s: in use by another process", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	if (ret != -ECONNREFUSED)
		return rpc_fail(err, errlen, ret, "rpc socket %s: %s", path);
	if (unlink(path) && errno != ENOENT) /* nobody listens: a crashed daemon's */
		return rpc_fail(err, errlen, -errno, "rpc socket %s: cannot remove the stale socket: %s", path);
	return 0;
}

/* Two daemons starting on one path at once must not both see a stale socket and replace it. */
static int rpc_lock_path(struct rpc_server *srv, char *err, size_t errlen)
{
	snprintf(srv->lockpath, sizeof(srv->lockpath), "%s.lock", srv->path);
	srv->lockfd = open(srv->lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (srv->lockfd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "rpc socket %s: lock file %s: %s", srv->path, srv->lockpath, strerror(-ret));
		return ret;
	}
	if (flock(srv->lockfd, LOCK_EX | LOCK_NB)) {
		int ret = -errno;

		close(srv->lockfd);
		srv->lockfd = -1;
		if (ret == -EWOULDBLOCK) {
			snprintf(err, errlen, "rpc socket %s: in use by another process (it holds %s)", srv->path,
				 srv->lockpath);
			return -EADDRINUSE;
		}
		snprintf(err, errlen, "rpc socket %s: lock file %s: %s", srv->path, srv->lockpath, strerror(-ret));
		return ret;
	}
	return 0;
}

static int rpc_listen(struct rpc_server *srv, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->lfd < 0)
		return rpc_fail(err, errlen, -errno, "rpc socket %s: %s", srv->path);
	memcpy(sa.sun_path, srv->path, strlen(srv->path));
	/* The file takes the socket inode's mode at bind: never wider than 0600, not even briefly. */
	if (fchmod(srv->lfd, 0600) || bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa)))
		return rpc_fail(err, errlen, -errno, "rpc socket %s: cannot bind: %s", srv->path);
	if (chmod(srv->path, 0600) || stat(srv->path, &st) || listen(srv->lfd, (int)srv->opts.max_clients)) {
		int ret = -errno;

		unlink(srv->path);
		return rpc_fail(err, errlen, ret, "rpc socket %s: %s", srv->path);
	}
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	return 0;
}

static void rpc_server_free(struct rpc_server *srv, bool remove)
{
	struct stat st;

	if (srv->lfd >= 0) {
		/* Remove the socket only if it is still ours (not one a later daemon bound). */
		if (remove && !stat(srv->path, &st) && st.st_dev == srv->dev && st.st_ino == srv->ino)
			unlink(srv->path);
		close(srv->lfd);
	}
	if (srv->lockfd >= 0) {
		unlink(srv->lockpath);
		close(srv->lockfd);
	}
	if (srv->wakefd >= 0)
		close(srv->wakefd);
	free(srv->conns);
	free(srv->pfds);
	free(srv);
}

int rpc_server_start(const struct rpc_server_opts *opts, struct rpc_server **out, char *err, size_t errlen)
{
	struct rpc_server *srv;
	sigset_t all, old;
	int ret;

	*out = NULL;
	if (!opts->path || !strcmp(opts->path, "none"))
		return 0;
	ret = rpc_registry_check(opts->methods, err, errlen);
	if (ret)
		return ret;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return rpc_fail(err, errlen, -ENOMEM, "rpc socket %s: %s", opts->path);
	srv->lfd = srv->wakefd = srv->lockfd = -1;
	srv->opts = *opts;
	if (!srv->opts.max_clients)
		srv->opts.max_clients = 16;
	if (!srv->opts.max_request)
		srv->opts.max_request = 1u << 20;
	if (!srv->opts.request_timeout_ms)
		srv->opts.request_timeout_ms = 5000;
	if (!srv->opts.idle_timeout_ms)
		srv->opts.idle_timeout_ms = 300000;
	srv->allow_uid = opts->allow_uid_set ? opts->allow_uid : geteuid();
	srv->reg = (struct rpc_registry){ opts->methods, opts->ctx };
	if (!*opts->path || strlen(opts->path) >= sizeof(srv->path)) {
		snprintf(err, errlen, "rpc socket '%.120s': the path must have 1 to %zu bytes", opts->path,
			 sizeof(srv->path) - 1);
		free(srv);
		return -ENAMETOOLONG;
	}
	strcpy(srv->path, opts->path);
	srv->conns = calloc(srv->opts.max_clients, sizeof(*srv->conns));
	srv->pfds = calloc(srv->opts.max_clients + 2, sizeof(*srv->pfds));
	if (!srv->conns || !srv->pfds) {
		ret = rpc_fail(err, errlen, -ENOMEM, "rpc socket %s: %s", srv->path);
		goto fail;
	}
	if ((ret = rpc_lock_path(srv, err, errlen)) || (ret = rpc_take_path(srv->path, err, errlen)) ||
	    (ret = rpc_listen(srv, err, errlen)))
		goto fail;
	srv->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->wakefd < 0) {
		ret = rpc_fail(err, errlen, -errno, "rpc socket %s: eventfd: %s", srv->path);
		goto fail;
	}
	/* Signals stay with the daemon's main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&srv->thread, NULL, rpc_server_loop, srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		rpc_fail(err, errlen, ret, "rpc socket %s: thread: %s", srv->path);
		goto fail;
	}
	*out = srv;
	return 0;
fail:
	rpc_server_free(srv, true);
	return ret;
}

void rpc_server_stop(struct rpc_server *srv)
{
	uint64_t one = 1;

	if (!srv)
		return;
	atomic_store(&srv->stop, true);
	(void)!write(srv->wakefd, &one, sizeof(one));
	pthread_join(srv->thread, NULL);
	rpc_server_free(srv, true);
}
