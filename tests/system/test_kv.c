/* SPDX-License-Identifier: MIT */
/*
 * Key Value command set (CSI 1) over NVMe/TCP: identify (reference C.4, B.4), Store /
 * Retrieve / Exist / Delete / List with their statuses (C.2, C.3), and the rule that a
 * Retrieve always gets a CapsuleResp because DW0 carries the value size (A.10, C.2); value
 * sizes 1 B..KVVML, keys of 1 and 16 bytes, List order/truncation/start key (C.5), the Key
 * Value Configuration feature (0x20, EDNEK), Flush, and stores from 4 queues at QD 32.
 * The vendor opcodes and persistent namespaces are in test_kv_vendor.c. With $NVR_KV_RADOS=POOL
 * (tests/ceph/run.sh) every namespace is kv:rados instead of kv:mem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "spec/nvme_kv.h"
#include "tap.h"
#include "bystander.h"
#include "tclient.h"
#include "test_kv_util.h"

#define ST_MASK 0x7ff
/* on kv:mem, or on kv:rados with $NVR_KV_RADOS (test_kv_util.h) */
#define KVNS 2     /* kv:mem, 1 GiB, KVVML 1 MiB */
#define LISTNS 3   /* kv:mem for the List checks alone */
#define SMALLNS 4  /* kv:mem,max_value=64K */

static struct tc_daemon D;
static int PORT;
static struct tc_conn A, Q;
static bool SESSION_OK;
static uint32_t KVVML;

static void kv_key(struct tc_cmd *cmd, const char *key, size_t kl)
{
	uint8_t k[16] = { 0 };

	memcpy(k, key, kl > 16 ? 16 : kl);
	memcpy(&cmd->sqe.cdw2, k, 4);
	memcpy(&cmd->sqe.cdw3, k + 4, 4);
	memcpy(&cmd->sqe.cdw14, k + 8, 4);
	memcpy(&cmd->sqe.cdw15, k + 12, 4);
	cmd->sqe.cdw11 = (uint32_t)kl & 0xff;
}

static int kv_store(const char *key, size_t kl, const void *val, uint32_t len, uint8_t opts,
		    bool icd)
{
	struct tc_cmd cmd;

	tc_cmd_init(&cmd, NVME_KV_OPC_STORE, KVNS);
	kv_key(&cmd, key, kl);
	cmd.sqe.cdw11 |= (uint32_t)opts << 8;
	cmd.sqe.cdw10 = len;
	cmd.wbuf = val;
	cmd.wlen = len;
	cmd.incapsule = icd;
	return tc_exec(&Q, &cmd);
}

static int kv_retrieve_on(struct tc_conn *c, const char *key, void *buf, uint32_t len, uint32_t *vsize,
			  bool *rsp)
{
	struct tc_cmd cmd;
	int st;

	tc_cmd_init(&cmd, NVME_KV_OPC_RETRIEVE, KVNS);
	kv_key(&cmd, key, strlen(key));
	cmd.sqe.cdw10 = len;
	cmd.rbuf = buf;
	cmd.rlen = len;
	st = tc_exec(c, &cmd);
	if (vsize)
		*vsize = cmd.cqe.dw0;
	if (rsp)
		*rsp = cmd.got_rsp;
	return st;
}

static int kv_retrieve(const char *key, void *buf, uint32_t len, uint32_t *vsize, bool *rsp)
{
	return kv_retrieve_on(&Q, key, buf, len, vsize, rsp);
}

static int kv_simple(uint8_t opc, const char *key, size_t kl)
{
	struct tc_cmd cmd;

	tc_cmd_init(&cmd, opc, KVNS);
	kv_key(&cmd, key, kl);
	return tc_exec(&Q, &cmd);
}

static void t_session(void)
{
	uint64_t cap = 0;
	struct tc_connect_args ca;

	REQUIRE_EQ(tc_open(&A, PORT), 0);
	REQUIRE_EQ(tc_icreq(&A, 0, NULL), 0);
	tc_connect_args_default(&ca, 0, 0xffff);
	REQUIRE_EQ(tc_fabrics_connect(&A, &ca, NULL), 0);
	REQUIRE_EQ(tc_prop_get(&A, 0x00, true, &cap), 0);
	CHECK_EQ((cap >> 43) & 1, 1); /* CAP.CSS bit 6: I/O command sets */
	REQUIRE_EQ(tc_enable(&A, 6), 0); /* CC.CSS 110b */
	/* SQ flow control off: a Retrieve must still get its CapsuleResp */
	REQUIRE_EQ(tc_io_session(&Q, PORT, 0, A.cntlid, 1, 127, NVMF_CONNECT_DISABLE_SQFLOW), 0);
	SESSION_OK = true;
}

