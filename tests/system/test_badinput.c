/* SPDX-License-Identifier: MIT */
/*
 * Malformed and out-of-sequence input: each case expects the exact C2HTermReq (FES, FEI =
 * byte offset of the bad field, error data = copy of the offending header) and then the
 * connection closing, or the exact NVMe status for per-command errors, while nvringd keeps
 * serving a parallel session opened before the bad input.
 * FES values: NVMe/TCP 1.0 H2C/C2HTermReq (reference A.5); FEI = field offset (SPDK layout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec/crc32c.h"
#include "tap.h"
#include "bystander.h"
#include "tclient.h"

#define ST_MASK 0x7ff
#define ANY_FEI (-1LL)

static struct tc_daemon D;
static int PORT;
/* a session that must keep being served while other connections misbehave */
static struct tc_bystander BY = {.lba = 64, .seed = 4242};

static void parallel_session(void)
{
	tc_bystander_open(&BY, PORT);
}

static void parallel_check(void)
{
	tc_bystander_check(&BY);
}

/*
 * Expect a C2HTermReq with fes/fei whose error data starts with the first hdrlen bytes of
 * hdr (the header we sent), then the connection closing.
 */
static void expect_term(struct tc_conn *c, uint16_t fes, long long fei, const void *hdr,
			size_t hdrlen)
{
	if (!c->got_term && !CHECK_EQ(tc_expect_term(c), 0))
		goto out;
	CHECK_EQ(c->term_fes, fes);
	if (fei != ANY_FEI)
		CHECK_EQ(c->term_fei, fei);
	CHECK_EQ(c->term_hlen, 24);
	CHECK(c->term_plen >= 24 && c->term_plen <= 24 + NVME_TCP_TERM_MAX_DATA);
	if (hdr) {
		size_t n = c->term_datalen < hdrlen ? c->term_datalen : hdrlen;

		/* error data: the offending PDU header (at least its common header) */
		CHECK(c->term_datalen >= 8);
		CHECK_EQ(memcmp(c->term_data, hdr, n), 0);
	}
	CHECK_EQ(tc_wait_closed(c, 3000), 0);
out:
	tc_close(c);
	parallel_check();
}

static bool fresh(struct tc_conn *c, uint8_t digest)
{
	return CHECK_EQ(tc_open(c, PORT), 0) && CHECK_EQ(tc_icreq(c, digest, NULL), 0);
}

/* An admin queue that is connected and enabled, with the given digests. */
static bool connected(struct tc_conn *c, uint8_t digest)
{
	return CHECK_EQ(tc_admin_session(c, PORT, digest, 30000, NULL), 0);
}

static bool io_connected(struct tc_conn *a, struct tc_conn *q, uint8_t digest)
{
	return connected(a, digest) &&
	       CHECK_EQ(tc_io_session(q, PORT, digest, a->cntlid, 1, 127, 0), 0);
}

/* A Keep Alive capsule, 72 bytes, no digests. */
static void ka_capsule(uint8_t pdu[72], uint16_t cid)
{
	struct nvme_tcp_cmd_pdu p = { 0 };

	p.hdr.type = NVME_TCP_CMD;
	p.hdr.hlen = 72;
	p.hdr.plen = 72;
	p.cmd.opcode = 0x18;
	p.cmd.flags = NVME_CMD_PSDT_SGL;
	p.cmd.cid = cid;
	p.cmd.sgl.type = NVME_SGL_TYPE_TRANSPORT;
	memcpy(pdu, &p, 72);
}

static void wrong_type(uint8_t type)
{
	struct tc_conn c;
	uint8_t pdu[24] = { type, 0, 24, 0, 24, 0, 0, 0 };

	REQUIRE(connected(&c, 0));
	REQUIRE_EQ(tc_send(&c, pdu, sizeof(pdu)), 0);
	expect_term(&c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_TYPE, pdu, 8);
}

static void t_type_c2h(void) { wrong_type(NVME_TCP_RSP); }
static void t_type_unknown(void) { wrong_type(0x08); }
static void t_type_icresp(void) { wrong_type(NVME_TCP_ICRESP); }

