/* SPDX-License-Identifier: MIT */
/*
 * NVM command set over nvringd: data verified byte for byte for 512 B..1 MiB on 512 B and
 * 4 KiB LBA namespaces, in-capsule and R2T writes, FUA, Flush, Write Zeroes, DSM, Compare,
 * Verify, and the error statuses (NVMe base spec 2.0 generic / NVM command set statuses).
 *
 * The namespaces are mem:64M and mem:16M,bs=4096, or, from $NVR_IO_NS1 and $NVR_IO_NS2, any
 * namespaces of those sizes and block sizes (tests/ceph/run.sh: RBD images of 64 and 16 MiB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "bystander.h"
#include "tclient.h"

#define ST_MASK 0x7ff /* SCT+SC without DNR/More */

static struct tc_daemon D;
static int PORT;
static struct tc_conn A, Q;
static bool SESSION_OK;

static void rw_check(uint32_t nsid, uint32_t bs, uint64_t slba, uint32_t len, bool icd,
		     uint32_t seed);

static void t_session(void)
{
	REQUIRE_EQ(tc_admin_session(&A, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&Q, PORT, 0, A.cntlid, 1, 127, 0), 0);
	SESSION_OK = true;
}

/* Sizes and block sizes as the checks below assume them; DLFEAT says what DSM leaves: zeroes. */
static void t_identify(void)
{
	static const struct { uint32_t nsid; uint64_t blocks; uint8_t lbads; } want[] = {
		{ 1, TC_NS1_BLOCKS, 9 }, { 2, TC_NS2_BLOCKS, 12 },
	};
	uint8_t id[4096];

	REQUIRE(SESSION_OK);
	for (unsigned i = 0; i < 2; i++) {
		uint64_t nsze;

		REQUIRE_EQ(tc_identify(&A, 0x00, want[i].nsid, 0, id), 0);
		memcpy(&nsze, id, 8);
		CHECK_EQ(nsze, want[i].blocks);
		CHECK_EQ(id[128 + 4 * (id[26] & 0xf) + 2], want[i].lbads);
		CHECK_EQ(id[33] & 0x7, 1);     /* DLFEAT: deallocated blocks read as zeroes */
		CHECK_EQ(id[33] & 0x8, 0x8);   /* and Write Zeroes may deallocate */
	}
}

/* Every block count from 1 to 64 (512 B..32 KiB), then 256 KiB, 512 KiB and 1 MiB (MDTS). */
static void t_sizes_every(void)
{
	static const uint32_t big[] = { 262144, 524288, TC_MDTS_BYTES };

	for (uint32_t nlb = 1; nlb <= 64; nlb++)
		rw_check(1, 512, 60000 + (nlb - 1) * 64, nlb * 512, nlb * 512 <= TC_ICD_IO, 500 + nlb);
	for (unsigned i = 0; i < 3; i++)
		rw_check(1, 512, 70000 + i * 2048, big[i], false, 600 + i);
	for (uint32_t nlb = 1; nlb <= 8; nlb++)
		rw_check(2, 4096, 2000 + (nlb - 1) * 8, nlb * 4096, nlb * 4096 <= TC_ICD_IO, 700 + nlb);
	rw_check(2, 4096, 3000, TC_MDTS_BYTES, false, 709);
}

/* Write then read back len bytes at slba of nsid with block size bs. */
static void rw_check(uint32_t nsid, uint32_t bs, uint64_t slba, uint32_t len, bool icd,
		     uint32_t seed)
{
	uint8_t *w = malloc(len), *r = malloc(len);

	REQUIRE(SESSION_OK && w && r);
	tc_fill(w, len, seed);
	memset(r, 0xee, len);
	CHECK_EQ(tc_rw(&Q, 0x01, nsid, slba, len / bs, w, len, icd), 0);
	CHECK_EQ(tc_rw(&Q, 0x02, nsid, slba, len / bs, r, len, false), 0);
	CHECK_EQ(tc_memdiff(r, w, len), -1);
	CHECK_EQ(Q.proto_errs, 0);
	free(w);
	free(r);
}

