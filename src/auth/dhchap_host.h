/* SPDX-License-Identifier: MIT */
/*
 * Host side of DH-HMAC-CHAP, the mirror of dhchap_ctrl.h: one session per queue and transaction.
 * The caller loops on the state:
 *   DHCHAP_HOST_SEND  dhchap_host_next() gives the message for an Authentication Send
 *                     (Negotiate, Reply, Success2 or Failure2)
 *   DHCHAP_HOST_RECV  issue an Authentication Receive and pass its data to dhchap_host_recv()
 *                     (Challenge, Success1, or the controller's Failure1)
 *   DHCHAP_HOST_DONE  authenticated (and the controller too, when a controller key was given)
 *   DHCHAP_HOST_FAILED dhchap_host_result() / dhchap_host_error() say why
 * A bad controller message makes the session send AUTH_Failure2 (next() once more) before it
 * is FAILED; a controller AUTH_Failure1 fails it at once. The DH steps (key generation and the
 * shared secret, together ~20 ms for ffdhe8192) run inside dhchap_host_recv().
 */
#ifndef NVRING_AUTH_DHCHAP_HOST_H
#define NVRING_AUTH_DHCHAP_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "dhchap.h"
#include "dhchap_key.h"

enum dhchap_host_state {
	DHCHAP_HOST_SEND,
	DHCHAP_HOST_RECV,
	DHCHAP_HOST_DONE,
	DHCHAP_HOST_FAILED,
};

struct dhchap_host_cfg {
	const struct dhchap_key *host_key; /* required */
	const struct dhchap_key *ctrl_key; /* optional: authenticate the controller too */
	const char *hostnqn, *subnqn;
	uint16_t tid;	  /* transaction ID */
	uint8_t hashes;	  /* offered HashIDs, bit n = ID n; 0 = all */
	uint8_t dhgroups; /* offered DH groups; 0 = all */
};

struct dhchap_host;

/* NULL with errno EINVAL (no key, bad NQN) or ENOMEM. */
struct dhchap_host *dhchap_host_new(const struct dhchap_host_cfg *cfg);
void dhchap_host_free(struct dhchap_host *h);

/* The message to send in state DHCHAP_HOST_SEND. 0, -EINVAL (other state), -ENOSPC. */
int dhchap_host_next(struct dhchap_host *h, void *buf, size_t cap, size_t *len);
/* A received message in state DHCHAP_HOST_RECV (len: bytes received; padding is fine).
 * 0 (look at the state), -EINVAL (other state). */
int dhchap_host_recv(struct dhchap_host *h, const void *msg, size_t len);

enum dhchap_host_state dhchap_host_state(const struct dhchap_host *h);
/* 0 while fine / DONE; when FAILED: -EACCES (the controller refused us: AUTH_Failure1),
 * -EKEYREJECTED (the controller's response R2 did not verify), -EPROTO (malformed or
 * unexpected controller message, unusable hash / group), -EIO (local crypto failure). */
int dhchap_host_result(const struct dhchap_host *h);
/* What failed, in words; "" while fine. */
const char *dhchap_host_error(const struct dhchap_host *h);
/* Reason code explanation sent in our Failure2 or received in the controller's Failure1. */
uint8_t dhchap_host_fail_reason(const struct dhchap_host *h);
uint8_t dhchap_host_hash(const struct dhchap_host *h);
uint8_t dhchap_host_dhgroup(const struct dhchap_host *h);

#endif
