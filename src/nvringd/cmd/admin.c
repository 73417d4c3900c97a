/* SPDX-License-Identifier: MIT */
/*
 * The admin command set of an NVM subsystem's controller: Identify, Get Log Page, Get/Set
 * Features, Async Event Request, Abort, Keep Alive. Runs on the admin queue's worker and
 * completes every command before returning, except a parked Async Event Request.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include <nvme/types.h>

#include "ana_subsys.h"
#include "core/queue.h"
#include "ctrl.h"
#include "health.h"
#include "identify.h"
#include "core/req.h"
#include "resv_cmd.h"
#include "spec/nvme_kv.h"
#include "target.h"
#include "worker.h"

#define ADMIN_FID_KV_CONFIG 0x20     /* Key Value Configuration (KV command set) */
#define ADMIN_SEL_CURRENT 0
#define ADMIN_SEL_DEFAULT 1
#define ADMIN_SEL_SAVED 2
#define ADMIN_SEL_CAPS 3
#define ADMIN_FEAT_CAP_CHANGEABLE (1u << 2)
#define ADMIN_TIMESTAMP_LEN 8
#define ADMIN_HOST_BEHAVIOR_LEN 512
#define ADMIN_LOG_MAX 4096           /* largest log page we build */

static const uint16_t st_invalid_field = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR;
static const uint16_t st_internal = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
/* an unsupported log identifier (spec: "Invalid Log Page"; nvmet answers Invalid Field) */
static const uint16_t st_invalid_log = NVME_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_LOG_PAGE) | NVME_STATUS_DNR;

int admin_opcode_dir(uint8_t opcode)
{
	switch (opcode) {
	case nvme_admin_identify:
	case nvme_admin_get_log_page:
	case nvme_admin_get_features:
		return REQ_DIR_C2H;
	case nvme_admin_set_features:
		return REQ_DIR_H2C;
	case nvme_admin_abort_cmd:
	case nvme_admin_async_event:
	case nvme_admin_keep_alive:
		return REQ_DIR_NONE;
	default:
		/* unsupported: let the transport move any data by the opcode's bits 1:0, then we fail it */
		switch (opcode & 3) {
		case 1:
			return REQ_DIR_H2C;
		case 2:
			return REQ_DIR_C2H;
		default:
			return REQ_DIR_NONE;
		}
	}
}

/* Give the host `len` bytes already in req->buf (capped by its transfer length). */
static void admin_complete_data(struct req *req, uint32_t len, uint32_t dw0)
{
	req->xfer_len = len < req->data_len ? len : req->data_len;
	req_complete(req, 0, dw0, 0);
}

static void admin_identify(struct req *req, struct nvr_ctrl *ctrl)
{
	uint16_t st;

	if (req_alloc_buf(req, NVR_ID_SIZE) < 0) {
		req_complete_status(req, st_internal);
		return;
	}
	st = identify_execute(ctrl, &req->sqe, req->buf);
	if (st) {
		req_complete_status(req, st);
		return;
	}
	admin_complete_data(req, NVR_ID_SIZE, 0);
}

/* ---- log pages ---- */

static uint32_t admin_log_fw_slot(void *log)
{
	struct nvme_firmware_slot *fw = log;

	memset(fw, 0, sizeof(*fw));
	fw->afi = 1; /* slot 1 active, nothing pending */
	identify_ascii(fw->frs[0], sizeof(fw->frs[0]), NVR_FIRMWARE_REV);
	return sizeof(*fw);
}

static uint32_t admin_log_changed_ns(const struct nvr_ctrl *ctrl, void *log)
{
	struct nvme_ns_list *l = log;

	memset(l, 0, sizeof(*l));
	/* the namespaces added, removed or resized since the host last read the log, ascending;
	 * more than 1024 of them: FFFFFFFFh, "rescan them all" */
	if (ctrl->changed_overflow) {
		l->ns[0] = htole32(0xffffffff);
		return sizeof(*l);
	}
	for (unsigned i = 0; i < ctrl->nr_changed; i++)
		l->ns[i] = htole32(ctrl->changed[i]);
	return sizeof(*l);
}

static void admin_effects_set(struct nvme_cmd_effects_log *e, bool io, uint8_t opc, uint32_t v)
{
	if (io)
		e->iocs[opc] = htole32(v);
	else
		e->acs[opc] = htole32(v);
}