static void t_identify(void)
{
	uint8_t id[4096];
	struct nvme_kv_id_ns kv;
	bool csi1 = false;

	REQUIRE(SESSION_OK);
	REQUIRE_EQ(tc_identify(&A, 0x03, KVNS, 0, id), 0);
	for (unsigned off = 0; off + 4 <= 4096 && id[off]; off += 4u + id[off + 1])
		if (id[off] == 4 && id[off + 1] == 1 && id[off + 4] == NVME_CSI_KV_ID)
			csi1 = true;
	CHECK(csi1);
	REQUIRE_EQ(tc_identify(&A, 0x08, KVNS, 0, id), 0);
	CHECK_EQ(id[14] & 1, 1); /* NSTAT ready */
	REQUIRE_EQ(tc_identify(&A, 0x05, KVNS, NVME_CSI_KV_ID, id), 0);
	memcpy(&kv, id, sizeof(kv));
	CHECK(kv.nsze > 0);
	CHECK_EQ(kv.kvf[kv.kvfc & 0xf].kvkml, NVME_KV_KEY_MAX);
	KVVML = kv.kvf[kv.kvfc & 0xf].kvvml;
	CHECK(KVVML >= 4096);
	CHECK_EQ(tc_identify(&A, 0x06, 0, NVME_CSI_KV_ID, id), 0);
}

static void t_store_retrieve(void)
{
	static uint8_t v[65536], r[65536];
	uint32_t vsize = 0;
	bool rsp = false;

	REQUIRE(SESSION_OK);
	tc_fill(v, sizeof(v), 31);
	CHECK_EQ(kv_store("hello", 5, v, 1000, 0, true), 0);
	memset(r, 0, sizeof(r));
	CHECK_EQ(kv_retrieve("hello", r, 4096, &vsize, &rsp), 0);
	CHECK_EQ(vsize, 1000);
	CHECK(rsp); /* DW0 carries the size: never C2HData SUCCESS */
	CHECK_EQ(tc_memdiff(r, v, 1000), -1);
	/* a smaller host buffer gets the first bytes, DW0 still the full size */
	memset(r, 0, sizeof(r));
	CHECK_EQ(kv_retrieve("hello", r, 100, &vsize, NULL), 0);
	CHECK_EQ(vsize, 1000);
	CHECK_EQ(tc_memdiff(r, v, 100), -1);
	/* a 64 KiB value through R2T, overwriting */
	CHECK_EQ(kv_store("hello", 5, v, sizeof(v), 0, false), 0);
	CHECK_EQ(kv_retrieve("hello", r, sizeof(r), &vsize, NULL), 0);
	CHECK_EQ(vsize, sizeof(v));
	CHECK_EQ(tc_memdiff(r, v, sizeof(v)), -1);
	/* with data digests a RAM engine's value is copied into a buffer, not lent: same bytes */
	{
		struct tc_conn G;

		REQUIRE_EQ(tc_io_session(&G, PORT, 3, A.cntlid, 2, 31, 0), 0);
		CHECK(G.hdgst && G.ddgst);
		memset(r, 0, sizeof(r));
		CHECK_EQ(kv_retrieve_on(&G, "hello", r, sizeof(r), &vsize, NULL), 0);
		CHECK_EQ(vsize, sizeof(v));
		CHECK_EQ(tc_memdiff(r, v, sizeof(v)), -1);
		memset(r, 0, sizeof(r));
		CHECK_EQ(kv_retrieve_on(&G, "hello", r, 100, &vsize, NULL), 0);
		CHECK_EQ(tc_memdiff(r, v, 100), -1);
		CHECK_EQ(G.proto_errs, 0);
		tc_close(&G);
	}
	/* 16-byte keys that share their first 8 bytes are different keys */
	CHECK_EQ(kv_store("0123456789abcdef", 16, v, 64, 0, true), 0);
	CHECK_EQ(kv_store("01234567ZZZZZZZZ", 16, v + 64, 64, 0, true), 0);
	CHECK_EQ(kv_retrieve("0123456789abcdef", r, 64, &vsize, NULL), 0);
	CHECK_EQ(tc_memdiff(r, v, 64), -1);
	CHECK_EQ(kv_retrieve("01234567ZZZZZZZZ", r, 64, &vsize, NULL), 0);
	CHECK_EQ(tc_memdiff(r, v + 64, 64), -1);
	CHECK_EQ(Q.proto_errs, 0);
}

