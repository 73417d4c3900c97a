/* SPDX-License-Identifier: MIT */
/*
 * One NVMe command for its whole life on a queue pair: taken from the queue's pool when the
 * capsule arrives, returned when its response has been sent.
 */
#ifndef NVRING_TARGET_REQ_H
#define NVRING_TARGET_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backend/backend.h"
#include "kvstore/kvstore.h"
#include "spec/nvme_cmd.h"
#include "spec/nvme_tcp.h"

struct conn;
struct nvr_ns;

enum req_state {
	REQ_FREE,
	REQ_RECV_ICD,      /* receiving in-capsule data */
	REQ_NEED_R2T,      /* write data to solicit with R2T */
	REQ_RECV_H2C,      /* R2T sent, receiving H2CData */
	REQ_EXECUTING,     /* in a command handler or the backend */
	REQ_HELD,          /* parked (Async Event Request) */
	REQ_SENDING,       /* response (and data) queued for sending */
};

enum req_dir {
	REQ_DIR_NONE,
	REQ_DIR_H2C, /* host to controller (write) */
	REQ_DIR_C2H, /* controller to host (read) */
};

/* Longest C2HData PDU we send; larger reads are split. */
#define NVR_C2H_PDU_MAX (64 * 1024)
#define NVR_MDTS_BYTES (1024 * 1024) /* KV values up to 1 MiB move in one command */
#define NVR_REQ_MAX_C2H_PDUS (NVR_MDTS_BYTES / NVR_C2H_PDU_MAX + 1)
#define NVR_REQ_MAX_IOV (NVR_REQ_MAX_C2H_PDUS * 3 + 1)

struct req {
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	enum req_state state;
	enum req_dir dir;
	struct conn *conn;
	struct nvr_ns *ns;
	struct req *next;      /* free list / send queue / held list */
	uint16_t ttag;         /* index in the queue's pool */

	/* data: `buf` of `data_len` bytes; buf_size is the pool buffer size (0 = not from the pool) */
	void *buf;
	uint32_t buf_size;
	uint32_t data_len;     /* transfer length from the SGL */
	uint32_t xfer_len;     /* bytes actually to return on C2H (<= data_len; KV retrieve may be less) */
	uint32_t h2c_done;     /* H2C bytes received so far */
	bool ddgst_failed;     /* a data digest on this command's data did not match */
	bool r2t_queued;       /* our R2T is still in the send queue */
	bool exec_after_r2t;   /* all data arrived before the R2T send completed */
	uint16_t pending_status; /* rejection decided at capsule time, sent once ICD is drained */

	void *aux;             /* second buffer (Compare, Verify), from the pool */
	uint32_t aux_size;

	union {
		struct be_io io;       /* backend operation */
		struct kvs_io kvio;    /* KV engine operation */
		struct ring_op pt_op;  /* passthrough: the uring_cmd on the drive (passthru.c) */
	};
	uint64_t slba;         /* NVM: starting LBA of the command, for multi-step commands */
	uint32_t step;         /* handler-private progress counter */

	/* transmit: headers built here, sent with data in one vectored send */
	struct iovec iov[NVR_REQ_MAX_IOV];
	int iovcnt;
	int iov_done;          /* iovecs fully sent */
	uint8_t hdrs[NVR_REQ_MAX_C2H_PDUS][sizeof(struct nvme_tcp_data_pdu) + 4];
	uint32_t ddgst[NVR_REQ_MAX_C2H_PDUS];
	uint8_t rsp[sizeof(struct nvme_tcp_rsp_pdu) + 4];
};

/* Finish a command: status is (SCT << 8) | SC with NVME_STATUS_DNR/MORE bits; dw0/dw1 into the CQE. */
void req_complete(struct req *req, uint16_t status, uint32_t dw0, uint32_t dw1);
static inline void req_complete_status(struct req *req, uint16_t status)
{
	req_complete(req, status, 0, 0);
}
/* Make sure req->buf holds at least len bytes (for commands returning data the handler builds). */
int req_alloc_buf(struct req *req, uint32_t len);
/* A second pool buffer of at least len bytes in req->aux. */
int req_alloc_aux(struct req *req, uint32_t len);

#endif
