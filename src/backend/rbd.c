/* SPDX-License-Identifier: MIT */
/*
 * Ceph RBD namespace on librbd's asynchronous API. One image handle per namespace, used from
 * every worker: each operation is one rbd_aio_* call whose completion callback runs on a
 * librbd thread and only hands the operation back to the submitting worker (executor_post);
 * everything else (result mapping, a FUA flush, `done`) runs on that worker.
 *
 * What each operation guarantees:
 * - WRITE: without vwc librbd's cache is off, so completion means the OSDs have the data
 *   (replicated as the pool says). With vwc the cache may acknowledge first; FUA then adds an
 *   rbd_aio_flush before completing, and FLUSH is rbd_aio_flush.
 * - WRITE_ZEROES: rbd_aio_write_zeroes (whole objects are deallocated, partial ones zeroed).
 * - DISCARD: rbd_aio_discard with rbd_skip_partial_discard=false, which zeroes the partial
 *   object extents that the default setting silently leaves. If the image or its pool overrides
 *   that setting back, DISCARD becomes write_zeroes, so the range always reads back as zeroes.
 * - A cluster that goes away: operations wait in librados and complete when it returns, or,
 *   with op_timeout, fail with -ETIMEDOUT (a retryable status, no DNR).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "be_priv.h"
#include "rbd_priv.h"

#define RBD_DEFAULT_CONNECT_TIMEOUT 10
#define RBD_CLOSE_TIMEOUT 30

struct rbd_ns {
	struct rbd_conn *conn;
	rados_ioctx_t ioctx;
	rbd_image_t image;
	bool vwc;
	bool discard_zeroes; /* rbd_aio_discard leaves zeroes (skip_partial_discard off) */
	unsigned close_timeout;
	atomic_uint inflight;
};

static const struct backend_ops rbd_ops;

/* io->step: what the librbd call in flight is for */
enum rbd_step {
	RBD_STEP_MAIN,
	RBD_STEP_FUA_FLUSH, /* vwc: the flush after a FUA write */
};

#define io_of_xc(c) ((struct be_io *)((char *)(c) - offsetof(struct be_io, xc)))

/* librbd/librados errors → the errnos errmap.c turns into NVMe statuses. */
static int rbd_errno(int r, enum be_op op)
{
	switch (-r) {
	case EROFS:
		return -EROFS;
	case EPERM:
	case EACCES:
		/* the key's caps deny it: writes become write-protected, a read a read error */
		return op == BE_READ ? -EIO : -EACCES;
	case ENOSPC:
	case EDQUOT:
		return -ENOSPC; /* pool full or over quota */
	case ETIMEDOUT:
		return -ETIMEDOUT; /* op_timeout: Internal Error without DNR, the host retries */
	case EOPNOTSUPP:
		return -EOPNOTSUPP;
	case ESHUTDOWN: /* this client was blocklisted (another one took the image's lock) */
	case EIO:
	default:
		return -EIO;
	}
}

static void rbd_finish(struct be_io *io, int res)
{
	struct rbd_ns *n = io->be->priv;

	atomic_fetch_sub_explicit(&n->inflight, 1, memory_order_relaxed);
	executor_foreign_end(io->ex);
	io->done(io, res);
}

static void rbd_issue(struct be_io *io);

/* On the submitting worker: the librbd call's result (kept in io->xfer) continues here. */
static void rbd_xc_done(struct exec_completion *c)
{
	struct be_io *io = io_of_xc(c);
	struct rbd_ns *n = io->be->priv;
	int64_t ret = (int64_t)io->xfer;

	if (ret < 0)
		return rbd_finish(io, rbd_errno((int)ret, io->op));
	if (io->op == BE_READ && (uint64_t)ret < io->len) /* the image shrank under us */
		memset((uint8_t *)io->buf + ret, 0, io->len - (uint64_t)ret);
	if (io->step == RBD_STEP_MAIN && n->vwc && (io->flags & BE_FUA) && io->op != BE_READ &&
	    io->op != BE_FLUSH) {
		io->step = RBD_STEP_FUA_FLUSH;
		return rbd_issue(io);
	}
	rbd_finish(io, 0);
}

/* On a librbd thread: hand the result to the worker that submitted. */
static void rbd_cb(rbd_completion_t comp, void *arg)
{
	struct be_io *io = arg;

	io->xfer = (uint64_t)(int64_t)rbd_aio_get_return_value(comp);
	rbd_aio_release(comp);
	io->xc.fn = rbd_xc_done;
	executor_post(io->ex, &io->xc);
}

