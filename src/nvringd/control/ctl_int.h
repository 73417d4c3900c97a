/* SPDX-License-Identifier: MIT */
/*
 * What the control plane's files share: the control functions the RPC methods call. Each runs
 * on the control thread with the control lock held, changes the running configuration
 * (tgt->cfg) and the running target together, and either succeeds or changes nothing and
 * says why (a JSON-RPC error code from rpc.h and a message naming the bad item).
 */
#ifndef NVRING_NVRINGD_CONTROL_CTL_INT_H
#define NVRING_NVRINGD_CONTROL_CTL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct metrics_server;
struct nvr_ctrl;
struct nvr_port;
struct nvr_subsys;
struct rpc_server;
struct target;

struct ctl {
	struct target *tgt;
	struct nvr_config *cfg;  /* == tgt->cfg */
	pthread_mutex_t lock;    /* changes; the metrics thread reads under it */
	struct rpc_server *rpc;
	struct metrics_server *metrics;
};

struct ctl_err {
	int code;      /* enum rpc_err */
	char msg[512];
};

/* Set the error and return -1. */
int ctl_fail(struct ctl_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- lookups ---- */
/* Index of the subsystem with this NQN, or -1 with "subsystem 'NQN' not found". */
long ctl_subsys_find(struct ctl *c, const char *nqn, struct ctl_err *e);
/* Index of cfg->subsys[si].ns with this NSID, or -1 with "namespace N of 'NQN' not found". */
long ctl_ns_find(struct ctl *c, size_t si, uint32_t nsid, struct ctl_err *e);
/* Index of the port listening on "ADDR:PORT", or -1 with the reason. */
long ctl_port_find(struct ctl *c, const char *addr, const char *what, struct ctl_err *e);

/* ---- the running target ---- */
/* Publish the topology of tgt->cfg, leaving out skip_s / skip_p (NULL: none). */
int ctl_publish_topo(struct ctl *c, const struct nvr_subsys *skip_s, const struct nvr_port *skip_p,
		     struct ctl_err *e);
/* Tear down every controller `match` accepts and wait until none is left in the controller
 * table; with wait_freed, until their subsystem counts none (deletion). */
void ctl_kill_ctrls(struct ctl *c, bool (*match)(const struct nvr_ctrl *ctrl, const void *arg), const void *arg,
		    const struct nvr_subsys *wait_freed);

/* ---- the configuration model: removals (the config API adds) ---- */
void ctl_cfg_remove_ns(struct nvr_config *cfg, size_t si, size_t k);
void ctl_cfg_remove_subsys(struct nvr_config *cfg, size_t si);
void ctl_cfg_remove_port(struct nvr_config *cfg, size_t pi);
/* Take hostnqn off subsystem si's allowed hosts; the hosts[] entry goes when no subsystem
 * allows it any more. */
void ctl_cfg_disallow_host(struct nvr_config *cfg, size_t si, const char *hostnqn);
/* A port exporting "all subsystems" (-l) gets the explicit list it stands for, so that a
 * subsystem can be created without it (the saved file says the same either way). */
int ctl_cfg_port_list_all(struct nvr_config *cfg, size_t pi);
/* Does any subsystem allow hostnqn? */
bool ctl_cfg_host_used(const struct nvr_config *cfg, const char *hostnqn);

/* ---- the operations (one per RPC method that changes something) ---- */
/* cs is moved in on success; ports: indices of cfg->ports to export it on. */
int ctl_subsys_create(struct ctl *c, struct cfg_subsys *cs, const size_t *ports, size_t nr_ports,
		      struct ctl_err *e);
int ctl_subsys_delete(struct ctl *c, const char *nqn, struct ctl_err *e);
/* cn (nsid 0: the lowest free) is moved in on success; *nsid gets its NSID. */
int ctl_ns_add(struct ctl *c, const char *nqn, struct cfg_ns *cn, uint32_t *nsid, struct ctl_err *e);
int ctl_ns_remove(struct ctl *c, const char *nqn, uint32_t nsid, struct ctl_err *e);
int ctl_ns_resize(struct ctl *c, const char *nqn, uint32_t nsid, uint64_t bytes, struct ctl_err *e);
/* cp: portid 0 = the lowest free; all_subsys or its subsystem list as given. */
int ctl_port_add(struct ctl *c, struct cfg_port *cp, struct ctl_err *e);
int ctl_port_remove(struct ctl *c, const char *addr, struct ctl_err *e);
/* h: the host with the keys it brings (none: only allow it, keys as known). Moved in. */
int ctl_host_add(struct ctl *c, const char *nqn, struct cfg_host *h, bool has_keys, struct ctl_err *e);
int ctl_host_remove(struct ctl *c, const char *nqn, const char *hostnqn, struct ctl_err *e);
/* Replace the host's keys (NULL: keep that one; a secret without value: remove it). The
 * secrets are swapped in: on success the caller's structs hold the old ones, wiped. */
int ctl_host_set_keys(struct ctl *c, const char *nqn, const char *hostnqn, struct cfg_secret *key,
		      struct cfg_secret *ctrl_key, struct ctl_err *e);

/* ---- reports (ctl_info.c): JSON for the listing methods ---- */
struct json_object;
struct io_totals;
struct json_object *ctl_info_subsystems(struct ctl *c);
/* NULL with e set when the subsystem is unknown. */
struct json_object *ctl_info_namespaces(struct ctl *c, const char *nqn, struct ctl_err *e);
struct json_object *ctl_info_controllers(struct ctl *c, const char *nqn);
struct json_object *ctl_info_stats(struct ctl *c, const char *nqn, uint32_t nsid, struct ctl_err *e);
struct json_object *ctl_info_totals(const struct io_totals *t);

/* ---- metrics (ctl_metrics.c) ---- */
int ctl_metrics_start(struct ctl *c, char *err, size_t errlen);

#endif