static void t_bad_hlen(void)
{
	struct tc_conn c;
	uint8_t pdu[72];

	REQUIRE(connected(&c, 0));
	ka_capsule(pdu, 100);
	pdu[2] = 70; /* CapsuleCmd hlen must be 72 */
	REQUIRE_EQ(tc_send(&c, pdu, sizeof(pdu)), 0);
	expect_term(&c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_HLEN, pdu, 8);
}

static void t_bad_pdo(void)
{
	struct tc_conn c;
	uint8_t pdu[72 + 512] = { 0 };
	struct nvme_tcp_cmd_pdu *p = (struct nvme_tcp_cmd_pdu *)pdu;

	REQUIRE(connected(&c, 0));
	/* an in-capsule write whose data would start inside the header */
	p->hdr.type = NVME_TCP_CMD;
	p->hdr.hlen = 72;
	p->hdr.pdo = 16;
	p->hdr.plen = sizeof(pdu);
	p->cmd.opcode = 0x7f; /* Connect-like fabrics command carrying data */
	p->cmd.flags = NVME_CMD_PSDT_SGL;
	p->cmd.cid = 7;
	p->cmd.sgl.type = NVME_SGL_TYPE_ICD;
	p->cmd.sgl.length = 512;
	REQUIRE_EQ(tc_send(&c, pdu, sizeof(pdu)), 0);
	expect_term(&c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PDO, pdu, 72);
}

static void t_bad_plen(void)
{
	struct tc_conn c;
	uint8_t pdu[72];

	REQUIRE(connected(&c, 0));
	ka_capsule(pdu, 101);
	pdu[4] = 40; /* plen shorter than the header */
	REQUIRE_EQ(tc_send(&c, pdu, sizeof(pdu)), 0);
	expect_term(&c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_PLEN, pdu, 8);
}

static void t_icreq_twice(void)
{
	struct tc_conn c;
	struct nvme_tcp_icreq_pdu req;

	REQUIRE(fresh(&c, 0));
	tc_icreq_pdu(&req, 0, 0, 0);
	REQUIRE_EQ(tc_send(&c, &req, sizeof(req)), 0);
	expect_term(&c, NVME_TCP_FES_PDU_SEQ_ERR, ANY_FEI, &req, 8);
}

static void t_capsule_before_icreq(void)
{
	struct tc_conn c;
	uint8_t pdu[72];

	REQUIRE_EQ(tc_open(&c, PORT), 0);
	ka_capsule(pdu, 1);
	REQUIRE_EQ(tc_send(&c, pdu, sizeof(pdu)), 0);
	expect_term(&c, NVME_TCP_FES_PDU_SEQ_ERR, ANY_FEI, pdu, 8);
}

static void t_icreq_pfv(void)
{
	struct tc_conn c;
	struct nvme_tcp_icreq_pdu req;

	REQUIRE_EQ(tc_open(&c, PORT), 0);
	tc_icreq_pdu(&req, 1, 0, 0);
	CHECK_EQ(tc_icreq_raw(&c, 1, 0, 0, NULL), -EPROTO);
	expect_term(&c, NVME_TCP_FES_UNSUPPORTED_PARAM, 8, &req, 128);
}

static void t_icreq_hpda(void)
{
	struct tc_conn c;
	struct nvme_tcp_icreq_pdu req;

	REQUIRE_EQ(tc_open(&c, PORT), 0);
	tc_icreq_pdu(&req, 0, 1, 0);
	CHECK_EQ(tc_icreq_raw(&c, 0, 1, 0, NULL), -EPROTO);
	expect_term(&c, NVME_TCP_FES_UNSUPPORTED_PARAM, 10, &req, 128);
}

/* An ICReq whose common header is wrong in one field: Invalid PDU Header Field at fei. */
static void icreq_bad_hdr(uint8_t hlen, uint8_t pdo, uint32_t plen, uint32_t fei)
{
	struct tc_conn c;
	struct nvme_tcp_icreq_pdu req;

	REQUIRE_EQ(tc_open(&c, PORT), 0);
	tc_icreq_pdu(&req, 0, 0, 0);
	req.hdr.hlen = hlen;
	req.hdr.pdo = pdo;
	req.hdr.plen = plen;
	REQUIRE_EQ(tc_send(&c, &req, sizeof(req)), 0);
	expect_term(&c, NVME_TCP_FES_INVALID_PDU_HDR, fei, &req, 8);
}

