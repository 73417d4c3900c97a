/* SPDX-License-Identifier: MIT */
/*
 * Namespaces added and removed from the control socket while I/O runs: 1,000 ns_add/ns_remove
 * rounds (NS_ROUNDS overrides) while 4 I/O queues of one controller, each in its own thread,
 * write and read back stamped data on nsid 1. No I/O may fail or return other data, and the
 * daemon's resident memory must stay flat (what one round allocates is freed).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpcc.h"
#include "tap.h"
#include "tclient.h"

#define QUEUES 4
#define REGION_BLOCKS 4096 /* each queue's own LBAs on nsid 1 */
#define IO_BLOCKS 8        /* 4 KiB per command */

static struct tc_daemon D;
static const char *SOCK;
static atomic_bool stop;

struct worker_io {
	struct tc_conn q;
	unsigned idx;
	uint64_t ok, failed, mismatched;
	uint16_t first_status;
};

static void *io_loop(void *arg)
{
	struct worker_io *w = arg;
	uint8_t wbuf[IO_BLOCKS * 512], rbuf[IO_BLOCKS * 512];
	uint32_t seed = w->idx * 1000003u;

	while (!atomic_load(&stop)) {
		uint64_t lba = (uint64_t)w->idx * REGION_BLOCKS + (seed % (REGION_BLOCKS / IO_BLOCKS)) * IO_BLOCKS;
		int st;

		seed = seed * 1103515245u + 12345u;
		tc_fill(wbuf, sizeof(wbuf), seed);
		st = tc_rw(&w->q, 0x01, 1, lba, IO_BLOCKS, wbuf, sizeof(wbuf), false);
		if (!st)
			st = tc_rw(&w->q, 0x02, 1, lba, IO_BLOCKS, rbuf, sizeof(rbuf), false);
		if (st) {
			if (!w->failed++)
				w->first_status = (uint16_t)st;
			if (st < 0)
				break; /* the connection is gone: nothing more to learn */
		} else if (memcmp(wbuf, rbuf, sizeof(rbuf))) {
			w->mismatched++;
		} else {
			w->ok++;
		}
	}
	return NULL;
}

/* VmRSS of the daemon in KiB, or -1. */
static long daemon_rss_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)D.pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void t_add_remove_under_io(void)
{
	static struct worker_io io[QUEUES];
	unsigned rounds = getenv("NS_ROUNDS") ? (unsigned)atoi(getenv("NS_ROUNDS")) : 1000, done = 0, bad = 0;
	pthread_t th[QUEUES];
	long rss_warm = -1, rss_end;
	struct tc_conn a;
	char last[1200] = "";

	REQUIRE_EQ(tc_admin_session(&a, D.ports[0], 0, 0, TC_SUBNQN), 0);
	for (unsigned i = 0; i < QUEUES; i++) {
		io[i].idx = i;
		REQUIRE_EQ(tc_io_session(&io[i].q, D.ports[0], 0, a.cntlid, (uint16_t)(i + 1), 31, 0), 0);
	}
	for (unsigned i = 0; i < QUEUES; i++)
		REQUIRE_EQ(pthread_create(&th[i], NULL, io_loop, &io[i]), 0);
	for (unsigned r = 0; r < rounds; r++) {
		struct rc_reply rep;

		/* sizes vary; the JSON shape every tenth round */
		if (r % 10 == 9)
			rc_call(SOCK, &rep, "ns_add", "{\"nqn\":\"%s\",\"device\":{\"path\":\"mem:1M\"}}", TC_SUBNQN);
		else
			rc_call(SOCK, &rep, "ns_add", "{\"nqn\":\"%s\",\"spec\":\"mem:%uK\"}", TC_SUBNQN, 512 + (r % 4) * 512);
		if (rep.code || rc_int(rep.result, "nsid") != 2) {
			snprintf(last, sizeof(last), "round %u ns_add: %d %s", r, rep.code, rep.msg);
			bad++;
		}
		rc_free(&rep);
		rc_call(SOCK, &rep, "ns_remove", "{\"nqn\":\"%s\",\"nsid\":2}", TC_SUBNQN);
		if (rep.code) {
			snprintf(last, sizeof(last), "round %u ns_remove: %d %s", r, rep.code, rep.msg);
			bad++;
		}
		rc_free(&rep);
		done++;
		if (r == rounds / 2)
			rss_warm = daemon_rss_kib(); /* pools and caches have grown to what the load needs */
	}
	rss_end = daemon_rss_kib();
	atomic_store(&stop, true);
	for (unsigned i = 0; i < QUEUES; i++)
		pthread_join(th[i], NULL);
	if (bad)
		tap_diag("%u failed calls, last: %s", bad, last);
	CHECK_EQ(done, rounds);
	CHECK_EQ(bad, 0);
	for (unsigned i = 0; i < QUEUES; i++) {
		tap_diag("queue %u: %llu verified write+read pairs, %llu failed (first status %#x), %llu mismatched", i + 1,
			 (unsigned long long)io[i].ok, (unsigned long long)io[i].failed, io[i].first_status,
			 (unsigned long long)io[i].mismatched);
		CHECK(io[i].ok > 0);
		CHECK_EQ(io[i].failed, 0);
		CHECK_EQ(io[i].mismatched, 0);
		tc_close(&io[i].q);
	}
	tap_diag("daemon VmRSS: %ld KiB after %u rounds, %ld KiB after %u", rss_warm, rounds / 2, rss_end, rounds);
	/* flat: the second half of the rounds leaves less than 4 MiB (a leak of 8 KiB a round would not) */
	CHECK(rss_warm > 0 && rss_end > 0 && rss_end - rss_warm < 4 * 1024);
	{
		json_object *l = rc_ok(SOCK, "ns_list", "{\"nqn\":\"%s\"}", TC_SUBNQN);

		CHECK(l && json_object_array_length(l) == 1 && rc_int(l, "[0].nsid") == 1);
		json_object_put(l);
	}
	tc_close(&a);
}

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

static void t_stop(void)
{
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", "mem:64M", "-t", "2", "--rpc-socket", NULL, NULL };

	if (!tc_daemon_path())
		return tap_skip_all("nvringd not built ($NVRINGD)");
	SOCK = rc_socket_path("stress");
	if (UNDER_ASAN) {
		/* freed memory waits in ASan's quarantine (256 MiB by default): keep it small so RSS
		 * shows what is really kept; leaks are LeakSanitizer's at exit */
		const char *o = getenv("ASAN_OPTIONS");
		char opts[1024];

		snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=4", o ? o : "", o && *o ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
	args[7] = SOCK;
	if (tc_daemon_start(&D, args) < 0)
		return tap_skip_all("nvringd did not start");
	tap_run("1,000 ns_add/ns_remove while 4 queues verify I/O on nsid 1; RSS flat", t_add_remove_under_io);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
