/* SPDX-License-Identifier: MIT */
/*
 * Listening sockets. Worker 0 accepts on every port and places each new queue pair on the
 * next worker in turn, so the queues of one controller spread over all cores.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "target.h"
#include "tcp/tcp.h"

/* Waiting for a listener to be closed (listener_remove). */
struct listener_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

/* A listening socket; on worker 0's list once armed. Holds a reference on its port. */
struct listener {
	struct ring_op accept_op;
	struct ring_op cancel_op;
	struct worker *w;
	struct nvr_port *port;
	struct listener *next;
	int fd;
	bool closing;
	bool multishot;      /* one armed accept takes every connection (5.19+) */
	bool accept_done;    /* closing: the accept's last CQE came */
	bool cancel_pending; /* closing: the cancel's CQE has not come yet */
	struct listener_wait *wait;
	struct sockaddr_storage peer;
	socklen_t peer_len;
};

struct conn_place_msg {
	struct worker_msg msg;
	int fd;
	struct nvr_port *port;
	struct peer_count *slot;
	char peer[64];
};

/* ---- connection limits ------------------------------------------------------------- */

/* Connections from one peer address (counted while they live). */
struct peer_addr {
	struct peer_addr *next;
	unsigned n;
	int family;
	uint8_t addr[16];
};

/*
 * What a live connection holds (the transport keeps it opaque, as `struct peer_count *`, and
 * gives it back to listener_conn_gone): its address's count and a reference on its port.
 */
struct peer_count {
	struct peer_addr *addr;
	struct nvr_port *port;
};

#define PEER_BUCKETS 1024

struct conn_limits {
	pthread_mutex_t lock;
	unsigned total;
	struct peer_addr *bucket[PEER_BUCKETS];
	uint64_t refused;    /* connections closed at accept by a limit */
	uint64_t last_log_ms;
};

int listener_limits_init(struct target *tgt)
{
	tgt->conn_limits = calloc(1, sizeof(*tgt->conn_limits));
	if (!tgt->conn_limits)
		return -ENOMEM;
	pthread_mutex_init(&tgt->conn_limits->lock, NULL);
	return 0;
}

void listener_limits_free(struct target *tgt)
{
	struct conn_limits *cl = tgt->conn_limits;

	if (!cl)
		return;
	for (unsigned i = 0; i < PEER_BUCKETS; i++) {
		while (cl->bucket[i]) {
			struct peer_addr *p = cl->bucket[i];

			cl->bucket[i] = p->next;
			free(p);
		}
	}
	pthread_mutex_destroy(&cl->lock);
	free(cl);
	tgt->conn_limits = NULL;
}

static void peer_addr(const struct sockaddr_storage *sa, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	*family = sa->ss_family;
	if (sa->ss_family == AF_INET6)
		memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	else
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
}

static unsigned peer_hash(int family, const uint8_t addr[16])
{
	uint32_t h = 2166136261u ^ (uint32_t)family;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h % PEER_BUCKETS;
}

/* Count a new connection from sa on port: its ticket, or NULL (with *why) when a limit says no. */
static struct peer_count *conn_admit(struct target *tgt, struct nvr_port *port, const struct sockaddr_storage *sa,
				     const char **why)
{
	struct conn_limits *cl = tgt->conn_limits;
	struct peer_count *ticket = malloc(sizeof(*ticket));
	struct peer_addr *p;
	bool fresh = false;
	uint8_t addr[16];
	int family;
	unsigned b;

	if (!ticket) {
		*why = "out of memory";
		return NULL;
	}
	peer_addr(sa, &family, addr);
	b = peer_hash(family, addr);
	pthread_mutex_lock(&cl->lock);
	for (p = cl->bucket[b]; p; p = p->next)
		if (p->family == family && !memcmp(p->addr, addr, 16))
			break;
	*why = NULL;
	if (cl->total >= tgt->limits.max_conns)
		*why = "--max-connections";
	else if (p && p->n >= tgt->limits.max_conns_per_host)
		*why = "--max-connections-per-host";
	else if (!p && (fresh = true) && !(p = calloc(1, sizeof(*p))))
		*why = "out of memory";
	if (*why) {
		cl->refused++;
		pthread_mutex_unlock(&cl->lock);
		free(ticket);
		return NULL;
	}
	if (fresh) {
		p->family = family;
		memcpy(p->addr, addr, 16);
		p->next = cl->bucket[b];
		cl->bucket[b] = p;
	}
	p->n++;
	cl->total++;
	pthread_mutex_unlock(&cl->lock);
	ticket->addr = p;
	ticket->port = port;
	port_get(port);
	return ticket;
}

