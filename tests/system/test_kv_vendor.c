/* SPDX-License-Identifier: MIT */
/*
 * Samsung KV-SSD / NVMeVirt vendor opcodes (reference C.7) on a KV namespace and on a
 * kvssd-compat one: store 0x81, retrieve 0x90, exist 0xB3, delete 0xA1, append 0x83,
 * iterators 0xB1/0xB2 with prefix filtering, statuses 0x310 / 0x312 / 0x393; the NVM view of
 * a kvssd-compat namespace (C.8: an NVM namespace that reads zeroes and refuses writes);
 * capacity exceeded; and a persistent kv:FILE namespace across a restart, with a corrupt or
 * too small file refused at start (exit 2, a message naming the file).
 * With $NVR_KV_RADOS=POOL (tests/ceph/run.sh) the same on kv:rados namespaces: the restart
 * follows a SIGKILL, and the refusals are a missing pool and cephx clients without access.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvme/types.h>

#include "spec/nvme_kv.h"
#include "tap.h"
#include "bystander.h"
#include "tclient.h"
#include "test_kv_util.h"

#define KVNS 1     /* kv:mem */
#define COMPATNS 2 /* kv:mem,kvssd-compat */
#define TINYNS 3   /* kv:mem, 1 MiB of 64 KiB segments, max_value 16K */
#define NSCAP (64ull << 20)

#define ST_KEY_NOT_EXIST (NVME_STATUS_DNR | KVSSD_SC_KEY_NOT_EXIST)
#define ST_ITER_EOF (NVME_STATUS_DNR | KVSSD_SC_ITER_EOF)

static struct tc_daemon D;
static int PORT;
static struct tc_conn A, Q;
static bool SESSION_OK;
static char PATH[96];

static int vstore(uint8_t opc, uint32_t nsid, const void *key, size_t kl, const void *val, uint32_t len)
{
	struct tc_cmd cmd;

	kvu_vstore_cmd(&cmd, opc, nsid, key, kl, val, len);
	return tc_exec(&Q, &cmd);
}

/* vendor retrieve into buf (len bytes); *dw0 = CQE DW0, *got = bytes transferred */
static int vretrieve(uint32_t nsid, const void *key, size_t kl, void *buf, uint32_t len, uint32_t *dw0,
		     uint32_t *got)
{
	struct tc_cmd cmd;
	int st;

	kvu_vretrieve_cmd(&cmd, nsid, key, kl, buf, len);
	st = tc_exec(&Q, &cmd);
	if (dw0)
		*dw0 = cmd.cqe.dw0;
	if (got)
		*got = cmd.c2h_bytes;
	return st;
}

static void t_session(void)
{
	struct tc_connect_args ca;

	REQUIRE_EQ(tc_open(&A, PORT), 0);
	REQUIRE_EQ(tc_icreq(&A, 0, NULL), 0);
	tc_connect_args_default(&ca, 0, 0xffff);
	REQUIRE_EQ(tc_fabrics_connect(&A, &ca, NULL), 0);
	REQUIRE_EQ(tc_enable(&A, 6), 0);
	REQUIRE_EQ(tc_io_session(&Q, PORT, 0, A.cntlid, 1, 127, 0), 0);
	SESSION_OK = true;
}

