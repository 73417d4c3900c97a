/* SPDX-License-Identifier: MIT */
/*
 * Key Value command set (CSI 1) over NVMe/TCP: identify (reference C.4, B.4), Store /
 * Retrieve / Exist / Delete / List with their statuses (C.2, C.3), and the rule that a
 * Retrieve always gets a CapsuleResp because DW0 carries the value size (A.10, C.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec/nvme_kv.h"
#include "tap.h"
#include "tclient.h"

#define ST_MASK 0x7ff
#define KVNS 2

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

static int kv_retrieve(const char *key, void *buf, uint32_t len, uint32_t *vsize, bool *rsp)
{
	struct tc_cmd cmd;
	int st;

	tc_cmd_init(&cmd, NVME_KV_OPC_RETRIEVE, KVNS);
	kv_key(&cmd, key, strlen(key));
	cmd.sqe.cdw10 = len;
	cmd.rbuf = buf;
	cmd.rlen = len;
	st = tc_exec(&Q, &cmd);
	if (vsize)
		*vsize = cmd.cqe.dw0;
	if (rsp)
		*rsp = cmd.got_rsp;
	return st;
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

static void t_stop(void)
{
	tc_close(&Q);
	tc_close(&A);
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	static const char *const args[] = { "-l", "127.0.0.1:0", "--ns", "mem:16M", "--ns",
					    "kv:mem", "-t", "2", NULL };

	if (!tc_daemon_path())
		return tap_skip_all("nvringd not built ($NVRINGD)");
	alarm(220);
	if (tc_daemon_start(&D, args) < 0) {
		tap_run("nvringd starts with a kv:mem namespace", t_stop);
		return tap_finish();
	}
	PORT = D.ports[0];
	tap_run("session with CC.CSS 110b, I/O queue without SQ flow control", t_session);
	tap_run("KV identify: CSI 1 descriptor, NSTAT, KV format", t_identify);
	tap_run("Store/Retrieve: in-capsule, R2T, partial buffer, DW0 size, CapsuleResp",
		t_store_retrieve);
	tap_run("Exist/Delete and Key Does Not Exist (0x87)", t_exist_delete);
	tap_run("store options: must exist (0x87), must not exist (0x89)", t_store_options);
	tap_run("Invalid Key Size (0x86), Invalid Value Size (0x85)", t_bad_sizes);
	tap_run("List returns the stored keys", t_list);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
