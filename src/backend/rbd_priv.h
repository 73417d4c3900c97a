/* SPDX-License-Identifier: MIT */
/* The RBD backend's shared RADOS connections and bounded waits (rbd_conn.c); not for the target. */
#ifndef NVRING_BACKEND_RBD_PRIV_H
#define NVRING_BACKEND_RBD_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

/* What makes two namespaces able to share a connection. */
struct rbd_conn_key {
	const char *cluster;   /* never NULL here */
	const char *client_id; /* never NULL here */
	const char *conf;      /* NULL = librados' search */
	unsigned op_timeout;   /* rados_osd_op_timeout, seconds, 0 = none */
	unsigned connect_timeout; /* client_mount_timeout (not part of the identity) */
	bool cache;            /* rbd_cache: a per-connection setting librbd re-reads on refresh */
};

struct rbd_conn {
	struct rbd_conn *next;
	unsigned refs;
	rados_t cluster;
	char *cluster_name, *client_id, *conf;
	unsigned op_timeout;
	bool cache;
};

/* The connection for `key`, connected on first use (blocks up to key->connect_timeout). */
int rbd_conn_get(const struct rbd_conn_key *key, struct rbd_conn **out, char *err, size_t errlen);
/* Drop a reference; the last one shuts the connection down (blocks). */
void rbd_conn_put(struct rbd_conn *c);

/*
 * A librbd completion waited for with a deadline at open/close time. If the wait gives up,
 * `late` runs on librbd's thread when the operation finally completes (with its result) and
 * the wait frees itself.
 */
struct rbd_wait;
struct rbd_wait *rbd_wait_new(void (*late)(int r, void *arg), void *arg);
/* A completion whose callback finishes `w`; NULL on allocation failure (w is then freed). */
rbd_completion_t rbd_wait_completion(struct rbd_wait *w);
/* Wait up to `seconds`: the operation's result, or -ETIMEDOUT (w then belongs to the callback).
 * Frees w unless it timed out. */
int rbd_wait_for(struct rbd_wait *w, unsigned seconds);
/* Give up on w whose operation was never started (its submission failed). */
void rbd_wait_free(struct rbd_wait *w);

#endif
