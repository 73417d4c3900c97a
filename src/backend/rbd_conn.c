/* SPDX-License-Identifier: MIT */
/*
 * RADOS connections shared by every RBD namespace of the process, and the bounded waits that
 * open/close use. A connection costs a monitor session, an OSD session per OSD and a few dozen
 * threads, so namespaces with the same identity share one (refcounted). rbd_cache is part of
 * the identity: librbd copies the connection's configuration into an image at open and again
 * on every refresh, so an image without a volatile write cache must never sit on a connection
 * where the cache is on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "be_priv.h"
#include "rbd_priv.h"
#include "util/handoff.h"

static pthread_mutex_t rbd_conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rbd_conn *rbd_conns;

static bool rbd_str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool rbd_conn_matches(const struct rbd_conn *c, const struct rbd_conn_key *k)
{
	return rbd_str_eq(c->cluster_name, k->cluster) && rbd_str_eq(c->client_id, k->client_id) &&
	       rbd_str_eq(c->conf, k->conf) && c->op_timeout == k->op_timeout &&
	       c->cache == k->cache;
}

static int rbd_set(rados_t cl, const char *opt, const char *val, char *err, size_t errlen)
{
	int r = rados_conf_set(cl, opt, val);

	if (r < 0)
		be_err(err, errlen, "rbd: setting %s=%s: %s", opt, val, strerror(-r));
	return r;
}

/* The configuration every connection gets, after the file and CEPH_ARGS: these are what the
 * namespace promises (durability without VWC, zeroes after Deallocate, bounded waits). */
static int rbd_configure(rados_t cl, const struct rbd_conn_key *k, char *err, size_t errlen)
{
	char num[16];
	int r;

	snprintf(num, sizeof(num), "%u", k->connect_timeout);
	if ((r = rbd_set(cl, "client_mount_timeout", num, err, errlen)) < 0)
		return r;
	snprintf(num, sizeof(num), "%u", k->op_timeout);
	if ((r = rbd_set(cl, "rados_osd_op_timeout", num, err, errlen)) < 0)
		return r;
	if ((r = rbd_set(cl, "rbd_cache", k->cache ? "true" : "false", err, errlen)) < 0)
		return r;
	if ((r = rbd_set(cl, "rbd_skip_partial_discard", "false", err, errlen)) < 0)
		return r;
	/* aio submission must queue, never wait (the caller is a worker thread) */
	return rbd_set(cl, "rbd_non_blocking_aio", "true", err, errlen);
}

static int rbd_connect(struct rbd_conn *c, const struct rbd_conn_key *k, char *err,
		       size_t errlen)
{
	char name[128];
	int r;

	snprintf(name, sizeof(name), "client.%s", k->client_id);
	r = rados_create2(&c->cluster, k->cluster, name, 0);
	if (r < 0) {
		be_err(err, errlen, "rbd: creating a RADOS handle for %s: %s", name, strerror(-r));
		return r;
	}
	r = rados_conf_read_file(c->cluster, k->conf);
	if (r < 0) {
		if (k->conf)
			be_err(err, errlen, "rbd: conf=%s: %s", k->conf,
			       r == -ENOENT ? "no such file" : strerror(-r));
		else
			be_err(err, errlen, "rbd: no ceph.conf found ($CEPH_CONF, /etc/ceph/%s.conf): "
			       "%s; give conf=PATH", k->cluster, strerror(-r));
		goto fail;
	}
	r = rados_conf_parse_env(c->cluster, NULL);
	if (r < 0) {
		be_err(err, errlen, "rbd: CEPH_ARGS: %s", strerror(-r));
		goto fail;
	}
	if ((r = rbd_configure(c->cluster, k, err, errlen)) < 0)
		goto fail;
	r = rados_connect(c->cluster);
	if (r < 0) {
		if (r == -ETIMEDOUT)
			be_err(err, errlen, "rbd: no Ceph monitor answered within %u s "
			       "(mon host in %s)", k->connect_timeout, k->conf ? k->conf : "ceph.conf");
		else if (r == -EACCES || r == -EPERM)
			be_err(err, errlen, "rbd: the cluster refused %s (wrong or missing key?): %s",
			       name, strerror(-r));
		else if (r == -ENOENT)
			be_err(err, errlen, "rbd: no key for %s (keyring in %s?): %s", name,
			       k->conf ? k->conf : "ceph.conf", strerror(-r));
		else
			be_err(err, errlen, "rbd: connecting as %s: %s", name, strerror(-r));
		goto fail;
	}
	return 0;
fail:
	rados_shutdown(c->cluster);
	c->cluster = NULL;
	return r;
}