static void vendor_ops(uint32_t nsid)
{
	static uint8_t v[20000], r[20000 + 64];
	uint32_t dw0 = 0, got = 0;
	uint8_t k17[17];

	REQUIRE(SESSION_OK);
	tc_fill(v, sizeof(v), nsid);
	/* in-capsule: CDW10 in dwords, the SGL length is the value */
	CHECK_EQ(vstore(KVSSD_OPC_STORE, nsid, "vkey", 4, v, 100), 0);
	memset(r, 0, sizeof(r));
	CHECK_EQ(vretrieve(nsid, "vkey", 4, r, 4096, &dw0, &got), 0);
	CHECK_EQ(dw0, 100);
	CHECK_EQ(got, 100);
	CHECK_EQ(tc_memdiff(r, v, 100), -1);
	/* a length that is not a multiple of 4 comes back exactly */
	CHECK_EQ(vstore(KVSSD_OPC_STORE, nsid, "odd", 3, v + 1, 7), 0);
	CHECK_EQ(vretrieve(nsid, "odd", 3, r, 64, &dw0, &got), 0);
	CHECK_EQ(dw0, 7);
	CHECK_EQ(got, 7);
	CHECK_EQ(tc_memdiff(r, v + 1, 7), -1);
	/* through R2T, a 16-byte key */
	CHECK_EQ(vstore(KVSSD_OPC_STORE, nsid, "0123456789ABCDEF", 16, v, sizeof(v)), 0);
	memset(r, 0, sizeof(r));
	CHECK_EQ(vretrieve(nsid, "0123456789ABCDEF", 16, r, sizeof(r), &dw0, &got), 0);
	CHECK_EQ(dw0, sizeof(v));
	CHECK_EQ(got, sizeof(v));
	CHECK_EQ(tc_memdiff(r, v, sizeof(v)), -1);
	/* a smaller buffer: partial data, DW0 the full size */
	memset(r, 0, sizeof(r));
	CHECK_EQ(vretrieve(nsid, "0123456789ABCDEF", 16, r, 64, &dw0, &got), 0);
	CHECK_EQ(dw0, sizeof(v));
	CHECK_EQ(got, 64);
	CHECK_EQ(tc_memdiff(r, v, 64), -1);
	/* exist, delete: the vendor statuses */
	CHECK_EQ(kvu_simple(&Q, KVSSD_OPC_EXIST, nsid, "vkey", 4), 0);
	CHECK_EQ(kvu_simple(&Q, KVSSD_OPC_EXIST, nsid, "nope", 4), ST_KEY_NOT_EXIST);
	CHECK_EQ(vretrieve(nsid, "nope", 4, r, 64, NULL, NULL), ST_KEY_NOT_EXIST);
	CHECK_EQ(kvu_simple(&Q, KVSSD_OPC_DELETE, nsid, "vkey", 4), 0);
	CHECK_EQ(kvu_simple(&Q, KVSSD_OPC_EXIST, nsid, "vkey", 4), ST_KEY_NOT_EXIST);
	CHECK_EQ(vretrieve(nsid, "vkey", 4, r, 64, NULL, NULL), ST_KEY_NOT_EXIST);
	/* a vendor delete of a missing key fails (no EDNEK switch in the vendor set) */
	CHECK_EQ(kvu_simple(&Q, KVSSD_OPC_DELETE, nsid, "vkey", 4), ST_KEY_NOT_EXIST);
	/* append: to nothing creates the key, then concatenates */
	CHECK_EQ(vstore(KVSSD_OPC_APPEND, nsid, "app", 3, v, 10), 0);
	CHECK_EQ(vstore(KVSSD_OPC_APPEND, nsid, "app", 3, v + 10, 9000), 0);
	CHECK_EQ(vstore(KVSSD_OPC_APPEND, nsid, "app", 3, v + 9010, 3), 0);
	memset(r, 0, sizeof(r));
	CHECK_EQ(vretrieve(nsid, "app", 3, r, sizeof(r), &dw0, &got), 0);
	CHECK_EQ(dw0, 9013);
	CHECK_EQ(got, 9013);
	CHECK_EQ(tc_memdiff(r, v, 9013), -1);
	/* an empty append (SGL length 0, no data): the value stays as it was; to a missing key it
	 * creates an empty value */
	CHECK_EQ(vstore(KVSSD_OPC_APPEND, nsid, "app", 3, v, 0), 0);
	memset(r, 0, sizeof(r));
	CHECK_EQ(vretrieve(nsid, "app", 3, r, sizeof(r), &dw0, &got), 0);
	CHECK_EQ(dw0, 9013);
	CHECK_EQ(tc_memdiff(r, v, 9013), -1);
	CHECK_EQ(vstore(KVSSD_OPC_APPEND, nsid, "app0", 4, v, 0), 0);
	CHECK_EQ(vretrieve(nsid, "app0", 4, r, 64, &dw0, &got), 0);
	CHECK_EQ(dw0, 0);
	CHECK_EQ(got, 0);
	/* a 17-byte key (CDW11 = 16): Invalid Key Size, the generic status */
	memset(k17, 'k', sizeof(k17));
	CHECK_EQ(vstore(KVSSD_OPC_STORE, nsid, k17, 17, v, 8), NVME_STATUS_DNR | NVME_SC_KV_INVALID_KEY_SIZE);
	CHECK_EQ(vstore(KVSSD_OPC_STORE, nsid, k17, 17, v, 9000), NVME_STATUS_DNR | NVME_SC_KV_INVALID_KEY_SIZE);
	CHECK_EQ(vretrieve(nsid, k17, 17, r, 64, NULL, NULL), NVME_STATUS_DNR | NVME_SC_KV_INVALID_KEY_SIZE);
	CHECK_EQ(kvu_simple(&Q, KVSSD_OPC_EXIST, nsid, k17, 17), NVME_STATUS_DNR | NVME_SC_KV_INVALID_KEY_SIZE);
	CHECK_EQ(kvu_simple(&Q, KVSSD_OPC_DELETE, nsid, k17, 17), NVME_STATUS_DNR | NVME_SC_KV_INVALID_KEY_SIZE);
	CHECK_EQ(Q.proto_errs, 0);
}