void listener_conn_gone(struct target *tgt, struct peer_count *ticket)
{
	struct conn_limits *cl = tgt->conn_limits;
	struct peer_addr *slot;

	if (!ticket)
		return;
	slot = ticket->addr;
	pthread_mutex_lock(&cl->lock);
	cl->total--;
	if (--slot->n == 0) {
		struct peer_addr **pp = &cl->bucket[peer_hash(slot->family, slot->addr)];

		while (*pp != slot)
			pp = &(*pp)->next;
		*pp = slot->next;
		free(slot);
	}
	pthread_mutex_unlock(&cl->lock);
	port_put(ticket->port);
	free(ticket);
}

/* Every listener: worker 0's once it runs (before: start-up's). */
static struct listener *listeners;

static void listener_wait_done(struct listener_wait *wait)
{
	pthread_mutex_lock(&wait->lock);
	wait->done = true;
	pthread_cond_signal(&wait->cond);
	pthread_mutex_unlock(&wait->lock);
}

/* Both its last CQEs came: nothing on the ring points at it any more. */
static void listener_release(struct listener *l)
{
	struct listener **pp = &listeners;

	if (!l->accept_done || l->cancel_pending)
		return;
	while (*pp && *pp != l)
		pp = &(*pp)->next;
	if (*pp)
		*pp = l->next;
	port_put(l->port);
	free(l);
}

/*
 * The accept backlog: as deep as the system allows (net.core.somaxconn), so a burst of hosts
 * connecting at once (every queue of every controller) is never answered by SYN retransmits.
 */
static int listener_backlog(unsigned configured)
{
	FILE *f;
	int n = 0;

	if (configured)
		return (int)configured;
	f = fopen("/proc/sys/net/core/somaxconn", "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n > 0 ? n : 4096;
}

int listener_open(struct nvr_port *port, unsigned backlog, int *fd_out, char *err, size_t errlen)
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
	if (bind(fd, (struct sockaddr *)&port->sa, len) < 0 || listen(fd, listener_backlog(backlog)) < 0)
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

	if (w->stopping) {
		listener_conn_gone(w->tgt, pm->slot);
		close(pm->fd);
	} else {
		tcp_queue_create(w, pm->fd, pm->port, pm->peer, pm->slot);
	}
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
	struct peer_count *slot;
	const char *why;
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
		if (l->wait)
			listener_wait_done(l->wait); /* the address is free again */
		l->wait = NULL;
		l->accept_done = true;
		listener_release(l);
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
	slot = conn_admit(tgt, l->port, &l->peer, &why);
	if (!slot) {
		/* a flood must not flood the log too: one line per second */
		if (w->now_ms - tgt->conn_limits->last_log_ms >= 1000) {
			tgt->conn_limits->last_log_ms = w->now_ms;
			log_info("%s: connection refused (%s; %llu refused so far)", peer, why,
				 (unsigned long long)tgt->conn_limits->refused);
		}
		close(cqe->res);
	} else {
		idx = atomic_fetch_add(&tgt->next_worker, 1) % tgt->nr_workers;
		if (&tgt->workers[idx] == w) {
			tcp_queue_create(w, cqe->res, l->port, peer, slot);
		} else {
			struct conn_place_msg *pm = calloc(1, sizeof(*pm));

			if (!pm) {
				listener_conn_gone(tgt, slot);
				close(cqe->res);
			} else {
				pm->msg.fn = conn_place_run;
				pm->fd = cqe->res;
				pm->port = l->port;
				pm->slot = slot;
				snprintf(pm->peer, sizeof(pm->peer), "%s", peer);
				worker_post(&tgt->workers[idx], &pm->msg);
			}
		}
	}
	if (!armed)
		listener_arm(l);
}