static void rbd_conn_free(struct rbd_conn *c)
{
	free(c->cluster_name);
	free(c->client_id);
	free(c->conf);
	free(c);
}

static char *rbd_strdup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

int rbd_conn_get(const struct rbd_conn_key *key, struct rbd_conn **out, char *err, size_t errlen)
{
	struct rbd_conn *c;
	bool oom = false;
	int r;

	pthread_mutex_lock(&rbd_conns_lock);
	for (c = rbd_conns; c; c = c->next) {
		if (rbd_conn_matches(c, key)) {
			c->refs++;
			pthread_mutex_unlock(&rbd_conns_lock);
			*out = c;
			return 0;
		}
	}
	c = calloc(1, sizeof(*c));
	if (c) {
		c->cluster_name = rbd_strdup_or_null(key->cluster, &oom);
		c->client_id = rbd_strdup_or_null(key->client_id, &oom);
		c->conf = rbd_strdup_or_null(key->conf, &oom);
	}
	if (!c || oom) {
		if (c)
			rbd_conn_free(c);
		pthread_mutex_unlock(&rbd_conns_lock);
		be_err(err, errlen, "rbd: out of memory");
		return -ENOMEM;
	}
	c->op_timeout = key->op_timeout;
	c->cache = key->cache;
	/* connecting under the lock: opens run at start, and a second open of the same identity
	 * must find this connection rather than make its own */
	r = rbd_connect(c, key, err, errlen);
	if (r < 0) {
		pthread_mutex_unlock(&rbd_conns_lock);
		rbd_conn_free(c);
		return r;
	}
	c->refs = 1;
	c->next = rbd_conns;
	rbd_conns = c;
	pthread_mutex_unlock(&rbd_conns_lock);
	*out = c;
	return 0;
}

void rbd_conn_put(struct rbd_conn *c)
{
	struct rbd_conn **pp;

	pthread_mutex_lock(&rbd_conns_lock);
	if (--c->refs) {
		pthread_mutex_unlock(&rbd_conns_lock);
		return;
	}
	for (pp = &rbd_conns; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	pthread_mutex_unlock(&rbd_conns_lock);
	rados_shutdown(c->cluster);
	rbd_conn_free(c);
}

struct rbd_wait {
	struct nvr_handoff h;
	void (*late)(int r, void *arg);
	void *arg;
};

struct rbd_wait *rbd_wait_new(void (*late)(int r, void *arg), void *arg)
{
	struct rbd_wait *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	nvr_handoff_init(&w->h);
	w->late = late;
	w->arg = arg;
	return w;
}

void rbd_wait_free(struct rbd_wait *w)
{
	nvr_handoff_destroy(&w->h);
	free(w);
}

static void rbd_wait_cb(rbd_completion_t comp, void *arg)
{
	struct rbd_wait *w = arg;
	int r = (int)rbd_aio_get_return_value(comp);

	rbd_aio_release(comp);
	if (nvr_handoff_complete(&w->h, r)) {
		if (w->late)
			w->late(r, w->arg);
		rbd_wait_free(w);
	}
}

rbd_completion_t rbd_wait_completion(struct rbd_wait *w)
{
	rbd_completion_t comp;

	if (rbd_aio_create_completion(w, rbd_wait_cb, &comp) < 0) {
		rbd_wait_free(w);
		return NULL;
	}
	return comp;
}

int rbd_wait_for(struct rbd_wait *w, unsigned seconds)
{
	int r;

	if (nvr_handoff_wait(&w->h, seconds, &r))
		return -ETIMEDOUT; /* the callback frees it */
	rbd_wait_free(w);
	return r;
}