static void rbd_issue(struct be_io *io)
{
	struct rbd_ns *n = io->be->priv;
	rbd_completion_t comp;
	int r = rbd_aio_create_completion(io, rbd_cb, &comp);

	if (r < 0)
		return rbd_finish(io, -ENOMEM);
	if (io->step == RBD_STEP_FUA_FLUSH) {
		r = rbd_aio_flush(n->image, comp);
	} else {
		switch (io->op) {
		case BE_READ:
			r = rbd_aio_read(n->image, io->offset, io->len, io->buf, comp);
			break;
		case BE_WRITE:
			r = rbd_aio_write(n->image, io->offset, io->len, io->buf, comp);
			break;
		case BE_FLUSH:
			r = rbd_aio_flush(n->image, comp);
			break;
		case BE_WRITE_ZEROES:
			r = rbd_aio_write_zeroes(n->image, io->offset, io->len, comp, 0, 0);
			break;
		case BE_DISCARD:
			r = n->discard_zeroes ?
				    rbd_aio_discard(n->image, io->offset, io->len, comp) :
				    rbd_aio_write_zeroes(n->image, io->offset, io->len, comp, 0, 0);
			break;
		default:
			r = -EINVAL;
		}
	}
	if (r < 0) { /* not queued: the callback will not run */
		rbd_aio_release(comp);
		rbd_finish(io, rbd_errno(r, io->op));
	}
}

static int rbd_submit(struct backend *be, struct executor *ex, struct be_io *io)
{
	struct rbd_ns *n = be->priv;
	int res = be_io_validate(be, io);

	io->be = be;
	io->ex = ex;
	io->xfer = 0;
	io->step = RBD_STEP_MAIN;
	if (res) {
		io->done(io, res);
		return 0;
	}
	/* nothing to do: an empty range, or a flush with no cache to empty */
	if ((io->op != BE_FLUSH && io->len == 0) || (io->op == BE_FLUSH && !n->vwc)) {
		io->done(io, 0);
		return 0;
	}
	atomic_fetch_add_explicit(&n->inflight, 1, memory_order_relaxed);
	executor_foreign_begin(ex);
	rbd_issue(io);
	return 0;
}

static int rbd_flush_sync(struct backend *be)
{
	struct rbd_ns *n = be->priv;
	struct rbd_wait *w;
	rbd_completion_t comp;
	int r;

	if (!n->vwc)
		return 0;
	w = rbd_wait_new(NULL, NULL);
	comp = w ? rbd_wait_completion(w) : NULL;
	if (!comp)
		return -ENOMEM;
	r = rbd_aio_flush(n->image, comp);
	if (r < 0) {
		rbd_aio_release(comp);
		rbd_wait_free(w);
		return rbd_errno(r, BE_FLUSH);
	}
	r = rbd_wait_for(w, n->close_timeout);
	return r < 0 ? rbd_errno(r, BE_FLUSH) : 0;
}

/* A close that gave up waiting: when librbd finally closes the image, release the rest. */
static void rbd_close_late(int r, void *arg)
{
	struct rbd_ns *n = arg;

	(void)r;
	/* the connection stays: shutting it down from its own callback thread would deadlock */
	rados_ioctx_destroy(n->ioctx);
	free(n);
}

static void rbd_ns_release(struct rbd_ns *n)
{
	struct rbd_wait *w = rbd_wait_new(rbd_close_late, n);
	rbd_completion_t comp = w ? rbd_wait_completion(w) : NULL;
	struct rbd_conn *conn = n->conn;

	if (!comp || rbd_aio_close(n->image, comp) < 0) {
		if (comp) {
			rbd_aio_release(comp);
			rbd_wait_free(w);
		}
		rbd_close(n->image); /* out of memory: the blocking close is all that is left */
	} else if (rbd_wait_for(w, n->close_timeout) == -ETIMEDOUT) {
		return; /* the cluster is gone: rbd_close_late finishes, the connection leaks */
	}
	rados_ioctx_destroy(n->ioctx);
	free(n);
	rbd_conn_put(conn);
}

static void rbd_be_close(struct backend *be)
{
	struct rbd_ns *n = be->priv;

	if (!n)
		return;
	rbd_ns_release(n);
	be->priv = NULL;
}

static const struct backend_ops rbd_ops = {
	.name = "rbd",
	.submit = rbd_submit,
	.flush_sync = rbd_flush_sync,
	.close = rbd_be_close,
};

/* The value librbd will use for `name` on this image (pool and image overrides included). */
static int rbd_image_conf(rbd_image_t image, const char *name, bool *val)
{
	rbd_config_option_t *opts = NULL;
	int max = 0, r, found = -ENOENT;

	r = rbd_config_image_list(image, NULL, &max);
	if (r != -ERANGE && r < 0)
		return r;
	opts = calloc((size_t)max + 1, sizeof(*opts));
	if (!opts)
		return -ENOMEM;
	r = rbd_config_image_list(image, opts, &max);
	if (r < 0) {
		free(opts);
		return r;
	}
	for (int i = 0; i < max; i++) {
		if (strcmp(opts[i].name, name) == 0) {
			*val = strcmp(opts[i].value, "true") == 0;
			found = 0;
		}
	}
	rbd_config_image_list_cleanup(opts, max);
	free(opts);
	return found;
}

