/* SPDX-License-Identifier: MIT */
/*
 * ANA in the running daemon: one struct ana (ana.h) per NVM subsystem, under a mutex, plus a
 * lock-free copy of the per-(port, group) states that the I/O path reads in req_init.
 *
 * Threads: the control plane changes states (ana_subsys_set_state, may be any thread but a
 * worker's loop is fine too: nothing here blocks beyond the mutex); admin workers build the log
 * page and Identify fields under the mutex; I/O workers read only the atomic copy. Every change
 * of what a port's log says raises ANA Change (notice 0x03, log 0x0C) on the controllers
 * connected through that port, on their admin queue's worker. Transitions through ANA Change
 * end at their deadline: a timeout on worker 0's ring commits them (at most 100 ms late), and
 * every log read commits what is due first.
 *
 * Lock order: ana_subsys lock, then tgt->lock (the controller table, for the AEN fan-out).
 */
#ifndef NVRING_NVRINGD_ANA_SUBSYS_H
#define NVRING_NVRINGD_ANA_SUBSYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ana.h"

struct cfg_port;
struct identify_log_args;
struct nvr_config;
struct nvme_id_ctrl;
struct nvr_port;
struct nvr_subsys;
struct req;
struct target;

#define ANA_SUBSYS_ANATT 10 /* seconds, as nvmet */

struct ana_subsys;

/* An empty ANA model for s (groups 1..ANA_MAX_GROUPS, no port yet). NULL on OOM. */
struct ana_subsys *ana_subsys_create(struct target *tgt, struct nvr_subsys *s);
void ana_subsys_destroy(struct ana_subsys *as);
/*
 * s->ana from the configuration (blocking start-up or control thread): the ports of cfg that
 * export subsystem si with their ana_groups states (nvr_config_port_ana_state), and the
 * namespaces of s's table in their groups. -1 with a message naming the item.
 */
int ana_subsys_setup(struct target *tgt, struct nvr_subsys *s, const struct nvr_config *cfg, size_t si, char *err,
		     size_t errlen);
/* A port that starts exporting the subsystem, with its configured states (a port the model
 * knows keeps its own). -1 with a message. */
int ana_subsys_port_from_config(struct ana_subsys *as, const struct cfg_port *cp, char *err, size_t errlen);
/* Every port of cfg that exports subsystem si is in s's model (the control plane calls this
 * after exports change: a new listener, a new subsystem on existing ports). -1 with a message. */
int ana_subsys_sync_ports(struct nvr_subsys *s, const struct nvr_config *cfg, size_t si, char *err, size_t errlen);
/* A port of the subsystem; every group starts Optimized on it. 0, -EEXIST, -ENOSPC. */
int ana_subsys_add_port(struct ana_subsys *as, uint16_t portid);
/* Put namespace nsid in group grpid (0: take it out, at removal). 0 or -EINVAL with a message. */
int ana_subsys_ns_set(struct ana_subsys *as, uint32_t nsid, uint32_t grpid, char *err, size_t errlen);

/*
 * Set a group's state on a port (ana_set_state_by_name: names, transition_ms through ANA
 * Change). now_ms is CLOCK_MONOTONIC. -errno and a message naming the bad item.
 */
int ana_subsys_set_state(struct ana_subsys *as, uint16_t portid, uint32_t grpid, const char *state,
			 uint32_t transition_ms, uint64_t now_ms, char *err, size_t errlen);
/* Would that succeed? The same checks, nothing changed. */
int ana_subsys_check_state(struct ana_subsys *as, uint16_t portid, uint32_t grpid, const char *state,
			   uint32_t transition_ms, char *err, size_t errlen);
/* The workers run: arm the timers of transitions set before (a configured "change"). */
void ana_subsys_start_all(struct target *tgt);
/* A copy of the model with transitions due at now_ms committed (for ana_get and tests). */
void ana_subsys_snapshot(struct ana_subsys *as, uint64_t now_ms, struct ana *out);

/* I/O path (lock-free): 0, or the Path Related status for namespace group grpid through port. */
uint16_t ana_subsys_io_status(const struct ana_subsys *as, const struct nvr_port *port, uint32_t grpid);

/* Get Log Page 0x0C (arguments a) for the admin command req, as seen through its queue's port;
 * completes req. */
void ana_subsys_log_page(struct ana_subsys *as, struct req *req, const struct identify_log_args *a);
/* Identify Controller / Namespace ANA fields. */
void ana_subsys_id_ctrl(struct ana_subsys *as, struct nvme_id_ctrl *id);
uint32_t ana_subsys_ns_group(struct ana_subsys *as, uint32_t nsid);

#endif
