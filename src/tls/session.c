/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.3 PSK session over memory buffers: OpenSSL's SSL object talks to a BIO of ours whose
 * read side is the session's ciphertext-in buffer (the caller's recv lands there, OpenSSL copies
 * it into its record buffer once) and whose write side appends to the ciphertext-out buffer
 * (the caller sends from there). See session.h for the rules.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>

#include "kdf.h"
#include "session.h"

#define TLS_RX_CAP_DEFAULT (128u * 1024)
#define TLS_TX_CAP_DEFAULT (256u * 1024)
#define TLS_TX_RESERVE 4096 /* kept free by writev for OpenSSL's own records (alerts, KeyUpdate) */
#define TLS_REC_HDR 5

struct tls_ctx {
	SSL_CTX *ssl_ctx;
	enum tls_role role;
};

struct tls_sess {
	SSL *ssl;
	BIO *bio;
	enum tls_role role;
	int err;                 /* sticky failure */
	char errmsg[192];
	bool established, peer_closed, eof, sniffed, exact, ktls, exported;
	uint64_t deadline_ns;
	/* ciphertext in: [rx_head, rx_tail) of rx */
	uint8_t *rx;
	size_t rx_cap, rx_head, rx_tail;
	size_t rx_want;          /* bytes OpenSSL asked for and did not get (exact mode) */
	size_t rx_after_hs;      /* ciphertext OpenSSL read after the handshake */
	/* ciphertext out: [tx_head, tx_tail) of tx */
	uint8_t *tx;
	size_t tx_cap, tx_head, tx_tail;
	size_t tx_after_hs;      /* ciphertext OpenSSL wrote after the handshake */
	int alert_rcvd, alert_sent; /* last alerts (description), -1 none */
	/* client */
	char *identity;
	uint8_t psk[TLS_PSK_MAX];
	size_t psk_len;
	/* server */
	tls_psk_lookup_fn lookup;
	void *lookup_arg;
	SSL_SESSION *psk_sess;
	char peer_identity[TLS_IDENTITY_MAX];
	int lookup_err;
	/* kTLS: traffic secrets from the key log */
	uint8_t secret_c[48], secret_s[48];
	size_t secret_len;
	/* writev staging: small pieces gathered into one record */
	uint8_t stage[TLS_RECORD_MAX];
};

static const unsigned char tls_suite_sha256[2] = { 0x13, 0x01 };
static const unsigned char tls_suite_sha384[2] = { 0x13, 0x02 };

/* ---------------------------------------------------------------- BIO over the buffers */

static int tls_bio_write(BIO *b, const char *data, int len)
{
	struct tls_sess *s = BIO_get_data(b);
	size_t n = (size_t)len;

	BIO_clear_retry_flags(b);
	if (s->tx_head == s->tx_tail)
		s->tx_head = s->tx_tail = 0;
	if (s->tx_cap - s->tx_tail < n) {
		BIO_set_retry_write(b);
		return -1;
	}
	memcpy(s->tx + s->tx_tail, data, n);
	s->tx_tail += n;
	if (s->established)
		s->tx_after_hs += n;
	return len;
}

static int tls_bio_read(BIO *b, char *out, int len)
{
	struct tls_sess *s = BIO_get_data(b);
	size_t avail = s->rx_tail - s->rx_head, n = (size_t)len < avail ? (size_t)len : avail;

	BIO_clear_retry_flags(b);
	if (!n) {
		if (s->eof)
			return 0;
		s->rx_want = (size_t)len;
		BIO_set_retry_read(b);
		return -1;
	}
	memcpy(out, s->rx + s->rx_head, n);
	s->rx_head += n;
	s->rx_want = 0;
	if (s->established)
		s->rx_after_hs += n;
	return (int)n;
}

static long tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_sess *s = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return s ? (long)(s->rx_tail - s->rx_head) : 0;
	case BIO_CTRL_WPENDING:
		return s ? (long)(s->tx_tail - s->tx_head) : 0;
	default:
		return 0;
	}
}

static int tls_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *tls_bio_method;
static pthread_once_t tls_bio_once = PTHREAD_ONCE_INIT;

static void tls_bio_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "nvring-tls-buffers");

	if (m && BIO_meth_set_write(m, tls_bio_write) && BIO_meth_set_read(m, tls_bio_read) &&
	    BIO_meth_set_ctrl(m, tls_bio_ctrl) && BIO_meth_set_create(m, tls_bio_create))
		tls_bio_method = m;
	else
		BIO_meth_free(m);
}

