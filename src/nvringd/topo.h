/* SPDX-License-Identifier: MIT */
/*
 * The target's topology as workers see it: which subsystems exist, which ports there are and
 * which ports export which subsystem. One immutable snapshot, published with an atomic store
 * and replaced as a whole by the control plane (like a namespace table): Connect looks its
 * subsystem up here, the discovery log is built from it. A worker may use a snapshot (and the
 * subsystems and ports it names) until its handler returns to the event loop; keeping a
 * subsystem longer needs a controller (subsystem deletion waits for its controllers), a port
 * longer a reference (port_get).
 */
#ifndef NVRING_NVRINGD_TOPO_H
#define NVRING_NVRINGD_TOPO_H

#include <stdbool.h>

#include "subsys.h"

struct target;

struct topo_subsys {
	struct nvr_subsys *s;
	struct nvr_port **ports; /* the ports exporting it (none for discovery: every port) */
	unsigned nr_ports;
};

struct nvr_topo {
	struct nvr_port **ports;     /* every listening port, in configuration order */
	unsigned nr_ports;
	struct topo_subsys *subsys;  /* [0] is the discovery subsystem */
	unsigned nr_subsys;
};

/* The current snapshot (workers; the control thread). */
const struct nvr_topo *target_topo(const struct target *tgt);
struct nvr_subsys *topo_find_subsys(const struct nvr_topo *t, const char *nqn);
/* Can a host reach s through port? (The discovery subsystem: through every port.) */
bool topo_subsys_on_port(const struct nvr_topo *t, const struct nvr_subsys *s, const struct nvr_port *port);

/*
 * Control thread / start-up: a snapshot of what tgt->cfg says, with tgt->disc, tgt->subsys[]
 * and tgt->ports[] as the running objects of the configuration's entries. NULL on OOM.
 */
struct nvr_topo *topo_build(const struct target *tgt);
/* Publish t; once no worker can still see the old snapshot (a grace period), free it. */
void topo_publish(struct target *tgt, struct nvr_topo *t);
void topo_free(struct nvr_topo *t);
/*
 * What the discovery log says changed (subsystems, ports, hosts): GENCTR moves, and every
 * persistent discovery controller (one with a keep-alive) gets a Discovery Log Change event.
 */
void topo_discovery_changed(struct target *tgt);

#endif