/* Commands Supported and Effects; the I/O part depends on the command set (CSI). */
static uint32_t admin_log_effects(uint8_t csi, bool resv, void *log)
{
	static const uint8_t admin_ops[] = {
		nvme_admin_get_log_page, nvme_admin_identify,	  nvme_admin_abort_cmd, nvme_admin_set_features,
		nvme_admin_get_features, nvme_admin_async_event, nvme_admin_keep_alive,
	};
	const uint32_t csupp = NVME_CMD_EFFECTS_CSUPP, lbcc = NVME_CMD_EFFECTS_LBCC;
	struct nvme_cmd_effects_log *e = log;

	memset(e, 0, sizeof(*e));
	for (unsigned i = 0; i < sizeof(admin_ops); i++)
		admin_effects_set(e, false, admin_ops[i], csupp);
	if (csi == NVME_CSI_NVM_ID) {
		admin_effects_set(e, true, nvme_cmd_flush, csupp);
		admin_effects_set(e, true, nvme_cmd_write, csupp | lbcc);
		admin_effects_set(e, true, nvme_cmd_read, csupp);
		admin_effects_set(e, true, nvme_cmd_compare, csupp);
		admin_effects_set(e, true, nvme_cmd_write_zeroes, csupp | lbcc);
		admin_effects_set(e, true, nvme_cmd_dsm, csupp | lbcc);
		admin_effects_set(e, true, nvme_cmd_verify, csupp);
	} else if (csi == NVME_CSI_KV_ID) {
		/* CSUPP is what lets an unprivileged user pass these through /dev/ngXnY */
		admin_effects_set(e, true, NVME_KV_OPC_STORE, csupp | lbcc);
		admin_effects_set(e, true, NVME_KV_OPC_RETRIEVE, csupp);
		admin_effects_set(e, true, NVME_KV_OPC_LIST, csupp);
		admin_effects_set(e, true, NVME_KV_OPC_DELETE, csupp | lbcc);
		admin_effects_set(e, true, NVME_KV_OPC_EXIST, csupp);
	}
	if (resv && (csi == NVME_CSI_NVM_ID || csi == NVME_CSI_KV_ID)) {
		admin_effects_set(e, true, nvme_cmd_resv_register, csupp);
		admin_effects_set(e, true, nvme_cmd_resv_report, csupp);
		admin_effects_set(e, true, nvme_cmd_resv_acquire, csupp);
		admin_effects_set(e, true, nvme_cmd_resv_release, csupp);
	}
	return sizeof(*e);
}

static void admin_get_log_page(struct req *req, struct nvr_ctrl *ctrl)
{
	uint8_t log[ADMIN_LOG_MAX];
	struct identify_log_args a;
	uint32_t size;
	uint16_t st;

	st = identify_log_args(&req->sqe, req->data_len, &a);
	if (st) {
		req_complete_status(req, st);
		return;
	}
	switch (a.lid) {
	case NVME_LOG_LID_ERROR:
		size = health_log_error(ctrl, log);
		break;
	case NVME_LOG_LID_SMART:
		st = health_log_smart(ctrl, le32toh(req->sqe.nsid), req_now_ms(req) - ctrl->tgt->started_ms, log, &size);
		if (st) {
			req_complete_status(req, st);
			return;
		}
		break;
	case NVME_LOG_LID_FW_SLOT:
		size = admin_log_fw_slot(log);
		break;
	case NVME_LOG_LID_CHANGED_NS:
		size = admin_log_changed_ns(ctrl, log);
		break;
	case NVME_LOG_LID_CMD_EFFECTS:
		/*
		 * A command set none of our namespaces uses gets the admin part and no I/O
		 * commands (true: none is supported). nvme-cli asks for ZNS whenever CAP.CSS
		 * has the I/O command set bit, and prints nothing if that fails.
		 */
		size = admin_log_effects(a.csi < 64 && (identify_csi_mask(ctrl->subsys) & (1ull << a.csi)) ? a.csi : 0xff,
					 resv_cmd_subsys_has(ctrl->subsys), log);
		break;
	case NVME_LOG_LID_ANA:
		/* up to 8 KiB: built in a buffer of its own */
		if (!ctrl->subsys->ana)
			goto invalid_log;
		ana_subsys_log_page(ctrl->subsys->ana, req, &a);
		return;
	case NVME_LOG_LID_RESERVATION:
		if (!resv_cmd_subsys_has(ctrl->subsys))
			goto invalid_log;
		resv_cmd_log_page(req, &a);
		return;
	default:
	invalid_log:
		req_complete_status(req, st_invalid_log);
		return;
	}
	if (a.offset > size) {
		req_complete_status(req, st_invalid_field);
		return;
	}
	if (req_alloc_buf(req, a.len ? a.len : 1) < 0) {
		req_complete_status(req, st_internal);
		return;
	}
	identify_log_copy(&a, log, size, req->buf);
	if (!a.rae)
		ctrl_aen_log_read(ctrl, a.lid);
	admin_complete_data(req, a.len, 0);
}

