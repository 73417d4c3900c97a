/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.3 PSK session over memory buffers: OpenSSL's SSL object talks to a BIO of ours whose
 * read side is the session's ciphertext-in buffer (the caller's recv lands there, OpenSSL copies
 * it into its record buffer once) and whose write side appends to the ciphertext-out buffer
 * (the caller sends from there). See session.h for the rules; handshake.c has the context and
 * OpenSSL's callbacks.
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

#include "session_priv.h"

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

BIO_METHOD *tls_bio_method_get(void)
{
	pthread_once(&tls_bio_once, tls_bio_method_init);
	return tls_bio_method;
}

/* ---------------------------------------------------------------- failure */

int tls_fail(struct tls_sess *s, int err, const char *fmt, ...)
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
int tls_fail_ssl(struct tls_sess *s, int ssl_err)
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
	s->bio = BIO_new(tls_bio_method_get());
	if (!s->ssl || !s->bio)
		goto fail;
	BIO_set_data(s->bio, s);
	SSL_set_bio(s->ssl, s->bio, s->bio); /* one reference, for both directions */
	tls_attach(s->ssl, s);
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

