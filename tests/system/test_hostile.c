/* SPDX-License-Identifier: MIT */
/*
 * Hostile peers (issue: no remote crash, bounded memory per peer, timeouts before login).
 * Each finding of the issue is reproduced here as it was found, against the real daemon,
 * with a bystander session that must keep being served throughout.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bystander.h"
#include "tap.h"
#include "tclient.h"

static struct tc_daemon D;
static int PORT;
static struct tc_bystander BY = {.lba = 64, .seed = 4242};

#define CONNECT_INVALID_PARAM (NVME_STATUS_DNR | 0x182)

static void t_bystander(void)
{
	tc_bystander_open(&BY, PORT);
}

/*
 * Finding 1: an invalid PDU type, then an abortive close (RST) while the C2HTermReq is being
 * sent. The failed send closed a connection that the receive path had already closed and
 * freed (heap use after free, double free). 1,000 rounds here; the goal of 10,000 lives in
 * bench/hostile.sh.
 */
static void t_reset_during_termreq(void)
{
	static const uint8_t bad_type[8] = { 0xff, 0x00, 0x08, 0x00, 0x08, 0x00, 0x00, 0x00 };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int failed = 0;

	for (int i = 0; i < 1000; i++) {
		struct tc_conn c;

		if (tc_open(&c, PORT)) {
			failed++;
			break;
		}
		if (send(c.fd, bad_type, sizeof(bad_type), MSG_NOSIGNAL) != sizeof(bad_type))
			failed++;
		setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		tc_close(&c);
	}
	CHECK_EQ(failed, 0);
	tc_bystander_check(&BY);
}

/* Finding 6: an I/O queue may join a controller only with the host ID that created it. */
static void t_io_connect_other_hostid(void)
{
	static const uint8_t other_hostid[16] = { 0xa5, 0xa5, 0xa5, 0xa5 };
	struct tc_connect_args ca;
	struct tc_conn q;
	struct nvme_cqe cqe;

	REQUIRE(BY.ok);
	REQUIRE_EQ(tc_open(&q, PORT), 0);
	REQUIRE_EQ(tc_icreq(&q, 0, NULL), 0);
	tc_connect_args_default(&ca, 2, BY.admin.cntlid);
	ca.hostid = other_hostid;
	CHECK_EQ(tc_fabrics_connect(&q, &ca, &cqe), CONNECT_INVALID_PARAM);
	/* IPO: the host ID field of the Connect data (IATTR 1, offset 0) */
	CHECK_EQ(cqe.dw0, 0x10000u);
	/* the same queue with the right host ID is accepted */
	ca.hostid = NULL;
	CHECK_EQ(tc_fabrics_connect(&q, &ca, &cqe), 0);
	tc_close(&q);
	tc_bystander_check(&BY);
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
	tap_run("bystander session", t_bystander);
	tap_run("1,000 abortive closes during the C2HTermReq: no crash, bystander served",
		t_reset_during_termreq);
	tap_run("I/O Connect with another host ID: Connect Invalid Parameters, IPO hostid",
		t_io_connect_other_hostid);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
