/* SPDX-License-Identifier: MIT */
/*
 * The byte stream under the NVMe/TCP PDU code: plain TCP today, TLS (kernel or userspace
 * record layer) behind the same calls, so that security is a property of the connection and
 * not a branch in every send and receive. Operations are asynchronous on the worker's ring:
 * at most one receive and one send in flight, each completing through on_recv/on_send.
 */
#ifndef NVRING_NVRINGD_TCP_STREAM_H
#define NVRING_NVRINGD_TCP_STREAM_H

#include <stdbool.h>
#include <sys/uio.h>

#include "ring/executor.h"

struct stream;

struct stream_ops {
	/* Receive into iov[0..n); on_recv(res): bytes (> 0), 0 at end of stream, or -errno. */
	void (*recv)(struct stream *s, const struct iovec *iov, int n);
	/* Send iov[0..n); on_send(res): bytes taken (maybe fewer than offered), or -errno. */
	void (*send)(struct stream *s, const struct iovec *iov, int n);
	/* No more traffic: operations in flight complete (with errors), nothing new starts. */
	void (*shutdown)(struct stream *s);
	/* Whether the kernel still holds buffers of an operation in flight. */
	bool (*busy)(const struct stream *s);
	/* Free (when not busy). Does not close fd. */
	void (*destroy)(struct stream *s);
};

struct stream {
	const struct stream_ops *ops;
	struct executor *ex;
	int fd;
	void *owner;
	void (*on_recv)(struct stream *s, int res);
	void (*on_send)(struct stream *s, int res);
};

/* A plain TCP stream on fd: recvmsg/sendmsg on the executor's ring. NULL when out of memory. */
struct stream *stream_plain_create(struct executor *ex, int fd);

#endif
