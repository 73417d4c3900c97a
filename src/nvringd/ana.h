/* SPDX-License-Identifier: MIT */
/*
 * Asymmetric Namespace Access (NVMe Base 2.0 section 8.1.1) for one NVM subsystem: ANA groups
 * 1..ngroups (ANAGRPMAX = NANAGRPID = ngroups), each namespace in at most one group, and a state
 * per (port, group) as seen by the controllers connected through that port.
 *
 * Pure data and pure functions: no I/O, no locks, no clock (times are passed in, CLOCK_MONOTONIC
 * nanoseconds). The struct holds no pointers besides the change hook, so a memcpy is a snapshot
 * the I/O path may read while the control plane changes the original.
 *
 * The "change" state is a transition: ana_transition() reports ANA Change now and the target
 * state from its deadline on (at most ANATT seconds away). ana_advance(now) commits the
 * transitions that are due; the caller runs it from a timer set to ana_next_deadline().
 * Every change to what a port's ANA log says calls the hook with that port, and the caller
 * raises ANA_AEN_RESULT on every controller connected through it.
 */
#ifndef NVRING_NVRINGD_ANA_H
#define NVRING_NVRINGD_ANA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ANA_MAX_GROUPS 128
#define ANA_MAX_PORTS 16
#define ANA_MAX_NSID 1024
#define ANA_MAX_ANATT 255 /* seconds; the Identify field is a byte */

/* Asynchronous event "ANA change": notice (type 2), info 0x03, log page 0x0C. */
#define ANA_AEN_RESULT 0x000c0302u
#define ANA_LOG_LID 0x0c
#define ANA_LOG_LSP_RGO 0x1 /* Get Log Page LSP bit 0: return groups only */

struct ana_group_state {
	uint8_t state;        /* enum nvme_ana_state, as reported */
	uint8_t target;       /* during ANA Change: the state from `deadline` on */
	uint64_t deadline_ns; /* during ANA Change */
	uint64_t chgcnt;      /* descriptor CHGCNT */
};

struct ana_port {
	uint16_t portid;
	uint64_t chgcnt;      /* log page CHGCNT as read through this port */
	struct ana_group_state grp[ANA_MAX_GROUPS]; /* index grpid - 1 */
};

typedef void (*ana_change_fn)(void *arg, uint16_t portid);

struct ana {
	uint32_t ngroups;
	uint8_t anatt;        /* seconds */
	unsigned nports;
	struct ana_port ports[ANA_MAX_PORTS];
	uint32_t ns_grp[ANA_MAX_NSID + 1]; /* ANAGRPID by NSID, 0 = not in a group / no namespace */
	ana_change_fn on_change;
	void *on_change_arg;
};

/* ngroups 1..ANA_MAX_GROUPS, anatt 1..255 s; on_change may be NULL. 0 or -EINVAL. */
int ana_init(struct ana *a, uint32_t ngroups, unsigned anatt_s, ana_change_fn on_change, void *arg);
/* A port of the subsystem, every group Optimized on it. 0, -EEXIST, -ENOSPC. */
int ana_add_port(struct ana *a, uint16_t portid);
/* Index of the port for the *_at variants, or -1. */
int ana_port_index(const struct ana *a, uint16_t portid);

/* Put a namespace in group grpid (0: take it out). Changes every port's log. 0 or -EINVAL. */
int ana_ns_set_group(struct ana *a, uint32_t nsid, uint32_t grpid);
/* ANAGRPID of a namespace (0: none). */
uint32_t ana_ns_group(const struct ana *a, uint32_t nsid);

/*
 * Set a group's state on a port now (cancels a transition in progress). State ANA Change
 * means a transition back to the state before it, ANATT from now. Setting the state a group
 * already has changes nothing (no count, no hook). 0, -ENOENT (port), -EINVAL (group, state).
 */
