/* SPDX-License-Identifier: MIT */
/*
 * What the controller tells about its health: the Error Information log (0x01), filled with
 * the last failed commands of any of its queues, and the SMART / Health Information log
 * (0x02) from the real I/O counters (stats.h), per namespace or for the controller.
 */
#ifndef NVRING_NVRINGD_CMD_HEALTH_H
#define NVRING_NVRINGD_CMD_HEALTH_H

#include <stdint.h>

struct nvr_ctrl;
struct req;

/* Error log entries the controller keeps (Identify ELPE + 1). */
#define HEALTH_ERR_ENTRIES 64

/* Any of the controller's workers: req failed with status; remember it. */
void health_record_error(struct nvr_ctrl *ctrl, const struct req *req, uint16_t status);
/* Admin worker: the error log (newest first, then empty entries) into buf; its size. */
uint32_t health_log_error(struct nvr_ctrl *ctrl, void *buf);
/*
 * Admin worker: the SMART log for NSID nsid (a namespace: its counters from every controller;
 * 0 or FFFFFFFFh: this controller's) into buf; its size in *len. 0 or the NVMe status.
 */
uint16_t health_log_smart(struct nvr_ctrl *ctrl, uint32_t nsid, uint64_t uptime_ms, void *buf, uint32_t *len);

#endif
