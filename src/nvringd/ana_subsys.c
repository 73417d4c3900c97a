/* SPDX-License-Identifier: MIT */
/* ANA of one subsystem in the daemon: the model under a lock, its lock-free I/O copy, AENs, the timer. */
#include "ana_subsys.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "cmd/identify.h"
#include "config/config.h"
#include "core/queue.h"
#include "core/req.h"
#include "ctrl.h"
#include "log.h"
#include "target.h"
#include "worker.h"

#define NS_PER_MS 1000000ull
#define ANA_TIMER_MAX_MS 100 /* a transition ends at most this late */

struct ana_subsys {
	pthread_mutex_t lock; /* ana, and the timer's armed flag */
	struct ana ana;
	struct target *tgt;
	struct nvr_subsys *s;

	/* the I/O path's copy: portid[i] is valid below nports (released after it is written) */
	_Atomic unsigned nports;
	uint16_t portid[ANA_MAX_PORTS];
	_Atomic uint8_t state[ANA_MAX_PORTS][ANA_MAX_GROUPS];

	/* transition timer: a timeout on worker 0's ring, touched only there once armed */
	bool timer_armed;    /* under lock */
	struct worker_msg arm_msg;
	bool arm_posted;     /* under lock: arm_msg is in worker 0's inbox */
	struct ring_op timer_op;
	struct __kernel_timespec timer_ts;
};

/* ---- the I/O copy and the AEN fan-out (the model's change hook, under the lock) ---------- */

static void ana_subsys_copy_port(struct ana_subsys *as, int pidx)
{
	const struct ana_port *p = &as->ana.ports[pidx];

	for (uint32_t g = 0; g < as->ana.ngroups; g++)
		atomic_store_explicit(&as->state[pidx][g], p->grp[g].state, memory_order_relaxed);
}

struct ana_aen_msg {
	struct worker_msg msg;
	struct nvr_ctrl *ctrl;
};

static void ana_aen_run(struct worker *w, struct worker_msg *m)
{
	struct ana_aen_msg *am = container_of(m, struct ana_aen_msg, msg);

	(void)w;
	if (!atomic_load(&am->ctrl->dead))
		ctrl_notify_event(am->ctrl, ANA_AEN_RESULT);
	ctrl_put(am->ctrl);
	free(am);
}

/* Controllers connected through portid learn that its ANA log changed. */
static void ana_subsys_notify(struct ana_subsys *as, uint16_t portid)
{
	struct target *tgt = as->tgt;

	if (!tgt)
		return;
	pthread_mutex_lock(&tgt->lock);
	for (unsigned id = 1; id <= NVR_MAX_CNTLID; id++) {
		struct nvr_ctrl *ctrl = tgt->ctrls[id];
		struct nvr_queue *aq = ctrl ? ctrl->queues[0] : NULL;
		struct ana_aen_msg *am;

		if (!aq || ctrl->subsys != as->s || atomic_load(&ctrl->dead) || !aq->port || aq->port->portid != portid)
			continue;
		am = calloc(1, sizeof(*am));
		if (!am)
			continue; /* the host still sees the change on its next I/O error or log read */
		am->msg.fn = ana_aen_run;
		am->ctrl = ctrl;
		atomic_fetch_add(&ctrl->refs, 1);
		worker_post(aq->w, &am->msg);
	}
	pthread_mutex_unlock(&tgt->lock);
}

static void ana_subsys_changed(void *arg, uint16_t portid)
{
	struct ana_subsys *as = arg;
	int pidx = ana_port_index(&as->ana, portid);

	if (pidx >= 0)
		ana_subsys_copy_port(as, pidx);
	ana_subsys_notify(as, portid);
}

/* ---- life ------------------------------------------------------------------------------ */

struct ana_subsys *ana_subsys_create(struct target *tgt, struct nvr_subsys *s)
{
	struct ana_subsys *as = calloc(1, sizeof(*as));

