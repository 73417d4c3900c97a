/* SPDX-License-Identifier: MIT */
/*
 * kvrados: NVMe Key Value namespaces (CSI 1) on a Ceph RADOS pool, optionally inside a RADOS
 * namespace (`kv:rados:POOL[/NAMESPACE]`). The operation and its statuses are the local
 * engine's (struct kvs_io from kvstore.h: op, key, options, buf/len in; status, value_size out;
 * its `priv` is not used here).
 *
 * Keys live as omap entries of a fixed set of shard objects (key → shard by hash; the omap key
 * is the key in hex, which sorts like the key's bytes), one RADOS operation per command: a
 * conditional Store is a compare + set in one atomic write op, List merges the shards' sorted
 * omaps. Why this mapping and not an object per key: README.md.
 *
 * Every operation is librados aio; its completion runs on a librados thread and only hands
 * the operation to the submitting worker (executor_post), where `done` runs. A Store has
 * completed when RADOS acknowledged it, which it does once every replica has it: Flush has
 * nothing left to do. Without librados at build time kvr_open fails with -EOPNOTSUPP.
 *
 * open/close may block (daemon start and stop); nothing else does.
 */
#ifndef NVRING_KVRADOS_KVRADOS_H
#define NVRING_KVRADOS_KVRADOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvstore/kvstore.h"
#include "ring/executor.h"

struct kvr;

struct kvr_config {
	const char *pool;        /* required */
	const char *nspace;      /* RADOS namespace; NULL or "" = the pool's default */
	const char *conf;        /* ceph.conf; NULL = librados' search ($CEPH_CONF, /etc/ceph/) */
	const char *client_id;   /* without "client."; NULL = "admin" */
	const char *cluster;     /* NULL = "ceph" */
	unsigned shards;         /* for a new data set, 1..1024, default 16; an existing one keeps
				  * the count it was made with */
	uint32_t max_value;      /* default 1 MiB */
	uint64_t capacity;       /* NSZE in bytes; 0 = the cluster's raw size (1 TiB when the
				  * cluster reports none, e.g. without a mgr) */
	unsigned connect_timeout; /* seconds to reach the cluster at open; 0 = 10 */
	unsigned op_timeout;     /* seconds before an operation fails (retryable); 0 = none */
};

int kvr_open(struct kvr **out, const struct kvr_config *cfg, char *err, size_t errlen);
/* Call when kvr_idle(). May block (waits for the cluster up to the connect timeout). */
void kvr_close(struct kvr *kv);

/* Start an operation; done is called exactly once, on ex's thread (possibly before this
 * returns: argument errors and Flush complete inline). */
void kvr_submit(struct kvr *kv, struct executor *ex, struct kvs_io *io);

bool kvr_idle(const struct kvr *kv);
uint64_t kvr_capacity(const struct kvr *kv);
/* NUSE: the pool's stored bytes as the cluster last reported them (refreshed every 10 s in the
 * background; 0 on clusters without a mgr, which keep no pool statistics). */
uint64_t kvr_used(const struct kvr *kv);
uint32_t kvr_max_value(const struct kvr *kv);
unsigned kvr_shards(const struct kvr *kv);

#endif