/* An open that gave up waiting: when the image does open, close it again. */
static void rbd_close_cb(rbd_completion_t comp, void *arg)
{
	(void)arg;
	rbd_aio_release(comp);
}

static void rbd_open_late(int r, void *arg)
{
	rbd_image_t *image = arg;
	rbd_completion_t comp;

	if (r == 0 && rbd_aio_create_completion(NULL, rbd_close_cb, &comp) == 0 &&
	    rbd_aio_close(*image, comp) < 0)
		rbd_aio_release(comp);
	free(image);
}

/* Open the image with a deadline (rbd_open would wait for unreachable OSDs forever). */
static int rbd_open_image(struct rbd_ns *n, const struct be_rbd_spec *spec, unsigned timeout,
			  char *err, size_t errlen)
{
	rbd_image_t *slot = calloc(1, sizeof(*slot)); /* outlives us if the open is abandoned */
	struct rbd_wait *w = slot ? rbd_wait_new(rbd_open_late, slot) : NULL;
	rbd_completion_t comp = w ? rbd_wait_completion(w) : NULL;
	int r;

	if (!comp) { /* a failed rbd_wait_completion has freed w */
		free(slot);
		be_err(err, errlen, "rbd: out of memory");
		return -ENOMEM;
	}
	r = spec->readonly ? rbd_aio_open_read_only(n->ioctx, spec->image, slot, NULL, comp) :
			     rbd_aio_open(n->ioctx, spec->image, slot, NULL, comp);
	if (r < 0) {
		rbd_aio_release(comp);
		rbd_wait_free(w);
		free(slot);
	} else {
		r = rbd_wait_for(w, timeout);
		if (r == -ETIMEDOUT) {
			be_err(err, errlen, "rbd: %s/%s: no OSD answered within %u s", spec->pool,
			       spec->image, timeout);
			return r; /* slot belongs to rbd_open_late now */
		}
		if (r == 0)
			n->image = *slot;
		free(slot);
	}
	if (r == -ENOENT)
		be_err(err, errlen, "rbd: no image '%s' in pool '%s'%s%s", spec->image, spec->pool,
		       spec->nspace && *spec->nspace ? ", namespace " : "",
		       spec->nspace && *spec->nspace ? spec->nspace : "");
	else if (r == -EPERM || r == -EACCES)
		be_err(err, errlen, "rbd: client.%s may not open %s/%s%s (its caps?): %s",
		       spec->client_id ? spec->client_id : "admin", spec->pool, spec->image,
		       spec->readonly ? "" : " read-write", strerror(-r));
	else if (r < 0)
		be_err(err, errlen, "rbd: opening %s/%s: %s", spec->pool, spec->image, strerror(-r));
	return r;
}

static int rbd_check_spec(const struct be_rbd_spec *spec, unsigned *shift, char *err,
			  size_t errlen)
{
	if (!spec->pool || !*spec->pool || !spec->image || !*spec->image) {
		be_err(err, errlen, "rbd: a pool and an image are needed (rbd:POOL/IMAGE)");
		return -EINVAL;
	}
	if (be_lba_shift(spec->lba_size ? spec->lba_size : 512, shift)) {
		be_err(err, errlen, "rbd: lba size %u not supported (512 or 4096)", spec->lba_size);
		return -EINVAL;
	}
	return 0;
}

/* The image's geometry and the settings librbd really applied to it. */
static int rbd_setup_geom(struct backend *be, struct rbd_ns *n, const struct be_rbd_spec *spec,
			  unsigned shift, char *err, size_t errlen)
{
	uint64_t size;
	bool cache = false, skip_partial = true;
	int r = rbd_get_size(n->image, &size);

	if (r < 0) {
		be_err(err, errlen, "rbd: %s/%s: size: %s", spec->pool, spec->image, strerror(-r));
		return r;
	}
	size &= ~((1ull << shift) - 1);
	if (!size) {
		be_err(err, errlen, "rbd: %s/%s is smaller than one %u-byte block", spec->pool,
		       spec->image, 1u << shift);
		return -EINVAL;
	}
	r = rbd_image_conf(n->image, "rbd_cache", &cache);
	if (r == 0)
		r = rbd_image_conf(n->image, "rbd_skip_partial_discard", &skip_partial);
	if (r < 0) {
		be_err(err, errlen, "rbd: %s/%s: reading its configuration: %s", spec->pool,
		       spec->image, strerror(-r));
		return r;
	}
	if (cache && !spec->vwc) {
		/* a pool or image override turned the cache on: writes would be acknowledged
		 * before they are stable, on a namespace that reports no volatile cache */
		be_err(err, errlen, "rbd: %s/%s has rbd_cache=true set on the pool or image; "
		       "remove it or open with vwc", spec->pool, spec->image);
		return -EINVAL;
	}
	n->discard_zeroes = !skip_partial;
	be->geom.size = size;
	be->geom.lba_shift = shift;
	be->geom.volatile_cache = spec->vwc;
	be->geom.discard = true;
	be->geom.write_zeroes = true;
	be->geom.readonly = spec->readonly;
	return 0;
}

