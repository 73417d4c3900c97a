/* SPDX-License-Identifier: MIT */
/*
 * The namespace registry: subsystems' namespace tables that change while I/O runs.
 *
 * Workers read a published table without a lock and take a per-worker reference on the
 * namespace a command uses. A change builds a new table and publishes it; the old one is freed
 * after a grace period (every worker has run a message posted after the publish, so none still
 * holds a pointer from before). A removal also waits, per worker, until that worker's commands
 * on the namespace have completed, then closes it. All changes run on a control thread (or at
 * start-up), serialised by the target's registry lock, and may block.
 */
#ifndef NVRING_NVRINGD_NS_REGISTRY_H
#define NVRING_NVRINGD_NS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "subsys.h"

struct target;
struct worker;

/* Worker: the namespace with this NSID, referenced for worker w; NULL if none. */
struct nvr_ns *ns_get(struct nvr_subsys *s, uint32_t nsid, struct worker *w);
/* Worker: one more reference on a namespace found in a table just now. */
void ns_ref(struct nvr_ns *ns, struct worker *w);
void ns_put(struct nvr_ns *ns, struct worker *w);

/* Allocate a namespace's registry state (per-worker references) for tgt. */
int registry_ns_init(struct target *tgt, struct nvr_ns *ns);
/*
 * Publish ns in s (its nsid must be free: -EEXIST). Visible to the next command on every
 * queue; hosts are told through a Namespace Attribute Changed event.
 */
int registry_ns_add(struct target *tgt, struct nvr_subsys *s, struct nvr_ns *ns);
/* Unpublish, drain the commands in flight, close and free; then tell hosts. -ENOENT if none. */
int registry_ns_remove(struct target *tgt, struct nvr_subsys *s, uint32_t nsid);
/* Wait until every running worker has passed through its loop (a grace period). */
void registry_sync(struct target *tgt);
/* Hosts connected to s learn that namespace nsid changed (added, removed, resized). */
void registry_ns_changed(struct target *tgt, struct nvr_subsys *s, uint32_t nsid);

#endif
