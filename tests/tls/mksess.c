/* SPDX-License-Identifier: MIT */
/*
 * mksess HEX_PSK > session.pem: an OpenSSL SSL_SESSION holding an external TLS 1.3 PSK, for
 * s_server/s_client -psk_session. Their plain -psk always pairs the key with
 * TLS_AES_128_GCM_SHA256; a 48-byte PSK needs TLS_AES_256_GCM_SHA384, which only a session
 * can carry. Test tooling: the peers stay OpenSSL's own programs.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

int main(int argc, char **argv)
{
	static const unsigned char sha256[2] = { 0x13, 0x01 }, sha384[2] = { 0x13, 0x02 };
	unsigned char key[64];
	size_t n = argc == 2 ? strlen(argv[1]) / 2 : 0;
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	SSL_SESSION *s = SSL_SESSION_new();
	const SSL_CIPHER *c;

	if ((n != 32 && n != 48) || !ssl || !s) {
		fprintf(stderr, "usage: mksess HEX_PSK (32 or 48 bytes)\n");
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		if (sscanf(argv[1] + 2 * i, "%2hhx", &key[i]) != 1)
			return 2;
	c = SSL_CIPHER_find(ssl, n == 48 ? sha384 : sha256);
	if (!c || !SSL_SESSION_set1_master_key(s, key, n) || !SSL_SESSION_set_cipher(s, c) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) || !PEM_write_SSL_SESSION(stdout, s))
		return 1;
	SSL_SESSION_free(s);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return 0;
}
