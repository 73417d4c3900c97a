/* SPDX-License-Identifier: MIT */
/*
 * The request core: one NVMe command for its whole life on a queue, whatever transport
 * carried it (as nvmet's struct nvmet_req and SPDK's spdk_nvmf_request). Command handlers see
 * the request, its controller, its namespace and its queue's executor, never a socket.
 *
 * Life of a request (req->state):
 *
 *   FREE -> (capsule) -> RECV_ICD ----------------------------------------.
 *              |                                                           v
 *              +-> NEED_BUFFER -> R2T_QUEUED -> RECV_H2C ------------> EXECUTING -> SENDING -> FREE
 *              |        |              '--> H2C_EARLY (all data in       ^   |
 *              |        |                   before the R2T send done) ---'   '-> HELD (AER)
 *              |        '--> (read: buffer taken) -------------------------'
 *              '-> (nothing to move) ----------------------------------------'
 *
 * The transport owns the receive/send phases (RECV_*, R2T_QUEUED, SENDING); the core owns
 * parsing (req_init), buffers (with the worker's budget), execution and completion.
 */
#ifndef NVRING_NVRINGD_CORE_REQ_H
#define NVRING_NVRINGD_CORE_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "kvstore/kvstore.h"
#include "ring/executor.h"
#include "spec/nvme_cmd.h"

struct nvr_ctrl;
struct nvr_ns;
struct nvr_queue;

enum req_state {
	REQ_FREE,
	REQ_RECV_ICD,     /* in-capsule data arriving */
	REQ_NEED_BUFFER,  /* waiting for data-buffer budget (worker or queue limit reached) */
	REQ_R2T_QUEUED,   /* our R2T is in the send queue (the host may already answer it) */
	REQ_RECV_H2C,     /* R2T sent, H2CData arriving */
	REQ_H2C_EARLY,    /* every H2C byte arrived before the R2T's send completed */
	REQ_EXECUTING,    /* in a command handler or a backend */
	REQ_HELD,         /* parked (Asynchronous Event Request) */
	REQ_SENDING,      /* response (and data) queued at the transport */
};

enum req_dir {
	REQ_DIR_NONE,
	REQ_DIR_H2C, /* host to controller (write) */
	REQ_DIR_C2H, /* controller to host (read) */
};

#define NVR_MDTS_BYTES (1024 * 1024) /* KV values up to 1 MiB move in one command */

struct req {
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	enum req_state state;
	enum req_dir dir;
	struct nvr_queue *q;
	struct nvr_ctrl *ctrl;       /* the queue's controller when the command arrived */
	struct nvr_ns *ns;           /* I/O commands: referenced from req_init to release */
	void (*execute)(struct req *req); /* set by req_init */
	struct req *wait_next;       /* the worker's buffer wait list */

	uint16_t status;             /* decided before the data arrived; sent once it has */
	bool data_error;             /* a data digest of this command's data failed */
	bool data_in;                /* the host's data has arrived */
	bool zero_copy;              /* C2H data is sent from namespace memory: no buffer */
	bool lat_pending;            /* completed I/O whose latency is counted when it is sent */
	bool exec_inline;            /* executes before returning (RAM writes): in-capsule data
				      * may be used where the transport received it */
	uint32_t data_len;           /* transfer length from the SGL */
	uint32_t xfer_len;           /* C2H bytes to return (<= data_len) */
	uint32_t aux_need;           /* a second buffer the command needs, taken with the data buffer */

	/* buffers: buf_size/aux_size 0 = not from the pool (rbuf, namespace memory, NULL) */
	void *buf;
	uint32_t buf_size;
	void *aux;
	uint32_t aux_size;

	union {
		struct be_io io;       /* backend operation */
		struct kvs_io kvio;    /* KV engine operation */
		struct ring_op pt_op;  /* passthrough: the uring_cmd on the drive */
	};
	uint64_t start_ns;           /* when the capsule was parsed (I/O latency, stats.h) */
	uint64_t slba;               /* NVM: multi-step progress */
	uint32_t step;               /* handler-private progress counter */
};

/* ---- what handlers call ---- */

/* Finish a command: status is (SCT << 8) | SC with NVME_STATUS_DNR/MORE; dw0/dw1 into the CQE. */
void req_complete(struct req *req, uint16_t status, uint32_t dw0, uint32_t dw1);
static inline void req_complete_status(struct req *req, uint16_t status)
{
	req_complete(req, status, 0, 0);
}
/* Make sure req->buf holds at least len bytes (data a handler builds; counted in the budget). */
int req_alloc_buf(struct req *req, uint32_t len);
/* A second buffer of at least len bytes in req->aux. */
int req_alloc_aux(struct req *req, uint32_t len);
/* The executor of the worker this request runs on: submit backend I/O here. */
struct executor *req_executor(const struct req *req);
/* The worker's clock (ms, CLOCK_MONOTONIC), refreshed every loop iteration. */
uint64_t req_now_ms(const struct req *req);

/* ---- what transports call ---- */

/*
 * The one parse of a command (nvmet_req_init): direction, namespace (referenced), transfer
 * length (the SGL length, checked by the transport), the execute function, and the checks
 * that need no data. Returns 0 or the status the command must complete with once its
 * in-capsule data, if any, has been drained.
 */
uint16_t req_init(struct req *req, uint32_t icd_len);
/*
 * No in-capsule data: take the buffers the command needs (or wait for budget), solicit
 * H2C data (queue->ops->solicit_data), or execute.
 */
void req_start(struct req *req);
/* The command's data has fully arrived (in-capsule or H2C): complete it with its status, or run it. */
void req_data_ready(struct req *req);
/* Release buffers and the namespace reference (the transport then recycles the request). */
void req_release(struct req *req);

#endif
