/* SPDX-License-Identifier: MIT */
/*
 * Opening a RADOS KV namespace: connect (bounded by the connect timeout), find the pool and
 * the RADOS namespace, and read or create the data set's meta object, which fixes the shard
 * count for its lifetime (keys are placed by hash modulo that count). Open-time operations
 * are aio waited for with a deadline, so an unreachable OSD fails the open instead of hanging.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvr_priv.h"
#include "util/errf.h"
#include "util/handoff.h"

#define KVR_DEFAULT_SHARDS 16
#define KVR_MAX_SHARDS 1024
#define KVR_DEFAULT_MAX_VALUE (1u << 20)
#define KVR_DEFAULT_CONNECT_TIMEOUT 10
#define KVR_NOMINAL_CAPACITY (1ull << 40)
#define KVR_STATS_PERIOD_S 10
#define KVR_META_FORMAT "nvring-kvr 1 shards=%u\n"

#define kvr_err(err, errlen, ...) ((void)nvr_errf((err), (errlen), 0, __VA_ARGS__))

/* An aio operation waited for with a deadline; freed by whichever side finishes last. */
struct kvr_wait {
	struct nvr_handoff h;
	int prval;
	size_t got;
	rados_read_op_t rop;
	rados_write_op_t wop;
	char buf[128];
};

static struct kvr_wait *kvr_wait_new(void)
{
	struct kvr_wait *w = calloc(1, sizeof(*w));

	if (w)
		nvr_handoff_init(&w->h);
	return w;
}

static void kvr_wait_free(struct kvr_wait *w)
{
	if (w->rop)
		rados_release_read_op(w->rop);
	if (w->wop)
		rados_release_write_op(w->wop);
	nvr_handoff_destroy(&w->h);
	free(w);
}

static void kvr_wait_cb(rados_completion_t c, void *arg)
{
	struct kvr_wait *w = arg;
	int r = rados_aio_get_return_value(c);

	rados_aio_release(c);
	if (nvr_handoff_complete(&w->h, r))
		kvr_wait_free(w);
}

/* Run w's op on oid and wait up to `seconds`: its result (w stays the caller's, to read and
 * free), or -ETIMEDOUT (w then belongs to the callback). */
static int kvr_wait_run(struct kvr *kv, struct kvr_wait *w, const char *oid, unsigned seconds)
{
	rados_completion_t c;
	int r = rados_aio_create_completion2(w, kvr_wait_cb, &c);

	if (r < 0)
		return r;
	r = w->wop ? rados_aio_write_op_operate(w->wop, kv->ioctx, c, oid, NULL, 0) :
		     rados_aio_read_op_operate(w->rop, kv->ioctx, c, oid, 0);
	if (r < 0) {
		rados_aio_release(c);
		return r;
	}
	if (nvr_handoff_wait(&w->h, seconds, &r))
		return -ETIMEDOUT;
	return r < 0 ? r : w->prval;
}

/* The meta object's shard count into *shards: 0, -ENOENT if there is none yet, -EBADMSG if it
 * is not ours, or another negative errno. */
static int kvr_meta_read(struct kvr *kv, unsigned timeout, unsigned *shards)
{
	struct kvr_wait *w = kvr_wait_new();
	char text[sizeof(w->buf) + 1];
	int r;

	if (!w || !(w->rop = rados_create_read_op())) {
		if (w)
			kvr_wait_free(w);
		return -ENOMEM;
	}
	rados_read_op_read(w->rop, 0, sizeof(w->buf), w->buf, &w->got, &w->prval);
	r = kvr_wait_run(kv, w, KVR_META_OID, timeout);
	if (r == -ETIMEDOUT)
		return r;
	if (r == 0) {
		memcpy(text, w->buf, w->got);
		text[w->got] = 0;
		if (sscanf(text, KVR_META_FORMAT, shards) != 1 || *shards < 1 ||
		    *shards > KVR_MAX_SHARDS)
			r = -EBADMSG;
	}
	kvr_wait_free(w);
	return r;
}

/* Create the meta object (exclusive: two first opens race, one wins, both then read it). */
static int kvr_meta_create(struct kvr *kv, unsigned timeout, unsigned shards)
{
	struct kvr_wait *w = kvr_wait_new();
	int r, n;

	if (!w || !(w->wop = rados_create_write_op())) {
		if (w)
			kvr_wait_free(w);
		return -ENOMEM;
	}
	n = snprintf(w->buf, sizeof(w->buf), KVR_META_FORMAT, shards);
	rados_write_op_create(w->wop, LIBRADOS_CREATE_EXCLUSIVE, NULL);
	rados_write_op_write_full(w->wop, w->buf, (size_t)n);
	r = kvr_wait_run(kv, w, KVR_META_OID, timeout);
	if (r != -ETIMEDOUT)
		kvr_wait_free(w);
	return r;
}

