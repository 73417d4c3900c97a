/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "ck.h"

uint64_t ck_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The executor's eventfd read, counting what it drains (the FUA test counts librbd calls). */
static void ck_efd_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct ck_worker *w = (struct ck_worker *)((char *)op - offsetof(struct ck_worker, ex) -
						    offsetof(struct executor, efd_op));

	(void)cqe;
	w->posted += executor_drain(&w->ex);
	executor_arm(&w->ex);
}

int ck_worker_init(struct ck_worker *w)
{
	int r;

	memset(w, 0, sizeof(*w));
	r = io_uring_queue_init(256, &w->ring, 0);
	if (r < 0)
		return r;
	r = executor_init(&w->ex, &w->ring);
	if (r < 0) {
		io_uring_queue_exit(&w->ring);
		return r;
	}
	w->ex.efd_op.complete = ck_efd_done;
	executor_arm(&w->ex);
	w->thread = pthread_self();
	return 0;
}

void ck_worker_fini(struct ck_worker *w)
{
	executor_fini(&w->ex);
	io_uring_queue_exit(&w->ring);
}

/* One pass as a daemon worker does it: drain posted completions, then wait on the ring. */
static void ck_loop_once(struct ck_worker *w, int wait_ms)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = { .tv_sec = wait_ms / 1000,
					.tv_nsec = (long long)(wait_ms % 1000) * 1000000 };

	w->posted += executor_drain(&w->ex); /* always before sleeping */
	io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
	while (io_uring_peek_cqe(&w->ring, &cqe) == 0) {
		struct io_uring_cqe copy = *cqe;
		struct ring_op *rop = io_uring_cqe_get_data(cqe);

		io_uring_cqe_seen(&w->ring, cqe);
		w->cqes++;
		if (rop)
			rop->complete(rop, &copy);
	}
	w->posted += executor_drain(&w->ex);
}

int ck_run_until(struct ck_worker *w, bool (*cond)(void *arg), void *arg, int timeout_ms)
{
	uint64_t deadline = ck_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint64_t now;

		if (cond(arg))
			return 0;
		now = ck_now_ms();
		if (now >= deadline)
			return cond(arg) ? 0 : -ETIMEDOUT;
		ck_loop_once(w, deadline - now > 200 ? 200 : (int)(deadline - now));
	}
}

void ck_run_for(struct ck_worker *w, int ms)
{
	uint64_t end = ck_now_ms() + (uint64_t)ms, now;

	while ((now = ck_now_ms()) < end)
		ck_loop_once(w, end - now > 200 ? 200 : (int)(end - now));
}

/* Position-dependent bytes, so a misplaced block is caught, not just a wrong value. */
static uint8_t ck_byte(uint64_t i, uint64_t seed)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed * 0xBF58476D1CE4E5B9ull;

	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 8));
}

void ck_fill(void *buf, uint64_t len, uint64_t seed)
{
	uint8_t *p = buf;

	for (uint64_t i = 0; i < len; i++)
		p[i] = ck_byte(i, seed);
}

bool ck_check(const void *buf, uint64_t len, uint64_t seed)
{
	const uint8_t *p = buf;

	for (uint64_t i = 0; i < len; i++)
		if (p[i] != ck_byte(i, seed))
			return false;
	return true;
}

bool ck_is_zero(const void *buf, uint64_t len)
{
	const uint8_t *p = buf;

	for (uint64_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

void *ck_alloc(uint64_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len ? len : 1))
		return NULL;
	memset(p, 0, len);
	return p;
}

bool ck_env(const char **conf, const char **dir)
{
	*conf = getenv("CEPH_CONF");
	*dir = getenv("NVR_CEPH_DIR");
	return *conf && **conf && *dir && **dir && getenv("NVR_CEPH_CLUSTER_SH");
}

static int ck_sh(const char *cmd)
{
	int st = system(cmd);

	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int ck_cluster_cmd(const char *what, int id, const char *sig)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "CEPH_TEST_QUIET=1 '%s' %s '%s' %d %s",
		 getenv("NVR_CEPH_CLUSTER_SH"), what, getenv("NVR_CEPH_DIR"), id, sig ? sig : "");
	return ck_sh(cmd);
}

int ck_osd_stop(int id, const char *sig)
{
	return ck_cluster_cmd("osd-stop", id, sig);
}

