/* SPDX-License-Identifier: MIT */
/* The session's insides, shared by session.c (buffers, records) and handshake.c (context,
 * OpenSSL callbacks, kTLS export). */
#ifndef NVRING_TLS_SESSION_PRIV_H
#define NVRING_TLS_SESSION_PRIV_H

#include <openssl/ssl.h>

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

/* session.c */
BIO_METHOD *tls_bio_method_get(void);
int tls_fail(struct tls_sess *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An OpenSSL failure as the session's errno (session.h lists them). */
int tls_fail_ssl(struct tls_sess *s, int ssl_err);

/* handshake.c */
/* Tie s to its SSL for the callbacks. */
void tls_attach(SSL *ssl, struct tls_sess *s);

#endif
