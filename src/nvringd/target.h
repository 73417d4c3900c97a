/* SPDX-License-Identifier: MIT */
/* The whole target: workers, ports, subsystems and the controller table. */
#ifndef NVRING_TARGET_TARGET_H
#define NVRING_TARGET_TARGET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctrl.h"
#include "subsys.h"
#include "worker.h"

struct kvs;

#define NVR_MAX_CNTLID 0xFFEF

struct target {
	struct worker *workers;
	unsigned nr_workers;
	atomic_uint next_worker;      /* round robin placement of new queue pairs */

	struct nvr_port *ports;
	unsigned nr_ports;
	struct nvr_subsys **subsys;   /* [0] is the discovery subsystem */
	unsigned nr_subsys;
	bool poll;                    /* busy-poll the completion queue */
	bool big_sqe;                 /* a passthrough namespace exists: rings need SQE128|CQE32 */
	struct kvs **kv_engines;      /* every KV engine, polled by the workers for GC */
	unsigned nr_kv_engines;

	pthread_mutex_t lock;         /* the controller table and ctrl->queues[] */
	struct nvr_ctrl *ctrls[NVR_MAX_CNTLID + 1];
	uint16_t next_cntlid;
	atomic_ullong genctr;         /* discovery log generation counter */
	atomic_bool stopping;
};

struct nvr_subsys *target_find_subsys(struct target *tgt, const char *nqn);
/* Allocate a controller with a dynamic cntlid; NULL if none left. */
struct nvr_ctrl *target_ctrl_create(struct target *tgt, struct nvr_subsys *s);
/* Look up a live controller by cntlid and take a queue reference on it (NULL if none). */
struct nvr_ctrl *target_ctrl_get(struct target *tgt, uint16_t cntlid);
void ctrl_put(struct nvr_ctrl *ctrl);

#endif