static void t_sizes_512(void)
{
	static const uint32_t sizes[] = { 512, 1024, 4096, 8192, 12288, 65536, 131072 };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* in-capsule up to the 8 KiB ICD size, R2T above */
		rw_check(1, 512, 100 + i * 512, sizes[i], sizes[i] <= TC_ICD_IO, i + 1);
		/* the same sizes by R2T */
		rw_check(1, 512, 20000 + i * 512, sizes[i], false, i + 101);
	}
}

static void t_sizes_4k(void)
{
	static const uint32_t sizes[] = { 4096, 8192, 16384, 65536, 131072 };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		rw_check(2, 4096, 10 + i * 64, sizes[i], sizes[i] <= TC_ICD_IO, i + 201);
		rw_check(2, 4096, 1000 + i * 64, sizes[i], false, i + 301);
	}
	/* last block of the namespace */
	rw_check(2, 4096, TC_NS2_BLOCKS - 1, 4096, true, 399);
}

/* Namespaces are distinct: writing nsid 2 does not show through nsid 1. */
static void t_ns_isolation(void)
{
	uint8_t a[4096], b[4096], r[4096];

	REQUIRE(SESSION_OK);
	tc_fill(a, sizeof(a), 11);
	tc_fill(b, sizeof(b), 12);
	CHECK_EQ(tc_rw(&Q, 0x01, 1, 50000, 8, a, 4096, true), 0);
	CHECK_EQ(tc_rw(&Q, 0x01, 2, 100, 1, b, 4096, true), 0); /* same byte offset range differs */
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 50000, 8, r, 4096, false), 0);
	CHECK_EQ(tc_memdiff(r, a, 4096), -1);
}

static void t_fua(void)
{
	struct tc_cmd cmd;
	uint8_t w[4096], r[4096];

	REQUIRE(SESSION_OK);
	tc_fill(w, sizeof(w), 5);
	tc_rw_cmd(&cmd, 0x01, 1, 300, 8, w, sizeof(w));
	cmd.sqe.cdw12 |= 1u << 30; /* FUA */
	cmd.incapsule = true;
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 300, 8, r, 4096, false), 0);
	CHECK_EQ(tc_memdiff(r, w, 4096), -1);
}

static void t_flush(void)
{
	struct tc_cmd cmd;

	REQUIRE(SESSION_OK);
	tc_cmd_init(&cmd, 0x00, 1);
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	tc_cmd_init(&cmd, 0x00, 2);
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
}

static void t_write_zeroes(void)
{
	struct tc_cmd cmd;
	uint8_t w[8192], r[8192], z[8192] = { 0 };

	REQUIRE(SESSION_OK);
	tc_fill(w, sizeof(w), 6);
	CHECK_EQ(tc_rw(&Q, 0x01, 1, 700, 16, w, sizeof(w), true), 0);
	tc_cmd_init(&cmd, 0x08, 1);
	cmd.sqe.cdw10 = 702;
	cmd.sqe.cdw12 = 3; /* 4 blocks: 702..705 */
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 700, 16, r, sizeof(r), false), 0);
	CHECK_EQ(tc_memdiff(r, w, 1024), -1);
	CHECK_EQ(tc_memdiff(r + 1024, z, 2048), -1);
	CHECK_EQ(tc_memdiff(r + 3072, w + 3072, 8192 - 3072), -1);
}

static void t_dsm_deallocate(void)
{
	struct tc_cmd cmd;
	uint8_t w[8192], r[8192], z[8192] = { 0 };
	struct { uint32_t cattr, nlb; uint64_t slba; } __attribute__((packed)) range[2] = {
		{ 0, 8, 900 }, { 0, 8, 916 },
	};

	REQUIRE(SESSION_OK);
	tc_fill(w, sizeof(w), 7);
	CHECK_EQ(tc_rw(&Q, 0x01, 1, 900, 16, w, sizeof(w), true), 0);
	CHECK_EQ(tc_rw(&Q, 0x01, 1, 916, 16, w, sizeof(w), true), 0);
	tc_cmd_init(&cmd, 0x09, 1);
	cmd.sqe.cdw10 = 1;      /* two ranges, 0's based */
	cmd.sqe.cdw11 = 1u << 2; /* AD: deallocate */
	cmd.wbuf = range;
	cmd.wlen = sizeof(range);
	cmd.incapsule = true;
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 900, 16, r, sizeof(r), false), 0);
	CHECK_EQ(tc_memdiff(r, z, 4096), -1);          /* deallocated blocks read zeros */
	CHECK_EQ(tc_memdiff(r + 4096, w + 4096, 4096), -1); /* neighbours untouched */
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 916, 16, r, sizeof(r), false), 0);
	CHECK_EQ(tc_memdiff(r, z, 4096), -1);
	CHECK_EQ(tc_memdiff(r + 4096, w + 4096, 4096), -1);
}

