/* SPDX-License-Identifier: MIT */
/*
 * Stream handling under awkward delivery: PDUs dribbled a byte per segment, many PDUs in
 * one segment, a peer that stops reading while it has reads outstanding, unsolicited
 * H2CData, and random garbage after ICReq. nvringd must answer correctly or terminate
 * only the offending connection, and keep serving a bystander session throughout.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "bystander.h"
#include "tclient.h"

static struct tc_daemon D;
static int PORT;
/* a session that must keep being served while other connections misbehave */
static struct tc_bystander BY = {.lba = 8, .seed = 777};

static void parallel_session(void)
{
	tc_bystander_open(&BY, PORT);
}

static void parallel_check(void)
{
	tc_bystander_check(&BY);
}

/* Every PDU of a full session sent one byte per send() (TCP_NODELAY: one per segment). */
static void dribble(uint8_t digest)
{
	struct tc_conn a, q;
	uint8_t w[12288], r[12288];
	struct tc_cmd cmd;

	REQUIRE_EQ(tc_open(&a, PORT), 0);
	a.send_chunk = 1;
	REQUIRE_EQ(tc_icreq(&a, digest, NULL), 0);
	{
		struct tc_connect_args ca;

		tc_connect_args_default(&ca, 0, 0xffff);
		REQUIRE_EQ(tc_fabrics_connect(&a, &ca, NULL), 0);
	}
	REQUIRE_EQ(tc_enable(&a, 0), 0);
	REQUIRE_EQ(tc_open(&q, PORT), 0);
	q.send_chunk = 3;
	REQUIRE_EQ(tc_icreq(&q, digest, NULL), 0);
	{
		struct tc_connect_args ca;

		tc_connect_args_default(&ca, 1, a.cntlid);
		REQUIRE_EQ(tc_fabrics_connect(&q, &ca, NULL), 0);
	}
	tc_fill(w, sizeof(w), digest + 50);
	CHECK_EQ(tc_rw(&q, 0x01, 1, 2048, 8, w, 4096, true), 0);      /* in-capsule */
	tc_rw_cmd(&cmd, 0x01, 1, 2048 + 8, 8192 / 512, w + 4096, 8192); /* R2T, 3 H2CData */
	cmd.h2c_split = 3000;
	CHECK_EQ(tc_exec(&q, &cmd), 0);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 2048, 24, r, sizeof(r), false), 0);
	CHECK_EQ(tc_memdiff(r, w, sizeof(r)), -1);
	CHECK_EQ(q.proto_errs + a.proto_errs, 0);
	tc_close(&q);
	tc_close(&a);
	parallel_check();
}

static void t_dribble_plain(void) { dribble(0); }
static void t_dribble_digests(void)
{
	dribble(NVME_TCP_HDR_DIGEST_ENABLE | NVME_TCP_DATA_DIGEST_ENABLE);
}

/* 64 capsules (reads, in-capsule writes, R2T writes) in a single send. */
static void t_coalesced(void)
{
	enum { N = 64, LEN = 4096 };
	struct tc_conn a, q;
	static struct tc_cmd cmds[N];
	static uint8_t w[N * LEN], r[N * LEN];

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 3, a.cntlid, 1, 127, 0), 0);
	tc_fill(w, sizeof(w), 99);
	q.batching = true;
	for (int i = 0; i < N; i++) {
		tc_rw_cmd(&cmds[i], 0x01, 1, 30000 + (uint32_t)i * 8, 8, w + i * LEN, LEN);
		cmds[i].incapsule = i % 4 != 0; /* every fourth by R2T */
	}
	REQUIRE_EQ(tc_exec_all(&q, cmds, N), 0);
	q.batching = true;
	for (int i = 0; i < N; i++)
		tc_rw_cmd(&cmds[i], 0x02, 1, 30000 + (uint32_t)i * 8, 8, r + i * LEN, LEN);
	REQUIRE_EQ(tc_exec_all(&q, cmds, N), 0);
	CHECK_EQ(tc_memdiff(r, w, sizeof(r)), -1);
	CHECK_EQ(q.proto_errs, 0);
	tc_close(&q);
	tc_close(&a);
}

/*
 * A host that queues 100 reads of 128 KiB (12.5 MiB) and does not read its socket: the
 * target's sends back up, yet the bystander on the same daemon is served. Afterwards the
 * slow host drains everything and gets every byte right.
 */
