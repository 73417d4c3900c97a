/* SPDX-License-Identifier: MIT */
/*
 * DH-HMAC-CHAP message codecs. Byte layouts (little-endian, offsets from the message start):
 *   all       0 AUTH_TYPE, 1 AUTH_ID, 2-3 reserved, 4-5 T_ID
 *   Negotiate 6 SC_C, 7 NAPD, 8.. NAPD descriptors of 64 bytes: +0 AUTHID, +2 HALEN, +3 DHLEN,
 *             +4..+33 hash IDs, +34..+63 DH group IDs
 *   Challenge 6 HL, 8 HASHID, 9 DHGID, 10-11 DHVLEN, 12-15 SEQNUM, 16 C1[HL], DH value[DHVLEN]
 *   Reply     6 HL, 8 CVALID, 10-11 DHVLEN, 12-15 SEQNUM, 16 R1[HL], C2[HL], DH value[DHVLEN]
 *   Success1  6 HL, 8 RVALID, 16 R2[HL] when RVALID
 *   Success2  16 bytes
 *   Failure   6 reason code, 7 reason code explanation (8 bytes)
 *
 * Encoders return the message length or -ENOSPC / -EINVAL. Decoders return 0 or the AUTH_Failure
 * reason code explanation the receiver answers with (DHCHAP_FAIL_*): a message of the wrong kind
 * gives INCORRECT_MESSAGE, bad lengths or fields INCORRECT_PAYLOAD, unknown hash / group
 * HASH_UNUSABLE / DHGROUP_UNUSABLE. Host-to-controller messages (Negotiate, Reply, Success2,
 * Failure2) arrive with the exact transfer length (TL) and must fill it exactly; controller-to-host
 * messages (Challenge, Success1, Failure1) may be followed by padding up to the host's
 * allocation length (nvmet pads to AL), which is ignored. Decoded byte arrays point into buf.
 */
#ifndef NVRING_AUTH_DHCHAP_MSG_H
#define NVRING_AUTH_DHCHAP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhchap.h"

#define DHCHAP_MSG_HDR_LEN 16
#define DHCHAP_NEG_DESC_LEN 64
#define DHCHAP_NEG_IDS_MAX 30
#define DHCHAP_FAILURE_LEN 8
#define DHCHAP_MSG_MAX (DHCHAP_MSG_HDR_LEN + 2 * DHCHAP_HASH_MAX_LEN + DHCHAP_DH_MAX_LEN)

/* Type, id and T_ID of any message; INCORRECT_PAYLOAD when shorter than 6 bytes. */
int dhchap_msg_peek(const void *buf, size_t len, uint8_t *type, uint8_t *id, uint16_t *tid);

struct dhchap_negotiate {
	uint16_t tid;
	uint8_t sc_c;
	uint8_t halen, dhlen;
	uint8_t hash_ids[DHCHAP_NEG_IDS_MAX];
	uint8_t dh_ids[DHCHAP_NEG_IDS_MAX];
};
/* One DH-HMAC-CHAP descriptor (72 bytes). */
int dhchap_negotiate_encode(const struct dhchap_negotiate *m, void *buf, size_t cap);
/* Exactly 8 + 64 * NAPD bytes; uses the first descriptor with AUTHID 1 (PROTOCOL_UNUSABLE when
 * none); HALEN/DHLEN above 30 are INCORRECT_PAYLOAD. SC_C is returned as sent. */
int dhchap_negotiate_decode(const void *buf, size_t len, struct dhchap_negotiate *m);

struct dhchap_challenge {
	uint16_t tid;
	uint8_t hl, hash_id, dh_id;
	uint16_t dhvlen;
	uint32_t seq;
	const uint8_t *c1;
	const uint8_t *dhv;
};
int dhchap_challenge_encode(const struct dhchap_challenge *m, void *buf, size_t cap);
/* HASHID must be known with HL its length (HASH_UNUSABLE), DHGID known (DHGROUP_UNUSABLE),
 * DHVLEN the group's value size (INCORRECT_PAYLOAD), the length at least 16 + HL + DHVLEN. */
int dhchap_challenge_decode(const void *buf, size_t len, struct dhchap_challenge *m);

struct dhchap_reply {
	uint16_t tid;
	uint8_t hl, cvalid;
	uint16_t dhvlen;
	uint32_t seq; /* S2; 0 = no controller authentication */
	const uint8_t *r1, *c2, *dhv;
};
int dhchap_reply_encode(const struct dhchap_reply *m, void *buf, size_t cap);
/* HL 32/48/64, CVALID 0/1 with SEQNUM != 0 exactly when CVALID = 1, length 16 + 2 HL + DHVLEN
 * (all INCORRECT_PAYLOAD). */
int dhchap_reply_decode(const void *buf, size_t len, struct dhchap_reply *m);

struct dhchap_success1 {
	uint16_t tid;
	uint8_t hl, rvalid;
	const uint8_t *r2; /* NULL unless rvalid */
};
int dhchap_success1_encode(const struct dhchap_success1 *m, void *buf, size_t cap);
/* At least 16 bytes, 16 + HL with RVALID; RVALID 0/1; HL 32/48/64. */
int dhchap_success1_decode(const void *buf, size_t len, struct dhchap_success1 *m);

int dhchap_success2_encode(uint16_t tid, void *buf, size_t cap);
int dhchap_success2_decode(const void *buf, size_t len, uint16_t *tid);

struct dhchap_failure {
	uint16_t tid;
	uint8_t rc, rce; /* reason code (1), explanation (DHCHAP_FAIL_*) */
};
/* id DHCHAP_ID_FAILURE1 (controller) or DHCHAP_ID_FAILURE2 (host). */
int dhchap_failure_encode(uint8_t id, const struct dhchap_failure *m, void *buf, size_t cap);
/* Failure2 must be exactly 8 bytes, Failure1 at least 8. */
int dhchap_failure_decode(uint8_t id, const void *buf, size_t len, struct dhchap_failure *m);

#endif
