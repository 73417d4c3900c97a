/* SPDX-License-Identifier: MIT */
/*
 * src/tls/psk.c against published vectors: libnvme v1.16 test/psk.c (interchange strings,
 * version 1 identities in the RFC 8446 and compat derivations), Linux
 * drivers/nvme/common/tests/auth_kunit.c (generated PSK, digest, TLS PSK), plus TLS PSKs from
 * tests/tls/nvme_psk.py (a second implementation, Python hmac/hashlib) for every variant.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "tap.h"
#include "tls/kdf.h"
#include "tls/psk.h"

static const uint8_t psk32[32] = {
	0x55, 0x12, 0xDB, 0xB6, 0x73, 0x7D, 0x01, 0x06, 0xF6, 0x59, 0x75, 0xB7, 0x73, 0xDF, 0xB0, 0x11,
	0xFF, 0xC3, 0x44, 0xBC, 0xF4, 0x42, 0xE2, 0xDD, 0x6D, 0x8B, 0xC4, 0x87, 0x0B, 0x5D, 0x5B, 0x03,
};
#define HOST "nqn.psk-test-host"
#define SUB "nqn.psk-test-subsys"
#define K00 "NVMeTLSkey-1:00:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"
#define K01 "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"
#define K02 "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:"

static void psk48(uint8_t out[48])
{
	memcpy(out, psk32, 32);
	memcpy(out + 32, psk32 + 16, 16); /* libnvme's 48-byte vector: the 32 bytes + bytes 16..31 */
}

static void hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
}

static void test_interchange(void)
{
	struct tls_key k;
	uint8_t want48[48];
	char out[TLS_KEY_STR_MAX], err[200];

	psk48(want48);
	tap_eq(tls_key_parse(K00, &k, err, sizeof(err)), 0, "parse 00 key");
	tap_ok(k.len == 32 && k.transform == 0 && !memcmp(k.key, psk32, 32), "00: 32-byte key, no transform");
	tap_eq(tls_key_hash(&k), TLS_HASH_SHA256, "00 with 32 bytes uses SHA-256");
	tap_eq(tls_key_format(&k, out, sizeof(out)), strlen(K00), "format 00 length");
	tap_ok(!strcmp(out, K00), "format 00 = libnvme export");
	tap_eq(tls_key_parse(K01, &k, NULL, 0), 0, "parse 01 key");
	tap_ok(k.len == 32 && k.transform == 1 && !memcmp(k.key, psk32, 32), "01: 32 bytes, SHA-256");
	tls_key_format(&k, out, sizeof(out));
	tap_ok(!strcmp(out, K01), "format 01 = libnvme export");
	tap_eq(tls_key_parse(K02, &k, NULL, 0), 0, "parse 02 key");
	tap_ok(k.len == 48 && k.transform == 2 && !memcmp(k.key, want48, 48), "02: 48 bytes, SHA-384");
	tls_key_format(&k, out, sizeof(out));
	tap_ok(!strcmp(out, K02), "format 02 = libnvme export");
	tap_eq(tls_key_parse(K01 "\n", &k, NULL, 0), 0, "a trailing newline (key file) is accepted");
	/* CRC-32 vector of the research notes: ASCII "0011...eeff" + LE 0x90482470 */
	tap_eq(tls_key_parse("NVMeTLSkey-1:00:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:", &k, err,
			     sizeof(err)), 0, "IEEE CRC-32 (zlib) is the one appended");
	tap_ok(!memcmp(k.key, "00112233445566778899aabbccddeeff", 32), "ASCII key bytes");
}

static void expect_parse_error(const char *s, const char *needle, const char *what)
{
	struct tls_key k;
	char err[256] = "";
	int ret = tls_key_parse(s, &k, err, sizeof(err));

	tap_ok(ret == -EINVAL && strstr(err, needle), "rejects %s", what);
	if (!strstr(err, needle))
		tap_diag("message was: %s", err);
	tap_ok(k.len == 0, "%s: no key left behind", what);
}

