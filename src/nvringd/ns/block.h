/* SPDX-License-Identifier: MIT */
/* Block namespaces: a struct backend (mem, file, rbd) driven by the NVM command set. */
#ifndef NVRING_NVRINGD_NS_BLOCK_H
#define NVRING_NVRINGD_NS_BLOCK_H

#include "ns.h"

/* The backend of a block namespace (the NVM command set's view of it). */
static inline struct backend *ns_backend(const struct nvr_ns *ns)
{
	return ns->priv;
}

/* The ops every kind on a struct backend shares (block.c; rbd.c uses them too). */
int block_io_dir(const struct nvr_ns *ns, uint8_t opcode);
uint16_t block_oncs(const struct nvr_ns *ns);
void block_flush(struct nvr_ns *ns, struct executor *ex, struct ns_flush *f);
int block_flush_sync(struct nvr_ns *ns);
void block_close(struct nvr_ns *ns);

#endif
