/* SPDX-License-Identifier: MIT */
/*
 * The kv-rados namespace kind: a KV namespace whose keys live in a Ceph pool
 * (`kv:rados:POOL[/NAMESPACE]`, src/kvrados). A Store completes once RADOS has it on every
 * replica, so the namespace reports no volatile write cache and Flush has nothing to do.
 */
#include <errno.h>
#include <stdio.h>

#include "config/config.h"
#include "core/req.h"
#include "kv.h"
#include "kvrados/kvrados.h"

static void kvrn_submit(void *eng, struct executor *ex, struct kvs_io *io)
{
	kvr_submit(eng, ex, io);
}

static uint64_t kvrn_capacity(const void *eng)
{
	return kvr_capacity(eng);
}

static uint64_t kvrn_used(const void *eng)
{
	return kvr_used(eng);
}

static uint32_t kvrn_max_value(const void *eng)
{
	return kvr_max_value(eng);
}

static int kvrn_flush_sync(void *eng)
{
	(void)eng; /* every acknowledged store is already durable */
	return 0;
}

static bool kvrn_idle(const void *eng)
{
	return kvr_idle(eng);
}

static void kvrn_close(void *eng)
{
	kvr_close(eng);
}

static const struct kv_engine_ops kv_rados_ops = {
	.name = "kvrados",
	.submit = kvrn_submit,
	.capacity = kvrn_capacity,
	.used = kvrn_used,
	.max_value = kvrn_max_value,
	.flush_sync = kvrn_flush_sync,
	.idle = kvrn_idle,
	.close = kvrn_close,
};

int ns_kv_rados_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen)
{
	struct kvr_config kc = {
		.pool = cn->pool,
		.nspace = cn->rados_ns,
		.conf = cn->ceph_conf,
		.client_id = cn->ceph_id,
		.cluster = cn->ceph_cluster,
		.shards = cn->kv_shards,
		.max_value = cn->kv_max_value,
		.capacity = cn->size,
		.connect_timeout = cn->ceph_connect_timeout,
		.op_timeout = cn->ceph_op_timeout,
	};
	struct kvr *kv;
	int ret;

	if (kc.max_value > NVR_MDTS_BYTES) {
		snprintf(err, errlen, "max_value %u is above the largest transfer (%u bytes)",
			 kc.max_value, NVR_MDTS_BYTES);
		return -EINVAL;
	}
	ret = kvr_open(&kv, &kc, err, errlen);
	if (ret)
		return ret;
	return ns_kv_attach(ns, cn, &kv_rados_ops, kv, false, err, errlen);
}
