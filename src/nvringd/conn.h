/* SPDX-License-Identifier: MIT */
/* One NVMe/TCP queue pair: a TCP connection, its PDU receive/send machines and request pool. */
#ifndef NVRING_TARGET_CONN_H
#define NVRING_TARGET_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "req.h"
#include "ring/ring_op.h"
#include "worker.h"

struct nvr_ctrl;
struct nvr_port;

enum conn_state {
	CONN_WAIT_ICREQ,
	CONN_LIVE,
	CONN_ERROR,   /* fatal error: TermReq queued, then close */
	CONN_CLOSING, /* socket shut down, waiting for operations in flight */
};

enum conn_rx_state {
	RX_PDU,   /* accumulating a PDU header in rbuf */
	RX_DATA,  /* PDU payload into a request buffer (+ data digest) */
	RX_STOP,  /* error or close: no more parsing */
};

#define CONN_RBUF_SIZE (64 * 1024)
#define CONN_TX_IOV 256
#define CONN_TERM_MAX (sizeof(struct nvme_tcp_term_pdu) + NVME_TCP_TERM_MAX_DATA)

struct conn {
	struct worker *w;
	struct conn *next, *prev; /* worker's list */
	int fd;
	struct nvr_port *port;
	enum conn_state state;
	char peer[64];

	/* negotiated at ICReq */
	bool hdgst, ddgst;
	uint32_t maxh2cdata;

	/* queue, set at Connect */
	struct nvr_ctrl *ctrl;
	uint16_t qid;
	uint16_t sqsize;  /* 0's based */
	uint16_t sqhd;
	bool sqflow_off;
	uint32_t max_icd; /* in-capsule data accepted on this queue */

	/* request pool */
	struct req *reqs;
	unsigned nr_reqs;
	struct req *free_reqs;
	unsigned busy_reqs; /* taken from the pool */

	/* receive */
	struct ring_op recv_op;
	bool recv_armed;
	bool rx_paused;           /* no free request: resume when one is freed */
	enum conn_rx_state rx_state;
	uint8_t *rbuf;
	uint32_t rlen;            /* valid bytes in rbuf */
	uint32_t roff;            /* parse position */
	struct req *rx_req;       /* request whose data is being received */
	uint8_t *rx_dst;          /* where the rest of the payload goes */
	uint32_t rx_left;         /* payload bytes still to receive */
	uint32_t rx_pdu_len;      /* payload bytes of the current PDU */
	uint8_t *rx_pdu_start;    /* start of the current PDU's payload in the request buffer */
	uint8_t rx_ddgst[4];
	uint32_t rx_ddgst_left;   /* digest bytes still to receive */
	bool rx_h2c_last;         /* the current H2CData PDU ends the transfer */
	struct iovec rx_iov[3];
	struct msghdr rx_msg;

	/* send */
	struct conn *tx_next;  /* worker's list of connections with PDUs to flush */
	bool tx_listed;
	struct ring_op send_op;
	bool send_armed;
	struct req *sendq_head, *sendq_tail; /* requests with PDUs to send, in order */
	struct iovec tx_iov[CONN_TX_IOV];
	struct msghdr tx_msg;
	uint8_t ctl_pdu[CONN_TERM_MAX]; /* ICResp or C2HTermReq */
	uint32_t ctl_len, ctl_off;
	bool tx_ctl;       /* the send in flight carries the control PDU */

	/* close */
	struct conn *reap_next;   /* worker's list of closed connections waiting to be freed */
	struct ring_op cancel_op;
	int ops_inflight;  /* recv + send + backend operations */
	bool draining;     /* target stopping: finish what is in flight, then close */
	uint64_t drain_deadline_ms;
};

/* Worker start: listeners on worker 0 begin accepting. */
void conn_worker_start(struct worker *w);
/* Start the sends queued since the last call (worker loop, before entering the kernel). */
void conn_flush_sends(struct worker *w);
/* Periodic: keep-alive expiry, drain deadlines. */
void conn_tick_all(struct worker *w);
/* Close a connection now: socket shut down; freed later by conn_reap_closed (never inline). */
void conn_close(struct conn *c);
/* Worker loop, between completion batches: free closed connections nothing refers to any more. */
void conn_reap_closed(struct worker *w);
/* Called on each worker when the target stops. */
void conn_worker_stop(struct worker *w);

struct conn *conn_create(struct worker *w, int fd, struct nvr_port *port, const char *peer);

/* The request's data (received or to send) is complete: run the command. */
void conn_execute(struct req *req);
/* Checks that need no data, run before an R2T is sent: 0 or the status the command would get. */
uint16_t conn_precheck(struct req *req);
/* Data direction (enum req_dir, 3 = bidirectional) of an I/O queue command, from its
 * namespace's opcode table; looks the namespace up once, into req->ns. */
int conn_io_dir(struct req *req);

/* Listener sockets (blocking setup at start). */
int conn_listen(struct nvr_port *port, char *err, size_t errlen);

#endif
