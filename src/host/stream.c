/* SPDX-License-Identifier: MIT */
/*
 * The byte stream under a queue's PDU code: plain TCP, userspace TLS (src/tls/session: records
 * made here, sent and received through the same io_uring ops), or kernel TLS (the socket carries
 * plaintext both ways; recvmsg reports non-data records in a cmsg). queue.c builds the PDU
 * iovecs and parses what arrives; this file decides what the sendmsg/recv actually move.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "tls/ktls.h"
#include "tls/psk.h"
#include "tls/session.h"

/* ---------------------------------------------------------------- TCP */

static int hq_tcp_connect(const struct nvr_connect_opts *o, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res, *ai;
	int fd = -1, ret, one = 1;

	ret = getaddrinfo(o->traddr, o->trsvcid, &hints, &res);
	if (ret)
		return ret == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	ret = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		int err = 0;
		socklen_t elen = sizeof(err);

		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			if (errno != EINPROGRESS) {
				ret = -errno;
				goto next;
			}
			pfd.fd = fd;
			pfd.events = POLLOUT;
			ret = poll(&pfd, 1, timeout_ms);
			if (ret == 0) {
				ret = -ETIMEDOUT;
				goto next;
			}
			if (ret < 0) {
				ret = -errno;
				goto next;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
				ret = err ? -err : -errno;
				goto next;
			}
		}
		/* io_uring ops on a blocking socket wait in the kernel instead of -EAGAIN loops */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		freeaddrinfo(res);
		return fd;
next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return ret;
}

/* ---------------------------------------------------------------- TLS handshake */

/* The identity and TLS PSK for this queue, from the options (see nvring.h). */
static int hq_tls_keys(const struct nvr_connect_opts *o, char identity[TLS_IDENTITY_MAX],
		       uint8_t psk[TLS_PSK_MAX])
{
	const char *subnqn = o->subnqn ? o->subnqn : NVR_DISC_NQN;
	int variant = o->psk_variant ? tls_psk_variant_parse(o->psk_variant) : TLS_PSK_RFC8446;
	struct tls_identity id;
	struct tls_key key;
	int ret;

	if (variant < 0 || !o->psk || !o->hostnqn || tls_key_parse(o->psk, &key, NULL, 0))
		return -EINVAL;
	if (!o->psk_identity) {
		ret = tls_psk_for_host(&key, o->hostnqn, subnqn, o->psk_identity_version,
				       (enum tls_psk_variant)variant, identity, psk);
		goto out;
	}
	/* an identity given as is: derive what a target derives from it */
	ret = -EINVAL;
	if (strlen(o->psk_identity) >= TLS_IDENTITY_MAX ||
	    tls_identity_parse(o->psk_identity, strlen(o->psk_identity), &id))
		goto out;
	strcpy(identity, o->psk_identity);
	ret = tls_psk_for_target(&key, &id, (enum tls_psk_variant)variant, psk, NULL);
out:
	memset(&key, 0, sizeof(key));
	return ret;
}

/* One io_uring op, waited for until the handshake's deadline. Returns its result. */
static int hq_tls_io(struct nvr_queue *q, bool send, void *buf, size_t len, uint64_t deadline)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	struct io_uring_cqe *cqe = NULL;
	int ret;

	if (!sqe)
		return -EBUSY;
	if (send)
		io_uring_prep_send(sqe, q->fd, buf, len, MSG_NOSIGNAL);
	else
		io_uring_prep_recv(sqe, q->fd, buf, len, 0);
	io_uring_sqe_set_data(sqe, NULL);
	ret = io_uring_submit(&q->ring);
	if (ret < 0)
		return ret;
	for (;;) {
		uint64_t now = hq_now_ns(), left = deadline > now ? deadline - now : 0;
		struct __kernel_timespec ts = { .tv_sec = (long long)(left / 1000000000ull),
						.tv_nsec = (long long)(left % 1000000000ull) };

		ret = io_uring_wait_cqe_timeout(&q->ring, &cqe, &ts);
		if (!ret && cqe)
			break;
		if (ret == -ETIME) {
			/* past the deadline: the op comes back promptly once the socket is shut down */
			struct __kernel_timespec grace = { .tv_sec = 1 };

			shutdown(q->fd, SHUT_RDWR);
			if (!io_uring_wait_cqe_timeout(&q->ring, &cqe, &grace) && cqe)
				io_uring_cqe_seen(&q->ring, cqe);
			return -ETIMEDOUT;
		}
		if (ret && ret != -EINTR)
			return ret;
	}
	ret = cqe->res;
	io_uring_cqe_seen(&q->ring, cqe);
	return ret;
}

