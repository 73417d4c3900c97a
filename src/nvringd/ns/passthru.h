/* SPDX-License-Identifier: MIT */
/*
 * Passthrough namespaces: a real NVMe namespace (/dev/ngXnY) served to hosts by sending their
 * I/O commands to the drive as IORING_OP_URING_CMD on the worker's own ring.
 */
#ifndef NVRING_NVRINGD_NS_PASSTHRU_H
#define NVRING_NVRINGD_NS_PASSTHRU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/req.h"
#include "ns/ns.h"

#define NVR_PT_ID_SIZE 4096

/*
 * The drive behind a passthrough namespace: read at open, constant afterwards. Public so
 * that its unit tests read the drive's facts.
 */
struct nvr_passthru {
	int fd;              /* the generic char device, open for the namespace's lifetime */
	uint32_t nsid;       /* the drive's NSID (the host's NSID is ours) */
	bool all_opcodes;    /* pass I/O opcodes outside the NVM table too */
	uint8_t mdts;        /* largest transfer as Identify MDTS in 4 KiB units (never 0) */
	uint32_t max_bytes;  /* 4096 << mdts */
	uint16_t oncs;       /* the drive's Identify Controller ONCS */
	uint8_t vwc;         /* the drive's Identify Controller VWC */
	uint8_t id_ns[NVR_PT_ID_SIZE]; /* the drive's Identify Namespace (CNS 0) */
	atomic_bool failing; /* the kernel has refused a command (logged once, not per I/O) */
	char path[64];
};

/* Make ns a passthrough namespace of the drive pt (opened: ns_passthru_open; tests: by hand). */
void passthru_attach(struct nvr_ns *ns, struct nvr_passthru *pt);
/* The drive's Identify Namespace as hosts see it (identify.c adds IDs, NMIC, WP). */
void passthru_identify_nvm(const struct nvr_ns *ns, struct nvme_id_ns *id);
/* Data direction of an I/O opcode on this namespace (enum req_dir; -1 or 3 = refused). */
int passthru_opcode_dir(const struct nvr_ns *ns, uint8_t opcode);
/*
 * What must refuse a command before it reaches the drive, as an NVMe status (0 = pass it):
 * opcodes not passed, writes to a read-only namespace, and data lengths that disagree with
 * what the command makes the drive transfer (the kernel maps exactly the host's length; a
 * drive told to move more would DMA past the buffer).
 */
uint16_t passthru_check(const struct req *req);
/* Execute an I/O queue command on a passthrough namespace. */
void passthru_execute(struct req *req);
/* The NVMe status the host sees for a uring_cmd CQE result (res >= 0: the drive's status). */
uint16_t passthru_status(int res, uint8_t opcode);

#endif
