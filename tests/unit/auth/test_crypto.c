/* SPDX-License-Identifier: MIT */
/* DH-HMAC-CHAP computations: known answers (nvme-cli's transform, values from an independent
 * Python hashlib/hmac computation) and FFDHE agreement and peer-value checks. */
#include <errno.h>
#include <string.h>

#include "auth/dhchap_crypto.h"
#include "hexutil.h"
#include "tap.h"

/* RFC 7919 ffdhe2048 prime (as OpenSSL's named group prints it) */
static const char ffdhe2048_p[] =
	"FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F6"
	"81B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935984F0C70E0E68B77E2A689DAF3EFE8721DF1"
	"58A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7"
	"C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F619172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF183"
	"7D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF";

static bool eq_hex(const uint8_t *got, const char *hex)
{
	uint8_t want[128];
	size_t n = unhex(hex, want);

	return !memcmp(got, want, n);
}

static void test_names(void)
{
	tap_eq(dhchap_hash_len(1), 32, "SHA-256 length");
	tap_eq(dhchap_hash_len(2), 48, "SHA-384 length");
	tap_eq(dhchap_hash_len(3), 64, "SHA-512 length");
	tap_eq(dhchap_hash_len(0), 0, "hash 0 has no length");
	tap_eq(dhchap_hash_len(4), 0, "hash 4 unknown");
	tap_eq(dhchap_hash_id("sha384"), 2, "sha384 by name");
	tap_eq(dhchap_hash_id("hmac(sha512)"), 3, "hmac(sha512) by name");
	tap_eq(dhchap_hash_id("md5"), -1, "md5 unknown");
	tap_eq(dhchap_dh_len(0), 0, "NULL group has no value");
	tap_eq(dhchap_dh_len(5), 1024, "ffdhe8192 value size");
	tap_eq(dhchap_dh_len(6), -1, "group 6 unknown");
	tap_eq(dhchap_dh_id("ffdhe6144"), 4, "ffdhe6144 by name");
	tap_eq(dhchap_dh_id("ffdhe1024"), -1, "ffdhe1024 unknown");
	tap_ok(!strcmp(dhchap_dh_name(3), "ffdhe4096"), "group 3 name");
	tap_ok(!strcmp(dhchap_fail_str(7), "incorrect protocol message"), "reason 7 text");
}

static void test_kat(void)
{
	struct dhchap_key k = { .hash = 1, .len = 32 };
	uint8_t out[64], ks[256], c[64], key[64];
	size_t n;

	unhex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", k.secret);
	tap_ok(!dhchap_transform(&k, "nqn.host", out, &n) && n == 32 &&
		       eq_hex(out, "534064226f2e421b8437694cee427dcdf7725cda44596433470323358320745b"),
	       "transform SHA-256 = nvme-cli gen-dhchap-key --hmac 1 --nqn nqn.host");
	k.hash = 0;
	tap_ok(!dhchap_transform(&k, "nqn.host", out, &n) && n == 32 && !memcmp(out, k.secret, 32),
	       "transform 00 is the secret itself");
	k.hash = 3;
	k.len = 64;
	for (int i = 0; i < 64; i++)
		k.secret[i] = (uint8_t)i;
	tap_ok(!dhchap_transform(&k, "nqn.2014-08.org.nvmexpress:uuid:1", out, &n) && n == 64 &&
		       eq_hex(out, "6275e1ba677b80262d6b8a0ccd119432bb9b98c5f6140185d28caa998af0e17ffcf5dd92d705f6f8943fbd37af3652"
				   "0abf97e107e3a168e9a5653ff9a5ac5b2a"),
	       "transform SHA-512 known answer");
	k.len = 40;
	tap_eq(dhchap_transform(&k, "nqn", out, &n), -EINVAL, "transform refuses a 40-byte secret");

	for (int i = 0; i < 256; i++)
		ks[i] = (uint8_t)i;
	for (int i = 0; i < 32; i++)
		c[i] = (uint8_t)(0xa0 + i);
	tap_ok(!dhchap_augment(1, ks, 256, c, out) &&
		       eq_hex(out, "8b58f032720453836a1c35e94ae6994743a6c706fdc8bd373ba0e4d5ff83778f"),
	       "augmented challenge HMAC(H(Ks), C) known answer");
	memset(key, 0x11, 48);
	for (int i = 0; i < 48; i++)
		c[i] = (uint8_t)i;
	tap_ok(!dhchap_host_response(2, key, 48, c, 0x01020304, 0x0506, 0, "nqn.h", "nqn.s", out) &&
		       eq_hex(out, "5dc6709c5a83557867ff8b9873d0e5ab800ed9de174865303f0b5dfecf78f8c8a7f487ce1a221b9ea191949cafb9"
				   "987b"),
	       "host response R1 (SHA-384) known answer");
	memset(key, 0x22, 64);
	for (int i = 0; i < 64; i++)
		c[i] = (uint8_t)i;
	tap_ok(!dhchap_ctrl_response(3, key, 64, c, 0xfffffffe, 0xabcd, 0, "nqn.h", "nqn.s", out) &&
		       eq_hex(out, "aa7091295d2ed483721781057a200bdd1ad5a95b8005633fd403dd4333ab334c699b2b2a567184ce10be7d3638b7"
				   "1a56b56104377abf48c9cd88b0c5ab6e9cd6"),
	       "controller response R2 (SHA-512) known answer");
	tap_eq(dhchap_hmac(4, key, 8, NULL, 0, out), -EINVAL, "HMAC with an unknown hash");
	tap_eq(dhchap_digest(0, key, 8, out), -EINVAL, "digest with hash 0");
	tap_eq(dhchap_memcmp("abc", "abc", 3), 0, "constant-time compare: equal");
	tap_eq(dhchap_memcmp("abc", "abd", 3), 1, "constant-time compare: different");
}