static int hq_tls_handshake(struct nvr_queue *q, uint64_t deadline)
{
	for (;;) {
		int hs = tls_sess_handshake(q->tls), ret;
		size_t n;
		const uint8_t *ct = tls_sess_tx_peek(q->tls, &n);
		uint8_t *rx;

		/* flights, and the alert that tells the peer why we fail */
		while (n) {
			ret = hq_tls_io(q, true, (void *)ct, n, deadline);
			if (ret <= 0)
				return hs < 0 && hs != -EAGAIN ? hs : ret ? ret : -ECONNRESET;
			tls_sess_tx_consume(q->tls, (size_t)ret);
			ct = tls_sess_tx_peek(q->tls, &n);
		}
		if (hs != -EAGAIN)
			return hs;
		if (tls_sess_expired(q->tls, hq_now_ns()))
			return -ETIMEDOUT;
		rx = tls_sess_rx_buf(q->tls, &n);
		if (!n)
			return -EPROTO;
		ret = hq_tls_io(q, false, rx, n, deadline);
		if (ret == -ETIMEDOUT && tls_sess_expired(q->tls, hq_now_ns()))
			return -ETIMEDOUT;
		if (ret < 0)
			return ret;
		if (ret == 0)
			tls_sess_rx_eof(q->tls);
		else
			tls_sess_rx_commit(q->tls, (size_t)ret);
	}
}