int ck_osd_start(int id)
{
	return ck_cluster_cmd("osd-start", id, NULL);
}

static rados_t ck_admin;

int ck_admin_init(void)
{
	int r = rados_create2(&ck_admin, "ceph", "client.admin", 0);

	if (r < 0)
		return r;
	if ((r = rados_conf_read_file(ck_admin, NULL)) < 0 ||
	    (r = rados_conf_set(ck_admin, "client_mount_timeout", "30")) < 0 ||
	    (r = rados_connect(ck_admin)) < 0) {
		rados_shutdown(ck_admin);
		ck_admin = NULL;
	}
	return r;
}

void ck_admin_fini(void)
{
	if (ck_admin)
		rados_shutdown(ck_admin);
	ck_admin = NULL;
}

static int ck_with_pool(const char *pool, rados_ioctx_t *io)
{
	return ck_admin ? rados_ioctx_create(ck_admin, pool, io) : -ENOTCONN;
}

int ck_image_create(const char *pool, const char *name, uint64_t size)
{
	rados_ioctx_t io;
	int order = 22, r = ck_with_pool(pool, &io); /* 4 MiB objects */

	if (r < 0)
		return r;
	r = rbd_create(io, name, size, &order);
	if (r == -EEXIST) { /* left by an earlier run on this cluster */
		rbd_remove(io, name);
		r = rbd_create(io, name, size, &order);
	}
	rados_ioctx_destroy(io);
	return r;
}

int ck_image_remove(const char *pool, const char *name)
{
	rados_ioctx_t io;
	int r = ck_with_pool(pool, &io);

	if (r < 0)
		return r;
	r = rbd_remove(io, name);
	rados_ioctx_destroy(io);
	return r;
}

int ck_image_meta_set(const char *pool, const char *name, const char *key, const char *val)
{
	rados_ioctx_t io;
	rbd_image_t img;
	int r = ck_with_pool(pool, &io);

	if (r < 0)
		return r;
	r = rbd_open(io, name, &img, NULL);
	if (r == 0) {
		r = rbd_metadata_set(img, key, val);
		rbd_close(img);
	}
	rados_ioctx_destroy(io);
	return r;
}

int ck_image_watchers(const char *pool, const char *name)
{
	rados_ioctx_t io;
	rbd_image_t img;
	rbd_image_watcher_t w[16];
	size_t n = 16;
	int r = ck_with_pool(pool, &io);

	if (r < 0)
		return r;
	r = rbd_open_read_only(io, name, &img, NULL);
	if (r == 0) {
		r = rbd_watchers_list(img, w, &n);
		if (r == 0) {
			r = (int)n;
			rbd_watchers_list_cleanup(w, n);
		}
		rbd_close(img);
	}
	rados_ioctx_destroy(io);
	return r;
}

/* Copy $CEPH_CONF to path, replacing lines that start with `key` by `repl` (a full line). */
static int ck_conf_copy(const char *path, const char *key, const char *repl)
{
	FILE *in = fopen(getenv("CEPH_CONF"), "r"), *out;
	char line[1024];

	if (!in)
		return -errno;
	out = fopen(path, "w");
	if (!out) {
		fclose(in);
		return -errno;
	}
	while (fgets(line, sizeof(line), in)) {
		if (strncmp(line, key, strlen(key)) == 0)
			fprintf(out, "%s\n", repl);
		else
			fputs(line, out);
	}
	fclose(in);
	return fclose(out) ? -EIO : 0;
}

int ck_write_dead_conf(const char *path)
{
	/* port 9 (discard) on loopback: nothing listens, connects are refused at once */
	return ck_conf_copy(path, "mon host", "mon host = [v2:127.0.0.1:9,v1:127.0.0.1:9]");
}

int ck_write_bad_key_conf(const char *conf_path, const char *keyring_path, const char *id)
{
	char cmd[1024], line[1100];

	snprintf(cmd, sizeof(cmd), "ceph-authtool --create-keyring '%s' --gen-key -n client.%s "
		 ">/dev/null 2>&1", keyring_path, id);
	if (ck_sh(cmd))
		return -EIO;
	snprintf(line, sizeof(line), "keyring = %s", keyring_path);
	return ck_conf_copy(conf_path, "keyring", line);
}
