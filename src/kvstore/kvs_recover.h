/* SPDX-License-Identifier: MIT */
/* Rebuilding the in-memory state from the log at open. */
#ifndef NVRING_KVSTORE_KVS_RECOVER_H
#define NVRING_KVSTORE_KVS_RECOVER_H

#include <stddef.h>

struct kvs;

/* Geometry is set; allocate segments and index, scan the log, build the free list. Blocks. */
int kvs_recover(struct kvs *kv, char *err, size_t errlen);

#endif
