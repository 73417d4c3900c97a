/* SPDX-License-Identifier: MIT */
#ifndef NVRING_TARGET_SETUP_H
#define NVRING_TARGET_SETUP_H

#include <stddef.h>

struct cfg_ns;
struct cfg_port;
struct cfg_subsys;
struct nvr_config;
struct nvr_ns;
struct nvr_port;
struct nvr_subsys;
struct target;

/*
 * Blocking, at start: ports, subsystems and opened namespaces, and the topology workers see.
 * -1 with a message naming the item. The target keeps cfg as its running configuration.
 */
int target_setup(struct target *tgt, struct nvr_config *cfg, char *err, size_t errlen);
/* Make every namespace's data durable (shutdown). */
void target_flush_all(struct target *tgt);
void target_teardown(struct target *tgt);
/* The running objects of configuration items (start-up and control thread; may block). NULL or
 * a negative errno with a message naming the item. */
struct nvr_port *target_port_new(const struct cfg_port *cp, char *err, size_t errlen);
/* cfg->subsys[si] with its hosts and opened namespaces (not published). */
struct nvr_subsys *target_subsys_new(struct target *tgt, const struct nvr_config *cfg, size_t si, char *err,
				     size_t errlen);
/* Close its namespaces and free it (nobody may use it any more). */
void target_subsys_free(struct nvr_subsys *s);
/* The host table of cs: its allowed hosts and their keys from cfg->hosts (checked here). */
struct host_table *target_hosts_build(const struct nvr_config *cfg, const struct cfg_subsys *cs, char *err,
				      size_t errlen);
/* Open namespace cn of subsystem cs (not published). Kinds that need what the workers set up
 * at start (big rings, pollers) are refused once they run: -EOPNOTSUPP. */
int target_ns_open(struct target *tgt, const struct cfg_subsys *cs, const struct cfg_ns *cn, struct nvr_ns **out,
		   char *err, size_t errlen);
/* A host entry and its keys (secrets wiped). */
struct nvr_host;
struct host_table;
void host_free(struct nvr_host *h);
void host_table_free(struct host_table *t);

#endif
