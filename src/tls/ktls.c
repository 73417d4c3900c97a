/* SPDX-License-Identifier: MIT */
/* Kernel TLS: attach the ULP, install the keys a userspace handshake exported, cmsg helpers. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <linux/tls.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "ktls.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

int tls_ktls_attach(int fd)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")) ? -errno : 0;
}

static void tls_ktls_seq(uint8_t out[8], uint64_t seq)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(seq >> (56 - 8 * i));
}

int tls_ktls_set(int fd, int dir, const struct tls_ktls_keys *k)
{
	union {
		struct tls12_crypto_info_aes_gcm_128 g128;
		struct tls12_crypto_info_aes_gcm_256 g256;
	} ci;
	socklen_t len;
	int ret;

	memset(&ci, 0, sizeof(ci));
	/* the 12-byte static IV: 4 bytes "salt", 8 bytes "iv" in the kernel's layout */
	if (k->cipher == TLS_CIPHER_AES_GCM_128 && k->key_len == 16) {
		ci.g128.info.version = TLS_1_3_VERSION;
		ci.g128.info.cipher_type = TLS_CIPHER_AES_GCM_128;
		memcpy(ci.g128.key, k->key, 16);
		memcpy(ci.g128.salt, k->iv, 4);
		memcpy(ci.g128.iv, k->iv + 4, 8);
		tls_ktls_seq(ci.g128.rec_seq, k->seq);
		len = sizeof(ci.g128);
	} else if (k->cipher == TLS_CIPHER_AES_GCM_256 && k->key_len == 32) {
		ci.g256.info.version = TLS_1_3_VERSION;
		ci.g256.info.cipher_type = TLS_CIPHER_AES_GCM_256;
		memcpy(ci.g256.key, k->key, 32);
		memcpy(ci.g256.salt, k->iv, 4);
		memcpy(ci.g256.iv, k->iv + 4, 8);
		tls_ktls_seq(ci.g256.rec_seq, k->seq);
		len = sizeof(ci.g256);
	} else {
		return -EINVAL;
	}
	ret = setsockopt(fd, SOL_TLS, dir, &ci, len) ? -errno : 0;
	OPENSSL_cleanse(&ci, sizeof(ci));
	return ret;
}

int tls_ktls_start(int fd, struct tls_sess *s)
{
	struct tls_ktls_keys tx, rx;
	bool rx_in_kernel;
	int ret = tls_ktls_attach(fd);

	if (ret)
		goto decline;
	ret = tls_sess_ktls_export(s, &tx, &rx);
	if (ret)
		goto decline;
	ret = tls_ktls_set(fd, TLS_RX, &rx);
	rx_in_kernel = !ret;
	if (!ret)
		ret = tls_ktls_set(fd, TLS_TX, &tx);
	OPENSSL_cleanse(&tx, sizeof(tx));
	OPENSSL_cleanse(&rx, sizeof(rx));
	if (!ret)
		return 0;
	if (rx_in_kernel)
		return ret; /* TLS_RX took over, TLS_TX did not: the connection is unusable */
decline:
	/* nothing moved to the kernel: the session goes on in userspace */
	tls_sess_ktls_decline(s);
	return -ret;
}

void tls_ktls_cmsg_set_type(struct msghdr *m, void *cbuf, size_t cbuflen, uint8_t type)
{
	struct cmsghdr *c;

	memset(cbuf, 0, cbuflen);
	m->msg_control = cbuf;
	m->msg_controllen = cbuflen;
	c = CMSG_FIRSTHDR(m);
	c->cmsg_level = SOL_TLS;
	c->cmsg_type = TLS_SET_RECORD_TYPE;
	c->cmsg_len = CMSG_LEN(sizeof(unsigned char));
	*CMSG_DATA(c) = type;
	m->msg_controllen = c->cmsg_len;
}

int tls_ktls_cmsg_type(const struct msghdr *m)
{
	if (m->msg_flags & MSG_CTRUNC)
		return -EMSGSIZE;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c))
		if (c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_GET_RECORD_TYPE &&
		    c->cmsg_len >= CMSG_LEN(sizeof(unsigned char)))
			return *CMSG_DATA(c);
	return TLS_RT_DATA;
}

int tls_ktls_send_alert(int fd, uint8_t level, uint8_t desc)
{
	uint8_t body[2] = { level, desc };
	union {
		char buf[TLS_KTLS_CMSG_SPACE];
		size_t align; /* as struct cmsghdr (which has a flexible array) */
	} c;
	struct iovec iov = { body, sizeof(body) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	tls_ktls_cmsg_set_type(&m, c.buf, sizeof(c.buf), TLS_RT_ALERT);
	return sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(body) ? 0 : -errno;
}

static void tls_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void tls_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

int tls_ktls_control_record(int type, const uint8_t *p, size_t n, char *why, size_t whylen)
{
	if (type == TLS_RT_ALERT) {
		if (n != 2) {
			tls_why(why, whylen, "malformed alert record (%zu bytes)", n);
			return -EPROTO;
		}
		if (p[1] == SSL_AD_CLOSE_NOTIFY) {
			tls_why(why, whylen, "peer sent close_notify");
			return 0;
		}
		tls_why(why, whylen, "peer sent alert \"%s\"", SSL_alert_desc_string_long(p[1]));
		return -ECONNABORTED;
	}
	if (type == TLS_RT_HANDSHAKE) {
		/* one or more messages: type(1) length(3) body */
		for (size_t off = 0; off < n;) {
			size_t len;

			if (n - off < 4 || (len = (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 | p[off + 3]) > n - off - 4) {
				tls_why(why, whylen, "malformed handshake record");
				return -EPROTO;
			}
			if (p[off] == SSL3_MT_KEY_UPDATE) {
				tls_why(why, whylen, "peer sent KeyUpdate: kernel TLS here cannot take new receive keys");
				return -EOPNOTSUPP;
			}
			if (p[off] != SSL3_MT_NEWSESSION_TICKET) {
				tls_why(why, whylen, "unexpected handshake message %u after the handshake", p[off]);
				return -EPROTO;
			}
			off += 4 + len;
		}
		tls_why(why, whylen, "NewSessionTicket ignored");
		return n ? 1 : -EPROTO;
	}
	tls_why(why, whylen, "unexpected record type %d", type);
	return -EPROTO;
}