static void listener_cancel_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct listener *l = container_of(op, struct listener, cancel_op);

	(void)cqe;
	l->cancel_pending = false;
	listener_release(l);
}

static struct listener *listener_new(struct worker *w0, struct nvr_port *port, int fd)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->fd = fd;
	l->port = port;
	port_get(port);
	l->w = w0;
	l->multishot = true;
	l->accept_op.complete = listener_accept_done;
	l->cancel_op.complete = listener_cancel_done;
	return l;
}

int listener_setup(struct target *tgt, const int *fds)
{
	for (unsigned i = tgt->nr_ports; i-- > 0;) {
		struct listener *l = listener_new(&tgt->workers[0], tgt->ports[i], fds[i]);

		if (!l)
			return -ENOMEM;
		l->next = listeners;
		listeners = l;
		tgt->workers[0].nr_listeners++;
	}
	return 0;
}

void listener_start(struct worker *w)
{
	if (w->id != 0)
		return;
	for (struct listener *l = listeners; l; l = l->next)
		listener_arm(l);
}

static void listener_close(struct worker *w, struct listener *l)
{
	struct io_uring_sqe *sqe;

	if (l->closing)
		return;
	sqe = worker_get_sqe(w);
	l->closing = true;
	l->cancel_pending = true;
	io_uring_prep_cancel(sqe, &l->accept_op, 0);
	ring_op_attach(sqe, &l->cancel_op);
}

void listener_stop(struct worker *w)
{
	if (w->id != 0)
		return;
	for (struct listener *l = listeners; l; l = l->next)
		listener_close(w, l);
}

/* ---- run time (control thread, through worker 0) ---------------------------------- */

struct listener_msg {
	struct worker_msg msg;
	struct listener *l;          /* add */
	struct nvr_port *port;       /* remove */
	struct listener_wait *wait;
};

static void listener_add_run(struct worker *w, struct worker_msg *m)
{
	struct listener_msg *lm = container_of(m, struct listener_msg, msg);
	struct listener *l = lm->l;

	free(lm);
	if (w->stopping) {
		close(l->fd);
		port_put(l->port);
		free(l);
		return;
	}
	l->next = listeners;
	listeners = l;
	w->nr_listeners++;
	listener_arm(l);
}

int listener_add(struct target *tgt, struct nvr_port *port, int fd)
{
	struct worker *w0 = &tgt->workers[0];
	struct listener_msg *lm = calloc(1, sizeof(*lm));
	struct listener *l = lm ? listener_new(w0, port, fd) : NULL;

	if (!l) {
		free(lm);
		return -ENOMEM;
	}
	lm->msg.fn = listener_add_run;
	lm->l = l;
	worker_post(w0, &lm->msg);
	return 0;
}

static void listener_remove_run(struct worker *w, struct worker_msg *m)
{
	struct listener_msg *lm = container_of(m, struct listener_msg, msg);
	struct listener *l = listeners;

	while (l && (l->port != lm->port || l->closing))
		l = l->next;
	if (l && !w->stopping) {
		l->wait = lm->wait;
		listener_close(w, l);
	} else {
		listener_wait_done(lm->wait); /* already closing: the stop closes it */
	}
	free(lm);
}

int listener_remove(struct target *tgt, struct nvr_port *port)
{
	struct listener_wait wait = { .done = false };
	struct listener_msg *lm = calloc(1, sizeof(*lm));

	if (!lm)
		return -ENOMEM;
	pthread_mutex_init(&wait.lock, NULL);
	pthread_cond_init(&wait.cond, NULL);
	lm->msg.fn = listener_remove_run;
	lm->port = port;
	lm->wait = &wait;
	worker_post(&tgt->workers[0], &lm->msg);
	pthread_mutex_lock(&wait.lock);
	while (!wait.done)
		pthread_cond_wait(&wait.cond, &wait.lock);
	pthread_mutex_unlock(&wait.lock);
	pthread_cond_destroy(&wait.cond);
	pthread_mutex_destroy(&wait.lock);
	return 0;
}

void listener_free(void)
{
	while (listeners) {
		struct listener *l = listeners;

		listeners = l->next;
		if (l->fd >= 0)
			close(l->fd);
		port_put(l->port);
		free(l);
	}
}
