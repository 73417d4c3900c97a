/* SPDX-License-Identifier: MIT */
/* The whole target: workers, ports, subsystems, limits and the controller table. */
#ifndef NVRING_NVRINGD_TARGET_H
#define NVRING_NVRINGD_TARGET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctrl.h"
#include "subsys.h"
#include "topo.h"
#include "worker.h"

#define NVR_MAX_CNTLID 0xFFEF

struct nvr_config;

/* Everything a peer can make us hold is bounded and timed out (README "Limits and hardening"). */
struct nvr_limits {
	unsigned max_conns;             /* connections, all peers */
	unsigned max_conns_per_host;    /* connections from one peer address */
	uint64_t max_inflight;          /* data buffers, all queues (split evenly among workers) */
	uint64_t max_inflight_per_conn; /* data buffers of one queue */
	uint32_t icreq_timeout_ms;      /* accept -> ICReq (0 = none) */
	uint32_t connect_timeout_ms;    /* ICResp -> Connect */
	uint32_t pdu_timeout_ms;        /* a PDU started and not finished, an R2T unanswered, a send
					 * without progress */
	unsigned listen_backlog;        /* 0 = net.core.somaxconn */
};

struct target {
	struct worker *workers;
	unsigned nr_workers;
	atomic_uint next_worker;      /* round robin placement of new queue pairs */

	/* the running configuration and its objects: start-up, then the control thread only
	 * (workers read the published topology) */
	struct nvr_config *cfg;
	struct nvr_subsys *disc;      /* the discovery subsystem */
	struct nvr_subsys **subsys;   /* [nr_subsys]: cfg->subsys[i] running */
	unsigned nr_subsys;
	struct nvr_port **ports;      /* [nr_ports]: cfg->ports[i] running */
	unsigned nr_ports;
	_Atomic(struct nvr_topo *) topo; /* topo.h */
	bool poll;                    /* busy-poll the completion queue */
	bool big_sqe;                 /* a passthrough namespace exists: rings need SQE128|CQE32 */
	struct nvr_limits limits;
	atomic_bool workers_running;  /* registry changes need grace periods */
	pthread_mutex_t registry_lock; /* serialises namespace table changes */
	struct nvr_ns **pollers;      /* namespaces with an event-loop hook (KV GC); set at start */
	unsigned nr_pollers;
	struct conn_limits *conn_limits; /* listener.c: connections per peer address */

	pthread_mutex_t lock;         /* the controller table and ctrl->queues[] */
	struct nvr_ctrl *ctrls[NVR_MAX_CNTLID + 1];
	uint16_t next_cntlid;
	atomic_ullong genctr;         /* discovery log generation counter */
	uint64_t started_ms;          /* CLOCK_MONOTONIC ms at start (SMART power-on hours) */
	atomic_bool stopping;
};

/* Allocate a controller with a dynamic cntlid; NULL if none left. */
struct nvr_ctrl *target_ctrl_create(struct target *tgt, struct nvr_subsys *s);
/* Look up a live controller by cntlid and take a queue reference on it (NULL if none). */
struct nvr_ctrl *target_ctrl_get(struct target *tgt, uint16_t cntlid);
void ctrl_put(struct nvr_ctrl *ctrl);

#endif
