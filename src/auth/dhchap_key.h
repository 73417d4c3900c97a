/* SPDX-License-Identifier: MIT */
/*
 * DH-HMAC-CHAP secret strings: "DHHC-1:XX:<base64(secret || CRC-32(secret))>:" where XX is
 * 00 (use as is), 01/02/03 (transform with SHA-256/384/512), the secret is 32, 48 or 64 bytes
 * and the CRC is the IEEE/zlib CRC-32, little-endian. The same format nvme-cli's
 * gen-dhchap-key prints and the Linux kernel reads. The final ':' is optional on input (the
 * kernel accepts both), always written on output.
 */
#ifndef NVRING_AUTH_DHCHAP_KEY_H
#define NVRING_AUTH_DHCHAP_KEY_H

#include <stddef.h>
#include <stdint.h>

#define DHCHAP_KEY_STR_MAX 104 /* "DHHC-1:03:" + 92 base64 + ":" + NUL */

struct dhchap_key {
	uint8_t hash; /* transform hash: DHCHAP_HASH_NONE .. DHCHAP_HASH_SHA512 */
	uint8_t len;  /* 32, 48 or 64 */
	uint8_t secret[64];
};

/* Parse a key string. Returns 0, or -EINVAL with *why (if why != NULL) set to a static
 * message naming the fault: prefix, hash id, base64, length, CRC, trailing characters. */
int dhchap_key_parse(const char *str, struct dhchap_key *key, const char **why);

/* Write the key string into buf (at least DHCHAP_KEY_STR_MAX bytes). Returns the string
 * length, or -EINVAL (bad hash / length) / -ENOSPC. */
int dhchap_key_format(const struct dhchap_key *key, char *buf, size_t size);

/* Zero a key (secrets never outlive their use). */
void dhchap_key_clear(struct dhchap_key *key);

/* IEEE/zlib CRC-32 of a buffer (ISA-L crc32_gzip_refl). */
uint32_t dhchap_crc32(const void *buf, size_t len);

#endif
