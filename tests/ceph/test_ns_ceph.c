/* SPDX-License-Identifier: MIT */
/*
 * The daemon's rbd and kv-rados namespace kinds, opened from --ns specs through ns_open on the
 * test cluster (tests/ceph/run.sh): geometry and Identify from the image, vwc and ro, the
 * resize op (grow, shrink, I/O refused past the new end, bad sizes, read-only), and the KV
 * engine interface on RADOS (capacity, KVVML, a store and retrieve, kvssd-compat's block view).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "config/config.h"
#include "ns/block.h"
#include "ns/kv.h"
#include "ns/ns.h"
#include "rio.h"
#include "spec/nvme_kv.h"
#include "target.h"

#define MiB (1ull << 20)

static struct ck_worker W;
static struct target TGT = { .nr_workers = 1 };

static struct nvr_ns *open_spec(const char *spec, char *err, size_t errlen, int *ret)
{
	struct cfg_ns cn;
	struct nvr_ns *ns;

	*ret = -EINVAL;
	if (nvr_config_parse_ns_spec(&cn, spec, err, errlen))
		return NULL;
	cn.nsid = 1;
	ns = calloc(1, sizeof(*ns));
	*ret = ns ? ns_open(&TGT, ns, &cn, err, errlen) : -ENOMEM;
	nvr_config_ns_free(&cn);
	if (*ret) {
		free(ns);
		return NULL;
	}
	return ns;
}

static void t_rbd(void)
{
	char err[256], spec[128];
	struct nvme_id_ns id;
	struct nvr_ns *ns, *ro, *again;
	uint8_t *buf = ck_alloc(4096);
	int r;

	ns = open_spec("rbd:rbd/t-ns,bs=4096", err, sizeof(err), &r);
	if (!tap_ok(ns != NULL, "rbd:rbd/t-ns,bs=4096 opens: %s", err))
		return;
	tap_ok(!strcmp(ns->ops->kind, "rbd") && ns->csi == NVR_CSI_NVM, "kind rbd, NVM command set");
	tap_eq(ns->lba_shift, 12, "4096-byte blocks");
	tap_eq(ns_nlba(ns), 64 * MiB / 4096, "NSZE from the image: 64 MiB");
	tap_ok(!ns->vwc && !ns->readonly, "no volatile cache, writable");
	memset(&id, 0, sizeof(id));
	ns->ops->identify_nvm(ns, &id);
	tap_eq(id.dlfeat & 0xf, 0x9, "DLFEAT: deallocated blocks read zeroes, Write Zeroes deallocates");
	tap_eq(id.lbaf[0].ds, 12, "LBA format 0: 4096 bytes");
	tap_ok(ns->ops->resize != NULL && ns->ops->flush != NULL, "resize and flush ops");

	/* grow while open: the namespace and a second opener see the new size */
	tap_eq(ns->ops->resize(ns, 96 * MiB, err, sizeof(err)), 0, "resize to 96 MiB: %s", err);
	tap_eq(ns_nlba(ns), 96 * MiB / 4096, "NSZE follows: 96 MiB");
	again = open_spec("rbd:rbd/t-ns,bs=4096", err, sizeof(err), &r);
	tap_ok(again && ns_nlba(again) == 96 * MiB / 4096, "the image itself is 96 MiB now");
	if (again)
		ns_destroy(again);
	ck_fill(buf, 4096, 7);
	tap_eq(rio_do(ns_backend(ns), &W, BE_WRITE, 0, 90 * MiB, 4096, buf), 0, "a write at 90 MiB");
	/* shrink: I/O past the new end is refused by the backend itself */
	tap_eq(ns->ops->resize(ns, 32 * MiB, err, sizeof(err)), 0, "resize to 32 MiB: %s", err);
	tap_eq(ns_nlba(ns), 32 * MiB / 4096, "NSZE follows: 32 MiB");
	tap_eq(rio_do(ns_backend(ns), &W, BE_READ, 0, 40 * MiB, 4096, buf), -ERANGE,
	       "a read at 40 MiB: -ERANGE (LBA Out of Range)");
	tap_eq(rio_do(ns_backend(ns), &W, BE_READ, 0, 32 * MiB - 4096, 4096, buf), 0, "the last block reads");
	tap_eq(ns->ops->resize(ns, 32 * MiB + 512, err, sizeof(err)), -EINVAL,
	       "a size that is not a block multiple: -EINVAL: %s", err);
	tap_eq(ns->ops->resize(ns, 0, err, sizeof(err)), -EINVAL, "size 0: -EINVAL");
	tap_eq(ns_nlba(ns), 32 * MiB / 4096, "refused resizes leave NSZE");
	/* growing back: the shrunk-away blocks are gone (zeroes), not the old data */
	tap_eq(ns->ops->resize(ns, 96 * MiB, err, sizeof(err)), 0, "grow again to 96 MiB");
	memset(buf, 0x5a, 4096);
	tap_eq(rio_do(ns_backend(ns), &W, BE_READ, 0, 90 * MiB, 4096, buf), 0, "read at 90 MiB");
	tap_ok(ck_is_zero(buf, 4096), "reads zeroes after the shrink and grow");
	tap_eq(ns->ops->resize(ns, 64 * MiB, err, sizeof(err)), 0, "back to 64 MiB");

	ro = open_spec("rbd:rbd/t-ns,ro", err, sizeof(err), &r);
	if (tap_ok(ro != NULL, "ro opens: %s", err)) {
		tap_ok(ro->readonly && ro->lba_shift == 9, "read-only, 512-byte blocks (the default)");
		tap_eq(ro->ops->resize(ro, 128 * MiB, err, sizeof(err)), -EROFS, "resize of a ro namespace: %s", err);
		ns_destroy(ro);
	}
	ns_destroy(ns);
	ns = open_spec("rbd:rbd/t-ns,vwc,connect_timeout=5,op_timeout=30", err, sizeof(err), &r);
	if (tap_ok(ns != NULL, "vwc and the timeouts open: %s", err)) {
		tap_ok(ns->vwc, "vwc: Identify VWC set");
		ns_destroy(ns);
	}
	snprintf(spec, sizeof(spec), "rbd:rbd/t-ns,conf=%s,id=admin,cluster=ceph", getenv("CEPH_CONF"));
	ns = open_spec(spec, err, sizeof(err), &r);
	tap_ok(ns != NULL, "conf=, id= and cluster= reach the backend: %s", err);
	if (ns)
		ns_destroy(ns);
	ns = open_spec("rbd:rbd/nsx/t-ns", err, sizeof(err), &r);
	tap_ok(!ns && r == -ENOENT && strstr(err, "namespace nsx"),
	       "an image in a RADOS namespace that does not hold it: %d %s", r, err);
	free(buf);
}

