/* SPDX-License-Identifier: MIT */
/* DH-HMAC-CHAP computations on OpenSSL 3: HMAC, hash, key transform, responses, FFDHE. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "dhchap_crypto.h"

static const struct {
	const char *name, *hmac_name, *ossl;
	size_t len;
} crypto_hashes[] = {
	[DHCHAP_HASH_SHA256] = { "sha256", "hmac(sha256)", "SHA256", 32 },
	[DHCHAP_HASH_SHA384] = { "sha384", "hmac(sha384)", "SHA384", 48 },
	[DHCHAP_HASH_SHA512] = { "sha512", "hmac(sha512)", "SHA512", 64 },
};

static const struct {
	const char *name;
	int len;
} crypto_groups[] = {
	[DHCHAP_DH_NULL] = { "null", 0 },	    [DHCHAP_DH_FFDHE2048] = { "ffdhe2048", 256 },
	[DHCHAP_DH_FFDHE3072] = { "ffdhe3072", 384 }, [DHCHAP_DH_FFDHE4096] = { "ffdhe4096", 512 },
	[DHCHAP_DH_FFDHE6144] = { "ffdhe6144", 768 }, [DHCHAP_DH_FFDHE8192] = { "ffdhe8192", 1024 },
};

#define NR_HASHES (sizeof(crypto_hashes) / sizeof(crypto_hashes[0]))
#define NR_GROUPS (sizeof(crypto_groups) / sizeof(crypto_groups[0]))

size_t dhchap_hash_len(uint8_t id)
{
	return id && id < NR_HASHES ? crypto_hashes[id].len : 0;
}

const char *dhchap_hash_name(uint8_t id)
{
	return id && id < NR_HASHES ? crypto_hashes[id].name : NULL;
}

int dhchap_hash_id(const char *name)
{
	for (unsigned i = 1; name && i < NR_HASHES; i++)
		if (!strcmp(name, crypto_hashes[i].name) || !strcmp(name, crypto_hashes[i].hmac_name))
			return (int)i;
	return -1;
}

int dhchap_dh_len(uint8_t id)
{
	return id < NR_GROUPS ? crypto_groups[id].len : -1;
}

const char *dhchap_dh_name(uint8_t id)
{
	return id < NR_GROUPS ? crypto_groups[id].name : NULL;
}

int dhchap_dh_id(const char *name)
{
	for (unsigned i = 0; name && i < NR_GROUPS; i++)
		if (!strcmp(name, crypto_groups[i].name))
			return (int)i;
	return -1;
}

const char *dhchap_fail_str(uint8_t reason)
{
	static const char *const s[] = {
		[DHCHAP_FAIL_FAILED] = "authentication failed",
		[DHCHAP_FAIL_PROTOCOL_UNUSABLE] = "authentication protocol not usable",
		[DHCHAP_FAIL_CONCAT_MISMATCH] = "secure channel concatenation mismatch",
		[DHCHAP_FAIL_HASH_UNUSABLE] = "hash function not usable",
		[DHCHAP_FAIL_DHGROUP_UNUSABLE] = "DH group not usable",
		[DHCHAP_FAIL_INCORRECT_PAYLOAD] = "incorrect payload",
		[DHCHAP_FAIL_INCORRECT_MESSAGE] = "incorrect protocol message",
	};

	return reason && reason < sizeof(s) / sizeof(s[0]) ? s[reason] : "unknown reason";
}

/* Fetched algorithms, once per process (fetching is the expensive part of an EVP call). */
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static EVP_MAC *crypto_mac;
static EVP_MD *crypto_md[NR_HASHES];

static void crypto_fetch(void)
{
	crypto_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	for (unsigned i = 1; i < NR_HASHES; i++)
		crypto_md[i] = EVP_MD_fetch(NULL, crypto_hashes[i].ossl, NULL);
}

