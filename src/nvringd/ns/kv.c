/* SPDX-License-Identifier: MIT */
/*
 * The KV namespace kinds: a KV engine presented as the NVMe Key Value command set (CSI 1),
 * or, with kvssd-compat, as an NVM namespace that takes the Samsung KV-SSD vendor opcodes and
 * whose block view is read-only and reads zeroes (as NVMeVirt presents one). The engine is
 * the local kvstore here ("kv"), or RADOS (kv_rados.c, "kv-rados"), behind kv_engine_ops.
 */
#include "kv.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "cmd/identify.h"
#include "cmd/kv.h"
#include "cmd/kv_iter.h"
#include "config/config.h"
#include "core/req.h"
#include "spec/nvme_kv.h"

#define KV_MEM_DEFAULT_SIZE (1ull << 30) /* an in-memory store given without size= */

static int kv_io_dir(const struct nvr_ns *ns, uint8_t opcode)
{
	int dir = kvssd_opcode_dir(opcode);

	(void)ns;
	/* the vendor opcodes do not follow the bits 1:0 convention; bidirectional (3) is refused */
	return dir >= 0 ? dir : opcode & 3;
}

static void kv_identify_nvm(const struct nvr_ns *ns, struct nvme_id_ns *id)
{
	identify_ns_basic(ns, id, false); /* kvssd-compat's block view */
}

static void kv_identify_csi(const struct nvr_ns *ns, void *buf)
{
	struct nvme_kv_id_ns *id = buf;
	uint64_t cap = kv_eng_capacity(ns), used = kv_eng_used(ns);

	if (used > cap)
		used = cap;
	id->nsze = htole64(cap);
	id->nuse = htole64(used);
	id->nkvf = 0;
	id->nmic = 1; /* shared */
	id->kvfc = 0; /* format 0 in use */
	if (ns->readonly)
		id->nsattr = 1;
	memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
	memcpy(id->eui64, ns->eui64, sizeof(id->eui64));
	id->kvf[0].kvkml = htole16(NVR_KV_KEY_MAX);
	id->kvf[0].kvvml = htole32(kv_eng_max_value(ns));
	id->kvf[0].mnks = 0;
}

static uint16_t kv_oncs(const struct nvr_ns *ns)
{
	(void)ns;
	return NVR_ONCS_OURS;
}

static void kv_flush_done(struct kvs_io *io)
{
	struct ns_flush *f = container_of(io, struct ns_flush, kv);

	f->done(f, io->status == 0);
}

static void kv_flush(struct nvr_ns *ns, struct executor *ex, struct ns_flush *f)
{
	memset(&f->kv, 0, sizeof(f->kv));
	f->kv.op = KVS_OP_FLUSH;
	f->kv.done = kv_flush_done;
	kv_eng_submit(ns, ex, &f->kv);
}

static int kv_flush_sync(struct nvr_ns *ns)
{
	return ns_kv(ns)->ops->flush_sync(ns_kv(ns)->eng);
}

static void kv_poll(struct nvr_ns *ns, struct executor *ex)
{
	if (ns_kv(ns)->ops->poll)
		ns_kv(ns)->ops->poll(ns_kv(ns)->eng, ex);
}

static bool kv_idle(const struct nvr_ns *ns)
{
	return ns_kv(ns)->ops->idle(ns_kv(ns)->eng);
}

static void kv_close(struct nvr_ns *ns)
{
	struct ns_kv *k = ns_kv(ns);

	if (!k)
		return;
	kv_iters_destroy(k->iters);
	if (k->eng)
		k->ops->close(k->eng);
	free(k);
	ns->priv = NULL;
}

/* A Retrieve sent from the engine's memory gives the value back once it has left. */
static void kv_release(struct req *req)
{
	struct ns_kv *k = ns_kv(req->ns);

	if (k->ops->unref)
		k->ops->unref(k->eng, &req->kvio);
}

