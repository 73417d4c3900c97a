/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP queue lifecycle: creation at accept with a small footprint, growth at Connect to
 * what SQSIZE grants, the request pool, timeouts (ICReq, Connect, a PDU started and not
 * finished, an R2T not answered, a peer that stopped reading), and the ownership rule: a
 * queue is freed only by the worker loop between completion batches (tcp_reap), never from a
 * completion or command handler that may still hold it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/auth.h"
#include "core/budget.h"
#include "ctrl.h"
#include "listener.h"
#include "log.h"
#include "stream_tls.h"
#include "target.h"
#include "tcp.h"
#include "worker.h"

static void tcp_queue_close_op(struct nvr_queue *q)
{
	tcp_close(tcp_of(q), NULL);
}

static int tcp_local_addr(struct nvr_queue *q, char *out, size_t len);

static const char *tcp_tls_identity(struct nvr_queue *q)
{
	return stream_tls_identity(tcp_of(q)->st);
}

static const struct nvr_queue_ops tcp_queue_ops = {
	.tls_identity = tcp_tls_identity,
	.check_data = tcp_check_sgl,
	.queue_response = tcp_queue_response,
	.solicit_data = tcp_solicit_data,
	.connected = tcp_queue_connected,
	.local_addr = tcp_local_addr,
	.close = tcp_queue_close_op,
};

/* Most requests a queue may hold: twice its depth, so that responses still on the wire never
 * make a full queue of new commands wait; before Connect just enough for Connect itself. */
static unsigned tcp_pool_max(const struct tcp_queue *t)
{
	return t->q.ctrl ? 2 * queue_depth(&t->q) : TCP_POOL_SMALL;
}

struct tcp_req *tcp_req_get(struct tcp_queue *t)
{
	struct tcp_req *tr = t->free_reqs;

	if (tr) {
		t->free_reqs = tr->send_next;
	} else {
		/* requests are made as the queue first needs them: an idle queue holds none */
		if (t->nr_reqs >= tcp_pool_max(t) || !(tr = calloc(1, sizeof(*tr))))
			return NULL;
		tr->ttag = (uint16_t)t->nr_reqs;
		tr->req.q = &t->q;
		tr->req.io.buf_index = -1;
		t->reqs[t->nr_reqs++] = tr;
	}
	t->busy_reqs++;
	tr->send_next = NULL;
	tr->h2c_done = 0;
	tr->iovcnt = tr->iov_done = 0;
	memset(&tr->req.cqe, 0, sizeof(tr->req.cqe));
	tr->req.ns = NULL;
	tr->req.dir = REQ_DIR_NONE;
	tr->req.status = 0;
	tr->req.data_error = tr->req.zero_copy = tr->req.data_in = false;
	tr->req.data_len = tr->req.xfer_len = tr->req.aux_need = 0;
	tr->req.buf = tr->req.aux = NULL;
	tr->req.buf_size = tr->req.aux_size = 0;
	tr->req.step = 0;
	return tr;
}

/* Back to the pool, without side effects on the queue. */
static void tcp_req_release(struct tcp_queue *t, struct tcp_req *tr)
{
	if (tr->r2t_ms) {
		tr->r2t_ms = 0;
		t->h2c_waiting--;
	}
	req_release(&tr->req);
	tr->send_next = t->free_reqs;
	t->free_reqs = tr;
	t->busy_reqs--;
}

void tcp_req_put(struct tcp_queue *t, struct tcp_req *tr)
{
	tcp_req_release(t, tr);
	if (t->rx_paused && t->state < TQ_ERROR) {
		t->rx_paused = false;
		tcp_parse(t);
	}
	tcp_check_drained(t);
}

static int tcp_grow_pool(struct tcp_queue *t, unsigned n)
{
	struct tcp_req **reqs = realloc(t->reqs, n * sizeof(*reqs));

	if (!reqs)
		return -ENOMEM;
	t->reqs = reqs;
	return 0;
}

int tcp_queue_connected(struct nvr_queue *q)
{
	struct tcp_queue *t = tcp_of(q);

	if (tcp_grow_pool(t, tcp_pool_max(t)))
		return -ENOMEM;
	/* a recv or send may be in flight on the small buffers: they grow when none is */
	t->rbuf_want = q->qid ? TCP_RBUF_IO : TCP_RBUF_ADMIN;
	t->tx_iov_want = TCP_TX_IOV;
	t->state = TQ_LIVE;
	t->deadline_ms = 0;
	return 0;
}

