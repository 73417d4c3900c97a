/* SPDX-License-Identifier: MIT */
/*
 * Controller and daemon lifetime: keep-alive expiry tears the controller down (connection
 * closed, its CNTLID no longer accepted), Keep Alive commands keep it alive, and SIGTERM
 * with commands in flight completes or fails every command and exits 0.
 * Waits are bounded polls on sockets, never sleeps that decide the outcome.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "bystander.h"
#include "tclient.h"

#define ST_MASK 0x7ff

static struct tc_daemon D;
static int PORT;

static void t_kato_expires(void)
{
	struct tc_conn a, q;
	struct tc_connect_args ca;
	struct nvme_cqe cqe;
	uint64_t t0, dt;
	uint16_t cntlid;

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 1000, NULL), 0);
	cntlid = a.cntlid;
	t0 = tc_now_ms();
	/* silence: the target must close the admin connection after KATO (KAS 1 s units) */
	CHECK_EQ(tc_wait_closed(&a, 6000), 0);
	dt = tc_now_ms() - t0;
	tap_diag("admin queue closed %llu ms after the last command (KATO 1000 ms)",
		 (unsigned long long)dt);
	CHECK(dt >= 900);
	tc_close(&a);
	/* the controller is gone: an I/O Connect naming it fails, IPO 16 (CNTLID) in the data */
	REQUIRE_EQ(tc_open(&q, PORT), 0);
	REQUIRE_EQ(tc_icreq(&q, 0, NULL), 0);
	tc_connect_args_default(&ca, 1, cntlid);
	CHECK_EQ(tc_fabrics_connect(&q, &ca, &cqe) & ST_MASK, 0x182);
	CHECK_EQ(cqe.dw0, (1u << 16) | 16);
	tc_close(&q);
}

/* KATO expiry also closes the controller's I/O queues. */
static void t_kato_io_queues(void)
{
	struct tc_conn a, q;

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 2000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 31, 0), 0);
	CHECK_EQ(tc_wait_closed(&a, 8000), 0);
	CHECK_EQ(tc_wait_closed(&q, 3000), 0);
	tc_close(&q);
	tc_close(&a);
}

static void t_kato_kept(void)
{
	struct tc_conn a, q;
	uint8_t b[512];
	uint64_t end;
	int n = 0;

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 1000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 31, 0), 0);
	/* 3.5 s, four KATOs, with a Keep Alive every 250 ms (the host sends every KATO/2) */
	end = tc_now_ms() + 3500;
	while (tc_now_ms() < end) {
		struct tc_conn *c = &a;

		if (!CHECK_EQ(tc_keep_alive(c), 0))
			break;
		n++;
		/* wait 250 ms for anything from the target: nothing must arrive */
		if (!CHECK_EQ(tc_wait_closed(&a, 250), -ETIMEDOUT))
			break;
	}
	tap_diag("%d keep alives sent", n);
	CHECK_EQ(tc_keep_alive(&a), 0);
	/* the I/O queue's traffic does not count; it is still usable while the admin queue lives */
	CHECK_EQ(tc_rw(&q, 0x02, 1, 0, 1, b, sizeof(b), false), 0);
	tc_close(&q);
	tc_close(&a);
}