static void t_vendor_kv(void)
{
	uint8_t v[300], r[300];
	uint32_t dw0 = 0;
	struct tc_cmd cmd;

	vendor_ops(KVNS);
	REQUIRE(SESSION_OK);
	/* one engine behind both layouts: a standard Store is read back by the vendor retrieve */
	tc_fill(v, sizeof(v), 5);
	kvu_store_cmd(&cmd, KVNS, "both", 4, v, sizeof(v), 0);
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	CHECK_EQ(vretrieve(KVNS, "both", 4, r, sizeof(r), &dw0, NULL), 0);
	CHECK_EQ(dw0, sizeof(v));
	CHECK_EQ(tc_memdiff(r, v, sizeof(v)), -1);
}

static void t_vendor_compat(void)
{
	vendor_ops(COMPATNS);
}

/* ---- iterators ---- */
static int iter_open(uint32_t nsid, const char *prefix4, uint32_t mask, uint32_t *handle)
{
	struct tc_cmd cmd;
	int st;

	tc_cmd_init(&cmd, KVSSD_OPC_ITER_REQ, nsid);
	cmd.sqe.cdw11 = KVSSD_ITER_OPEN << 8;
	memcpy(&cmd.sqe.cdw12, prefix4, 4);
	cmd.sqe.cdw13 = mask;
	st = tc_exec(&Q, &cmd);
	*handle = cmd.cqe.dw0;
	return st;
}

static int iter_close(uint32_t nsid, uint32_t handle)
{
	struct tc_cmd cmd;

	tc_cmd_init(&cmd, KVSSD_OPC_ITER_REQ, nsid);
	cmd.sqe.cdw11 = KVSSD_ITER_CLOSE << 8 | (handle & 0xff);
	return tc_exec(&Q, &cmd);
}

/*
 * Read an iterator to its end with a buffer of buflen bytes: keys go to out (NUL-terminated,
 * 17 bytes each). Returns the number of keys, or -(status) / -1000 - n for a malformed read.
 */
static int iter_drain(uint32_t nsid, uint32_t handle, uint32_t buflen, char (*out)[17], int max, int *reads)
{
	uint8_t buf[4096];
	int n = 0;

	*reads = 0;
	for (;;) {
		struct tc_cmd cmd;
		uint32_t count, off = 4;
		int st;

		if ((*reads)++ > 1000)
			return -1001;
		memset(buf, 0xa5, sizeof(buf));
		tc_cmd_init(&cmd, KVSSD_OPC_ITER_READ, nsid);
		cmd.sqe.cdw11 = handle & 0xff;
		cmd.sqe.cdw10 = buflen / 4;
		cmd.rbuf = buf;
		cmd.rlen = buflen;
		st = tc_exec(&Q, &cmd);
		if (st == ST_ITER_EOF)
			return n;
		if (st)
			return -st;
		if (cmd.c2h_bytes < 4 || cmd.cqe.dw0 != cmd.c2h_bytes)
			return -1002;
		memcpy(&count, buf, 4);
		for (uint32_t i = 0; i < count; i++) {
			uint32_t kl;

			if (off + 4 > cmd.c2h_bytes)
				return -1003;
			memcpy(&kl, buf + off, 4);
			if (kl < 1 || kl > 16 || off + 4 + kl > cmd.c2h_bytes || n >= max)
				return -1004;
			memcpy(out[n], buf + off + 4, kl);
			out[n][kl] = 0;
			n++;
			off += 4 + ((kl + 3) & ~3u);
		}
		if (off != cmd.c2h_bytes)
			return -1005;
	}
}

