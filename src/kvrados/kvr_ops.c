/* SPDX-License-Identifier: MIT */
/*
 * The KV commands as single RADOS operations on the key's shard object:
 * - Store: [omap_cmp key > "" (must exist)] [omap_cmp key == "" (must not exist)] omap_set,
 *   one atomic write op; a failed compare cancels it (-ECANCELED) and its step says which.
 * - Retrieve: omap_get_vals_by_keys; the value is copied (partly, if the buffer is smaller)
 *   on the worker, value_size is the full size.
 * - Delete: omap_cmp key > "" then omap_rm_keys. Exist: a read op with that compare.
 * Values are stored behind a one-byte tag, so "" (what a missing key compares as) is never a
 * stored value, and an empty value is still a present key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "kvr_priv.h"

#define ST_DNR(sc) ((uint16_t)(NVME_STATUS(NVME_SCT_GENERIC, (sc)) | NVME_STATUS_DNR))
#define ST_RETRY(sc) ((uint16_t)NVME_STATUS(NVME_SCT_GENERIC, (sc)))

void kvr_hex(const uint8_t *key, unsigned len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < len; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 15];
	}
	out[2 * len] = 0;
}

unsigned kvr_shard_of(const struct kvr *kv, const uint8_t *key, unsigned len)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a: stable across versions and machines */

	for (unsigned i = 0; i < len; i++)
		h = (h ^ key[i]) * 1099511628211ull;
	return (unsigned)(h % kv->shards);
}

void kvr_shard_oid(unsigned shard, char *out, size_t len)
{
	snprintf(out, len, KVR_SHARD_FMT, shard);
}

uint16_t kvr_errno_status(int r, enum kvs_op op)
{
	switch (-r) {
	case 0:
		return 0;
	case ENOSPC:
	case EDQUOT:
		return ST_DNR(NVME_SC_KV_CAPACITY_EXCEEDED);
	case EPERM:
	case EACCES: /* the key's caps: fixing them is not the host's retry */
		return op == KVS_OP_STORE || op == KVS_OP_DELETE ?
			       ST_DNR(NVME_SC_NS_WRITE_PROTECTED) : ST_DNR(NVME_SC_INTERNAL);
	case ETIMEDOUT: /* op_timeout: the cluster did not answer; it may come back */
		return ST_RETRY(NVME_SC_NS_NOT_READY);
	case ENOMEM:
		return ST_RETRY(NVME_SC_INTERNAL);
	default: /* a blocklisted client, an OSD error: retryable */
		return ST_RETRY(NVME_SC_INTERNAL);
	}
}

void kvr_finish(struct kvr *kv, struct kvs_io *io, uint16_t status)
{
	(void)kv;
	io->status = status;
	io->done(io);
}

static void kvr_op_free(struct kvr_op *op)
{
	if (op->iter)
		rados_omap_get_end(op->iter);
	if (op->wop)
		rados_release_write_op(op->wop);
	if (op->rop)
		rados_release_read_op(op->rop);
	free(op);
}

void kvr_op_done(struct kvr_op *op, uint16_t status)
{
	struct kvr *kv = op->kv;
	struct kvs_io *io = op->io;

	executor_foreign_end(op->ex);
	kvr_op_free(op);
	atomic_fetch_sub_explicit(&kv->inflight, 1, memory_order_release);
	kvr_finish(kv, io, status);
}

static void kvr_cb(rados_completion_t c, void *arg)
{
	struct kvr_op *op = arg;

	op->ret = rados_aio_get_return_value(c);
	rados_aio_release(c);
	executor_post(op->ex, &op->xc);
}

static int kvr_aio(struct kvr_op *op, void (*fn)(struct exec_completion *c))
{
	rados_completion_t c;
	int r;

	op->xc.fn = fn;
	r = rados_aio_create_completion2(op, kvr_cb, &c);
	if (r < 0)
		return r;
	r = op->wop ? rados_aio_write_op_operate(op->wop, op->kv->ioctx, c, op->oid, NULL, 0) :
		      rados_aio_read_op_operate(op->rop, op->kv->ioctx, c, op->oid, 0);
	if (r < 0)
		rados_aio_release(c);
	return r;
}