/* ---------------------------------------------------------------- failure */

static int tls_fail(struct tls_sess *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int tls_fail(struct tls_sess *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->err)
		return s->err;
	s->err = err;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return err;
}

static int tls_fail_alert_rcvd(struct tls_sess *s)
{
	const char *name = SSL_alert_desc_string_long(s->alert_rcvd);

	switch (s->alert_rcvd) {
	case SSL_AD_CLOSE_NOTIFY:
		return tls_fail(s, -ECONNRESET, "peer closed the TLS session during the handshake");
	case SSL_AD_UNKNOWN_PSK_IDENTITY:
	case SSL_AD_HANDSHAKE_FAILURE:
		return tls_fail(s, -ENOKEY, "peer sent alert \"%s\": it has no PSK for our identity", name);
	case SSL_AD_DECRYPT_ERROR:
	case SSL_AD_BAD_RECORD_MAC:
	case SSL_AD_ILLEGAL_PARAMETER: /* OpenSSL's answer to a binder that does not verify */
		return tls_fail(s, -EKEYREJECTED, "peer sent alert \"%s\": our PSK is not the one it has", name);
	case SSL_AD_PROTOCOL_VERSION:
		return tls_fail(s, -EPROTONOSUPPORT, "peer sent alert \"%s\": it does not do TLS 1.3", name);
	default:
		return tls_fail(s, -ECONNABORTED, "peer sent alert \"%s\"", name);
	}
}

