/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP TLS pre-shared keys (TP 8011, TP 8018), shared by the host and the target:
 * the interchange format "NVMeTLSkey-1:XX:<base64(PSK || CRC-32)>:", the retained PSK, the PSK
 * identity (versions 0 and 1), the PSK digest and the TLS PSK the handshake uses.
 *
 * Three derivations are in the field (they differ only in how HKDF's info is built):
 *   TLS_PSK_RFC8446  RFC 8446 HkdfLabel: libnvme >= 1.16 (nvme-cli >= 2.16), SPDK, Linux
 *   TLS_PSK_COMPAT   LE16(L) "tls13 " label context, no length prefixes: libnvme 1.7-1.15
 *                    (nvme-cli 2.7-2.15; `--compat` in later nvme-cli)
 *   TLS_PSK_LEGACY   "tls13 " label context, no length at all: libnvme 1.4-1.6 (identity v0 only)
 * Functions return >= 0 on success (a length where one is produced) or a negative errno.
 */
#ifndef NVRING_TLS_PSK_H
#define NVRING_TLS_PSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_PSK_MAX 48        /* longest PSK (SHA-384) */
#define TLS_NQN_MAX 223       /* NVMe NQN limit, without the terminator */
#define TLS_DIGEST_MAX 65     /* base64 of a SHA-384 HMAC plus the terminator */
#define TLS_IDENTITY_MAX 528  /* "NVMe1R02 " host " " sub " " digest, terminated */
#define TLS_KEY_STR_MAX 96    /* an interchange string of a 48-byte key, terminated */

/* NVMe hash indicator: the "hh" of an identity, the cipher suite's hash. */
enum tls_hash {
	TLS_HASH_NONE = 0,
	TLS_HASH_SHA256 = 1, /* TLS_AES_128_GCM_SHA256 */
	TLS_HASH_SHA384 = 2, /* TLS_AES_256_GCM_SHA384 */
};

enum tls_psk_variant {
	TLS_PSK_RFC8446 = 0,
	TLS_PSK_COMPAT = 1,
	TLS_PSK_LEGACY = 2,
};

/* A configured PSK as an administrator hands it over. */
struct tls_key {
	uint8_t key[TLS_PSK_MAX];
	uint8_t len;       /* 32 or 48 */
	uint8_t transform; /* XX: 0 = use as the retained PSK, 1 = HKDF with SHA-256, 2 = SHA-384 */
};

/* Parse an interchange string (trailing whitespace allowed). On failure, err (if given) names
 * the fault: "... hash indicator '07' ...", "... CRC-32 mismatch ...". */
int tls_key_parse(const char *s, struct tls_key *k, char *err, size_t errlen);
/* Format k as an interchange string; returns its length. */
int tls_key_format(const struct tls_key *k, char *out, size_t outlen);
/* The hash the key's connections use: its transform, or for XX = 00 its length. */
enum tls_hash tls_key_hash(const struct tls_key *k);
/* "rfc", "compat" or "legacy" (as the CLI and the config spell them); -EINVAL otherwise. */
int tls_psk_variant_parse(const char *s);
const char *tls_psk_variant_name(enum tls_psk_variant v);

/* Retained PSK (k->len bytes) for hostnqn. */
int tls_psk_retained(const struct tls_key *k, const char *hostnqn, enum tls_psk_variant v,
		     uint8_t out[TLS_PSK_MAX]);
/* PSK digest: base64(HMAC_hash(psk, hostnqn " " subnqn " NVMe-over-Fabrics")), 44 / 64 chars. */
int tls_psk_digest(enum tls_hash h, const uint8_t *psk, size_t len, const char *hostnqn,
		   const char *subnqn, char out[TLS_DIGEST_MAX]);
/* Generated PSK of secure channel concatenation: HMAC_hash(skey, c1 || c2), c1/c2 hash-long. */
int tls_psk_generated(enum tls_hash h, const uint8_t *skey, size_t skey_len, const uint8_t *c1,
		      const uint8_t *c2, uint8_t out[TLS_PSK_MAX]);
/* TLS PSK = HKDF-Expand-Label(HKDF-Extract(0, in), "nvme-tls-psk", context, hash length);
 * context is the identity (version 0) or "hh digest" (version 1). */
int tls_psk_tls(enum tls_psk_variant v, enum tls_hash h, const uint8_t *in, size_t len,
		const char *context, uint8_t out[TLS_PSK_MAX]);

/* A PSK identity "NVMe<v><R|G><hh> <hostnqn> <subnqn>[ <digest>]". */
struct tls_identity {
	unsigned version; /* 0 or 1 */
	char kind;        /* 'R' retained, 'G' generated (concatenation) */
	enum tls_hash hash;
	char hostnqn[TLS_NQN_MAX + 1];
	char subnqn[TLS_NQN_MAX + 1];
	char digest[TLS_DIGEST_MAX]; /* version 1 only */
};

/* Parse an identity of len bytes (no terminator needed). -EINVAL if it is not of that form. */
int tls_identity_parse(const char *s, size_t len, struct tls_identity *id);
int tls_identity_format(const struct tls_identity *id, char *out, size_t outlen);

/* Host side: the identity to offer and the TLS PSK (returns its length) for one connection. */
int tls_psk_for_host(const struct tls_key *k, const char *hostnqn, const char *subnqn,
		     unsigned version, enum tls_psk_variant v, char identity[TLS_IDENTITY_MAX],
		     uint8_t tls_psk[TLS_PSK_MAX]);

/*
 * Target side: the TLS PSK for an identity a host offered, given the key configured for that
 * host. Version 1 identities carry a digest of the retained PSK, which tells the derivation:
 * RFC 8446 is tried first, then compat. Version 0 identities carry nothing to tell them apart:
 * v0_variant is used (RFC 8446 unless configured). *used (if given) reports the derivation.
 * -ENOKEY: identity and key disagree on the hash; -EKEYREJECTED: no derivation of this key gives
 * the offered digest (the host has another key); -EOPNOTSUPP: a generated ('G') identity.
 */
int tls_psk_for_target(const struct tls_key *k, const struct tls_identity *id,
		       enum tls_psk_variant v0_variant, uint8_t tls_psk[TLS_PSK_MAX],
		       enum tls_psk_variant *used);

#endif