#define op_of(c) ((struct kvr_op *)((char *)(c) - offsetof(struct kvr_op, xc)))

static void kvr_store_done(struct exec_completion *c)
{
	struct kvr_op *op = op_of(c);
	uint16_t st = 0;

	if (op->ret == -ECANCELED && op->prv_exist == -ECANCELED)
		st = ST_DNR(NVME_SC_KV_KEY_NOT_EXIST);
	else if (op->ret == -ECANCELED && op->prv_absent == -ECANCELED)
		st = ST_DNR(NVME_SC_KV_KEY_EXISTS);
	else if (op->ret < 0)
		st = kvr_errno_status(op->ret, KVS_OP_STORE);
	kvr_op_done(op, st);
}

static int kvr_store(struct kvr *kv, struct kvr_op *op)
{
	struct kvs_io *io = op->io;
	size_t klen = strlen(op->hex), vlen = (size_t)io->len + 1;
	const char *k = op->hex;
	char *val = malloc(vlen);
	const char *v = val;

	if (!val)
		return -ENOMEM;
	if (io->len > kv->max_value) {
		free(val);
		return -EMSGSIZE;
	}
	val[0] = KVR_VALUE_TAG;
	if (io->len)
		memcpy(val + 1, io->buf, io->len);
	op->wop = rados_create_write_op();
	if (!op->wop) {
		free(val);
		return -ENOMEM;
	}
	/* the shard object may not exist yet: the compares need it */
	rados_write_op_create(op->wop, LIBRADOS_CREATE_IDEMPOTENT, NULL);
	if (io->options & KVS_STORE_MUST_EXIST)
		rados_write_op_omap_cmp2(op->wop, k, LIBRADOS_CMPXATTR_OP_GT, "", klen, 0,
					 &op->prv_exist);
	if (io->options & KVS_STORE_MUST_NOT_EXIST)
		rados_write_op_omap_cmp2(op->wop, k, LIBRADOS_CMPXATTR_OP_EQ, "", klen, 0,
					 &op->prv_absent);
	rados_write_op_omap_set2(op->wop, &k, &v, &klen, &vlen, 1);
	free(val); /* omap_set encodes (copies) the value into the op */
	return kvr_aio(op, kvr_store_done);
}

static void kvr_retrieve_done(struct exec_completion *c)
{
	struct kvr_op *op = op_of(c);
	struct kvs_io *io = op->io;
	char *key = NULL, *val = NULL;
	size_t kl = 0, vl = 0;
	uint32_t n;

	if (op->ret == -ENOENT) /* the shard has never held a key */
		return kvr_op_done(op, ST_DNR(NVME_SC_KV_KEY_NOT_EXIST));
	if (op->ret < 0 || op->prv_read < 0)
		return kvr_op_done(op, kvr_errno_status(op->ret < 0 ? op->ret : op->prv_read,
							KVS_OP_RETRIEVE));
	if (rados_omap_get_next2(op->iter, &key, &val, &kl, &vl) < 0 || !key)
		return kvr_op_done(op, ST_DNR(NVME_SC_KV_KEY_NOT_EXIST));
	if (vl < 1 || val[0] != KVR_VALUE_TAG) /* not a value this engine wrote */
		return kvr_op_done(op, ST_DNR(NVME_SC_KV_UNRECOVERED));
	io->value_size = (uint32_t)(vl - 1);
	n = io->len < io->value_size ? io->len : io->value_size;
	if (n)
		memcpy(io->buf, val + 1, n);
	kvr_op_done(op, 0);
}

static int kvr_retrieve(struct kvr_op *op)
{
	size_t klen = strlen(op->hex);
	const char *k = op->hex;

	if (op->io->len && !op->io->buf)
		return -EINVAL;
	op->rop = rados_create_read_op();
	if (!op->rop)
		return -ENOMEM;
	rados_read_op_omap_get_vals_by_keys2(op->rop, &k, 1, &klen, &op->iter, &op->prv_read);
	return kvr_aio(op, kvr_retrieve_done);
}