static void t_exist_delete(void)
{
	uint8_t v[16] = "value";
	uint8_t r[16];

	REQUIRE(SESSION_OK);
	CHECK_EQ(kv_store("k-del", 5, v, sizeof(v), 0, true), 0);
	CHECK_EQ(kv_simple(NVME_KV_OPC_EXIST, "k-del", 5), 0);
	CHECK_EQ(kv_simple(NVME_KV_OPC_DELETE, "k-del", 5), 0);
	/* KV Key Does Not Exist: SCT 0 SC 0x87 */
	CHECK_EQ(kv_simple(NVME_KV_OPC_EXIST, "k-del", 5) & ST_MASK, NVME_SC_KV_KEY_NOT_EXIST);
	CHECK_EQ(kv_retrieve("k-del", r, sizeof(r), NULL, NULL) & ST_MASK, NVME_SC_KV_KEY_NOT_EXIST);
	CHECK_EQ(kv_simple(NVME_KV_OPC_EXIST, "never", 5) & ST_MASK, NVME_SC_KV_KEY_NOT_EXIST);
}

static void t_store_options(void)
{
	uint8_t v[32] = { 1 }, r[32];

	REQUIRE(SESSION_OK);
	/* store only if the key exists: it does not -> 0x87 */
	CHECK_EQ(kv_store("opt", 3, v, sizeof(v), NVME_KV_STORE_OPT_MUST_EXIST, true) & ST_MASK,
		 NVME_SC_KV_KEY_NOT_EXIST);
	CHECK_EQ(kv_simple(NVME_KV_OPC_EXIST, "opt", 3) & ST_MASK, NVME_SC_KV_KEY_NOT_EXIST);
	CHECK_EQ(kv_store("opt", 3, v, sizeof(v), NVME_KV_STORE_OPT_MUST_NOT_EXIST, true), 0);
	/* store only if the key does not exist: it does -> Key Exists 0x89, value kept */
	v[0] = 2;
	CHECK_EQ(kv_store("opt", 3, v, sizeof(v), NVME_KV_STORE_OPT_MUST_NOT_EXIST, true) & ST_MASK,
		 NVME_SC_KV_KEY_EXISTS);
	CHECK_EQ(kv_retrieve("opt", r, sizeof(r), NULL, NULL), 0);
	CHECK_EQ(r[0], 1);
	CHECK_EQ(kv_store("opt", 3, v, sizeof(v), NVME_KV_STORE_OPT_MUST_EXIST, true), 0);
	CHECK_EQ(kv_retrieve("opt", r, sizeof(r), NULL, NULL), 0);
	CHECK_EQ(r[0], 2);
}

static void t_bad_sizes(void)
{
	uint8_t v[64] = { 0 };

	REQUIRE(SESSION_OK);
	/* Invalid Key Size 0x86: key length 0 and 17 */
	CHECK_EQ(kv_store("", 0, v, sizeof(v), 0, true) & ST_MASK, NVME_SC_KV_INVALID_KEY_SIZE);
	CHECK_EQ(kv_store("0123456789abcdefg", 17, v, sizeof(v), 0, true) & ST_MASK,
		 NVME_SC_KV_INVALID_KEY_SIZE);
	CHECK_EQ(kv_simple(NVME_KV_OPC_EXIST, "", 0) & ST_MASK, NVME_SC_KV_INVALID_KEY_SIZE);
	/* value size above KVVML: Invalid Value Size 0x85 (only when it fits one transfer) */
	if (KVVML && KVVML < TC_MDTS_BYTES) {
		uint8_t *big = calloc(1, KVVML + 4);

		REQUIRE(big);
		CHECK_EQ(kv_store("big", 3, big, KVVML + 4, 0, false) & ST_MASK,
			 NVME_SC_KV_INVALID_VALUE_SIZE);
		free(big);
	}
	CHECK_EQ(Q.proto_errs, 0);
}

static void t_list(void)
{
	uint8_t v[8] = { 7 }, buf[4096];
	struct tc_cmd cmd;
	uint32_t n;

	REQUIRE(SESSION_OK);
	CHECK_EQ(kv_store("list-a", 6, v, sizeof(v), 0, true), 0);
	CHECK_EQ(kv_store("list-b", 6, v, sizeof(v), 0, true), 0);
	CHECK_EQ(kv_store("list-c", 6, v, sizeof(v), 0, true), 0);
	tc_cmd_init(&cmd, NVME_KV_OPC_LIST, KVNS);
	kv_key(&cmd, "", 0); /* from the start */
	cmd.sqe.cdw10 = sizeof(buf);
	cmd.rbuf = buf;
	cmd.rlen = sizeof(buf);
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	memcpy(&n, buf, 4); /* reference C.5: u32 number of keys first */
	CHECK(n >= 3);
}