struct tcp_queue *tcp_queue_create(struct worker *w, int fd, struct nvr_port *port, const char *peer,
				   struct peer_count *peer_slot)
{
	/* a port with TLS required or optional: TLS (or, if optional, sniffed plaintext) */
	struct stream *st = port->treq ? stream_tls_create(&w->ex, fd, port->treq == 1, peer)
				       : stream_plain_create(&w->ex, fd);
	int one = 1;

	if (st) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return tcp_queue_new(w, st, fd, port, peer, peer_slot);
	}
	log_err("%s: out of memory for a new connection", peer);
	listener_conn_gone(w->tgt, peer_slot);
	close(fd);
	return NULL;
}

struct tcp_queue *tcp_queue_new(struct worker *w, struct stream *st, int fd, struct nvr_port *port,
				const char *peer, struct peer_count *peer_slot)
{
	const struct nvr_limits *lim = &w->tgt->limits;
	struct tcp_queue *t = calloc(1, sizeof(*t));

	if (!t)
		goto fail;
	t->rbuf = malloc(TCP_RBUF_SMALL);
	t->reqs = calloc(TCP_POOL_SMALL, sizeof(*t->reqs));
	if (!t->rbuf || !t->reqs) {
		free(t->reqs);
		free(t->rbuf);
		free(t);
		goto fail;
	}
	t->st = st;
	t->rbuf_size = TCP_RBUF_SMALL;
	t->tx_iov = t->tx_iov_small;
	t->tx_iov_cap = TCP_TX_IOV_SMALL;
	t->st->owner = t;
	t->st->on_recv = tcp_on_recv;
	t->st->on_send = tcp_on_send;
	t->fd = fd;
	t->peer_slot = peer_slot;
	t->q.ops = &tcp_queue_ops;
	t->q.w = w;
	t->q.port = port;
	t->q.max_icd = NVR_ADMIN_ICD; /* until Connect tells which queue this is */
	t->q.buf_limit = lim->max_inflight_per_conn;
	t->q.zero_copy_ok = true;
	snprintf(t->q.peer, sizeof(t->q.peer), "%s", peer);
	t->state = TQ_WAIT_ICREQ;
	t->rx_state = TQ_RX_PDU;
	t->pdu_rx.accept = TCP_PDU_TO_TARGET;
	t->maxh2cdata = NVR_MDTS_BYTES;
	if (lim->icreq_timeout_ms) {
		t->deadline_ms = w->now_ms + lim->icreq_timeout_ms;
		t->deadline_what = "no ICReq";
	}
	t->next = w->conns;
	if (w->conns)
		w->conns->prev = t;
	w->conns = t;
	log_debug("%s: connected on worker %d", t->q.peer, w->id);
	tcp_arm_recv(t);
	return t;
fail:
	log_err("%s: out of memory for a new connection", peer);
	st->ops->destroy(st);
	listener_conn_gone(w->tgt, peer_slot);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void tcp_free(struct tcp_queue *t)
{
	struct worker *w = t->q.w;

	if (t->prev)
		t->prev->next = t->next;
	else
		w->conns = t->next;
	if (t->next)
		t->next->prev = t->prev;
	if (t->tx_listed) {
		struct tcp_queue **pp = &w->tx_pending;

		while (*pp != t)
			pp = &(*pp)->tx_next;
		*pp = t->tx_next;
	}
	log_debug("%s: connection freed", t->q.peer);
	listener_conn_gone(w->tgt, t->peer_slot);
	auth_queue_free(&t->q);
	t->st->ops->destroy(t->st);
	if (t->fd >= 0)
		close(t->fd);
	for (unsigned i = 0; i < t->nr_reqs; i++)
		free(t->reqs[i]);
	free(t->reqs);
	free(t->rbuf);
	if (t->tx_iov != t->tx_iov_small)
		free(t->tx_iov);
	free(t);
	w->freed_since_trim++;
}

/* The kernel holds none of the queue's buffers any more: requests not in a backend can go. */
static void tcp_release_stalled(struct tcp_queue *t)
{
	for (unsigned i = 0; i < t->nr_reqs; i++) {
		struct tcp_req *tr = t->reqs[i];

		switch (tr->req.state) {
		case REQ_FREE:
		case REQ_EXECUTING:
			break; /* a backend still has it: it comes back through req_complete */
		default:
			tcp_req_release(t, tr);
			break;
		}
	}
	t->sendq_head = t->sendq_tail = NULL;
}

void tcp_reap(struct worker *w)
{
	struct tcp_queue **pp = &w->reap;

	while (*pp) {
		struct tcp_queue *t = *pp;

		if (t->st->ops->busy(t->st)) {
			pp = &t->reap_next;
			continue;
		}
		tcp_release_stalled(t);
		if (t->busy_reqs) {
			pp = &t->reap_next;
			continue;
		}
		*pp = t->reap_next;
		tcp_free(t);
	}
}

void tcp_check_drained(struct tcp_queue *t)
{
	unsigned held = 0;

	if (!t->q.draining || t->state != TQ_LIVE || t->sendq_head || t->send_armed)
		return;
	for (unsigned i = 0; i < t->nr_reqs; i++)
		held += t->reqs[i]->req.state == REQ_HELD;
	if (t->busy_reqs == held)
		tcp_close(t, NULL);
}

void tcp_close(struct tcp_queue *t, const char *why)
{
	struct worker *w = t->q.w;

	if (t->state == TQ_CLOSING)
		return;
	if (why)
		log_info("%s: %s, closing", t->q.peer, why);
	t->state = TQ_CLOSING;
	t->rx_state = TQ_RX_STOP;
	t->st->ops->shutdown(t->st);
	if (t->q.ctrl)
		ctrl_queue_gone(&t->q);
	t->reap_next = w->reap;
	w->reap = t;
}

/* ---- timeouts ------------------------------------------------------------------------ */

#define TCP_DRAIN_MS 5000

static bool tcp_r2t_overdue(const struct tcp_queue *t, uint64_t now, uint32_t limit)
{
	for (unsigned i = 0; i < t->nr_reqs; i++) {
		const struct tcp_req *tr = t->reqs[i];

		if (tr->r2t_ms && now - tr->r2t_ms > limit)
			return true;
	}
	return false;
}

/* The reason this queue must go now, or NULL. */
static const char *tcp_expired(const struct tcp_queue *t, uint64_t now, uint32_t pdu_ms)
{
	if (t->deadline_ms && now > t->deadline_ms)
		return t->deadline_what;
	if (!pdu_ms)
		return NULL;
	if (t->pdu_start_ms && now - t->pdu_start_ms > pdu_ms)
		return "PDU timeout: a PDU started and not finished";
	if (t->send_armed && now - t->send_since_ms > pdu_ms)
		return "send timeout: the peer stopped reading";
	if (t->h2c_waiting && tcp_r2t_overdue(t, now, pdu_ms))
		return "PDU timeout: no H2CData for an R2T";
	return NULL;
}

/* Many connections gone (a flood that ended, hosts that left): give their memory back to the
 * system instead of keeping it in malloc's free lists. Rare, and from the tick only. */
#define TCP_TRIM_AFTER 256

void tcp_tick(struct worker *w)
{
	uint32_t pdu_ms = w->tgt->limits.pdu_timeout_ms;
	uint64_t now = w->now_ms;
	struct tcp_queue *t, *next;

	if (w->freed_since_trim >= TCP_TRIM_AFTER) {
		w->freed_since_trim = 0;
		malloc_trim(0);
	}
	for (t = w->conns; t; t = next) {
		const char *why;

		next = t->next;
		if (t->state == TQ_CLOSING)
			continue;
		if (t->q.draining) {
			if (now > t->drain_deadline_ms)
				tcp_close(t, NULL);
			continue;
		}
		why = tcp_expired(t, now, pdu_ms);
		if (!why && auth_expired(&t->q, now))
			why = "authentication failed or timed out";
		if (why)
			tcp_close(t, why);
		else if (t->state == TQ_LIVE && t->q.ctrl)
			ctrl_check_keepalive(&t->q, now);
	}
}

void tcp_worker_stop(struct worker *w)
{
	struct tcp_queue *t, *next;

	for (t = w->conns; t; t = next) {
		next = t->next;
		t->q.draining = true;
		t->drain_deadline_ms = w->now_ms + TCP_DRAIN_MS;
		if (t->state != TQ_LIVE)
			tcp_close(t, NULL);
		else
			tcp_check_drained(t);
	}
}

static int tcp_local_addr(struct nvr_queue *q, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const void *a;

	if (getsockname(tcp_of(q)->fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		a = &((struct sockaddr_in *)&ss)->sin_addr;
	else if (ss.ss_family == AF_INET6)
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	else
		return -EAFNOSUPPORT;
	return inet_ntop(ss.ss_family, a, out, (socklen_t)len) ? 0 : -errno;
}
