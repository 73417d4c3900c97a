/* SPDX-License-Identifier: MIT */
/* Route a command whose data has arrived to its command set. */
#include <nvme/types.h>

#include "conn.h"
#include "ctrl.h"
#include "passthru.h"
#include "spec/nvme_kv.h"
#include "target.h"

void conn_execute(struct req *req)
{
	struct conn *c = req->conn;
	struct nvr_ctrl *ctrl = c->ctrl;

	req->state = REQ_EXECUTING;
	if (req->sqe.opcode == NVME_FABRICS_OPCODE) {
		fabrics_execute(req);
		return;
	}
	if (!ctrl) {
		/* the first command on a queue must be Connect */
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE) | NVME_STATUS_DNR);
		return;
	}
	if (c->draining) {
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORT_QUEUE));
		return;
	}
	if (c->qid == 0) {
		/* the handlers refuse everything until CSTS.RDY (controller enabled) */
		if (ctrl->subsys->discovery)
			discovery_execute(req);
		else
			admin_execute(req);
		return;
	}
	if (!req->ns) /* looked up when the capsule arrived, unless the queue had no controller yet */
		req->ns = subsys_find_ns(ctrl->subsys, req->sqe.nsid);
	if (!req->ns) {
		/* Flush with the broadcast NSID is handled by the NVM set */
		if (req->sqe.opcode == nvme_cmd_flush && req->sqe.nsid == NVME_NSID_ALL) {
			nvm_execute(req);
			return;
		}
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NS) | NVME_STATUS_DNR);
		return;
	}
	if (req->ns->pt)
		passthru_execute(req);
	else if (req->ns->kv)
		kv_execute(req);
	else
		nvm_execute(req);
}

int conn_io_dir(struct req *req)
{
	const struct nvme_sqe *sqe = &req->sqe;
	struct conn *c = req->conn;
	const struct nvr_ns *ns;
	int dir;

	/* the one namespace lookup of the command: precheck and execution use req->ns */
	if (c->ctrl && !req->ns)
		req->ns = subsys_find_ns(c->ctrl->subsys, sqe->nsid);
	ns = req->ns;
	if (ns && ns->pt)
		return passthru_opcode_dir(ns, sqe->opcode);
	if (ns && (ns->kvssd_compat || ns->csi == NVR_CSI_KV)) {
		dir = kvssd_opcode_dir(sqe->opcode);
		if (dir >= 0)
			return dir;
	}
	/* bidirectional (3) is refused by the caller */
	return sqe->opcode & 3;
}

uint16_t conn_precheck(struct req *req)
{
	struct conn *c = req->conn;
	struct nvr_ns *ns;

	if (!c->ctrl || c->qid == 0 || req->sqe.opcode == NVME_FABRICS_OPCODE)
		return 0;
	ns = req->ns;
	if (!ns)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NS) | NVME_STATUS_DNR;
	if (ns->pt)
		return 0;
	if (ns->kv)
		return ns->kvssd_compat && req->sqe.opcode < 0x80 ? 0 : kv_precheck(req);
	return nvm_precheck(req);
}