/* Store then Retrieve one value of len bytes on nsid; TAP checks; returns true if all held. */
static bool kv_round_trip(uint32_t nsid, const void *key, size_t kl, uint32_t len, uint32_t seed)
{
	uint8_t *v = malloc(len ? len : 1), *r = malloc(len + 4096);
	struct tc_cmd cmd;
	bool ok = true;

	if (!CHECK(v && r)) {
		free(v);
		free(r);
		return false;
	}
	tc_fill(v, len, seed);
	kvu_store_cmd(&cmd, nsid, key, kl, v, len, 0);
	ok &= CHECK_EQ(tc_exec(&Q, &cmd), 0);
	/* exact buffer: all of it, DW0 the size, a CapsuleResp */
	memset(r, 0xee, len + 4096);
	kvu_retrieve_cmd(&cmd, nsid, key, kl, r, len);
	ok &= CHECK_EQ(tc_exec(&Q, &cmd), 0);
	ok &= CHECK_EQ(cmd.cqe.dw0, len);
	ok &= CHECK(cmd.got_rsp && !cmd.c2h_success);
	ok &= CHECK_EQ(cmd.c2h_bytes, len);
	ok &= CHECK_EQ(tc_memdiff(r, v, len), -1);
	/* a larger buffer: only the value's bytes come back */
	if (len + 4096 <= TC_MDTS_BYTES) {
		memset(r, 0xee, len + 4096);
		kvu_retrieve_cmd(&cmd, nsid, key, kl, r, len + 4096);
		ok &= CHECK_EQ(tc_exec(&Q, &cmd), 0);
		ok &= CHECK_EQ(cmd.cqe.dw0, len);
		ok &= CHECK_EQ(cmd.c2h_bytes, len);
		ok &= CHECK_EQ(tc_memdiff(r, v, len), -1);
		ok &= CHECK_EQ(r[len], 0xee);
	}
	/* half a buffer: the first half, DW0 still the full size */
	if (len >= 2) {
		memset(r, 0xee, len);
		kvu_retrieve_cmd(&cmd, nsid, key, kl, r, len / 2);
		ok &= CHECK_EQ(tc_exec(&Q, &cmd), 0);
		ok &= CHECK_EQ(cmd.cqe.dw0, len);
		ok &= CHECK_EQ(cmd.c2h_bytes, len / 2);
		ok &= CHECK_EQ(tc_memdiff(r, v, len / 2), -1);
	}
	free(v);
	free(r);
	return ok;
}

static void t_value_sizes(void)
{
	static const uint32_t sizes[] = { 1, 4096, 65536, 1024 * 1024 };
	struct tc_cmd cmd;
	uint8_t *big;

	REQUIRE(SESSION_OK);
	REQUIRE_EQ(KVVML, 1024 * 1024);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char key[16];

		snprintf(key, sizeof(key), "size-%u", sizes[i]);
		if (!kv_round_trip(KVNS, key, strlen(key), sizes[i], 100 + i))
			tap_diag("value of %u bytes failed", sizes[i]);
	}
	/* KVVML + 1: Invalid Value Size before any data is solicited (the transfer itself
	 * cannot exceed MDTS = KVVML, so CDW10 says the size) */
	big = calloc(1, KVVML);
	REQUIRE(big);
	kvu_store_cmd(&cmd, KVNS, "too-big", 7, big, KVVML, 0);
	cmd.sqe.cdw10 = KVVML + 1;
	CHECK_EQ(tc_exec(&Q, &cmd), NVME_STATUS_DNR | NVME_SC_KV_INVALID_VALUE_SIZE);
	CHECK_EQ(cmd.n_r2t, 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_EXIST, KVNS, "too-big", 7) & KV_ST_MASK,
		 NVME_SC_KV_KEY_NOT_EXIST);
	/* CDW10 larger than the data sent is not a value we can store */
	kvu_store_cmd(&cmd, KVNS, "short", 5, big, 100, 0);
	cmd.sqe.cdw10 = 200;
	CHECK_EQ(tc_exec(&Q, &cmd) & KV_ST_MASK, 0x0f) /* SGL Data Block Length Invalid */;
	/* a zero-length value is a value */
	kvu_store_cmd(&cmd, KVNS, "empty", 5, NULL, 0, 0);
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	kvu_retrieve_cmd(&cmd, KVNS, "empty", 5, big, 64);
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	CHECK_EQ(cmd.cqe.dw0, 0);
	CHECK_EQ(cmd.c2h_bytes, 0);
	free(big);
	CHECK_EQ(Q.proto_errs, 0);
}

