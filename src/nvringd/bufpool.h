/* SPDX-License-Identifier: MIT */
/*
 * Per-worker data buffers in power-of-two size classes, 4 KiB aligned (O_DIRECT-ready).
 * Buffers are recycled through free lists, so the data path allocates nothing once warm; what
 * the lists keep is capped, so memory goes back to the system when the load goes.
 */
#ifndef NVRING_NVRINGD_BUFPOOL_H
#define NVRING_NVRINGD_BUFPOOL_H

#include <stdint.h>

struct bufpool;

struct bufpool *bufpool_create(void);
void bufpool_destroy(struct bufpool *bp);
/* A buffer of at least len bytes; *size receives its class size (pass it back to put). */
void *bufpool_get(struct bufpool *bp, uint32_t len, uint32_t *size);
void bufpool_put(struct bufpool *bp, void *buf, uint32_t size);
/* The class size bufpool_get would hand out for len bytes (0 if too large). */
uint32_t bufpool_class_size(uint32_t len);

#endif