/* ---- features ---- */

static uint32_t admin_queues_dw0(unsigned n)
{
	return ((uint32_t)(n - 1) << 16) | (uint32_t)(n - 1);
}

static uint32_t admin_aec_supported(const struct nvr_ctrl *ctrl)
{
	if (ctrl->subsys->discovery)
		return NVR_OAES_DISC_CHANGE;
	return NVR_OAES_NS_ATTR | NVR_AEC_SMART_MASK | (ctrl->subsys->ana ? NVME_CTRL_OAES_ANA : 0);
}

/* Whether `fid` exists on this controller (for Set; Get also reads VWC without a cache). */
static bool admin_feature_supported(const struct nvr_ctrl *ctrl, uint8_t fid)
{
	if (ctrl->subsys->discovery)
		return fid == NVME_FEAT_FID_ASYNC_EVENT || fid == NVME_FEAT_FID_KATO;
	switch (fid) {
	case NVME_FEAT_FID_POWER_MGMT:
	case NVME_FEAT_FID_NUM_QUEUES:
	case NVME_FEAT_FID_ASYNC_EVENT:
	case NVME_FEAT_FID_TIMESTAMP:
	case NVME_FEAT_FID_KATO:
	case NVME_FEAT_FID_HOST_BEHAVIOR:
		return true;
	case NVME_FEAT_FID_VOLATILE_WC:
		return identify_has_vwc(ctrl->subsys);
	case ADMIN_FID_KV_CONFIG:
		return identify_has_kv(ctrl->subsys);
	case NVME_FEAT_FID_RESV_MASK:
	case NVME_FEAT_FID_RESV_PERSIST:
		return resv_cmd_subsys_has(ctrl->subsys);
	default:
		return false;
	}
}

static uint32_t admin_kato_round(uint32_t ms)
{
	const uint32_t g = NVR_KAS * 100; /* KAS granularity in ms */

	if (!ms)
		return 0;
	if (ms > UINT32_MAX - g)
		return UINT32_MAX / g * g;
	return (ms + g - 1) / g * g;
}

static void admin_set_features(struct req *req, struct nvr_ctrl *ctrl)
{
	uint32_t cdw10 = le32toh(req->sqe.cdw10), cdw11 = le32toh(req->sqe.cdw11);
	uint8_t fid = cdw10 & 0xff;
	uint32_t dw0 = 0;

	if (!admin_feature_supported(ctrl, fid)) {
		req_complete_status(req, st_invalid_field);
		return;
	}
	if (cdw10 & (1u << 31)) { /* SV: nothing is saveable */
		req_complete_status(req, NVME_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_FEATURE_NOT_SAVEABLE) |
					 NVME_STATUS_DNR);
		return;
	}
	switch (fid) {
	case NVME_FEAT_FID_RESV_MASK:
	case NVME_FEAT_FID_RESV_PERSIST:
		resv_cmd_set_feature(req); /* per namespace */
		return;
	case NVME_FEAT_FID_POWER_MGMT:
		if ((cdw11 & 0x1f) != 0) { /* only power state 0 exists (NPSS 0) */
			req_complete_status(req, st_invalid_field);
			return;
		}
		break;
	case NVME_FEAT_FID_VOLATILE_WC:
		ctrl->feat_vwc = cdw11 & 1;
		break;
	case NVME_FEAT_FID_NUM_QUEUES: {
		uint32_t nsqr = cdw11 & 0xffff, ncqr = cdw11 >> 16, n;

		if (nsqr == 0xffff || ncqr == 0xffff) {
			req_complete_status(req, st_invalid_field);
			return;
		}
		/* NVMe/TCP queues are SQ/CQ pairs: grant the smaller request, capped */
		n = (nsqr < ncqr ? nsqr : ncqr) + 1;
		if (n > NVR_MAX_IO_QUEUES)
			n = NVR_MAX_IO_QUEUES;
		ctrl->nr_io_queues = (uint16_t)n;
		dw0 = admin_queues_dw0(n);
		break;
	}
	case NVME_FEAT_FID_ASYNC_EVENT:
		ctrl->feat_aec = cdw11 & admin_aec_supported(ctrl);
		break;
	case NVME_FEAT_FID_TIMESTAMP:
		if (req->data_len < ADMIN_TIMESTAMP_LEN) {
			req_complete_status(req, st_invalid_field);
			return;
		}
		break; /* accepted; Get reports the target's own clock */
	case NVME_FEAT_FID_KATO:
		ctrl->kato_ms = admin_kato_round(cdw11);
		ctrl->last_ka_ms = req_now_ms(req);
		break;
	case NVME_FEAT_FID_HOST_BEHAVIOR:
		if (req->data_len < ADMIN_HOST_BEHAVIOR_LEN) {
			req_complete_status(req, st_invalid_field);
			return;
		}
		break; /* accepted: no behavior we offer depends on it */
	case ADMIN_FID_KV_CONFIG:
		ctrl->feat_kv = cdw11 & 1; /* EDNEK */
		break;
	}
	req_complete(req, 0, dw0, 0);
}

