/* SPDX-License-Identifier: MIT */
/* NVMe/TCP TLS PSKs: interchange format, retained PSK, identities, digest, TLS PSK. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "kdf.h"
#include "util/errf.h"
#include "psk.h"

#define TLS_KEY_PREFIX "NVMeTLSkey-1:"
#define TLS_INFO_MAX 600 /* 2 + 1 + 255 + 1 + 255 and a little */

/* The IEEE/zlib CRC-32 (ISA-L's reflected gzip CRC), stored little-endian after the key. */
static uint32_t tls_crc32(const uint8_t *p, size_t len)
{
	return crc32_gzip_refl(0, p, len);
}

static bool tls_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

int tls_key_parse(const char *s, struct tls_key *k, char *err, size_t errlen)
{
	uint8_t raw[TLS_PSK_MAX + 4 + 3];
	const char *b64, *end;
	size_t n, pad = 0, len;
	unsigned xx;
	uint32_t crc, stored;

	memset(k, 0, sizeof(*k));
	if (!s)
		return nvr_errf(err, errlen, -EINVAL, "no key given");
	if (strncmp(s, TLS_KEY_PREFIX, strlen(TLS_KEY_PREFIX)))
		return nvr_errf(err, errlen, -EINVAL, "a TLS PSK starts with \"" TLS_KEY_PREFIX "\"");
	s += strlen(TLS_KEY_PREFIX);
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':')
		return nvr_errf(err, errlen, -EINVAL, "expected a two-digit hash indicator and ':' after \"" TLS_KEY_PREFIX "\"");
	xx = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	if (xx > 2)
		return nvr_errf(err, errlen, -EINVAL, "hash indicator '%.2s' is not 00 (none), 01 (SHA-256) or 02 (SHA-384)", s);
	b64 = s + 3;
	end = strchr(b64, ':');
	if (!end)
		return nvr_errf(err, errlen, -EINVAL, "missing the ':' that ends the base64 part");
	for (const char *t = end + 1; *t; t++)
		if (*t != '\n' && *t != '\r' && *t != ' ' && *t != '\t')
			return nvr_errf(err, errlen, -EINVAL, "unexpected characters after the final ':'");
	n = (size_t)(end - b64);
	while (pad < 2 && pad < n && b64[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!tls_b64_char(b64[i]))
			return nvr_errf(err, errlen, -EINVAL, "invalid base64 character '%c' at position %zu of the key", b64[i], i);
	if (n % 4 || n > ((sizeof(raw) + 2) / 3) * 4)
		return nvr_errf(err, errlen, -EINVAL, "base64 part has %zu characters: a 32- or 48-byte key with its CRC-32 "
			"has 48 or 72", n);
	if (EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n) < 0)
		return nvr_errf(err, errlen, -EINVAL, "base64 part does not decode");
	len = n / 4 * 3 - pad;
	if (len != 32 + 4 && len != 48 + 4) {
		OPENSSL_cleanse(raw, sizeof(raw));
		return nvr_errf(err, errlen, -EINVAL, "key decodes to %zu bytes: expected 36 or 52 (a 32- or 48-byte key and "
			"its CRC-32)", len);
	}
	len -= 4;
	crc = tls_crc32(raw, len);
	stored = (uint32_t)raw[len] | (uint32_t)raw[len + 1] << 8 | (uint32_t)raw[len + 2] << 16 |
		 (uint32_t)raw[len + 3] << 24;
	if (crc != stored) {
		OPENSSL_cleanse(raw, sizeof(raw));
		return nvr_errf(err, errlen, -EINVAL, "CRC-32 mismatch: the key's bytes give 0x%08x, the string carries 0x%08x "
			"(a typo in the key?)", crc, stored);
	}
	if ((xx == 1 && len != 32) || (xx == 2 && len != 48)) {
		OPENSSL_cleanse(raw, sizeof(raw));
		return nvr_errf(err, errlen, -EINVAL, "hash indicator %02u needs a %d-byte key, this one has %zu bytes", xx,
			xx == 1 ? 32 : 48, len);
	}
	memcpy(k->key, raw, len);
	k->len = (uint8_t)len;
	k->transform = (uint8_t)xx;
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int tls_key_format(const struct tls_key *k, char *out, size_t outlen)
{
	uint8_t raw[TLS_PSK_MAX + 4];
	char b64[((sizeof(raw) + 2) / 3) * 4 + 1];
	uint32_t crc;
	int n;

	if ((k->len != 32 && k->len != 48) || k->transform > 2)
		return -EINVAL;
	crc = tls_crc32(k->key, k->len);
	memcpy(raw, k->key, k->len);
	for (int i = 0; i < 4; i++)
		raw[k->len + i] = (uint8_t)(crc >> (8 * i));
	EVP_EncodeBlock((unsigned char *)b64, raw, k->len + 4);
	OPENSSL_cleanse(raw, sizeof(raw));
	n = snprintf(out, outlen, TLS_KEY_PREFIX "%02u:%s:", k->transform, b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	return n >= 0 && (size_t)n < outlen ? n : -ENOSPC;
}

enum tls_hash tls_key_hash(const struct tls_key *k)
{
	if (k->transform)
		return (enum tls_hash)k->transform;
	return k->len == 48 ? TLS_HASH_SHA384 : k->len == 32 ? TLS_HASH_SHA256 : TLS_HASH_NONE;
}

int tls_psk_variant_parse(const char *s)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "rfc") || !strcmp(s, "rfc8446"))
		return TLS_PSK_RFC8446;
	if (!strcmp(s, "compat"))
		return TLS_PSK_COMPAT;
	if (!strcmp(s, "legacy"))
		return TLS_PSK_LEGACY;
	return -EINVAL;
}