int dhchap_hmac(uint8_t hash, const void *key, size_t key_len, const struct dhchap_buf *data, unsigned n,
		uint8_t *out)
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	size_t len = 0;
	int ok;

	if (!dhchap_hash_len(hash))
		return -EINVAL;
	pthread_once(&crypto_once, crypto_fetch);
	if (!crypto_mac)
		return -EIO;
	ctx = EVP_MAC_CTX_new(crypto_mac);
	if (!ctx)
		return -ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)crypto_hashes[hash].ossl, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(ctx, key, key_len, params);
	for (unsigned i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(ctx, data[i].p, data[i].len);
	ok = ok && EVP_MAC_final(ctx, out, &len, DHCHAP_HASH_MAX_LEN) && len == dhchap_hash_len(hash);
	EVP_MAC_CTX_free(ctx); /* clears the keyed state */
	return ok ? 0 : -EIO;
}

int dhchap_digest(uint8_t hash, const void *data, size_t len, uint8_t *out)
{
	unsigned n = 0;

	if (!dhchap_hash_len(hash))
		return -EINVAL;
	pthread_once(&crypto_once, crypto_fetch);
	if (!crypto_md[hash] || !EVP_Digest(data, len, out, &n, crypto_md[hash], NULL) ||
	    n != dhchap_hash_len(hash))
		return -EIO;
	return 0;
}

int dhchap_transform(const struct dhchap_key *key, const char *nqn, uint8_t *out, size_t *out_len)
{
	struct dhchap_buf d[2] = { { nqn, strlen(nqn) }, { "NVMe-over-Fabrics", 17 } };

	if (key->len != 32 && key->len != 48 && key->len != 64)
		return -EINVAL;
	if (key->hash == DHCHAP_HASH_NONE) {
		memcpy(out, key->secret, key->len);
		*out_len = key->len;
		return 0;
	}
	*out_len = dhchap_hash_len(key->hash);
	return dhchap_hmac(key->hash, key->secret, key->len, d, 2, out);
}

int dhchap_augment(uint8_t hash, const uint8_t *ks, size_t ks_len, const uint8_t *chal, uint8_t *out)
{
	uint8_t hk[DHCHAP_HASH_MAX_LEN];
	struct dhchap_buf d = { chal, dhchap_hash_len(hash) };
	int ret = dhchap_digest(hash, ks, ks_len, hk);

	if (!ret)
		ret = dhchap_hmac(hash, hk, d.len, &d, 1, out);
	OPENSSL_cleanse(hk, sizeof(hk));
	return ret;
}

static int crypto_response(uint8_t hash, const uint8_t *key, size_t key_len, const uint8_t *chal, uint32_t seq,
			   uint16_t tid, uint8_t sc_c, const char *role, const char *nqn1, const char *nqn2,
			   uint8_t *out)
{
	uint8_t le[7] = { (uint8_t)seq, (uint8_t)(seq >> 8), (uint8_t)(seq >> 16), (uint8_t)(seq >> 24),
			  (uint8_t)tid, (uint8_t)(tid >> 8), sc_c };
	struct dhchap_buf d[] = {
		{ chal, dhchap_hash_len(hash) }, { le, sizeof(le) },	   { role, strlen(role) },
		{ nqn1, strlen(nqn1) },	   { "", 1 /* the NUL between */ }, { nqn2, strlen(nqn2) },
	};

	return dhchap_hmac(hash, key, key_len, d, sizeof(d) / sizeof(d[0]), out);
}

int dhchap_host_response(uint8_t hash, const uint8_t *kh, size_t kh_len, const uint8_t *chal, uint32_t seq,
			 uint16_t tid, uint8_t sc_c, const char *hostnqn, const char *subnqn, uint8_t *out)
{
	return crypto_response(hash, kh, kh_len, chal, seq, tid, sc_c, "HostHost", hostnqn, subnqn, out);
}

