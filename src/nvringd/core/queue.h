/* SPDX-License-Identifier: MIT */
/*
 * A queue (SQ/CQ pair) as the request core sees it, apart from the transport that implements
 * it (nvmet_sq + nvmet_fabrics_ops, spdk_nvmf_qpair + spdk_nvmf_transport_ops). The transport
 * embeds a struct nvr_queue in its own queue object and fills `ops`.
 */
#ifndef NVRING_NVRINGD_CORE_QUEUE_H
#define NVRING_NVRINGD_CORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "req.h"

struct nvr_port;
struct queue_auth;
struct worker;

struct nvr_queue_ops {
	/* The capsule's data descriptor against the command's direction and length (req->dir,
	 * req->data_len set) and the icd_len bytes of in-capsule data that came with it. */
	uint16_t (*check_data)(struct req *req, uint32_t icd_len);
	/* The CQE is built: send it (and the C2H data, req->xfer_len bytes of req->buf). */
	void (*queue_response)(struct req *req);
	/* req->buf holds data_len bytes of room: fetch the host's data, then req_data_ready. */
	void (*solicit_data)(struct req *req);
	/* Connect succeeded (q->ctrl, qid, sqsize set): take what the queue was granted. */
	int (*connected)(struct nvr_queue *q);
	/* The local address the host reached us on (for discovery log entries). 0 or -errno. */
	int (*local_addr)(struct nvr_queue *q, char *out, size_t len);
	/* The TLS PSK identity the host proved, or NULL (no TLS on this queue). */
	const char *(*tls_identity)(struct nvr_queue *q);
	/* Tear the queue down (controller teardown, host removed); runs on the queue's worker. */
	void (*close)(struct nvr_queue *q);
};

struct nvr_queue {
	const struct nvr_queue_ops *ops;
	struct worker *w;
	struct nvr_port *port;
	struct nvr_ctrl *ctrl;   /* set by Connect */
	uint16_t qid;
	uint16_t sqsize;         /* 0's based, from Connect */
	uint16_t sqhd;
	bool sqflow_off;
	bool draining;           /* target stopping: new commands are aborted */
	bool zero_copy_ok;       /* data may be sent from namespace memory (no data digest) */
	unsigned outstanding;    /* commands received whose completion is not yet queued */
	uint64_t buf_bytes;      /* data buffers this queue's requests hold */
	uint64_t buf_limit;      /* most it may hold (--max-inflight-bytes-per-conn) */
	uint32_t max_icd;        /* in-capsule data accepted */
	char peer[64];           /* "addr:port" for logs */
	bool auth_required;      /* Connect asked for DH-HMAC-CHAP (ATR): commands are gated */
	struct queue_auth *auth; /* the exchange (cmd/auth.c) */
};

/* Commands the host may have outstanding: SQSIZE + 1 entries (Linux uses all of them). */
static inline unsigned queue_depth(const struct nvr_queue *q)
{
	return (unsigned)q->sqsize + 1;
}

#endif
