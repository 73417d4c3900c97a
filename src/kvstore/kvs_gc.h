/* SPDX-License-Identifier: MIT */
/* Online compaction of sealed segments (see kvs_gc.c). */
#ifndef NVRING_KVSTORE_KVS_GC_H
#define NVRING_KVSTORE_KVS_GC_H

#include "kvs_log.h"
#include "kvs_seg.h"
#include "kvstore.h"

#define KVS_GC_MOVES 4096

struct kvs_gc_move {
	uint32_t old_off;
	uint32_t out_off;   /* offset in the out buffer */
	uint32_t len;
	uint64_t seq;
	uint64_t hash;
	bool superseded;    /* a newer write of the key was in flight when it was copied */
};

enum kvs_gc_state {
	KVS_GC_IDLE,
	KVS_GC_READ,
	KVS_GC_MOVE,
	KVS_GC_FREE,
};

struct kvs_shard;

struct kvs_gc {
	bool busy;                /* a victim is being compacted; under segs.lock */
	struct kvs_shard *sh;     /* the shard (executor) the current victim's steps run on */
	uint32_t free_target;     /* below this many free segments, candidates are compacted */
	uint32_t idle_free;       /* free count when GC last found nothing to do (atomic) */
	enum kvs_gc_state state;  /* step in progress; only the thread running the step */
	struct kvs_seg *victim;
	uint64_t min_other_seq;   /* tombstones older than every other record shadow nothing */
	uint32_t pos;             /* next record to examine in the victim */
	uint8_t *buf;             /* victim bytes [buf_base, buf_base + buf_fill) */
	uint32_t buf_base, buf_fill, buf_size;
	uint8_t *out;             /* live records being copied forward */
	uint32_t out_len;
	struct kvs_gc_move moves[KVS_GC_MOVES];
	unsigned nmoves;
	struct kvs_wr wr;         /* the copies, through group commit */
	struct kvs_log_io lio;    /* victim reads, then its invalidation */
	struct iovec rd_iov;
	atomic_uint_fast64_t st_moved, st_syncs;
};

struct kvs;

int kvs_gc_init(struct kvs *kv);
void kvs_gc_fini(struct kvs *kv);
/* Start compacting a victim on sh's executor (its thread) if one is due; if writes wait for
 * space and nothing can be compacted, they are told so. Steps continue from their own CQEs. */
void kvs_gc_kick(struct kvs *kv, struct kvs_shard *sh);
bool kvs_gc_busy(struct kvs *kv);

#endif
