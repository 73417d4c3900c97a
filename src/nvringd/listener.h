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
/* At start, before the workers run: one listener per port of tgt->ports, on fds. */
int listener_setup(struct target *tgt, const int *fds);
void listener_start(struct worker *w);
void listener_stop(struct worker *w);
void listener_free(void);
/* Control thread, workers running: accept on fd (from listener_open) for port. */
int listener_add(struct target *tgt, struct nvr_port *port, int fd);
/* Control thread: stop accepting on port and close its socket; returns once it is closed.
 * Connections made through it are not affected (see ctl_port.c). */
int listener_remove(struct target *tgt, struct nvr_port *port);

/* The per-address connection table (tgt->conn_limits). */
int listener_limits_init(struct target *tgt);
void listener_limits_free(struct target *tgt);
/* A connection counted at accept is gone (any thread): its count and port reference go. */
void listener_conn_gone(struct target *tgt, struct peer_count *slot);

#endif
