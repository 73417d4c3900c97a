/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.3 PSK under the NVMe/TCP PDU code (TP 8011): the server side of a src/tls session on
 * the worker's ring. The handshake runs first; then, where the kernel has a `tls` module, the
 * socket switches to kernel TLS and the stream is plain recvmsg/sendmsg again (non-data records
 * are read through a control message); elsewhere records are decrypted straight into the
 * PDU layer's buffers and its gathered sends are packed into full records.
 *
 * A port with TLS optional ("not required") sniffs the first bytes: a ClientHello starts TLS,
 * anything else is plaintext NVMe/TCP and passes through. A port with TLS required refuses
 * plaintext with a log line.
 *
 * Completions never run inside the call that started an operation: they are deferred to the
 * event loop (executor_defer), or come from the socket operation's CQE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "stream.h"
#include "stream_tls.h"
#include "tls/ktls.h"
#include "tls/session.h"

enum tls_phase {
	PH_SNIFF,     /* optional TLS: waiting for the first bytes */
	PH_HANDSHAKE,
	PH_USER,      /* userspace records */
	PH_KTLS,      /* the kernel encrypts and decrypts */
	PH_PLAIN,     /* optional TLS and the host spoke plaintext */
	PH_DEAD,
};

#define SNIFF_BYTES 8

struct stream_tls {
	struct stream s;
	enum tls_phase phase;
	bool required;
	struct tls_sess *sess;
	char peer[64];

	/* the PDU layer's pending operations */
	const struct iovec *riov;
	int rn;
	const struct iovec *siov;
	int sn;
	struct exec_completion recv_done, send_done;
	int recv_res, send_res;
	bool recv_deferred, send_deferred;

	/* socket operations */
	struct ring_op sock_recv_op, sock_send_op;
	bool sock_recv_armed, sock_send_armed;
	struct msghdr rmsg, smsg;
	struct iovec sock_riov[3], sock_siov;
	uint8_t cmsg[TLS_KTLS_CMSG_SPACE];
	uint8_t sniff[SNIFF_BYTES];
	uint32_t sniff_len, sniff_off;
	bool eof, down;
};

static void tls_pump(struct stream_tls *t);

static uint64_t tls_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- completions to the PDU layer --------------------------------------------------- */

static void tls_recv_done_run(struct exec_completion *c)
{
	struct stream_tls *t = container_of(c, struct stream_tls, recv_done);

	t->recv_deferred = false;
	t->s.on_recv(&t->s, t->recv_res);
}

static void tls_send_done_run(struct exec_completion *c)
{
	struct stream_tls *t = container_of(c, struct stream_tls, send_done);

	t->send_deferred = false;
	t->s.on_send(&t->s, t->send_res);
}

static void tls_complete_recv(struct stream_tls *t, int res)
{
	t->rn = 0;
	t->recv_res = res;
	t->recv_deferred = true;
	executor_defer(t->s.ex, &t->recv_done);
}

static void tls_complete_send(struct stream_tls *t, int res)
{
	t->sn = 0;
	t->send_res = res;
	t->send_deferred = true;
	executor_defer(t->s.ex, &t->send_done);
}

static void tls_fail(struct stream_tls *t, int err)
{
	/* a reset or our own shutdown of an established connection is an ordinary end */
	if (t->phase != PH_DEAD && !t->down && (err != -ECONNRESET || t->phase == PH_HANDSHAKE))
		log_info("%s: TLS: %s", t->peer, t->sess && tls_sess_error(t->sess)[0] ? tls_sess_error(t->sess) : strerror(-err));
	t->phase = PH_DEAD;
	if (t->rn)
		tls_complete_recv(t, err);
	if (t->sn)
		tls_complete_send(t, err);
}

/* ---- the socket ------------------------------------------------------------------------ */

