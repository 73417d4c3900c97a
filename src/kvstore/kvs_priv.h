/* SPDX-License-Identifier: MIT */
/*
 * The engine as a whole: what the top layer (operations, GC, open, recovery, list) shares.
 * Layers, each using only those below it:
 *   kvs_ops / kvs_list / kvs_open / kvs_recover
 *   kvs_gc
 *   kvs_commit (per-executor shards: heads, batches)      kvs_index
 *   kvs_log (the writer: framing, I/O)   kvs_seg (segment states, free list, live bytes)
 */
#ifndef NVRING_KVSTORE_KVS_PRIV_H
#define NVRING_KVSTORE_KVS_PRIV_H

#include <stdatomic.h>
#include <stddef.h>

#include "kvs_commit.h"
#include "kvs_format.h"
#include "kvs_gc.h"
#include "kvs_index.h"
#include "kvs_log.h"
#include "kvs_seg.h"
#include "kvstore.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "on-disk format is written natively");

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
/* kvs_list.c */
void kvs_list_run(struct kvs *kv, struct kvs_io *io);

#endif

struct kvs {
	struct kvs_log log;
	struct kvs_segs segs;
	struct kvs_index idx;
	struct kvs_commit commit;
	struct kvs_gc gc;
	uint32_t max_value;
	uint64_t live_limit;      /* admission: stores beyond it get CAPACITY_EXCEEDED */
	/* Space used: live records plus writes in flight. Shards count their own share and add it
	 * here in chunks, so writers on different threads do not share the line per store. */
	atomic_int_fast64_t used;
	int64_t used_chunk;
	/* file: the superblock as on the medium, and the write that records a higher seq floor */
	struct kvs_sb sb;
	struct kvs_sb sb_next;
	struct iovec sb_iov;
	struct kvs_log_io sb_io;
};

/* kvs_ops.c: the space counter (on sh's thread) */
void kvs_space_add(struct kvs *kv, struct kvs_shard *sh, int64_t delta);

/* kvs_list.c */
void kvs_list_run(struct kvs *kv, struct kvs_io *io);

#endif
