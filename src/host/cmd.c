/* SPDX-License-Identifier: MIT */
/* Synchronous command helpers: SQE builders for admin, fabrics property, NVM and KV commands. */
#include <errno.h>
#include <string.h>

#include <nvme/types.h>

#include "internal.h"
#include "spec/nvme_kv.h"

int nvr_identify(struct nvr_queue *admin, uint8_t cns, uint8_t csi, uint32_t nsid, uint16_t cntid,
		 void *buf4k)
{
	struct nvme_sqe sqe = { .opcode = nvme_admin_identify, .nsid = nsid };

	sqe.cdw10 = cns | ((uint32_t)cntid << 16);
	sqe.cdw11 = (uint32_t)csi << 24;
	return nvr_exec(admin, &sqe, NVR_DIR_C2H, buf4k, NVME_IDENTIFY_DATA_SIZE, NULL);
}

int nvr_get_log(struct nvr_queue *admin, uint8_t lid, uint32_t nsid, uint8_t lsp, uint64_t offset,
		void *buf, uint32_t len)
{
	struct nvme_sqe sqe = { .opcode = nvme_admin_get_log_page, .nsid = nsid };
	uint32_t numd = len / 4 - 1;

	if (!len || len % 4 || offset % 4)
		return -EINVAL;
	sqe.cdw10 = lid | ((uint32_t)(lsp & 0x7f) << 8) | ((numd & 0xffff) << 16);
	sqe.cdw11 = numd >> 16;
	sqe.cdw12 = (uint32_t)offset;
	sqe.cdw13 = (uint32_t)(offset >> 32);
	return nvr_exec(admin, &sqe, NVR_DIR_C2H, buf, len, NULL);
}

int nvr_get_features(struct nvr_queue *admin, uint8_t fid, uint8_t sel, uint32_t nsid, uint32_t cdw11,
		     void *buf, uint32_t len, uint32_t *result)
{
	struct nvme_sqe sqe = { .opcode = nvme_admin_get_features, .nsid = nsid };
	struct nvr_cpl cpl = { 0 };
	int ret;

	sqe.cdw10 = fid | ((uint32_t)(sel & 7) << 8);
	sqe.cdw11 = cdw11;
	ret = nvr_exec(admin, &sqe, len ? NVR_DIR_C2H : NVR_DIR_NONE, buf, len, &cpl);
	if (result)
		*result = cpl.dw0;
	return ret;
}

int nvr_set_features(struct nvr_queue *admin, uint8_t fid, uint32_t nsid, uint32_t cdw11, uint32_t cdw12,
		     bool save, void *buf, uint32_t len, uint32_t *result)
{
	struct nvme_sqe sqe = { .opcode = nvme_admin_set_features, .nsid = nsid };
	struct nvr_cpl cpl = { 0 };
	int ret;

	sqe.cdw10 = fid | (save ? 1u << 31 : 0);
	sqe.cdw11 = cdw11;
	sqe.cdw12 = cdw12;
	ret = nvr_exec(admin, &sqe, len ? NVR_DIR_H2C : NVR_DIR_NONE, buf, len, &cpl);
	if (result)
		*result = cpl.dw0;
	return ret;
}

int nvr_prop_get(struct nvr_queue *admin, uint32_t offset, bool eight, uint64_t *value)
{
	struct nvmf_property_sqe sqe = { .opcode = NVME_FABRICS_OPCODE };
	struct nvr_cpl cpl = { 0 };
	int ret;

	sqe.fctype = nvme_fabrics_type_property_get;
	sqe.attrib = eight ? 1 : 0;
	sqe.offset = offset;
	ret = nvr_exec(admin, &sqe, NVR_DIR_NONE, NULL, 0, &cpl);
	if (!ret && value)
		*value = cpl.dw0 | (eight ? (uint64_t)cpl.dw1 << 32 : 0);
	return ret;
}

int nvr_prop_set(struct nvr_queue *admin, uint32_t offset, bool eight, uint64_t value)
{
	struct nvmf_property_sqe sqe = { .opcode = NVME_FABRICS_OPCODE };

	sqe.fctype = nvme_fabrics_type_property_set;
	sqe.attrib = eight ? 1 : 0;
	sqe.offset = offset;
	sqe.value = value;
	return nvr_exec(admin, &sqe, NVR_DIR_NONE, NULL, 0, NULL);
}

void nvr_sqe_rw(void *p, bool write, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
	struct nvme_sqe *sqe = p;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = write ? nvme_cmd_write : nvme_cmd_read;
	sqe->nsid = nsid;
	sqe->cdw10 = (uint32_t)slba;
	sqe->cdw11 = (uint32_t)(slba >> 32);
	sqe->cdw12 = (nlb - 1) & 0xffff;
}

int nvr_read(struct nvr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf, uint32_t len)
{
	struct nvme_sqe sqe;

	if (!nlb || nlb > 65536)
		return -EINVAL;
	nvr_sqe_rw(&sqe, false, nsid, slba, nlb);
	return nvr_exec(q, &sqe, NVR_DIR_C2H, buf, len, NULL);
}