/* A namespace with max_value=64K reports it as KVVML and refuses 64 KiB + 1 with real data. */
static void t_small_kvvml(void)
{
	uint8_t id[4096];
	struct nvme_kv_id_ns kv;
	struct tc_cmd cmd;
	uint8_t *v;

	REQUIRE(SESSION_OK);
	REQUIRE_EQ(tc_identify(&A, 0x05, SMALLNS, NVME_CSI_KV_ID, id), 0);
	memcpy(&kv, id, sizeof(kv));
	CHECK_EQ(kv.kvf[0].kvvml, 65536);
	v = malloc(65537);
	REQUIRE(v);
	tc_fill(v, 65537, 7);
	CHECK(kv_round_trip(SMALLNS, "max", 3, 65536, 7));
	kvu_store_cmd(&cmd, SMALLNS, "max1", 4, v, 65537, 0);
	CHECK_EQ(tc_exec(&Q, &cmd), NVME_STATUS_DNR | NVME_SC_KV_INVALID_VALUE_SIZE);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_EXIST, SMALLNS, "max1", 4) & KV_ST_MASK,
		 NVME_SC_KV_KEY_NOT_EXIST);
	/* the value of "max" was not touched by the refused store either */
	CHECK(kv_round_trip(SMALLNS, "max", 3, 65536, 7));
	free(v);
}

static void t_key_sizes(void)
{
	static const uint8_t k1[1] = { 'x' }, k0[1] = { 0 };
	uint8_t k16[16], r[64];
	struct tc_cmd cmd;

	REQUIRE(SESSION_OK);
	memset(k16, 0xff, sizeof(k16));
	CHECK(kv_round_trip(KVNS, k1, 1, 33, 1));
	CHECK(kv_round_trip(KVNS, k0, 1, 34, 2)); /* a key byte of 0 is a key byte */
	CHECK(kv_round_trip(KVNS, k16, 16, 35, 3));
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_EXIST, KVNS, k1, 1), 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_EXIST, KVNS, k0, 1), 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_EXIST, KVNS, k16, 16), 0);
	/* "abc" and "abc\0" are different keys: the length is part of the key */
	CHECK_EQ(kv_store("abc", 3, "three", 5, 0, true), 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_EXIST, KVNS, "abc\0", 4) & KV_ST_MASK,
		 NVME_SC_KV_KEY_NOT_EXIST);
	CHECK_EQ(kv_store("abc\0", 4, "four!", 5, 0, true), 0);
	kvu_retrieve_cmd(&cmd, KVNS, "abc", 3, r, sizeof(r));
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	CHECK_EQ(cmd.cqe.dw0, 5);
	CHECK(!memcmp(r, "three", 5));
	kvu_retrieve_cmd(&cmd, KVNS, "abc\0", 4, r, sizeof(r));
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	CHECK(!memcmp(r, "four!", 5));
	/* delete the 1- and 16-byte keys */
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_DELETE, KVNS, k1, 1), 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_DELETE, KVNS, k16, 16), 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_EXIST, KVNS, k1, 1) & KV_ST_MASK, NVME_SC_KV_KEY_NOT_EXIST);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_EXIST, KVNS, k16, 16) & KV_ST_MASK,
		 NVME_SC_KV_KEY_NOT_EXIST);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_EXIST, KVNS, k0, 1), 0);
	/* every command with a key refuses 0 and 17 */
	kvu_retrieve_cmd(&cmd, KVNS, "", 0, r, sizeof(r));
	CHECK_EQ(tc_exec(&Q, &cmd) & KV_ST_MASK, NVME_SC_KV_INVALID_KEY_SIZE);
	kvu_retrieve_cmd(&cmd, KVNS, k16, 17, r, sizeof(r));
	CHECK_EQ(tc_exec(&Q, &cmd) & KV_ST_MASK, NVME_SC_KV_INVALID_KEY_SIZE);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_DELETE, KVNS, "", 0) & KV_ST_MASK, NVME_SC_KV_INVALID_KEY_SIZE);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_DELETE, KVNS, k16, 17) & KV_ST_MASK,
		 NVME_SC_KV_INVALID_KEY_SIZE);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_EXIST, KVNS, k16, 17) & KV_ST_MASK,
		 NVME_SC_KV_INVALID_KEY_SIZE);
}

/* EDNEK (Key Value Configuration, FID 0x20, bit 0): Delete of a missing key fails with 0x87 */
static void t_ednek(void)
{
	uint32_t dw0 = 0xdead;

	REQUIRE(SESSION_OK);
	CHECK_EQ(tc_get_features(&A, 0x20, 0, &dw0), 0);
	CHECK_EQ(dw0 & 1, 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_DELETE, KVNS, "nokey", 5), 0);
	REQUIRE_EQ(tc_set_features(&A, 0x20, 1, NULL), 0);
	CHECK_EQ(tc_get_features(&A, 0x20, 0, &dw0), 0);
	CHECK_EQ(dw0 & 1, 1);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_DELETE, KVNS, "nokey", 5),
		 NVME_STATUS_DNR | NVME_SC_KV_KEY_NOT_EXIST);
	CHECK_EQ(kv_store("yeskey", 6, "v", 1, 0, true), 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_DELETE, KVNS, "yeskey", 6), 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_DELETE, KVNS, "yeskey", 6),
		 NVME_STATUS_DNR | NVME_SC_KV_KEY_NOT_EXIST);
	REQUIRE_EQ(tc_set_features(&A, 0x20, 0, NULL), 0);
	CHECK_EQ(tc_get_features(&A, 0x20, 0, &dw0), 0);
	CHECK_EQ(dw0 & 1, 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_DELETE, KVNS, "yeskey", 6), 0);
}

