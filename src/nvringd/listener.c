/* SPDX-License-Identifier: MIT */
/*
 * Listening sockets. Worker 0 accepts on every port and places each new queue pair on the
 * next worker in turn, so the queues of one controller spread over all cores.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "listener.h"
#include "log.h"
#include "target.h"

struct listener {
	struct ring_op accept_op;
	struct ring_op cancel_op;
	struct worker *w;
	struct nvr_port *port;
	int fd;
	bool closing;
	bool multishot;      /* one armed accept takes every connection (5.19+) */
	struct sockaddr_storage peer;
	socklen_t peer_len;
};

struct conn_place_msg {
	struct worker_msg msg;
	int fd;
	struct nvr_port *port;
	char peer[64];
};

static struct listener *listeners;
static unsigned nr_listeners;

/*
 * The accept backlog: as deep as the system allows (net.core.somaxconn), so a burst of hosts
 * connecting at once (every queue of every controller) is never answered by SYN retransmits.
 */
static int listener_backlog(void)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	int n = 0;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n > 0 ? n : 4096;
}

int listener_open(struct nvr_port *port, int *fd_out, char *err, size_t errlen)
{
	int fd, one = 1;
	socklen_t len;

	fd = socket(port->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (port->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	len = port->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (bind(fd, (struct sockaddr *)&port->sa, len) < 0 || listen(fd, listener_backlog()) < 0)
		goto fail;
	/* port 0: learn the port the kernel chose, for the log and the discovery log */
	len = sizeof(port->sa);
	getsockname(fd, (struct sockaddr *)&port->sa, &len);
	snprintf(port->trsvcid, sizeof(port->trsvcid), "%u",
		 ntohs(port->family == AF_INET6 ? ((struct sockaddr_in6 *)&port->sa)->sin6_port
						: ((struct sockaddr_in *)&port->sa)->sin_port));
	*fd_out = fd;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on %s:%s: %s", port->traddr, port->trsvcid, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static void peer_name(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		port = ntohs(s6->sin6_port);
		snprintf(buf, len, "[%s]:%u", addr, port);
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		port = ntohs(s4->sin_port);
		snprintf(buf, len, "%s:%u", addr, port);
	}
}

static void conn_place_run(struct worker *w, struct worker_msg *m)
{
	struct conn_place_msg *pm = container_of(m, struct conn_place_msg, msg);

	if (w->stopping)
		close(pm->fd);
	else
		conn_create(w, pm->fd, pm->port, pm->peer);
	free(pm);
}

static void listener_arm(struct listener *l)
{
	struct io_uring_sqe *sqe = worker_get_sqe(l->w);

	l->peer_len = sizeof(l->peer);
	if (l->multishot)
		/* the peer address is read with getpeername: a multishot accept has no address slot */
		io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_CLOEXEC);
	else
		io_uring_prep_accept(sqe, l->fd, (struct sockaddr *)&l->peer, &l->peer_len, SOCK_CLOEXEC);
	ring_op_attach(sqe, &l->accept_op);
}

static void listener_accept_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct listener *l = container_of(op, struct listener, accept_op);
	struct worker *w = l->w;
	struct target *tgt = w->tgt;
	char peer[64];
	unsigned idx;

	bool armed = l->multishot && (cqe->flags & IORING_CQE_F_MORE);

	if (l->closing || w->stopping) {
		if (cqe->res >= 0)
			close(cqe->res);
		if (armed)
			return; /* the cancel's final CQE comes later */
		if (l->fd >= 0) {
			close(l->fd);
			l->fd = -1;
		}
		w->nr_listeners--;
		return;
	}
	if (cqe->res < 0) {
		if (l->multishot && cqe->res == -EINVAL) {
			l->multishot = false; /* a kernel before 5.19: one accept at a time */
		} else if (cqe->res != -EINTR && cqe->res != -ECONNABORTED) {
			log_err("accept on port %s: %s", l->port->trsvcid, strerror(-cqe->res));
		}
		if (!armed)
			listener_arm(l);
		return;
	}
	if (l->multishot) {
		l->peer_len = sizeof(l->peer);
		if (getpeername(cqe->res, (struct sockaddr *)&l->peer, &l->peer_len) < 0)
			memset(&l->peer, 0, sizeof(l->peer));
	}
	peer_name(&l->peer, peer, sizeof(peer));
	idx = atomic_fetch_add(&tgt->next_worker, 1) % tgt->nr_workers;
	if (&tgt->workers[idx] == w) {
		conn_create(w, cqe->res, l->port, peer);
	} else {
		struct conn_place_msg *pm = calloc(1, sizeof(*pm));

		if (!pm) {
			close(cqe->res);
		} else {
			pm->msg.fn = conn_place_run;
			pm->fd = cqe->res;
			pm->port = l->port;
			snprintf(pm->peer, sizeof(pm->peer), "%s", peer);
			worker_post(&tgt->workers[idx], &pm->msg);
		}
	}
	if (!armed)
		listener_arm(l);
}

static void listener_cancel_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	(void)op;
	(void)cqe;
}

int listener_setup(struct target *tgt, const int *fds)
{
	listeners = calloc(tgt->nr_ports, sizeof(*listeners));
	if (!listeners)
		return -ENOMEM;
	nr_listeners = tgt->nr_ports;
	for (unsigned i = 0; i < tgt->nr_ports; i++) {
		listeners[i].fd = fds[i];
		listeners[i].port = &tgt->ports[i];
		listeners[i].w = &tgt->workers[0];
		listeners[i].multishot = true;
		listeners[i].accept_op.complete = listener_accept_done;
		listeners[i].cancel_op.complete = listener_cancel_done;
	}
	tgt->workers[0].nr_listeners = nr_listeners;
	return 0;
}

void listener_start(struct worker *w)
{
	if (w->id != 0)
		return;
	for (unsigned i = 0; i < nr_listeners; i++)
		listener_arm(&listeners[i]);
}

void listener_stop(struct worker *w)
{
	if (w->id != 0)
		return;
	for (unsigned i = 0; i < nr_listeners; i++) {
		struct io_uring_sqe *sqe = worker_get_sqe(w);

		listeners[i].closing = true;
		io_uring_prep_cancel(sqe, &listeners[i].accept_op, 0);
		ring_op_attach(sqe, &listeners[i].cancel_op);
	}
}

void listener_free(void)
{
	free(listeners);
	listeners = NULL;
	nr_listeners = 0;
}
