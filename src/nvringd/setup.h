/* SPDX-License-Identifier: MIT */
#ifndef NVRING_TARGET_SETUP_H
#define NVRING_TARGET_SETUP_H

#include <stddef.h>

struct nvr_config;
struct target;

/* Blocking, at start: ports, subsystems and opened namespaces. -1 with a message naming the item. */
int target_setup(struct target *tgt, const struct nvr_config *cfg, char *err, size_t errlen);
/* Make every namespace's data durable (shutdown). */
void target_flush_all(struct target *tgt);
void target_teardown(struct target *tgt);
/* A host entry and its keys (secrets wiped). */
struct nvr_host;
struct host_table;
void host_free(struct nvr_host *h);
void host_table_free(struct host_table *t);

#endif