static uint64_t admin_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Get Features with SEL: current, default, saved (= default: nothing is saveable), capabilities. */
static void admin_get_features(struct req *req, struct nvr_ctrl *ctrl)
{
	uint32_t cdw10 = le32toh(req->sqe.cdw10);
	uint8_t fid = cdw10 & 0xff, sel = (cdw10 >> 8) & 7;
	bool cur = sel == ADMIN_SEL_CURRENT;
	uint32_t dw0 = 0, len = 0;

	/* VWC Get is answered even without a cache (WCE 0), as nvmet does */
	if ((!admin_feature_supported(ctrl, fid) && !(fid == NVME_FEAT_FID_VOLATILE_WC && !ctrl->subsys->discovery)) ||
	    sel > ADMIN_SEL_CAPS) {
		req_complete_status(req, st_invalid_field);
		return;
	}
	if (fid == NVME_FEAT_FID_RESV_MASK || fid == NVME_FEAT_FID_RESV_PERSIST) {
		resv_cmd_get_feature(req); /* per namespace */
		return;
	}
	if (sel == ADMIN_SEL_CAPS) {
		req_complete(req, 0, ADMIN_FEAT_CAP_CHANGEABLE, 0);
		return;
	}
	switch (fid) {
	case NVME_FEAT_FID_POWER_MGMT:
		break;
	case NVME_FEAT_FID_VOLATILE_WC:
		if (identify_has_vwc(ctrl->subsys))
			dw0 = cur ? ctrl->feat_vwc : 1;
		break;
	case NVME_FEAT_FID_NUM_QUEUES:
		dw0 = admin_queues_dw0(cur && ctrl->nr_io_queues ? ctrl->nr_io_queues : NVR_MAX_IO_QUEUES);
		break;
	case NVME_FEAT_FID_ASYNC_EVENT:
		dw0 = cur ? ctrl->feat_aec : 0;
		break;
	case NVME_FEAT_FID_KATO:
		dw0 = cur ? ctrl->kato_ms : 0;
		break;
	case ADMIN_FID_KV_CONFIG:
		dw0 = cur ? ctrl->feat_kv : 0;
		break;
	case NVME_FEAT_FID_TIMESTAMP:
		len = ADMIN_TIMESTAMP_LEN;
		break;
	case NVME_FEAT_FID_HOST_BEHAVIOR:
		len = ADMIN_HOST_BEHAVIOR_LEN;
		break;
	}
	if (len) {
		if (req_alloc_buf(req, len) < 0) {
			req_complete_status(req, st_internal);
			return;
		}
		memset(req->buf, 0, len);
		if (fid == NVME_FEAT_FID_TIMESTAMP) {
			uint64_t ts = htole64(admin_realtime_ms() & 0xffffffffffffull);

			/* 48-bit milliseconds; attributes byte 0: origin 000b, not synchronized */
			memcpy(req->buf, &ts, 6);
		}
		admin_complete_data(req, len, dw0);
		return;
	}
	req_complete(req, 0, dw0, 0);
}

void admin_execute(struct req *req)
{
	struct nvr_ctrl *ctrl = req->ctrl;

	/* only Fabrics commands are allowed before the host enables the controller */
	if (!(ctrl->csts & NVME_CSTS_RDY_MASK)) {
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR) | NVME_STATUS_DNR);
		return;
	}
	switch (req->sqe.opcode) {
	case nvme_admin_identify:
		admin_identify(req, ctrl);
		break;
	case nvme_admin_get_log_page:
		admin_get_log_page(req, ctrl);
		break;
	case nvme_admin_set_features:
		admin_set_features(req, ctrl);
		break;
	case nvme_admin_get_features:
		admin_get_features(req, ctrl);
		break;
	case nvme_admin_async_event:
		ctrl_aer_submit(req);
		break;
	case nvme_admin_abort_cmd:
		/* best effort is allowed to do nothing: DW0 bit 0 = 1 says "not aborted" */
		req_complete(req, 0, 1, 0);
		break;
	case nvme_admin_keep_alive:
		ctrl->last_ka_ms = req_now_ms(req);
		req_complete(req, 0, 0, 0);
		break;
	default:
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE) | NVME_STATUS_DNR);
		break;
	}
}
