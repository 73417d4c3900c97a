/* SPDX-License-Identifier: MIT */
/*
 * A controller: created by an admin-queue Connect, shared by its queues (one conn each,
 * possibly on several workers). Its registers, features and event state are touched only
 * on the admin queue's worker; I/O queues only read `subsys`, `cntlid` and `nr_io_queues`.
 */
#ifndef NVRING_NVRINGD_CTRL_H
#define NVRING_NVRINGD_CTRL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "resv.h"
#include "stats.h"
#include "subsys.h"

struct nvr_queue;
struct req;
struct target;
struct worker;
struct nvme_error_log_page;

#define NVR_MAX_IO_QUEUES 64
#define NVR_MQES 127           /* I/O queue entries, 0's based: 128 entries */
#define NVR_ADMIN_MQES 127     /* accepted admin sqsize */
#define NVR_AERL 3             /* 0's based: 4 outstanding AERs */
#define NVR_KAS 10             /* keep-alive granularity in 100 ms units */
#define NVR_IOCCSZ_ICD (8 * 1024) /* in-capsule data on I/O queues */
#define NVR_ADMIN_ICD (8 * 1024)
#define NVR_CHANGED_NS_MAX 1024    /* entries of the Changed Namespace List log */

struct nvr_ctrl {
	uint16_t cntlid;
	struct target *tgt;
	struct nvr_subsys *subsys;
	char hostnqn[NVR_NQN_MAX];
	uint8_t hostid[16];
	atomic_int refs;       /* one per live queue */
	atomic_bool dead;      /* torn down; queues are being closed */

	/* admin-queue worker only: */
	uint32_t cc;
	uint32_t csts;
	uint32_t kato_ms;      /* 0 = disabled */
	uint64_t last_ka_ms;   /* CLOCK_MONOTONIC ms of last Keep Alive (or Connect) */
	uint16_t nr_io_queues; /* granted by Set Features 0x07 (count, not 0's based) */
	uint32_t feat_aec;     /* Async Event Configuration (FID 0x0B) */
	bool feat_vwc;         /* Volatile Write Cache enabled (FID 0x06) */
	struct req *aers[NVR_AERL + 1]; /* held Async Event Requests */
	unsigned nr_aers;
	uint32_t pending_aen;  /* events with no AER to carry them yet (bit per event type) */
	uint32_t masked_aen;   /* events reported, masked until the host reads their log page */
	uint32_t feat_kv;      /* Key Value Configuration (FID 0x20): bit 0 EDNEK */
	uint32_t *changed;     /* namespaces changed since the Changed Namespace List was read */
	unsigned nr_changed;   /* sorted, at most NVR_CHANGED_NS_MAX */
	bool changed_overflow; /* more than that: the log says FFFFFFFFh */
	struct resv_log resv_log; /* Reservation Notification log (0x80) */

	/* under tgt->lock: queues by qid (0 = admin), and the counters of I/O queues gone */
	struct nvr_queue *queues[NVR_MAX_IO_QUEUES + 1];
	struct io_totals stats_gone;

	/* the Error Information log (cmd/health.c), written by every queue of the controller */
	pthread_mutex_t err_lock;
	struct nvme_error_log_page *errs; /* ring of NVR_ELPE + 1 entries, allocated at the first error */
	unsigned err_next;     /* slot of the next entry */
	uint64_t err_count;    /* entries produced (the newest entry's Error Count) */
};

/* Command handlers, each completes the request (now or later) with req_complete(). */
void fabrics_execute(struct req *req);      /* opcode 0x7F on any queue */
void admin_execute(struct req *req);        /* admin queue of an NVM subsystem */
void discovery_execute(struct req *req);    /* admin queue of the discovery subsystem */
void nvm_flush_all(struct req *req);        /* Flush with the broadcast NSID */

/* Admin-queue worker: complete a held AER with this event, or remember it. */
void ctrl_notify_event(struct nvr_ctrl *ctrl, uint32_t aen_result);
/* Admin-queue worker: the host reset or shut the controller down; complete held AERs. */
void ctrl_abort_aers(struct nvr_ctrl *ctrl);
/* Admin-queue worker: an Asynchronous Event Request (opcode 0x0C): park it or answer a pending event. */
void ctrl_aer_submit(struct req *req);
/* Admin-queue worker: the host read log page `lid` without RAE; events reported through it are cleared. */
void ctrl_aen_log_read(struct nvr_ctrl *ctrl, uint8_t lid);

/* Admin-queue worker: CC.SHN was set; flush volatile caches, then CSTS.SHST = complete. */
void ctrl_shutdown_flush(struct nvr_ctrl *ctrl, struct worker *w);

/* Data direction of an admin command opcode (explicit table; fabrics handled apart). */
int admin_opcode_dir(uint8_t opcode);

/* Admin-queue worker: namespace nsid was added, removed or resized (changed-NS log + AEN). */
void ctrl_ns_changed(struct nvr_ctrl *ctrl, uint32_t nsid);

/* Queue membership and keep-alive (ctrl.c). */
void ctrl_queue_gone(struct nvr_queue *q);
/* Any thread, tgt->lock held: tear the controller down (its admin queue closes, then the rest). */
void ctrl_kill_locked(struct nvr_ctrl *ctrl);
void ctrl_check_keepalive(struct nvr_queue *q, uint64_t now_ms);

/* Build the discovery log page (all subsystems x ports); returns its full length. */
uint32_t discovery_log_build(struct target *tgt, void *buf, uint32_t len, uint64_t offset);
/*
 * The same for one host on one port: only subsystems that allow `hostnqn` (NULL: all); the
 * current-discovery-subsystem entry only for `port` (NULL: every port); `local_traddr`
 * (NULL: none) replaces a wildcard listen address such as 0.0.0.0.
 */
uint32_t discovery_log_build_for(struct target *tgt, const char *hostnqn, const struct nvr_port *port,
				 const char *local_traddr, void *buf, uint32_t len, uint64_t offset);

#endif