const char *tls_psk_variant_name(enum tls_psk_variant v)
{
	switch (v) {
	case TLS_PSK_RFC8446:
		return "rfc";
	case TLS_PSK_COMPAT:
		return "compat";
	case TLS_PSK_LEGACY:
		return "legacy";
	}
	return "?";
}

/*
 * HKDF info for label/context in one of the three shapes:
 *   RFC 8446: BE16(L) u8(6 + |label|) "tls13 " label u8(|context|) context
 *   compat:   LE16(L) "tls13 " label context
 *   legacy:   "tls13 " label context
 */
static int tls_info(enum tls_psk_variant v, size_t out_len, const char *label, const char *context,
		    uint8_t *info)
{
	size_t ll = strlen(label), cl = strlen(context), n = 0;

	if (6 + ll > 255 || cl > 255)
		return -EINVAL;
	switch (v) {
	case TLS_PSK_RFC8446:
		info[n++] = (uint8_t)(out_len >> 8);
		info[n++] = (uint8_t)out_len;
		info[n++] = (uint8_t)(6 + ll);
		break;
	case TLS_PSK_COMPAT:
		info[n++] = (uint8_t)out_len;
		info[n++] = (uint8_t)(out_len >> 8);
		break;
	case TLS_PSK_LEGACY:
		break;
	default:
		return -EINVAL;
	}
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	if (v == TLS_PSK_RFC8446)
		info[n++] = (uint8_t)cl;
	memcpy(info + n, context, cl);
	return (int)(n + cl);
}

static int tls_derive(enum tls_psk_variant v, enum tls_hash h, const uint8_t *in, size_t len,
		      const char *label, const char *context, uint8_t *out)
{
	uint8_t info[TLS_INFO_MAX];
	int n = tls_info(v, len, label, context, info);

	if (n < 0)
		return n;
	n = tls_kdf_hkdf(h, in, len, info, (size_t)n, out, len);
	return n < 0 ? n : (int)len;
}

int tls_psk_retained(const struct tls_key *k, const char *hostnqn, enum tls_psk_variant v,
		     uint8_t out[TLS_PSK_MAX])
{
	if ((k->len != 32 && k->len != 48) || !hostnqn || strlen(hostnqn) > TLS_NQN_MAX)
		return -EINVAL;
	if (!k->transform) {
		memcpy(out, k->key, k->len);
		return k->len;
	}
	return tls_derive(v, (enum tls_hash)k->transform, k->key, k->len, "HostNQN", hostnqn, out);
}