	if (!as)
		return NULL;
	pthread_mutex_init(&as->lock, NULL);
	as->tgt = tgt;
	as->s = s;
	if (ana_init(&as->ana, ANA_MAX_GROUPS, ANA_SUBSYS_ANATT, ana_subsys_changed, as) < 0) {
		ana_subsys_destroy(as);
		return NULL;
	}
	return as;
}

void ana_subsys_destroy(struct ana_subsys *as)
{
	if (!as)
		return;
	pthread_mutex_destroy(&as->lock);
	free(as);
}

int ana_subsys_add_port(struct ana_subsys *as, uint16_t portid)
{
	unsigned n;
	int ret;

	pthread_mutex_lock(&as->lock);
	ret = ana_add_port(&as->ana, portid);
	if (!ret) {
		n = atomic_load_explicit(&as->nports, memory_order_relaxed);
		as->portid[n] = portid;
		ana_subsys_copy_port(as, (int)n);
		atomic_store_explicit(&as->nports, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&as->lock);
	return ret;
}

int ana_subsys_ns_set(struct ana_subsys *as, uint32_t nsid, uint32_t grpid, char *err, size_t errlen)
{
	int ret;

	if (nsid > ANA_MAX_NSID) {
		snprintf(err, errlen, "NSID %u is above %u, the highest an ANA log page of nvringd lists", nsid,
			 ANA_MAX_NSID);
		return -EINVAL;
	}
	pthread_mutex_lock(&as->lock);
	ret = ana_ns_set_group(&as->ana, nsid, grpid);
	pthread_mutex_unlock(&as->lock);
	if (ret)
		snprintf(err, errlen, "ANA group %u is not in 1..%u", grpid, ANA_MAX_GROUPS);
	return ret;
}

int ana_subsys_port_from_config(struct ana_subsys *as, const struct cfg_port *cp, char *err, size_t errlen)
{
	char why[256];
	int ret = ana_subsys_add_port(as, cp->portid);

	/* a port ID the model knows keeps its states (a port removed and added again too) */
	if (ret == -EEXIST)
		return 0;
	if (ret == -ENOSPC) {
		snprintf(err, errlen, "port %u: a subsystem is exported on at most %u ports", cp->portid, ANA_MAX_PORTS);
		return -1;
	}
	for (uint32_t g = 1; g <= ANA_MAX_GROUPS; g++) {
		enum cfg_ana_state st = nvr_config_port_ana_state(cp, g);

		if (st == CFG_ANA_OPTIMIZED)
			continue; /* where a new port starts */
		if (ana_subsys_set_state(as, cp->portid, g, nvr_config_ana_state_name(st), 0, worker_now_ms(), why,
					 sizeof(why)) < 0) {
			snprintf(err, errlen, "port %u: ANA group %u: %s", cp->portid, g, why);
			return -1;
		}
	}
	return 0;
}

int ana_subsys_sync_ports(struct nvr_subsys *s, const struct nvr_config *cfg, size_t si, char *err, size_t errlen)
{
	char why[256];

	for (size_t pi = 0; s->ana && pi < cfg->nr_ports; pi++) {
		const struct cfg_port *cp = &cfg->ports[pi];

		if (cp->discovery_only || !nvr_config_port_has_subsys(cp, si))
			continue;
		if (ana_subsys_port_from_config(s->ana, cp, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", s->nqn, why);
			return -1;
		}
	}
	return 0;
}

int ana_subsys_setup(struct target *tgt, struct nvr_subsys *s, const struct nvr_config *cfg, size_t si, char *err,
		     size_t errlen)
{
	const struct ns_table *t = atomic_load(&s->ns_table);
	char why[256];

	s->ana = ana_subsys_create(tgt, s);
	if (!s->ana) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ana_subsys_sync_ports(s, cfg, si, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; t && i < t->nr; i++)
		if (ana_subsys_ns_set(s->ana, t->ns[i]->nsid, t->ns[i]->anagrpid, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s namespace %u: %s", s->nqn, t->ns[i]->nsid, why);
			return -1;
		}
	return 0;
}

uint32_t ana_subsys_ns_group(struct ana_subsys *as, uint32_t nsid)
{
	uint32_t g;

	pthread_mutex_lock(&as->lock);
	g = ana_ns_group(&as->ana, nsid);
	pthread_mutex_unlock(&as->lock);
	return g;
}

/* ---- the transition timer (worker 0) -------------------------------------------------- */

static void ana_timer_arm_locked(struct ana_subsys *as, struct worker *w, uint64_t now_ms);

static void ana_timer_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct ana_subsys *as = container_of(op, struct ana_subsys, timer_op);
	struct worker *w = &as->tgt->workers[0];
	uint64_t now = worker_now_ms();

	(void)cqe;
	pthread_mutex_lock(&as->lock);
	as->timer_armed = false;
	ana_advance(&as->ana, now * NS_PER_MS);
	if (!w->stopping)
		ana_timer_arm_locked(as, w, now);
	pthread_mutex_unlock(&as->lock);
}

/* On worker 0, under the lock: a timeout for the next deadline, if any and none armed. */
static void ana_timer_arm_locked(struct ana_subsys *as, struct worker *w, uint64_t now_ms)
{
	uint64_t next = ana_next_deadline(&as->ana), wait_ms;
	struct io_uring_sqe *sqe;

	if (as->timer_armed || next == UINT64_MAX)
		return;
	wait_ms = next / NS_PER_MS > now_ms ? next / NS_PER_MS - now_ms + 1 : 1;
	if (wait_ms > ANA_TIMER_MAX_MS)
		wait_ms = ANA_TIMER_MAX_MS;
	as->timer_ts.tv_sec = 0;
	as->timer_ts.tv_nsec = (long long)(wait_ms * NS_PER_MS);
	as->timer_op.complete = ana_timer_done;
	sqe = worker_get_sqe(w);
	io_uring_prep_timeout(sqe, &as->timer_ts, 0, 0);
	ring_op_attach(sqe, &as->timer_op);
	as->timer_armed = true;
}

static void ana_timer_arm_msg(struct worker *w, struct worker_msg *m)
{
	struct ana_subsys *as = container_of(m, struct ana_subsys, arm_msg);

	pthread_mutex_lock(&as->lock);
	as->arm_posted = false;
	if (!w->stopping)
		ana_timer_arm_locked(as, w, worker_now_ms());
	pthread_mutex_unlock(&as->lock);
}

/* Under the lock, after a change that may have started a transition. */
static void ana_timer_kick_locked(struct ana_subsys *as)
{
	struct target *tgt = as->tgt;

	/* before the workers run (and in unit tests) log reads commit what is due */
	if (!tgt || !tgt->workers || !atomic_load(&tgt->workers_running) || as->timer_armed || as->arm_posted ||
	    ana_next_deadline(&as->ana) == UINT64_MAX)
		return;
	as->arm_posted = true;
	as->arm_msg.fn = ana_timer_arm_msg;
	worker_post(&tgt->workers[0], &as->arm_msg);
}

void ana_subsys_start_all(struct target *tgt)
{
	for (unsigned i = 0; i < tgt->nr_subsys; i++) {
		struct ana_subsys *as = tgt->subsys[i] ? tgt->subsys[i]->ana : NULL;

		if (!as)
			continue;
		pthread_mutex_lock(&as->lock);
		ana_timer_kick_locked(as);
		pthread_mutex_unlock(&as->lock);
	}
}

/* ---- the control plane -------------------------------------------------------------- */

int ana_subsys_check_state(struct ana_subsys *as, uint16_t portid, uint32_t grpid, const char *state,
			   uint32_t transition_ms, char *err, size_t errlen)
{
	struct ana *copy = malloc(sizeof(*copy));
	int ret;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* the real checks on a copy without the hook: nothing changes, nobody is told */
	pthread_mutex_lock(&as->lock);
	*copy = as->ana;
	pthread_mutex_unlock(&as->lock);
	copy->on_change = NULL;
	ret = ana_set_state_by_name(copy, portid, grpid, state, transition_ms, 0, err, errlen);
	free(copy);
	return ret;
}

int ana_subsys_set_state(struct ana_subsys *as, uint16_t portid, uint32_t grpid, const char *state,
			 uint32_t transition_ms, uint64_t now_ms, char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&as->lock);
	ana_advance(&as->ana, now_ms * NS_PER_MS);
	ret = ana_set_state_by_name(&as->ana, portid, grpid, state, transition_ms, now_ms * NS_PER_MS, err, errlen);
	if (!ret)
		ana_timer_kick_locked(as);
	pthread_mutex_unlock(&as->lock);
	return ret;
}

void ana_subsys_snapshot(struct ana_subsys *as, uint64_t now_ms, struct ana *out)
{
	pthread_mutex_lock(&as->lock);
	ana_advance(&as->ana, now_ms * NS_PER_MS);
	*out = as->ana;
	pthread_mutex_unlock(&as->lock);
	out->on_change = NULL;
	out->on_change_arg = NULL;
}

/* ---- I/O path ------------------------------------------------------------------------ */

uint16_t ana_subsys_io_status(const struct ana_subsys *as, const struct nvr_port *port, uint32_t grpid)
{
	unsigned n = atomic_load_explicit(&((struct ana_subsys *)as)->nports, memory_order_acquire);

	if (!port || grpid < 1 || grpid > ANA_MAX_GROUPS)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (as->portid[i] == port->portid)
			return ana_status_of(atomic_load_explicit(&((struct ana_subsys *)as)->state[i][grpid - 1],
								  memory_order_relaxed));
	return 0;
}

/* ---- admin: log page and Identify ----------------------------------------------------- */

void ana_subsys_log_page(struct ana_subsys *as, struct req *req, const struct identify_log_args *a)
{
	uint16_t portid = req->q->port ? req->q->port->portid : 0;
	bool rgo = a->lsp & ANA_LOG_LSP_RGO;
	size_t cap;
	ssize_t len;

	/* the whole log in aux (up to 8 KiB: more than the admin stack buffer), the window in buf */
	pthread_mutex_lock(&as->lock);
	ana_advance(&as->ana, req_now_ms(req) * NS_PER_MS);
	cap = ana_log_max_len(&as->ana, ANA_MAX_NSID);
	if (req_alloc_aux(req, (uint32_t)cap) < 0 || req_alloc_buf(req, a->len ? a->len : 1) < 0) {
		pthread_mutex_unlock(&as->lock);
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
		return;
	}
	len = ana_log_build(&as->ana, portid, rgo, req->aux, cap);
	pthread_mutex_unlock(&as->lock);
	if (len < 0)
		len = 0; /* a port without ANA state cannot carry this subsystem's controllers: an empty log */
	/* the page is as long as hosts size it (NANAGRPID descriptors, MNAN NSIDs), zeroes past
	 * what it says: nvme-cli reads it in 4 KiB pieces at growing offsets */
	memset((uint8_t *)req->aux + len, 0, cap - (size_t)len);
	if (identify_log_copy(a, req->aux, (uint32_t)cap, req->buf)) {
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR);
		return;
	}
	if (!a->rae)
		ctrl_aen_log_read(req->ctrl, a->lid);
	req->xfer_len = a->len < req->data_len ? a->len : req->data_len;
	req_complete(req, 0, 0, 0);
}

void ana_subsys_id_ctrl(struct ana_subsys *as, struct nvme_id_ctrl *id)
{
	pthread_mutex_lock(&as->lock);
	ana_id_ctrl(&as->ana, id);
	pthread_mutex_unlock(&as->lock);
}
