/* SPDX-License-Identifier: MIT */
/*
 * A TLS 1.3 PSK session over memory buffers (OpenSSL 3), for an io_uring-driven, non-blocking
 * connection: the session never touches a socket. The caller
 *   - receives ciphertext into tls_sess_rx_buf() and reports it with tls_sess_rx_commit(),
 *   - sends what tls_sess_tx_peek() shows and reports it with tls_sess_tx_consume(),
 *   - drives tls_sess_handshake() until 0, then moves plaintext with tls_sess_writev() /
 *     tls_sess_read(),
 * and after every call looks at tx_peek: OpenSSL may have produced records (handshake flights,
 * alerts, a KeyUpdate answer) at any time. One receive and one send in flight at most:
 *   - the rx_buf pointer is valid until the next rx_commit,
 *   - bytes shown by tx_peek stay in place until consumed, even while writev appends;
 *     call tx_peek again after tx_consume.
 * Only TLS 1.3, only external PSKs (no certificates), TLS_AES_128_GCM_SHA256 for 32-byte PSKs
 * (NVMe hash 01) and TLS_AES_256_GCM_SHA384 for 48-byte PSKs (02), PSK with (EC)DHE key
 * exchange, no session tickets, no early data.
 *
 * Errors (negative errno), also kept as the session's state:
 *   -EAGAIN          nothing to do until more ciphertext arrives (or tx is drained)
 *   -EPROTONOSUPPORT the peer does not speak TLS (e.g. plaintext NVMe/TCP), or TLS < 1.3
 *   -ENOKEY          the identity is unknown (server lookup failed / peer said so)
 *   -EKEYREJECTED    the PSKs differ (binder or record authentication failed)
 *   -ETIMEDOUT       the handshake deadline passed (tls_sess_expired)
 *   -ECONNRESET      the transport ended mid-handshake or mid-record, or before close_notify
 *   -ECONNABORTED    the peer sent another fatal alert
 *   -EPROTO          malformed TLS
 * tls_sess_error() has the detail in words.
 */
#ifndef NVRING_TLS_SESSION_H
#define NVRING_TLS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "tls/psk.h"

#define TLS_RECORD_MAX 16384   /* plaintext bytes of one record */
#define TLS_RECORD_OVERHEAD 22 /* header 5, inner content type 1, AES-GCM tag 16 */

enum tls_role { TLS_ROLE_CLIENT, TLS_ROLE_SERVER };

/* Server: the TLS PSK for an identity a client offered (NUL-terminated copy). Returns its length,
 * 32 or 48 (which also picks the cipher suite), or -errno (-ENOKEY: unknown identity). */
typedef int (*tls_psk_lookup_fn)(void *arg, const char *identity, size_t len, uint8_t psk[TLS_PSK_MAX]);

/* One SSL_CTX per role, shared by any number of sessions and threads. */
struct tls_ctx;
struct tls_ctx *tls_ctx_new(enum tls_role role);
void tls_ctx_free(struct tls_ctx *ctx);

struct tls_sess_opts {
	/* client */
	const char *identity;
	const uint8_t *psk;
	size_t psk_len; /* 32 or 48 */
	/* server */
	tls_psk_lookup_fn lookup;
	void *lookup_arg;
	/* both */
	uint64_t deadline_ns; /* CLOCK_MONOTONIC handshake deadline; 0 = none */
	/* The connection will move to kernel TLS: read no ciphertext past the last handshake
	 * record (rx_buf offers exactly what OpenSSL asks for) and keep the traffic secrets. */
	bool ktls;
	size_t rx_cap, tx_cap; /* buffer sizes; 0 = 128 KiB / 256 KiB */
};

struct tls_sess;
int tls_sess_new(struct tls_ctx *ctx, const struct tls_sess_opts *o, struct tls_sess **out);
void tls_sess_free(struct tls_sess *s);