int be_rbd_open(struct backend *be, const struct be_rbd_spec *spec, char *err, size_t errlen)
{
	unsigned shift, timeout = spec->connect_timeout ? spec->connect_timeout :
							  RBD_DEFAULT_CONNECT_TIMEOUT;
	struct rbd_conn_key key = {
		.cluster = spec->cluster ? spec->cluster : "ceph",
		.client_id = spec->client_id ? spec->client_id : "admin",
		.conf = spec->conf,
		.op_timeout = spec->op_timeout,
		.connect_timeout = timeout,
		.cache = spec->vwc,
	};
	struct rbd_ns *n;
	int r;

	if (err && errlen)
		err[0] = 0;
	r = rbd_check_spec(spec, &shift, err, errlen);

	if (r)
		return r;
	n = calloc(1, sizeof(*n));
	if (!n) {
		be_err(err, errlen, "rbd: out of memory");
		return -ENOMEM;
	}
	n->vwc = spec->vwc;
	n->close_timeout = RBD_CLOSE_TIMEOUT;
	atomic_init(&n->inflight, 0);
	r = rbd_conn_get(&key, &n->conn, err, errlen);
	if (r < 0) {
		free(n);
		return r;
	}
	r = rados_ioctx_create(n->conn->cluster, spec->pool, &n->ioctx);
	if (r < 0) {
		if (r == -ENOENT)
			be_err(err, errlen, "rbd: no pool '%s'", spec->pool);
		else
			be_err(err, errlen, "rbd: pool '%s': %s", spec->pool, strerror(-r));
		goto fail_conn;
	}
	if (spec->nspace && *spec->nspace)
		rados_ioctx_set_namespace(n->ioctx, spec->nspace);
	r = rbd_open_image(n, spec, timeout, err, errlen);
	if (r == -ETIMEDOUT)
		goto fail_leak; /* the abandoned open still uses the ioctx */
	if (r < 0)
		goto fail_ioctx;
	memset(be, 0, sizeof(*be));
	r = rbd_setup_geom(be, n, spec, shift, err, errlen);
	if (r < 0) {
		rbd_ns_release(n);
		memset(be, 0, sizeof(*be));
		return r;
	}
	be->ops = &rbd_ops;
	be->priv = n;
	return 0;

fail_ioctx:
	rados_ioctx_destroy(n->ioctx);
fail_conn:
	rbd_conn_put(n->conn);
	free(n);
	return r;
fail_leak:
	free(n);
	return r;
}

/* librbd calls the progress callback unconditionally (a NULL one crashes a shrink) */
static int rbd_resize_progress(uint64_t done, uint64_t total, void *arg)
{
	(void)done;
	(void)total;
	(void)arg;
	return 0;
}

int be_rbd_resize(struct backend *be, uint64_t bytes, char *err, size_t errlen)
{
	struct rbd_ns *n = be->priv;
	uint64_t old = __atomic_load_n(&be->geom.size, __ATOMIC_RELAXED);
	int r;

	if (err && errlen)
		err[0] = 0;
	if (be->ops != &rbd_ops || !n) {
		be_err(err, errlen, "not an rbd namespace");
		return -EOPNOTSUPP;
	}
	if (be->geom.readonly) {
		be_err(err, errlen, "rbd: the image is open read-only");
		return -EROFS;
	}
	if (!bytes || bytes & ((1ull << be->geom.lba_shift) - 1)) {
		be_err(err, errlen, "rbd: size %llu is not a positive multiple of the %u-byte block",
		       (unsigned long long)bytes, 1u << be->geom.lba_shift);
		return -EINVAL;
	}
	if (bytes < old) /* no new I/O past the coming end */
		__atomic_store_n(&be->geom.size, bytes, __ATOMIC_RELAXED);
	r = rbd_resize2(n->image, bytes, true, rbd_resize_progress, NULL);
	if (r < 0) {
		__atomic_store_n(&be->geom.size, old, __ATOMIC_RELAXED);
		be_err(err, errlen, "rbd: resizing to %llu bytes: %s", (unsigned long long)bytes,
		       strerror(-r));
		return rbd_errno(r, BE_WRITE);
	}
	__atomic_store_n(&be->geom.size, bytes, __ATOMIC_RELAXED);
	return 0;
}
