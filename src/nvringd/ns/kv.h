/* SPDX-License-Identifier: MIT */
/*
 * KV namespaces: a KV engine under the Key Value command set (cmd/kv.c, cmd/kv_iter.c). The
 * command set sees the engine only through struct kv_engine_ops, so it runs unchanged on the
 * local engine (src/kvstore, kind "kv") and on RADOS (src/kvrados, kind "kv-rados").
 */
#ifndef NVRING_NVRINGD_NS_KV_H
#define NVRING_NVRINGD_NS_KV_H

#include <stdbool.h>
#include <stdint.h>

#include "ns.h"

struct cfg_ns;
struct kv_iters;

/*
 * What an engine offers (each mirrors the kvs_* / kvr_* function of the same name). The
 * operation is struct kvs_io with its statuses (kvstore.h); `done` runs on ex's thread.
 */
struct kv_engine_ops {
	const char *name;
	void (*submit)(void *eng, struct executor *ex, struct kvs_io *io);
	uint64_t (*capacity)(const void *eng); /* NSZE, bytes */
	uint64_t (*used)(const void *eng);     /* NUSE, bytes */
	uint32_t (*max_value)(const void *eng);
	int (*flush_sync)(void *eng);          /* make every completed store durable (may block) */
	void (*poll)(void *eng, struct executor *ex); /* event-loop hook; NULL: none */
	bool (*idle)(const void *eng);         /* no internal I/O in flight */
	void (*close)(void *eng);              /* may block */
	/* A RETRIEVE with by_ref lends the value in place (kvs_in_memory); NULL: never. */
	bool (*lends)(const void *eng);
	void (*unref)(void *eng, struct kvs_io *io); /* give a lent value back (kvs_io_unref) */
};

struct ns_kv {
	const struct kv_engine_ops *ops;
	void *eng;
	struct kv_iters *iters;  /* the vendor iterators (kv_iter.c) */
	bool compat;             /* kvssd-compat: an NVM namespace taking the vendor KV opcodes */
	bool lends;              /* Retrieve sends the value from the engine's memory (no copy) */
};

static inline struct ns_kv *ns_kv(const struct nvr_ns *ns)
{
	return ns->priv;
}

static inline void kv_eng_submit(const struct nvr_ns *ns, struct executor *ex, struct kvs_io *io)
{
	ns_kv(ns)->ops->submit(ns_kv(ns)->eng, ex, io);
}

static inline uint32_t kv_eng_max_value(const struct nvr_ns *ns)
{
	return ns_kv(ns)->ops->max_value(ns_kv(ns)->eng);
}

static inline uint64_t kv_eng_capacity(const struct nvr_ns *ns)
{
	return ns_kv(ns)->ops->capacity(ns_kv(ns)->eng);
}

static inline uint64_t kv_eng_used(const struct nvr_ns *ns)
{
	return ns_kv(ns)->ops->used(ns_kv(ns)->eng);
}

/*
 * Make ns a KV namespace on an opened engine (the kinds' open functions end here): the
 * iterators, CSI or the kvssd-compat block view, read-only, VWC. On failure the engine is
 * closed. 0 or negative errno with the reason in err.
 */
int ns_kv_attach(struct nvr_ns *ns, const struct cfg_ns *cn, const struct kv_engine_ops *ops,
		 void *eng, bool vwc, char *err, size_t errlen);

#endif
