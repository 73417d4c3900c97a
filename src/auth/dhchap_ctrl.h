/* SPDX-License-Identifier: MIT */
/*
 * Controller side of DH-HMAC-CHAP: one session per queue, transport independent. The caller
 * (nvringd) feeds it the data of every Authentication Send and asks it for the data of every
 * Authentication Receive; the session answers with the NVMe status the command completes with.
 *
 *   Connect on a queue that must authenticate: dhchap_ctrl_new(), CQE DW0 |= DHCHAP_CONNECT_ATR.
 *   Any other command while dhchap_ctrl_state() != DHCHAP_CTRL_AUTHENTICATED: complete it with
 *     SCT 1h SC 91h Authentication Required (the caller's command gating, not done here).
 *   Authentication Send / Receive: dhchap_cmd_check() on the SQE first, then
 *     dhchap_ctrl_send() with the TL bytes / dhchap_ctrl_recv() with AL.
 *   After each call: state FAILED and no failure pending -> disconnect the queue.
 *   Deadline: when now >= dhchap_ctrl_deadline() (and it is not 0) call dhchap_ctrl_expire()
 *     and disconnect. The caller owns the clock: "now" is whatever monotonic nanoseconds it
 *     passes in; the deadline is in the same clock.
 *
 * NVMe statuses returned (libnvme encoding, (SCT << 8) | SC, DNR = 0x4000):
 *   0                      success. Protocol failures (wrong key, bad message, unusable hash or
 *                          group, messages out of order) also complete the Send with success: the
 *                          reason travels in the AUTH_Failure1 the next Receive returns (Base
 *                          Spec 2.0 §8.13.5), and the session is FAILED. Sends while that
 *                          Failure1 waits to be read are ignored (success).
 *   DHCHAP_SC_INVALID_FIELD (0x4002) from dhchap_cmd_check: SECP != E9h, SPSP0/SPSP1 != 01h,
 *                          TL/AL 0, TL != data length, TL above DHCHAP_SEND_MAX; from
 *                          dhchap_ctrl_recv: AL below 8 (not even an AUTH_Failure1 fits; the
 *                          session fails).
 *   DHCHAP_SC_SEQUENCE (0x400C) Command Sequence Error: a Receive with nothing to return on an
 *                          authenticated queue, a Send other than Negotiate or Failure2 on an
 *                          authenticated queue with no transaction running, any call while deferred work runs,
 *                          any call after the session has FAILED and its AUTH_Failure1 was read.
 *   DHCHAP_SC_INTERNAL (0x0006) out of memory / OpenSSL failure outside a DH step.
 *   DHCHAP_CTRL_DEFER       only with cfg.defer_dh: run dhchap_ctrl_work() (off the worker thread),
 *                          then complete the Send with what it returns.
 *
 * Choice: the strongest hash and DH group that the host offers and the configuration allows
 * (SHA-512 > SHA-384 > SHA-256; ffdhe8192 > ... > ffdhe2048 > NULL). A Negotiate on an
 * authenticated queue re-authenticates: commands keep flowing meanwhile; if it fails the
 * session is FAILED. A host's AUTH_Failure2 always ends in FAILED, also right after a
 * host-only Success1 (the host did not accept it). Secrets (transformed keys, DH private key,
 * shared secret) are zeroed when no longer needed and never logged. Cost of the DH steps on
 * this project's machines: ffdhe8192 key generation ~10 ms, shared secret ~11 ms
 * (docs/auth.md) — hence defer_dh.
 */
#ifndef NVRING_AUTH_DHCHAP_CTRL_H
#define NVRING_AUTH_DHCHAP_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhchap.h"
#include "dhchap_key.h"

#define DHCHAP_SC_INVALID_FIELD 0x4002
#define DHCHAP_SC_SEQUENCE 0x400C
#define DHCHAP_SC_INTERNAL 0x0006
#define DHCHAP_SC_AUTH_REQUIRED 0x0191 /* for the caller's gating */
#define DHCHAP_CTRL_DEFER 0x10000      /* not an NVMe status */
#define DHCHAP_SEND_MAX 4096           /* largest TL accepted */

