/* SPDX-License-Identifier: MIT */
/*
 * The block namespace kind: RAM and file/block-device backends (src/backend) under the NVM
 * command set (cmd/nvm.c). Its ops are shared with the rbd kind (rbd.c).
 */
#include "block.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "cmd/identify.h"
#include "cmd/nvm.h"
#include "config/config.h"
#include "registry.h"

int block_io_dir(const struct nvr_ns *ns, uint8_t opcode)
{
	(void)ns;
	return opcode & 3; /* the NVM opcodes follow the bits 1:0 convention */
}

static void block_identify_nvm(const struct nvr_ns *ns, struct nvme_id_ns *id)
{
	/* discard and write zeroes always read back as zeroes here (backend.h) */
	identify_ns_basic(ns, id, ns_backend(ns)->geom.discard);
}

uint16_t block_oncs(const struct nvr_ns *ns)
{
	(void)ns;
	return NVR_ONCS_OURS;
}

static void block_flush_done(struct be_io *io, int res)
{
	struct ns_flush *f = container_of(io, struct ns_flush, io);

	f->done(f, res >= 0);
}

void block_flush(struct nvr_ns *ns, struct executor *ex, struct ns_flush *f)
{
	memset(&f->io, 0, sizeof(f->io));
	f->io.op = BE_FLUSH;
	f->io.buf_index = -1;
	f->io.done = block_flush_done;
	be_submit(ns_backend(ns), ex, &f->io);
}

int block_flush_sync(struct nvr_ns *ns)
{
	struct backend *be = ns_backend(ns);

	return be->ops->flush_sync ? be->ops->flush_sync(be) : 0;
}

void block_close(struct nvr_ns *ns)
{
	struct backend *be = ns_backend(ns);

	if (be) {
		be_close(be);
		free(be);
	}
	ns->priv = NULL;
}

/* Shrinking: the new size first, then (no command from before can still touch the tail) the
 * storage beyond it goes. Growing: the backend makes room, then the size moves. */
static int block_resize(struct nvr_ns *ns, uint64_t bytes, char *err, size_t errlen)
{
	struct backend *be = ns_backend(ns);
	uint64_t old = be_size(be);
	int ret;

	if (!be->ops->resize) {
		snprintf(err, errlen, "%s namespaces have a fixed size", be->ops->name);
		return -EOPNOTSUPP;
	}
	ret = be->ops->resize(be, bytes, err, errlen);
	if (ret < 0)
		return ret;
	atomic_store(&ns->nlba, bytes >> ns->lba_shift);
	if (bytes < old && be->ops->release) {
		registry_sync(ns->tgt);
		be->ops->release(be);
	}
	return 0;
}

static const struct nvr_ns_ops block_ops = {
	.kind = "block",
	.reservations = true,
	.io_dir = block_io_dir,
	.parse = nvm_parse,
	.identify_nvm = block_identify_nvm,
	.oncs = block_oncs,
	.flush = block_flush,
	.flush_sync = block_flush_sync,
	.resize = block_resize,
	.close = block_close,
};

int ns_block_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen)
{
	struct backend *be = calloc(1, sizeof(*be));
	struct be_spec spec;
	int ret;

	if (!be) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nvr_config_ns_to_be_spec(cn, &spec);
	ret = !strcmp(cn->kind, "mem") ? be_mem_open(be, &spec, err, errlen) : be_file_open(be, &spec, err, errlen);
	if (ret) {
		free(be);
		return ret;
	}
	ns->ops = &block_ops;
	ns->priv = be;
	ns->csi = NVR_CSI_NVM;
	ns->lba_shift = be->geom.lba_shift;
	atomic_store(&ns->nlba, be->geom.size >> ns->lba_shift);
	ns->readonly = cn->readonly || be->geom.readonly;
	ns->vwc = be->geom.volatile_cache;
	return 0;
}

void *ns_mem_ptr(const struct nvr_ns *ns, uint64_t offset)
{
	if (ns->ops != &block_ops)
		return NULL;
	return be_mem_ptr(ns_backend(ns), offset);
}
