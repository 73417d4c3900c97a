/* SPDX-License-Identifier: MIT */
/*
 * Reservation notifications: from a command's per-host events to per-controller calls
 * (resv_fanout), and the per-controller Reservation Notification log page 0x80 (resv_log_*).
 */
#include "resv.h"

#include <assert.h>
#include <endian.h>
#include <string.h>

#include <nvme/types.h>

static_assert(sizeof(struct nvme_resv_notification_log) == 64, "reservation notification log page");
static_assert(offsetof(struct nvme_resv_notification_log, rnlpt) == 8, "rnlpt");
static_assert(offsetof(struct nvme_resv_notification_log, nalp) == 9, "nalp");
static_assert(offsetof(struct nvme_resv_notification_log, nsid) == 12, "nsid");

void resv_fanout(const struct resv_outcome *out, const struct resv_ctrl *ctrls, size_t nctrls,
		 resv_fanout_fn fn, void *arg)
{
	for (unsigned e = 0; e < out->nevents; e++)
		for (size_t c = 0; c < nctrls; c++)
			if (memcmp(ctrls[c].hostid, out->events[e].hostid, RESV_HOSTID_LEN) == 0)
				fn(arg, ctrls[c].cntlid, out->events[e].rnlpt, out->events[e].abort);
}

void resv_log_init(struct resv_log *log)
{
	memset(log, 0, sizeof(*log));
}

bool resv_log_post(struct resv_log *log, uint8_t rnlpt, uint32_t nsid)
{
	unsigned slot;

	/* LPC 0 means "empty page": the count wraps to 1. */
	if (++log->counter == 0)
		log->counter = 1;
	if (log->count == RESV_LOG_CAP) {
		/* Lost: the newest stored page carries the count on, so the host sees the gap. */
		log->entries[(log->head + log->count - 1) % RESV_LOG_CAP].lpc = log->counter;
		return false;
	}
	slot = (log->head + log->count) % RESV_LOG_CAP;
	log->entries[slot].lpc = log->counter;
	log->entries[slot].nsid = nsid;
	log->entries[slot].rnlpt = rnlpt;
	log->count++;
	return true;
}

void resv_log_read(struct resv_log *log, void *page64)
{
	struct nvme_resv_notification_log page;

	memset(&page, 0, sizeof(page));
	if (log->count) {
		unsigned h = log->head;

		log->head = (h + 1) % RESV_LOG_CAP;
		log->count--;
		page.lpc = htole64(log->entries[h].lpc);
		page.rnlpt = log->entries[h].rnlpt;
		page.nalp = (uint8_t)(log->count > 255 ? 255 : log->count);
		page.nsid = htole32(log->entries[h].nsid);
	}
	memcpy(page64, &page, sizeof(page));
}

unsigned resv_log_pending(const struct resv_log *log)
{
	return log->count;
}