static void tls_sock_recv_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct stream_tls *t = container_of(op, struct stream_tls, sock_recv_op);
	int res = cqe->res;

	t->sock_recv_armed = false;
	if (t->down) {
		tls_fail(t, -ECONNRESET);
		return;
	}
	switch (t->phase) {
	case PH_SNIFF:
		if (res <= 0) {
			tls_fail(t, res ? res : -ECONNRESET);
			return;
		}
		t->sniff_len += (uint32_t)res;
		break;
	case PH_HANDSHAKE:
	case PH_USER:
		if (res < 0) {
			tls_fail(t, res);
			return;
		}
		if (res == 0) {
			t->eof = true;
			tls_sess_rx_eof(t->sess);
		} else {
			tls_sess_rx_commit(t->sess, (size_t)res);
		}
		break;
	case PH_KTLS:
	case PH_PLAIN: {
		int type = t->phase == PH_KTLS && res > 0 ? tls_ktls_cmsg_type(&t->rmsg) : TLS_RT_DATA;
		char why[128];

		if (type != TLS_RT_DATA) {
			int r = type < 0 ? type
					 : tls_ktls_control_record(type, t->riov[0].iov_base, (size_t)res, why, sizeof(why));

			if (r == 1)
				break; /* ignored (a ticket): read on */
			log_info("%s: TLS: %s", t->peer, type < 0 ? "control data truncated" : why);
			tls_complete_recv(t, r == 0 ? 0 : r);
			return;
		}
		tls_complete_recv(t, res);
		return;
	}
	case PH_DEAD:
		return;
	}
	tls_pump(t);
}

static void tls_sock_send_cqe(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct stream_tls *t = container_of(op, struct stream_tls, sock_send_op);
	int res = cqe->res;

	t->sock_send_armed = false;
	if (t->phase == PH_KTLS || t->phase == PH_PLAIN) {
		tls_complete_send(t, res);
		return;
	}
	if (res <= 0) {
		tls_fail(t, res ? res : -EPIPE);
		return;
	}
	tls_sess_tx_consume(t->sess, (size_t)res);
	tls_pump(t);
}

static void tls_sock_recv(struct stream_tls *t, struct iovec *iov, int n, bool ctl)
{
	struct io_uring_sqe *sqe = executor_get_sqe(t->s.ex);

	memset(&t->rmsg, 0, sizeof(t->rmsg));
	t->rmsg.msg_iov = iov;
	t->rmsg.msg_iovlen = (size_t)n;
	if (ctl) {
		t->rmsg.msg_control = t->cmsg;
		t->rmsg.msg_controllen = sizeof(t->cmsg);
	}
	io_uring_prep_recvmsg(sqe, t->s.fd, &t->rmsg, 0);
	ring_op_attach(sqe, &t->sock_recv_op);
	t->sock_recv_armed = true;
}

static void tls_sock_send(struct stream_tls *t, struct iovec *iov, int n)
{
	struct io_uring_sqe *sqe = executor_get_sqe(t->s.ex);

	memset(&t->smsg, 0, sizeof(t->smsg));
	t->smsg.msg_iov = iov;
	t->smsg.msg_iovlen = (size_t)n;
	io_uring_prep_sendmsg(sqe, t->s.fd, &t->smsg, MSG_NOSIGNAL);
	ring_op_attach(sqe, &t->sock_send_op);
	t->sock_send_armed = true;
}

/* ---- the machine ---------------------------------------------------------------------- */

/* Ciphertext waiting in the session goes out. */
static void tls_flush_tx(struct stream_tls *t)
{
	size_t len;
	const uint8_t *p;

	if (t->sock_send_armed || !t->sess)
		return;
	p = tls_sess_tx_peek(t->sess, &len);
	if (!len)
		return;
	t->sock_siov.iov_base = (void *)p;
	t->sock_siov.iov_len = len;
	tls_sock_send(t, &t->sock_siov, 1);
}

/* Decrypted data into the PDU layer's pending receive: bytes, -EAGAIN, 0 (close), -errno. */
static ssize_t tls_read_into(struct stream_tls *t)
{
	ssize_t total = 0;

	for (int i = 0; i < t->rn; i++) {
		size_t off = 0;

		while (off < t->riov[i].iov_len) {
			ssize_t r = tls_sess_read(t->sess, (uint8_t *)t->riov[i].iov_base + off, t->riov[i].iov_len - off);

			if (r <= 0)
				return total ? total : r;
			off += (size_t)r;
			total += r;
		}
	}
	return total;
}

static void tls_want_ciphertext(struct stream_tls *t)
{
	size_t room;
	uint8_t *buf;

	if (t->sock_recv_armed || t->eof)
		return;
	buf = tls_sess_rx_buf(t->sess, &room);
	if (!room)
		return;
	t->sock_riov[0].iov_base = buf;
	t->sock_riov[0].iov_len = room;
	tls_sock_recv(t, t->sock_riov, 1, false);
}

static void tls_start_session(struct stream_tls *t);

