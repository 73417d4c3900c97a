/* SPDX-License-Identifier: MIT */
/* Rebuilding the in-memory state from the log at open. */
#ifndef NVRING_KVSTORE_KVS_RECOVER_H
#define NVRING_KVSTORE_KVS_RECOVER_H

#include <stddef.h>
#include <stdint.h>

struct kvs;

/* The log's geometry is set; allocate segments and index, scan the log, build the free list;
 * *last_seq: the highest sequence number or epoch found. Blocks. */
int kvs_recover(struct kvs *kv, uint64_t *last_seq, char *err, size_t errlen);

#endif
