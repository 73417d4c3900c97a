/* SPDX-License-Identifier: MIT */
#ifndef NVRING_TARGET_LISTENER_H
#define NVRING_TARGET_LISTENER_H

#include <stddef.h>

struct nvr_port;
struct target;
struct worker;

/* Blocking, at start: bind and listen; resolves port 0 into port->trsvcid. */
int listener_open(struct nvr_port *port, int *fd, char *err, size_t errlen);
int listener_setup(struct target *tgt, const int *fds);
void listener_start(struct worker *w);
void listener_stop(struct worker *w);
void listener_free(void);

#endif
