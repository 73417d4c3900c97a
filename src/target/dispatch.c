/* SPDX-License-Identifier: MIT */
/* Route a command whose data has arrived to its command set. */
#include <nvme/types.h>

#include "conn.h"
#include "ctrl.h"
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
	if (req->ns->csi == NVR_CSI_KV)
		kv_execute(req);
	else
		nvm_execute(req);
}

uint16_t conn_precheck(struct req *req)
{
	struct conn *c = req->conn;
	struct nvr_ns *ns;

	if (!c->ctrl || c->qid == 0 || req->sqe.opcode == NVME_FABRICS_OPCODE)
		return 0;
	ns = subsys_find_ns(c->ctrl->subsys, req->sqe.nsid);
	if (!ns)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NS) | NVME_STATUS_DNR;
	if (ns->csi != NVR_CSI_NVM)
		return 0;
	req->ns = ns;
	return nvm_precheck(req);
}
