/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rio.h"

static void rio_done(struct be_io *io, int res)
{
	struct rio *r = (struct rio *)((char *)io - offsetof(struct rio, io));

	r->res = res;
	r->ndone++;
	r->done_ms = ck_now_ms();
	if (r->submitting)
		r->inline_done = true;
	if (!pthread_equal(pthread_self(), r->owner))
		r->foreign = true;
}

void rio_prep(struct rio *r, enum be_op op, unsigned flags, uint64_t off, uint64_t len, void *buf)
{
	memset(r, 0, sizeof(*r));
	r->io.op = op;
	r->io.flags = flags;
	r->io.offset = off;
	r->io.len = len;
	r->io.buf = buf;
	r->io.buf_index = -1;
	r->io.done = rio_done;
	r->res = 1; /* never a backend result */
}

void rio_submit(struct backend *be, struct ck_worker *w, struct rio *r)
{
	r->owner = w->thread;
	r->submitting = true;
	be_submit(be, &w->ex, &r->io);
	r->submitting = false;
}

int rio_ndone(const struct rio *r, int n)
{
	int d = 0;

	for (int i = 0; i < n; i++)
		d += r[i].ndone > 0;
	return d;
}

struct rio_set {
	struct rio *r;
	int n;
};

static bool rio_all_done(void *arg)
{
	struct rio_set *s = arg;

	return rio_ndone(s->r, s->n) == s->n;
}

int rio_wait(struct ck_worker *w, struct rio *r, int n, int timeout_ms)
{
	struct rio_set s = { r, n };

	return ck_run_until(w, rio_all_done, &s, timeout_ms);
}

int rio_do(struct backend *be, struct ck_worker *w, enum be_op op, unsigned flags, uint64_t off,
	   uint64_t len, void *buf)
{
	struct rio r;

	rio_prep(&r, op, flags, off, len, buf);
	rio_submit(be, w, &r);
	if (rio_wait(w, &r, 1, 20000))
		return -EPROTO;
	/* a second done call would be a bug too: give it a moment to show */
	ck_run_for(w, 0);
	/* completed, errors included, it no longer counts as waiting on librbd (else the worker
	 * loop would never spin again) */
	return r.ndone == 1 && !r.foreign && !w->ex.foreign_waits ? r.res : -EPROTO;
}

int rio_open(struct backend *be, const struct rio_open *o, char *err, size_t errlen)
{
	struct be_rbd_spec spec = {
		.pool = "rbd",
		.image = o->image,
		.conf = o->conf ? o->conf : getenv("CEPH_CONF"),
		.client_id = o->client_id,
		.lba_size = o->lba,
		.vwc = o->vwc,
		.readonly = o->ro,
		.connect_timeout = o->connect_timeout,
		.op_timeout = o->op_timeout,
	};

	err[0] = 0;
	return be_rbd_open(be, &spec, err, errlen);
}
