/* SPDX-License-Identifier: MIT */
/*
 * nvringd serving RBD images, seen from a host (tests/system's tclient) on the test cluster
 * (tests/ceph/run.sh):
 * - start-up refusals: a missing pool or image, a missing conf, a client the cluster refuses
 *   or whose caps forbid the image, no cluster at all: exit 2 with a message naming the
 *   namespace, within the connect timeout;
 * - the only OSD killed (SIGKILL) and restarted under QD 32 I/O: the commands stall, then
 *   complete with success, and every block reads back as last written;
 * - with op_timeout, the same outage gives Namespace Not Ready without DNR (the host's cue to
 *   retry), and the retried command succeeds once the OSD is back.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvme/types.h>

#include "tap.h"
#include "tclient.h"

#define QD 32
#define IOLEN 65536u
#define IMG_MIB 64

static const char *CONF, *DIR_, *CLUSTER_SH;
static char IMG[64];

static int sh(const char *fmt, const char *a, const char *b)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return system(cmd) == 0 ? 0 : -1;
}

static int osd(const char *what, const char *sig)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "CEPH_TEST_QUIET=1 '%s' %s '%s' 0 %s", CLUSTER_SH, what, DIR_, sig);
	return system(cmd) == 0 ? 0 : -1;
}

/* Start nvringd on spec, expecting a refusal: exit 2, "namespace 1" and `what` in its log,
 * within limit_ms. */
static void refused(const char *spec, const char *what, uint64_t limit_ms)
{
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", spec, NULL };
	struct tc_daemon d;
	uint64_t t0 = tc_now_ms(), ms;
	char *log;

	CHECK(tc_daemon_start(&d, args) < 0);
	ms = tc_now_ms() - t0;
	log = tc_daemon_log(&d);
	if (!CHECK(log && strstr(log, "namespace 1: ") && strstr(log, what)))
		tap_diag("%s: log: %s", spec, log ? log : "(none)");
	else
	{
		const char *m = strstr(log, "namespace 1: ");

		tap_diag("%s: refused in %llu ms: %.*s", spec, (unsigned long long)ms, (int)strcspn(m, "\n"), m);
	}
	free(log);
	CHECK(ms <= limit_ms);
	CHECK_EQ(tc_daemon_stop(&d, 5000), 2);
}

static void t_refusals(void)
{
	char spec[512], dead[256], badkey[256], keyring[256];

	snprintf(spec, sizeof(spec), "rbd:rbd/%s-none", IMG);
	refused(spec, "no image", 5000);
	refused("rbd:nopool/x", "no pool 'nopool'", 5000);
	refused("rbd:rbd/x,conf=/nonexistent/ceph.conf", "conf=/nonexistent/ceph.conf", 5000);
	/* no cluster: a conf whose monitors are not there */
	snprintf(dead, sizeof(dead), "%s/dead.conf", DIR_);
	REQUIRE_EQ(sh("sed 's/^mon host = .*/mon host = [v2:127.0.0.1:1,v1:127.0.0.1:2]/' '%s' > '%s'", CONF,
		      dead), 0);
	snprintf(spec, sizeof(spec), "rbd:rbd/%s,conf=%s,connect_timeout=2", IMG, dead);
	refused(spec, "no Ceph monitor answered within 2 s", 8000);
	snprintf(spec, sizeof(spec), "kv:rados:kv,conf=%s,connect_timeout=2", dead);
	refused(spec, "no Ceph monitor answered within 2 s", 8000);
	if (!getenv("NVR_CEPH_AUTH") || strcmp(getenv("NVR_CEPH_AUTH"), "cephx")) {
		tap_diag("cephx refusals skipped: the cluster runs without auth");
		return;
	}
	snprintf(spec, sizeof(spec), "rbd:rbd/%s,id=nocaps", IMG);
	refused(spec, "client.nocaps may not open", 5000);
	snprintf(spec, sizeof(spec), "rbd:rbd/%s,id=nobody", IMG);
	refused(spec, "the cluster refused client.nobody", 5000);
	/* a known client with the wrong key */
	snprintf(keyring, sizeof(keyring), "%s/bad.keyring", DIR_);
	snprintf(badkey, sizeof(badkey), "%s/badkey.conf", DIR_);
	REQUIRE_EQ(sh("ceph-authtool --create-keyring '%s' --gen-key -n client.nvring >/dev/null", keyring, ""), 0);
	{
		char cmd[1024];

		snprintf(cmd, sizeof(cmd), "sed 's|^keyring = .*|keyring = %s|' '%s' > '%s'", keyring, CONF, badkey);
		REQUIRE_EQ(system(cmd), 0);
	}
	snprintf(spec, sizeof(spec), "rbd:rbd/%s,id=nvring,conf=%s", IMG, badkey);
	refused(spec, "the cluster refused client.nvring", 5000);
}