static void iterators(uint32_t nsid)
{
	static char keys[400][17];
	uint32_t h = 0, h2 = 0, handles[KVSSD_ITER_HANDLES];
	int n, reads = 0, want;
	uint8_t v = 1;
	bool order = true;

	REQUIRE(SESSION_OK);
	/* 120 "iter%03d" keys, 60 "itex%03d", 20 "it" + 1 byte, and an unrelated one */
	for (int i = 0; i < 120; i++) {
		char k[17];

		snprintf(k, sizeof(k), "iter%03d", (i * 7) % 120);
		REQUIRE_EQ(vstore(KVSSD_OPC_STORE, nsid, k, strlen(k), &v, 1), 0);
		if (i < 60) {
			snprintf(k, sizeof(k), "itex%03d", i);
			REQUIRE_EQ(vstore(KVSSD_OPC_STORE, nsid, k, strlen(k), &v, 1), 0);
		}
		if (i < 20) {
			snprintf(k, sizeof(k), "it%c", 'A' + i);
			REQUIRE_EQ(vstore(KVSSD_OPC_STORE, nsid, k, 3, &v, 1), 0);
		}
	}
	REQUIRE_EQ(vstore(KVSSD_OPC_STORE, nsid, "other", 5, &v, 1), 0);

	/* prefix "iter", full mask: exactly the 120 keys, in order, none twice; a 128-byte buffer
	 * holds 10 of them per read */
	REQUIRE_EQ(iter_open(nsid, "iter", 0xffffffff, &h), 0);
	CHECK(h >= 1 && h <= KVSSD_ITER_HANDLES);
	n = iter_drain(nsid, h, 128, keys, 400, &reads);
	CHECK_EQ(n, 120);
	for (int i = 0; i < n && i < 120; i++) {
		char k[17];

		snprintf(k, sizeof(k), "iter%03d", i);
		if (strcmp(keys[i], k))
			order = false;
	}
	CHECK(order);
	tap_diag("prefix 'iter': %d keys in %d reads", n, reads);
	CHECK(reads >= 12);
	/* after the end, a read still says end */
	CHECK_EQ(iter_drain(nsid, h, 128, keys, 400, &reads), 0);
	CHECK_EQ(iter_close(nsid, h), 0);
	/* closed: reads and a second close are refused */
	CHECK_EQ(iter_drain(nsid, h, 128, keys, 400, &reads), -(NVME_STATUS_DNR | NVME_SC_INVALID_FIELD));
	CHECK_EQ(iter_close(nsid, h), NVME_STATUS_DNR | NVME_SC_INVALID_FIELD);

	/* mask 0x0000ffff: the first two bytes "it" - 200 keys, in a 4 KiB buffer, and in the
	 * smallest one that holds a 16-byte key (4 + 4 + 16) */
	REQUIRE_EQ(iter_open(nsid, "itZZ", 0x0000ffff, &h), 0);
	REQUIRE_EQ(iter_open(nsid, "itZZ", 0x0000ffff, &h2), 0);
	CHECK(h2 != h);
	want = 120 + 60 + 20;
	CHECK_EQ(iter_drain(nsid, h, 4096, keys, 400, &reads), want);
	CHECK_EQ(iter_drain(nsid, h2, 24, keys, 400, &reads), want);
	tap_diag("mask 0xffff 'it': %d keys in %d reads of 24 bytes", want, reads);
	CHECK_EQ(iter_close(nsid, h), 0);
	CHECK_EQ(iter_close(nsid, h2), 0);
	/* a prefix nothing matches: the end at once */
	REQUIRE_EQ(iter_open(nsid, "zzzz", 0xffffffff, &h), 0);
	CHECK_EQ(iter_drain(nsid, h, 4096, keys, 400, &reads), 0);
	CHECK_EQ(reads, 1);
	CHECK_EQ(iter_close(nsid, h), 0);
	/* 16 handles, then no more (0x391) until one is closed */
	for (unsigned i = 0; i < KVSSD_ITER_HANDLES; i++)
		CHECK_EQ(iter_open(nsid, "iter", 0xffffffff, &handles[i]), 0);
	CHECK_EQ(iter_open(nsid, "iter", 0xffffffff, &h), NVME_STATUS_DNR | KVSSD_SC_ITER_NO_HANDLE);
	CHECK_EQ(iter_close(nsid, handles[3]), 0);
	CHECK_EQ(iter_open(nsid, "iter", 0xffffffff, &h), 0);
	CHECK_EQ(h, handles[3]);
	handles[3] = h;
	for (unsigned i = 0; i < KVSSD_ITER_HANDLES; i++)
		CHECK_EQ(iter_close(nsid, handles[i]), 0);
	/* a handle out of range */
	CHECK_EQ(iter_close(nsid, 0), NVME_STATUS_DNR | NVME_SC_INVALID_FIELD);
	CHECK_EQ(iter_close(nsid, KVSSD_ITER_HANDLES + 1), NVME_STATUS_DNR | NVME_SC_INVALID_FIELD);
	CHECK_EQ(Q.proto_errs, 0);
}