static void t_flush(void)
{
	REQUIRE(SESSION_OK);
	CHECK_EQ(kv_store("flushed", 7, "v", 1, 0, true), 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_FLUSH, KVNS, NULL, 0), 0);
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_FLUSH, SMALLNS, NULL, 0), 0);
	/* Flush to every namespace (NSID FFFFFFFFh) includes the KV ones */
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_FLUSH, 0xffffffff, NULL, 0), 0);
}

/* List on LISTNS: parse {u32 count; {u16 len; key; pad to 4}...} into keys[]; returns count */
struct lkey {
	uint8_t len;
	char key[17];
};

static int kv_list(const char *start, size_t skl, uint32_t hostbuf, uint32_t sgl, struct lkey *keys,
		   int max, uint32_t *used)
{
	static uint8_t buf[65536];
	struct tc_cmd cmd;
	uint32_t n, off = 4;
	int st;

	memset(buf, 0xa5, sizeof(buf));
	tc_cmd_init(&cmd, NVME_KV_OPC_LIST, LISTNS);
	kvu_key_std(&cmd.sqe, start, skl);
	cmd.sqe.cdw10 = hostbuf;
	cmd.rbuf = buf;
	cmd.rlen = sgl;
	st = tc_exec(&Q, &cmd);
	if (st)
		return -st;
	*used = cmd.c2h_bytes;
	if (cmd.c2h_bytes < 4)
		return -1000;
	memcpy(&n, buf, 4);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t kl;

		if (off + 2 > cmd.c2h_bytes || (int)i >= max)
			return -1001;
		memcpy(&kl, buf + off, 2);
		if (kl < 1 || kl > 16 || off + 2 + kl > cmd.c2h_bytes)
			return -1002;
		keys[i].len = (uint8_t)kl;
		memcpy(keys[i].key, buf + off + 2, kl);
		keys[i].key[kl] = 0;
		for (uint32_t p = off + 2 + kl; p < ((off + 2 + kl + 3) & ~3u); p++)
			if (buf[p] != 0)
				return -1003; /* padding is zero */
		off = (off + 2 + kl + 3) & ~3u;
	}
	if (off != cmd.c2h_bytes)
		return -1004;
	return (int)n;
}