struct kvw {
	struct kvs_io io;
	bool done;
};

static void kvw_done(struct kvs_io *io)
{
	((struct kvw *)io->ctx)->done = true;
}

static bool kvw_is_done(void *arg)
{
	return ((struct kvw *)arg)->done;
}

static uint16_t kv_op(struct nvr_ns *ns, enum kvs_op op, const char *key, void *buf, uint32_t len,
		      uint32_t *vsize)
{
	struct kvw k = { .done = false };

	k.io.op = op;
	k.io.key_len = (uint8_t)strlen(key);
	memcpy(k.io.key, key, k.io.key_len);
	k.io.buf = buf;
	k.io.len = len;
	k.io.done = kvw_done;
	k.io.ctx = &k;
	kv_eng_submit(ns, &W.ex, &k.io);
	if (ck_run_until(&W, kvw_is_done, &k, 20000))
		return 0xffff;
	if (vsize)
		*vsize = k.io.value_size;
	return k.io.status;
}

static void t_kv_rados(void)
{
	char err[256], spec[160], val[100] = "a value on RADOS", got[100];
	struct nvme_kv_id_ns id;
	struct nvr_ns *ns;
	uint32_t vsize = 0;
	int r;

	snprintf(spec, sizeof(spec), "kv:rados:kv/nsc%d,max_value=64K,capacity=1G,shards=4", (int)getpid());
	ns = open_spec(spec, err, sizeof(err), &r);
	if (!tap_ok(ns != NULL, "%s opens: %s", spec, err))
		return;
	tap_ok(ns->csi == NVR_CSI_KV && !ns->vwc, "KV command set; no volatile cache (RADOS acks when stable)");
	memset(&id, 0, sizeof(id));
	ns->ops->identify_csi(ns, &id);
	tap_eq(id.nsze, 1ull << 30, "KV Identify NSZE = capacity=1G");
	tap_eq(id.kvf[0].kvvml, 65536, "KVVML = max_value=64K");
	tap_eq(kv_op(ns, KVS_OP_STORE, "k1", val, sizeof(val), NULL), 0, "store through the engine interface");
	memset(got, 0, sizeof(got));
	tap_eq(kv_op(ns, KVS_OP_RETRIEVE, "k1", got, sizeof(got), &vsize), 0, "retrieve");
	tap_ok(vsize == sizeof(val) && !memcmp(got, val, sizeof(val)), "the value comes back (%u bytes)", vsize);
	tap_ok(ns->ops->flush_sync(ns) == 0 && ns->ops->idle(ns), "flush_sync 0, idle");
	ns_destroy(ns);
	snprintf(spec, sizeof(spec), "kv:rados:kv/nsc%d,kvssd-compat,capacity=64M", (int)getpid());
	ns = open_spec(spec, err, sizeof(err), &r);
	if (tap_ok(ns != NULL, "kvssd-compat opens: %s", err)) {
		tap_ok(ns->csi == NVR_CSI_NVM && ns_nlba(ns) == 64 * MiB / 512,
		       "kvssd-compat: an NVM namespace of capacity/512 blocks");
		tap_eq(kv_op(ns, KVS_OP_EXIST, "k1", NULL, 0, NULL), 0, "it sees the key stored before");
		ns_destroy(ns);
	}
	ns = open_spec("kv:rados:kv,max_value=2M", err, sizeof(err), &r);
	tap_ok(!ns && strstr(err, "max_value"), "max_value above 1 MiB refused: %s", err);
}

int main(void)
{
	const char *conf, *dir;

	if (!ck_env(&conf, &dir)) {
		printf("1..0 # SKIP no test cluster (run through tests/ceph/run.sh)\n");
		return 0;
	}
	if (ck_worker_init(&W) || !tap_ok(ck_admin_init() == 0, "admin connection"))
		return tap_done();
	tap_eq(ck_image_create("rbd", "t-ns", 64 * MiB), 0, "create t-ns (64 MiB)");
	t_rbd();
	t_kv_rados();
	ck_image_remove("rbd", "t-ns");
	ck_admin_fini();
	ck_worker_fini(&W);
	return tap_done();
}