static void t_icreq_hlen(void) { icreq_bad_hdr(120, 0, 128, NVME_TCP_FEI_HLEN); }
static void t_icreq_pdo(void) { icreq_bad_hdr(128, 8, 128, NVME_TCP_FEI_PDO); }
static void t_icreq_plen(void) { icreq_bad_hdr(128, 0, 132, NVME_TCP_FEI_PLEN); }

static void t_type_before_icreq(void)
{
	struct tc_conn c;
	uint8_t pdu[24] = { 0x08, 0, 24, 0, 24, 0, 0, 0 };

	REQUIRE_EQ(tc_open(&c, PORT), 0);
	REQUIRE_EQ(tc_send(&c, pdu, sizeof(pdu)), 0);
	expect_term(&c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_TYPE, pdu, 8);
}

/* Digest flags in a capsule header that disagree with what ICReq negotiated. */
static void capsule_bad_flags(uint8_t digest, uint8_t flags)
{
	struct tc_conn c;
	uint8_t pdu[72];

	REQUIRE(connected(&c, digest));
	ka_capsule(pdu, 102);
	pdu[1] = flags;
	REQUIRE_EQ(tc_send(&c, pdu, sizeof(pdu)), 0);
	expect_term(&c, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FEI_FLAGS, pdu, 8);
}

static void t_hdgst_flag_not_negotiated(void) { capsule_bad_flags(0, NVME_TCP_F_HDGST); }
/* data digest negotiated, but a capsule without data cannot carry one */
static void t_ddgst_flag_no_data(void)
{
	capsule_bad_flags(NVME_TCP_DATA_DIGEST_ENABLE, NVME_TCP_F_DDGST);
}

static void t_bad_hdgst(void)
{
	struct tc_conn c;
	struct tc_cmd cmd;

	REQUIRE(connected(&c, NVME_TCP_HDR_DIGEST_ENABLE));
	tc_cmd_init(&cmd, 0x18, 0);
	cmd.bad_hdgst = true;
	REQUIRE_EQ(tc_submit(&c, &cmd), 0);
	expect_term(&c, NVME_TCP_FES_HDR_DIGEST_ERR, ANY_FEI, &(uint8_t[2]){ NVME_TCP_CMD, 0x01 }, 2);
}

/* An R2T write of 16 KiB at LBA 128 on a fresh I/O queue, misbehaving per the knobs. */
static void r2t_write(struct tc_cmd *cmd, uint8_t *buf)
{
	tc_fill(buf, 16384, 9);
	tc_rw_cmd(cmd, 0x01, 1, 128, 32, buf, 16384);
}

/* An R2T write whose H2CData is wrong as the knobs in `bad` say (ttag, cccid, datao, LAST). */
static void h2c_misbehave(const struct tc_cmd *bad, uint16_t fes, long long fei)
{
	struct tc_conn a, q;
	struct tc_cmd cmd;
	uint8_t buf[16384];
	uint8_t hdr[2] = { NVME_TCP_H2C_DATA, 0 };

	REQUIRE(io_connected(&a, &q, 0));
	r2t_write(&cmd, buf);
	cmd.ttag_delta = bad->ttag_delta;
	cmd.cccid_delta = bad->cccid_delta;
	cmd.datao_delta = bad->datao_delta;
	cmd.no_last = bad->no_last;
	CHECK_EQ(tc_exec(&q, &cmd), -EPROTO);
	CHECK(q.got_term);
	CHECK_EQ(cmd.n_r2t, 1);
	/* error data starts with our H2CData common header: type 6 */
	expect_term(&q, fes, fei, hdr, 1);
	tc_close(&a);
}

static void t_h2c_ttag(void)
{
	h2c_misbehave(&(struct tc_cmd){ .ttag_delta = 1 }, NVME_TCP_FES_INVALID_PDU_HDR, 10);
}

static void t_h2c_cccid(void)
{
	h2c_misbehave(&(struct tc_cmd){ .cccid_delta = 1 }, NVME_TCP_FES_INVALID_PDU_HDR, 8);
}