/* Turn an OpenSSL failure into the session's errno (session.h lists them). */
static int tls_fail_ssl(struct tls_sess *s, int ssl_err)
{
	unsigned long e = ERR_peek_error();
	int reason = ERR_GET_REASON(e);
	char buf[128];

	if (s->err)
		return s->err;
	if (s->alert_rcvd >= 0)
		return tls_fail_alert_rcvd(s);
	if (s->lookup_err)
		return tls_fail(s, s->lookup_err, "no PSK for the identity the client offered (%s)",
				s->peer_identity[0] ? s->peer_identity : "none offered");
	if (ssl_err == SSL_ERROR_ZERO_RETURN || (ERR_GET_LIB(e) == ERR_LIB_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
	    (!e && s->eof))
		return tls_fail(s, -ECONNRESET, s->established ? "connection closed in the middle of a TLS record"
							       : "connection closed during the TLS handshake");
	if (ERR_GET_LIB(e) == ERR_LIB_SSL) {
		switch (reason) {
		case SSL_R_BINDER_DOES_NOT_VERIFY:
		case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
			return tls_fail(s, -EKEYREJECTED, "the peer's PSK is not ours (%s)", ERR_reason_error_string(e));
		case SSL_R_WRONG_VERSION_NUMBER:
		case SSL_R_UNSUPPORTED_PROTOCOL:
		case SSL_R_UNKNOWN_PROTOCOL:
		case SSL_R_PACKET_LENGTH_TOO_LONG:
		case SSL_R_HTTP_REQUEST:
			return tls_fail(s, -EPROTONOSUPPORT, "peer does not speak TLS 1.3 (%s)", ERR_reason_error_string(e));
		default:
			break;
		}
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	return tls_fail(s, -EPROTO, "TLS failure: %s", e ? buf : "unknown");
}

/* ---------------------------------------------------------------- OpenSSL callbacks */

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
	pthread_once(&tls_bio_once, tls_bio_method_init);
	if (!ctx || tls_sess_index < 0 || !tls_bio_method)
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

/* ---------------------------------------------------------------- session */

int tls_sess_new(struct tls_ctx *ctx, const struct tls_sess_opts *o, struct tls_sess **out)
{
	struct tls_sess *s;
	int ret = -ENOMEM;

	*out = NULL;
	if (!ctx || !o)
		return -EINVAL;
	if (ctx->role == TLS_ROLE_CLIENT &&
	    (!o->identity || !o->psk || (o->psk_len != 32 && o->psk_len != 48) || strlen(o->identity) >= TLS_IDENTITY_MAX))
		return -EINVAL;
	if (ctx->role == TLS_ROLE_SERVER && !o->lookup)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->role = ctx->role;
	s->alert_rcvd = s->alert_sent = -1;
	s->deadline_ns = o->deadline_ns;
	s->ktls = s->exact = o->ktls;
	s->rx_cap = o->rx_cap ? o->rx_cap : TLS_RX_CAP_DEFAULT;
	s->tx_cap = o->tx_cap ? o->tx_cap : TLS_TX_CAP_DEFAULT;
	if (s->rx_cap < 2 * (TLS_RECORD_MAX + 256) || s->tx_cap < TLS_RECORD_MAX + TLS_TX_RESERVE + 256) {
		ret = -EINVAL;
		goto fail;
	}
	s->rx = malloc(s->rx_cap);
	s->tx = malloc(s->tx_cap);
	if (!s->rx || !s->tx)
		goto fail;
	if (ctx->role == TLS_ROLE_CLIENT) {
		s->identity = strdup(o->identity);
		if (!s->identity)
			goto fail;
		memcpy(s->psk, o->psk, o->psk_len);
		s->psk_len = o->psk_len;
	} else {
		s->lookup = o->lookup;
		s->lookup_arg = o->lookup_arg;
	}
	s->ssl = SSL_new(ctx->ssl_ctx);
	s->bio = BIO_new(tls_bio_method);
	if (!s->ssl || !s->bio)
		goto fail;
	BIO_set_data(s->bio, s);
	SSL_set_bio(s->ssl, s->bio, s->bio); /* one reference, for both directions */
	SSL_set_ex_data(s->ssl, tls_sess_index, s);
	if (ctx->role == TLS_ROLE_CLIENT) {
		if (!SSL_set_ciphersuites(s->ssl, o->psk_len == 48 ? "TLS_AES_256_GCM_SHA384" : "TLS_AES_128_GCM_SHA256"))
			goto fail;
		SSL_set_connect_state(s->ssl);
	} else {
		SSL_set_accept_state(s->ssl);
	}
	/* exact reads (kTLS): no read-ahead, so OpenSSL asks for record header, then body */
	SSL_set_read_ahead(s->ssl, !s->exact);
	*out = s;
	return 0;
fail:
	tls_sess_free(s);
	return ret;
}

void tls_sess_free(struct tls_sess *s)
{
	if (!s)
		return;
	SSL_free(s->ssl); /* frees the BIO references it holds */
	if (!s->ssl)
		BIO_free(s->bio);
	SSL_SESSION_free(s->psk_sess);
	free(s->identity);
	OPENSSL_cleanse(s->psk, sizeof(s->psk));
	OPENSSL_cleanse(s->secret_c, sizeof(s->secret_c));
	OPENSSL_cleanse(s->secret_s, sizeof(s->secret_s));
	OPENSSL_cleanse(s->stage, sizeof(s->stage));
	free(s->rx);
	free(s->tx);
	free(s);
}

int tls_sess_err(const struct tls_sess *s)
{
	return s->err;
}

const char *tls_sess_error(const struct tls_sess *s)
{
	return s->errmsg;
}

/* ---------------------------------------------------------------- buffers */

/* What a peer's first byte must be: a handshake record (or, from a server, an alert). */
static void tls_sniff_first(struct tls_sess *s)
{
	uint8_t b = s->rx[s->rx_head];

	s->sniffed = true;
	if (b == SSL3_RT_HANDSHAKE || (b == SSL3_RT_ALERT && s->role == TLS_ROLE_CLIENT))
		return;
	if (b <= 0x09)
		tls_fail(s, -EPROTONOSUPPORT, "peer does not speak TLS: first byte 0x%02x looks like a plaintext "
			 "NVMe/TCP PDU", b);
	else
		tls_fail(s, -EPROTONOSUPPORT, "peer does not speak TLS: first byte 0x%02x", b);
	if (s->role == TLS_ROLE_SERVER && s->tx_tail + 7 <= s->tx_cap) {
		/* a plaintext fatal alert (unexpected_message): lets a host tell "TLS required" */
		static const uint8_t alert[7] = { SSL3_RT_ALERT, 3, 3, 0, 2, SSL3_AL_FATAL, SSL_AD_UNEXPECTED_MESSAGE };

		memcpy(s->tx + s->tx_tail, alert, sizeof(alert));
		s->tx_tail += sizeof(alert);
	}
}

uint8_t *tls_sess_rx_buf(struct tls_sess *s, size_t *len)
{
	size_t used = s->rx_tail - s->rx_head, room;

	if (!used) {
		s->rx_head = s->rx_tail = 0;
	} else if (s->rx_cap - s->rx_tail < s->rx_cap / 4) {
		/* no receive in flight now: slide the unread part to the front */
		memmove(s->rx, s->rx + s->rx_head, used);
		s->rx_head = 0;
		s->rx_tail = used;
	}
	room = s->rx_cap - s->rx_tail;
	if (s->exact && !s->exported) {
		/* never beyond the record OpenSSL is reading: the rest belongs to the kernel */
		size_t want = s->rx_want ? s->rx_want : TLS_REC_HDR;

		want = want > used ? want - used : 0;
		if (s->established)
			want = 0;
		room = room < want ? room : want;
	}
	*len = s->err ? 0 : room;
	return s->rx + s->rx_tail;
}

void tls_sess_rx_commit(struct tls_sess *s, size_t n)
{
	if (n > s->rx_cap - s->rx_tail)
		n = s->rx_cap - s->rx_tail;
	s->rx_tail += n;
	if (n && !s->sniffed)
		tls_sniff_first(s);
}

size_t tls_sess_feed(struct tls_sess *s, const void *ct, size_t n)
{
	size_t room, done = 0;

	while (done < n) {
		uint8_t *p = tls_sess_rx_buf(s, &room);

		if (!room)
			break;
		if (room > n - done)
			room = n - done;
		memcpy(p, (const uint8_t *)ct + done, room);
		tls_sess_rx_commit(s, room);
		done += room;
		if (s->exact)
			break; /* one piece at a time: OpenSSL must ask for the next */
	}
	return done;
}

void tls_sess_rx_eof(struct tls_sess *s)
{
	s->eof = true;
}

const uint8_t *tls_sess_tx_peek(const struct tls_sess *s, size_t *len)
{
	*len = s->tx_tail - s->tx_head;
	return s->tx + s->tx_head;
}

void tls_sess_tx_consume(struct tls_sess *s, size_t n)
{
	size_t left;

	if (n > s->tx_tail - s->tx_head)
		n = s->tx_tail - s->tx_head;
	s->tx_head += n;
	left = s->tx_tail - s->tx_head;
	if (!left) {
		s->tx_head = s->tx_tail = 0;
	} else if (s->tx_head > s->tx_cap / 2) {
		/* nothing in flight at consume time: the caller peeks again */
		memmove(s->tx, s->tx + s->tx_head, left);
		s->tx_head = 0;
		s->tx_tail = left;
	}
}

/* ---------------------------------------------------------------- handshake */

bool tls_sess_expired(struct tls_sess *s, uint64_t now_ns)
{
	if (s->established || !s->deadline_ns || now_ns < s->deadline_ns)
		return false;
	tls_fail(s, -ETIMEDOUT, "TLS handshake not done by its deadline");
	return true;
}

bool tls_sess_established(const struct tls_sess *s)
{
	return s->established && !s->err;
}

unsigned tls_sess_hash(const struct tls_sess *s)
{
	const SSL_CIPHER *c = s->established ? SSL_get_current_cipher(s->ssl) : NULL;

	if (!c)
		return 0;
	return (SSL_CIPHER_get_id(c) & 0xffff) == 0x1302 ? 2 : 1;
}

const char *tls_sess_identity(const struct tls_sess *s)
{
	return s->role == TLS_ROLE_SERVER ? s->peer_identity : s->identity;
}

int tls_sess_handshake(struct tls_sess *s)
{
	int r;

	if (s->err)
		return s->err;
	if (s->established)
		return 0;
	ERR_clear_error();
	r = SSL_do_handshake(s->ssl);
	if (r == 1) {
		/* only ever a PSK handshake: never a certificate-authenticated one */
		if (!SSL_session_reused(s->ssl))
			return tls_fail(s, -EKEYREJECTED, "the TLS session was not established with the PSK");
		s->established = true;
		return 0;
	}
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		if (s->eof)
			return tls_fail_ssl(s, SSL_ERROR_ZERO_RETURN);
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	default:
		return tls_fail_ssl(s, SSL_get_error(s->ssl, r));
	}
}

/* ---------------------------------------------------------------- application data */

/* A received KeyUpdate that asks for ours would wait for our next write: answer now. */
static void tls_answer_key_update(struct tls_sess *s)
{
	if (SSL_get_key_update_type(s->ssl) == SSL_KEY_UPDATE_NONE)
		return;
	/* OpenSSL 3.0 only marks it pending; this puts the state machine in motion */
	if (SSL_key_update(s->ssl, SSL_KEY_UPDATE_NOT_REQUESTED))
		SSL_do_handshake(s->ssl);
}

static size_t tls_tx_room(const struct tls_sess *s)
{
	size_t tail = s->tx_head == s->tx_tail ? 0 : s->tx_tail;
	size_t room = s->tx_cap - tail;

	return room > TLS_TX_RESERVE ? room - TLS_TX_RESERVE : 0;
}

static size_t tls_ct_len(size_t n)
{
	return n + (n + TLS_RECORD_MAX - 1) / TLS_RECORD_MAX * TLS_RECORD_OVERHEAD;
}

/* One SSL_write of n bytes that tx has room for. */
static int tls_write(struct tls_sess *s, const void *p, size_t n)
{
	const uint8_t *b = p;

	/* partial-write mode: each call returns after one or more whole records */
	while (n) {
		size_t done = 0;

		ERR_clear_error();
		if (!SSL_write_ex(s->ssl, b, n, &done))
			return tls_fail_ssl(s, SSL_get_error(s->ssl, 0));
		b += done;
		n -= done;
	}
	return 0;
}

ssize_t tls_sess_writev(struct tls_sess *s, const struct iovec *iov, int iovcnt)
{
	size_t taken = 0, staged = 0;
	int ret;

	if (s->err)
		return s->err;
	if (!s->established || s->exported)
		return -ENOTCONN;
	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left) {
			size_t n;

			if (!staged && left >= TLS_RECORD_MAX) {
				/* whole records straight from the caller's memory */
				n = left / TLS_RECORD_MAX * TLS_RECORD_MAX;
				while (n && tls_ct_len(n) > tls_tx_room(s))
					n -= TLS_RECORD_MAX;
				if (!n)
					goto out;
				ret = tls_write(s, p, n);
				if (ret)
					return taken ? (ssize_t)taken : ret;
				taken += n;
			} else {
				n = TLS_RECORD_MAX - staged < left ? TLS_RECORD_MAX - staged : left;
				memcpy(s->stage + staged, p, n);
				staged += n;
				if (staged == TLS_RECORD_MAX) {
					if (tls_ct_len(staged) > tls_tx_room(s))
						goto out;
					ret = tls_write(s, s->stage, staged);
					if (ret)
						return taken ? (ssize_t)taken : ret;
					taken += staged;
					staged = 0;
				}
			}
			p += n;
			left -= n;
		}
	}
	if (staged && tls_ct_len(staged) <= tls_tx_room(s)) {
		ret = tls_write(s, s->stage, staged);
		if (ret)
			return taken ? (ssize_t)taken : ret;
		taken += staged;
	}
