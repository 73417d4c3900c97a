/* SPDX-License-Identifier: MIT */
/*
 * The measurement behind src/kvrados's design: NVMe KV on RADOS as one object per key versus
 * keys sharded into objects as omap entries. Stores and retrieves at QD 32 for a few value
 * sizes, and a List of every key, against the cluster in $CEPH_CONF (pool argv[1], default
 * "kv"). Prints one line per case.
 *
 *   kv_mapping [POOL] [SHARDS]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rados/librados.h>

#define QD 32

static rados_ioctx_t io;
static unsigned nshards = 16;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int inflight, errors;

struct op {
	rados_write_op_t w;
	rados_read_op_t r;
	rados_omap_iter_t it;
	char *buf;
	size_t got;
	int prval;
	uint64_t size;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cb(rados_completion_t c, void *arg)
{
	struct op *o = arg;

	if (rados_aio_get_return_value(c) < 0 || o->prval < 0)
		__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
	rados_aio_release(c);
	if (o->w)
		rados_release_write_op(o->w);
	if (o->it)
		rados_omap_get_end(o->it);
	if (o->r)
		rados_release_read_op(o->r);
	free(o);
	pthread_mutex_lock(&mu);
	inflight--;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static void slot(void)
{
	pthread_mutex_lock(&mu);
	while (inflight >= QD)
		pthread_cond_wait(&cv, &mu);
	inflight++;
	pthread_mutex_unlock(&mu);
}

static void drain(void)
{
	pthread_mutex_lock(&mu);
	while (inflight)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void key_hex(unsigned i, char *out)
{
	snprintf(out, 33, "%016x%08x", i * 2654435761u, i);
}

static unsigned shard_of(const char *hex)
{
	uint32_t h = 2166136261u;

	for (; *hex; hex++)
		h = (h ^ (uint8_t)*hex) * 16777619u;
	return h % nshards;
}

static void issue(int omap, int store, unsigned i, char *val, size_t vlen, char *rbuf)
{
	struct op *o = calloc(1, sizeof(*o));
	rados_completion_t c;
	char key[40], oid[64];
	size_t kl;

	key_hex(i, key);
	kl = strlen(key);
	slot();
	rados_aio_create_completion2(o, cb, &c);
	if (omap) {
		const char *k = key, *v = val;

		snprintf(oid, sizeof(oid), "bench.shard.%u", shard_of(key));
		if (store) {
			o->w = rados_create_write_op();
			rados_write_op_omap_set2(o->w, &k, &v, &kl, &vlen, 1);
			rados_aio_write_op_operate(o->w, io, c, oid, NULL, 0);
		} else {
			o->r = rados_create_read_op();
			rados_read_op_omap_get_vals_by_keys2(o->r, &k, 1, &kl, &o->it, &o->prval);
			rados_aio_read_op_operate(o->r, io, c, oid, 0);
		}
	} else {
		snprintf(oid, sizeof(oid), "bench.k.%s", key);
		if (store) {
			o->w = rados_create_write_op();
			rados_write_op_write_full(o->w, val, vlen);
			rados_aio_write_op_operate(o->w, io, c, oid, NULL, 0);
		} else {
			o->r = rados_create_read_op();
			rados_read_op_stat(o->r, &o->size, NULL, &o->prval);
			rados_read_op_read(o->r, 0, vlen, rbuf, &o->got, NULL);
			rados_aio_read_op_operate(o->r, io, c, oid, 0);
		}
	}
}

static void run(int omap, size_t vlen, unsigned n)
{
	char *val = malloc(vlen), *rbuf = malloc(vlen * QD);
	double t0, ts, tr;

	memset(val, 0xAB, vlen);
	errors = 0;
	t0 = now();
	for (unsigned i = 0; i < n; i++)
		issue(omap, 1, i, val, vlen, NULL);
	drain();
	ts = now() - t0;
	t0 = now();
	for (unsigned i = 0; i < n; i++)
		issue(omap, 0, i, NULL, vlen, rbuf + (i % QD) * vlen);
	drain();
	tr = now() - t0;
	printf("%-13s value %7zu B  store %7.0f ops/s %7.1f MiB/s   retrieve %7.0f ops/s %7.1f "
	       "MiB/s   errors %d\n", omap ? "omap-sharded" : "object/key", vlen, n / ts,
	       n * (double)vlen / ts / 1048576, n / tr, n * (double)vlen / tr / 1048576, errors);
	free(val);
	free(rbuf);
}

/* Every key in order: omap shards listed (keys only) and merged, vs the pool's object list. */
static void list_all(unsigned nkeys)
{
	double t0 = now();
	unsigned got = 0;
	rados_list_ctx_t lc;
	const char *entry;

	for (unsigned s = 0; s < nshards; s++) {
		rados_read_op_t r = rados_create_read_op();
		rados_omap_iter_t it;
		unsigned char more;
		int prval;
		char oid[64], *k, *v;
		size_t kl, vl;

		snprintf(oid, sizeof(oid), "bench.shard.%u", s);
		rados_read_op_omap_get_keys2(r, "", 100000, &it, &more, &prval);
		if (rados_read_op_operate(r, io, oid, 0) == 0) {
			while (rados_omap_get_next2(it, &k, &v, &kl, &vl) == 0 && k)
				got++;
			rados_omap_get_end(it);
		}
		rados_release_read_op(r);
	}
	printf("list omap-sharded: %u of %u keys from %u shards in %.1f ms (then a %u-way merge)\n",
	       got, nkeys, nshards, (now() - t0) * 1000, nshards);
	t0 = now();
	got = 0;
	if (rados_nobjects_list_open(io, &lc) == 0) {
		while (rados_nobjects_list_next(lc, &entry, NULL, NULL) == 0)
			got += strncmp(entry, "bench.k.", 8) == 0;
		rados_nobjects_list_close(lc);
	}
	printf("list object/key:   %u of %u keys in %.1f ms, unordered (hash order; a sort of "
	       "everything follows, and the listing call is synchronous)\n",
	       got, nkeys, (now() - t0) * 1000);
}

int main(int argc, char **argv)
{
	const char *pool = argc > 1 ? argv[1] : "kv";
	rados_t cl;
	size_t sizes[] = { 64, 4096, 65536, 1 << 20 };
	unsigned counts[] = { 5000, 5000, 2000, 200 };

	if (argc > 2)
		nshards = (unsigned)atoi(argv[2]);
	if (rados_create2(&cl, "ceph", "client.admin", 0) || rados_conf_read_file(cl, NULL) ||
	    rados_connect(cl) || rados_ioctx_create(cl, pool, &io)) {
		fprintf(stderr, "kv_mapping: cannot reach pool %s through $CEPH_CONF\n", pool);
		return 1;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		run(0, sizes[i], counts[i]);
		run(1, sizes[i], counts[i]);
	}
	list_all(counts[0]);
	rados_ioctx_destroy(io);
	rados_shutdown(cl);
	return 0;
}
