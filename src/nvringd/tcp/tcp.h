/* SPDX-License-Identifier: MIT */
/*
 * The NVMe/TCP transport: one TCP connection = one queue pair, with its PDU receive and send
 * machines over a stream (stream.h) and its pool of requests. Memory follows what the peer
 * was granted: before ICReq a connection holds its struct and a small header buffer; the
 * request pool is sized from SQSIZE at Connect; data buffers come from the worker's budget.
 *
 * tcp_queue.c: lifecycle, pool, limits, timeouts; tcp_rx.c: receive and PDU parsing;
 * tcp_tx.c: building and sending PDUs.
 */
#ifndef NVRING_NVRINGD_TCP_TCP_H
#define NVRING_NVRINGD_TCP_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/queue.h"
#include "core/req.h"
#include "spec/nvme_tcp.h"
#include "spec/tcp_pdu.h"
#include "stream.h"

struct nvr_port;
struct peer_count;
struct worker;

enum tcp_state {
	TQ_WAIT_ICREQ,   /* accepted: the ICReq must come within --icreq-timeout */
	TQ_WAIT_CONNECT, /* ICResp sent: the Connect must come within --connect-timeout */
	TQ_LIVE,
	TQ_ERROR,        /* fatal error: TermReq queued, then close */
	TQ_CLOSING,      /* stream shut down, waiting for operations in flight */
};

enum tcp_rx_state {
	TQ_RX_PDU,      /* accumulating a PDU header in rbuf */
	TQ_RX_DATA,     /* a payload into a request buffer */
	TQ_RX_DDGST,    /* its data digest */
	TQ_RX_STOP,     /* error or close: no more parsing */
};

/* One command on this transport: the core's request plus its PDUs. */
struct tcp_req {
	struct req req;
	struct tcp_req *send_next; /* send queue */
	uint16_t ttag;             /* index in the pool: the R2T's transfer tag */
	uint32_t h2c_done;         /* H2C bytes received so far */
	uint64_t r2t_ms;           /* when the R2T was queued (answer within --pdu-timeout) */
	struct iovec iov[4];       /* header, data, data digest, CapsuleResp */
	uint8_t iovcnt, iov_done;
	uint8_t hdr[sizeof(struct nvme_tcp_data_pdu) + NVME_TCP_DIGEST_LEN]; /* C2HData or R2T */
	uint8_t rsp[sizeof(struct nvme_tcp_rsp_pdu) + NVME_TCP_DIGEST_LEN];
	uint32_t ddgst;
};

#define TCP_TERM_MAX (sizeof(struct nvme_tcp_term_pdu) + NVME_TCP_TERM_MAX_DATA)
#define TCP_RBUF_SMALL 4096          /* until Connect: ICReq + Connect capsule headers */
#define TCP_RBUF_ADMIN (16 * 1024)
#define TCP_RBUF_IO (64 * 1024)      /* many capsules per recvmsg */
#define TCP_TX_IOV_SMALL 8
#define TCP_TX_IOV 256
#define TCP_POOL_SMALL 2             /* requests before Connect */

struct tcp_queue {
	struct nvr_queue q;          /* what the request core sees */
	struct tcp_queue *next, *prev; /* worker's list */
	struct stream *st;
	int fd;
	enum tcp_state state;
	struct peer_count *peer_slot; /* per-address connection count (listener.c) */
	uint64_t deadline_ms;        /* the state's or the PDU's timeout; 0 = none */
	const char *deadline_what;   /* for the log line when it expires */

	/* negotiated at ICReq */
	bool hdgst, ddgst;
	uint32_t maxh2cdata;
	struct tcp_pdu_rx pdu_rx;

	/* request pool: tcp_req pointers, indexed by ttag */
	struct tcp_req **reqs;
	unsigned nr_reqs;
	struct tcp_req *free_reqs;
	unsigned busy_reqs;          /* taken from the pool */
	unsigned h2c_waiting;        /* requests with an R2T outstanding */

