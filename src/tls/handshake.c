/* SPDX-License-Identifier: MIT */
/*
 * The PSK handshake's plumbing: the SSL_CTX (TLS 1.3 only, the two suites, no tickets, no
 * certificates), OpenSSL's callbacks (client: offer the PSK; server: find the identity's PSK in
 * the ClientHello and pick the suite of its hash; alerts; the key log for kTLS) and the kTLS
 * key export.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>

#include "session_priv.h"

static const unsigned char tls_suite_sha256[2] = { 0x13, 0x01 };
static const unsigned char tls_suite_sha384[2] = { 0x13, 0x02 };

static int tls_sess_index = -1;
static pthread_once_t tls_index_once = PTHREAD_ONCE_INIT;

static void tls_index_init(void)
{
	tls_sess_index = SSL_get_ex_new_index(0, "nvring tls_sess", NULL, NULL, NULL);
}

static struct tls_sess *tls_of(const SSL *ssl)
{
	return SSL_get_ex_data(ssl, tls_sess_index);
}

void tls_attach(SSL *ssl, struct tls_sess *s)
{
	SSL_set_ex_data(ssl, tls_sess_index, s);
}

static void tls_info_cb(const SSL *ssl, int where, int ret)
{
	struct tls_sess *s = tls_of(ssl);

	if (!s || !(where & SSL_CB_ALERT))
		return;
	if (where & SSL_CB_READ)
		s->alert_rcvd = ret & 0xff;
	else
		s->alert_sent = ret & 0xff;
}

static int tls_hex(const char *p, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(p + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* "CLIENT_TRAFFIC_SECRET_0 <random> <secret>": the application secrets kTLS needs. */
static void tls_keylog_cb(const SSL *ssl, const char *line)
{
	struct tls_sess *s = tls_of(ssl);
	uint8_t *dst = NULL;
	const char *sp;
	size_t hexlen;

	if (!s || !s->ktls)
		return;
	if (!strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24))
		dst = s->secret_c;
	else if (!strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24))
		dst = s->secret_s;
	sp = dst ? strchr(line + 24, ' ') : NULL;
	if (!sp)
		return;
	hexlen = strlen(sp + 1);
	if ((hexlen != 64 && hexlen != 96) || tls_hex(sp + 1, hexlen / 2, dst))
		return;
	s->secret_len = hexlen / 2;
}

static SSL_SESSION *tls_psk_session(SSL *ssl, const uint8_t *psk, size_t len)
{
	const SSL_CIPHER *c = SSL_CIPHER_find(ssl, len == 48 ? tls_suite_sha384 : tls_suite_sha256);
	SSL_SESSION *sess = c ? SSL_SESSION_new() : NULL;

	if (!sess)
		return NULL;
	if (!SSL_SESSION_set1_master_key(sess, psk, len) || !SSL_SESSION_set_cipher(sess, c) ||
	    !SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION)) {
		SSL_SESSION_free(sess);
		return NULL;
	}
	return sess;
}

static int tls_use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
			      SSL_SESSION **sess)
{
	struct tls_sess *s = tls_of(ssl);
	SSL_SESSION *p;

	*sess = NULL;
	if (!s)
		return 0;
	p = tls_psk_session(ssl, s->psk, s->psk_len);
	if (!p)
		return 0;
	if (md && !EVP_MD_is_a(md, EVP_MD_get0_name(SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(p))))) {
		SSL_SESSION_free(p); /* after a HelloRetryRequest for a suite of another hash */
		return 1;
	}
	*id = (const unsigned char *)s->identity;
	*idlen = strlen(s->identity);
	*sess = p;
	return 1;
}

/* The identities of a ClientHello's pre_shared_key extension, in order (RFC 8446 §4.2.11). */
static int tls_hello_identity(const unsigned char *ext, size_t len, size_t idx, const unsigned char **id,
			      size_t *idlen)
{
	size_t total, off = 2;

	if (len < 2)
		return -EPROTO;
	total = (size_t)ext[0] << 8 | ext[1];
	if (total + 2 > len)
		return -EPROTO;
	for (size_t i = 0; off + 2 <= 2 + total; i++) {
		size_t l = (size_t)ext[off] << 8 | ext[off + 1];

		if (off + 2 + l + 4 > 2 + total)
			return -EPROTO;
		if (i == idx) {
			*id = ext + off + 2;
			*idlen = l;
			return 0;
		}
		off += 2 + l + 4;
	}
	return -ENOENT;
}

/*
 * Server, before the suite is chosen: find the PSK for the identity offered and restrict the
 * suites to the one of its hash (a client may offer both suites with a SHA-384 PSK).
 */
static int tls_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct tls_sess *s = tls_of(ssl);
	const unsigned char *ext, *id;
	size_t extlen, idlen;
	uint8_t psk[TLS_PSK_MAX];
	int n = -ENOKEY;

	(void)arg;
	if (!s)
		return SSL_CLIENT_HELLO_ERROR;
	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk, &ext, &extlen)) {
		s->lookup_err = -ENOKEY;
		*al = SSL_AD_HANDSHAKE_FAILURE;
		return SSL_CLIENT_HELLO_ERROR;
	}
	for (size_t i = 0; tls_hello_identity(ext, extlen, i, &id, &idlen) == 0; i++) {
		if (idlen >= sizeof(s->peer_identity) || memchr(id, 0, idlen))
			continue;
		memcpy(s->peer_identity, id, idlen);
		s->peer_identity[idlen] = 0;
		n = s->lookup(s->lookup_arg, s->peer_identity, idlen, psk);
		if (n == 32 || n == 48)
			break;
		if (n >= 0)
			n = -EINVAL; /* not a TLS PSK length */
	}
	if (n < 0) {
		s->lookup_err = n;
		*al = SSL_AD_UNKNOWN_PSK_IDENTITY;
		return SSL_CLIENT_HELLO_ERROR;
	}
	s->psk_sess = tls_psk_session(ssl, psk, (size_t)n);
	OPENSSL_cleanse(psk, sizeof(psk));
	if (!s->psk_sess ||
	    !SSL_set_ciphersuites(ssl, n == 48 ? "TLS_AES_256_GCM_SHA384" : "TLS_AES_128_GCM_SHA256")) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

