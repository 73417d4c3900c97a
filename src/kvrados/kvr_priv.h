/* SPDX-License-Identifier: MIT */
/* kvrados internals shared by kvr_open.c, kvr_ops.c and kvr_list.c. */
#ifndef NVRING_KVRADOS_KVR_PRIV_H
#define NVRING_KVRADOS_KVR_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include <rados/librados.h>

#include "kvrados.h"

#define KVR_META_OID "nvring.kvr.meta"
#define KVR_META_XATTR "nvring.kvr"
#define KVR_SHARD_FMT "nvring.kvr.%u"
#define KVR_VALUE_TAG 'v' /* first byte of every omap value: a missing key compares as "" */
#define KVR_HEX_MAX (2 * KVS_KEY_MAX + 1)
#define KVR_LIST_BATCH 1000u /* omap keys asked from a shard per round */

struct kvr {
	rados_t cluster;
	rados_ioctx_t ioctx;
	unsigned shards;
	uint32_t max_value;
	uint64_t capacity;
	atomic_uint inflight;
	_Atomic uint64_t used;
	/* background statistics refresh */
	pthread_t stats_thread;
	pthread_mutex_t stats_mu;
	pthread_cond_t stats_cv;
	bool stats_stop, stats_running;
};

/* One operation in flight: allocated at submit, freed before `done`. */
struct kvr_op {
	struct exec_completion xc;
	struct kvr *kv;
	struct kvs_io *io;
	struct executor *ex;
	rados_write_op_t wop;
	rados_read_op_t rop;
	rados_omap_iter_t iter;
	int ret;            /* the librados operation's result */
	int prv_exist;      /* per-step results inside the op */
	int prv_absent;
	int prv_read;
	struct kvr_list *list; /* LIST only */
	char hex[KVR_HEX_MAX];
	char oid[32];
};

void kvr_hex(const uint8_t *key, unsigned len, char *out);
unsigned kvr_shard_of(const struct kvr *kv, const uint8_t *key, unsigned len);
void kvr_shard_oid(unsigned shard, char *out, size_t len);
/* librados error → KV status for op (retryable ones without DNR). */
uint16_t kvr_errno_status(int r, enum kvs_op op);
/* Complete io with status on the calling thread. */
void kvr_finish(struct kvr *kv, struct kvs_io *io, uint16_t status);
/* Complete op's command with status on the worker and free op. */
void kvr_op_done(struct kvr_op *op, uint16_t status);

void kvr_list_start(struct kvr *kv, struct kvr_op *op);

#endif