/* ---- a daemon on the image, a host at QD 32 ---- */

static struct tc_daemon D;
static struct tc_conn A, Q;

static bool start(const char *opts)
{
	static char spec[256];
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", spec, "-t", "2", NULL };

	snprintf(spec, sizeof(spec), "rbd:rbd/%s%s", IMG, opts);
	if (tc_daemon_start(&D, args) < 0)
		return false;
	/* no keep-alive timeout: the host stays silent while its commands stall */
	return tc_admin_session(&A, D.ports[0], 0, 0, NULL) == 0 &&
	       tc_io_session(&Q, D.ports[0], 0, A.cntlid, 1, 127, 0) == 0;
}

static void stop(void)
{
	tc_close(&Q);
	tc_close(&A);
	CHECK_EQ(tc_daemon_stop(&D, 20000), 0);
}

/* Poll the queue for ms: completions are processed as they come; returns how many arrived. */
static int drain_for(struct tc_cmd *cmds, int n, int ms)
{
	uint64_t end = tc_now_ms() + (uint64_t)ms;
	struct pollfd p = { .fd = Q.fd, .events = POLLIN };
	int before = 0, after = 0;

	for (int i = 0; i < n; i++)
		before += cmds[i].done;
	while (tc_now_ms() < end) {
		int left = (int)(end - tc_now_ms());

		if (poll(&p, 1, left > 0 ? left : 0) > 0 && tc_poll(&Q) < 0)
			break;
	}
	for (int i = 0; i < n; i++)
		after += cmds[i].done;
	return after - before;
}

static int wait_all(struct tc_cmd *cmds, int n, int ms)
{
	uint64_t end = tc_now_ms() + (uint64_t)ms;
	struct pollfd p = { .fd = Q.fd, .events = POLLIN };

	for (;;) {
		int done = 0;

		for (int i = 0; i < n; i++)
			done += cmds[i].done;
		if (done == n)
			return 0;
		if (tc_now_ms() >= end)
			return -1;
		if (poll(&p, 1, 200) > 0 && tc_poll(&Q) < 0)
			return -1;
	}
}

static uint8_t *W[QD], *R;

/* The image's regions 0..QD-1 of IOLEN bytes (slba i * IOLEN/512) hold pattern seed+i. */
static int write_all(struct tc_cmd *cmds, uint32_t seed, bool submit_only)
{
	for (int i = 0; i < QD; i++) {
		tc_fill(W[i], IOLEN, seed + (uint32_t)i);
		tc_rw_cmd(&cmds[i], 0x01, 1, (uint64_t)i * (IOLEN / 512) + 8192, IOLEN / 512, W[i], IOLEN);
	}
	if (submit_only) {
		for (int i = 0; i < QD; i++)
			if (tc_submit(&Q, &cmds[i]) < 0)
				return -1;
		return 0;
	}
	return tc_exec_all(&Q, cmds, QD);
}

static int verify_all(uint32_t seed)
{
	int bad = 0;

	for (int i = 0; i < QD; i++) {
		tc_fill(W[i], IOLEN, seed + (uint32_t)i);
		memset(R, 0, IOLEN);
		if (tc_rw(&Q, 0x02, 1, (uint64_t)i * (IOLEN / 512) + 8192, IOLEN / 512, R, IOLEN, false) ||
		    tc_memdiff(R, W[i], IOLEN) != -1)
			bad++;
	}
	return bad;
}