static void t_list_order(void)
{
	/* stored scrambled; byte order with the shorter of two equal prefixes first */
	static const char *const stored[] = { "m", "b", "zz", "a", "ab", "abc", "b0", "a9", "Z",
					      "0123456789abcdef", "ba" };
	static const char *const sorted[] = { "0123456789abcdef", "Z", "a", "a9", "ab", "abc", "b",
					      "b0", "ba", "m", "zz" };
	const int n = (int)(sizeof(sorted) / sizeof(sorted[0]));
	struct lkey keys[32];
	uint32_t used = 0, v = 1;
	int got;

	REQUIRE(SESSION_OK);
	for (int i = 0; i < n; i++) {
		struct tc_cmd cmd;

		kvu_store_cmd(&cmd, LISTNS, stored[i], strlen(stored[i]), &v, 4, 0);
		CHECK_EQ(tc_exec(&Q, &cmd), 0);
	}
	/* all of them, from the start (key length 0) */
	got = kv_list("", 0, 4096, 4096, keys, 32, &used);
	REQUIRE_EQ(got, n);
	for (int i = 0; i < n; i++)
		if (!CHECK(keys[i].len == strlen(sorted[i]) && !strcmp(keys[i].key, sorted[i])))
			tap_diag("entry %d: '%s', expected '%s'", i, keys[i].key, sorted[i]);
	/* 4 (count) + 20 ("0123456789abcdef") + 4 ("Z") + 4 ("a") bytes: three entries fit in 35 */
	got = kv_list("", 0, 35, 4096, keys, 32, &used);
	CHECK_EQ(got, 3);
	CHECK_EQ(used, 32);
	if (got == 3)
		CHECK(!strcmp(keys[2].key, "a"));
	/* the host buffer size is CDW10 even when the SGL offers more, and the other way round */
	CHECK_EQ(kv_list("", 0, 36, 4096, keys, 32, &used), 4);
	CHECK_EQ(kv_list("", 0, 4096, 36, keys, 32, &used), 4);
	/* a buffer with room for the count only */
	CHECK_EQ(kv_list("", 0, 4, 4096, keys, 32, &used), 0);
	CHECK_EQ(used, 4);
	/* from a start key that exists: it is included */
	got = kv_list("ab", 2, 4096, 4096, keys, 32, &used);
	CHECK_EQ(got, 7);
	if (got == 7)
		CHECK(!strcmp(keys[0].key, "ab") && !strcmp(keys[6].key, "zz"));
	/* from one that does not: the next ones */
	got = kv_list("b00", 3, 4096, 4096, keys, 32, &used);
	CHECK_EQ(got, 3);
	if (got == 3)
		CHECK(!strcmp(keys[0].key, "ba") && !strcmp(keys[1].key, "m"));
	/* past the last key: none */
	CHECK_EQ(kv_list("zzz", 3, 4096, 4096, keys, 32, &used), 0);
	/* deleted keys are gone from the list */
	CHECK_EQ(kvu_simple(&Q, NVME_KV_OPC_DELETE, LISTNS, "b0", 2), 0);
	got = kv_list("b", 1, 4096, 4096, keys, 32, &used);
	CHECK_EQ(got, 4);
	if (got == 4)
		CHECK(!strcmp(keys[1].key, "ba"));
	/* a 17-byte start key */
	CHECK_EQ(kv_list("0123456789abcdefg", 17, 4096, 4096, keys, 32, &used),
		 -(NVME_STATUS_DNR | NVME_SC_KV_INVALID_KEY_SIZE));
	/* walking a long list with a small buffer, resuming from the last key returned */
	for (int i = 0; i < 200; i++) {
		struct tc_cmd cmd;
		char k[16];

		snprintf(k, sizeof(k), "w%04d", (i * 37) % 200);
		kvu_store_cmd(&cmd, LISTNS, k, strlen(k), &v, 4, 0);
		CHECK_EQ(tc_exec(&Q, &cmd), 0);
	}
	{
		char start[17] = "w";
		int seen = 0, calls = 0;
		bool order = true;

		while (calls++ < 100) {
			got = kv_list(start, strlen(start), 4 + 5 * 8, 4096, keys, 32, &used);
			if (!CHECK(got >= 1 && got <= 5))
				break;
			for (int i = 0; i < got; i++) {
				char want[16];

				/* the first one repeats the start key, except on the first call */
				if (seen && i == 0 && !strcmp(keys[0].key, start))
					continue;
				if (keys[i].key[0] != 'w')
					break; /* "zz" follows the walk */
				snprintf(want, sizeof(want), "w%04d", seen);
				if (!strcmp(keys[i].key, want))
					seen++;
				else
					order = false;
			}
			if (seen == 200 || !order)
				break;
			strcpy(start, keys[got - 1].key);
		}
		CHECK(order);
		CHECK_EQ(seen, 200);
	}
}

/* ---- stores from 4 I/O queues at QD 32 each, then every key read back ---- */
#define CQ_QUEUES 4
#define CQ_DEPTH 32
#define CQ_KEYS 400 /* per queue */

struct cq_queue {
	struct tc_conn conn;
	unsigned qi;
	bool retrieve;
	int err;
	unsigned ok, bad;
	struct kvu_slot slots[CQ_DEPTH];
	uint8_t *bufs;
};

static uint32_t cq_len(unsigned qi, long item)
{
	/* 1 B .. 12 KiB: in-capsule and R2T values */
	return 1 + (uint32_t)((qi * 7919u + (unsigned)item * 104729u) % 12288u);
}

static void cq_key(char *k, unsigned qi, long item)
{
	snprintf(k, 17, "cq%u-%05ld", qi, item);
}

static bool cq_fill(void *arg, struct kvu_slot *s, long item)
{
	struct cq_queue *q = arg;
	uint32_t len = cq_len(q->qi, item);
	char k[17];

	if (item >= CQ_KEYS)
		return false;
	s->buf = q->bufs + (size_t)(s - q->slots) * 16384;
	cq_key(k, q->qi, item);
	if (q->retrieve) {
		memset(s->buf, 0, 16384);
		kvu_retrieve_cmd(&s->cmd, KVNS, k, strlen(k), s->buf, 16384);
	} else {
		tc_fill(s->buf, len, (uint32_t)(q->qi << 20 | (unsigned)item));
		kvu_store_cmd(&s->cmd, KVNS, k, strlen(k), s->buf, len, 0);
	}
	return true;
}

static void cq_done(void *arg, struct kvu_slot *s)
{
	struct cq_queue *q = arg;
	uint32_t len = cq_len(q->qi, s->item);
	bool good = s->cmd.status == 0;

	if (good && q->retrieve) {
		uint8_t *want = malloc(len);

		tc_fill(want, len, (uint32_t)(q->qi << 20 | (unsigned)s->item));
		good = s->cmd.cqe.dw0 == len && s->cmd.c2h_bytes == len && !memcmp(want, s->buf, len);
		free(want);
	}
	if (good)
		q->ok++;
	else if (q->bad++ < 3)
		tap_diag("queue %u item %ld: status %#x dw0 %u (want %u)", q->qi, s->item,
			 s->cmd.status, s->cmd.cqe.dw0, len);
}