/* Delete and Exist: the compare failing (or no shard object yet) means no such key. */
static void kvr_cmp_done(struct exec_completion *c)
{
	struct kvr_op *op = op_of(c);

	if (op->ret == -ECANCELED || op->ret == -ENOENT)
		return kvr_op_done(op, ST_DNR(NVME_SC_KV_KEY_NOT_EXIST));
	kvr_op_done(op, op->ret < 0 ? kvr_errno_status(op->ret, op->io->op) : 0);
}

static int kvr_delete(struct kvr_op *op)
{
	size_t klen = strlen(op->hex);
	const char *k = op->hex;

	op->wop = rados_create_write_op();
	if (!op->wop)
		return -ENOMEM;
	rados_write_op_omap_cmp2(op->wop, k, LIBRADOS_CMPXATTR_OP_GT, "", klen, 0, &op->prv_exist);
	rados_write_op_omap_rm_keys2(op->wop, &k, &klen, 1);
	return kvr_aio(op, kvr_cmp_done);
}

static int kvr_exist(struct kvr_op *op)
{
	op->rop = rados_create_read_op();
	if (!op->rop)
		return -ENOMEM;
	rados_read_op_omap_cmp2(op->rop, op->hex, LIBRADOS_CMPXATTR_OP_GT, "", strlen(op->hex), 0,
				&op->prv_exist);
	return kvr_aio(op, kvr_cmp_done);
}

static bool kvr_key_ok(const struct kvs_io *io, unsigned min)
{
	return io->key_len >= min && io->key_len <= KVS_KEY_MAX;
}

void kvr_submit(struct kvr *kv, struct executor *ex, struct kvs_io *io)
{
	struct kvr_op *op;
	int r;

	io->status = 0;
	io->value_size = 0;
	if (io->op == KVS_OP_FLUSH) /* a completed store is on every replica already */
		return kvr_finish(kv, io, 0);
	if (io->op > KVS_OP_FLUSH)
		return kvr_finish(kv, io, ST_DNR(NVME_SC_INVALID_OPCODE));
	if (!kvr_key_ok(io, io->op == KVS_OP_LIST ? 0 : NVME_KV_KEY_MIN))
		return kvr_finish(kv, io, ST_DNR(NVME_SC_KV_INVALID_KEY_SIZE));
	if (io->op == KVS_OP_STORE && (io->len > kv->max_value || (io->len && !io->buf)))
		return kvr_finish(kv, io, ST_DNR(NVME_SC_KV_INVALID_VALUE_SIZE));
	if (io->op == KVS_OP_LIST && (io->len < 4 || !io->buf))
		return kvr_finish(kv, io, 0); /* nothing fits: an empty answer */
	op = calloc(1, sizeof(*op));
	if (!op)
		return kvr_finish(kv, io, ST_RETRY(NVME_SC_INTERNAL));
	op->kv = kv;
	op->io = io;
	op->ex = ex;
	kvr_hex(io->key, io->key_len, op->hex);
	kvr_shard_oid(kvr_shard_of(kv, io->key, io->key_len), op->oid, sizeof(op->oid));
	atomic_fetch_add_explicit(&kv->inflight, 1, memory_order_relaxed);
	executor_foreign_begin(ex);
	switch (io->op) {
	case KVS_OP_STORE:
		r = kvr_store(kv, op);
		break;
	case KVS_OP_RETRIEVE:
		r = kvr_retrieve(op);
		break;
	case KVS_OP_DELETE:
		r = kvr_delete(op);
		break;
	case KVS_OP_EXIST:
		r = kvr_exist(op);
		break;
	case KVS_OP_LIST:
		kvr_list_start(kv, op);
		return;
	default:
		r = -EINVAL;
	}
	if (r < 0) /* nothing was queued: complete here */
		kvr_op_done(op, r == -EINVAL ? ST_DNR(NVME_SC_INVALID_FIELD) :
				r == -EMSGSIZE ? ST_DNR(NVME_SC_KV_INVALID_VALUE_SIZE) :
				kvr_errno_status(r, io->op));
}
