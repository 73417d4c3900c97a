/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the KV system tests (test_kv*.c): KV commands in the standard layout
 * (key in CDW2-3/14-15, length in CDW11 7:0, reference C.2) and the Samsung KV-SSD vendor
 * layout (key in CDW12-15, 0-based length in CDW11 7:0, value dwords in CDW10, C.7), and
 * a queue-depth driver that keeps a queue full from one thread.
 */
#ifndef NVRING_TESTS_TEST_KV_UTIL_H
#define NVRING_TESTS_TEST_KV_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spec/nvme_kv.h"
#include "tclient.h"

#define KV_ST_MASK 0x7ff /* SCT + SC, without DNR/More */

static inline void kvu_key_std(struct nvme_sqe *sqe, const void *key, size_t kl)
{
	uint8_t k[16] = { 0 };

	memcpy(k, key, kl > 16 ? 16 : kl);
	memcpy(&sqe->cdw2, k, 4);
	memcpy(&sqe->cdw3, k + 4, 4);
	memcpy(&sqe->cdw14, k + 8, 4);
	memcpy(&sqe->cdw15, k + 12, 4);
	sqe->cdw11 = (sqe->cdw11 & ~0xffu) | ((uint32_t)kl & 0xff);
}

/* kl 1..17: a 17-byte key is sent with length 16 (0-based) and its first 16 bytes */
static inline void kvu_key_vendor(struct nvme_sqe *sqe, const void *key, size_t kl)
{
	uint8_t k[16] = { 0 };

	memcpy(k, key, kl > 16 ? 16 : kl);
	memcpy(&sqe->cdw12, k, 4);
	memcpy(&sqe->cdw13, k + 4, 4);
	memcpy(&sqe->cdw14, k + 8, 4);
	memcpy(&sqe->cdw15, k + 12, 4);
	sqe->cdw11 = (sqe->cdw11 & ~0xffu) | ((uint32_t)(kl - 1) & 0xff);
}

/*
 * The engine under test. Default: the local engine in RAM ("kv:mem"). With $NVR_KV_RADOS=POOL
 * (tests/ceph/run.sh sets it): KV on RADOS, each namespace in a RADOS namespace of its own,
 * fresh for every run, so a test starts on an empty store as it does with kv:mem.
 */
static inline const char *kvu_rados_pool(void)
{
	const char *p = getenv("NVR_KV_RADOS");

	return p && *p ? p : NULL;
}

/* "kv:mem" + opts, or "kv:rados:POOL/t<pid>-<time>-<tag>" + opts. opts is "" or ",a=b,...". */
static inline const char *kvu_spec(char *buf, size_t len, const char *tag, const char *opts)
{
	const char *pool = kvu_rados_pool();

	if (pool)
		snprintf(buf, len, "kv:rados:%s/t%d-%lx-%s%s", pool, (int)getpid(), (long)time(NULL), tag, opts);
	else
		snprintf(buf, len, "kv:mem%s", opts);
	return buf;
}

/* Standard Store (0x01): CDW10 value size, options in CDW11 15:8. */
static inline void kvu_store_cmd(struct tc_cmd *cmd, uint32_t nsid, const void *key, size_t kl,
				 const void *val, uint32_t len, uint8_t opts)
{
	tc_cmd_init(cmd, NVME_KV_OPC_STORE, nsid);
	kvu_key_std(&cmd->sqe, key, kl);
	cmd->sqe.cdw11 |= (uint32_t)opts << 8;
	cmd->sqe.cdw10 = len;
	cmd->wbuf = val;
	cmd->wlen = len;
	cmd->incapsule = len <= TC_ICD_IO;
}

/* Standard Retrieve (0x02): CDW10 host buffer size. */
static inline void kvu_retrieve_cmd(struct tc_cmd *cmd, uint32_t nsid, const void *key, size_t kl,
				    void *buf, uint32_t len)
{
	tc_cmd_init(cmd, NVME_KV_OPC_RETRIEVE, nsid);
	kvu_key_std(&cmd->sqe, key, kl);
	cmd->sqe.cdw10 = len;
	cmd->rbuf = buf;
	cmd->rlen = len;
}

/* Vendor store (0x81) / append (0x83): CDW10 value length in dwords, data = the value. */
static inline void kvu_vstore_cmd(struct tc_cmd *cmd, uint8_t opc, uint32_t nsid, const void *key,
				  size_t kl, const void *val, uint32_t len)
{
	tc_cmd_init(cmd, opc, nsid);
	kvu_key_vendor(&cmd->sqe, key, kl);
	cmd->sqe.cdw10 = (len + 3) / 4;
	cmd->wbuf = val;
	cmd->wlen = len;
	cmd->incapsule = len <= TC_ICD_IO;
}

/* Vendor retrieve (0x90): CDW10 buffer length in dwords. */
static inline void kvu_vretrieve_cmd(struct tc_cmd *cmd, uint32_t nsid, const void *key, size_t kl,
				     void *buf, uint32_t len)
{
	tc_cmd_init(cmd, KVSSD_OPC_RETRIEVE, nsid);
	kvu_key_vendor(&cmd->sqe, key, kl);
	cmd->sqe.cdw10 = (len + 3) / 4;
	cmd->rbuf = buf;
	cmd->rlen = len;
}

/* A command without data: Exist/Delete (standard or vendor layout) and Flush. */
static inline int kvu_simple(struct tc_conn *q, uint8_t opc, uint32_t nsid, const void *key, size_t kl)
{
	struct tc_cmd cmd;

	tc_cmd_init(&cmd, opc, nsid);
	if (opc >= 0x80)
		kvu_key_vendor(&cmd.sqe, key, kl);
	else if (kl)
		kvu_key_std(&cmd.sqe, key, kl);
	return tc_exec(q, &cmd);
}

/*
 * Keep up to depth commands in flight on one queue: fill(slot, i) prepares command i in the
 * slot (returns false when there is no more work), done(slot, i) sees it completed. Returns 0,
 * or the negative errno that stopped the queue (commands still in flight are abandoned).
 */
struct kvu_slot {
	struct tc_cmd cmd;
	uint8_t *buf;
	long item; /* -1: free */
};

typedef bool (*kvu_fill_fn)(void *arg, struct kvu_slot *s, long item);
typedef void (*kvu_done_fn)(void *arg, struct kvu_slot *s);

static inline int kvu_drive(struct tc_conn *q, struct kvu_slot *slots, unsigned depth, void *arg,
			    kvu_fill_fn fill, kvu_done_fn done)
{
	long next = 0;
	unsigned busy = 0;
	bool more = true;
	int r;

	for (unsigned i = 0; i < depth; i++)
		slots[i].item = -1;
	for (;;) {
		for (unsigned i = 0; i < depth && more; i++) {
			if (slots[i].item >= 0)
				continue;
			if (!fill(arg, &slots[i], next)) {
				more = false;
				break;
			}
			slots[i].item = next++;
			r = tc_submit(q, &slots[i].cmd);
			if (r < 0)
				return r;
			busy++;
		}
		if (!busy)
			return 0;
		r = tc_poll(q);
		if (r < 0)
			return r;
		for (unsigned i = 0; i < depth; i++) {
			if (slots[i].item < 0 || !slots[i].cmd.done)
				continue;
			done(arg, &slots[i]);
			slots[i].item = -1;
			busy--;
		}
	}
}

#endif