static void *cq_thread(void *arg)
{
	struct cq_queue *q = arg;

	q->err = kvu_drive(&q->conn, q->slots, CQ_DEPTH, q, cq_fill, cq_done);
	return NULL;
}

static void cq_run(struct cq_queue *qs, bool retrieve)
{
	pthread_t th[CQ_QUEUES];

	for (unsigned i = 0; i < CQ_QUEUES; i++) {
		qs[i].retrieve = retrieve;
		qs[i].ok = qs[i].bad = 0;
		qs[i].err = 0;
		pthread_create(&th[i], NULL, cq_thread, &qs[i]);
	}
	for (unsigned i = 0; i < CQ_QUEUES; i++)
		pthread_join(th[i], NULL);
}

static void t_concurrent(void)
{
	static struct cq_queue qs[CQ_QUEUES];
	uint64_t t0;
	unsigned ok = 0;

	REQUIRE(SESSION_OK);
	for (unsigned i = 0; i < CQ_QUEUES; i++) {
		qs[i].qi = i;
		qs[i].bufs = malloc((size_t)CQ_DEPTH * 16384);
		REQUIRE(qs[i].bufs);
		REQUIRE_EQ(tc_io_session(&qs[i].conn, PORT, 0, A.cntlid, (uint16_t)(2 + i), 63, 0), 0);
	}
	t0 = tc_now_ms();
	cq_run(qs, false);
	for (unsigned i = 0; i < CQ_QUEUES; i++) {
		CHECK_EQ(qs[i].err, 0);
		CHECK_EQ(qs[i].ok, CQ_KEYS);
		ok += qs[i].ok;
	}
	tap_diag("%u stores from %u queues at QD %u in %llu ms", ok, CQ_QUEUES, CQ_DEPTH,
		 (unsigned long long)(tc_now_ms() - t0));
	ok = 0;
	cq_run(qs, true);
	for (unsigned i = 0; i < CQ_QUEUES; i++) {
		CHECK_EQ(qs[i].err, 0);
		CHECK_EQ(qs[i].ok, CQ_KEYS);
		CHECK_EQ(qs[i].conn.proto_errs, 0);
		ok += qs[i].ok;
		tc_close(&qs[i].conn);
		free(qs[i].bufs);
	}
	tap_diag("%u values read back and compared", ok);
}

static void t_stop(void)
{
	tc_close(&Q);
	tc_close(&A);
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	static char kvns[160], listns[160], smallns[160], title[200];
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", "mem:16M", "--ns", kvu_spec(kvns, sizeof(kvns), "kv", ""),
			       "--ns", kvu_spec(listns, sizeof(listns), "list", ",size=64M"), "--ns",
			       kvu_spec(smallns, sizeof(smallns), "small", ",size=64M,max_value=64K"), "-t", "2", NULL };
	int status;

	snprintf(title, sizeof(title), "nvringd starts with %s", kvns);
	if (!tc_suite_start(&D, args, title, &PORT, t_stop, &status))
		return status;
	tap_run("session with CC.CSS 110b, I/O queue without SQ flow control", t_session);
	tap_run("KV identify: CSI 1 descriptor, NSTAT, KV format", t_identify);
	tap_run("Store/Retrieve: in-capsule, R2T, partial buffer, DW0 size, CapsuleResp, data digests",
		t_store_retrieve);
	tap_run("Exist/Delete and Key Does Not Exist (0x87)", t_exist_delete);
	tap_run("store options: must exist (0x87), must not exist (0x89)", t_store_options);
	tap_run("Invalid Key Size (0x86), Invalid Value Size (0x85)", t_bad_sizes);
	tap_run("List returns the stored keys", t_list);
	tap_run("values of 1 B, 4 KiB, 64 KiB, 1 MiB (KVVML); KVVML + 1 is 0x85", t_value_sizes);
	tap_run("max_value=64K: KVVML 64 KiB, 64 KiB + 1 with data is 0x85", t_small_kvvml);
	tap_run("keys of 1 and 16 bytes; 0 and 17 are 0x86 for every command", t_key_sizes);
	tap_run("Key Value Configuration (0x20) EDNEK: Delete of a missing key", t_ednek);
	tap_run("Flush on KV namespaces, and to all namespaces", t_flush);
	tap_run("List: byte order, truncation, CDW10 vs SGL, start key, walk", t_list_order);
	tap_run("4 queues x QD 32 stores, every value read back", t_concurrent);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