int nvr_write(struct nvr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb, const void *buf, uint32_t len)
{
	struct nvme_sqe sqe;

	if (!nlb || nlb > 65536)
		return -EINVAL;
	nvr_sqe_rw(&sqe, true, nsid, slba, nlb);
	/* the library never writes into an H2C buffer */
	return nvr_exec(q, &sqe, NVR_DIR_H2C, (void *)(uintptr_t)buf, len, NULL);
}

int nvr_flush(struct nvr_queue *q, uint32_t nsid)
{
	struct nvme_sqe sqe = { .opcode = nvme_cmd_flush, .nsid = nsid };

	return nvr_exec(q, &sqe, NVR_DIR_NONE, NULL, 0, NULL);
}

int nvr_write_zeroes(struct nvr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
	struct nvme_sqe sqe;

	if (!nlb || nlb > 65536)
		return -EINVAL;
	nvr_sqe_rw(&sqe, false, nsid, slba, nlb);
	sqe.opcode = nvme_cmd_write_zeroes;
	return nvr_exec(q, &sqe, NVR_DIR_NONE, NULL, 0, NULL);
}

int nvr_dsm(struct nvr_queue *q, uint32_t nsid, uint32_t attr, void *ranges, uint32_t nr_ranges)
{
	struct nvme_sqe sqe = { .opcode = nvme_cmd_dsm, .nsid = nsid };

	if (!nr_ranges || nr_ranges > 256)
		return -EINVAL;
	sqe.cdw10 = nr_ranges - 1;
	sqe.cdw11 = attr;
	return nvr_exec(q, &sqe, NVR_DIR_H2C, ranges, nr_ranges * 16, NULL);
}

/* ---- Key Value ---- */

int nvr_sqe_kv(void *p, uint8_t opcode, uint32_t nsid, const void *key, unsigned klen, uint8_t opts,
	       uint32_t size)
{
	struct nvme_sqe *sqe = p;
	uint8_t k[NVME_KV_KEY_MAX] = { 0 };

	if (klen > NVME_KV_KEY_MAX || (klen && !key))
		return -EINVAL;
	if (klen)
		memcpy(k, key, klen);
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->nsid = nsid;
	/* key bytes 0-7 in CDW2-3, 8-15 in CDW14-15 (KV command set spec) */
	memcpy(&sqe->cdw2, k, 4);
	memcpy(&sqe->cdw3, k + 4, 4);
	memcpy(&sqe->cdw14, k + 8, 4);
	memcpy(&sqe->cdw15, k + 12, 4);
	sqe->cdw10 = size;
	sqe->cdw11 = klen | ((uint32_t)opts << 8);
	return 0;
}

static int kv_exec(struct nvr_queue *q, uint8_t opc, uint32_t nsid, const void *key, unsigned klen, uint8_t opts,
		   enum nvr_dir dir, void *buf, uint32_t len, uint32_t *dw0)
{
	struct nvme_sqe sqe;
	struct nvr_cpl cpl = { 0 };
	int ret;

	if (klen < NVME_KV_KEY_MIN && opc != NVME_KV_OPC_LIST)
		return -EINVAL;
	ret = nvr_sqe_kv(&sqe, opc, nsid, key, klen, opts, len);
	if (ret)
		return ret;
	ret = nvr_exec(q, &sqe, dir, buf, len, &cpl);
	if (dw0)
		*dw0 = cpl.dw0;
	return ret;
}

int nvr_kv_store(struct nvr_queue *q, uint32_t nsid, const void *key, unsigned klen, uint8_t opts,
		 const void *val, uint32_t vlen)
{
	return kv_exec(q, NVME_KV_OPC_STORE, nsid, key, klen, opts, vlen ? NVR_DIR_H2C : NVR_DIR_NONE,
		       (void *)(uintptr_t)val, vlen, NULL);
}

int nvr_kv_retrieve(struct nvr_queue *q, uint32_t nsid, const void *key, unsigned klen, void *buf,
		    uint32_t len, uint32_t *vsize)
{
	return kv_exec(q, NVME_KV_OPC_RETRIEVE, nsid, key, klen, 0, len ? NVR_DIR_C2H : NVR_DIR_NONE, buf,
		       len, vsize);
}

int nvr_kv_delete(struct nvr_queue *q, uint32_t nsid, const void *key, unsigned klen)
{
	return kv_exec(q, NVME_KV_OPC_DELETE, nsid, key, klen, 0, NVR_DIR_NONE, NULL, 0, NULL);
}

int nvr_kv_exist(struct nvr_queue *q, uint32_t nsid, const void *key, unsigned klen)
{
	return kv_exec(q, NVME_KV_OPC_EXIST, nsid, key, klen, 0, NVR_DIR_NONE, NULL, 0, NULL);
}

int nvr_kv_list(struct nvr_queue *q, uint32_t nsid, const void *key, unsigned klen, void *buf, uint32_t len)
{
	return kv_exec(q, NVME_KV_OPC_LIST, nsid, key, klen, 0, NVR_DIR_C2H, buf, len, NULL);
}
