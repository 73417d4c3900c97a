/* SPDX-License-Identifier: MIT */
/* libnvring private structures: one NVMe/TCP queue (TCP connection + io_uring) and the controller. */
#ifndef NVRING_HOST_INTERNAL_H
#define NVRING_HOST_INTERNAL_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "auth/dhchap_key.h"
#include "nvring/nvring.h"
#include "spec/nvme_cmd.h"
#include "spec/nvme_tcp.h"

#define HQ_RBUF_SIZE (256u * 1024)
#define HQ_SEND_IOV_MAX 256
#define HQ_DIRECT_RECV_MIN 8192 /* payload left at least this large: recv straight into the user buffer */
#define HQ_SPIN_NS 50000       /* nvr_queue_wait polls this long before it sleeps */
#define HQ_ADMIN_ICD_MAX 8192   /* fabrics/admin in-capsule limit, as the Linux host uses */

enum hq_req_state {
	HQ_REQ_FREE,
	HQ_REQ_SEND_CMD, /* capsule queued for sending */
	HQ_REQ_WAIT,     /* capsule sent: waiting for R2T, C2HData or CapsuleResp */
	HQ_REQ_SEND_H2C, /* R2T accepted: H2CData PDUs queued */
};

enum hq_rx_state { HQ_RX_HDR, HQ_RX_DATA, HQ_RX_DDGST };

enum hq_q_state { HQ_Q_CONNECTING, HQ_Q_LIVE, HQ_Q_FAILED };

/* What carries the PDUs (stream.c): plain TCP, TLS records made here, or kernel TLS. */
enum hq_stream { HQ_STREAM_TCP, HQ_STREAM_TLS, HQ_STREAM_KTLS };

/* Every io_uring user_data points to one of these. */
enum hq_op_kind { HQ_OP_RECV, HQ_OP_SEND };
struct hq_op {
	enum hq_op_kind kind;
	bool busy;
};

struct hq_req {
	uint16_t cid;
	uint8_t state;
	uint8_t dir;
	bool icd;
	bool in_send;    /* its header is in the sendmsg in flight */
	bool done;       /* completed while in_send: finish when the send does */
	bool ddgst_err;
	void *buf;
	uint32_t len;
	uint32_t c2h_done;  /* bytes received so far */
	uint32_t h2c_off;   /* next byte to send within the R2T window */
	uint32_t h2c_end;   /* end of the R2T window */
	uint32_t h2c_chunk; /* data bytes of the H2CData PDU in flight */
	uint16_t ttag;
	/* an R2T that arrived while the previous PDU was still being sent (the peer can answer
	 * what it has received before our sendmsg returns): applied once that send completes */
	bool r2t_pending;
	uint16_t r2t_ttag;
	uint32_t r2t_off, r2t_len;
	nvr_cb cb;
	void *cb_arg;
	struct nvr_cpl cpl;
	struct hq_req *next; /* send list */
	/* the PDU header being sent: the command capsule (its SQE written here at submit), then
	 * the H2CData headers once the capsule is out */
	uint8_t hdr[sizeof(struct nvme_tcp_cmd_pdu) + NVME_TCP_DIGEST_LEN];
	uint8_t ddgst[NVME_TCP_DIGEST_LEN];
};

struct tls_ctx;
struct tls_sess;

struct nvr_queue {
	struct io_uring ring;
	bool ring_ok;
	int fd;
	enum hq_stream stream;
	struct tls_ctx *tls_ctx;
	struct tls_sess *tls;
	size_t tls_plain; /* plaintext bytes whose records are in the session's tx buffer */
	uint16_t qid;
	enum hq_q_state state;
	int err;
	uint16_t fes;
	bool hdgst, ddgst;
	uint32_t maxh2cdata;
	uint32_t icd_max; /* largest in-capsule write (0 = none) */
	int timeout_ms;
	uint64_t last_progress_ns;

	/* requests, indexed by CID */
	struct hq_req *reqs;
	unsigned depth;
	uint16_t *free_ids;
	unsigned nr_free;
	unsigned completed; /* callbacks run, for poll/wait counts */

	/* send side: FIFO of requests with a PDU to send, plus one control PDU (ICReq) */
	struct hq_req *send_head, *send_tail;
	uint8_t ctl[sizeof(struct nvme_tcp_icreq_pdu)];
	uint32_t ctl_len;
	bool ctl_in_send;
	struct hq_op send_op;
	struct msghdr msg;
	struct iovec iov[HQ_SEND_IOV_MAX];
	int iov_idx, iov_cnt;
	struct {
		struct hq_req *req;
		int iov_end; /* its PDU is sent once iov_idx reaches this */
	} inflight[HQ_SEND_IOV_MAX];
	int nr_inflight, inflight_done;