static void t_iter_kv(void)
{
	iterators(KVNS);
}

static void t_iter_compat(void)
{
	iterators(COMPATNS);
}

/* kvssd-compat: an NVM namespace (CSI 0) whose blocks read as zeroes and refuse writes */
static void t_compat_nvm(void)
{
	uint8_t id[4096], buf[4096];
	uint64_t nsze = 0, ncap = 0;
	struct tc_cmd cmd;
	bool csi0 = true;

	REQUIRE(SESSION_OK);
	REQUIRE_EQ(tc_identify(&A, 0x00, COMPATNS, 0, id), 0);
	memcpy(&nsze, id, 8);
	memcpy(&ncap, id + 8, 8);
	CHECK(nsze > 0 && nsze <= NSCAP / 512);
	CHECK_EQ(ncap, nsze);
	CHECK_EQ(id[128 + 4 * (id[26] & 0xf) + 2], 9); /* LBADS of the format in use: 512 B */
	REQUIRE_EQ(tc_identify(&A, 0x03, COMPATNS, 0, id), 0);
	for (unsigned off = 0; off + 4 <= 4096 && id[off]; off += 4u + id[off + 1])
		if (id[off] == 4 && id[off + 4] != NVME_CSI_NVM_ID)
			csi0 = false;
	CHECK(csi0);
	/* the KV Identify Namespace is not for this one */
	CHECK(tc_identify(&A, 0x05, COMPATNS, NVME_CSI_KV_ID, id) != 0);
	/* reads: zeroes, even after values were stored */
	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(tc_rw(&Q, 0x02, COMPATNS, 0, 8, buf, sizeof(buf), false), 0);
	CHECK_EQ(tc_memdiff(buf, (uint8_t[4096]){ 0 }, sizeof(buf)), -1);
	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(tc_rw(&Q, 0x02, COMPATNS, nsze - 1, 1, buf, 512, false), 0);
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(tc_rw(&Q, 0x02, COMPATNS, nsze, 1, buf, 512, false),
		 NVME_STATUS_DNR | NVME_SC_LBA_RANGE);
	/* writes: Namespace Is Write Protected (0x20) */
	memset(buf, 1, sizeof(buf));
	CHECK_EQ(tc_rw(&Q, 0x01, COMPATNS, 0, 8, buf, sizeof(buf), true),
		 NVME_STATUS_DNR | NVME_SC_NS_WRITE_PROTECTED);
	CHECK_EQ(tc_rw(&Q, 0x01, COMPATNS, 0, 8, buf, sizeof(buf), false),
		 NVME_STATUS_DNR | NVME_SC_NS_WRITE_PROTECTED);
	tc_cmd_init(&cmd, 0x08, COMPATNS); /* Write Zeroes */
	cmd.sqe.cdw12 = 7;
	CHECK_EQ(tc_exec(&Q, &cmd), NVME_STATUS_DNR | NVME_SC_NS_WRITE_PROTECTED);
	CHECK_EQ(kvu_simple(&Q, 0x00, COMPATNS, NULL, 0), 0); /* Flush */
	/* and still zeroes */
	CHECK_EQ(tc_rw(&Q, 0x02, COMPATNS, 0, 8, buf, sizeof(buf), false), 0);
	CHECK_EQ(tc_memdiff(buf, (uint8_t[4096]){ 0 }, sizeof(buf)), -1);
	CHECK_EQ(Q.proto_errs, 0);
}