static void t_slow_reader(void)
{
	enum { N = 100, LEN = 128 * 1024 };
	struct tc_conn a, q;
	static struct tc_cmd cmds[N];
	uint8_t *r = malloc((size_t)N * LEN), *w = malloc(LEN);

	REQUIRE(r && w);
	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 127, 0), 0);
	tc_fill(w, LEN, 1234);
	REQUIRE_EQ(tc_rw(&q, 0x01, 1, 60000, LEN / 512, w, LEN, false), 0);
	for (int i = 0; i < N; i++) {
		tc_rw_cmd(&cmds[i], 0x02, 1, 60000, LEN / 512, r + (size_t)i * LEN, LEN);
		REQUIRE_EQ(tc_submit(&q, &cmds[i]), 0);
	}
	/* the bystander, possibly on the same worker, still gets answers */
	for (int i = 0; i < 5; i++)
		parallel_check();
	for (int i = 0; i < N; i++) {
		REQUIRE_EQ(tc_wait(&q, &cmds[i]), 0);
		CHECK_EQ(cmds[i].status, 0);
		CHECK_EQ(tc_memdiff(r + (size_t)i * LEN, w, LEN), -1);
	}
	CHECK_EQ(q.proto_errs, 0);
	tc_close(&q);
	tc_close(&a);
	free(r);
	free(w);
}

/* H2CData nobody asked for (no R2T outstanding): a fatal transport error for that queue. */
static void t_unsolicited_h2c(void)
{
	struct tc_conn a, q;
	uint8_t pdu[24 + 512] = { 0 };
	struct nvme_tcp_data_pdu *d = (struct nvme_tcp_data_pdu *)pdu;

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 127, 0), 0);
	d->hdr.type = NVME_TCP_H2C_DATA;
	d->hdr.flags = NVME_TCP_F_DATA_LAST;
	d->hdr.hlen = 24;
	d->hdr.pdo = 24;
	d->hdr.plen = sizeof(pdu);
	d->cccid = 77;
	d->ttag = 0x1234;
	d->datal = 512;
	REQUIRE_EQ(tc_send(&q, pdu, sizeof(pdu)), 0);
	/* an unknown ttag is an Invalid PDU Header Field (FEI 10) or, as
	 * SPDK answers for an unknown command, a sequence/parameter error; any TermReq, then close */
	CHECK_EQ(tc_expect_term(&q), 0);
	CHECK(q.term_fes >= 1 && q.term_fes <= 6);
	tap_diag("unsolicited H2CData: FES %u FEI %u", q.term_fes, q.term_fei);
	CHECK_EQ(tc_wait_closed(&q, 3000), 0);
	tc_close(&q);
	tc_close(&a);
	parallel_check();
}

/* Random bytes after ICReq, 200 rounds: each ends in TermReq or close, the daemon lives. */
static void t_garbage(void)
{
	uint32_t seed = 0x5eed;
	int terms = 0, closes = 0;

	for (int i = 0; i < 200; i++) {
		struct tc_conn c;
		uint8_t junk[300];
		size_t len;
		int r;

		if (!CHECK_EQ(tc_open(&c, PORT), 0))
			break;
		if (!CHECK_EQ(tc_icreq(&c, (uint8_t)(i & 3), NULL), 0)) {
			tc_close(&c);
			break;
		}
		tc_fill(junk, sizeof(junk), seed + (uint32_t)i);
		len = 8 + (size_t)junk[299] % 280;
		/* keep plen plausible in half the rounds so the header checks, not just plen, run */
		if (i % 2) {
			uint32_t plen = (uint32_t)len;

			junk[0] = (uint8_t)(junk[0] % 10);
			memcpy(junk + 4, &plen, 4);
		}
		tc_send(&c, junk, len);
		/* a plausible PDU may also wait for more bytes: then our close ends it */
		shutdown(c.fd, SHUT_WR);
		r = tc_expect_term(&c);
		if (r == 0)
			terms++;
		else if (r == -ECONNRESET)
			closes++;
		else
			CHECK_EQ(r, 0);
		tc_close(&c);
	}
	tap_diag("garbage: %d TermReq, %d plain close", terms, closes);
	parallel_check();
}


/* 8 threads, each with its own I/O queue (qid 1..8) and LBA range, write+verify at QD 8. */
struct worker_arg {
	int qid;
	uint16_t cntlid;
	int errors;
	int ios;
};