static void t_compare(void)
{
	uint8_t w[4096], x[4096];

	REQUIRE(SESSION_OK);
	tc_fill(w, sizeof(w), 8);
	memcpy(x, w, sizeof(x));
	x[4095] ^= 1;
	CHECK_EQ(tc_rw(&Q, 0x01, 1, 1200, 8, w, sizeof(w), true), 0);
	CHECK_EQ(tc_rw(&Q, 0x05, 1, 1200, 8, w, sizeof(w), true), 0);
	CHECK_EQ(tc_rw(&Q, 0x05, 1, 1200, 8, w, sizeof(w), false), 0);
	/* Compare Failure: SCT 2 (media/data integrity), SC 0x85 */
	CHECK_EQ(tc_rw(&Q, 0x05, 1, 1200, 8, x, sizeof(x), true) & ST_MASK, 0x285);
	CHECK_EQ(tc_rw(&Q, 0x05, 1, 1200, 8, x, sizeof(x), false) & ST_MASK, 0x285);
}

static void t_verify(void)
{
	struct tc_cmd cmd;

	REQUIRE(SESSION_OK);
	tc_cmd_init(&cmd, 0x0c, 1);
	cmd.sqe.cdw10 = 0;
	cmd.sqe.cdw12 = 255;
	CHECK_EQ(tc_exec(&Q, &cmd), 0);
	tc_cmd_init(&cmd, 0x0c, 1);
	cmd.sqe.cdw10 = TC_NS1_BLOCKS - 1;
	cmd.sqe.cdw12 = 1;
	CHECK_EQ(tc_exec(&Q, &cmd) & ST_MASK, 0x80);
}

static void t_lba_range(void)
{
	uint8_t b[8192];

	REQUIRE(SESSION_OK);
	memset(b, 0, sizeof(b));
	/* LBA Out of Range: NVM command set specific SC 0x80 */
	CHECK_EQ(tc_rw(&Q, 0x02, 1, TC_NS1_BLOCKS, 1, b, 512, false) & ST_MASK, 0x80);
	CHECK_EQ(tc_rw(&Q, 0x02, 1, TC_NS1_BLOCKS - 1, 2, b, 1024, false) & ST_MASK, 0x80);
	CHECK_EQ(tc_rw(&Q, 0x01, 1, TC_NS1_BLOCKS - 1, 2, b, 1024, true) & ST_MASK, 0x80);
	CHECK_EQ(tc_rw(&Q, 0x01, 1, TC_NS1_BLOCKS - 4, 16, b, 8192, false) & ST_MASK, 0x80);
	CHECK_EQ(tc_rw(&Q, 0x02, 2, TC_NS2_BLOCKS, 1, b, 4096, false) & ST_MASK, 0x80);
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 1ull << 40, 1, b, 512, false) & ST_MASK, 0x80);
	/* the queue still works */
	CHECK_EQ(tc_rw(&Q, 0x02, 1, TC_NS1_BLOCKS - 1, 1, b, 512, false), 0);
	CHECK_EQ(Q.proto_errs, 0);
}

static void t_mdts(void)
{
	uint32_t len = 2 * TC_MDTS_BYTES;
	uint8_t *b = calloc(1, len);

	REQUIRE(SESSION_OK && b);
	/* > MDTS (2^8 * 4 KiB = 1 MiB): Invalid Field in Command with DNR */
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 0, len / 512, b, len, false), NVME_STATUS_DNR | 0x02);
	CHECK_EQ(tc_rw(&Q, 0x01, 1, 0, len / 512, b, len, false), NVME_STATUS_DNR | 0x02);
	CHECK_EQ(tc_rw(&Q, 0x02, 2, 0, TC_MDTS_BYTES / 4096 + 1, b, TC_MDTS_BYTES + 4096, false),
		 NVME_STATUS_DNR | 0x02);
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 0, TC_MDTS_BYTES / 512, b, TC_MDTS_BYTES, false), 0);
	CHECK_EQ(Q.proto_errs, 0);
	free(b);
}

