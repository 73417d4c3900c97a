/* SPDX-License-Identifier: MIT */
/*
 * Ceph test kit: a worker as the daemon has one (a real io_uring and an executor whose eventfd
 * read is armed on it, posted completions drained before sleeping), byte patterns, the test
 * cluster's environment (tests/ceph/run.sh sets it), and admin helpers that create images.
 */
#ifndef NVRING_TESTS_CEPH_CK_H
#define NVRING_TESTS_CEPH_CK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "ring/executor.h"
#include "tap.h"

struct ck_worker {
	struct io_uring ring;
	struct executor ex;
	pthread_t thread; /* the thread that owns it: completions must run there */
	unsigned long cqes;
	unsigned long posted; /* foreign completions drained */
};

int ck_worker_init(struct ck_worker *w);
void ck_worker_fini(struct ck_worker *w);
/* Run the worker's loop until cond(arg) holds or timeout_ms passes: 0 or -ETIMEDOUT. */
int ck_run_until(struct ck_worker *w, bool (*cond)(void *arg), void *arg, int timeout_ms);
/* Run the loop for ms milliseconds whatever happens (to show that nothing completes). */
void ck_run_for(struct ck_worker *w, int ms);

uint64_t ck_now_ms(void);

void ck_fill(void *buf, uint64_t len, uint64_t seed);
bool ck_check(const void *buf, uint64_t len, uint64_t seed);
bool ck_is_zero(const void *buf, uint64_t len);
void *ck_alloc(uint64_t len); /* 4096-aligned, zeroed, NULL on failure */

/* The test cluster: CEPH_CONF and the cluster directory; false (and a TAP skip plan printed
 * by the caller) when the tests run without one. */
bool ck_env(const char **conf, const char **dir);
/* tests/ceph/cluster.sh osd-stop DIR N SIG / osd-start DIR N: 0 when the command succeeded. */
int ck_osd_stop(int id, const char *sig);
int ck_osd_start(int id);
/* Admin connection (client.admin, $CEPH_CONF): create/remove images, set image metadata. */
int ck_admin_init(void);
void ck_admin_fini(void);
int ck_image_create(const char *pool, const char *name, uint64_t size);
int ck_image_remove(const char *pool, const char *name);
int ck_image_meta_set(const char *pool, const char *name, const char *key, const char *val);
/* How many clients watch the image (open handles), as a read-only admin handle sees it. */
int ck_image_watchers(const char *pool, const char *name);
/* Write a ceph.conf copy whose mon host is a port nothing listens on (for "no cluster"). */
int ck_write_dead_conf(const char *path);
/* A keyring holding a wrong key for client.ID, and a conf that uses it. */
int ck_write_bad_key_conf(const char *conf_path, const char *keyring_path, const char *id);

#endif