static void test_dh(void)
{
	static uint8_t pa[1024], pb[1024], ka[1024], kb[1024], v[1024];

	for (uint8_t g = 1; g <= 5; g++) {
		struct dhchap_dh *a = NULL, *b = NULL;
		size_t len = (size_t)dhchap_dh_len(g);

		tap_ok(!dhchap_dh_generate(g, &a) && !dhchap_dh_generate(g, &b), "%s: two key pairs", dhchap_dh_name(g));
		if (!a || !b)
			continue;
		tap_ok(!dhchap_dh_public(a, pa, len) && !dhchap_dh_public(b, pb, len) && memcmp(pa, pb, len),
		       "%s: public values of %zu bytes differ", dhchap_dh_name(g), len);
		tap_ok(!dhchap_dh_derive(a, pb, len, ka, len) && !dhchap_dh_derive(b, pa, len, kb, len) &&
			       !memcmp(ka, kb, len),
		       "%s: both sides derive the same padded secret", dhchap_dh_name(g));
		tap_eq(dhchap_dh_public(a, pa, len - 1), -EINVAL, "%s: public needs the group size", dhchap_dh_name(g));
		tap_eq(dhchap_dh_derive(a, pb, len - 1, ka, len), -EINVAL, "%s: short peer value", dhchap_dh_name(g));
		memset(v, 0, len);
		tap_eq(dhchap_dh_derive(a, v, len, ka, len), -EBADMSG, "%s: peer 0 refused", dhchap_dh_name(g));
		v[len - 1] = 1;
		tap_eq(dhchap_dh_derive(a, v, len, ka, len), -EBADMSG, "%s: peer 1 refused", dhchap_dh_name(g));
		memset(v, 0xff, len);
		tap_eq(dhchap_dh_derive(a, v, len, ka, len), -EBADMSG, "%s: peer above p refused", dhchap_dh_name(g));
		if (g == 1) {
			unhex(ffdhe2048_p, v);
			tap_eq(dhchap_dh_derive(a, v, len, ka, len), -EBADMSG, "ffdhe2048: peer p refused");
			v[len - 1]--;
			tap_eq(dhchap_dh_derive(a, v, len, ka, len), -EBADMSG, "ffdhe2048: peer p-1 refused");
			v[len - 1]--;
			tap_eq(dhchap_dh_derive(a, v, len, ka, len), 0, "ffdhe2048: peer p-2 accepted");
		}
		dhchap_dh_free(a);
		dhchap_dh_free(b);
	}
	{
		struct dhchap_dh *x = (void *)1;

		tap_eq(dhchap_dh_generate(0, &x), -EINVAL, "no key pair for the NULL group");
		tap_ok(x == NULL, "out pointer cleared");
		tap_eq(dhchap_dh_generate(6, &x), -EINVAL, "no key pair for group 6");
	}
}

int main(void)
{
	test_names();
	test_kat();
	test_dh();
	return tap_done();
}