static void t_sgl_length(void)
{
	struct tc_cmd cmd;
	uint8_t b[4096];

	REQUIRE(SESSION_OK);
	/* Data SGL Length Invalid (SC 0x0F): SGL shorter than NLB needs */
	tc_rw_cmd(&cmd, 0x02, 1, 0, 8, b, 2048); /* 4096 bytes of blocks, 2048 of SGL */
	CHECK_EQ(tc_exec(&Q, &cmd) & ST_MASK, 0x0f);
	CHECK_EQ(cmd.n_c2h, 0);
	tc_rw_cmd(&cmd, 0x01, 1, 0, 8, b, 2048);
	CHECK_EQ(tc_exec(&Q, &cmd) & ST_MASK, 0x0f);
	CHECK_EQ(cmd.n_r2t, 0);
	tc_rw_cmd(&cmd, 0x01, 1, 0, 8, b, 2048);
	cmd.incapsule = true;
	CHECK_EQ(tc_exec(&Q, &cmd) & ST_MASK, 0x0f);
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 0, 8, b, 4096, false), 0);
	CHECK_EQ(Q.proto_errs, 0);
}

static void t_bad_nsid(void)
{
	uint8_t b[512];

	REQUIRE(SESSION_OK);
	/* Invalid Namespace or Format (SC 0x0B) with DNR */
	CHECK_EQ(tc_rw(&Q, 0x02, 99, 0, 1, b, 512, false), NVME_STATUS_DNR | 0x0b);
	CHECK_EQ(tc_rw(&Q, 0x01, 99, 0, 1, b, 512, true), NVME_STATUS_DNR | 0x0b);
	CHECK_EQ(tc_rw(&Q, 0x02, 0, 0, 1, b, 512, false), NVME_STATUS_DNR | 0x0b);
	CHECK_EQ(tc_rw(&Q, 0x02, 0xffffffff, 0, 1, b, 512, false), NVME_STATUS_DNR | 0x0b);
}

static void t_bad_opcode(void)
{
	struct tc_cmd cmd;

	REQUIRE(SESSION_OK);
	/* Invalid Command Opcode (SC 0x01) with DNR for an unimplemented NVM opcode */
	tc_cmd_init(&cmd, 0x7e, 1);
	CHECK_EQ(tc_exec(&Q, &cmd), NVME_STATUS_DNR | 0x01);
	/* an admin opcode on an I/O queue is not an I/O command either */
	tc_cmd_init(&cmd, 0x06, 1);
	cmd.rbuf = (uint8_t[4096]){ 0 };
	cmd.rlen = 4096;
	CHECK_EQ(tc_exec(&Q, &cmd) & ST_MASK, 0x01);
	CHECK_EQ(Q.proto_errs, 0);
}

/* Two I/O queues of one controller on two connections: data is shared, commands interleave. */
static void t_two_queues(void)
{
	enum { LEN = 32768 };
	struct tc_conn q2;
	static struct tc_cmd c1, c2;
	static uint8_t w1[LEN], w2[LEN], r[LEN];

	REQUIRE(SESSION_OK);
	REQUIRE_EQ(tc_io_session(&q2, PORT, 0, A.cntlid, 2, 127, 0), 0);
	tc_fill(w1, LEN, 21);
	tc_fill(w2, LEN, 22);
	tc_rw_cmd(&c1, 0x01, 1, 40000, LEN / 512, w1, LEN);
	tc_rw_cmd(&c2, 0x01, 1, 40000 + LEN / 512, LEN / 512, w2, LEN);
	REQUIRE_EQ(tc_submit(&Q, &c1), 0);
	REQUIRE_EQ(tc_submit(&q2, &c2), 0);
	CHECK_EQ(tc_wait(&q2, &c2), 0);
	CHECK_EQ(tc_wait(&Q, &c1), 0);
	CHECK_EQ(c1.status, 0);
	CHECK_EQ(c2.status, 0);
	/* each queue reads what the other wrote */
	CHECK_EQ(tc_rw(&q2, 0x02, 1, 40000, LEN / 512, r, LEN, false), 0);
	CHECK_EQ(tc_memdiff(r, w1, LEN), -1);
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 40000 + LEN / 512, LEN / 512, r, LEN, false), 0);
	CHECK_EQ(tc_memdiff(r, w2, LEN), -1);
	CHECK_EQ(q2.proto_errs, 0);
	tc_close(&q2);
}

