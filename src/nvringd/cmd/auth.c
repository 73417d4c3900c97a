/* SPDX-License-Identifier: MIT */
#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "auth/dhchap.h"
#include "auth/dhchap_ctrl.h"
#include "core/queue.h"
#include "ctrl.h"
#include "log.h"
#include "offload.h"
#include "subsys.h"
#include "worker.h"

#define AUTH_FCTYPE_SEND 0x05
#define AUTH_FCTYPE_RECV 0x06
#define AUTH_FAIL_LINGER_MS 100 /* the host reads its AUTH_Failure1, then the queue goes */

struct queue_auth {
	struct dhchap_ctrl *s;
	struct offload_job job;  /* a DH step off the worker */
	struct req *pending;     /* the Send waiting for it */
	int job_status;
	uint64_t doomed_ms;      /* failed: close at this time */
};

static uint64_t auth_ns(uint64_t ms)
{
	return ms * 1000000ull;
}

uint32_t auth_connect(struct req *req, const struct nvr_host *host)
{
	struct nvr_queue *q = req->q;
	struct nvr_ctrl *ctrl = q->ctrl;
	struct dhchap_ctrl_cfg cfg = {
		.host_key = host ? host->dhchap_key : NULL,
		.ctrl_key = host ? host->dhchap_ctrl_key : NULL,
		.hostnqn = ctrl->hostnqn,
		.subnqn = ctrl->subsys->nqn,
		.hashes = ctrl->subsys->dhchap_hashes,
		.dhgroups = ctrl->subsys->dhchap_dhgroups,
		.timeout_ms = ctrl->kato_ms,
		.defer_dh = true,
	};
	struct queue_auth *a;

	if (!cfg.host_key)
		return 0;
	a = calloc(1, sizeof(*a));
	if (a)
		a->s = dhchap_ctrl_new(&cfg, auth_ns(req_now_ms(req)));
	if (!a || !a->s) {
		/* without a session the queue cannot authenticate: it stays gated and times out */
		log_err("%s: cannot start authentication: %s", q->peer, strerror(errno));
		free(a);
		return DHCHAP_CONNECT_ATR;
	}
	q->auth = a;
	return DHCHAP_CONNECT_ATR;
}

void auth_queue_free(struct nvr_queue *q)
{
	struct queue_auth *a = q->auth;

	if (!a)
		return;
	dhchap_ctrl_free(a->s);
	free(a);
	q->auth = NULL;
}

uint16_t auth_gate(const struct req *req)
{
	const struct nvmf_common_sqe *f = (const void *)&req->sqe;
	const struct queue_auth *a = req->q->auth;

	if (!req->q->auth_required)
		return 0;
	if (req->sqe.opcode == NVME_FABRICS_OPCODE && (f->fctype == AUTH_FCTYPE_SEND || f->fctype == AUTH_FCTYPE_RECV))
		return 0;
	if (a && dhchap_ctrl_state(a->s) == DHCHAP_CTRL_AUTHENTICATED)
		return 0;
	return NVME_STATUS(NVME_SCT_CMD_SPECIFIC, 0x91) | NVME_STATUS_DNR;
}

/* After a step: a failed session lingers so the host can read why, then the queue goes. */
static void auth_after(struct req *req, struct queue_auth *a)
{
	if (dhchap_ctrl_state(a->s) == DHCHAP_CTRL_FAILED && !a->doomed_ms) {
		if (!dhchap_ctrl_failure_pending(a->s))
			a->doomed_ms = req_now_ms(req);
		else
			a->doomed_ms = req_now_ms(req) + AUTH_FAIL_LINGER_MS;
		log_info("%s: authentication of %s failed (reason %u)", req->q->peer, req->ctrl->hostnqn,
			 dhchap_ctrl_fail_reason(a->s));
	}
}

static void auth_job_run(struct offload_job *job)
{
	struct queue_auth *a = container_of(job, struct queue_auth, job);

	a->job_status = dhchap_ctrl_work(a->s);
}

static void auth_job_done(struct exec_completion *c)
{
	struct queue_auth *a = container_of(c, struct queue_auth, job.done);
	struct req *req = a->pending;

	a->pending = NULL;
	auth_after(req, a);
	req_complete_status(req, (uint16_t)a->job_status);
}

void auth_send(struct req *req)
{
	struct queue_auth *a = req->q->auth;
	int st = dhchap_cmd_check(&req->sqe, req->data_len);

	if (!st && !a)
		st = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR) | NVME_STATUS_DNR;
	if (st) {
		req_complete_status(req, (uint16_t)st);
		return;
	}
	/* a re-authentication proves the keys the host has now (host_set_keys may have rotated
	 * them since the queue connected); a transaction running keeps its keys */
	if (dhchap_ctrl_state(a->s) == DHCHAP_CTRL_AUTHENTICATED) {
		const struct nvr_host *h = subsys_host_find(req->ctrl->subsys, req->ctrl->hostnqn);

		if (h && h->dhchap_key)
			dhchap_ctrl_set_keys(a->s, h->dhchap_key, h->dhchap_ctrl_key);
	}
	st = dhchap_ctrl_send(a->s, req->buf, req->data_len, auth_ns(req_now_ms(req)));
	if (st == DHCHAP_CTRL_DEFER) {
		a->pending = req;
		a->job.run = auth_job_run;
		a->job.done.fn = auth_job_done;
		a->job.ex = req_executor(req);
		offload_submit(&a->job);
		return;
	}
	auth_after(req, a);
	req_complete_status(req, (uint16_t)st);
}

void auth_receive(struct req *req)
{
	struct queue_auth *a = req->q->auth;
	int st = dhchap_cmd_check(&req->sqe, req->data_len);
	size_t len = 0;

	if (!st && !a)
		st = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR) | NVME_STATUS_DNR;
	if (!st)
		st = dhchap_ctrl_recv(a->s, req->buf, req->data_len, &len, auth_ns(req_now_ms(req)));
	if (st) {
		req_complete_status(req, (uint16_t)st);
		return;
	}
	/* AL bytes go back, zero padded, as nvmet does (the Linux host asks for 4096) */
	memset((uint8_t *)req->buf + len, 0, req->data_len - len);
	req->xfer_len = req->data_len;
	auth_after(req, a);
	if (dhchap_ctrl_state(a->s) == DHCHAP_CTRL_AUTHENTICATED)
		log_debug("%s: queue %u authenticated (hash %s, group %s%s)", req->q->peer, req->q->qid,
			  dhchap_hash_name(dhchap_ctrl_hash(a->s)), dhchap_dh_name(dhchap_ctrl_dhgroup(a->s)),
			  dhchap_ctrl_bidirectional(a->s) ? ", bidirectional" : "");
	req_complete_status(req, 0);
}

bool auth_expired(struct nvr_queue *q, uint64_t now_ms)
{
	struct queue_auth *a = q->auth;
	uint64_t deadline;

	if (!q->auth_required)
		return false;
	if (!a)
		return true; /* could not start: nothing will ever pass the gate */
	if (a->pending)
		return false; /* a DH step runs off the worker */
	if (a->doomed_ms)
		return now_ms >= a->doomed_ms;
	deadline = dhchap_ctrl_deadline(a->s);
	if (deadline && auth_ns(now_ms) >= deadline) {
		dhchap_ctrl_expire(a->s);
		log_info("%s: authentication timed out", q->peer);
		return true;
	}
	return false;
}
