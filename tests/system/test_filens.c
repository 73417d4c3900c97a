/* SPDX-License-Identifier: MIT */
/*
 * File-backed namespaces end to end: data written over NVMe/TCP is in the file at
 * slba * block size, survives a daemon restart, data put into the file is read back over
 * the wire, and a read-only namespace refuses writes (Namespace Is Write Protected, 0x20).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tclient.h"

#define ST_MASK 0x7ff

static char DIR_[64];
static char P1[128], P2[128], P3[128];
static char NS1[160], NS2[160], NS3[160];

static bool start(struct tc_daemon *d, struct tc_conn *a, struct tc_conn *q, bool with_ro)
{
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", NS1, "--ns", NS2, "-t", "2",
			       with_ro ? "--ns" : NULL, NS3, NULL };

	return CHECK_EQ(tc_daemon_start(d, args), 0) &&
	       CHECK_EQ(tc_admin_session(a, d->ports[0], 0, 30000, NULL), 0) &&
	       CHECK_EQ(tc_io_session(q, d->ports[0], 0, a->cntlid, 1, 127, 0), 0);
}

static bool file_has(const char *path, off_t off, const void *want, size_t len)
{
	uint8_t *b = malloc(len);
	int fd = open(path, O_RDONLY);
	bool ok = fd >= 0 && b && pread(fd, b, len, off) == (ssize_t)len &&
		  tc_memdiff(b, want, len) == -1;

	if (fd >= 0)
		close(fd);
	free(b);
	return ok;
}

static uint8_t W1[131072], W2[65536], W3[4096];

static void t_write_lands_in_file(void)
{
	struct tc_daemon d;
	struct tc_conn a, q;
	struct tc_cmd cmd;

	REQUIRE(start(&d, &a, &q, false));
	tc_fill(W1, sizeof(W1), 1);
	tc_fill(W2, sizeof(W2), 2);
	tc_fill(W3, sizeof(W3), 3);
	CHECK_EQ(tc_rw(&q, 0x01, 1, 1000, sizeof(W1) / 512, W1, sizeof(W1), false), 0);
	CHECK_EQ(tc_rw(&q, 0x01, 1, 7, 8, W3, sizeof(W3), true), 0); /* unaligned to 4 KiB */
	CHECK_EQ(tc_rw(&q, 0x01, 2, 100, sizeof(W2) / 4096, W2, sizeof(W2), false), 0);
	tc_cmd_init(&cmd, 0x00, 0xffffffff); /* flush all namespaces */
	CHECK_EQ(tc_exec(&q, &cmd), 0);
	CHECK(file_has(P1, 1000 * 512, W1, sizeof(W1)));
	CHECK(file_has(P1, 7 * 512, W3, sizeof(W3)));
	CHECK(file_has(P2, 100 * 4096, W2, sizeof(W2)));
	tc_close(&q);
	tc_close(&a);
	CHECK_EQ(tc_daemon_stop(&d, 10000), 0);
}

static void t_restart_reads_back(void)
{
	struct tc_daemon d;
	struct tc_conn a, q;
	uint8_t *r = malloc(sizeof(W1));
	uint8_t outside[4096];
	int fd;

	REQUIRE(r);
	/* data put into the file while the daemon is down */
	tc_fill(outside, sizeof(outside), 4);
	fd = open(P1, O_WRONLY);
	REQUIRE(fd >= 0);
	CHECK_EQ(pwrite(fd, outside, sizeof(outside), 5000 * 512), (ssize_t)sizeof(outside));
	close(fd);
	REQUIRE(start(&d, &a, &q, false));
	CHECK_EQ(tc_rw(&q, 0x02, 1, 1000, sizeof(W1) / 512, r, sizeof(W1), false), 0);
	CHECK_EQ(tc_memdiff(r, W1, sizeof(W1)), -1);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 7, 8, r, sizeof(W3), false), 0);
	CHECK_EQ(tc_memdiff(r, W3, sizeof(W3)), -1);
	CHECK_EQ(tc_rw(&q, 0x02, 2, 100, sizeof(W2) / 4096, r, sizeof(W2), false), 0);
	CHECK_EQ(tc_memdiff(r, W2, sizeof(W2)), -1);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 5000, 8, r, sizeof(outside), false), 0);
	CHECK_EQ(tc_memdiff(r, outside, sizeof(outside)), -1);
	/* the size came from size=8M */
	{
		uint8_t id[4096];

		CHECK_EQ(tc_identify(&a, 0x00, 1, 0, id), 0);
		CHECK_EQ(id[0] | id[1] << 8 | id[2] << 16 | (uint32_t)id[3] << 24, 8u * 1024 * 1024 / 512);
	}
	tc_close(&q);
	tc_close(&a);
	CHECK_EQ(tc_daemon_stop(&d, 10000), 0);
	free(r);
}