/* The caller's error buffer (nvr_connect_opts.errbuf) gets the words for a TLS failure. */
static void hq_tls_err(const struct nvr_connect_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hq_tls_err(const struct nvr_connect_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (!o->errbuf || !o->errbuf_len)
		return;
	va_start(ap, fmt);
	vsnprintf(o->errbuf, o->errbuf_len, fmt, ap);
	va_end(ap);
}

static int hq_tls_open(struct nvr_queue *q, const struct nvr_connect_opts *o)
{
	struct tls_sess_opts so = { 0 };
	char identity[TLS_IDENTITY_MAX];
	uint8_t psk[TLS_PSK_MAX];
	uint64_t deadline = hq_now_ns() + (uint64_t)q->timeout_ms * 1000000ull;
	int ret;

	if (o->tls > NVR_TLS_KERNEL)
		return -EINVAL;
	ret = hq_tls_keys(o, identity, psk);
	if (ret < 0) {
		hq_tls_err(o, "TLS: cannot derive the PSK (bad --psk, --psk-identity or --psk-variant)");
		return ret;
	}
	q->tls_ctx = tls_ctx_new(TLS_ROLE_CLIENT);
	if (!q->tls_ctx) {
		ret = -ENOMEM;
		goto out;
	}
	so.identity = identity;
	so.psk = psk;
	so.psk_len = (size_t)ret;
	so.deadline_ns = deadline;
	so.ktls = o->tls != NVR_TLS_USERSPACE;
	ret = tls_sess_new(q->tls_ctx, &so, &q->tls);
	if (ret)
		goto out;
	ret = hq_tls_handshake(q, deadline);
	if (ret) {
		hq_tls_err(o, "TLS: %s", tls_sess_error(q->tls)[0] ? tls_sess_error(q->tls) : strerror(-ret));
		goto out;
	}
	q->stream = HQ_STREAM_TLS;
	if (o->tls == NVR_TLS_USERSPACE)
		goto out;
	ret = tls_ktls_start(q->fd, q->tls);
	if (ret == 0) {
		/* the kernel has the keys: the session's work is done */
		q->stream = HQ_STREAM_KTLS;
		hq_stream_free(q);
	} else if (ret > 0) {
		/* no kernel TLS here: records stay in userspace, unless kernel TLS was demanded */
		if (o->tls == NVR_TLS_KERNEL)
			hq_tls_err(o, "TLS: the kernel refused TLS offload: %s", strerror(ret));
		ret = o->tls == NVR_TLS_KERNEL ? -ret : 0;
	} else {
		hq_tls_err(o, "TLS: switching to kernel TLS failed: %s", strerror(-ret));
	}
out:
	memset(psk, 0, sizeof(psk));
	return ret;
}

int hq_stream_open(struct nvr_queue *q, const struct nvr_connect_opts *o)
{
	int ret = hq_tcp_connect(o, q->timeout_ms);

	if (ret < 0)
		return ret;
	q->fd = ret;
	q->stream = HQ_STREAM_TCP;
	return o->tls == NVR_TLS_OFF ? 0 : hq_tls_open(q, o);
}

void hq_stream_close(struct nvr_queue *q)
{
	size_t n;
	const uint8_t *ct;

	if (q->send_op.busy || q->state == HQ_Q_FAILED)
		return;
	if (q->stream == HQ_STREAM_KTLS) {
		tls_ktls_send_alert(q->fd, 1, 0); /* warning, close_notify */
	} else if (q->stream == HQ_STREAM_TLS && !tls_sess_shutdown(q->tls)) {
		ct = tls_sess_tx_peek(q->tls, &n);
		(void)!send(q->fd, ct, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

void hq_stream_free(struct nvr_queue *q)
{
	tls_sess_free(q->tls);
	tls_ctx_free(q->tls_ctx);
	q->tls = NULL;
	q->tls_ctx = NULL;
}

/* ---------------------------------------------------------------- send */

void hq_stream_prep_send(struct nvr_queue *q, struct io_uring_sqe *sqe)
{
	const uint8_t *ct;
	size_t n;

	if (q->stream != HQ_STREAM_TLS) {
		memset(&q->msg, 0, sizeof(q->msg));
		q->msg.msg_iov = &q->iov[q->iov_idx];
		q->msg.msg_iovlen = (size_t)(q->iov_cnt - q->iov_idx);
		io_uring_prep_sendmsg(sqe, q->fd, &q->msg, MSG_NOSIGNAL);
		return;
	}
	ct = tls_sess_tx_peek(q->tls, &n);
	if (!n && q->iov_idx < q->iov_cnt) {
		/* records for as much of the batch as the session's buffer holds */
		ssize_t w = tls_sess_writev(q->tls, &q->iov[q->iov_idx], q->iov_cnt - q->iov_idx);

		q->tls_plain = w > 0 ? (size_t)w : 0;
		ct = tls_sess_tx_peek(q->tls, &n);
	}
	/* n == 0 (the session failed): a zero-byte send, whose completion reports the failure */
	io_uring_prep_send(sqe, q->fd, ct, n, MSG_NOSIGNAL);
}

int hq_stream_sent(struct nvr_queue *q, int res)
{
	size_t n, plain;
	int err;

	if (q->stream != HQ_STREAM_TLS)
		return res;
	err = tls_sess_err(q->tls);
	tls_sess_tx_consume(q->tls, (size_t)res);
	tls_sess_tx_peek(q->tls, &n);
	if (n)
		return res ? -EINPROGRESS : -ECONNRESET;
	if (err < 0)
		return err;
	plain = q->tls_plain;
	q->tls_plain = 0;
	/* only records the session made itself went out (the answer to the target's KeyUpdate,
	 * written while this send was being prepared): the batch is still to go, not a reset */
	if (!plain && res > 0 && q->iov_idx < q->iov_cnt)
		return -EINPROGRESS;
	return (int)plain;
}

bool hq_stream_tx_pending(const struct nvr_queue *q)
{
	size_t n = 0;

	if (q->stream == HQ_STREAM_TLS)
		tls_sess_tx_peek(q->tls, &n);
	return n > 0;
}

void hq_stream_send_now(struct nvr_queue *q, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };
	const uint8_t *ct;
	size_t n;

	if (q->stream != HQ_STREAM_TLS) {
		(void)!send(q->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		return;
	}
	tls_sess_tx_peek(q->tls, &n);
	if (n || tls_sess_writev(q->tls, &iov, 1) != (ssize_t)len)
		return; /* records of an earlier batch first: not now */
	ct = tls_sess_tx_peek(q->tls, &n);
	(void)!send(q->fd, ct, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* ---------------------------------------------------------------- receive */

void hq_stream_prep_recv(struct nvr_queue *q, struct io_uring_sqe *sqe)
{
	uint8_t *rx;
	size_t n;
	int cnt;

	if (q->stream == HQ_STREAM_TLS) {
		rx = tls_sess_rx_buf(q->tls, &n);
		io_uring_prep_recv(sqe, q->fd, rx, n, 0);
		return;
	}
	cnt = hq_rx_dest(q, q->rx_iov, HQ_DIRECT_RECV_MIN);
	if (cnt == 1 && q->stream == HQ_STREAM_TCP) {
		io_uring_prep_recv(sqe, q->fd, q->rx_iov[0].iov_base, q->rx_iov[0].iov_len, 0);
		return;
	}
	memset(&q->rx_msg, 0, sizeof(q->rx_msg));
	q->rx_msg.msg_iov = q->rx_iov;
	q->rx_msg.msg_iovlen = (size_t)cnt;
	if (q->stream == HQ_STREAM_KTLS) {
		/* without room for the record type a non-data record fails the recvmsg (EIO) */
		q->rx_msg.msg_control = q->rx_cmsg.buf;
		q->rx_msg.msg_controllen = sizeof(q->rx_cmsg.buf);
	}
	io_uring_prep_recvmsg(sqe, q->fd, &q->rx_msg, 0);
}

/* Kernel TLS handed up a non-data record (it is where the data would have gone). */
static int hq_ktls_control(struct nvr_queue *q, int type, int res)
{
	uint8_t rec[256];
	size_t n = 0;

	for (size_t i = 0; i < q->rx_msg.msg_iovlen && n < (size_t)res && n < sizeof(rec); i++) {
		size_t k = q->rx_iov[i].iov_len;

		if (k > (size_t)res - n)
			k = (size_t)res - n;
		if (k > sizeof(rec) - n)
			k = sizeof(rec) - n;
		memcpy(rec + n, q->rx_iov[i].iov_base, k);
		n += k;
	}
	res = tls_ktls_control_record(type, rec, n, NULL, 0);
	return res == 1 ? 0 : res == 0 ? -ECONNRESET : res;
}

int hq_stream_recvd(struct nvr_queue *q, int res)
{
	struct iovec dst[2];
	int type;

	if (q->stream == HQ_STREAM_TCP)
		return hq_rx_got(q, (uint32_t)res);
	if (q->stream == HQ_STREAM_KTLS) {
		type = tls_ktls_cmsg_type(&q->rx_msg);
		if (type < 0)
			return -EPROTO;
		if (type != TLS_RT_DATA)
			return hq_ktls_control(q, type, res);
		return hq_rx_got(q, (uint32_t)res);
	}
	tls_sess_rx_commit(q->tls, (size_t)res);
	/* every record that is complete now, each byte straight to where it belongs: a header's
	 * worth into rbuf, then payload into the command's buffer (OpenSSL keeps the rest of the
	 * record decrypted for the next call) */
	while (q->state != HQ_Q_FAILED) {
		ssize_t n;
		size_t len;
		uint32_t need;
		int ret;

		hq_rx_dest(q, dst, 1);
		len = dst[0].iov_len;
		need = q->rx_direct ? 0 : hq_rx_hdr_need(q);
		if (need && need < len)
			len = need;
		n = tls_sess_read(q->tls, dst[0].iov_base, len);
		if (n == -EAGAIN)
			return 0;
		if (n <= 0)
			return n == 0 ? -ECONNRESET : (int)n;
		ret = hq_rx_got(q, (uint32_t)n);
		if (ret < 0)
			return ret;
	}
	return 0;
}
