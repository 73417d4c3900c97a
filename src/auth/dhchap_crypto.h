/* SPDX-License-Identifier: MIT */
/*
 * The DH-HMAC-CHAP computations as small pure functions on OpenSSL 3 (EVP_MAC HMAC, EVP_Digest,
 * EVP_PKEY DH on the RFC 7919 named groups). All return 0 or a negative errno:
 * -EINVAL (unknown hash / group, wrong length), -EBADMSG (peer DH value out of range),
 * -ENOMEM, -EIO (OpenSSL failed). Nothing is logged; temporaries holding secrets are zeroed.
 */
#ifndef NVRING_AUTH_DHCHAP_CRYPTO_H
#define NVRING_AUTH_DHCHAP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "dhchap.h"
#include "dhchap_key.h"

/* HMAC_hash(key, data[0] || data[1] || ...); out gets dhchap_hash_len(hash) bytes. */
struct dhchap_buf {
	const void *p;
	size_t len;
};
int dhchap_hmac(uint8_t hash, const void *key, size_t key_len, const struct dhchap_buf *data, unsigned n,
		uint8_t *out);
int dhchap_digest(uint8_t hash, const void *data, size_t len, uint8_t *out);

/* Transformed key: the secret itself for hash 00, else HMAC_XX(secret, nqn || "NVMe-over-Fabrics")
 * (host keys with the host NQN, controller keys with the subsystem NQN). out holds 64 bytes;
 * *out_len gets the length. */
int dhchap_transform(const struct dhchap_key *key, const char *nqn, uint8_t *out, size_t *out_len);

/* Augmented challenge Ca = HMAC_H(H(Ks), C); hl = dhchap_hash_len(hash) bytes of C and out. */
int dhchap_augment(uint8_t hash, const uint8_t *ks, size_t ks_len, const uint8_t *chal, uint8_t *out);

/* Responses, keyed with a transformed key:
 *   host       R1 = HMAC_H(Kh, Ca1 || LE32(S1) || LE16(T_ID) || SC_C || "HostHost"   || hostNQN || 0 || subNQN)
 *   controller R2 = HMAC_H(Kc, Ca2 || LE32(S2) || LE16(T_ID) || SC_C || "Controller" || subNQN || 0 || hostNQN)
 * chal is the (augmented) challenge of hl bytes. */
int dhchap_host_response(uint8_t hash, const uint8_t *kh, size_t kh_len, const uint8_t *chal, uint32_t seq,
			 uint16_t tid, uint8_t sc_c, const char *hostnqn, const char *subnqn, uint8_t *out);
int dhchap_ctrl_response(uint8_t hash, const uint8_t *kc, size_t kc_len, const uint8_t *chal, uint32_t seq,
			 uint16_t tid, uint8_t sc_c, const char *hostnqn, const char *subnqn, uint8_t *out);

/* Constant-time comparison: 0 when equal. */
int dhchap_memcmp(const void *a, const void *b, size_t len);

/* Cryptographically random bytes. */
int dhchap_random(void *buf, size_t len);

/* An ephemeral FFDHE key pair of one group. */
struct dhchap_dh;
int dhchap_dh_generate(uint8_t dh_id, struct dhchap_dh **out);
/* Our public value, big-endian, padded to dhchap_dh_len() bytes; len must be that size. */
int dhchap_dh_public(const struct dhchap_dh *dh, uint8_t *buf, size_t len);
/* Ks = peer^private mod p, padded to the group size (ks_len must be that size). The peer value
 * must have the group's size and lie in 2 .. p-2 (else -EBADMSG). */
int dhchap_dh_derive(const struct dhchap_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *ks, size_t ks_len);
void dhchap_dh_free(struct dhchap_dh *dh);

#endif