static const struct nvr_ns_ops kv_ops = {
	.kind = "kv",
	.reservations = true,
	.io_dir = kv_io_dir,
	.parse = kv_parse,
	.identify_nvm = kv_identify_nvm,
	.identify_csi = kv_identify_csi,
	.oncs = kv_oncs,
	.flush = kv_flush,
	.flush_sync = kv_flush_sync,
	.poll = kv_poll,
	.idle = kv_idle,
	.close = kv_close,
	.release = kv_release,
};

int ns_kv_attach(struct nvr_ns *ns, const struct cfg_ns *cn, const struct kv_engine_ops *ops,
		 void *eng, bool vwc, char *err, size_t errlen)
{
	struct ns_kv *k = calloc(1, sizeof(*k));

	if (!k || !(k->iters = kv_iters_create())) {
		free(k);
		ops->close(eng);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	k->ops = ops;
	k->eng = eng;
	k->compat = cn->kvssd_compat;
	k->lends = ops->lends && ops->lends(eng);
	ns->ops = &kv_ops;
	ns->priv = k;
	ns->readonly = cn->readonly;
	/* reported as Identify VWC: hosts then send a Flush to make stores durable */
	ns->vwc = vwc;
	if (k->compat) {
		ns->csi = NVR_CSI_NVM;
		ns->lba_shift = 9;
		atomic_store(&ns->nlba, ops->capacity(eng) >> 9);
	} else {
		ns->csi = NVR_CSI_KV;
	}
	return 0;
}

/* ---- the local engine (src/kvstore) ------------------------------------------------------ */

static void kvl_submit(void *eng, struct executor *ex, struct kvs_io *io)
{
	kvs_submit(eng, ex, io);
}

static uint64_t kvl_capacity(const void *eng)
{
	return kvs_capacity(eng);
}

static uint64_t kvl_used(const void *eng)
{
	return kvs_used(eng);
}

static uint32_t kvl_max_value(const void *eng)
{
	return kvs_max_value(eng);
}

static int kvl_flush_sync(void *eng)
{
	return kvs_sync(eng);
}

static void kvl_poll(void *eng, struct executor *ex)
{
	kvs_poll(eng, ex);
}

static bool kvl_idle(const void *eng)
{
	return kvs_idle((struct kvs *)eng);
}

static void kvl_close(void *eng)
{
	kvs_close(eng);
}

static bool kvl_lends(const void *eng)
{
	return kvs_in_memory(eng);
}

static void kvl_unref(void *eng, struct kvs_io *io)
{
	(void)eng;
	kvs_io_unref(io);
}

static const struct kv_engine_ops kv_local_ops = {
	.name = "kvstore",
	.submit = kvl_submit,
	.capacity = kvl_capacity,
	.used = kvl_used,
	.max_value = kvl_max_value,
	.flush_sync = kvl_flush_sync,
	.poll = kvl_poll,
	.idle = kvl_idle,
	.close = kvl_close,
	.lends = kvl_lends,
	.unref = kvl_unref,
};

int ns_kv_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *why, size_t len)
{
	struct kvs_config kc = { .path = cn->path, .capacity = cn->size };
	struct kvs *kv;

	for (size_t i = 0; i < cn->nr_opts; i++) {
		int ret = kvs_config_opt(&kc, cn->opts[i].key, cn->opts[i].val, why, len);

		/* options of the namespace itself (nsid, uuid, kvssd-compat, ...) are not the engine's */
		if (ret && ret != -ENOENT)
			return -EINVAL;
	}
	if (!kc.path && !kc.capacity)
		kc.capacity = KV_MEM_DEFAULT_SIZE;
	if (kc.max_value > NVR_MDTS_BYTES) {
		snprintf(why, len, "max_value %u is above the largest transfer (%u bytes)", kc.max_value,
			 NVR_MDTS_BYTES);
		return -EINVAL;
	}
	if (kvs_open(&kv, &kc, why, len))
		return -EINVAL;
	return ns_kv_attach(ns, cn, &kv_local_ops, kv, kc.volatile_cache, why, len);
}
