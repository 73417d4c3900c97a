/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP transport behaviour of nvringd: ICResp fields, every PDU type under every digest
 * combination, C2HData/R2T/H2CData framing, SQ flow control on and off.
 * Expected values: reference sections A.4-A.10 (NVMe/TCP transport spec 1.0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "bystander.h"
#include "tclient.h"

static struct tc_daemon D;
static int PORT;
static uint8_t DIGEST; /* digest combination under test */
static uint32_t ICD = TC_ICD_IO;
static uint32_t BS = 512; /* LBA size of nsid 1, from Identify (nvmet file namespaces use 4 KiB) */

static void t_block_size(void)
{
	struct tc_conn a;
	uint8_t id[4096];

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_identify(&a, 0x00, 1, 0, id), 0);
	BS = 1u << id[128 + 4 * (id[26] & 0xf) + 2]; /* LBAF[FLBAS].LBADS */
	CHECK(BS == 512 || BS == 4096);
	REQUIRE_EQ(tc_identify(&a, 0x01, 0, 0, id), 0);
	ICD = (uint32_t)(id[1792] | id[1793] << 8) * 16 - 64; /* IOCCSZ */
	tap_diag("nsid 1 LBA size %u, I/O in-capsule data %u", BS, ICD);
	tc_close(&a);
}

static const char *digest_name(uint8_t d)
{
	static const char *n[] = { "none", "header", "data", "header+data" };

	return n[d & 3];
}

static void t_icresp(void)
{
	struct tc_conn c;
	struct nvme_tcp_icresp_pdu r;

	REQUIRE_EQ(tc_open(&c, PORT), 0);
	REQUIRE_EQ(tc_icreq(&c, DIGEST, &r), 0);
	CHECK_EQ(r.hdr.type, NVME_TCP_ICRESP);
	CHECK_EQ(r.hdr.flags, 0);
	CHECK_EQ(r.hdr.hlen, 128);
	CHECK_EQ(r.hdr.pdo, 0);
	CHECK_EQ(r.hdr.plen, 128);
	CHECK_EQ(r.pfv, 0);
	CHECK_EQ(r.cpda, 0);
	CHECK_EQ(r.digest, DIGEST);
	CHECK_EQ(r.maxh2cdata % 4, 0);
	CHECK(r.maxh2cdata >= NVME_TCP_MIN_MAXH2CDATA);
	CHECK(r.maxh2cdata >= 128 * 1024); /* contract */
	tc_close(&c);
}

/* Every PDU type (CapsuleCmd/Resp with and without data, C2HData, R2T, H2CData) with DIGEST. */
static void t_all_pdus(void)
{
	struct tc_conn a, q;
	uint8_t id[4096];
	uint8_t *w = malloc(65536), *r = malloc(65536);
	struct tc_cmd cmd;

	REQUIRE(w && r);
	REQUIRE_EQ(tc_admin_session(&a, PORT, DIGEST, 30000, NULL), 0);
	CHECK_EQ(a.hdgst, !!(DIGEST & 1));
	CHECK_EQ(a.ddgst, !!(DIGEST & 2));
	CHECK_EQ(tc_identify(&a, 1, 0, 0, id), 0); /* C2HData on the admin queue */
	REQUIRE_EQ(tc_io_session(&q, PORT, DIGEST, a.cntlid, 1, 127, 0), 0);

	tc_fill(w, 65536, DIGEST + 1);
	/* in-capsule write: CapsuleCmd with data (+DDGST) */
	CHECK_EQ(tc_rw(&q, 0x01, 1, 0, 4096 / BS, w, 4096, true), 0);
	/* R2T write: R2T + H2CData */
	tc_rw_cmd(&cmd, 0x01, 1, 65536 / BS, 65536 / BS, w, 65536);
	CHECK_EQ(tc_exec(&q, &cmd), 0);
	CHECK(cmd.n_r2t >= 1);
	CHECK_EQ(cmd.r2t_bytes, 65536);
	CHECK(cmd.n_h2c >= 1);
	/* read back both: C2HData (+DDGST) */
	memset(r, 0, 65536);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 0, 4096 / BS, r, 4096, false), 0);
	CHECK_EQ(tc_memdiff(r, w, 4096), -1);
	memset(r, 0, 65536);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 65536 / BS, 65536 / BS, r, 65536, false), 0);
	CHECK_EQ(tc_memdiff(r, w, 65536), -1);
	CHECK_EQ(q.proto_errs, 0);
	CHECK_EQ(a.proto_errs, 0);
	tc_close(&q);
	tc_close(&a);
	free(w);
	free(r);
}