static void test_interchange_errors(void)
{
	struct tls_key k = { .len = 48, .transform = 1 };
	char s[TLS_KEY_STR_MAX];

	psk48(k.key);
	expect_parse_error("DHHC-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", "starts with", "wrong prefix");
	expect_parse_error("NVMeTLSkey-1:03:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", "'03'", "hash 03");
	expect_parse_error("NVMeTLSkey-1:1:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", "two-digit", "one digit");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ", "ends the base64", "no final ':'");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:x", "after the final", "trailing text");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9*wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", "'*' at position 18", "bad base64");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9Lr:", "47 characters", "47 characters");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvE:", "decodes to 27 bytes", "short key");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrY:", "CRC-32 mismatch", "changed CRC");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9Lr=:", "decodes to 35 bytes", "padding in a 48-char key");
	expect_parse_error("NVMeTLSkey-1:01:WRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", "CRC-32 mismatch", "changed key byte");
	tap_ok(tls_key_format(&k, s, sizeof(s)) > 0, "a 48-byte key labelled 01 can be written");
	expect_parse_error(s, "needs a 32-byte key", "hash 01 with a 48-byte key");
	expect_parse_error(NULL, "no key", "NULL");
	tap_eq(tls_key_format(&k, s, 20), -ENOSPC, "format into a short buffer: -ENOSPC");
}

