/* SPDX-License-Identifier: MIT */
/* The Error Information and SMART / Health Information log pages. */
#include "health.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "core/queue.h"
#include "core/req.h"
#include "ctrl.h"
#include "identify.h"
#include "stats.h"

static_assert(HEALTH_ERR_ENTRIES == NVR_ELPE + 1, "the error log holds ELPE + 1 entries");
static_assert(sizeof(struct nvme_error_log_page) == 64, "error log entry");

#define HEALTH_TRTYPE_TCP 3
#define HEALTH_NO_PARAM 0xffff /* Parameter Error Location: not specific to a field */

/* Commands whose CDW10-11 is a starting LBA (NVM command set). */
static bool health_has_slba(const struct req *req)
{
	switch (req->sqe.opcode) {
	case nvme_cmd_write:
	case nvme_cmd_read:
	case nvme_cmd_write_uncor:
	case nvme_cmd_compare:
	case nvme_cmd_write_zeroes:
	case nvme_cmd_verify:
		return req->q->qid && (!req->ns || req->ns->csi == NVR_CSI_NVM);
	default:
		return false;
	}
}

void health_record_error(struct nvr_ctrl *ctrl, const struct req *req, uint16_t status)
{
	struct nvme_error_log_page *e;

	if (ctrl->subsys->discovery)
		return; /* a discovery controller has no error log */
	pthread_mutex_lock(&ctrl->err_lock);
	if (!ctrl->errs)
		ctrl->errs = calloc(HEALTH_ERR_ENTRIES, sizeof(*ctrl->errs));
	if (!ctrl->errs) {
		pthread_mutex_unlock(&ctrl->err_lock);
		return;
	}
	e = &ctrl->errs[ctrl->err_next];
	ctrl->err_next = (ctrl->err_next + 1) % HEALTH_ERR_ENTRIES;
	memset(e, 0, sizeof(*e));
	e->error_count = htole64(++ctrl->err_count);
	e->sqid = htole16(req->q->qid);
	e->cmdid = htole16(req->sqe.cid);
	e->status_field = htole16(nvme_status_to_wire(status));
	e->parm_error_location = htole16(HEALTH_NO_PARAM);
	if (health_has_slba(req))
		e->lba = htole64((uint64_t)le32toh(req->sqe.cdw10) | (uint64_t)le32toh(req->sqe.cdw11) << 32);
	e->nsid = htole32(req->sqe.nsid);
	e->trtype = HEALTH_TRTYPE_TCP;
	pthread_mutex_unlock(&ctrl->err_lock);
}

uint32_t health_log_error(struct nvr_ctrl *ctrl, void *buf)
{
	struct nvme_error_log_page *out = buf;
	unsigned n;

	memset(out, 0, HEALTH_ERR_ENTRIES * sizeof(*out));
	pthread_mutex_lock(&ctrl->err_lock);
	n = ctrl->err_count < HEALTH_ERR_ENTRIES ? (unsigned)ctrl->err_count : HEALTH_ERR_ENTRIES;
	/* newest first; unused entries stay zero (Error Count 0: empty) */
	for (unsigned i = 0; ctrl->errs && i < n; i++)
		out[i] = ctrl->errs[(ctrl->err_next + HEALTH_ERR_ENTRIES - 1 - i) % HEALTH_ERR_ENTRIES];
	pthread_mutex_unlock(&ctrl->err_lock);
	return HEALTH_ERR_ENTRIES * sizeof(*out);
}

static void health_u128(uint8_t dst[16], uint64_t v)
{
	uint64_t le = htole64(v);

	memset(dst, 0, 16);
	memcpy(dst, &le, sizeof(le));
}

/* Data units: thousands of 512-byte units, rounded up (NVMe base spec 2.0 5.16.1.3). */
static uint64_t health_data_units(uint64_t bytes)
{
	uint64_t units = bytes / 512 + (bytes % 512 != 0);

	return units / 1000 + (units % 1000 != 0);
}

uint16_t health_log_smart(struct nvr_ctrl *ctrl, uint32_t nsid, uint64_t uptime_ms, void *buf, uint32_t *len)
{
	struct nvme_smart_log *sl = buf;
	struct io_totals t;
	uint64_t err_count;

	if (nsid && nsid != NVME_NSID_ALL) {
		const struct nvr_ns *ns = subsys_find_ns(ctrl->subsys, nsid);

		if (!ns)
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NS) | NVME_STATUS_DNR;
		stats_ns(ns, &t);
	} else {
		stats_ctrl(ctrl, &t);
	}
	pthread_mutex_lock(&ctrl->err_lock);
	err_count = ctrl->err_count;
	pthread_mutex_unlock(&ctrl->err_lock);
	/* no sensor, no spare capacity, no wear: those fields stay 0, as nvmet reports them */
	memset(sl, 0, sizeof(*sl));
	health_u128(sl->data_units_read, health_data_units(t.bytes[STATS_READ]));
	health_u128(sl->data_units_written, health_data_units(t.bytes[STATS_WRITE]));
	health_u128(sl->host_reads, t.cmds[STATS_READ]);
	health_u128(sl->host_writes, t.cmds[STATS_WRITE]);
	/* minutes spent on I/O commands: the sum of their latencies */
	health_u128(sl->ctrl_busy_time, t.lat_sum_ns / 60000000000ull);
	health_u128(sl->power_cycles, 1);
	health_u128(sl->power_on_hours, uptime_ms / 3600000);
	health_u128(sl->media_errors, t.media_errors);
	health_u128(sl->num_err_log_entries, err_count);
	*len = sizeof(*sl);
	return 0;
}