int tls_psk_digest(enum tls_hash h, const uint8_t *psk, size_t len, const char *hostnqn,
		   const char *subnqn, char out[TLS_DIGEST_MAX])
{
	static const char seed[] = " NVMe-over-Fabrics";
	const void *msg[] = { hostnqn, " ", subnqn, seed };
	size_t ml[] = { strlen(hostnqn), 1, strlen(subnqn), sizeof(seed) - 1 };
	uint8_t mac[TLS_PSK_MAX];
	int n = tls_kdf_hmac(h, psk, len, msg, ml, 4, mac);

	if (n < 0)
		return n;
	n = EVP_EncodeBlock((unsigned char *)out, mac, n);
	OPENSSL_cleanse(mac, sizeof(mac));
	return n;
}

int tls_psk_generated(enum tls_hash h, const uint8_t *skey, size_t skey_len, const uint8_t *c1,
		      const uint8_t *c2, uint8_t out[TLS_PSK_MAX])
{
	size_t hl = tls_kdf_md_len(h);
	const void *msg[] = { c1, c2 };
	size_t ml[] = { hl, hl };

	if (!hl)
		return -EINVAL;
	return tls_kdf_hmac(h, skey, skey_len, msg, ml, 2, out);
}

int tls_psk_tls(enum tls_psk_variant v, enum tls_hash h, const uint8_t *in, size_t len,
		const char *context, uint8_t out[TLS_PSK_MAX])
{
	if (len != tls_kdf_md_len(h))
		return -EINVAL;
	return tls_derive(v, h, in, len, "nvme-tls-psk", context, out);
}

/* Copy one space-separated field; returns the rest after the space, NULL if too long/empty. */
static const char *tls_field(const char *p, const char *end, char *dst, size_t cap, bool last)
{
	const char *sp = last ? end : memchr(p, ' ', (size_t)(end - p));

	if (!sp || sp == p || (size_t)(sp - p) >= cap)
		return NULL;
	memcpy(dst, p, (size_t)(sp - p));
	dst[sp - p] = 0;
	return last ? sp : sp + 1;
}

int tls_identity_parse(const char *s, size_t len, struct tls_identity *id)
{
	const char *p = s, *end = s + len;

	memset(id, 0, sizeof(*id));
	if (len < 9 || len >= TLS_IDENTITY_MAX || memchr(s, 0, len) || memcmp(s, "NVMe", 4))
		return -EINVAL;
	if ((s[4] != '0' && s[4] != '1') || (s[5] != 'R' && s[5] != 'G') || s[6] != '0' ||
	    (s[7] != '1' && s[7] != '2') || s[8] != ' ')
		return -EINVAL;
	id->version = (unsigned)(s[4] - '0');
	id->kind = s[5];
	id->hash = (enum tls_hash)(s[7] - '0');
	p = s + 9;
	p = tls_field(p, end, id->hostnqn, sizeof(id->hostnqn), false);
	if (!p)
		return -EINVAL;
	if (id->version == 0)
		return tls_field(p, end, id->subnqn, sizeof(id->subnqn), true) && !memchr(p, ' ', (size_t)(end - p))
			       ? 0 : -EINVAL;
	p = tls_field(p, end, id->subnqn, sizeof(id->subnqn), false);
	if (!p || !tls_field(p, end, id->digest, sizeof(id->digest), true) || memchr(p, ' ', (size_t)(end - p)))
		return -EINVAL;
	return strlen(id->digest) == (id->hash == TLS_HASH_SHA256 ? 44u : 64u) ? 0 : -EINVAL;
}

int tls_identity_format(const struct tls_identity *id, char *out, size_t outlen)
{
	int n;

	if (id->version > 1 || (id->kind != 'R' && id->kind != 'G') || !tls_kdf_md_len(id->hash))
		return -EINVAL;
	if (id->version == 0)
		n = snprintf(out, outlen, "NVMe0%c%02u %s %s", id->kind, id->hash, id->hostnqn, id->subnqn);
	else
		n = snprintf(out, outlen, "NVMe1%c%02u %s %s %s", id->kind, id->hash, id->hostnqn, id->subnqn,
			     id->digest);
	return n >= 0 && (size_t)n < outlen ? n : -ENOSPC;
}

