/* SPDX-License-Identifier: MIT */
/* KV namespaces: a KV engine (src/kvstore) under the Key Value command set (cmd/kv.c). */
#ifndef NVRING_NVRINGD_NS_KV_H
#define NVRING_NVRINGD_NS_KV_H

#include <stdbool.h>

#include "ns.h"

struct kv_iters;

struct ns_kv {
	struct kvs *kv;
	struct kv_iters *iters;  /* the vendor iterators (kv_iter.c) */
	bool compat;             /* kvssd-compat: an NVM namespace taking the vendor KV opcodes */
};

static inline struct ns_kv *ns_kv(const struct nvr_ns *ns)
{
	return ns->priv;
}

#endif