static void t_read_only(void)
{
	struct tc_daemon d;
	struct tc_conn a, q;
	uint8_t b[4096], id[4096];
	struct tc_cmd cmd;

	int fd;

	/* nsid 3: a read-only file holding W1 at LBA 1000 */
	fd = open(P3, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd >= 0);
	CHECK_EQ(ftruncate(fd, 4 << 20), 0);
	CHECK_EQ(pwrite(fd, W1, sizeof(W1), 1000 * 512), (ssize_t)sizeof(W1));
	close(fd);
	REQUIRE(start(&d, &a, &q, true));
	CHECK_EQ(tc_rw(&q, 0x02, 3, 1000, 8, b, sizeof(b), false), 0);
	CHECK_EQ(tc_memdiff(b, W1, sizeof(b)), -1);
	/* Namespace Is Write Protected: SCT 0 SC 0x20 */
	CHECK_EQ(tc_rw(&q, 0x01, 3, 1000, 8, b, sizeof(b), true) & ST_MASK, 0x20);
	CHECK_EQ(tc_rw(&q, 0x01, 3, 1000, 8, b, sizeof(b), false) & ST_MASK, 0x20);
	tc_cmd_init(&cmd, 0x08, 3); /* write zeroes */
	cmd.sqe.cdw10 = 1000;
	CHECK_EQ(tc_exec(&q, &cmd) & ST_MASK, 0x20);
	CHECK_EQ(tc_rw(&q, 0x02, 3, 1000, 8, b, sizeof(b), false), 0);
	CHECK_EQ(tc_memdiff(b, W1, sizeof(b)), -1);
	/* NSATTR bit 0: write protected */
	CHECK_EQ(tc_identify(&a, 0x00, 3, 0, id), 0);
	CHECK_EQ(id[99] & 1, 1);
	tc_close(&q);
	tc_close(&a);
	CHECK_EQ(tc_daemon_stop(&d, 10000), 0);
}

int main(void)
{
	if (!tc_daemon_path())
		return tap_skip_all("nvringd not built ($NVRINGD)");
	alarm(220);
	/* a real file system (tmpfs has no O_DIRECT on older kernels) */
	snprintf(DIR_, sizeof(DIR_), "/var/tmp/nvring-systest-XXXXXX");
	if (!mkdtemp(DIR_))
		return tap_skip_all("no temporary directory in /var/tmp");
	snprintf(P1, sizeof(P1), "%s/ns1.img", DIR_);
	snprintf(P2, sizeof(P2), "%s/ns2.img", DIR_);
	snprintf(NS1, sizeof(NS1), "file:%s,size=8M", P1);
	snprintf(NS2, sizeof(NS2), "file:%s,size=8M,bs=4096", P2);
	snprintf(P3, sizeof(P3), "%s/ns3.img", DIR_);
	snprintf(NS3, sizeof(NS3), "file:%s,ro", P3);
	tap_run("writes land in the file at slba * block size", t_write_lands_in_file);
	tap_run("restart: data persists, data written to the file is read", t_restart_reads_back);
	tap_run("read-only namespace: writes fail with 0x20, data unchanged", t_read_only);
	unlink(P1);
	unlink(P2);
	unlink(P3);
	rmdir(DIR_);
	return tap_finish();
}
