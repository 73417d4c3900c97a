/* SPDX-License-Identifier: MIT */
/*
 * KV List: keys >= the start key in key order (memcmp, then shorter first), as many as fit:
 * u32 LE count, then per key {u16 LE length; key; zero pad to 4 bytes} (the local engine's
 * format). Each shard's omap is sorted (hex keys sort like the bytes they encode), so List
 * reads every shard's keys from the start key on, in batches, and merges them. A shard whose
 * batch ran out while it has more is read again before anything larger than its last key is
 * emitted, so a key is never skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvr_priv.h"

struct kvr_lkey {
	uint8_t len;
	uint8_t key[KVS_KEY_MAX];
};

struct kvr_lshard {
	struct exec_completion xc;
	struct kvr_list *l;
	unsigned idx;
	rados_read_op_t rop;
	rados_omap_iter_t iter;
	unsigned char more;
	int prval, ret;
	struct kvr_lkey *keys; /* this batch, sorted */
	unsigned n, pos;
	bool done;             /* no key left past this batch */
	char after[KVR_HEX_MAX + 1]; /* start_after of the next batch */
};

struct kvr_list {
	struct kvr_op *op;
	unsigned pending; /* batches in flight (touched on the worker only) */
	int err;
	uint32_t pos, count, want; /* output bytes, keys written, keys that could still fit */
	struct kvr_lshard sh[];
};

static int kvr_unhex(const char *s, size_t n, struct kvr_lkey *k)
{
	if (n == 0 || n % 2 || n / 2 > KVS_KEY_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
			     c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;

		if (v > 15)
			return -EINVAL;
		if (i % 2)
			k->key[i / 2] = (uint8_t)(k->key[i / 2] << 4 | v);
		else
			k->key[i / 2] = (uint8_t)v;
	}
	k->len = (uint8_t)(n / 2);
	return 0;
}

static int kvr_lkey_cmp(const struct kvr_lkey *a, const struct kvr_lkey *b)
{
	int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

	return c ? c : (int)a->len - (int)b->len;
}

static void kvr_list_free(struct kvr_list *l)
{
	for (unsigned s = 0; s < l->op->kv->shards; s++) {
		if (l->sh[s].iter)
			rados_omap_get_end(l->sh[s].iter);
		if (l->sh[s].rop)
			rados_release_read_op(l->sh[s].rop);
		free(l->sh[s].keys);
	}
	free(l);
}

static void kvr_list_finish(struct kvr_list *l, uint16_t status)
{
	struct kvr_op *op = l->op;
	struct kvs_io *io = op->io;

	if (!status) {
		memcpy(io->buf, &l->count, 4);
		io->value_size = l->pos;
	}
	kvr_list_free(l);
	op->list = NULL;
	kvr_op_done(op, status);
}

static void kvr_list_step(struct kvr_list *l);

/* On the worker: one shard's batch is in; decode it, and merge once every batch is. */
static void kvr_lshard_done(struct exec_completion *c)
{
	struct kvr_lshard *sh = (struct kvr_lshard *)((char *)c - offsetof(struct kvr_lshard, xc));
	struct kvr_list *l = sh->l;
	char *k, *v;
	size_t kl, vl;

	l->pending--;
	sh->n = sh->pos = 0;
	if (sh->ret == -ENOENT) { /* no shard object: no keys */
		sh->done = true;
	} else if (sh->ret < 0 || sh->prval < 0) {
		l->err = sh->ret < 0 ? sh->ret : sh->prval;
	} else {
		while (rados_omap_get_next2(sh->iter, &k, &v, &kl, &vl) == 0 && k) {
			if (kl > KVR_HEX_MAX - 1 || kvr_unhex(k, kl, &sh->keys[sh->n]) < 0)
				continue; /* not ours */
			memcpy(sh->after, k, kl);
			sh->after[kl] = 0;
			sh->n++;
		}
		sh->done = !sh->more;
	}
	if (sh->iter)
		rados_omap_get_end(sh->iter);
	sh->iter = NULL;
	rados_release_read_op(sh->rop);
	sh->rop = NULL;
	if (!l->pending)
		kvr_list_step(l);
}

static void kvr_lshard_cb(rados_completion_t c, void *arg)
{
	struct kvr_lshard *sh = arg;

	sh->ret = rados_aio_get_return_value(c);
	rados_aio_release(c);
	executor_post(sh->l->op->ex, &sh->xc);
}

