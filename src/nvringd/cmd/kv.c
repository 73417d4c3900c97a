/* SPDX-License-Identifier: MIT */
/*
 * The Key Value command set (CSI 1) on a KV engine (ns/kv.h), and the Samsung KV-SSD / NVMeVirt
 * vendor opcodes on KV and kvssd-compat namespaces (reference C.1-C.3, C.7).
 *
 * Standard commands carry the key in CDW2-3 and CDW14-15 with its length in CDW11 bits 7:0;
 * the vendor ones carry it in CDW12-15 with a 0-based length. A Retrieve returns the full value
 * size in CQE DW0, so it always gets a CapsuleResp (req_complete sends one when DW0 != 0).
 */
#include <string.h>

#include <nvme/types.h>

#include "core/queue.h"
#include "ctrl.h"
#include "kv.h"
#include "kv_iter.h"
#include "kvstore/kvstore.h"
#include "ns/kv.h"
#include "nvm.h"

#define ST(sc) NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_##sc)
#define ST_DNR(sc) (ST(sc) | NVME_STATUS_DNR)
#define ST_KV(sc) (NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_KV_##sc) | NVME_STATUS_DNR)

/* KV-SSD device statuses as NVMeVirt and Samsung's devices return them (reference C.7) */
#define ST_KVSSD_KEY_NOT_EXIST (KVSSD_SC_KEY_NOT_EXIST | NVME_STATUS_DNR)
#define ST_KVSSD_CAPACITY (KVSSD_SC_CAPACITY | NVME_STATUS_DNR)

#define KV_FEAT_EDNEK 1u /* Key Value Configuration: error on delete of a non-existent key */

static bool kv_is_vendor(uint8_t opcode)
{
	return opcode >= 0x80;
}

/* The key of a command into io; 0 or Invalid Key Size. min_len 0 allows an empty key (List). */
static uint16_t kv_key_std(const struct nvme_sqe *sqe, struct kvs_io *io, unsigned min_len)
{
	uint8_t raw[16];
	unsigned kl = sqe->cdw11 & 0xff;

	if (kl < min_len || kl > NVME_KV_KEY_MAX)
		return ST_KV(INVALID_KEY_SIZE);
	memcpy(raw, &sqe->cdw2, 4);
	memcpy(raw + 4, &sqe->cdw3, 4);
	memcpy(raw + 8, &sqe->cdw14, 4);
	memcpy(raw + 12, &sqe->cdw15, 4);
	io->key_len = (uint8_t)kl;
	memcpy(io->key, raw, kl);
	return 0;
}

/* Vendor layout: CDW11 bits 7:0 = length - 1, key inline in CDW12-15 (longer keys, sent by
 * PRP in the vendor set, cannot be carried over a fabric and are refused). */
static uint16_t kv_key_vendor(const struct nvme_sqe *sqe, struct kvs_io *io)
{
	uint8_t raw[16];
	unsigned kl = (sqe->cdw11 & 0xff) + 1;

	if (kl > NVME_KV_KEY_MAX)
		return ST_KV(INVALID_KEY_SIZE);
	memcpy(raw, &sqe->cdw12, 4);
	memcpy(raw + 4, &sqe->cdw13, 4);
	memcpy(raw + 8, &sqe->cdw14, 4);
	memcpy(raw + 12, &sqe->cdw15, 4);
	io->key_len = (uint8_t)kl;
	memcpy(io->key, raw, kl);
	return 0;
}

static uint16_t kv_vendor_status(uint16_t st)
{
	switch (st & 0x7ff) {
	case NVME_SC_KV_KEY_NOT_EXIST:
		return ST_KVSSD_KEY_NOT_EXIST;
	case NVME_SC_KV_CAPACITY_EXCEEDED:
		return ST_KVSSD_CAPACITY;
	default:
		return st;
	}
}

static void kv_done(struct kvs_io *io)
{
	struct req *req = io->ctx;
	uint16_t st = io->status;
	uint32_t dw0 = 0;

	switch (io->op) {
	case KVS_OP_RETRIEVE:
		if (!st) {
			req->xfer_len = io->value_size < io->len ? io->value_size : io->len;
			dw0 = io->value_size;
			if (io->ref)
				req->buf = (void *)io->ref; /* lent: sent from the engine, no copy */
		}
		break;
	case KVS_OP_LIST:
		if (!st)
			req->xfer_len = io->value_size;
		break;
	case KVS_OP_DELETE:
		if ((st & 0x7ff) == NVME_SC_KV_KEY_NOT_EXIST && !kv_is_vendor(req->sqe.opcode) &&
		    !(req->ctrl->feat_kv & KV_FEAT_EDNEK))
			st = 0;
		break;
	default:
		break;
	}
	if (st && kv_is_vendor(req->sqe.opcode))
		st = kv_vendor_status(st);
	req_complete(req, st, dw0, 0);
}

