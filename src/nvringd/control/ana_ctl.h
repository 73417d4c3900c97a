/* SPDX-License-Identifier: MIT */
/*
 * The control plane's ANA operations (docs/ha.md): set a group's state as seen through one
 * port, and read every (subsystem, port, group). As in nvmet, a port's ANA states hold for
 * every subsystem exported through it unless the caller names one (nqn).
 *
 * Control thread (or any thread but a worker's): nothing here blocks beyond short mutexes, but
 * the JSON building allocates.
 *
 *   ana_set_state {addr: "ADDR:PORT" | portid: N, grpid, state, transition_ms?, nqn?}
 *   ana_get       {nqn?, grpid?}  -> [{nqn, portid, addr, grpid, state, target?, remaining_ms?,
 *                                      chgcnt, nsids: [...]}]
 */
#ifndef NVRING_NVRINGD_CONTROL_ANA_CTL_H
#define NVRING_NVRINGD_CONTROL_ANA_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct nvr_config;
struct rpc_call;
struct target;

struct ana_ctl_set {
	const char *addr;        /* "ADDR:PORT" of a listener, or NULL: portid names the port */
	uint32_t portid;
	uint32_t grpid;
	const char *state;       /* optimized, non-optimized, inaccessible, persistent-loss, change */
	uint32_t transition_ms;  /* report "change" this long first (at most ANATT); 0: at once */
	const char *nqn;         /* NULL: every subsystem exported through the port */
};

/*
 * All or nothing: every subsystem concerned is checked before any changes. 0, or -ENOENT (no
 * such port / subsystem on it), -EINVAL (group, state name), -ERANGE (transition longer than
 * ANATT), with a message naming the bad item in err.
 */
int ana_ctl_set_state(struct target *tgt, const struct ana_ctl_set *a, char *err, size_t errlen);
/*
 * The same, and a port-wide change (no nqn) is also written into cfg (the port's ana_groups,
 * the state it ends in), so a saved configuration starts the way the target runs now. A bare
 * "change" (which flaps back) is not recorded. cfg NULL: nothing recorded.
 */
int ana_ctl_set_state_cfg(struct target *tgt, struct nvr_config *cfg, const struct ana_ctl_set *a, char *err,
			  size_t errlen);
/*
 * Every (subsystem, port, group) holding a namespace (or only grpid, also empty, if not 0),
 * subsystems in order, ports as configured, groups ascending. NULL with err on a bad nqn/grpid
 * or out of memory.
 */
json_object *ana_ctl_get(struct target *tgt, const char *nqn, uint32_t grpid, char *err, size_t errlen);

/* The RPC methods' bodies: params in, result or error out (the caller holds the control lock). */
int ana_rpc_set_state(struct rpc_call *call, struct target *tgt, struct nvr_config *cfg);
int ana_rpc_get(struct rpc_call *call, struct target *tgt);

#endif