static void t_h2c_datao(void)
{
	h2c_misbehave(&(struct tc_cmd){ .datao_delta = 512 }, NVME_TCP_FES_DATA_OUT_OF_RANGE,
		      ANY_FEI);
}

/* the H2CData that completes the R2T without DATA_LAST */
static void t_h2c_no_last(void)
{
	h2c_misbehave(&(struct tc_cmd){ .no_last = true }, NVME_TCP_FES_INVALID_PDU_HDR,
		      NVME_TCP_FEI_FLAGS);
}

static void t_h2c_datal(void)
{
	struct tc_conn a, q;
	struct tc_cmd cmd;
	uint8_t buf[16384];

	REQUIRE(io_connected(&a, &q, 0));
	r2t_write(&cmd, buf);
	cmd.datal_extra = 4096; /* more data than the R2T asked for */
	CHECK_EQ(tc_exec(&q, &cmd), -EPROTO);
	/* Data Transfer Out of Range (4) or Data Transfer Limit Exceeded (5) */
	if (!q.got_term)
		CHECK_EQ(tc_expect_term(&q), 0);
	CHECK(q.term_fes == NVME_TCP_FES_DATA_OUT_OF_RANGE ||
	      q.term_fes == NVME_TCP_FES_DATA_LIMIT_EXCEEDED);
	expect_term(&q, q.term_fes, ANY_FEI, NULL, 0);
	tc_close(&a);
}

static void t_h2c_ddgst(void)
{
	struct tc_conn a, q;
	struct tc_cmd cmd;
	uint8_t buf[16384], r[16384], old[16384];

	REQUIRE(io_connected(&a, &q, NVME_TCP_DATA_DIGEST_ENABLE));
	CHECK_EQ(tc_rw(&q, 0x02, 1, 128, 32, old, sizeof(old), false), 0);
	r2t_write(&cmd, buf);
	cmd.bad_ddgst = true;
	/* SPDK behaviour (reference A.8): the command fails with Transient Transport Error */
	CHECK_EQ(tc_exec(&q, &cmd) & ST_MASK, 0x22);
	/* in-capsule data with a bad digest too */
	tc_rw_cmd(&cmd, 0x01, 1, 128, 8, buf, 4096);
	cmd.incapsule = true;
	cmd.bad_ddgst = true;
	CHECK_EQ(tc_exec(&q, &cmd) & ST_MASK, 0x22);
	/* the queue keeps working and the bad data was not written */
	CHECK_EQ(tc_rw(&q, 0x02, 1, 128, 32, r, sizeof(r), false), 0);
	CHECK_EQ(tc_memdiff(r, old, sizeof(r)), -1);
	CHECK_EQ(tc_rw(&q, 0x01, 1, 128, 32, buf, sizeof(buf), false), 0);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 128, 32, r, sizeof(r), false), 0);
	CHECK_EQ(tc_memdiff(r, buf, sizeof(r)), -1);
	CHECK(!q.got_term);
	tc_close(&q);
	tc_close(&a);
	parallel_check();
}

static void t_icd_too_big(void)
{
	struct tc_conn a, q;
	uint8_t *b = calloc(1, 3 * 4096);

	REQUIRE(b);
	REQUIRE(io_connected(&a, &q, 0));
	/* 12 KiB in-capsule on an 8 KiB IOCCSZ queue: SGL Offset Invalid with DNR (ref A.9) */
	CHECK_EQ(tc_rw(&q, 0x01, 1, 0, 24, b, 3 * 4096, true), NVME_STATUS_DNR | 0x16);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 0, 24, b, 3 * 4096, false), 0);
	CHECK(!q.got_term);
	tc_close(&q);
	tc_close(&a);
	parallel_check();
	free(b);
}

static void t_io_before_connect(void)
{
	struct tc_conn c;
	uint8_t b[512];
	int st;

	REQUIRE(fresh(&c, 0));
	st = tc_rw(&c, 0x02, 1, 0, 1, b, sizeof(b), false);
	CHECK(st > 0);
	CHECK((st & ST_MASK) == 0x01 || (st & ST_MASK) == 0x0c);
	tc_close(&c);
	parallel_check();
}

