/* SPDX-License-Identifier: MIT */
/* Plain TCP: one IORING_OP_RECVMSG and one IORING_OP_SENDMSG at a time, straight from the
 * PDU layer's iovecs (payload lands in request buffers, responses leave gathered). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "stream.h"

struct stream_plain {
	struct stream s;
	struct ring_op recv_op, send_op;
	struct msghdr rmsg, smsg;
	bool recv_armed, send_armed, down;
};

#define plain_of(op, member) ((struct stream_plain *)((char *)(op) - offsetof(struct stream_plain, member)))

static void plain_recv_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct stream_plain *p = plain_of(op, recv_op);

	p->recv_armed = false;
	p->s.on_recv(&p->s, cqe->res);
}

static void plain_send_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct stream_plain *p = plain_of(op, send_op);

	p->send_armed = false;
	p->s.on_send(&p->s, cqe->res);
}

static void plain_recv(struct stream *s, const struct iovec *iov, int n)
{
	struct stream_plain *p = (struct stream_plain *)s;
	struct io_uring_sqe *sqe = executor_get_sqe(s->ex);

	memset(&p->rmsg, 0, sizeof(p->rmsg));
	p->rmsg.msg_iov = (struct iovec *)iov;
	p->rmsg.msg_iovlen = (size_t)n;
	io_uring_prep_recvmsg(sqe, s->fd, &p->rmsg, 0);
	ring_op_attach(sqe, &p->recv_op);
	p->recv_armed = true;
}

static void plain_send(struct stream *s, const struct iovec *iov, int n)
{
	struct stream_plain *p = (struct stream_plain *)s;
	struct io_uring_sqe *sqe = executor_get_sqe(s->ex);

	memset(&p->smsg, 0, sizeof(p->smsg));
	p->smsg.msg_iov = (struct iovec *)iov;
	p->smsg.msg_iovlen = (size_t)n;
	io_uring_prep_sendmsg(sqe, s->fd, &p->smsg, MSG_NOSIGNAL);
	ring_op_attach(sqe, &p->send_op);
	p->send_armed = true;
}

static void plain_shutdown(struct stream *s)
{
	struct stream_plain *p = (struct stream_plain *)s;

	if (p->down)
		return;
	p->down = true;
	/* makes the pending recv/send complete */
	shutdown(s->fd, SHUT_RDWR);
}

static bool plain_busy(const struct stream *s)
{
	const struct stream_plain *p = (const struct stream_plain *)s;

	return p->recv_armed || p->send_armed;
}

static void plain_destroy(struct stream *s)
{
	free(s);
}

static const struct stream_ops plain_ops = {
	.recv = plain_recv,
	.send = plain_send,
	.shutdown = plain_shutdown,
	.busy = plain_busy,
	.destroy = plain_destroy,
};

struct stream *stream_plain_create(struct executor *ex, int fd)
{
	struct stream_plain *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->s.ops = &plain_ops;
	p->s.ex = ex;
	p->s.fd = fd;
	p->recv_op.complete = plain_recv_done;
	p->send_op.complete = plain_send_done;
	return &p->s;
}