/* ---- ciphertext in */
/* Room for received ciphertext: *len bytes at the pointer (0 if none is wanted right now). */
uint8_t *tls_sess_rx_buf(struct tls_sess *s, size_t *len);
void tls_sess_rx_commit(struct tls_sess *s, size_t n);
/* The same by copying (tests, non-socket users). Returns bytes taken. */
size_t tls_sess_feed(struct tls_sess *s, const void *ct, size_t n);
/* The transport reached EOF: later reads report truncation (-ECONNRESET) or close (0). */
void tls_sess_rx_eof(struct tls_sess *s);

/* ---- ciphertext out */
const uint8_t *tls_sess_tx_peek(const struct tls_sess *s, size_t *len);
void tls_sess_tx_consume(struct tls_sess *s, size_t n);

/* ---- handshake */
/* 0 when established, -EAGAIN while in progress, or the failure (an alert may wait in tx). */
int tls_sess_handshake(struct tls_sess *s);
/* Past the deadline without an established session: fails the session with -ETIMEDOUT. */
bool tls_sess_expired(struct tls_sess *s, uint64_t now_ns);
bool tls_sess_established(const struct tls_sess *s);
/* The negotiated suite's NVMe hash (1 or 2), 0 before the handshake. */
unsigned tls_sess_hash(const struct tls_sess *s);
/* Server: the identity the client was accepted with ("" before). */
const char *tls_sess_identity(const struct tls_sess *s);

/* ---- application data */
/* Encrypt plaintext gathered from iov: small pieces share records (up to TLS_RECORD_MAX each),
 * long runs go to OpenSSL directly. Returns the plaintext bytes taken, less than offered when tx
 * is full (send, consume, call again with the rest), or -errno. */
ssize_t tls_sess_writev(struct tls_sess *s, const struct iovec *iov, int iovcnt);
/* Decrypted application data (at most one record per call): > 0 bytes, -EAGAIN (needs more
 * ciphertext), 0 after the peer's close_notify, or -errno. Read until -EAGAIN before waiting
 * for the socket again, also right after the handshake: records may be buffered already. */
ssize_t tls_sess_read(struct tls_sess *s, void *buf, size_t len);

/* KeyUpdate: new sending keys; with peer_too the peer is asked to update its keys as well. */
int tls_sess_key_update(struct tls_sess *s, bool peer_too);
/* Send close_notify (into tx). */
int tls_sess_shutdown(struct tls_sess *s);

/* The failure (negative errno, 0 while none) and in words ("" while none). */
int tls_sess_err(const struct tls_sess *s);
const char *tls_sess_error(const struct tls_sess *s);

/* ---- kernel TLS hand-off */
struct tls_ktls_keys {
	uint16_t cipher;  /* TLS_CIPHER_AES_GCM_128 (51) or TLS_CIPHER_AES_GCM_256 (52) */
	uint8_t key_len;  /* 16 or 32 */
	uint8_t key[32];
	uint8_t iv[12];   /* the static IV; the kernel takes salt = iv[0..3], iv = iv[4..11] */
	uint64_t seq;     /* next record sequence number */
};
/* Right after the handshake of a session opened with opts.ktls: the keys of both directions
 * (traffic secrets from OpenSSL's key log, key/iv by HKDF-Expand-Label). -EBUSY once anything
 * moved past the handshake (the kernel would start at the wrong record), -EINVAL without ktls.
 * The secrets are wiped afterwards. */
int tls_sess_ktls_export(struct tls_sess *s, struct tls_ktls_keys *tx, struct tls_ktls_keys *rx);
/* Stay in userspace after all (the kernel has no TLS): read ahead freely from now on. */
void tls_sess_ktls_decline(struct tls_sess *s);

/* First bytes of a connection: 1 a TLS ClientHello record, 0 something else (NVMe/TCP ICReq),
 * -EAGAIN too few bytes to tell. For ports that take both (TREQ "not required"). */
int tls_sniff_client_hello(const uint8_t *p, size_t n);

#endif