enum dhchap_ctrl_state {
	DHCHAP_CTRL_NEGOTIATING,   /* not authenticated yet: gate commands */
	DHCHAP_CTRL_AUTHENTICATED, /* also while a re-authentication runs */
	DHCHAP_CTRL_FAILED,	   /* gate commands; disconnect once no failure is pending */
};

struct dhchap_ctrl_cfg {
	const struct dhchap_key *host_key; /* required */
	const struct dhchap_key *ctrl_key; /* NULL: the host cannot ask for controller authentication */
	const char *hostnqn, *subnqn;
	uint8_t hashes;	     /* allowed HashIDs, bit n = ID n (DHCHAP_HASHES_ALL); 0 = all */
	uint8_t dhgroups;    /* allowed DH group IDs (DHCHAP_DHGROUPS_ALL); 0 = all */
	uint32_t timeout_ms; /* per step, e.g. KATO; 0 = 120 s */
	bool defer_dh;	     /* DH steps return DHCHAP_CTRL_DEFER instead of running inline */
};

struct dhchap_ctrl;

/* The keys are transformed and copied; cfg need not outlive the call. NULL with errno set
 * (EINVAL: missing key / NQN, ENOMEM). now: the caller's clock at Connect. */
struct dhchap_ctrl *dhchap_ctrl_new(const struct dhchap_ctrl_cfg *cfg, uint64_t now);
/* Keys for the next transaction (a re-authentication): transformed and copied as by
 * dhchap_ctrl_new. 0; -EBUSY while a transaction runs (the keys stay); -EINVAL. */
int dhchap_ctrl_set_keys(struct dhchap_ctrl *s, const struct dhchap_key *host_key, const struct dhchap_key *ctrl_key);
void dhchap_ctrl_free(struct dhchap_ctrl *s);

/* SQE checks for Authentication Send/Receive (SECP, SPSP, TL/AL); sgl_len is the data length
 * the command carries or asks for. 0 or DHCHAP_SC_INVALID_FIELD. */
int dhchap_cmd_check(const void *sqe64, uint32_t sgl_len);

/* Authentication Send with its TL bytes. */
int dhchap_ctrl_send(struct dhchap_ctrl *s, const void *msg, size_t len, uint64_t now);
/* Deferred DH step of the last Send (any thread; no other call on s meanwhile is honoured:
 * they get DHCHAP_SC_SEQUENCE). Returns the status for that Send. */
int dhchap_ctrl_work(struct dhchap_ctrl *s);
/* Authentication Receive: writes the next message (Challenge, Success1 or Failure1) into buf
 * (al bytes available), *len its length (the caller may zero-pad to AL). */
int dhchap_ctrl_recv(struct dhchap_ctrl *s, void *buf, size_t al, size_t *len, uint64_t now);

enum dhchap_ctrl_state dhchap_ctrl_state(const struct dhchap_ctrl *s);
/* FAILED with an AUTH_Failure1 not yet read by the host. */
bool dhchap_ctrl_failure_pending(const struct dhchap_ctrl *s);
/* Reason code explanation of the failure (DHCHAP_FAIL_*; for a host's Failure2, its reason). */
uint8_t dhchap_ctrl_fail_reason(const struct dhchap_ctrl *s);
/* When the host's next message is due; 0 when nothing is awaited. */
uint64_t dhchap_ctrl_deadline(const struct dhchap_ctrl *s);
/* The deadline passed: the session is FAILED, nothing pending. */
void dhchap_ctrl_expire(struct dhchap_ctrl *s);
/* Negotiated HashID / DH group ID of the last transaction (for logging). */
uint8_t dhchap_ctrl_hash(const struct dhchap_ctrl *s);
uint8_t dhchap_ctrl_dhgroup(const struct dhchap_ctrl *s);
/* Whether the host asked for and got controller authentication in the last transaction. */
bool dhchap_ctrl_bidirectional(const struct dhchap_ctrl *s);

#endif