out:
	/* staged bytes that found no room are not taken: the caller offers them again */
	return (ssize_t)taken;
}

ssize_t tls_sess_read(struct tls_sess *s, void *buf, size_t len)
{
	size_t n = 0;
	int r, e;

	if (s->err)
		return s->err;
	if (s->peer_closed)
		return 0;
	if (!s->established || s->exported)
		return -ENOTCONN;
	ERR_clear_error();
	r = SSL_read_ex(s->ssl, buf, len, &n);
	if (r) {
		tls_answer_key_update(s);
		return (ssize_t)n;
	}
	e = SSL_get_error(s->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		tls_answer_key_update(s);
		if (s->eof)
			return tls_fail_ssl(s, SSL_ERROR_ZERO_RETURN);
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		s->peer_closed = true;
		return 0;
	default:
		if (s->alert_rcvd >= 0 && s->alert_rcvd != SSL_AD_CLOSE_NOTIFY)
			return tls_fail(s, -ECONNABORTED, "peer sent alert \"%s\"",
					SSL_alert_desc_string_long(s->alert_rcvd));
		return tls_fail_ssl(s, e);
	}
}

int tls_sess_key_update(struct tls_sess *s, bool peer_too)
{
	if (s->err)
		return s->err;
	if (!s->established || s->exported)
		return -ENOTCONN;
	if (tls_tx_room(s) < 64)
		return -EAGAIN;
	ERR_clear_error();
	if (!SSL_key_update(s->ssl, peer_too ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED))
		return tls_fail_ssl(s, SSL_ERROR_SSL);
	if (SSL_do_handshake(s->ssl) != 1)
		return tls_fail_ssl(s, SSL_get_error(s->ssl, 0));
	return 0;
}

int tls_sess_shutdown(struct tls_sess *s)
{
	if (!s->established || s->exported)
		return -ENOTCONN;
	ERR_clear_error();
	if (SSL_shutdown(s->ssl) < 0)
		return tls_fail_ssl(s, SSL_ERROR_SSL);
	return 0;
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
