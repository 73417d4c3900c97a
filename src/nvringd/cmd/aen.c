/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous events: parked Async Event Requests, events waiting for one, and the masking
 * rule (an event type reported once stays quiet until the host reads its log page).
 * Everything here runs on the admin queue's worker.
 */
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "ana.h"
#include "core/req.h"
#include "ctrl.h"
#include "identify.h"
#include "log.h"

/* Events we can hold while no AER is outstanding: CQE DW0, the AEC bit that enables it (0:
 * always on), and the log page whose read clears it. Bit i of pending_aen/masked_aen is event i. */
struct aen_event {
	uint32_t result;
	uint32_t aec;
	uint8_t lid;
};

#define AEN_RESULT(type, info, lid) ((uint32_t)(type) | ((uint32_t)(info) << 8) | ((uint32_t)(lid) << 16))

static const struct aen_event aen_events[] = {
	{ AEN_RESULT(2, 0x00, NVME_LOG_LID_CHANGED_NS), NVR_OAES_NS_ATTR, NVME_LOG_LID_CHANGED_NS },
	{ AEN_RESULT(2, 0x01, NVME_LOG_LID_FW_SLOT), NVR_OAES_FW_ACT, NVME_LOG_LID_FW_SLOT },
	{ AEN_RESULT(2, 0xf0, NVME_LOG_LID_DISCOVER), NVR_OAES_DISC_CHANGE, NVME_LOG_LID_DISCOVER },
	/* SMART / health: reliability, temperature, spare → critical warning bits 2, 1, 0 */
	{ AEN_RESULT(1, 0x00, NVME_LOG_LID_SMART), 1u << 2, NVME_LOG_LID_SMART },
	{ AEN_RESULT(1, 0x01, NVME_LOG_LID_SMART), 1u << 1, NVME_LOG_LID_SMART },
	{ AEN_RESULT(1, 0x02, NVME_LOG_LID_SMART), 1u << 0, NVME_LOG_LID_SMART },
	{ ANA_AEN_RESULT, NVME_CTRL_OAES_ANA, NVME_LOG_LID_ANA },
	/* a new Reservation Notification log page: not gated by AEC (the mask is feature 0x82) */
	{ RESV_AEN_RESULT, 0, NVME_LOG_LID_RESERVATION },
};
#define AEN_NR (sizeof(aen_events) / sizeof(aen_events[0]))
static_assert(NVR_AEN_BIT_NS_ATTR == 1u << 0, "the changed-NS log reads event 0");

static int aen_find(uint32_t result)
{
	for (unsigned i = 0; i < AEN_NR; i++)
		if (aen_events[i].result == result)
			return (int)i;
	return -1;
}

/* Hand the oldest parked AER the event; false if none is parked. */
static bool aen_deliver(struct nvr_ctrl *ctrl, uint32_t result)
{
	struct req *req;

	if (!ctrl->nr_aers)
		return false;
	req = ctrl->aers[0];
	for (unsigned i = 1; i < ctrl->nr_aers; i++)
		ctrl->aers[i - 1] = ctrl->aers[i];
	ctrl->aers[--ctrl->nr_aers] = NULL;
	req_complete(req, 0, result, 0);
	return true;
}

void ctrl_notify_event(struct nvr_ctrl *ctrl, uint32_t aen_result)
{
	int i = aen_find(aen_result);

	if (i < 0) {
		/* an event we keep no state for (e.g. error type): only a parked AER can carry it */
		if (!aen_deliver(ctrl, aen_result))
			log_debug("controller %u: event 0x%08x dropped, no AER outstanding", ctrl->cntlid,
				  aen_result);
		return;
	}
	if ((aen_events[i].aec && !(ctrl->feat_aec & aen_events[i].aec)) || (ctrl->masked_aen & (1u << i)))
		return;
	if (aen_deliver(ctrl, aen_result))
		ctrl->masked_aen |= 1u << i;
	else
		ctrl->pending_aen |= 1u << i;
}

void ctrl_aer_submit(struct req *req)
{
	struct nvr_ctrl *ctrl = req->ctrl;

	for (unsigned i = 0; i < AEN_NR; i++) {
		uint32_t bit = 1u << i;

		if ((ctrl->pending_aen & bit) && !(ctrl->masked_aen & bit)) {
			ctrl->pending_aen &= ~bit;
			ctrl->masked_aen |= bit;
			req_complete(req, 0, aen_events[i].result, 0);
			return;
		}
	}
	if (ctrl->nr_aers >= NVR_AERL + 1) {
		req_complete_status(req, NVME_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_ASYNC_LIMIT) |
					 NVME_STATUS_DNR);
		return;
	}
	req->state = REQ_HELD;
	ctrl->aers[ctrl->nr_aers++] = req;
}

void ctrl_ns_changed(struct nvr_ctrl *ctrl, uint32_t nsid)
{
	unsigned i = 0;

	if (!ctrl->changed_overflow) {
		while (i < ctrl->nr_changed && ctrl->changed[i] < nsid)
			i++;
		if (i == ctrl->nr_changed || ctrl->changed[i] != nsid) {
			if (!ctrl->changed)
				ctrl->changed = calloc(NVR_CHANGED_NS_MAX, sizeof(*ctrl->changed));
			if (!ctrl->changed || ctrl->nr_changed == NVR_CHANGED_NS_MAX) {
				ctrl->changed_overflow = true;
			} else {
				memmove(&ctrl->changed[i + 1], &ctrl->changed[i],
					(ctrl->nr_changed - i) * sizeof(*ctrl->changed));
				ctrl->changed[i] = nsid;
				ctrl->nr_changed++;
			}
		}
	}
	ctrl_notify_event(ctrl, aen_events[0].result);
}

void ctrl_aen_log_read(struct nvr_ctrl *ctrl, uint8_t lid)
{
	if (lid == NVME_LOG_LID_CHANGED_NS) {
		ctrl->nr_changed = 0;
		ctrl->changed_overflow = false;
	}
	for (unsigned i = 0; i < AEN_NR; i++) {
		if (aen_events[i].lid != lid)
			continue;
		/* the host has seen the log: the event is consumed whether or not it was reported */
		ctrl->masked_aen &= ~(1u << i);
		ctrl->pending_aen &= ~(1u << i);
	}
}

void ctrl_abort_aers(struct nvr_ctrl *ctrl)
{
	unsigned n = ctrl->nr_aers;

	/* detach first: req_complete may free the request and we must not touch the array after */
	ctrl->nr_aers = 0;
	for (unsigned i = 0; i < n; i++) {
		struct req *req = ctrl->aers[i];

		ctrl->aers[i] = NULL;
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORT_QUEUE));
	}
}