static void kv_submit(struct req *req, enum kvs_op op, void *buf, uint32_t len)
{
	struct kvs_io *io = &req->kvio;

	io->op = op;
	io->buf = buf;
	io->len = len;
	io->by_ref = req->zero_copy && op == KVS_OP_RETRIEVE;
	io->done = kv_done;
	io->ctx = req;
	kv_eng_submit(req->ns, req_executor(req), io);
}

/* Checks that can be made before any data is solicited; 0 or a status. */
static uint16_t kv_check(struct req *req)
{
	const struct nvme_sqe *sqe = &req->sqe;
	struct kvs_io *io = &req->kvio;
	uint8_t opts;
	uint16_t st;

	memset(io, 0, sizeof(*io));
	switch (sqe->opcode) {
	case NVME_KV_OPC_STORE:
		st = kv_key_std(sqe, io, NVME_KV_KEY_MIN);
		if (st)
			return st;
		opts = (uint8_t)(sqe->cdw11 >> 8);
		if ((opts & KVS_STORE_MUST_EXIST) && (opts & KVS_STORE_MUST_NOT_EXIST))
			return ST_DNR(INVALID_FIELD);
		if (sqe->cdw10 > kv_eng_max_value(req->ns))
			return ST_KV(INVALID_VALUE_SIZE);
		if (sqe->cdw10 > req->data_len)
			return ST_DNR(SGL_INVALID_DATA);
		if (req->ns->readonly)
			return ST_DNR(NS_WRITE_PROTECTED);
		io->options = opts & (KVS_STORE_MUST_EXIST | KVS_STORE_MUST_NOT_EXIST);
		return 0;
	case NVME_KV_OPC_RETRIEVE:
	case NVME_KV_OPC_DELETE:
	case NVME_KV_OPC_EXIST:
		st = kv_key_std(sqe, io, NVME_KV_KEY_MIN);
		if (!st && sqe->opcode == NVME_KV_OPC_DELETE && req->ns->readonly)
			st = ST_DNR(NS_WRITE_PROTECTED);
		return st;
	case NVME_KV_OPC_LIST:
		return kv_key_std(sqe, io, 0);
	case KVSSD_OPC_STORE:
	case KVSSD_OPC_APPEND:
		st = kv_key_vendor(sqe, io);
		if (st)
			return st;
		/* over a fabric the SGL length is the value: CDW10 (dwords) cannot say 1..3 bytes */
		if (req->data_len > kv_eng_max_value(req->ns))
			return ST_KV(INVALID_VALUE_SIZE);
		if (req->ns->readonly)
			return ST_DNR(NS_WRITE_PROTECTED);
		return 0;
	case KVSSD_OPC_RETRIEVE:
	case KVSSD_OPC_EXIST:
		return kv_key_vendor(sqe, io);
	case KVSSD_OPC_DELETE:
		st = kv_key_vendor(sqe, io);
		if (!st && req->ns->readonly)
			st = ST_DNR(NS_WRITE_PROTECTED);
		return st;
	default:
		return 0;
	}
}

uint16_t kv_parse(struct req *req)
{
	uint16_t st;

	req->execute = kv_execute;
	if (ns_kv(req->ns)->compat && req->sqe.opcode < 0x80)
		return 0; /* the block view: checked as it executes */
	st = kv_check(req);
	/* an append reads the old value into a second buffer of one value's size */
	if (!st && req->sqe.opcode == KVSSD_OPC_APPEND)
		req->aux_need = kv_eng_max_value(req->ns);
	/* a RAM engine lends the value to the send as a RAM namespace lends its blocks, where
	 * the queue allows it (zero_copy_ok: no data digest) */
	if (!st && (req->sqe.opcode == NVME_KV_OPC_RETRIEVE || req->sqe.opcode == KVSSD_OPC_RETRIEVE))
		req->zero_copy = req->q->zero_copy_ok && ns_kv(req->ns)->lends;
	return st && kv_is_vendor(req->sqe.opcode) ? kv_vendor_status(st) : st;
}

/* Append (vendor 0x83): read the current value, then store old + new. Not atomic against a
 * concurrent store of the same key: the last writer wins, as with two stores. */
