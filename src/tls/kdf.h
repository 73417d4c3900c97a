/* SPDX-License-Identifier: MIT */
/* HKDF, HKDF-Expand-Label and HMAC through OpenSSL 3's EVP_KDF/EVP_MAC: the only crypto primitives
 * src/tls calls directly (everything else is OpenSSL's TLS stack). */
#ifndef NVRING_TLS_KDF_H
#define NVRING_TLS_KDF_H

#include <stddef.h>
#include <stdint.h>

/* "SHA256" or "SHA384" for the NVMe hash indicator 1 / 2; NULL otherwise. */
const char *tls_kdf_md_name(unsigned hash);
/* Output length of that hash (32 / 48), 0 for an unknown indicator. */
size_t tls_kdf_md_len(unsigned hash);

/* HKDF-Extract(salt = 0, key) then HKDF-Expand(PRK, info, out_len): RFC 5869 with an info built
 * by the caller (the NVMe derivations in the field differ only in how they build info). */
int tls_kdf_hkdf(unsigned hash, const uint8_t *key, size_t key_len, const uint8_t *info,
		 size_t info_len, uint8_t *out, size_t out_len);

/* HKDF-Expand-Label(secret, label, context, out_len) of RFC 8446 §7.1 (OpenSSL's TLS13-KDF,
 * expand only; the "tls13 " prefix is added here). */
int tls_kdf_expand_label(unsigned hash, const uint8_t *secret, size_t secret_len, const char *label,
			 const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len);

/* HMAC_hash(key, msg[0] || msg[1] || ...); n pieces. Returns the MAC length or -errno. */
int tls_kdf_hmac(unsigned hash, const uint8_t *key, size_t key_len, const void *const *msg,
		 const size_t *msg_len, int n, uint8_t *out);

#endif