/* Optional TLS: a ClientHello starts TLS, anything else is plaintext NVMe/TCP. */
static void tls_sniffed(struct stream_tls *t)
{
	int hello = tls_sniff_client_hello(t->sniff, t->sniff_len);

	if (hello < 0 && t->sniff_len < SNIFF_BYTES)
		return; /* not enough to tell */
	if (hello > 0) {
		tls_start_session(t); /* the sniffed bytes are fed to it as it asks for them */
		return;
	}
	if (t->required) {
		log_info("%s: plaintext NVMe/TCP on a port that requires TLS: refused", t->peer);
		tls_fail(t, -EPROTONOSUPPORT);
		return;
	}
	t->phase = PH_PLAIN;
}

static void tls_pump(struct stream_tls *t)
{
	ssize_t r;
	int ret;

	switch (t->phase) {
	case PH_SNIFF:
		tls_sniffed(t);
		if (t->phase == PH_SNIFF) {
			if (t->sock_recv_armed)
				return; /* the first bytes are on their way */
			t->sock_riov[0].iov_base = t->sniff + t->sniff_len;
			t->sock_riov[0].iov_len = SNIFF_BYTES - t->sniff_len;
			tls_sock_recv(t, t->sock_riov, 1, false);
			return;
		}
		if (t->phase == PH_PLAIN) {
			/* hand the sniffed bytes over as the first ones received */
			if (t->rn)
				goto plain_recv;
			return;
		}
		tls_pump(t);
		return;
	case PH_HANDSHAKE:
		for (;;) {
			/* the session takes ciphertext one record piece at a time (it may move to
			 * kernel TLS): the sniffed bytes go in as it asks for them */
			if (t->sniff_off < t->sniff_len)
				t->sniff_off += (uint32_t)tls_sess_feed(t->sess, t->sniff + t->sniff_off,
									t->sniff_len - t->sniff_off);
			ret = tls_sess_handshake(t->sess);
			if (ret != -EAGAIN || t->sniff_off >= t->sniff_len)
				break;
		}
		tls_flush_tx(t);
		if (ret == -EAGAIN) {
			tls_want_ciphertext(t);
			return;
		}
		if (ret < 0) {
			tls_fail(t, ret);
			return;
		}
		log_debug("%s: TLS established (identity %s)", t->peer, tls_sess_identity(t->sess));
		ret = tls_ktls_start(t->s.fd, t->sess);
		if (ret < 0) {
			tls_fail(t, ret);
			return;
		}
		t->phase = ret == 0 ? PH_KTLS : PH_USER;
		log_debug("%s: TLS records %s", t->peer, ret == 0 ? "in the kernel (kTLS)" : "in userspace");
		if (t->phase == PH_KTLS) {
			/* the session moves no data any more; pending PDU-layer operations restart */
			if (t->rn)
				tls_sock_recv(t, (struct iovec *)t->riov, t->rn, true);
			if (t->sn)
				tls_sock_send(t, (struct iovec *)t->siov, t->sn);
			return;
		}
		tls_pump(t);
		return;
	case PH_USER:
		if (t->rn) {
			r = tls_read_into(t);
			if (r == -EAGAIN)
				tls_want_ciphertext(t);
			else
				tls_complete_recv(t, (int)r);
		}
		if (t->sn) {
			r = tls_sess_writev(t->sess, t->siov, t->sn);
			/* 0: the ciphertext buffer is full: retried when some of it has left */
			if (r != 0)
				tls_complete_send(t, (int)r);
		}
		tls_flush_tx(t);
		return;
	case PH_PLAIN:
	plain_recv:
		if (t->rn && t->sniff_off < t->sniff_len) {
			size_t k = t->sniff_len - t->sniff_off;

			if (k > t->riov[0].iov_len)
				k = t->riov[0].iov_len;
			memcpy(t->riov[0].iov_base, t->sniff + t->sniff_off, k);
			t->sniff_off += (uint32_t)k;
			tls_complete_recv(t, (int)k);
		}
		return;
	case PH_KTLS:
	case PH_DEAD:
		return;
	}
}

/* ---- stream ops ------------------------------------------------------------------------- */

static void tls_recv(struct stream *s, const struct iovec *iov, int n)
{
	struct stream_tls *t = (struct stream_tls *)s;

	t->riov = iov;
	t->rn = n;
	switch (t->phase) {
	case PH_KTLS:
		tls_sock_recv(t, (struct iovec *)iov, n, true);
		return;
	case PH_PLAIN:
		if (t->sniff_off < t->sniff_len)
			tls_pump(t);
		else
			tls_sock_recv(t, (struct iovec *)iov, n, false);
		return;
	case PH_DEAD:
		tls_complete_recv(t, -ECONNRESET);
		return;
	default:
		tls_pump(t);
	}
}