	/* receive */
	bool recv_armed;
	bool rx_paused;              /* no free request: resume when one is freed */
	enum tcp_rx_state rx_state;
	uint8_t *rbuf;
	uint32_t rbuf_size;
	uint32_t rbuf_want;          /* Connect granted more: grown when no recv is armed */
	uint32_t rlen;               /* valid bytes in rbuf */
	uint32_t roff;               /* parse position */
	uint64_t pdu_start_ms;       /* first byte of an unfinished PDU (0: none) */
	struct tcp_req *rx_req;      /* request whose data is being received */
	uint8_t *rx_dst;             /* where the rest of the payload goes */
	uint32_t rx_left;            /* payload bytes still to receive */
	uint32_t rx_pdu_len;         /* payload bytes of the current PDU */
	uint8_t *rx_pdu_start;       /* start of the current PDU's payload */
	uint8_t rx_ddgst[NVME_TCP_DIGEST_LEN];
	uint32_t rx_ddgst_left;      /* digest bytes still to receive */
	bool rx_h2c_last;            /* the current H2CData PDU ends the transfer */
	struct iovec rx_iov[3];

	/* send */
	struct tcp_queue *tx_next;   /* worker's list of queues with PDUs to flush */
	bool tx_listed;
	bool send_armed;
	uint64_t send_since_ms;      /* the send in flight started (progress timeout) */
	struct tcp_req *sendq_head, *sendq_tail;
	struct iovec *tx_iov;
	unsigned tx_iov_cap;
	unsigned tx_iov_want;        /* grown when no send is armed */
	struct iovec tx_iov_small[TCP_TX_IOV_SMALL];
	uint8_t ctl_pdu[TCP_TERM_MAX]; /* ICResp or C2HTermReq */
	uint32_t ctl_len, ctl_off;
	bool tx_ctl;                 /* the send in flight carries the control PDU */

	/* close */
	struct tcp_queue *reap_next;
	uint64_t drain_deadline_ms;  /* target stopping */
};

static inline struct tcp_queue *tcp_of(struct nvr_queue *q)
{
	return (struct tcp_queue *)((char *)q - offsetof(struct tcp_queue, q));
}

static inline struct tcp_req *tcp_req_of(struct req *req)
{
	return (struct tcp_req *)req;
}

/* ---- tcp_queue.c ---- */
struct tcp_queue *tcp_queue_create(struct worker *w, int fd, struct nvr_port *port, const char *peer,
				   struct peer_count *peer_slot);
/* The same over any stream (TLS, or the tests' in-memory stream); fd may be -1. */
struct tcp_queue *tcp_queue_new(struct worker *w, struct stream *st, int fd, struct nvr_port *port,
				const char *peer, struct peer_count *peer_slot);
/* Close now: stream shut down; freed later by tcp_reap (never inline). */
void tcp_close(struct tcp_queue *t, const char *why);
/* Worker loop, between completion batches: free closed queues nothing refers to any more. */
void tcp_reap(struct worker *w);
/* Periodic: timeouts, keep-alive, drain deadlines. */
void tcp_tick(struct worker *w);
/* Target stopping: finish what is in flight, then close. */
void tcp_worker_stop(struct worker *w);
/* A request from the pool (made on first need); NULL when the queue holds all it may. */
struct tcp_req *tcp_req_get(struct tcp_queue *t);
/* A request is done with (response sent, or the queue is going): back to the pool. */
void tcp_req_put(struct tcp_queue *t, struct tcp_req *tr);
/* Connect succeeded: grow the pool and buffers to what SQSIZE grants. */
int tcp_queue_connected(struct nvr_queue *q);
/* Target stopping and nothing but parked AERs left: close. */
void tcp_check_drained(struct tcp_queue *t);

/* ---- tcp_rx.c ---- */
void tcp_arm_recv(struct tcp_queue *t);
uint16_t tcp_check_sgl(struct req *req, uint32_t icd_len);
void tcp_parse(struct tcp_queue *t);
void tcp_on_recv(struct stream *s, int res);
/* A fatal transport error: C2HTermReq with FES/FEI and the offending header, then close. */
void tcp_fatal(struct tcp_queue *t, uint16_t fes, uint32_t fei, const void *hdr, uint32_t hdr_len);

/* ---- tcp_tx.c ---- */
void tcp_queue_response(struct req *req);
void tcp_solicit_data(struct req *req);
void tcp_kick_send(struct tcp_queue *t);
void tcp_want_send(struct tcp_queue *t);
void tcp_on_send(struct stream *s, int res);
void tcp_send_icresp(struct tcp_queue *t);
/* Start the sends queued since the last call (worker loop, before entering the kernel). */
void tcp_flush_sends(struct worker *w);

#endif
