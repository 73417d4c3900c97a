/* SPDX-License-Identifier: MIT */
/*
 * KV-SSD vendor iterators, as NVMeVirt implements them (reference C.7): an open (0xB1, option
 * 0x01) takes a 32-bit prefix (CDW12) and bitmask (CDW13) matched against a key's first four
 * bytes and returns a handle 1..16 in DW0; each read (0xB2, handle in CDW11 bits 7:0) returns
 * {u32 count; then per key u32 length, key, zero pad to 4 bytes} with DW0 = bytes written;
 * the read after the last key has been returned gets status 0x393 and no data (an error
 * status carries no data over NVMe/TCP); a close (0xB1, option 0x02) frees the handle.
 * Keys come in the engine's List order, resuming after the last key returned.
 */
#include "kv_iter.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "ns/kv.h"
#include "ctrl.h"
#include "spec/nvme_kv.h"
#include "target.h"

#define ST_DNR(sc) (NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_##sc) | NVME_STATUS_DNR)
#define LIST_ENTRY_MAX (4 + NVME_KV_KEY_MAX) /* largest List entry: u16 length + key, padded */

struct kv_iter {
	bool open;
	bool started;  /* last_key holds the last key returned */
	uint32_t prefix, mask;
	uint8_t last_len;
	uint8_t last_key[NVME_KV_KEY_MAX];
};

struct kv_iters {
	pthread_mutex_t lock;
	struct kv_iter h[KVSSD_ITER_HANDLES + 1]; /* [0] unused: 0 is not a handle */
};

struct kv_iters *kv_iters_create(void)
{
	struct kv_iters *it = calloc(1, sizeof(*it));

	if (it)
		pthread_mutex_init(&it->lock, NULL);
	return it;
}

void kv_iters_destroy(struct kv_iters *it)
{
	if (!it)
		return;
	pthread_mutex_destroy(&it->lock);
	free(it);
}

static void kv_iter_req(struct req *req, struct kv_iters *its)
{
	uint8_t handle = (uint8_t)req->sqe.cdw11, opt = (uint8_t)(req->sqe.cdw11 >> 8);
	uint32_t got = 0;
	uint16_t st = 0;

	pthread_mutex_lock(&its->lock);
	if (opt & KVSSD_ITER_OPEN) {
		for (uint32_t i = 1; i <= KVSSD_ITER_HANDLES && !got; i++) {
			if (its->h[i].open)
				continue;
			memset(&its->h[i], 0, sizeof(its->h[i]));
			its->h[i].open = true;
			its->h[i].prefix = req->sqe.cdw12;
			its->h[i].mask = req->sqe.cdw13;
			got = i;
		}
		if (!got)
			st = KVSSD_SC_ITER_NO_HANDLE | NVME_STATUS_DNR;
	} else if (opt & KVSSD_ITER_CLOSE) {
		if (handle == 0 || handle > KVSSD_ITER_HANDLES || !its->h[handle].open)
			st = ST_DNR(INVALID_FIELD);
		else
			its->h[handle].open = false;
	} else {
		st = ST_DNR(INVALID_FIELD);
	}
	pthread_mutex_unlock(&its->lock);
	req_complete(req, st, got, 0);
}

static bool kv_iter_match(const struct kv_iter *h, const uint8_t *key, unsigned len)
{
	uint8_t b[4] = { 0 };
	uint32_t v;

	memcpy(b, key, len < 4 ? len : 4);
	memcpy(&v, b, 4);
	return (v & h->mask) == (h->prefix & h->mask);
}

static void kv_iter_listed(struct kvs_io *io)
{
	struct req *req = io->ctx;
	struct kv_iters *its = ns_kv(req->ns)->iters;
	uint8_t handle = (uint8_t)req->sqe.cdw11;
	const uint8_t *in = req->aux, *p = in + 4;
	uint8_t *out = req->buf;
	uint32_t n, count = 0, off = 4, used = io->value_size;
	struct kv_iter *h;
	bool full = false;
	uint16_t st, kl;

	if (io->status) {
		req_complete_status(req, io->status);
		return;
	}
	memcpy(&n, in, 4);
	pthread_mutex_lock(&its->lock);
	h = &its->h[handle];
	for (uint32_t i = 0; i < n && h->open; i++, p += (2 + kl + 3u) & ~3u) {
		uint32_t need;

		memcpy(&kl, p, 2);
		/* the List started at the last key consumed: skip it */
		if (h->started && kl == h->last_len && !memcmp(p + 2, h->last_key, kl))
			continue;
		if (kv_iter_match(h, p + 2, kl)) {
			need = 4 + ((kl + 3u) & ~3u);
			if (off + need > req->data_len) {
				full = true;
				break;
			}
			memcpy(out + off, &(uint32_t){ kl }, 4);
			memset(out + off + 4, 0, need - 4);
			memcpy(out + off + 4, p + 2, kl);
			off += need;
			count++;
		}
		/* keys filtered out are consumed too, so a read always makes progress */
		h->started = true;
		h->last_len = (uint8_t)kl;
		memcpy(h->last_key, p + 2, kl);
	}
	/*
	 * The List stopped for room if less than one more entry was left in its buffer. The end
	 * is reported by a read that returns no key: over a fabric a status other than success
	 * carries no data (no C2HData is sent), so keys must never come with 0x393.
	 */
	st = !full && count == 0 && io->len - used >= LIST_ENTRY_MAX ?
		     KVSSD_SC_ITER_EOF | NVME_STATUS_DNR : 0;
	pthread_mutex_unlock(&its->lock);
	memcpy(out, &count, 4);
	req->xfer_len = st ? 0 : off;
	req_complete(req, st, st ? 0 : off, 0);
}

static void kv_iter_read(struct req *req, struct kv_iters *its)
{
	uint8_t handle = (uint8_t)req->sqe.cdw11;
	struct kvs_io *io = &req->kvio;
	struct kv_iter *h;

	if (req->data_len < 4 + LIST_ENTRY_MAX) {
		req_complete_status(req, ST_DNR(INVALID_FIELD));
		return;
	}
	memset(io, 0, sizeof(*io));
	pthread_mutex_lock(&its->lock);
	h = handle && handle <= KVSSD_ITER_HANDLES ? &its->h[handle] : NULL;
	if (h && h->open && h->started) {
		io->key_len = h->last_len;
		memcpy(io->key, h->last_key, h->last_len);
	}
	pthread_mutex_unlock(&its->lock);
	if (!h || !h->open) {
		req_complete_status(req, ST_DNR(INVALID_FIELD));
		return;
	}
	/* one List entry more than the output can hold: the resume key it repeats is skipped */
	if (req_alloc_aux(req, req->data_len + LIST_ENTRY_MAX)) {
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
		return;
	}
	io->op = KVS_OP_LIST;
	io->buf = req->aux;
	io->len = req->data_len + LIST_ENTRY_MAX;
	io->done = kv_iter_listed;
	io->ctx = req;
	kv_eng_submit(req->ns, req_executor(req), io);
}

void kv_iter_execute(struct req *req)
{
	if (!ns_kv(req->ns)->iters) {
		req_complete_status(req, ST_DNR(INTERNAL));
		return;
	}
	if (req->sqe.opcode == KVSSD_OPC_ITER_REQ)
		kv_iter_req(req, ns_kv(req->ns)->iters);
	else
		kv_iter_read(req, ns_kv(req->ns)->iters);
}