int ana_set_state(struct ana *a, uint16_t portid, uint32_t grpid, uint8_t state, uint64_t now_ns);
/* ANA Change now, `target` from now + duration on (duration 0: set target now; at most ANATT: -ERANGE). */
int ana_transition(struct ana *a, uint16_t portid, uint32_t grpid, uint8_t target, uint64_t duration_ns,
		   uint64_t now_ns);
/* Commit transitions due at now_ns; returns how many. */
unsigned ana_advance(struct ana *a, uint64_t now_ns);
/* Earliest pending deadline, UINT64_MAX if none. */
uint64_t ana_next_deadline(const struct ana *a);

/*
 * The control-plane entry (RPC ana_set_state): state by name ("optimized", "non-optimized",
 * "inaccessible", "persistent-loss", "change"), an optional transition through ANA Change of
 * transition_ms (0: immediate). Errors return -errno with a message naming the bad item.
 */
int ana_set_state_by_name(struct ana *a, uint16_t portid, uint32_t grpid, const char *state,
			  uint32_t transition_ms, uint64_t now_ns, char *err, size_t errlen);
/* Name of an ANA state ("optimized", ...), NULL if not one; the reverse, or -EINVAL. */
const char *ana_state_name(uint8_t state);
int ana_state_from_name(const char *name);

/* One (port, group) for an ana_get RPC. */
struct ana_state_info {
	uint16_t portid;
	uint32_t grpid;
	uint8_t state;
	uint8_t target;        /* == state unless in transition */
	uint64_t remaining_ns; /* until target applies; 0 unless in transition */
	uint64_t chgcnt;
	uint32_t nnsids;       /* namespaces in the group */
};
/* Fill up to max entries, ports in order, groups ascending; returns nports * ngroups. */
size_t ana_get_states(const struct ana *a, uint64_t now_ns, struct ana_state_info *out, size_t max);

/*
 * Get Log Page 0x0C as read through port `portid` (committed state: run ana_advance first).
 * Descriptors for groups holding at least one namespace, ascending ANAGRPID, NSIDs ascending;
 * RGO: descriptors with NNSIDS 0 and no NSID list. Returns the full length (may exceed cap:
 * then only the first cap bytes are written) or -ENOENT for an unknown port; the caller copies
 * the host's window (LPO, NUMD) out of it.
 */
ssize_t ana_log_build(const struct ana *a, uint16_t portid, bool rgo, void *buf, size_t cap);
/* What a host sizes its buffer to: header + NANAGRPID descriptors + MNAN NSIDs (Linux does). */
size_t ana_log_max_len(const struct ana *a, uint32_t mnan);

/*
 * Status of a command that names namespace nsid, arriving through port index pidx:
 * 0 (Optimized, Non-Optimized, no group), or Path Related (SCT 3) Asymmetric Access
 * Inaccessible 0x02 / Persistent Loss 0x01 / Transition 0x03, without DNR so multipath hosts
 * retry on another path. Admin commands that only read state (Identify, Get Log Page, Get
 * Features, Keep Alive...) are not subject to this; the I/O path is.
 */
uint16_t ana_status_of(uint8_t state);
uint16_t ana_io_status_at(const struct ana *a, int pidx, uint32_t nsid);
uint16_t ana_io_status(const struct ana *a, uint16_t portid, uint32_t nsid);

struct nvme_id_ctrl;
struct nvme_id_ns;
/*
 * Identify Controller: CMIC multi-port | multi-controller | ANA reporting, ANACAP (all five
 * states), ANATT, ANAGRPMAX, NANAGRPID, OAES ANA Change; MNAN = NN if zero (Linux refuses ANA
 * with MNAN 0). Identify Namespace: ANAGRPID, NMIC shared.
 */
void ana_id_ctrl(const struct ana *a, struct nvme_id_ctrl *id);
void ana_id_ns(const struct ana *a, uint32_t nsid, struct nvme_id_ns *id);

#endif