	/* receive side */
	struct hq_op recv_op;
	uint8_t *rbuf;
	uint32_t rhead, rtail;
	bool rx_direct; /* the recv in flight targets rx_dst, then rbuf */
	struct iovec rx_iov[2];
	struct msghdr rx_msg;
	union {
		char buf[64]; /* kernel TLS: the record type cmsg of each recvmsg */
		size_t align; /* as struct cmsghdr (which has a flexible array) */
	} rx_cmsg;
	enum hq_rx_state rx_state;
	struct hq_req *rx_req;
	uint8_t *rx_dst;
	uint32_t rx_left;
	uint32_t rx_crc;
	uint8_t rx_flags;
	union {
		struct nvme_tcp_hdr hdr;
		struct nvme_tcp_icresp_pdu icresp;
		struct nvme_tcp_term_pdu term;
		struct nvme_tcp_rsp_pdu rsp;
		struct nvme_tcp_data_pdu data;
		struct nvme_tcp_r2t_pdu r2t;
	} rx_hdr;
};

static inline uint32_t hq_get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4); /* x86/arm64 little-endian hosts only; the wire is LE */
	return v;
}

static inline uint8_t hq_hd(const struct nvr_queue *q)
{
	return q->hdgst ? NVME_TCP_DIGEST_LEN : 0;
}

/* queue.c */
void hq_fail(struct nvr_queue *q, int err);
void hq_req_complete(struct nvr_queue *q, struct hq_req *r, uint16_t status, uint32_t dw0, uint32_t dw1);
void hq_send_list_remove(struct nvr_queue *q, struct hq_req *r);
/* Start sending the data an R2T asked for (the window continues where the data sent ends). */
int hq_r2t_apply(struct nvr_queue *q, struct hq_req *r, uint16_t ttag, uint32_t off, uint32_t len);

/* rx.c */
/* Where received bytes go next: the command's buffer (payload of at least direct_min bytes
 * left, rbuf empty) then rbuf, or rbuf only. Fills iov, sets rx_direct, returns the count. */
int hq_rx_dest(struct nvr_queue *q, struct iovec iov[2], uint32_t direct_min);
/* Bytes still missing from the PDU header (or data digest) being received; 0 when none is. */
uint32_t hq_rx_hdr_need(const struct nvr_queue *q);
/* n bytes arrived at the hq_rx_dest places: parse them. < 0: the queue failed. */
int hq_rx_got(struct nvr_queue *q, uint32_t n);

/* queue.c */
int hq_open(struct nvr_queue **out, const struct nvr_connect_opts *o, uint16_t qid, unsigned depth);
void hq_close(struct nvr_queue *q);
void hq_set_icd_max(struct nvr_queue *q, uint32_t max);
/* Submit with in-capsule data forced (Connect's 1 KiB data goes in-capsule on every queue). */
int hq_submit(struct nvr_queue *q, const void *sqe, enum nvr_dir dir, void *buf, uint32_t len,
	      bool force_icd, nvr_cb cb, void *arg);
int hq_exec(struct nvr_queue *q, const void *sqe, enum nvr_dir dir, void *buf, uint32_t len,
	    bool force_icd, struct nvr_cpl *cpl);
uint64_t hq_now_ns(void);

/* stream.c: the byte stream under the PDU code. */
/* TCP connect; with TLS the handshake (bounded by the timeout) and the kernel TLS switch. */
int hq_stream_open(struct nvr_queue *q, const struct nvr_connect_opts *o);
/* close_notify, best effort, when no send is in flight. */
void hq_stream_close(struct nvr_queue *q);
/* The session's memory, once no io_uring op can touch its buffers. */
void hq_stream_free(struct nvr_queue *q);
/* Prepare the send of q->iov[iov_idx..iov_cnt) (TLS: of their records, or records left). */
void hq_stream_prep_send(struct nvr_queue *q, struct io_uring_sqe *sqe);
/* A send completed with res: the plaintext bytes now on the wire, -EINPROGRESS when records
 * are left to send (prepare another send), or < 0. */
int hq_stream_sent(struct nvr_queue *q, int res);
/* Records waiting without a PDU (a KeyUpdate answer). */
bool hq_stream_tx_pending(const struct nvr_queue *q);
void hq_stream_prep_recv(struct nvr_queue *q, struct io_uring_sqe *sqe);
/* A receive completed with res > 0: hand the plaintext to hq_rx_got. < 0: fail with it. */
int hq_stream_recvd(struct nvr_queue *q, int res);
/* One small PDU now, without io_uring, if nothing is in flight (H2CTermReq before giving up). */
void hq_stream_send_now(struct nvr_queue *q, const void *buf, size_t len);

/* controller */
struct nvr_ctrl {
	struct nvr_connect_opts opts;
	char subnqn[257];
	char hostnqn[257];
	struct nvr_queue *admin;
	struct nvr_queue **io;
	unsigned nr_io;
	uint16_t cntlid;
	uint64_t cap;
	uint32_t max_xfer;
	uint64_t last_ka_ns;
	uint8_t id[4096];
	/* DH-HMAC-CHAP secrets (zeroed at free) and the next transaction ID */
	struct dhchap_key host_key, ctrl_key;
	bool has_host_key, has_ctrl_key;
	uint16_t auth_tid;
};

/* auth.c: parse the secrets of c->opts; authenticate one queue after its Connect. 0 or negative
 * errno, with the reason in opts.errbuf. */
int hauth_setup(struct nvr_ctrl *c);
int hauth_queue(struct nvr_ctrl *c, struct nvr_queue *q, uint32_t connect_dw0, uint16_t *status);
/* Write a message into opts.errbuf (if any). */
void hauth_err(struct nvr_ctrl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
