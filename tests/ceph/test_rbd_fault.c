/* SPDX-License-Identifier: MIT */
/*
 * The rbd backend when things are wrong: open errors (pool, image, conf, block size, no
 * cluster, cephx keys and caps) with their messages and within their timeouts; pool/image
 * overrides that would break what the namespace reports; connection sharing; and the OSD
 * going away under I/O: commands stall, then complete when it returns, with every byte
 * where it belongs; with op_timeout they fail with a retryable status instead.
 */
#include <dirent.h>
#include <errno.h>
#include <nvme/types.h>
#include "spec/nvme_cmd.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rio.h"

#define MiB (1ull << 20)

static struct ck_worker W;
static char tmpdir[] = "/tmp/nvr-rbdf-XXXXXX";

static bool has(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

static void t_open_errors(void)
{
	struct backend be = { 0 };
	struct rio_open o = { .image = "t-f" };
	struct be_rbd_spec spec = { .pool = "nopool", .image = "t-f", .conf = getenv("CEPH_CONF") };
	char err[256];
	int r;

	r = be_rbd_open(&be, &spec, err, sizeof(err));
	tap_ok(r == -ENOENT && has(err, "no pool 'nopool'"), "missing pool: %d %s", r, err);
	o.image = "nosuchimage";
	r = rio_open(&be, &o, err, sizeof(err));
	tap_ok(r == -ENOENT && has(err, "no image 'nosuchimage' in pool 'rbd'"),
	       "missing image: %d %s", r, err);
	o.image = "t-f";
	o.lba = 1024;
	r = rio_open(&be, &o, err, sizeof(err));
	tap_ok(r == -EINVAL && has(err, "lba size 1024"), "bs=1024: %d %s", r, err);
	o.lba = 0;
	spec.pool = "";
	r = be_rbd_open(&be, &spec, err, sizeof(err));
	tap_ok(r == -EINVAL && has(err, "rbd:POOL/IMAGE"), "empty pool: %d %s", r, err);
	o.conf = "/nonexistent/ceph.conf";
	r = rio_open(&be, &o, err, sizeof(err));
	tap_ok(r < 0 && has(err, "conf=/nonexistent/ceph.conf"), "missing conf: %d %s", r, err);
	tap_ok(be.ops == NULL && be.priv == NULL, "a failed open leaves the backend empty");
}

/* No monitor answers: the open fails with a clear message once connect_timeout has passed. */
static void t_no_cluster(void)
{
	struct backend be = { 0 };
	char conf[128], err[256];
	struct rio_open o = { .image = "t-f", .conf = conf, .connect_timeout = 3 };
	uint64_t t0, dt;
	int r;

	snprintf(conf, sizeof(conf), "%s/dead.conf", tmpdir);
	tap_eq(ck_write_dead_conf(conf), 0, "no cluster: conf pointing at a dead port");
	t0 = ck_now_ms();
	r = rio_open(&be, &o, err, sizeof(err));
	dt = ck_now_ms() - t0;
	tap_ok(r == -ETIMEDOUT && has(err, "no Ceph monitor answered within 3 s"),
	       "no cluster: %d %s", r, err);
	tap_ok(dt >= 2500 && dt < 10000, "no cluster: the open gave up after %llu ms (timeout 3 s)",
	       (unsigned long long)dt);
}

static void t_cephx(void)
{
	struct backend be = { 0 };
	char conf[128], keyring[128], err[256];
	struct rio_open o = { .image = "t-f", .client_id = "nocaps", .connect_timeout = 5 };
	int r;

	if (!getenv("NVR_CEPH_AUTH") || strcmp(getenv("NVR_CEPH_AUTH"), "cephx")) {
		tap_skip("cluster without cephx", "cephx checks");
		return;
	}
	r = rio_open(&be, &o, err, sizeof(err));
	tap_ok((r == -EPERM || r == -EACCES) && has(err, "client.nocaps may not open rbd/t-f"),
	       "client without caps: %d %s", r, err);
	o.client_id = "nvring";
	r = rio_open(&be, &o, err, sizeof(err));
	tap_ok(r == 0, "client.nvring (profile rbd): %s", err);
	if (r == 0) {
		uint8_t *b = ck_alloc(4096);

		ck_fill(b, 4096, 3);
		tap_eq(rio_do(&be, &W, BE_WRITE, 0, 0, 4096, b), 0, "client.nvring writes");
		be_close(&be);
		free(b);
	}
	snprintf(conf, sizeof(conf), "%s/badkey.conf", tmpdir);
	snprintf(keyring, sizeof(keyring), "%s/badkey.keyring", tmpdir);
	tap_eq(ck_write_bad_key_conf(conf, keyring, "nvring"), 0, "a keyring with a wrong key");
	o.conf = conf;
	r = rio_open(&be, &o, err, sizeof(err));
	tap_ok(r < 0 && has(err, "refused client.nvring"), "wrong key: %d %s", r, err);
	o.client_id = "nobody";
	r = rio_open(&be, &o, err, sizeof(err));
	tap_ok(r < 0 && has(err, "client.nobody"), "client without a key: %d %s", r, err);
}

/* A pool/image setting that would make the namespace lie is refused or worked around. */
static void t_overrides(void)
{
	struct backend be = { 0 };
	struct rio_open o = { .image = "t-cache" };
	char err[256];
	uint8_t *w = ck_alloc(65536), *r = ck_alloc(65536);
	int res;

	tap_eq(ck_image_create("rbd", "t-cache", 16 * MiB), 0, "create t-cache");
	tap_eq(ck_image_meta_set("rbd", "t-cache", "conf_rbd_cache", "true"), 0,
	       "image override rbd_cache=true");
	res = rio_open(&be, &o, err, sizeof(err));
	tap_ok(res == -EINVAL && has(err, "rbd_cache=true"), "no-vwc open refused: %d %s", res, err);
	o.vwc = true;
	res = rio_open(&be, &o, err, sizeof(err));
	tap_ok(res == 0 && be.geom.volatile_cache, "vwc open accepted: %s", err);
	be_close(&be);

	tap_eq(ck_image_create("rbd", "t-skip", 16 * MiB), 0, "create t-skip");
	tap_eq(ck_image_meta_set("rbd", "t-skip", "conf_rbd_skip_partial_discard", "true"), 0,
	       "image override rbd_skip_partial_discard=true");
	o.image = "t-skip";
	o.vwc = false;
	res = rio_open(&be, &o, err, sizeof(err));
	tap_ok(res == 0 && be.geom.discard, "skip-partial image opens: %s", err);
	ck_fill(w, 65536, 77);
	memset(r, 0x5A, 65536);
	tap_ok(res == 0 && rio_do(&be, &W, BE_WRITE, 0, 0, 65536, w) == 0 &&
	       rio_do(&be, &W, BE_DISCARD, 0, 8192, 4096, NULL) == 0 &&
	       rio_do(&be, &W, BE_READ, 0, 0, 65536, r) == 0, "skip-partial: write, deallocate 4 KiB");
	memset(w + 8192, 0, 4096);
	tap_ok(memcmp(w, r, 65536) == 0, "skip-partial: the deallocated 4 KiB still read zeroes");
	be_close(&be);
	ck_image_remove("rbd", "t-cache");
	ck_image_remove("rbd", "t-skip");
	free(w);
	free(r);
}

static int thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Namespaces with one identity share a connection (a connection brings a dozen threads). */
static void t_sharing(void)
{
	struct backend a = { 0 }, b = { 0 }, c = { 0 };
	struct rio_open o = { .image = "t-f" }, ov = { .image = "t-f2", .vwc = true };
	char err[256];
	int t0, t1, t2, t3;

	tap_eq(ck_image_create("rbd", "t-f2", 16 * MiB), 0, "create t-f2");
	t0 = thread_count();
	tap_ok(rio_open(&a, &o, err, sizeof(err)) == 0, "sharing: first open: %s", err);
	t1 = thread_count();
	o.image = "t-f2";
	tap_ok(rio_open(&b, &o, err, sizeof(err)) == 0, "sharing: second image: %s", err);
	t2 = thread_count();
	tap_ok(rio_open(&c, &ov, err, sizeof(err)) == 0, "sharing: vwc image: %s", err);
	t3 = thread_count();
	tap_diag("threads: %d, first open %d, second image %d, vwc image %d", t0, t1, t2, t3);
	tap_ok(t2 - t1 < (t1 - t0) / 2, "sharing: the second image adds no connection (+%d threads; "
	       "the first open +%d)", t2 - t1, t1 - t0);
	tap_ok(t3 - t2 >= (t1 - t0) / 2, "sharing: a vwc image gets a connection of its own (+%d)",
	       t3 - t2);
	be_close(&c);
	be_close(&b);
	be_close(&a);
	ck_image_remove("rbd", "t-f2");
}

/* The only OSD stops (cleanly, memstore keeps its data) under I/O and comes back. */
static void t_osd_restart(void)
{
	enum { N = 16, SZ = 65536 };
	static struct rio pre[N], during[N], late[N], rd[2 * N];
	struct backend be = { 0 };
	struct rio_open o = { .image = "t-f" };
	uint8_t *a = ck_alloc(N * SZ), *b = ck_alloc(N * SZ), *c = ck_alloc(N * SZ);
	uint8_t *back = ck_alloc(3 * N * SZ);
	char err[256];
	bool ok = true;
	uint64_t t_stop, t_start, stall_end = 0;

	if (!tap_ok(rio_open(&be, &o, err, sizeof(err)) == 0, "restart: open: %s", err))
		return;
	ck_fill(a, N * SZ, 1001);
	ck_fill(b, N * SZ, 1002);
	ck_fill(c, N * SZ, 1003);
	for (int i = 0; i < N; i++) {
		rio_prep(&pre[i], BE_WRITE, 0, (uint64_t)i * SZ, SZ, a + i * SZ);
		rio_submit(&be, &W, &pre[i]);
	}
	tap_ok(rio_wait(&W, pre, N, 30000) == 0, "restart: first writes done");
	/* writes and reads in flight while the OSD goes down */
	for (int i = 0; i < N; i++) {
		rio_prep(&during[i], BE_WRITE, 0, (uint64_t)(N + i) * SZ, SZ, b + i * SZ);
		rio_submit(&be, &W, &during[i]);
		rio_prep(&rd[i], BE_READ, 0, (uint64_t)i * SZ, SZ, back + i * SZ);
		rio_submit(&be, &W, &rd[i]);
	}
	t_stop = ck_now_ms();
	tap_eq(ck_osd_stop(0, "TERM"), 0, "restart: osd.0 stopped");
	for (int i = 0; i < N; i++) {
		rio_prep(&late[i], BE_WRITE, 0, (uint64_t)(2 * N + i) * SZ, SZ, c + i * SZ);
		rio_submit(&be, &W, &late[i]);
	}
	ck_run_for(&W, 1500);
	tap_eq(rio_ndone(late, N), 0, "restart: writes sent while the OSD is down wait (none "
	       "completed in 1.5 s)");
	t_start = ck_now_ms();
	tap_eq(ck_osd_start(0), 0, "restart: osd.0 started again after %llu ms down",
	       (unsigned long long)(t_start - t_stop));
	ok = rio_wait(&W, during, N, 90000) == 0 && rio_wait(&W, rd, N, 90000) == 0 &&
	     rio_wait(&W, late, N, 90000) == 0;
	for (int i = 0; i < N; i++) {
		ok = ok && during[i].res == 0 && rd[i].res == 0 && late[i].res == 0 &&
		     during[i].ndone == 1 && rd[i].ndone == 1 && late[i].ndone == 1;
		if (late[i].done_ms > stall_end)
			stall_end = late[i].done_ms;
	}
	tap_ok(ok, "restart: every stalled command completed successfully, once");
	tap_diag("the last stalled write completed %llu ms after the OSD restart",
		 (unsigned long long)(stall_end - t_start));
	tap_ok(memcmp(back, a, N * SZ) == 0, "restart: reads in flight during the stop returned "
	       "the right data");
	memset(back, 0x5A, 3 * N * SZ);
	tap_ok(rio_do(&be, &W, BE_READ, 0, 0, 3 * N * SZ, back) == 0 &&
	       memcmp(back, a, N * SZ) == 0 && memcmp(back + N * SZ, b, N * SZ) == 0 &&
	       memcmp(back + 2 * N * SZ, c, N * SZ) == 0,
	       "restart: all three generations of writes read back byte for byte");
	be_close(&be);
	free(a);
	free(b);
	free(c);
	free(back);
}

/* With op_timeout the same outage fails commands with a status the host may retry. */
static void t_op_timeout(void)
{
	struct backend be = { 0 };
	struct rio_open o = { .image = "t-f", .op_timeout = 3 };
	uint8_t *w = ck_alloc(8192), *r = ck_alloc(8192);
	char err[256];
	struct rio io;
	uint16_t st;
	uint64_t t0, dt;
	int res = -1;

	if (!tap_ok(rio_open(&be, &o, err, sizeof(err)) == 0, "op_timeout: open: %s", err))
		return;
	ck_fill(w, 8192, 55);
	tap_eq(ck_osd_stop(0, "TERM"), 0, "op_timeout: osd.0 stopped");
	t0 = ck_now_ms();
	rio_prep(&io, BE_WRITE, 0, 1 * MiB, 8192, w);
	rio_submit(&be, &W, &io);
	tap_ok(rio_wait(&W, &io, 1, 30000) == 0, "op_timeout: the write completes");
	dt = ck_now_ms() - t0;
	tap_ok(io.res == -ETIMEDOUT && dt >= 2500, "op_timeout: with -ETIMEDOUT after %llu ms "
	       "(res %d)", (unsigned long long)dt, io.res);
	st = be_errno_to_status(io.res, BE_WRITE);
	tap_ok(st && !(st & NVME_STATUS_DNR), "op_timeout: NVMe status 0x%x has no DNR", st);
	tap_eq(ck_osd_start(0), 0, "op_timeout: osd.0 started again");
	/* the host's retry: the first ones may still time out while the OSD boots */
	t0 = ck_now_ms();
	while (ck_now_ms() - t0 < 90000 &&
	       (res = rio_do(&be, &W, BE_WRITE, 0, 1 * MiB, 8192, w)) == -ETIMEDOUT)
		;
	tap_eq(res, 0, "op_timeout: a retried write succeeds once the OSD is back");
	tap_ok(rio_do(&be, &W, BE_READ, 0, 1 * MiB, 8192, r) == 0 && memcmp(w, r, 8192) == 0,
	       "op_timeout: and reads back");
	be_close(&be);
	free(w);
	free(r);
}

static bool watchers_back(void *arg)
{
	return ck_image_watchers("rbd", "t-f") == *(int *)arg;
}

/* The OSD is down at open: the open gives up at its timeout with a clear message; when the
 * OSD returns, the abandoned open finishes and closes its image again by itself. */
static void t_open_osd_down(void)
{
	struct backend be = { 0 };
	struct rio_open o = { .image = "t-f", .connect_timeout = 2 };
	char err[256];
	uint64_t t0, dt;
	int r, base = ck_image_watchers("rbd", "t-f");

	tap_ok(base >= 0, "osd down at open: %d watchers before", base);
	tap_eq(ck_osd_stop(0, "TERM"), 0, "osd down at open: osd.0 stopped");
	t0 = ck_now_ms();
	r = rio_open(&be, &o, err, sizeof(err));
	dt = ck_now_ms() - t0;
	tap_ok(r == -ETIMEDOUT && strstr(err, "no OSD answered within 2 s") && dt >= 1500 &&
	       dt < 8000, "osd down at open: %d after %llu ms: %s", r, (unsigned long long)dt, err);
	tap_ok(be.ops == NULL, "osd down at open: nothing opened");
	tap_eq(ck_osd_start(0), 0, "osd down at open: osd.0 started again");
	tap_eq(ck_run_until(&W, watchers_back, &base, 60000), 0,
	       "osd down at open: no watch of the abandoned open remains (watchers back to %d)", base);
	r = rio_open(&be, &o, err, sizeof(err));
	tap_ok(r == 0, "osd down at open: a new open works: %s", err);
	be_close(&be);
}

int main(void)
{
	const char *conf, *dir;
	char cmd[64];

	if (!ck_env(&conf, &dir)) {
		printf("1..0 # SKIP no test cluster (run through tests/ceph/run.sh)\n");
		return 0;
	}
	if (!mkdtemp(tmpdir) || ck_worker_init(&W) ||
	    !tap_ok(ck_admin_init() == 0, "admin connection"))
		return tap_done();
	tap_eq(ck_image_create("rbd", "t-f", 64 * MiB), 0, "create t-f");
	t_open_errors();
	t_no_cluster();
	t_cephx();
	t_overrides();
	t_sharing();
	t_osd_restart();
	t_op_timeout();
	t_open_osd_down();
	ck_image_remove("rbd", "t-f");
	ck_admin_fini();
	ck_worker_fini(&W);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd)) {
	}
	return tap_done();
}
