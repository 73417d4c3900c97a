/* SPDX-License-Identifier: MIT */
/* Block operations on an rbd backend as the target issues them, completed on a ck_worker. */
#ifndef NVRING_TESTS_CEPH_RIO_H
#define NVRING_TESTS_CEPH_RIO_H

#include "backend/backend.h"
#include "ck.h"

struct rio {
	struct be_io io;
	int res;
	int ndone;          /* `done` calls: must end at exactly 1 */
	bool inline_done;   /* done ran before be_submit returned */
	bool submitting;
	bool foreign;       /* done ran on a thread other than the submitting worker's */
	pthread_t owner;
	uint64_t done_ms;
};

void rio_prep(struct rio *r, enum be_op op, unsigned flags, uint64_t off, uint64_t len, void *buf);
void rio_submit(struct backend *be, struct ck_worker *w, struct rio *r);
/* Run w until all n completed or timeout_ms: 0, or -ETIMEDOUT. */
int rio_wait(struct ck_worker *w, struct rio *r, int n, int timeout_ms);
/* How many of r[0..n) completed. */
int rio_ndone(const struct rio *r, int n);
/* One op, submitted and waited for (20 s): its result, or -EPROTO if done was not called
 * exactly once on the submitting thread or the executor still counts an op as waiting. */
int rio_do(struct backend *be, struct ck_worker *w, enum be_op op, unsigned flags, uint64_t off,
	   uint64_t len, void *buf);

/* Open an rbd namespace on the test cluster; err gets the message. */
struct rio_open {
	const char *image;
	const char *conf;      /* NULL = $CEPH_CONF */
	const char *client_id; /* NULL = admin */
	unsigned lba;
	bool vwc, ro;
	unsigned connect_timeout, op_timeout;
};
int rio_open(struct backend *be, const struct rio_open *o, char *err, size_t errlen);

#endif