static void kv_append_read(struct kvs_io *io)
{
	struct req *req = io->ctx;
	uint32_t old = 0;
	uint16_t st = io->status;

	if ((st & 0x7ff) == NVME_SC_KV_KEY_NOT_EXIST)
		st = 0; /* appending to nothing creates the key */
	else if (!st)
		old = io->value_size;
	/* the retrieve read at most max - data_len bytes: a larger old value cannot grow */
	if (!st && (uint64_t)old + req->data_len > kv_eng_max_value(req->ns))
		st = ST_KV(INVALID_VALUE_SIZE);
	if (st) {
		req_complete(req, kv_vendor_status(st), 0, 0);
		return;
	}
	if (req->data_len) /* an empty append (no SGL data, no buffer) appends nothing */
		memcpy((uint8_t *)req->aux + old, req->buf, req->data_len);
	io->op = KVS_OP_STORE;
	io->options = 0;
	io->buf = req->aux;
	io->len = old + req->data_len;
	io->done = kv_done; /* completes as the store it now is, with vendor statuses */
	kv_eng_submit(req->ns, req_executor(req), io);
}

static void kv_append(struct req *req)
{
	struct kvs_io *io = &req->kvio;
	uint32_t max = kv_eng_max_value(req->ns);

	/* old + new must fit in one value: one buffer of max bytes holds both (kv_check
	 * refused data_len > max) */
	if (req_alloc_aux(req, max)) {
		req_complete_status(req, ST(INTERNAL));
		return;
	}
	io->op = KVS_OP_RETRIEVE;
	io->buf = req->aux;
	io->len = max - req->data_len;
	io->done = kv_append_read;
	io->ctx = req;
	kv_eng_submit(req->ns, req_executor(req), io);
}

/* kvssd-compat: the NVM side of the namespace is a read-only view that reads as zeroes. */
static void kv_compat_nvm(struct req *req)
{
	uint64_t slba;
	uint32_t nlb;
	uint16_t st;

	switch (req->sqe.opcode) {
	case nvme_cmd_read:
		st = nvm_lba_range(req, &slba, &nlb);
		if (!st)
			st = nvm_check_transfer(req, (uint64_t)nlb << req->ns->lba_shift);
		if (st) {
			req_complete_status(req, st);
			return;
		}
		memset(req->buf, 0, req->data_len);
		req->xfer_len = req->data_len;
		req_complete_status(req, 0);
		return;
	case nvme_cmd_flush:
		kv_submit(req, KVS_OP_FLUSH, NULL, 0);
		return;
	case nvme_cmd_write:
	case nvme_cmd_write_zeroes:
	case nvme_cmd_dsm:
		req_complete_status(req, ST_DNR(NS_WRITE_PROTECTED));
		return;
	default:
		req_complete_status(req, ST_DNR(INVALID_OPCODE));
	}
}

void kv_execute(struct req *req)
{
	const struct nvme_sqe *sqe = &req->sqe;
	uint16_t st;

	if (ns_kv(req->ns)->compat && sqe->opcode < 0x80) {
		kv_compat_nvm(req);
		return;
	}
	st = kv_check(req);
	if (st) {
		req_complete_status(req, kv_is_vendor(sqe->opcode) ? kv_vendor_status(st) : st);
		return;
	}
	switch (sqe->opcode) {
	case NVME_KV_OPC_FLUSH:
		kv_submit(req, KVS_OP_FLUSH, NULL, 0);
		return;
	case NVME_KV_OPC_STORE:
		kv_submit(req, KVS_OP_STORE, req->buf, sqe->cdw10);
		return;
	case NVME_KV_OPC_RETRIEVE:
		kv_submit(req, KVS_OP_RETRIEVE, req->buf, sqe->cdw10 < req->data_len ? sqe->cdw10 : req->data_len);
		return;
	case NVME_KV_OPC_LIST:
		kv_submit(req, KVS_OP_LIST, req->buf, sqe->cdw10 < req->data_len ? sqe->cdw10 : req->data_len);
		return;
	case NVME_KV_OPC_DELETE:
	case KVSSD_OPC_DELETE:
		kv_submit(req, KVS_OP_DELETE, NULL, 0);
		return;
	case NVME_KV_OPC_EXIST:
	case KVSSD_OPC_EXIST:
		kv_submit(req, KVS_OP_EXIST, NULL, 0);
		return;
	case KVSSD_OPC_STORE:
		kv_submit(req, KVS_OP_STORE, req->buf, req->data_len);
		return;
	case KVSSD_OPC_RETRIEVE:
		kv_submit(req, KVS_OP_RETRIEVE, req->buf, req->data_len);
		return;
	case KVSSD_OPC_APPEND:
		kv_append(req);
		return;
	case KVSSD_OPC_ITER_REQ:
	case KVSSD_OPC_ITER_READ:
		kv_iter_execute(req);
		return;
	default:
		req_complete_status(req, ST_DNR(INVALID_OPCODE));
	}
}