/* libnvme v1.16 test/psk.c test_data_identity and test_data_identity_compat */
static void test_identities(void)
{
	static const struct {
		const char *key;
		enum tls_psk_variant v;
		const char *identity;
	} t[] = {
		{ K01, TLS_PSK_RFC8446, "NVMe1R01 " HOST " " SUB " iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=" },
		{ K02, TLS_PSK_RFC8446, "NVMe1R02 " HOST " " SUB " QhW2+Rp6RzHlNtCslyRxMnwJ11tKKhz8JCAQpQ+XUD8f9td1VeH5h53yz2wKJG1a" },
		{ K01, TLS_PSK_COMPAT, "NVMe1R01 " HOST " " SUB " 66GuqV08TsAGII39teWUfwQwizjv06Jy8jOcX3NAAzM=" },
		{ K02, TLS_PSK_COMPAT, "NVMe1R02 " HOST " " SUB " RsKmYJ3nAn1ApjjMloJFbAkLPivONDAX/xW327YBUsn2eGShXSjCZvBaOxscLqmz" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tls_key k;
		char id[TLS_IDENTITY_MAX];
		uint8_t tls[TLS_PSK_MAX];
		int ret;

		tls_key_parse(t[i].key, &k, NULL, 0);
		ret = tls_psk_for_host(&k, HOST, SUB, 1, t[i].v, id, tls);
		tap_eq(ret, k.len, "identity %zu: TLS PSK length", i);
		tap_ok(!strcmp(id, t[i].identity), "identity %zu (%s, SHA-%s) = libnvme", i,
		       tls_psk_variant_name(t[i].v), k.len == 32 ? "256" : "384");
		if (strcmp(id, t[i].identity))
			tap_diag("got %s", id);
	}
}

/* Linux drivers/nvme/common/tests/auth_kunit.c */
static void test_kunit(void)
{
	static const struct {
		enum tls_hash h;
		const char *psk, *digest, *tls;
	} t[] = {
		{ TLS_HASH_SHA256, "1733c59fa7f48fcf37f5f26fc4ff0268ad4f78e030f4f3b0bfd1d47e7bb1447a",
		  "OldoKuTfKddMuyCznAZojkWD7P4D9/AtzDzLimtOxqI=",
		  "3c17da628474a04d2247c4cab47968c915388193f7c071bd9489cc3666cd7cc8" },
		{ TLS_HASH_SHA384,
		  "f14b2dd3234c459694d3bc63f8968bd6b37c2c6de849e22e118749001ce4bbe8640b9e3a748cb11ce4b1d71d359cce39",
		  "cffMWk8TSS7HOQebjgYEIkrPrjWPV4JE5cdPB8WhEvY4JBW5YynKyv66XscN4A9n",
		  "27747532335 37b3fa50eb7d16a8e43457d85f4906c005b2236616c5d80939d0898fff15bb8b77119d2be0aac423e7590" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t hl = t[i].h == TLS_HASH_SHA256 ? 32 : 48;
		uint8_t skey[64], c1[64], c2[64], psk[TLS_PSK_MAX], want[TLS_PSK_MAX], tls[TLS_PSK_MAX];
		char digest[TLS_DIGEST_MAX], ctx[80], tlshex[2 * TLS_PSK_MAX + 8];
		size_t k = 0;

		for (int j = 0; j < 64; j++) {
			skey[j] = (uint8_t)('A' + j);
			c1[j] = (uint8_t)j;
			c2[j] = (uint8_t)(0xff - j);
		}
		tap_eq(tls_psk_generated(t[i].h, skey, hl, c1, c2, psk), hl, "kunit %zu: generated PSK length", i);
		hex(t[i].psk, want, hl);
		tap_ok(!memcmp(psk, want, hl), "kunit %zu: generated PSK = HMAC(skey, C1 || C2)", i);
		tap_eq(tls_psk_digest(t[i].h, psk, hl, "hostnqn", "subsysnqn", digest), hl == 32 ? 44 : 64,
		       "kunit %zu: digest length", i);
		tap_ok(!strcmp(digest, t[i].digest), "kunit %zu: PSK digest", i);
		snprintf(ctx, sizeof(ctx), "%02u %s", t[i].h, digest);
		tap_eq(tls_psk_tls(TLS_PSK_RFC8446, t[i].h, psk, hl, ctx, tls), hl, "kunit %zu: TLS PSK length", i);
		for (const char *p = t[i].tls; *p; p++) /* the vector is written with a gap for reading */
			if (*p != ' ')
				tlshex[k++] = *p;
		tlshex[k] = 0;
		hex(tlshex, want, hl);
		tap_ok(!memcmp(tls, want, hl), "kunit %zu: TLS PSK", i);
	}
	tap_eq(tls_psk_generated(TLS_HASH_NONE, (const uint8_t *)"x", 1, psk32, psk32, (uint8_t[48]){ 0 }), -EINVAL,
	       "generated PSK: hash 0 refused");
}

/* TLS PSKs from tests/tls/nvme_psk.py for the libnvme configured key, every variant and version */
static void test_tls_psk_variants(void)
{
	static const struct {
		const char *key;
		unsigned version;
		enum tls_psk_variant v;
		const char *tls;
	} t[] = {
		{ K01, 1, TLS_PSK_RFC8446, "8fc3c0badfd4c0c66fa3ca33aadd0314f85536cc9bc47338b60f3e6e563786ca" },
		{ K01, 1, TLS_PSK_COMPAT, "b9f5ab2a41ba6e72a23a12066302a2f775fa6c0942c8e0b18ca8ac07edf305e2" },
		{ K01, 0, TLS_PSK_RFC8446, "05c6503551ad136e6ee32e6eeb3f6d500b69701d84ec71e328f65c7f51566f68" },
		{ K01, 0, TLS_PSK_COMPAT, "09fb1983ac6d6d0353e7cae4f23daddd651c367fa347c59d9cf6936f5a83eafb" },
		{ K01, 0, TLS_PSK_LEGACY, "03186a88bb7a5cc1705025cdb2b75969816d73cf82f8d0d7b694e2929999c2e7" },
		{ K02, 1, TLS_PSK_RFC8446, "a2b2f943f479fc682555cec89857c80ed004ce92f32a973d5764155bb7e36b17a85368a0666d250afac9282dda2e62ca" },
		{ K02, 1, TLS_PSK_COMPAT, "fcefe2e2a2e682b1447dcabf1ec268f78f08c63cd075753abcc8bda2c5c34d48d3014aa8d76ad80107e4f5c9f27e2149" },
		{ K02, 0, TLS_PSK_RFC8446, "f42ba63824cdfe421914c582921f85b5b5b7e2d4df084caeedc9be20b212e8bb0fe8a23e9d59a1c8fc6449da4970a78d" },
		{ K02, 0, TLS_PSK_COMPAT, "2ee4754186a625b28a3936ef4a40d839c3ad958b2e017562ee07e2501f172ce999dc9c29033ea7ee33f814f192c13f47" },
		{ K02, 0, TLS_PSK_LEGACY, "a393faeeae291eea32086d3c14eb8c783abedd10dfe2d07b847ac5903a4fd9141e4c9f85712b6119579e3f8c914022b6" },
		{ K00, 1, TLS_PSK_RFC8446, "a45d08ee4639c7570729bb3e57e905e466a49a15ece5401af906830c4d3bdb0b" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tls_key k;
		char id[TLS_IDENTITY_MAX];
		uint8_t tls[TLS_PSK_MAX], want[TLS_PSK_MAX];

		tls_key_parse(t[i].key, &k, NULL, 0);
		hex(t[i].tls, want, k.len);
		tap_eq(tls_psk_for_host(&k, HOST, SUB, t[i].version, t[i].v, id, tls), k.len, "oracle %zu: derived", i);
		tap_ok(!memcmp(tls, want, k.len), "oracle %zu: TLS PSK v%u %s %s = nvme_psk.py", i, t[i].version,
		       tls_psk_variant_name(t[i].v), t[i].key + 13);
	}
}

/* The RFC 8446 info built here equals OpenSSL's own HKDF-Expand-Label (TLS13-KDF). */
static void test_rfc_is_expand_label(void)
{
	struct tls_key k;
	uint8_t prk[32], a[TLS_PSK_MAX], b[TLS_PSK_MAX];
	const char *md = "SHA256";
	int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
	OSSL_PARAM p[4];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);

	tls_key_parse(K01, &k, NULL, 0);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	p[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k.key, 32);
	p[3] = OSSL_PARAM_construct_end();
	tap_ok(EVP_KDF_derive(ctx, prk, 32, p) > 0, "HKDF-Extract");
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	tap_eq(tls_kdf_expand_label(1, prk, 32, "HostNQN", (const uint8_t *)HOST, strlen(HOST), a, 32), 0,
	       "TLS13-KDF expand");
	tap_eq(tls_psk_retained(&k, HOST, TLS_PSK_RFC8446, b), 32, "retained, RFC");
	tap_ok(!memcmp(a, b, 32), "RFC retained PSK = OpenSSL HKDF-Expand-Label(PRK, \"HostNQN\", hostnqn)");
	tap_eq(tls_psk_retained(&k, HOST, TLS_PSK_COMPAT, a), 32, "retained, compat");
	tap_ok(memcmp(a, b, 32), "compat retained PSK differs from RFC");
	tls_key_parse(K00, &k, NULL, 0);
	tap_eq(tls_psk_retained(&k, HOST, TLS_PSK_COMPAT, a), 32, "00: retained");
	tap_ok(!memcmp(a, psk32, 32), "00: the configured PSK is the retained PSK");
}

static void test_identity_parse(void)
{
	struct tls_identity id;
	const char *v1 = "NVMe1R01 " HOST " " SUB " iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=";
	const char *bad[] = {
		"NVMe2R01 a b", "NVMe0X01 a b", "NVMe0R03 a b", "NVMe0R01 a", "NVMe0R01 a b c", "NVMe0R01  b",
		"NVMe1R01 a b", "NVMe1R01 a b short", "NVMe1R02 a b iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=",
		"NVMe0R01a b", "nvme0R01 a b", "",
	};
	char big[700], out[TLS_IDENTITY_MAX];

	tap_eq(tls_identity_parse("NVMe0R02 " HOST " " SUB, strlen("NVMe0R02 " HOST " " SUB), &id), 0, "parse v0");
	tap_ok(id.version == 0 && id.kind == 'R' && id.hash == TLS_HASH_SHA384 && !strcmp(id.hostnqn, HOST) &&
	       !strcmp(id.subnqn, SUB) && !id.digest[0], "v0 fields");
	tap_eq(tls_identity_parse(v1, strlen(v1), &id), 0, "parse v1");
	tap_ok(id.version == 1 && id.hash == TLS_HASH_SHA256 && !strcmp(id.subnqn, SUB) &&
	       !strcmp(id.digest, "iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU="), "v1 fields");
	tap_eq(tls_identity_format(&id, out, sizeof(out)), strlen(v1), "format v1");
	tap_ok(!strcmp(out, v1), "v1 round trip");
	tap_eq(tls_identity_parse(v1, 20, &id), -EINVAL, "a cut identity is refused");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_eq(tls_identity_parse(bad[i], strlen(bad[i]), &id), -EINVAL, "refuses \"%s\"", bad[i]);
	tap_eq(tls_identity_parse("NVMe0R01 a\0b c", 14, &id), -EINVAL, "refuses an embedded NUL");
	memset(big, 'x', sizeof(big));
	memcpy(big, "NVMe0R01 ", 9);
	big[300] = ' ';
	tap_eq(tls_identity_parse(big, sizeof(big), &id), -EINVAL, "refuses 700 bytes");
	memcpy(big + 9, "nqn.", 4);
	tap_eq(tls_identity_parse(big, 9 + 240 + 1 + 10, &id), -EINVAL, "refuses a 240-byte host NQN");
}

static void test_target_lookup(void)
{
	struct tls_key k1, k2, other;
	struct tls_identity id;
	char ident[TLS_IDENTITY_MAX];
	uint8_t h[TLS_PSK_MAX], t[TLS_PSK_MAX];
	enum tls_psk_variant used = TLS_PSK_LEGACY;

	tls_key_parse(K01, &k1, NULL, 0);
	tls_key_parse(K02, &k2, NULL, 0);
	other = k1;
	other.key[0] ^= 1;
	for (int v = TLS_PSK_RFC8446; v <= TLS_PSK_COMPAT; v++) {
		tls_psk_for_host(&k1, HOST, SUB, 1, (enum tls_psk_variant)v, ident, h);
		tls_identity_parse(ident, strlen(ident), &id);
		tap_eq(tls_psk_for_target(&k1, &id, TLS_PSK_RFC8446, t, &used), 32, "target finds a v1 %s identity",
		       tls_psk_variant_name((enum tls_psk_variant)v));
		tap_eq((int)used, v, "the digest told the derivation (%s)", tls_psk_variant_name((enum tls_psk_variant)v));
		tap_ok(!memcmp(h, t, 32), "host and target TLS PSKs agree (v1 %s)", tls_psk_variant_name((enum tls_psk_variant)v));
		tap_eq(tls_psk_for_target(&other, &id, TLS_PSK_RFC8446, t, NULL), -EKEYREJECTED,
		       "another key: digest matches no derivation");
	}
	for (int v = TLS_PSK_RFC8446; v <= TLS_PSK_LEGACY; v++) {
		tls_psk_for_host(&k2, HOST, SUB, 0, (enum tls_psk_variant)v, ident, h);
		tls_identity_parse(ident, strlen(ident), &id);
		tap_eq(tls_psk_for_target(&k2, &id, (enum tls_psk_variant)v, t, &used), 48, "v0 %s identity",
		       tls_psk_variant_name((enum tls_psk_variant)v));
		tap_ok(!memcmp(h, t, 48) && (int)used == v, "v0: the configured derivation (%s) agrees",
		       tls_psk_variant_name((enum tls_psk_variant)v));
	}
	tls_psk_for_host(&k2, HOST, SUB, 0, TLS_PSK_COMPAT, ident, h);
	tls_identity_parse(ident, strlen(ident), &id);
	tls_psk_for_target(&k2, &id, TLS_PSK_RFC8446, t, NULL);
	tap_ok(memcmp(h, t, 48), "v0 compat host vs RFC target: different TLS PSKs (the handshake fails)");
	tap_eq(tls_psk_for_target(&k1, &id, TLS_PSK_RFC8446, t, NULL), -ENOKEY, "SHA-384 identity, SHA-256 key");
	id.kind = 'G';
	tap_eq(tls_psk_for_target(&k2, &id, TLS_PSK_RFC8446, t, NULL), -EOPNOTSUPP, "generated identity refused");
	tap_eq(tls_psk_for_host(&k1, HOST, SUB, 1, TLS_PSK_LEGACY, ident, h), -EINVAL, "legacy has no v1");
	tap_eq(tls_psk_for_host(&k1, HOST, SUB, 2, TLS_PSK_RFC8446, ident, h), -EINVAL, "version 2 refused");
	tap_eq(tls_psk_variant_parse("compat"), TLS_PSK_COMPAT, "variant names");
	tap_eq(tls_psk_variant_parse("rfc2"), -EINVAL, "unknown variant name");
}

int main(void)
{
	test_interchange();
	test_interchange_errors();
	test_identities();
	test_kunit();
	test_tls_psk_variants();
	test_rfc_is_expand_label();
	test_identity_parse();
	test_target_lookup();
	return tap_done();
}