static void t_osd_killed(void)
{
	static struct tc_cmd cmds[QD];
	uint64_t t_kill, t_start, t_done;
	int early, during, errors = 0;

	REQUIRE(start(""));
	REQUIRE_EQ(write_all(cmds, 100, false), 0);
	REQUIRE_EQ(write_all(cmds, 200, true), 0);
	REQUIRE_EQ(osd("osd-stop", "KILL"), 0);
	t_kill = tc_now_ms();
	early = drain_for(cmds, QD, 0);
	/* the OSD is gone: what was not acknowledged before the kill waits */
	during = drain_for(cmds, QD, 2000);
	tap_diag("OSD killed with %d of %d writes in flight; %d completed in the next 2 s", QD - early, QD,
		 during);
	REQUIRE_EQ(osd("osd-start", ""), 0);
	t_start = tc_now_ms();
	CHECK_EQ(wait_all(cmds, QD, 120000), 0);
	t_done = tc_now_ms();
	for (int i = 0; i < QD; i++)
		errors += !cmds[i].done || cmds[i].status != 0;
	CHECK_EQ(errors, 0);
	tap_diag("stall: %llu ms from the kill (OSD restarted after %llu ms, its I/O back %llu ms later)",
		 (unsigned long long)(t_done - t_kill), (unsigned long long)(t_start - t_kill),
		 (unsigned long long)(t_done - t_start));
	/* every block is the last thing written to it */
	CHECK_EQ(verify_all(200), 0);
	CHECK_EQ(Q.proto_errs, 0);
	stop();
}

/* With op_timeout the host gets Namespace Not Ready (0x82) without DNR, then success on retry. */
static void t_op_timeout(void)
{
	struct tc_cmd cmd;
	uint64_t t0;
	int st, tries = 0;

	REQUIRE(start(",op_timeout=3"));
	tc_fill(W[0], IOLEN, 300);
	REQUIRE_EQ(tc_rw(&Q, 0x01, 1, 8192, IOLEN / 512, W[0], IOLEN, false), 0);
	REQUIRE_EQ(osd("osd-stop", "TERM"), 0);
	tc_fill(W[0], IOLEN, 301);
	t0 = tc_now_ms();
	tc_rw_cmd(&cmd, 0x01, 1, 8192, IOLEN / 512, W[0], IOLEN);
	REQUIRE_EQ(tc_submit(&Q, &cmd), 0);
	CHECK_EQ(wait_all(&cmd, 1, 30000), 0);
	tap_diag("write failed after %llu ms with status %#x", (unsigned long long)(tc_now_ms() - t0), cmd.status);
	CHECK_EQ(cmd.status, NVME_SC_NS_NOT_READY); /* SCT 0, no DNR */
	tc_cmd_init(&cmd, 0x02, 1);
	REQUIRE_EQ(osd("osd-start", ""), 0);
	/* the host's retries: they succeed once the OSD is back */
	t0 = tc_now_ms();
	do {
		st = tc_rw(&Q, 0x01, 1, 8192, IOLEN / 512, W[0], IOLEN, false);
		tries++;
	} while (st == NVME_SC_NS_NOT_READY && tc_now_ms() - t0 < 120000);
	CHECK_EQ(st, 0);
	tap_diag("retried %d times over %llu ms", tries, (unsigned long long)(tc_now_ms() - t0));
	memset(R, 0, IOLEN);
	CHECK_EQ(tc_rw(&Q, 0x02, 1, 8192, IOLEN / 512, R, IOLEN, false), 0);
	CHECK_EQ(tc_memdiff(R, W[0], IOLEN), -1);
	stop();
}

int main(void)
{
	char cmd[512];

	CONF = getenv("CEPH_CONF");
	DIR_ = getenv("NVR_CEPH_DIR");
	CLUSTER_SH = getenv("NVR_CEPH_CLUSTER_SH");
	if (!CONF || !DIR_ || !CLUSTER_SH)
		return tap_skip_all("no test cluster (run through tests/ceph/run.sh)");
	if (!tc_daemon_path())
		return tap_skip_all("nvringd not built ($NVRINGD)");
	alarm(600); /* last resort; every wait below has its own deadline */
	for (int i = 0; i < QD; i++)
		W[i] = malloc(IOLEN);
	R = malloc(IOLEN);
	snprintf(IMG, sizeof(IMG), "nvd-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "rbd create rbd/%s --size %dM", IMG, IMG_MIB);
	if (system(cmd) != 0)
		return tap_skip_all("rbd create failed");
	tap_run("start-up refusals: exit 2, a message naming the namespace, within the timeout", t_refusals);
	tap_run("the only OSD killed and restarted under QD 32 writes: stall, success, every byte", t_osd_killed);
	tap_run("op_timeout: Namespace Not Ready without DNR, success on retry after the OSD returned",
		t_op_timeout);
	snprintf(cmd, sizeof(cmd), "rbd rm rbd/%s >/dev/null 2>&1", IMG);
	if (system(cmd) != 0)
		tap_diag("rbd rm %s failed", IMG);
	for (int i = 0; i < QD; i++)
		free(W[i]);
	free(R);
	return tap_finish();
}
