/* SPDX-License-Identifier: MIT */
/* Thin wrappers over OpenSSL 3's HKDF, TLS13-KDF and HMAC (EVP_KDF / EVP_MAC). */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "kdf.h"

const char *tls_kdf_md_name(unsigned hash)
{
	switch (hash) {
	case 1:
		return "SHA256";
	case 2:
		return "SHA384";
	default:
		return NULL;
	}
}

size_t tls_kdf_md_len(unsigned hash)
{
	return hash == 1 ? 32 : hash == 2 ? 48 : 0;
}

static int tls_kdf_run(const char *kdf_name, OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, kdf_name, NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int ret = 0;

	if (!ctx)
		ret = -ENOMEM;
	else if (EVP_KDF_derive(ctx, out, out_len, params) <= 0)
		ret = -EINVAL;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ret;
}

int tls_kdf_hkdf(unsigned hash, const uint8_t *key, size_t key_len, const uint8_t *info,
		 size_t info_len, uint8_t *out, size_t out_len)
{
	const char *md = tls_kdf_md_name(hash);
	int mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
	OSSL_PARAM p[5];

	if (!md)
		return -EINVAL;
	/* no salt parameter: RFC 5869 then uses HashLen zero bytes, the "0" of the NVMe text */
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	p[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	p[4] = OSSL_PARAM_construct_end();
	return tls_kdf_run(OSSL_KDF_NAME_HKDF, p, out, out_len);
}

int tls_kdf_expand_label(unsigned hash, const uint8_t *secret, size_t secret_len, const char *label,
			 const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	const char *md = tls_kdf_md_name(hash);
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM p[7];

	if (!md)
		return -EINVAL;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	p[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix, sizeof(prefix) - 1);
	p[4] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label));
	p[5] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)(ctx ? ctx : (const uint8_t *)""), ctx_len);
	p[6] = OSSL_PARAM_construct_end();
	return tls_kdf_run(OSSL_KDF_NAME_TLS1_3_KDF, p, out, out_len);
}

int tls_kdf_hmac(unsigned hash, const uint8_t *key, size_t key_len, const void *const *msg,
		 const size_t *msg_len, int n, uint8_t *out)
{
	const char *md = tls_kdf_md_name(hash);
	EVP_MAC *mac = md ? EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL) : NULL;
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t len = 0;
	OSSL_PARAM p[2];
	int ret = -EINVAL;

	if (!md)
		return -EINVAL;
	if (!ctx) {
		ret = -ENOMEM;
		goto out;
	}
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0);
	p[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, key_len, p))
		goto out;
	for (int i = 0; i < n; i++)
		if (!EVP_MAC_update(ctx, msg[i], msg_len[i]))
			goto out;
	if (!EVP_MAC_final(ctx, out, &len, tls_kdf_md_len(hash)))
		goto out;
	ret = (int)len;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ret;
}
