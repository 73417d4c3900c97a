/* SPDX-License-Identifier: MIT */
/*
 * Passthrough namespaces: a real NVMe namespace (/dev/ngXnY) served to hosts by sending their
 * I/O commands to the drive as IORING_OP_URING_CMD on the worker's own ring.
 */
#ifndef NVRING_TARGET_PASSTHRU_H
#define NVRING_TARGET_PASSTHRU_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "req.h"
#include "subsys.h"

/* Open the drive, read its identify data and fill ns geometry; blocking (start-up). */
int passthru_ns_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen);
void passthru_ns_close(struct nvr_ns *ns);
/* Data direction of an I/O opcode on this namespace (enum req_dir; -1 or 3 = refused). */
int passthru_opcode_dir(const struct nvr_ns *ns, uint8_t opcode);
/* Execute an I/O queue command on a passthrough namespace. */
void passthru_execute(struct req *req);

#endif
