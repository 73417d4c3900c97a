/* SPDX-License-Identifier: MIT */
/*
 * NVMe in-band authentication, DH-HMAC-CHAP (TP 8006, Base Spec 2.0 §8.13): the protocol's
 * identifiers and the Authentication Send/Receive command layout. Shared by the host
 * (libnvring) and the target (nvringd). The pieces:
 *   dhchap_key.h     secret strings "DHHC-1:XX:<base64>:"
 *   dhchap_crypto.h  transform, augmented challenge, responses, FFDHE (OpenSSL 3)
 *   dhchap_msg.h     message codecs
 *   dhchap_ctrl.h    controller-side session (one per queue)
 *   dhchap_host.h    host-side session (one per queue)
 */
#ifndef NVRING_AUTH_DHCHAP_H
#define NVRING_AUTH_DHCHAP_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* Fabrics command types (opcode 0x7F) and the security protocol fields. */
#define DHCHAP_FCTYPE_SEND 0x05
#define DHCHAP_FCTYPE_RECV 0x06
#define DHCHAP_SECP 0xE9  /* NVMe security protocol */
#define DHCHAP_SPSP0 0x01 /* DH-HMAC-CHAP */
#define DHCHAP_SPSP1 0x01

/* Connect response DW0 bits */
#define DHCHAP_CONNECT_ATR (1u << 17)  /* authentication transaction required */
#define DHCHAP_CONNECT_ASCR (1u << 18) /* authentication + secure channel concatenation required */

/* Authentication Send (TL) / Receive (AL) submission queue entry. */
struct dhchap_auth_sqe {
	uint8_t opcode; /* 0x7F */
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[19];
	uint8_t sgl[16];
	uint8_t rsvd40;
	uint8_t spsp0;
	uint8_t spsp1;
	uint8_t secp;
	uint32_t len; /* TL (Send) or AL (Receive) */
	uint8_t rsvd48[16];
} __attribute__((packed));
static_assert(sizeof(struct dhchap_auth_sqe) == 64, "auth sqe");
static_assert(offsetof(struct dhchap_auth_sqe, spsp0) == 41, "auth sqe spsp0");
static_assert(offsetof(struct dhchap_auth_sqe, secp) == 43, "auth sqe secp");
static_assert(offsetof(struct dhchap_auth_sqe, len) == 44, "auth sqe tl");

/* Hash functions (HashID); the value is also the "XX" of a key string (0 = not transformed). */
enum {
	DHCHAP_HASH_NONE = 0,
	DHCHAP_HASH_SHA256 = 1,
	DHCHAP_HASH_SHA384 = 2,
	DHCHAP_HASH_SHA512 = 3,
};
#define DHCHAP_HASH_MAX_LEN 64

/* Finite-field DH groups of RFC 7919 (DHGID). */
enum {
	DHCHAP_DH_NULL = 0,
	DHCHAP_DH_FFDHE2048 = 1,
	DHCHAP_DH_FFDHE3072 = 2,
	DHCHAP_DH_FFDHE4096 = 3,
	DHCHAP_DH_FFDHE6144 = 4,
	DHCHAP_DH_FFDHE8192 = 5,
};
#define DHCHAP_DH_MAX_LEN 1024

/* Masks of allowed / offered IDs: bit n stands for ID n. */
#define DHCHAP_HASHES_ALL 0x0Eu  /* SHA-256, SHA-384, SHA-512 */
#define DHCHAP_DHGROUPS_ALL 0x3Fu /* NULL and ffdhe2048..8192 */

/* Message AUTH_TYPE / AUTH_ID */
#define DHCHAP_TYPE_COMMON 0x00
#define DHCHAP_TYPE_DHCHAP 0x01
#define DHCHAP_ID_NEGOTIATE 0x00 /* common */
#define DHCHAP_ID_CHALLENGE 0x01
#define DHCHAP_ID_REPLY 0x02
#define DHCHAP_ID_SUCCESS1 0x03
#define DHCHAP_ID_SUCCESS2 0x04
#define DHCHAP_ID_FAILURE2 0xF0 /* common */
#define DHCHAP_ID_FAILURE1 0xF1 /* common */
#define DHCHAP_AUTHID 0x01      /* protocol descriptor AUTHID of DH-HMAC-CHAP */

/* AUTH_Failure: reason code (always 1) and reason code explanations. */
#define DHCHAP_RC_FAILURE 0x01
enum {
	DHCHAP_FAIL_FAILED = 1,            /* authentication failed (wrong key / response) */
	DHCHAP_FAIL_PROTOCOL_UNUSABLE = 2, /* no DH-HMAC-CHAP descriptor */
	DHCHAP_FAIL_CONCAT_MISMATCH = 3,   /* secure channel concatenation not supported/mismatch */
	DHCHAP_FAIL_HASH_UNUSABLE = 4,
	DHCHAP_FAIL_DHGROUP_UNUSABLE = 5,
	DHCHAP_FAIL_INCORRECT_PAYLOAD = 6, /* lengths, fields, T_ID */
	DHCHAP_FAIL_INCORRECT_MESSAGE = 7, /* message out of sequence or of the wrong kind */
};

/* Lookups; unknown IDs give 0 / NULL / -1. */
size_t dhchap_hash_len(uint8_t hash_id);  /* 32, 48, 64 */
const char *dhchap_hash_name(uint8_t hash_id); /* "sha256", ... */
int dhchap_hash_id(const char *name);          /* "sha256" / "hmac(sha256)" -> 1, ... */
int dhchap_dh_len(uint8_t dh_id);              /* public value bytes: 0 for NULL, 256 ... 1024 */
const char *dhchap_dh_name(uint8_t dh_id);     /* "null", "ffdhe2048", ... */
int dhchap_dh_id(const char *name);
const char *dhchap_fail_str(uint8_t reason);   /* reason code explanation in words */

#endif