static int tls_find_session_cb(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
	struct tls_sess *s = tls_of(ssl);

	*sess = NULL;
	if (s && s->psk_sess && idlen == strlen(s->peer_identity) && !memcmp(id, s->peer_identity, idlen)) {
		SSL_SESSION_up_ref(s->psk_sess);
		*sess = s->psk_sess;
	}
	return 1;
}

/* ---------------------------------------------------------------- context */

struct tls_ctx *tls_ctx_new(enum tls_role role)
{
	struct tls_ctx *ctx = calloc(1, sizeof(*ctx));
	SSL_CTX *c;

	pthread_once(&tls_index_once, tls_index_init);
	if (!ctx || tls_sess_index < 0 || !tls_bio_method_get())
		goto fail;
	c = SSL_CTX_new(role == TLS_ROLE_SERVER ? TLS_server_method() : TLS_client_method());
	if (!c)
		goto fail;
	ctx->ssl_ctx = c;
	ctx->role = role;
	if (!SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) || !SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(c, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"))
		goto fail;
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(c, 0);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_info_callback(c, tls_info_cb);
	SSL_CTX_set_keylog_callback(c, tls_keylog_cb);
	if (role == TLS_ROLE_SERVER) {
		/* PSK "sessions" resume under a session id context */
		if (!SSL_CTX_set_session_id_context(c, (const unsigned char *)"nvring", 6))
			goto fail;
		SSL_CTX_set_client_hello_cb(c, tls_hello_cb, NULL);
		SSL_CTX_set_psk_find_session_callback(c, tls_find_session_cb);
	} else {
		/* no certificate is ever acceptable: a server that falls back to one fails verification */
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_psk_use_session_callback(c, tls_use_session_cb);
	}
	return ctx;
fail:
	tls_ctx_free(ctx);
	return NULL;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

/* ---------------------------------------------------------------- kernel TLS */

static int tls_ktls_dir(unsigned hash, const uint8_t *secret, size_t len, struct tls_ktls_keys *k)
{
	int ret;

	memset(k, 0, sizeof(*k));
	k->key_len = hash == 2 ? 32 : 16;
	k->cipher = hash == 2 ? 52 : 51; /* TLS_CIPHER_AES_GCM_256 / _128 of <linux/tls.h> */
	ret = tls_kdf_expand_label(hash, secret, len, "key", NULL, 0, k->key, k->key_len);
	if (!ret)
		ret = tls_kdf_expand_label(hash, secret, len, "iv", NULL, 0, k->iv, sizeof(k->iv));
	return ret;
}

int tls_sess_ktls_export(struct tls_sess *s, struct tls_ktls_keys *tx, struct tls_ktls_keys *rx)
{
	unsigned hash = tls_sess_hash(s);
	const uint8_t *mine = s->role == TLS_ROLE_CLIENT ? s->secret_c : s->secret_s;
	const uint8_t *theirs = s->role == TLS_ROLE_CLIENT ? s->secret_s : s->secret_c;
	int ret;

	if (s->err)
		return s->err;
	if (!s->ktls || s->exported)
		return -EINVAL;
	if (!s->established)
		return -ENOTCONN;
	if (s->rx_after_hs || s->tx_after_hs || s->rx_tail != s->rx_head)
		return -EBUSY;
	if (s->secret_len != tls_kdf_md_len(hash))
		return -ENOKEY;
	ret = tls_ktls_dir(hash, mine, s->secret_len, tx);
	if (!ret)
		ret = tls_ktls_dir(hash, theirs, s->secret_len, rx);
	OPENSSL_cleanse(s->secret_c, sizeof(s->secret_c));
	OPENSSL_cleanse(s->secret_s, sizeof(s->secret_s));
	if (ret) {
		OPENSSL_cleanse(tx, sizeof(*tx));
		OPENSSL_cleanse(rx, sizeof(*rx));
		return ret;
	}
	s->exported = true;
	return 0;
}

void tls_sess_ktls_decline(struct tls_sess *s)
{
	s->exact = s->ktls = false;
	OPENSSL_cleanse(s->secret_c, sizeof(s->secret_c));
	OPENSSL_cleanse(s->secret_s, sizeof(s->secret_s));
	s->secret_len = 0;
	SSL_set_read_ahead(s->ssl, 1);
}

int tls_sniff_client_hello(const uint8_t *p, size_t n)
{
	if (!n)
		return -EAGAIN;
	if (p[0] != SSL3_RT_HANDSHAKE)
		return 0;
	if (n < 6)
		return -EAGAIN;
	/* record version 3.x and a ClientHello inside */
	return p[1] == 3 && p[5] == SSL3_MT_CLIENT_HELLO ? 1 : 0;
}