static void *io_worker(void *p)
{
	enum { QD = 8, LEN = 16384, ROUNDS = 40 };
	struct worker_arg *wa = p;
	struct tc_conn q;
	struct tc_cmd cmds[QD];
	uint8_t *w = malloc(QD * LEN), *r = malloc(QD * LEN);
	uint32_t base = 70000 + (uint32_t)wa->qid * 4096;

	if (!w || !r || tc_io_session(&q, PORT, (uint8_t)(wa->qid & 3), wa->cntlid,
				       (uint16_t)wa->qid, 63, 0) != 0) {
		wa->errors++;
		goto out;
	}
	for (int round = 0; round < ROUNDS && !wa->errors; round++) {
		tc_fill(w, QD * LEN, (uint32_t)(wa->qid * 1000 + round));
		for (int i = 0; i < QD; i++) {
			tc_rw_cmd(&cmds[i], 0x01, 1, base + (uint32_t)i * (LEN / 512), LEN / 512,
				  w + i * LEN, LEN);
			cmds[i].h2c_split = (uint32_t)(4096 << (round % 3));
		}
		if (tc_exec_all(&q, cmds, QD) != 0)
			wa->errors++;
		for (int i = 0; i < QD; i++)
			tc_rw_cmd(&cmds[i], 0x02, 1, base + (uint32_t)i * (LEN / 512), LEN / 512,
				  r + i * LEN, LEN);
		if (tc_exec_all(&q, cmds, QD) != 0)
			wa->errors++;
		if (tc_memdiff(r, w, QD * LEN) != -1)
			wa->errors++;
		wa->ios += 2 * QD;
	}
	wa->errors += q.proto_errs;
	tc_close(&q);
out:
	free(w);
	free(r);
	return NULL;
}

static void t_parallel_queues(void)
{
	enum { T = 8 };
	struct tc_conn a;
	pthread_t th[T];
	struct worker_arg wa[T];
	uint32_t dw0 = 0;

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_set_features(&a, 0x07, (T - 1u) << 16 | (T - 1u), &dw0), 0);
	REQUIRE((dw0 & 0xffff) + 1 >= T && (dw0 >> 16) + 1 >= T);
	for (int i = 0; i < T; i++) {
		wa[i] = (struct worker_arg){ .qid = i + 1, .cntlid = a.cntlid };
		REQUIRE_EQ(pthread_create(&th[i], NULL, io_worker, &wa[i]), 0);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		if (!CHECK_EQ(wa[i].errors, 0))
			tap_diag("queue %d: %d errors after %d I/Os", wa[i].qid, wa[i].errors, wa[i].ios);
	}
	CHECK_EQ(tc_keep_alive(&a), 0);
	tc_close(&a);
}

/* 300 short sessions (admin + I/O queue): no descriptors left behind. */
static void t_session_churn(void)
{
	int base = tc_daemon_nfds(&D), now = -1;
	uint64_t end;

	REQUIRE(base > 0);
	for (int i = 0; i < 300; i++) {
		struct tc_conn a, q;
		uint8_t b[512];

		if (!CHECK_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0))
			break;
		if (!CHECK_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 31, 0), 0)) {
			tc_close(&a);
			break;
		}
		CHECK_EQ(tc_rw(&q, 0x02, 1, 0, 1, b, sizeof(b), false), 0);
		/* half close the I/O queue first, half the admin queue first */
		if (i % 2) {
			tc_close(&q);
			tc_close(&a);
		} else {
			tc_close(&a);
			tc_close(&q);
		}
	}
	end = tc_now_ms() + 5000;
	while (tc_now_ms() < end) {
		now = tc_daemon_nfds(&D);
		if (now <= base)
			break;
		usleep(10000); /* polling the fd table with a deadline */
	}
	if (!CHECK(now <= base))
		tap_diag("daemon fds: %d before, %d after", base, now);
	parallel_check();
}

/* Losing the admin queue ends the association: the target closes its I/O queues. */
static void t_admin_loss(void)
{
	struct tc_conn a, q;

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 31, 0), 0);
	tc_close(&a);
	/* NVMe-oF: a lost admin queue connection terminates the association and its I/O
	 * queues; waiting the whole 30 s KATO would not be "terminated" */
	CHECK_EQ(tc_wait_closed(&q, 3000), 0);
	tc_close(&q);
}