static void t_c2h_sqflow_on(void)
{
	struct tc_conn a, q;
	struct tc_cmd cmd;
	uint8_t buf[8192];
	uint16_t sqhd;

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 15, 0), 0);
	/* SQHD after Connect: one entry consumed */
	sqhd = q.last_sqhd;
	CHECK(sqhd != 0xffff);
	for (int i = 0; i < 40; i++) {
		tc_rw_cmd(&cmd, 0x02, 1, 0, sizeof(buf) / BS, buf, sizeof(buf));
		if (!CHECK_EQ(tc_exec(&q, &cmd), 0))
			break;
		/* reference A.10: SUCCESS only with SQ flow control disabled */
		CHECK(cmd.got_rsp);
		CHECK(!cmd.c2h_success);
		CHECK(cmd.last_c2h_flags & NVME_TCP_F_DATA_LAST);
		CHECK(!(cmd.last_c2h_flags & NVME_TCP_F_DATA_SUCCESS));
		CHECK_EQ(cmd.c2h_bytes, 8192);
		/* one command consumed per round trip; queue size is sqsize + 1 = 16 */
		sqhd = (uint16_t)((sqhd + 1) % 16);
		if (!CHECK_EQ(cmd.cqe.sqhd, sqhd))
			break;
		CHECK_EQ(cmd.cqe.sqid, 1);
	}
	CHECK_EQ(q.proto_errs, 0);
	tc_close(&q);
	tc_close(&a);
}

static void t_c2h_sqflow_off(void)
{
	struct tc_conn a, q;
	struct tc_connect_args ca;
	struct nvme_cqe cqe;
	struct tc_cmd cmd;
	uint8_t buf[16384];

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_open(&q, PORT), 0);
	REQUIRE_EQ(tc_icreq(&q, 0, NULL), 0);
	tc_connect_args_default(&ca, 1, a.cntlid);
	ca.cattr = NVMF_CONNECT_DISABLE_SQFLOW;
	REQUIRE_EQ(tc_fabrics_connect(&q, &ca, &cqe), 0);
	/* ref A.10 (nvmet_install_queue): SQHD 0xFFFF once flow control is disabled */
	CHECK_EQ(cqe.sqhd, 0xffff);
	for (int i = 0; i < 3; i++) {
		tc_rw_cmd(&cmd, 0x02, 1, 0, sizeof(buf) / BS, buf, sizeof(buf));
		CHECK_EQ(tc_exec(&q, &cmd), 0);
		CHECK(cmd.c2h_success);
		CHECK(!cmd.got_rsp);
		CHECK_EQ(cmd.last_c2h_flags & (NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS),
			 NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
		CHECK_EQ(cmd.c2h_bytes, sizeof(buf));
		/* the next PDU must be the flush's response, not a stray response to the read */
		tc_cmd_init(&cmd, 0x00, 1);
		CHECK_EQ(tc_exec(&q, &cmd), 0);
		CHECK(cmd.got_rsp);
		CHECK_EQ(cmd.cqe.sqhd, 0xffff);
	}
	CHECK_EQ(q.proto_errs, 0);
	tc_close(&q);
	tc_close(&a);
}