/* A read with an in-capsule SGL makes no sense: rejected, no data sent. */
static void t_read_icd_sgl(void)
{
	struct tc_cmd cmd;
	uint8_t b[512];

	REQUIRE(SESSION_OK);
	tc_cmd_init(&cmd, 0x02, 1);
	cmd.rbuf = b;
	cmd.rlen = sizeof(b);
	cmd.raw_sqe = true;
	cmd.sqe.cid = 900;
	cmd.sqe.flags = NVME_CMD_PSDT_SGL;
	cmd.sqe.sgl.type = NVME_SGL_TYPE_ICD;
	cmd.sqe.sgl.length = sizeof(b);
	/*
	 * nvmet_tcp_map_data answers Invalid Field with DNR; SGL Offset Invalid (0x16) also
	 * describes it (no in-capsule data at that offset). Either, with DNR, and no data.
	 */
	CHECK_EQ(tc_exec(&Q, &cmd) & NVME_STATUS_DNR, NVME_STATUS_DNR);
	CHECK((cmd.status & ST_MASK) == 0x02 || (cmd.status & ST_MASK) == 0x16);
	CHECK_EQ(cmd.n_c2h, 0);
	CHECK_EQ(Q.proto_errs, 0);
}

static void t_stop(void)
{
	tc_close(&Q);
	tc_close(&A);
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	int status;

	const char *ns1 = getenv("NVR_IO_NS1"), *ns2 = getenv("NVR_IO_NS2");
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", ns1, "--ns", ns2, "-t", "2", "-v", NULL };
	char title[300];

	if (ns1 && ns2) {
		snprintf(title, sizeof(title), "nvringd starts with %s and %s", ns1, ns2);
		if (!tc_suite_start(&D, args, title, &PORT, t_stop, &status))
			return status;
	} else if (!tc_suite_begin(&D, &PORT, t_stop, &status)) {
		return status;
	}
	tap_run("admin + I/O queue session", t_session);
	tap_run("identify: sizes, block sizes, DLFEAT reads zeroes", t_identify);
	tap_run("write/read every block count 1..64, 256 KiB..1 MiB", t_sizes_every);
	tap_run("write/read 512 B..128 KiB, 512 B LBAs, in-capsule and R2T", t_sizes_512);
	tap_run("write/read 4 KiB..128 KiB, 4 KiB LBAs, in-capsule and R2T", t_sizes_4k);
	tap_run("namespaces are separate", t_ns_isolation);
	tap_run("write with FUA", t_fua);
	tap_run("flush", t_flush);
	tap_run("write zeroes reads back zeros, neighbours kept", t_write_zeroes);
	tap_run("DSM deallocate reads back zeros", t_dsm_deallocate);
	tap_run("compare match and miss (0x285)", t_compare);
	tap_run("verify in range ok, out of range 0x80", t_verify);
	tap_run("LBA out of range (0x80) for reads and writes", t_lba_range);
	tap_run("transfer above MDTS: Invalid Field with DNR", t_mdts);
	tap_run("SGL length short of NLB: Data SGL Length Invalid (0x0F)", t_sgl_length);
	tap_run("invalid nsid: Invalid Namespace (0x0B) with DNR", t_bad_nsid);
	tap_run("invalid I/O opcode (0x01)", t_bad_opcode);
	tap_run("two I/O queues of one controller", t_two_queues);
	tap_run("read with an in-capsule SGL: Invalid Field", t_read_icd_sgl);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