/* H2CData of two commands interleaved PDU by PDU (allowed: PDUs of different commands). */
static void t_interleaved_h2c(void)
{
	enum { LEN = 32768, STEP = 4096 };
	struct tc_conn a, q;
	static struct tc_cmd x, y;
	static uint8_t wx[LEN], wy[LEN], r[LEN];

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 3, a.cntlid, 1, 127, 0), 0);
	tc_fill(wx, LEN, 61);
	tc_fill(wy, LEN, 62);
	tc_rw_cmd(&x, 0x01, 1, 90000, LEN / 512, wx, LEN);
	x.defer_r2t = true;
	y = x;
	y.sqe.cdw10 = 90000 + LEN / 512;
	y.wbuf = wy;
	REQUIRE_EQ(tc_submit(&q, &x), 0);
	REQUIRE_EQ(tc_submit(&q, &y), 0);
	REQUIRE_EQ(tc_wait_r2t(&q, &x), 0);
	if (!y.n_r2t)
		REQUIRE_EQ(tc_wait_r2t(&q, &y), 0);
	REQUIRE_EQ(x.r2t_off, 0);
	REQUIRE_EQ(y.r2t_off, 0);
	/* the target may solicit less than everything per R2T; this test needs one R2T each */
	REQUIRE_EQ(x.r2t_len, LEN);
	REQUIRE_EQ(y.r2t_len, LEN);
	for (uint32_t off = 0; off < LEN; off += STEP) {
		REQUIRE_EQ(tc_h2c(&q, &x, off, STEP, off + STEP == LEN), 0);
		REQUIRE_EQ(tc_h2c(&q, &y, off, STEP, off + STEP == LEN), 0);
	}
	CHECK_EQ(tc_wait(&q, &x), 0);
	CHECK_EQ(tc_wait(&q, &y), 0);
	CHECK_EQ(x.status, 0);
	CHECK_EQ(y.status, 0);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 90000, LEN / 512, r, LEN, false), 0);
	CHECK_EQ(tc_memdiff(r, wx, LEN), -1);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 90000 + LEN / 512, LEN / 512, r, LEN, false), 0);
	CHECK_EQ(tc_memdiff(r, wy, LEN), -1);
	CHECK_EQ(q.proto_errs, 0);
	tc_close(&q);
	tc_close(&a);
}

/* A full queue: 128 writes of 128 KiB (16 MiB) outstanding, then 128 reads, verified. */
static void t_full_queue(void)
{
	enum { N = 128, LEN = 128 * 1024 };
	struct tc_conn a, q;
	static struct tc_cmd cmds[N];
	uint8_t *w = malloc((size_t)N * LEN), *r = malloc((size_t)N * LEN);

	REQUIRE(w && r);
	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 127, 0), 0);
	tc_fill(w, (size_t)N * LEN, 808);
	for (int i = 0; i < N; i++)
		tc_rw_cmd(&cmds[i], 0x01, 1, (uint32_t)i * (LEN / 512), LEN / 512,
			  w + (size_t)i * LEN, LEN);
	REQUIRE_EQ(tc_exec_all(&q, cmds, N), 0);
	for (int i = 0; i < N; i++)
		tc_rw_cmd(&cmds[i], 0x02, 1, (uint32_t)i * (LEN / 512), LEN / 512,
			  r + (size_t)i * LEN, LEN);
	REQUIRE_EQ(tc_exec_all(&q, cmds, N), 0);
	CHECK_EQ(tc_memdiff(r, w, (size_t)N * LEN), -1);
	CHECK_EQ(q.proto_errs, 0);
	tc_close(&q);
	tc_close(&a);
	free(w);
	free(r);
	parallel_check();
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
	tap_run("session dribbled 1-3 bytes per segment", t_dribble_plain);
	tap_run("session dribbled 1-3 bytes per segment, digests", t_dribble_digests);
	tap_run("64 capsules in one send, then 64 reads in one send", t_coalesced);
	tap_run("peer not reading 12.5 MiB of C2HData does not stall others", t_slow_reader);
	tap_run("unsolicited H2CData: TermReq and close", t_unsolicited_h2c);
	tap_run("random bytes after ICReq, 200 rounds", t_garbage);
	tap_run("8 I/O queues in 8 threads, write+verify at QD 8", t_parallel_queues);
	tap_run("300 sessions opened and closed: no fd leak", t_session_churn);
	tap_run("admin queue closed by host: I/O queues closed", t_admin_loss);
	tap_run("H2CData of two commands interleaved", t_interleaved_h2c);
	tap_run("128 x 128 KiB writes outstanding, then reads, verified", t_full_queue);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