static void h2c_split(uint32_t split)
{
	struct tc_conn a, q;
	struct tc_cmd cmd;
	uint32_t len = 128 * 1024;
	uint8_t *w = malloc(len), *r = malloc(len);

	REQUIRE(w && r);
	REQUIRE_EQ(tc_admin_session(&a, PORT, DIGEST, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, DIGEST, a.cntlid, 1, 127, 0), 0);
	tc_fill(w, len, split);
	tc_rw_cmd(&cmd, 0x01, 1, 1024 * 1024 / BS, len / BS, w, len);
	cmd.h2c_split = split;
	CHECK_EQ(tc_exec(&q, &cmd), 0);
	CHECK_EQ(cmd.r2t_bytes, len);
	/* every R2T answered by ceil(r2tl / split) PDUs: at least len / split in total */
	CHECK(cmd.n_h2c >= (int)((len + split - 1) / split));
	memset(r, 0, len);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 1024 * 1024 / BS, len / BS, r, len, false), 0);
	CHECK_EQ(tc_memdiff(r, w, len), -1);
	CHECK_EQ(q.proto_errs, 0);
	tc_close(&q);
	tc_close(&a);
	free(w);
	free(r);
}

static void t_split_4k(void) { h2c_split(4096); }
static void t_split_12k(void) { h2c_split(12288); }
static void t_split_1000(void) { h2c_split(1000); } /* PDU boundaries not block aligned */

/* Many commands in flight on one queue, completions matched by CID. */
static void t_pipeline(void)
{
	enum { N = 32, LEN = 8192 };
	struct tc_conn a, q;
	static struct tc_cmd cmds[N];
	uint8_t *w = malloc(N * LEN), *r = malloc(N * LEN);

	REQUIRE(w && r);
	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 127, 0), 0);
	tc_fill(w, N * LEN, 77);
	for (int i = 0; i < N; i++) {
		tc_rw_cmd(&cmds[i], 0x01, 1, (2u << 20) / BS + (uint32_t)i * (LEN / BS), LEN / BS,
			  w + i * LEN, LEN);
		cmds[i].incapsule = i % 2 && LEN <= ICD; /* half in-capsule, half by R2T */
	}
	REQUIRE_EQ(tc_exec_all(&q, cmds, N), 0);
	for (int i = 0; i < N; i++)
		tc_rw_cmd(&cmds[i], 0x02, 1, (2u << 20) / BS + (uint32_t)i * (LEN / BS), LEN / BS,
			  r + i * LEN, LEN);
	REQUIRE_EQ(tc_exec_all(&q, cmds, N), 0);
	CHECK_EQ(tc_memdiff(r, w, N * LEN), -1);
	CHECK_EQ(q.proto_errs, 0);
	tc_close(&q);
	tc_close(&a);
	free(w);
	free(r);
}

static void t_stop(void)
{
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	char name[96];
	int status;
	bool external = (PORT = tc_external_port()) > 0;

	alarm(220); /* last resort against a hang; the sockets time out long before */
	if (!external && !tc_suite_begin(&D, &PORT, t_stop, &status))
		return status;
	tap_run("LBA size of namespace 1", t_block_size);
	for (DIGEST = 0; DIGEST < 4; DIGEST++) {
		snprintf(name, sizeof(name), "ICResp fields, digest %s", digest_name(DIGEST));
		tap_run(name, t_icresp);
	}
	for (DIGEST = 0; DIGEST < 4; DIGEST++) {
		snprintf(name, sizeof(name), "all PDU types with digest %s", digest_name(DIGEST));
		tap_run(name, t_all_pdus);
	}
	tap_run("reads with SQ flow control: LAST, no SUCCESS, CapsuleResp, SQHD advances",
		t_c2h_sqflow_on);
	tap_run("reads with SQ flow control disabled: SUCCESS|LAST, no CapsuleResp, SQHD 0xFFFF",
		t_c2h_sqflow_off);
	for (DIGEST = 0; DIGEST < 4; DIGEST += 3) {
		snprintf(name, sizeof(name), "128 KiB write, H2CData split 4096, digest %s",
			 digest_name(DIGEST));
		tap_run(name, t_split_4k);
		snprintf(name, sizeof(name), "128 KiB write, H2CData split 12288, digest %s",
			 digest_name(DIGEST));
		tap_run(name, t_split_12k);
		snprintf(name, sizeof(name), "128 KiB write, H2CData split 1000, digest %s",
			 digest_name(DIGEST));
		tap_run(name, t_split_1000);
	}
	tap_run("32 commands in flight, completions by CID", t_pipeline);
	if (!external)
		tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
