/* SPDX-License-Identifier: MIT */
/* Listening sockets, and the connection limits enforced when a peer connects. */
#ifndef NVRING_NVRINGD_LISTENER_H
#define NVRING_NVRINGD_LISTENER_H

#include <stddef.h>

struct nvr_port;
struct peer_count;
struct target;
struct worker;

/* Blocking, at start: bind and listen; resolves port 0 into port->trsvcid. */
int listener_open(struct nvr_port *port, unsigned backlog, int *fd, char *err, size_t errlen);
int listener_setup(struct target *tgt, const int *fds);
void listener_start(struct worker *w);
void listener_stop(struct worker *w);
void listener_free(void);

/* The per-address connection table (tgt->conn_limits). */
int listener_limits_init(struct target *tgt);
void listener_limits_free(struct target *tgt);
/* A connection counted at accept is gone (any thread). */
void listener_conn_gone(struct target *tgt, struct peer_count *slot);

#endif
