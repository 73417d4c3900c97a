/* SPDX-License-Identifier: MIT */
/* Block namespaces: a struct backend (mem, file) driven by the NVM command set. */
#ifndef NVRING_NVRINGD_NS_BLOCK_H
#define NVRING_NVRINGD_NS_BLOCK_H

#include "ns.h"

/* The backend of a block namespace (the NVM command set's view of it). */
static inline struct backend *ns_backend(const struct nvr_ns *ns)
{
	return ns->priv;
}

#endif
