/* SPDX-License-Identifier: MIT */
/*
 * What a controller reports about itself and its namespaces: the Identify data structures
 * (I/O and discovery controllers) and the Get Log Page argument/window helpers shared by the
 * admin and discovery command sets. Pure functions over the controller and subsystem structs,
 * so they are unit-tested without sockets or rings.
 */
#ifndef NVRING_NVRINGD_IDENTIFY_H
#define NVRING_NVRINGD_IDENTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "ctrl.h"
#include "spec/nvme_cmd.h"

struct nvme_id_ns;

#define NVR_FIRMWARE_REV "0.1.0"
#define NVR_VERSION_2_0 0x00020000u
#define NVR_KV_SPEC_VER 0x00010000u  /* KV Command Set 1.0 */
#define NVR_MDTS 8                   /* 2^8 x 4 KiB (CAP.MPSMIN) = NVR_MDTS_BYTES */
#define NVR_ID_SIZE 4096
#define NVR_ELPE 63                  /* error log: 64 entries of 64 bytes (0's based) */
#define NVR_KV_KEY_MAX 16

/* Optional Asynchronous Events Supported (Identify OAES) and the AEC feature bits they gate. */
#define NVR_OAES_NS_ATTR (1u << 8)
#define NVR_OAES_FW_ACT (1u << 9)
#define NVR_OAES_DISC_CHANGE (1u << 31)
#define NVR_AEC_SMART_MASK 0xffu      /* SMART critical-warning bits are always configurable */
/* aen.c keeps event state as bits of ctrl->pending_aen/masked_aen; the NS-change one is read by the log */
#define NVR_AEN_BIT_NS_ATTR (1u << 0)

/* ONCS bits we implement (Identify Controller byte 520). */
#define NVR_ONCS_COMPARE (1u << 0)
#define NVR_ONCS_DSM (1u << 2)
#define NVR_ONCS_WRITE_ZEROES (1u << 3)
#define NVR_ONCS_SAVE_SELECT (1u << 4)
#define NVR_ONCS_TIMESTAMP (1u << 6)
#define NVR_ONCS_VERIFY (1u << 7)
/* What the NVM command set (nvm.c) executes itself on block namespaces */
#define NVR_ONCS_OURS (NVR_ONCS_COMPARE | NVR_ONCS_DSM | NVR_ONCS_WRITE_ZEROES | NVR_ONCS_VERIFY)

/* Whether any namespace of the subsystem has a volatile write cache (Identify VWC). */
bool identify_has_vwc(const struct nvr_subsys *s);
/* Whether any namespace of the subsystem uses the KV command set. */
bool identify_has_kv(const struct nvr_subsys *s);
/* Identify Controller MDTS: ours, or less when a passthrough drive takes less. */
uint8_t identify_mdts(const struct nvr_subsys *s);
/* Identify Controller ONCS: the I/O commands every namespace takes, and our features. */
uint16_t identify_oncs(const struct nvr_subsys *s);
/* Identify Namespace fields of a plain block namespace: size, one LBA format, DLFEAT. */
void identify_ns_basic(const struct nvr_ns *ns, struct nvme_id_ns *id, bool dealloc_zeroes);
/* Bit mask of the command sets (1 << CSI) of the subsystem's namespaces; NVM always. */
uint64_t identify_csi_mask(const struct nvr_subsys *s);

/*
 * Run an Identify command (CDW10 CNS/CNTID, CDW11 CSI, NSID) for `ctrl` into `buf`
 * (NVR_ID_SIZE bytes, zeroed here). Returns the NVMe status ((SCT << 8) | SC | DNR);
 * on success the whole NVR_ID_SIZE bytes are the data.
 */
uint16_t identify_execute(const struct nvr_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf);

/* The individual structures, for the dispatcher and the tests. */
void identify_ctrl(const struct nvr_ctrl *ctrl, void *buf);
void identify_disc_ctrl(const struct nvr_ctrl *ctrl, void *buf);
uint16_t identify_ns(const struct nvr_subsys *s, uint32_t nsid, void *buf);
uint16_t identify_active_list(const struct nvr_subsys *s, uint32_t nsid, int csi, void *buf);
uint16_t identify_ns_descs(const struct nvr_subsys *s, uint32_t nsid, void *buf);
uint16_t identify_csi_ns(const struct nvr_subsys *s, uint32_t nsid, uint8_t csi, void *buf);
uint16_t identify_csi_ctrl(const struct nvr_subsys *s, uint8_t csi, void *buf);
uint16_t identify_indep_ns(const struct nvr_subsys *s, uint32_t nsid, void *buf);
void identify_iocs(const struct nvr_subsys *s, void *buf);

/* Copy `src` into a fixed-width ASCII field, space padded (Identify SN/MN/FR). */
void identify_ascii(char *dst, size_t width, const char *src);

/* Get Log Page arguments decoded from CDW10-14. */
struct identify_log_args {
	uint8_t lid;
	uint8_t lsp;
	bool rae;          /* retain asynchronous event */
	uint8_t csi;       /* CDW14 bits 31:24 */
	uint32_t len;      /* bytes: min(NUMD x 4, the host's transfer length) */
	uint64_t offset;   /* LPO, bytes */
};

/* Decode Get Log Page; an unaligned offset or an offset type of index → Invalid Field. */
uint16_t identify_log_args(const struct nvme_sqe *sqe, uint32_t data_len, struct identify_log_args *a);

/*
 * Copy the window [a->offset, a->offset + a->len) of a log of `size` bytes at `log` into
 * `dst` (a->len bytes), zero-filling past its end. An offset past the end → Invalid Field.
 */
uint16_t identify_log_copy(const struct identify_log_args *a, const void *log, uint32_t size, void *dst);

#endif