static void t_h2c_termreq(void)
{
	struct tc_conn c;
	uint8_t pdu[24] = { NVME_TCP_H2C_TERM, 0, 24, 0, 24, 0, 0, 0, 0x02, 0 };

	REQUIRE(connected(&c, 0));
	REQUIRE_EQ(tc_send(&c, pdu, sizeof(pdu)), 0);
	/* the receiver of a TermReq closes without answering with one */
	CHECK_EQ(tc_wait_closed(&c, 3000), 0);
	tc_close(&c);
	parallel_check();
}


/* A capsule announcing 2 GiB of in-capsule data must not make the daemon buffer it. */
static void t_huge_plen(void)
{
	struct tc_conn a, q;
	struct nvme_tcp_cmd_pdu p = { 0 };

	REQUIRE(io_connected(&a, &q, 0));
	p.hdr.type = NVME_TCP_CMD;
	p.hdr.hlen = 72;
	p.hdr.pdo = 72;
	p.hdr.plen = 0x7fffffff;
	p.cmd.opcode = 0x01;
	p.cmd.flags = NVME_CMD_PSDT_SGL;
	p.cmd.cid = 5;
	p.cmd.nsid = 1;
	p.cmd.sgl.type = NVME_SGL_TYPE_ICD;
	p.cmd.sgl.length = 0x7fffffff - 72;
	p.cmd.cdw12 = 0xffff;
	REQUIRE_EQ(tc_send(&q, &p, sizeof(p)), 0);
	/* plen beyond anything the queue accepts: Invalid PDU Header Field at plen (FEI 4), or
	 * Data Transfer Limit Exceeded (FES 5) */
	if (CHECK_EQ(tc_expect_term(&q), 0)) {
		CHECK(q.term_fes == NVME_TCP_FES_INVALID_PDU_HDR ||
		      q.term_fes == NVME_TCP_FES_DATA_LIMIT_EXCEEDED);
		if (q.term_fes == NVME_TCP_FES_INVALID_PDU_HDR)
			CHECK_EQ(q.term_fei, NVME_TCP_FEI_PLEN);
	}
	CHECK_EQ(tc_wait_closed(&q, 3000), 0);
	tc_close(&q);
	tc_close(&a);
	parallel_check();
}

/* Admin data transfers above MDTS are refused before any buffer is set up. */
static void t_admin_oversize(void)
{
	struct tc_conn c;
	struct tc_cmd cmd;
	uint8_t *b = malloc(16u << 20);

	REQUIRE(b);
	REQUIRE(connected(&c, 0));
	tc_cmd_init(&cmd, 0x06, 0);
	cmd.sqe.cdw10 = 1;
	cmd.rbuf = b;
	cmd.rlen = 16u << 20;
	CHECK_EQ(tc_exec(&c, &cmd) & ST_MASK, 0x02);
	CHECK_EQ(cmd.n_c2h, 0);
	CHECK_EQ(tc_get_log(&c, 0x02, 0xffffffff, 0, b, 16u << 20) & ST_MASK, 0x02);
	CHECK_EQ(tc_identify(&c, 1, 0, 0, b), 0);
	tc_close(&c);
	free(b);
	parallel_check();
}