/* Many commands outstanding when SIGTERM arrives. */
static void t_sigterm_inflight(void)
{
	enum { N = 64, LEN = 65536 };
	struct tc_daemon d2;
	struct tc_conn a = { .fd = -1 }, q = { .fd = -1 };
	static struct tc_cmd cmds[N];
	uint8_t *buf = malloc((size_t)N * LEN);
	int completed = 0, failed_st = 0, r = 0, ret;

	REQUIRE(buf);
	REQUIRE_EQ(tc_daemon_start(&d2, tc_default_args), 0);
	PORT = d2.ports[0];
	if (!CHECK_EQ(tc_admin_session(&a, PORT, 0, 30000, NULL), 0) ||
	    !CHECK_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 127, 0), 0))
		goto out;
	tc_fill(buf, (size_t)N * LEN, 3);
	for (int i = 0; i < N; i++) {
		tc_cmd_init(&cmds[i], i % 2 ? 0x02 : 0x01, 1);
		cmds[i].sqe.cdw10 = (uint32_t)i * (LEN / 512);
		cmds[i].sqe.cdw12 = LEN / 512 - 1;
		if (i % 2) {
			cmds[i].rbuf = buf + (size_t)i * LEN;
			cmds[i].rlen = LEN;
		} else {
			cmds[i].wbuf = buf + (size_t)i * LEN;
			cmds[i].wlen = LEN;
		}
		if (!CHECK_EQ(tc_submit(&q, &cmds[i]), 0))
			goto out;
	}
	kill(d2.pid, SIGTERM);
	/* drive every command to an end: completion, or the connection closing */
	for (int i = 0; i < N && r == 0; i++)
		r = tc_wait(&q, &cmds[i]);
	for (int i = 0; i < N; i++) {
		if (cmds[i].done)
			completed++;
		if (cmds[i].done && cmds[i].status) {
			failed_st++;
			tap_diag("command %d (%s) ended with status %#x", i, i % 2 ? "read" : "write",
				 cmds[i].status);
		}
		/* a read that did succeed returns what the fresh namespace holds: zeros */
		if (cmds[i].done && !cmds[i].status && i % 2) {
			static const uint8_t zero[LEN];

			CHECK_EQ(tc_memdiff(buf + (size_t)i * LEN, zero, LEN), -1);
		}
	}
	tap_diag("after SIGTERM: %d of %d completed (%d with an error status), then %d", completed,
		 N, failed_st, r);
	/* either everything completed, or the connection closed cleanly (no garbage, no hang) */
	CHECK(completed == N || r == -ECONNRESET);
	CHECK(r == 0 || r == -ECONNRESET);
	CHECK_EQ(q.proto_errs, 0);
out:
	ret = tc_daemon_stop(&d2, 10000);
	CHECK_EQ(ret, 0);
	tc_close(&q);
	tc_close(&a);
	PORT = D.ports[0];
	free(buf);
}

/* SIGTERM with idle connections open. */
static void t_sigterm_idle(void)
{
	struct tc_daemon d2;
	struct tc_conn a, q;

	REQUIRE_EQ(tc_daemon_start(&d2, tc_default_args), 0);
	CHECK_EQ(tc_admin_session(&a, d2.ports[0], 0, 30000, NULL), 0);
	CHECK_EQ(tc_io_session(&q, d2.ports[0], 0, a.cntlid, 1, 127, 0), 0);
	CHECK_EQ(tc_daemon_stop(&d2, 10000), 0);
	/* the daemon is gone, so are its connections */
	CHECK_EQ(tc_wait_closed(&a, 1000), 0);
	CHECK_EQ(tc_wait_closed(&q, 1000), 0);
	tc_close(&q);
	tc_close(&a);
}

/* Two listeners: both ports serve I/O subsystems. */
static void t_two_listeners(void)
{
	static const char *const args[] = { "-l", "127.0.0.1:0", "-l", "127.0.0.1:0", "--ns",
					    "mem:4M", "-t", "2", NULL };
	struct tc_daemon d2;
	struct tc_conn a;

	REQUIRE_EQ(tc_daemon_start(&d2, args), 0);
	CHECK_EQ(d2.nports, 2);
	for (int i = 0; i < d2.nports && i < 2; i++) {
		CHECK(d2.ports[i] > 0);
		if (CHECK_EQ(tc_admin_session(&a, d2.ports[i], 0, 30000, NULL), 0))
			CHECK_EQ(tc_keep_alive(&a), 0);
		tc_close(&a);
	}
	CHECK_EQ(tc_daemon_stop(&d2, 10000), 0);
}