/* The TLS PSK context: the identity itself (v0) or "hh digest" (v1). */
static int tls_context(const struct tls_identity *id, const char *identity, char *ctx, size_t cap)
{
	int n;

	if (id->version == 0)
		n = snprintf(ctx, cap, "%s", identity);
	else
		n = snprintf(ctx, cap, "%02u %s", id->hash, id->digest);
	return n >= 0 && (size_t)n < cap ? 0 : -ENOSPC;
}

int tls_psk_for_host(const struct tls_key *k, const char *hostnqn, const char *subnqn,
		     unsigned version, enum tls_psk_variant v, char identity[TLS_IDENTITY_MAX],
		     uint8_t tls_psk[TLS_PSK_MAX])
{
	struct tls_identity id = { .version = version, .kind = 'R', .hash = tls_key_hash(k) };
	uint8_t retained[TLS_PSK_MAX];
	char ctx[TLS_IDENTITY_MAX];
	int ret;

	if (version > 1 || (v == TLS_PSK_LEGACY && version != 0) || !subnqn || strlen(subnqn) > TLS_NQN_MAX)
		return -EINVAL;
	ret = tls_psk_retained(k, hostnqn, v, retained);
	if (ret < 0)
		return ret;
	strcpy(id.hostnqn, hostnqn);
	strcpy(id.subnqn, subnqn);
	if (version == 1 && (ret = tls_psk_digest(id.hash, retained, k->len, hostnqn, subnqn, id.digest)) < 0)
		goto out;
	ret = tls_identity_format(&id, identity, TLS_IDENTITY_MAX);
	if (ret >= 0)
		ret = tls_context(&id, identity, ctx, sizeof(ctx));
	if (ret >= 0)
		ret = tls_psk_tls(v, id.hash, retained, k->len, ctx, tls_psk);
out:
	OPENSSL_cleanse(retained, sizeof(retained));
	return ret;
}

int tls_psk_for_target(const struct tls_key *k, const struct tls_identity *id,
		       enum tls_psk_variant v0_variant, uint8_t tls_psk[TLS_PSK_MAX],
		       enum tls_psk_variant *used)
{
	static const enum tls_psk_variant v1_order[] = { TLS_PSK_RFC8446, TLS_PSK_COMPAT };
	uint8_t retained[TLS_PSK_MAX];
	char ident[TLS_IDENTITY_MAX], ctx[TLS_IDENTITY_MAX], digest[TLS_DIGEST_MAX];
	int ret;

	if (id->kind != 'R')
		return -EOPNOTSUPP;
	if (id->hash != tls_key_hash(k))
		return -ENOKEY;
	ret = tls_identity_format(id, ident, sizeof(ident));
	if (ret < 0)
		return ret;
	ret = tls_context(id, ident, ctx, sizeof(ctx));
	if (ret < 0)
		return ret;
	if (id->version == 0) {
		ret = tls_psk_retained(k, id->hostnqn, v0_variant, retained);
		if (ret >= 0)
			ret = tls_psk_tls(v0_variant, id->hash, retained, k->len, ctx, tls_psk);
		if (ret >= 0 && used)
			*used = v0_variant;
		OPENSSL_cleanse(retained, sizeof(retained));
		return ret;
	}
	ret = -EKEYREJECTED;
	for (size_t i = 0; i < sizeof(v1_order) / sizeof(v1_order[0]); i++) {
		enum tls_psk_variant v = v1_order[i];
		int n = tls_psk_retained(k, id->hostnqn, v, retained);

		if (n < 0 || tls_psk_digest(id->hash, retained, k->len, id->hostnqn, id->subnqn, digest) < 0) {
			ret = n < 0 ? n : -EINVAL;
			break;
		}
		if (CRYPTO_memcmp(digest, id->digest, strlen(digest) + 1))
			continue;
		ret = tls_psk_tls(v, id->hash, retained, k->len, ctx, tls_psk);
		if (ret >= 0 && used)
			*used = v;
		break;
	}
	OPENSSL_cleanse(retained, sizeof(retained));
	return ret;
}