static void tls_send(struct stream *s, const struct iovec *iov, int n)
{
	struct stream_tls *t = (struct stream_tls *)s;

	t->siov = iov;
	t->sn = n;
	switch (t->phase) {
	case PH_KTLS:
	case PH_PLAIN:
		tls_sock_send(t, (struct iovec *)iov, n);
		return;
	case PH_DEAD:
		tls_complete_send(t, -EPIPE);
		return;
	case PH_USER:
		tls_pump(t);
		return;
	default:
		return; /* sent once the session is up (nothing is sent before ICReq arrives) */
	}
}

static void tls_shutdown(struct stream *s)
{
	struct stream_tls *t = (struct stream_tls *)s;

	if (t->down)
		return;
	t->down = true;
	shutdown(s->fd, SHUT_RDWR);
	tls_fail(t, -ECONNRESET);
}

static bool tls_busy(const struct stream *s)
{
	const struct stream_tls *t = (const struct stream_tls *)s;

	return t->sock_recv_armed || t->sock_send_armed || t->recv_deferred || t->send_deferred;
}

static void tls_destroy(struct stream *s)
{
	struct stream_tls *t = (struct stream_tls *)s;

	tls_sess_free(t->sess);
	free(t);
}

static const struct stream_ops tls_ops = {
	.recv = tls_recv,
	.send = tls_send,
	.shutdown = tls_shutdown,
	.busy = tls_busy,
	.destroy = tls_destroy,
};

/* ---- creation ----------------------------------------------------------------------- */

static struct tls_ctx *tls_server_ctx;
static tls_psk_lookup_fn tls_lookup;
static void *tls_lookup_arg;
static uint32_t tls_handshake_ms;

int stream_tls_init(tls_psk_lookup_fn lookup, void *arg, uint32_t handshake_ms)
{
	if (!tls_server_ctx)
		tls_server_ctx = tls_ctx_new(TLS_ROLE_SERVER);
	tls_lookup = lookup;
	tls_lookup_arg = arg;
	tls_handshake_ms = handshake_ms;
	return tls_server_ctx ? 0 : -ENOMEM;
}

void stream_tls_fini(void)
{
	tls_ctx_free(tls_server_ctx);
	tls_server_ctx = NULL;
}

static void tls_start_session(struct stream_tls *t)
{
	struct tls_sess_opts o = {
		.lookup = tls_lookup,
		.lookup_arg = tls_lookup_arg,
		.deadline_ns = tls_handshake_ms ? tls_now_ns() + tls_handshake_ms * 1000000ull : 0,
		.ktls = true, /* moves to kernel TLS when the tls module is there */
	};
	int ret = tls_sess_new(tls_server_ctx, &o, &t->sess);

	if (ret < 0) {
		tls_fail(t, ret);
		return;
	}
	t->phase = PH_HANDSHAKE;
}

struct stream *stream_tls_create(struct executor *ex, int fd, bool required, const char *peer)
{
	struct stream_tls *t = calloc(1, sizeof(*t));

	if (!t || !tls_server_ctx) {
		free(t);
		return NULL;
	}
	t->s.ops = &tls_ops;
	t->s.ex = ex;
	t->s.fd = fd;
	t->required = required;
	snprintf(t->peer, sizeof(t->peer), "%s", peer);
	t->recv_done.fn = tls_recv_done_run;
	t->send_done.fn = tls_send_done_run;
	t->sock_recv_op.complete = tls_sock_recv_cqe;
	t->sock_send_op.complete = tls_sock_send_cqe;
	t->phase = PH_SNIFF;
	/* start reading at once: the handshake does not wait for the PDU layer */
	t->sock_riov[0].iov_base = t->sniff;
	t->sock_riov[0].iov_len = SNIFF_BYTES;
	tls_sock_recv(t, t->sock_riov, 1, false);
	return &t->s;
}

const char *stream_tls_identity(const struct stream *s)
{
	const struct stream_tls *t = (const struct stream_tls *)s;

	if (s->ops != &tls_ops || !t->sess || !tls_sess_established(t->sess))
		return NULL;
	return tls_sess_identity(t->sess);
}