/* An IPv6 loopback listener serves, and discovery describes it as IPv6. */
static void t_ipv6(void)
{
	static const char *const args[] = { "-l", "[::1]:0", "--ns", "mem:4M", "-t", "1", NULL };
	struct tc_daemon d2;
	struct tc_conn a;
	struct tc_connect_args ca;
	uint8_t *log = calloc(1, 4096);
	char port[16];

	REQUIRE(log);
	REQUIRE_EQ(tc_daemon_start(&d2, args), 0);
	if (CHECK_EQ(tc_open_addr(&a, "::1", d2.ports[0]), 0) && CHECK_EQ(tc_icreq(&a, 0, NULL), 0)) {
		tc_connect_args_default(&ca, 0, 0xffff);
		ca.subnqn = TC_DISCNQN;
		if (CHECK_EQ(tc_fabrics_connect(&a, &ca, NULL), 0) && CHECK_EQ(tc_enable(&a, 0), 0) &&
		    CHECK_EQ(tc_get_log(&a, 0x70, 0, 0, log, 4096), 0)) {
			const uint8_t *e = log + 1024;

			snprintf(port, sizeof(port), "%d", d2.ports[0]);
			CHECK(log[8] >= 1);                 /* NUMREC */
			CHECK_EQ(e[1], 2);                  /* ADRFAM IPv6 */
			CHECK_EQ(strncmp((const char *)e + 512, "::1", 3), 0);
			CHECK(e[515] == ' ' || e[515] == 0);
			CHECK_EQ(strncmp((const char *)e + 32, port, strlen(port)), 0);
		}
	}
	tc_close(&a);
	if (CHECK_EQ(tc_open_addr(&a, "::1", d2.ports[0]), 0) && CHECK_EQ(tc_icreq(&a, 3, NULL), 0)) {
		tc_connect_args_default(&ca, 0, 0xffff);
		CHECK_EQ(tc_fabrics_connect(&a, &ca, NULL), 0);
	}
	tc_close(&a);
	CHECK_EQ(tc_daemon_stop(&d2, 10000), 0);
	free(log);
}

/* CC.SHN flushes volatile caches (a KV store with vwc, a buffered file) before SHST complete. */
static void t_shutdown_flushes(void)
{
	char kvpath[64], fpath[64], kvspec[96], fspec[96];
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", kvspec, "--ns", fspec, "-t", "1", "-v", NULL };
	struct tc_daemon d2;
	struct tc_conn a;
	uint64_t cc = 0;
	char *log;

	snprintf(kvpath, sizeof(kvpath), "/tmp/nvring-shn-kv.%d", (int)getpid());
	snprintf(fpath, sizeof(fpath), "/tmp/nvring-shn-file.%d", (int)getpid());
	snprintf(kvspec, sizeof(kvspec), "kv:%s,size=64M,vwc,format", kvpath);
	snprintf(fspec, sizeof(fspec), "file:%s,size=16M,buffered", fpath);
	REQUIRE_EQ(tc_daemon_start(&d2, args), 0);
	if (CHECK_EQ(tc_admin_session(&a, d2.ports[0], 0, 30000, NULL), 0) &&
	    CHECK_EQ(tc_prop_get(&a, 0x14, false, &cc), 0)) {
		CHECK_EQ(tc_prop_set(&a, 0x14, false, cc | (1u << 14)), 0);
		CHECK_EQ(tc_wait_csts(&a, 0xc, 0x8, 5000), 0);
	}
	tc_close(&a);
	/* the line was written before SHST changed; the log reader may still be catching up */
	for (int i = 0; i < 500; i++) {
		log = tc_daemon_log(&d2);
		if (log && strstr(log, "shutdown complete"))
			break;
		free(log);
		log = NULL;
		usleep(10000);
	}
	CHECK(log != NULL);
	CHECK(log && !strstr(log, "flush at shutdown failed"));
	free(log);
	CHECK_EQ(tc_daemon_stop(&d2, 10000), 0);
	unlink(kvpath);
	unlink(fpath);
}

static void t_stop(void)
{
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	int status;

	if (!tc_suite_begin(&D, &PORT, t_stop, &status))
		return status;
	tap_run("KATO 1000 ms expires: connection closed, CNTLID rejected (0x182 IPO 16)",
		t_kato_expires);
	tap_run("KATO expiry closes the I/O queues too", t_kato_io_queues);
	tap_run("Keep Alive every 250 ms keeps a 1000 ms KATO controller alive", t_kato_kept);
	tap_run("SIGTERM with 64 commands in flight: all end, exit 0", t_sigterm_inflight);
	tap_run("SIGTERM with idle connections: exit 0, connections closed", t_sigterm_idle);
	tap_run("two listeners both serve", t_two_listeners);
	tap_run("IPv6 listener [::1] serves, discovery says ADRFAM 2", t_ipv6);
	tap_run("CC.SHN flushes volatile caches, then CSTS.SHST complete", t_shutdown_flushes);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