/* Ask shard sh for its next batch (keys after sh->after). */
static int kvr_lshard_fetch(struct kvr_list *l, struct kvr_lshard *sh)
{
	struct kvr *kv = l->op->kv;
	rados_completion_t c;
	char oid[32];
	uint64_t batch = l->want < KVR_LIST_BATCH ? l->want : KVR_LIST_BATCH;
	int r;

	sh->rop = rados_create_read_op();
	if (!sh->rop)
		return -ENOMEM;
	sh->more = 0;
	sh->prval = 0;
	rados_read_op_omap_get_keys2(sh->rop, sh->after, batch, &sh->iter, &sh->more, &sh->prval);
	sh->xc.fn = kvr_lshard_done;
	r = rados_aio_create_completion2(sh, kvr_lshard_cb, &c);
	if (r < 0)
		return r;
	kvr_shard_oid(sh->idx, oid, sizeof(oid));
	r = rados_aio_read_op_operate(sh->rop, kv->ioctx, c, oid, 0);
	if (r < 0) {
		rados_aio_release(c);
		return r;
	}
	l->pending++;
	return 0;
}

/* Refill every shard that ran out but has more; true when some batch is now in flight. */
static bool kvr_list_refill(struct kvr_list *l)
{
	for (unsigned s = 0; s < l->op->kv->shards; s++) {
		struct kvr_lshard *sh = &l->sh[s];

		if (sh->pos == sh->n && !sh->done && !l->err) {
			int r = kvr_lshard_fetch(l, sh);

			if (r < 0)
				l->err = r;
		}
	}
	return l->pending > 0;
}

/* Merge what is fetched until the output is full, every shard is exhausted, or a shard
 * needs its next batch. */
static void kvr_list_step(struct kvr_list *l)
{
	struct kvr_op *op = l->op;
	struct kvs_io *io = op->io;
	uint8_t *out = io->buf;

	for (;;) {
		struct kvr_lshard *min = NULL;
		uint32_t el;

		if (l->err)
			return kvr_list_finish(l, kvr_errno_status(l->err, KVS_OP_LIST));
		if (kvr_list_refill(l))
			return; /* continue when the batches are in */
		if (l->err)
			continue;
		for (unsigned s = 0; s < op->kv->shards; s++) {
			struct kvr_lshard *sh = &l->sh[s];

			if (sh->pos < sh->n &&
			    (!min || kvr_lkey_cmp(&sh->keys[sh->pos], &min->keys[min->pos]) < 0))
				min = sh;
		}
		if (!min)
			return kvr_list_finish(l, 0);
		el = (2u + min->keys[min->pos].len + 3u) & ~3u;
		if (l->pos + el > io->len)
			return kvr_list_finish(l, 0);
		{
			uint16_t kl = min->keys[min->pos].len;

			memcpy(out + l->pos, &kl, 2);
			memcpy(out + l->pos + 2, min->keys[min->pos].key, kl);
			memset(out + l->pos + 2 + kl, 0, el - 2 - kl);
		}
		l->pos += el;
		l->count++;
		l->want = l->want > 1 ? l->want - 1 : 1;
		min->pos++;
	}
}

/* The omap key just before the start key in order (start_after is exclusive): the hex with
 * its last digit lowered and '~' appended. No hex key lies between it and the start key. */
static void kvr_list_after(const struct kvs_io *io, char *out)
{
	size_t n;

	if (!io->key_len) {
		out[0] = 0;
		return;
	}
	kvr_hex(io->key, io->key_len, out);
	n = strlen(out);
	out[n - 1] = (char)(out[n - 1] - 1);
	out[n] = '~';
	out[n + 1] = 0;
}

void kvr_list_start(struct kvr *kv, struct kvr_op *op)
{
	struct kvs_io *io = op->io;
	struct kvr_list *l = calloc(1, sizeof(*l) + kv->shards * sizeof(l->sh[0]));
	uint32_t batch;

	if (!l)
		return kvr_op_done(op, kvr_errno_status(-ENOMEM, KVS_OP_LIST));
	l->op = op;
	op->list = l;
	l->pos = 4;
	l->want = (io->len - 4) / 4; /* the shortest entry is 4 bytes */
	if (!l->want) {
		l->want = 1;
		return kvr_list_finish(l, 0);
	}
	batch = l->want < KVR_LIST_BATCH ? l->want : KVR_LIST_BATCH;
	for (unsigned s = 0; s < kv->shards; s++) {
		struct kvr_lshard *sh = &l->sh[s];

		sh->l = l;
		sh->idx = s;
		kvr_list_after(io, sh->after);
		sh->keys = malloc(batch * sizeof(*sh->keys));
		if (!sh->keys) {
			l->err = -ENOMEM;
			return kvr_list_step(l);
		}
	}
	kvr_list_step(l);
}