/* Peers vanishing mid-PDU: no crash, no leaked descriptors, others served. */
static void t_close_mid_pdu(void)
{
	int base = tc_daemon_nfds(&D), now = -1;
	uint64_t end;

	REQUIRE(base > 0);
	for (int i = 0; i < 30; i++) {
		struct tc_conn c;
		uint8_t pdu[72];

		REQUIRE_EQ(tc_open(&c, PORT), 0);
		switch (i % 3) {
		case 0: { /* half an ICReq */
			uint8_t ic[64] = { NVME_TCP_ICREQ, 0, 128, 0, 128 };

			tc_send(&c, ic, sizeof(ic));
			break;
		}
		case 1: /* half a capsule after ICReq */
			tc_icreq(&c, 0, NULL);
			ka_capsule(pdu, 3);
			tc_send(&c, pdu, 30);
			break;
		default: { /* half the in-capsule data of a connected queue */
			struct tc_connect_args a;
			uint8_t cap[72 + 100];
			struct nvme_tcp_cmd_pdu *p = (struct nvme_tcp_cmd_pdu *)cap;

			tc_icreq(&c, 0, NULL);
			tc_connect_args_default(&a, 0, 0xffff);
			tc_fabrics_connect(&c, &a, NULL);
			memset(cap, 0, sizeof(cap));
			p->hdr.type = NVME_TCP_CMD;
			p->hdr.hlen = 72;
			p->hdr.pdo = 72;
			p->hdr.plen = 72 + 4096;
			p->cmd.opcode = 0x09; /* Set Features with data */
			p->cmd.flags = NVME_CMD_PSDT_SGL;
			p->cmd.cid = 9;
			p->cmd.sgl.type = NVME_SGL_TYPE_ICD;
			p->cmd.sgl.length = 4096;
			tc_send(&c, cap, sizeof(cap));
			break;
		}
		}
		tc_close(&c);
	}
	parallel_check();
	/* the daemon notices the closes asynchronously: poll its fd table with a deadline */
	end = tc_now_ms() + 5000;
	while (tc_now_ms() < end) {
		now = tc_daemon_nfds(&D);
		if (now <= base)
			break;
		usleep(10000);
	}
	CHECK(now <= base);
	if (now > base)
		tap_diag("daemon fds: %d before, %d after", base, now);
}

static void t_stop(void)
{
	tc_bystander_close(&BY);
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	int status;

	if (!tc_suite_begin(&D, &PORT, t_stop, &status))
		return status;
	tap_run("bystander session", parallel_session);
	tap_run("PDU type CapsuleResp from host: FES 1 FEI 0", t_type_c2h);
	tap_run("PDU type 0x08: FES 1 FEI 0", t_type_unknown);
	tap_run("PDU type ICResp from host: FES 1 FEI 0", t_type_icresp);
	tap_run("CapsuleCmd hlen 70: FES 1 FEI 2", t_bad_hlen);
	tap_run("CapsuleCmd pdo inside header: FES 1 FEI 3", t_bad_pdo);
	tap_run("CapsuleCmd plen < hlen: FES 1 FEI 4", t_bad_plen);
	tap_run("ICReq twice: FES 2", t_icreq_twice);
	tap_run("CapsuleCmd before ICReq: FES 2", t_capsule_before_icreq);
	tap_run("ICReq pfv 1: FES 6 FEI 8", t_icreq_pfv);
	tap_run("ICReq hpda 1: FES 6 FEI 10", t_icreq_hpda);
	tap_run("ICReq hlen 120: FES 1 FEI 2", t_icreq_hlen);
	tap_run("ICReq pdo 8: FES 1 FEI 3", t_icreq_pdo);
	tap_run("ICReq plen 132: FES 1 FEI 4", t_icreq_plen);
	tap_run("PDU type 0x08 before ICReq: FES 1 FEI 0", t_type_before_icreq);
	tap_run("CapsuleCmd HDGST flag without header digest: FES 1 FEI 1",
		t_hdgst_flag_not_negotiated);
	tap_run("CapsuleCmd without data with DDGST flag: FES 1 FEI 1", t_ddgst_flag_no_data);
	tap_run("bad header digest: FES 3", t_bad_hdgst);
	tap_run("H2CData wrong ttag: FES 1 FEI 10", t_h2c_ttag);
	tap_run("H2CData wrong cccid: FES 1 FEI 8", t_h2c_cccid);
	tap_run("last H2CData without DATA_LAST: FES 1 FEI 1", t_h2c_no_last);
	tap_run("H2CData wrong datao: FES 4", t_h2c_datao);
	tap_run("H2CData datal beyond R2T: FES 4 or 5", t_h2c_datal);
	tap_run("bad data digest on H2C and in-capsule data: 0x22, queue keeps working",
		t_h2c_ddgst);
	tap_run("in-capsule data above IOCCSZ: SGL Offset Invalid with DNR", t_icd_too_big);
	tap_run("I/O before Connect rejected", t_io_before_connect);
	tap_run("H2CTermReq from host: target closes", t_h2c_termreq);
	tap_run("capsule with plen 2 GiB: TermReq, nothing buffered", t_huge_plen);
	tap_run("admin transfers of 16 MiB: Invalid Field", t_admin_oversize);
	tap_run("30 peers closing mid-PDU: no fd leak, others served", t_close_mid_pdu);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
