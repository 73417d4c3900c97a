/* SPDX-License-Identifier: MIT */
/*
 * Kernel TLS hand-off: after a userspace handshake (session.h with opts.ktls), the kernel's
 * `tls` ULP encrypts and decrypts records, so the data path stays plain sendmsg/recvmsg.
 *
 * What the kernel does not do here: non-data records. On send, an alert (or any non-data
 * record) needs a TLS_SET_RECORD_TYPE cmsg. On receive, recvmsg stops at record-type
 * boundaries and reports a non-data record's type in a TLS_GET_RECORD_TYPE cmsg (always give
 * recvmsg a control buffer: without one such a record fails with EIO). Kernel 6.1 hands a
 * peer's KeyUpdate (handshake record 24) up this way and cannot take new receive keys: the
 * peer's next record would fail to decrypt (EBADMSG), so tls_ktls_control_record() makes it a
 * clean -EOPNOTSUPP. NewSessionTicket (4) is ignored, close_notify is end of stream, any other
 * alert is fatal.
 */
#ifndef NVRING_TLS_KTLS_H
#define NVRING_TLS_KTLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tls/session.h"

#define TLS_KTLS_CMSG_SPACE CMSG_SPACE(sizeof(unsigned char))
#define TLS_RT_ALERT 21
#define TLS_RT_HANDSHAKE 22
#define TLS_RT_DATA 23

/* setsockopt(TCP_ULP, "tls") on a connected TCP socket: 0, -ENOENT without the tls module. */
int tls_ktls_attach(int fd);
/* TLS_TX or TLS_RX (dir = TLS_TX / TLS_RX of <linux/tls.h>) for TLS 1.3 AES-GCM. */
int tls_ktls_set(int fd, int dir, const struct tls_ktls_keys *k);

/*
 * All of it, right after tls_sess_handshake() returned 0 on a session opened with opts.ktls:
 * attach, export, TLS_RX, TLS_TX. Returns
 *   0      the kernel has both directions (the session moves no more data itself),
 *   > 0    the errno why not (ENOENT: no tls module): nothing changed, the session was told
 *          to stay in userspace (tls_sess_ktls_decline) and carries on,
 *   < 0    the connection is unusable (TLS_TX failed after TLS_RX took over).
 */
int tls_ktls_start(int fd, struct tls_sess *s);

/* sendmsg control data for one non-data record (cbuf: TLS_KTLS_CMSG_SPACE bytes). */
void tls_ktls_cmsg_set_type(struct msghdr *m, void *cbuf, size_t cbuflen, uint8_t type);
/* The record type of what recvmsg returned: the cmsg's, TLS_RT_DATA without one, -EMSGSIZE if
 * the control data was truncated. */
int tls_ktls_cmsg_type(const struct msghdr *m);
/* Blocking-free best effort: one alert record through kTLS (before closing). */
int tls_ktls_send_alert(int fd, uint8_t level, uint8_t desc);

/*
 * A non-data record the kernel handed up: 1 ignore it and read on (NewSessionTicket), 0 the
 * peer closed (close_notify), < 0 the connection ends (-ECONNABORTED fatal alert,
 * -EOPNOTSUPP KeyUpdate, -EPROTO malformed). why (if given) says what it was.
 */
int tls_ktls_control_record(int type, const uint8_t *p, size_t n, char *why, size_t whylen);

#endif
