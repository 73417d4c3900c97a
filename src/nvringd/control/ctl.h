/* SPDX-License-Identifier: MIT */
/*
 * The control plane: the JSON-RPC socket (docs/rpc.md) and the metrics endpoint, served by
 * their own threads, never by a worker. Changes reach the workers through the registry
 * (published tables and topology, grace periods).
 */
#ifndef NVRING_NVRINGD_CONTROL_CTL_H
#define NVRING_NVRINGD_CONTROL_CTL_H

#include <stddef.h>

struct target;

/* Workers running: start what tgt->cfg asks for (rpc_socket, metrics). 0, or -1 with err. */
int ctl_start(struct target *tgt, char *err, size_t errlen);
/* Stop both (a method running finishes first). Safe without a start. */
void ctl_stop(void);

#endif