/* A full namespace: Capacity Exceeded, 0x81 for the standard Store, 0x312 for the vendor one */
static void t_capacity(void)
{
	static uint8_t v[16384];
	int st = 0, i;

	REQUIRE(SESSION_OK);
	for (i = 0; i < 1000; i++) {
		char k[17];

		snprintf(k, sizeof(k), "fill%04d", i);
		st = vstore(KVSSD_OPC_STORE, TINYNS, k, strlen(k), v, sizeof(v));
		if (st)
			break;
	}
	tap_diag("%d values of 16 KiB stored in a 1 MiB namespace before: %#x", i, st);
	CHECK(i > 10 && i < 64);
	CHECK_EQ(st, NVME_STATUS_DNR | KVSSD_SC_CAPACITY);
	{
		struct tc_cmd cmd;

		kvu_store_cmd(&cmd, TINYNS, "std", 3, v, sizeof(v), 0);
		CHECK_EQ(tc_exec(&Q, &cmd), NVME_STATUS_DNR | NVME_SC_KV_CAPACITY_EXCEEDED);
	}
	/* deleting makes room again */
	for (int j = 0; j < i; j++) {
		char k[17];

		snprintf(k, sizeof(k), "fill%04d", j);
		CHECK_EQ(kvu_simple(&Q, KVSSD_OPC_DELETE, TINYNS, k, strlen(k)), 0);
	}
	CHECK_EQ(vstore(KVSSD_OPC_STORE, TINYNS, "again", 5, v, sizeof(v)), 0);
}

