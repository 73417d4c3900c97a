/* SPDX-License-Identifier: MIT */
/* DH-HMAC-CHAP secret strings: parse and format (base64 by OpenSSL, CRC-32 by ISA-L). */
#include <errno.h>
#include <string.h>

#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dhchap.h"
#include "dhchap_key.h"

#define KEY_PREFIX "DHHC-1:"
#define KEY_PREFIX_LEN 7

uint32_t dhchap_crc32(const void *buf, size_t len)
{
	return crc32_gzip_refl(0, buf, len);
}

static int key_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

/* Base64 text of n bytes has 4 * ceil(n / 3) characters. */
static size_t key_b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

static int key_fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

int dhchap_key_parse(const char *str, struct dhchap_key *key, const char **why)
{
	uint8_t raw[72]; /* decoded 68 bytes rounded up to a base64 quantum */
	const char *b64, *end;
	size_t n, pad = 0, bytes;
	uint32_t crc, want;
	int hash, got;

	memset(key, 0, sizeof(*key));
	if (!str || strncmp(str, KEY_PREFIX, KEY_PREFIX_LEN))
		return key_fail(why, "does not start with \"DHHC-1:\"");
	if (str[7] < '0' || str[7] > '9' || str[8] < '0' || str[8] > '9' || str[9] != ':')
		return key_fail(why, "hash id is not two digits followed by ':' (DHHC-1:XX:)");
	hash = (str[7] - '0') * 10 + (str[8] - '0');
	if (hash > DHCHAP_HASH_SHA512)
		return key_fail(why, "unknown hash id (00 none, 01 SHA-256, 02 SHA-384, 03 SHA-512)");
	b64 = str + 10;
	end = strchr(b64, ':');
	n = end ? (size_t)(end - b64) : strlen(b64);
	if (end && end[1])
		return key_fail(why, "characters after the closing ':'");
	if (n != key_b64_len(36) && n != key_b64_len(52) && n != key_b64_len(68))
		return key_fail(why, "wrong length: the secret must be 32, 48 or 64 bytes");
	for (size_t i = 0; i < n; i++) {
		if (key_b64_char(b64[i]) && !pad)
			continue;
		if (b64[i] == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		return key_fail(why, "bad base64");
	}
	bytes = n / 4 * 3 - pad;
	if (bytes != 36 && bytes != 52 && bytes != 68)
		return key_fail(why, "wrong length: the secret must be 32, 48 or 64 bytes");
	got = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (got != (int)(n / 4 * 3)) {
		OPENSSL_cleanse(raw, sizeof(raw));
		return key_fail(why, "bad base64");
	}
	/* padding bits must be zero, else two strings would decode to one key */
	if (pad && raw[bytes] != 0) {
		OPENSSL_cleanse(raw, sizeof(raw));
		return key_fail(why, "bad base64 (non-zero padding bits)");
	}
	bytes -= 4;
	crc = dhchap_crc32(raw, bytes);
	want = (uint32_t)raw[bytes] | (uint32_t)raw[bytes + 1] << 8 | (uint32_t)raw[bytes + 2] << 16 |
	       (uint32_t)raw[bytes + 3] << 24;
	if (crc != want) {
		OPENSSL_cleanse(raw, sizeof(raw));
		return key_fail(why, "CRC-32 mismatch (corrupt or mistyped key)");
	}
	key->hash = (uint8_t)hash;
	key->len = (uint8_t)bytes;
	memcpy(key->secret, raw, bytes);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int dhchap_key_format(const struct dhchap_key *key, char *buf, size_t size)
{
	uint8_t raw[68];
	uint32_t crc;
	int n;

	if (key->hash > DHCHAP_HASH_SHA512 || (key->len != 32 && key->len != 48 && key->len != 64))
		return -EINVAL;
	if (size < 10 + key_b64_len(key->len + 4u) + 2)
		return -ENOSPC;
	memcpy(raw, key->secret, key->len);
	crc = dhchap_crc32(key->secret, key->len);
	for (int i = 0; i < 4; i++)
		raw[key->len + i] = (uint8_t)(crc >> (8 * i));
	memcpy(buf, KEY_PREFIX, KEY_PREFIX_LEN);
	buf[7] = '0';
	buf[8] = (char)('0' + key->hash);
	buf[9] = ':';
	n = EVP_EncodeBlock((unsigned char *)buf + 10, raw, key->len + 4);
	OPENSSL_cleanse(raw, sizeof(raw));
	buf[10 + n] = ':';
	buf[11 + n] = 0;
	return 11 + n;
}

void dhchap_key_clear(struct dhchap_key *key)
{
	OPENSSL_cleanse(key, sizeof(*key));
}
