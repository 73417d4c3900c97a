/* SPDX-License-Identifier: MIT */
/*
 * The rbd namespace kind: a Ceph RBD image (src/backend/rbd.c) under the NVM command set,
 * sharing the block kind's ops, plus what an image has that a file has not: a resize while
 * I/O runs (control plane), and Identify from what librbd really does (Deallocate and Write
 * Zeroes read back as zeroes, a volatile write cache only with vwc).
 *
 * A cluster that goes away is not an error at open time only: commands wait inside librados
 * until it answers, or, with op_timeout, complete with Namespace Not Ready without DNR
 * (be_errno_to_status) and the host retries; nothing here has to recover, the next command
 * simply reaches the cluster again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "block.h"
#include "cmd/identify.h"
#include "cmd/nvm.h"
#include "config/config.h"

static void rbd_identify_nvm(const struct nvr_ns *ns, struct nvme_id_ns *id)
{
	/* rbd.c makes both Deallocate and Write Zeroes leave zeroes (rbd_skip_partial_discard
	 * off, or write_zeroes where a pool or image override turns it back on) */
	identify_ns_basic(ns, id, ns_backend(ns)->geom.discard);
}

static int rbd_ns_resize(struct nvr_ns *ns, uint64_t bytes, char *err, size_t errlen)
{
	uint64_t nlba = bytes >> ns->lba_shift;
	int r;

	if (bytes < ns_nlba(ns) << ns->lba_shift) /* shrinking: refuse new I/O beyond first */
		atomic_store(&ns->nlba, nlba);
	r = be_rbd_resize(ns_backend(ns), bytes, err, errlen);
	if (r < 0) {
		atomic_store(&ns->nlba, ns_backend(ns)->geom.size >> ns->lba_shift);
		return r;
	}
	atomic_store(&ns->nlba, nlba);
	return 0;
}

static const struct nvr_ns_ops rbd_ns_ops = {
	.kind = "rbd",
	.io_dir = block_io_dir,
	.parse = nvm_parse,
	.identify_nvm = rbd_identify_nvm,
	.oncs = block_oncs,
	.flush = block_flush,
	.flush_sync = block_flush_sync,
	.resize = rbd_ns_resize,
	.close = block_close,
};

int ns_rbd_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen)
{
	struct backend *be = calloc(1, sizeof(*be));
	struct be_rbd_spec spec = {
		.pool = cn->pool,
		.nspace = cn->rados_ns,
		.image = cn->image,
		.conf = cn->ceph_conf,
		.client_id = cn->ceph_id,
		.cluster = cn->ceph_cluster,
		.lba_size = cn->lba_size,
		.vwc = cn->vwc,
		.readonly = cn->readonly,
		.connect_timeout = cn->ceph_connect_timeout,
		.op_timeout = cn->ceph_op_timeout,
	};
	int ret;

	if (!be) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = be_rbd_open(be, &spec, err, errlen);
	if (ret) {
		free(be);
		return ret;
	}
	ns->ops = &rbd_ns_ops;
	ns->priv = be;
	ns->csi = NVR_CSI_NVM;
	ns->lba_shift = be->geom.lba_shift;
	atomic_store(&ns->nlba, be->geom.size >> ns->lba_shift);
	ns->readonly = be->geom.readonly;
	ns->vwc = be->geom.volatile_cache;
	return 0;
}