static void t_stop(void)
{
	tc_close(&Q);
	tc_close(&A);
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

/* ---- persistent kv:FILE, or kv:rados (test_kv_util.h) ---- */
static int P_PORT;
#define P_KEYS 60

static uint32_t p_len(int i)
{
	return i % 10 == 9 ? 200000 + (uint32_t)i : 1 + (uint32_t)i * 97;
}

static bool p_start(struct tc_daemon *d, const char *spec)
{
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", spec, "-t", "2", NULL };

	if (tc_daemon_start(d, args) < 0)
		return false;
	P_PORT = d->ports[0];
	return tc_admin_session(&A, P_PORT, 0, 0, NULL) == 0 &&
	       tc_io_session(&Q, P_PORT, 0, A.cntlid, 1, 63, 0) == 0;
}

static void t_persist(void)
{
	static uint8_t v[210000], r[210000];
	struct tc_daemon d;
	char spec[192];
	struct tc_cmd cmd;
	int bad = 0;

	if (kvu_rados_pool()) {
		/* PATH: the RADOS namespace's spec, without options */
		kvu_spec(PATH, sizeof(PATH), "persist", "");
		snprintf(spec, sizeof(spec), "%s,size=64M", PATH);
	} else {
		snprintf(PATH, sizeof(PATH), "/tmp/nvring-kv-persist.%d", (int)getpid());
		unlink(PATH);
		snprintf(spec, sizeof(spec), "kv:%s,size=64M", PATH);
	}
	if (!CHECK(p_start(&d, spec))) {
		tc_daemon_stop(&d, 5000);
		return;
	}
	for (int i = 0; i < P_KEYS; i++) {
		char k[17];

		snprintf(k, sizeof(k), "persist-%d", i);
		tc_fill(v, p_len(i), (uint32_t)i);
		kvu_store_cmd(&cmd, 1, k, strlen(k), v, p_len(i), 0);
		bad += tc_exec(&Q, &cmd) != 0;
	}
	/* overwrite every 5th, delete every 7th */
	for (int i = 0; i < P_KEYS; i += 5) {
		char k[17];

		snprintf(k, sizeof(k), "persist-%d", i);
		tc_fill(v, 333, 1000u + (uint32_t)i);
		kvu_store_cmd(&cmd, 1, k, strlen(k), v, 333, 0);
		bad += tc_exec(&Q, &cmd) != 0;
	}
	for (int i = 3; i < P_KEYS; i += 7) {
		char k[17];

		snprintf(k, sizeof(k), "persist-%d", i);
		bad += kvu_simple(&Q, NVME_KV_OPC_DELETE, 1, k, strlen(k)) != 0;
	}
	bad += vstore(KVSSD_OPC_STORE, 1, "vendor", 6, "vendor value", 12) != 0;
	CHECK_EQ(bad, 0);
	if (kvu_rados_pool()) {
		/* RADOS acknowledged every store: they must survive a daemon that never flushed */
		kill(d.pid, SIGKILL);
		CHECK_EQ(tc_daemon_stop(&d, 10000), -SIGKILL);
	} else {
		CHECK_EQ(tc_daemon_stop(&d, 10000), 0);
	}
	tc_close(&Q);
	tc_close(&A);

	/* the same store, without size= (the log knows its own), then as kvssd-compat */
	for (int pass = 0; pass < 2; pass++) {
		uint32_t dw0 = 0;

		if (kvu_rados_pool())
			snprintf(spec, sizeof(spec), pass ? "%s,kvssd-compat" : "%s", PATH);
		else
			snprintf(spec, sizeof(spec), pass ? "kv:%s,kvssd-compat" : "kv:%s", PATH);
		if (!CHECK(p_start(&d, spec))) {
			tc_daemon_stop(&d, 5000);
			return;
		}
		bad = 0;
		for (int i = 0; i < P_KEYS; i++) {
			uint32_t len = i % 5 == 0 ? 333 : p_len(i);
			char k[17];
			int st;

			snprintf(k, sizeof(k), "persist-%d", i);
			memset(r, 0, len);
			if (pass) {
				st = vretrieve(1, k, strlen(k), r, sizeof(r), &dw0, NULL);
			} else {
				kvu_retrieve_cmd(&cmd, 1, k, strlen(k), r, sizeof(r));
				st = tc_exec(&Q, &cmd);
				dw0 = cmd.cqe.dw0;
			}
			if (i % 7 == 3) {
				if ((st & KV_ST_MASK) != (pass ? KVSSD_SC_KEY_NOT_EXIST : NVME_SC_KV_KEY_NOT_EXIST))
					bad++, tap_diag("deleted %s: %#x", k, st);
				continue;
			}
			tc_fill(v, len, i % 5 == 0 ? 1000u + (uint32_t)i : (uint32_t)i);
			if (st || dw0 != len || memcmp(r, v, len))
				bad++, tap_diag("%s: status %#x size %u (want %u)", k, st, dw0, len);
		}
		CHECK_EQ(bad, 0);
		CHECK_EQ(vretrieve(1, "vendor", 6, r, 64, &dw0, NULL), 0);
		CHECK(dw0 == 12 && !memcmp(r, "vendor value", 12));
		tc_close(&Q);
		tc_close(&A);
		CHECK_EQ(tc_daemon_stop(&d, 10000), 0);
	}
}

/* Start nvringd on spec, expecting it to refuse: exit 2 and a log line containing both words. */
static void expect_refused(const char *spec, const char *what)
{
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", spec, NULL };
	struct tc_daemon d;
	char *log;
	int r = tc_daemon_start(&d, args);

	CHECK(r < 0);
	log = tc_daemon_log(&d);
	if (!CHECK(log && strstr(log, PATH) && strstr(log, what)))
		tap_diag("log: %s", log ? log : "(none)");
	free(log);
	CHECK_EQ(tc_daemon_stop(&d, 5000), 2);
}

/* kv:rados: a pool that does not exist, a client the cluster refuses or whose caps do not
 * reach the pool */
static void refused_rados(void)
{
	char spec[200];

	snprintf(PATH, sizeof(PATH), "nopool");
	expect_refused("kv:rados:nopool", "no pool");
	if (!getenv("NVR_CEPH_AUTH") || strcmp(getenv("NVR_CEPH_AUTH"), "cephx"))
		return;
	snprintf(PATH, sizeof(PATH), "client.nobody");
	snprintf(spec, sizeof(spec), "kv:rados:%s,id=nobody", kvu_rados_pool());
	expect_refused(spec, "refused");
	snprintf(PATH, sizeof(PATH), "client.nocaps");
	snprintf(spec, sizeof(spec), "kv:rados:%s,id=nocaps", kvu_rados_pool());
	expect_refused(spec, "caps");
}

static void t_refused(void)
{
	char spec[192];
	uint8_t b = 0;
	int fd;

	if (kvu_rados_pool()) {
		refused_rados();
		return;
	}
	if (!PATH[0])
		snprintf(PATH, sizeof(PATH), "/tmp/nvring-kv-persist.%d", (int)getpid());
	snprintf(spec, sizeof(spec), "kv:%s", PATH);
	/* a flipped bit in the superblock's capacity: its CRC fails */
	fd = open(PATH, O_RDWR);
	REQUIRE(fd >= 0);
	REQUIRE_EQ(pread(fd, &b, 1, 17), 1);
	b ^= 0x10;
	REQUIRE_EQ(pwrite(fd, &b, 1, 17), 1);
	close(fd);
	expect_refused(spec, "corrupt");
	/* a file that is not a log at all: refused, not formatted over */
	fd = open(PATH, O_RDWR | O_TRUNC);
	REQUIRE(fd >= 0);
	REQUIRE_EQ(ftruncate(fd, 64 << 20), 0);
	REQUIRE_EQ(pwrite(fd, "some other data", 15, 0), 15);
	close(fd);
	expect_refused(spec, "not a kvstore log");
	/* format says yes: it is formatted and served */
	{
		const char *args[] = { "-l", "127.0.0.1:0", "--ns", NULL, NULL };
		struct tc_daemon d;

		snprintf(spec, sizeof(spec), "kv:%s,format", PATH);
		args[3] = spec;
		CHECK_EQ(tc_daemon_start(&d, args), 0);
		CHECK_EQ(tc_daemon_stop(&d, 10000), 0);
	}
	/* too small to hold the minimum number of segments */
	unlink(PATH);
	snprintf(spec, sizeof(spec), "kv:%s,size=64K", PATH);
	expect_refused(spec, "segments");
	/* an existing small file and no size= */
	fd = open(PATH, O_RDWR | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd >= 0);
	REQUIRE_EQ(ftruncate(fd, 8192), 0);
	close(fd);
	snprintf(spec, sizeof(spec), "kv:%s", PATH);
	expect_refused(spec, "segments");
	unlink(PATH);
}

int main(void)
{
	static char kvns[160], compatns[160], tinyns[160], title[400];
	bool rados = kvu_rados_pool();
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", kvu_spec(kvns, sizeof(kvns), "kv", ",size=64M"),
			       "--ns", kvu_spec(compatns, sizeof(compatns), "compat", ",size=64M,kvssd-compat"),
			       "--ns", kvu_spec(tinyns, sizeof(tinyns), "tiny",
						rados ? ",size=1M,max_value=16K" : ",size=1M,segment_size=64K,max_value=16K"),
			       "-t", "2", NULL };
	int status;

	snprintf(title, sizeof(title), "nvringd starts with %s and %s", kvns, compatns);
	if (!tc_suite_start(&D, args, title, &PORT, t_stop, &status))
		return status;
	tap_run("session", t_session);
	tap_run("vendor opcodes on a KV namespace: 0x81/0x90/0xB3/0xA1/0x83, 0x310, 0x86", t_vendor_kv);
	tap_run("vendor opcodes on a kvssd-compat namespace", t_vendor_compat);
	tap_run("iterators on a KV namespace: prefix/mask, read to 0x393, close, 16 handles", t_iter_kv);
	tap_run("iterators on a kvssd-compat namespace", t_iter_compat);
	tap_run("kvssd-compat NVM view: CSI 0, nsze, reads zeroes, writes 0x20", t_compat_nvm);
	if (rados) /* the pool's quota is the limit there, and a cluster without a mgr has none */
		tap_skip("a full namespace: 0x312 (vendor), 0x81 (standard)", "capacity is the pool's on kv:rados");
	else
		tap_run("a full namespace: 0x312 (vendor), 0x81 (standard), room after deletes", t_capacity);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	if (rados) {
		tap_run("kv:rados: store, SIGKILL, restart (KV and kvssd-compat), every acknowledged value back",
			t_persist);
		tap_run("kv:rados: no pool, a refused client, no caps: exit 2 with a message", t_refused);
	} else {
		tap_run("kv:FILE: store, SIGTERM, restart (KV and kvssd-compat), every value back", t_persist);
		tap_run("kv:FILE corrupt, foreign or too small: exit 2 with a message", t_refused);
	}
	return tap_finish();
}
