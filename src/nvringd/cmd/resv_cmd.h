/* SPDX-License-Identifier: MIT */
/*
 * Persistent reservations as commands: Reservation Register/Report/Acquire/Release (I/O opcodes
 * 0x0D/0x0E/0x11/0x15) on namespaces with a reservation state (ns->resv: block and KV kinds;
 * passthrough drives keep their own), the Reservation Notification log page (0x80) and the
 * Reservation Notification Mask / Persistence features (0x82/0x83). Notifications go to the
 * other hosts' controllers, each on its admin queue's worker.
 */
#ifndef NVRING_NVRINGD_CMD_RESV_CMD_H
#define NVRING_NVRINGD_CMD_RESV_CMD_H

#include <stdbool.h>
#include <stdint.h>

struct identify_log_args;
struct nvr_subsys;
struct req;

/* Is this I/O opcode a reservation command? */
bool resv_cmd_opcode(uint8_t opcode);
/* req_init's hook for a reservation command on a namespace with ns->resv: execute, checks. */
uint16_t resv_cmd_parse(struct req *req);
/* Whether any namespace of s keeps reservations here (features 0x82/0x83 exist). */
bool resv_cmd_subsys_has(const struct nvr_subsys *s);
/* Admin worker: Get Log Page 0x80 (one notification, oldest first); completes req. */
void resv_cmd_log_page(struct req *req, const struct identify_log_args *a);
/* Admin worker: Set / Get Features 0x82 and 0x83 (SV already refused); complete req (maybe later). */
void resv_cmd_set_feature(struct req *req);
void resv_cmd_get_feature(struct req *req);

#endif