int dhchap_ctrl_response(uint8_t hash, const uint8_t *kc, size_t kc_len, const uint8_t *chal, uint32_t seq,
			 uint16_t tid, uint8_t sc_c, const char *hostnqn, const char *subnqn, uint8_t *out)
{
	return crypto_response(hash, kc, kc_len, chal, seq, tid, sc_c, "Controller", subnqn, hostnqn, out);
}

int dhchap_memcmp(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) ? 1 : 0;
}

int dhchap_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

/* ---- FFDHE ---- */

struct dhchap_dh {
	EVP_PKEY *pkey;
	uint8_t id;
};

/* A DH key object with only the group's domain parameters. */
static EVP_PKEY *crypto_dh_params(uint8_t id)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	OSSL_PARAM params[2];
	EVP_PKEY *pkey = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)crypto_groups[id].name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

int dhchap_dh_generate(uint8_t id, struct dhchap_dh **out)
{
	EVP_PKEY_CTX *ctx;
	struct dhchap_dh *dh;
	OSSL_PARAM params[2];
	int ok;

	*out = NULL;
	if (id == DHCHAP_DH_NULL || dhchap_dh_len(id) <= 0)
		return -EINVAL;
	dh = calloc(1, sizeof(*dh));
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	if (!dh || !ctx) {
		free(dh);
		EVP_PKEY_CTX_free(ctx);
		return -ENOMEM;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)crypto_groups[id].name, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_CTX_set_params(ctx, params) > 0 &&
	     EVP_PKEY_generate(ctx, &dh->pkey) > 0;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		free(dh);
		return -EIO;
	}
	dh->id = id;
	*out = dh;
	return 0;
}

int dhchap_dh_public(const struct dhchap_dh *dh, uint8_t *buf, size_t len)
{
	size_t got = 0;

	if (len != (size_t)dhchap_dh_len(dh->id))
		return -EINVAL;
	if (!EVP_PKEY_get_octet_string_param(dh->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, len, &got))
		return -EIO;
	if (got < len) { /* left-pad to the group size */
		memmove(buf + (len - got), buf, got);
		memset(buf, 0, len - got);
	}
	return 0;
}

int dhchap_dh_derive(const struct dhchap_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *ks, size_t ks_len)
{
	size_t glen = (size_t)dhchap_dh_len(dh->id), out = ks_len;
	EVP_PKEY_CTX *pctx = NULL, *dctx = NULL;
	EVP_PKEY *pk;
	int ret = -EIO;

	if (peer_len != glen || ks_len != glen)
		return -EINVAL;
	pk = crypto_dh_params(dh->id);
	if (!pk)
		return -ENOMEM;
	if (!EVP_PKEY_set1_encoded_public_key(pk, peer, peer_len)) {
		ret = -EBADMSG;
		goto out;
	}
	/* Range check 1 < y < p-1. The groups are safe primes, so that excludes the only small
	 * subgroup ({1, p-1}); the full check (y^q mod p) would cost a full-length exponentiation. */
	pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	if (!pctx)
		goto out;
	if (EVP_PKEY_public_check_quick(pctx) != 1) {
		ret = -EBADMSG;
		goto out;
	}
	dctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL);
	if (!dctx || EVP_PKEY_derive_init(dctx) <= 0 || EVP_PKEY_CTX_set_dh_pad(dctx, 1) <= 0 ||
	    EVP_PKEY_derive_set_peer_ex(dctx, pk, 0) <= 0)
		goto out;
	if (EVP_PKEY_derive(dctx, ks, &out) <= 0 || out != glen) {
		OPENSSL_cleanse(ks, ks_len);
		goto out;
	}
	ret = 0;
out:
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(pk);
	return ret;
}

void dhchap_dh_free(struct dhchap_dh *dh)
{
	if (!dh)
		return;
	EVP_PKEY_free(dh->pkey); /* OpenSSL clears private BIGNUMs on free */
	free(dh);
}