static int kvr_meta(struct kvr *kv, const struct kvr_config *cfg, unsigned timeout, char *err,
		    size_t errlen)
{
	const char *ns = cfg->nspace && *cfg->nspace ? cfg->nspace : NULL;
	unsigned want = cfg->shards ? cfg->shards : KVR_DEFAULT_SHARDS;
	int r = kvr_meta_read(kv, timeout, &kv->shards);

	if (r == -ENOENT) {
		r = kvr_meta_create(kv, timeout, want);
		if (r == 0 || r == -EEXIST)
			r = kvr_meta_read(kv, timeout, &kv->shards);
	}
	if (r == -ETIMEDOUT)
		kvr_err(err, errlen, "kv:rados:%s%s%s: no OSD answered within %u s", cfg->pool,
			ns ? "/" : "", ns ? ns : "", timeout);
	else if (r == -EBADMSG)
		kvr_err(err, errlen, "kv:rados:%s%s%s: object %s is not an nvring KV meta object",
			cfg->pool, ns ? "/" : "", ns ? ns : "", KVR_META_OID);
	else if (r == -EPERM || r == -EACCES)
		kvr_err(err, errlen, "kv:rados:%s: client.%s may not read and write the pool (its "
			"caps?): %s", cfg->pool, cfg->client_id ? cfg->client_id : "admin",
			strerror(-r));
	else if (r < 0)
		kvr_err(err, errlen, "kv:rados:%s: reading %s: %s", cfg->pool, KVR_META_OID,
			strerror(-r));
	return r;
}

static int kvr_set(rados_t cl, const char *opt, unsigned v, char *err, size_t errlen)
{
	char num[16];
	int r;

	snprintf(num, sizeof(num), "%u", v);
	r = rados_conf_set(cl, opt, num);
	if (r < 0)
		kvr_err(err, errlen, "kv:rados: setting %s=%s: %s", opt, num, strerror(-r));
	return r;
}

static int kvr_connect(struct kvr *kv, const struct kvr_config *cfg, unsigned timeout,
		       char *err, size_t errlen)
{
	char name[128];
	const char *conf_name = cfg->conf ? cfg->conf : "ceph.conf";
	int r;

	snprintf(name, sizeof(name), "client.%s", cfg->client_id ? cfg->client_id : "admin");
	r = rados_create2(&kv->cluster, cfg->cluster ? cfg->cluster : "ceph", name, 0);
	if (r < 0) {
		kvr_err(err, errlen, "kv:rados: creating a RADOS handle for %s: %s", name,
			strerror(-r));
		kv->cluster = NULL;
		return r;
	}
	r = rados_conf_read_file(kv->cluster, cfg->conf);
	if (r < 0) {
		if (cfg->conf)
			kvr_err(err, errlen, "kv:rados: conf=%s: %s", cfg->conf,
				r == -ENOENT ? "no such file" : strerror(-r));
		else
			kvr_err(err, errlen, "kv:rados: no ceph.conf found ($CEPH_CONF, /etc/ceph/): "
				"%s; give conf=PATH", strerror(-r));
		return r;
	}
	if ((r = rados_conf_parse_env(kv->cluster, NULL)) < 0) {
		kvr_err(err, errlen, "kv:rados: CEPH_ARGS: %s", strerror(-r));
		return r;
	}
	/* the mon timeout bounds the statistics thread's calls, so close never hangs on them */
	if ((r = kvr_set(kv->cluster, "client_mount_timeout", timeout, err, errlen)) < 0 ||
	    (r = kvr_set(kv->cluster, "rados_mon_op_timeout", timeout, err, errlen)) < 0 ||
	    (r = kvr_set(kv->cluster, "rados_osd_op_timeout", cfg->op_timeout, err, errlen)) < 0)
		return r;
	r = rados_connect(kv->cluster);
	if (r == -ETIMEDOUT)
		kvr_err(err, errlen, "kv:rados: no Ceph monitor answered within %u s (mon host in "
			"%s)", timeout, conf_name);
	else if (r == -EACCES || r == -EPERM)
		kvr_err(err, errlen, "kv:rados: the cluster refused %s (wrong or missing key?): %s",
			name, strerror(-r));
	else if (r < 0)
		kvr_err(err, errlen, "kv:rados: connecting as %s: %s", name, strerror(-r));
	return r;
}

/* NUSE from the pool statistics, refreshed off the workers (the call blocks). */
static void *kvr_stats_main(void *arg)
{
	struct kvr *kv = arg;
	struct timespec dl;

	pthread_mutex_lock(&kv->stats_mu);
	while (!kv->stats_stop) {
		struct rados_pool_stat_t st;

		pthread_mutex_unlock(&kv->stats_mu);
		if (rados_ioctx_pool_stat(kv->ioctx, &st) == 0)
			atomic_store(&kv->used, st.num_bytes);
		pthread_mutex_lock(&kv->stats_mu);
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += KVR_STATS_PERIOD_S;
		while (!kv->stats_stop &&
		       pthread_cond_timedwait(&kv->stats_cv, &kv->stats_mu, &dl) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&kv->stats_mu);
	return NULL;
}

static void kvr_capacity_init(struct kvr *kv, const struct kvr_config *cfg)
{
	struct rados_cluster_stat_t cs;

	kv->capacity = cfg->capacity;
	if (!kv->capacity && rados_cluster_stat(kv->cluster, &cs) == 0)
		kv->capacity = cs.kb * 1024;
	if (!kv->capacity) /* no statistics without a mgr */
		kv->capacity = KVR_NOMINAL_CAPACITY;
}

static void kvr_free(struct kvr *kv)
{
	if (kv->stats_running) {
		pthread_mutex_lock(&kv->stats_mu);
		kv->stats_stop = true;
		pthread_cond_signal(&kv->stats_cv);
		pthread_mutex_unlock(&kv->stats_mu);
		pthread_join(kv->stats_thread, NULL);
	}
	pthread_cond_destroy(&kv->stats_cv);
	pthread_mutex_destroy(&kv->stats_mu);
	if (kv->ioctx)
		rados_ioctx_destroy(kv->ioctx);
	if (kv->cluster)
		rados_shutdown(kv->cluster);
	free(kv);
}

int kvr_open(struct kvr **out, const struct kvr_config *cfg, char *err, size_t errlen)
{
	unsigned timeout = cfg->connect_timeout ? cfg->connect_timeout : KVR_DEFAULT_CONNECT_TIMEOUT;
	struct kvr *kv;
	pthread_condattr_t ca;
	int r;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!cfg->pool || !*cfg->pool) {
		kvr_err(err, errlen, "kv:rados: a pool is needed (kv:rados:POOL[/NAMESPACE])");
		return -EINVAL;
	}
	if (cfg->shards > KVR_MAX_SHARDS) {
		kvr_err(err, errlen, "kv:rados: shards=%u out of range (1..%u)", cfg->shards,
			KVR_MAX_SHARDS);
		return -EINVAL;
	}
	kv = calloc(1, sizeof(*kv));
	if (!kv) {
		kvr_err(err, errlen, "kv:rados: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&kv->stats_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&kv->stats_cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&kv->inflight, 0);
	atomic_init(&kv->used, 0);
	kv->max_value = cfg->max_value ? cfg->max_value : KVR_DEFAULT_MAX_VALUE;
	r = kvr_connect(kv, cfg, timeout, err, errlen);
	if (r < 0)
		goto fail;
	r = rados_ioctx_create(kv->cluster, cfg->pool, &kv->ioctx);
	if (r < 0) {
		kv->ioctx = NULL;
		if (r == -ENOENT)
			kvr_err(err, errlen, "kv:rados: no pool '%s'", cfg->pool);
		else
			kvr_err(err, errlen, "kv:rados: pool '%s': %s", cfg->pool, strerror(-r));
		goto fail;
	}
	rados_ioctx_set_namespace(kv->ioctx, cfg->nspace && *cfg->nspace ? cfg->nspace : NULL);
	r = kvr_meta(kv, cfg, timeout, err, errlen);
	if (r == -ETIMEDOUT) {
		/* an abandoned operation still refers to the handle: leave it */
		kv->ioctx = NULL;
		kv->cluster = NULL;
	}
	if (r < 0)
		goto fail;
	kvr_capacity_init(kv, cfg);
	if (pthread_create(&kv->stats_thread, NULL, kvr_stats_main, kv) == 0)
		kv->stats_running = true;
	*out = kv;
	return 0;
fail:
	kvr_free(kv);
	return r;
}

void kvr_close(struct kvr *kv)
{
	if (kv)
		kvr_free(kv);
}

bool kvr_idle(const struct kvr *kv)
{
	return atomic_load_explicit(&kv->inflight, memory_order_acquire) == 0;
}

uint64_t kvr_capacity(const struct kvr *kv)
{
	return kv->capacity;
}

uint64_t kvr_used(const struct kvr *kv)
{
	return atomic_load_explicit(&kv->used, memory_order_relaxed);
}

uint32_t kvr_max_value(const struct kvr *kv)
{
	return kv->max_value;
}

unsigned kvr_shards(const struct kvr *kv)
{
	return kv->shards;
}
