/* SPDX-License-Identifier: MIT */
/*
 * src/tls/ktls.c: cmsg and control-record helpers, then a real loopback TCP connection: a
 * userspace handshake and tls_ktls_start() on both ends. Where the kernel has no `tls` module
 * (this build machine) the start must refuse with -ENOENT and leave both sessions working in
 * userspace; where it has one (Debian's 6.1 in the QEMU guest), plaintext send/recv must carry
 * records the other end decrypts, an alert must arrive as a TLS_GET_RECORD_TYPE cmsg, and a
 * userspace peer must interoperate with a kTLS one.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tls.h>

#include "tap.h"
#include "tls/ktls.h"
#include "tls/psk.h"
#include "tls/session.h"

#define KEY "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"
#define HOST "nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
#define SUB "nqn.2026-11.io.nvring:ktls"

static struct tls_key key;

static int lookup(void *arg, const char *identity, size_t len, uint8_t psk[TLS_PSK_MAX])
{
	struct tls_identity id;

	(void)arg;
	if (tls_identity_parse(identity, len, &id))
		return -ENOKEY;
	return tls_psk_for_target(&key, &id, TLS_PSK_RFC8446, psk, NULL);
}

static void test_cmsg(void)
{
	union {
		char buf[TLS_KTLS_CMSG_SPACE];
		size_t align; /* as struct cmsghdr (which has a flexible array) */
	} c;
	struct msghdr m = { 0 };
	struct cmsghdr *h;

	tls_ktls_cmsg_set_type(&m, c.buf, sizeof(c.buf), TLS_RT_ALERT);
	h = CMSG_FIRSTHDR(&m);
	tap_ok(h && h->cmsg_level == SOL_TLS && h->cmsg_type == TLS_SET_RECORD_TYPE && *CMSG_DATA(h) == 21,
	       "TLS_SET_RECORD_TYPE cmsg for an alert");
	h->cmsg_type = TLS_GET_RECORD_TYPE;
	tap_eq(tls_ktls_cmsg_type(&m), 21, "TLS_GET_RECORD_TYPE read back");
	m.msg_flags = MSG_CTRUNC;
	tap_eq(tls_ktls_cmsg_type(&m), -EMSGSIZE, "truncated control data: -EMSGSIZE");
	memset(&m, 0, sizeof(m));
	tap_eq(tls_ktls_cmsg_type(&m), TLS_RT_DATA, "no cmsg: application data");
}

static void test_control_records(void)
{
	static const uint8_t close_notify[2] = { 1, 0 }, fatal[2] = { 2, 51 };
	static const uint8_t nst[12] = { 4, 0, 0, 8 }, key_update[5] = { 24, 0, 0, 1, 1 };
	static const uint8_t finished[8] = { 20, 0, 0, 4 }, cut[6] = { 4, 0, 0, 9 };
	char why[128];

	tap_eq(tls_ktls_control_record(21, close_notify, 2, why, sizeof(why)), 0, "close_notify: end of stream");
	tap_eq(tls_ktls_control_record(21, fatal, 2, why, sizeof(why)), -ECONNABORTED, "fatal alert: -ECONNABORTED");
	tap_ok(strstr(why, "decrypt error") != NULL, "names the alert: %s", why);
	tap_eq(tls_ktls_control_record(21, fatal, 3, why, sizeof(why)), -EPROTO, "3-byte alert: -EPROTO");
	tap_eq(tls_ktls_control_record(22, nst, sizeof(nst), why, sizeof(why)), 1, "NewSessionTicket: ignored");
	tap_eq(tls_ktls_control_record(22, key_update, sizeof(key_update), why, sizeof(why)), -EOPNOTSUPP,
	       "KeyUpdate: -EOPNOTSUPP (%s)", why);
	tap_eq(tls_ktls_control_record(22, finished, sizeof(finished), why, sizeof(why)), -EPROTO, "Finished: -EPROTO");
	tap_eq(tls_ktls_control_record(22, cut, sizeof(cut), why, sizeof(why)), -EPROTO, "cut message: -EPROTO");
	tap_eq(tls_ktls_control_record(24, nst, 4, why, sizeof(why)), -EPROTO, "record type 24: -EPROTO");
}

static void test_bad_setup(void)
{
	struct tls_ktls_keys k = { .cipher = 51, .key_len = 32 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), p[2];

	tap_eq(tls_ktls_set(fd, TLS_TX, &k), -EINVAL, "AES-128 with a 32-byte key: -EINVAL (no syscall)");
	k.cipher = 7;
	tap_eq(tls_ktls_set(fd, TLS_TX, &k), -EINVAL, "unknown cipher: -EINVAL");
	tap_ok(tls_ktls_attach(fd) < 0, "ULP on an unconnected socket: %s", strerror(-tls_ktls_attach(fd)));
	if (!pipe(p)) {
		tap_eq(tls_ktls_attach(p[0]), -ENOTSOCK, "ULP on a pipe: -ENOTSOCK");
		close(p[0]);
		close(p[1]);
	}
	close(fd);
}

static int tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &al))
		return -1;
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fds[0], (struct sockaddr *)&a, sizeof(a)))
		return -1;
	fds[1] = accept(l, NULL, NULL);
	close(l);
	setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fds[1] < 0 ? -1 : 0;
}

/* Move a session's ciphertext out and whatever it may read in (never past what it asks for). */
static void io(struct tls_sess *s, int fd)
{
	size_t n, room;
	const uint8_t *p = tls_sess_tx_peek(s, &n);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		tls_sess_tx_consume(s, (size_t)w);
		p = tls_sess_tx_peek(s, &n);
	}
	p = tls_sess_rx_buf(s, &room);
	if (room && poll(&pfd, 1, 20) == 1) {
		ssize_t r = recv(fd, (void *)p, room, 0);

		if (r > 0)
			tls_sess_rx_commit(s, (size_t)r);
		else if (r == 0)
			tls_sess_rx_eof(s);
	}
}

static int handshake(struct tls_sess *c, struct tls_sess *s, int fds[2])
{
	int rc = -EAGAIN, rs = -EAGAIN;

	for (int i = 0; i < 500 && (rc == -EAGAIN || rs == -EAGAIN); i++) {
		rc = tls_sess_handshake(c);
		rs = tls_sess_handshake(s);
		io(c, fds[0]);
		io(s, fds[1]);
	}
	return rc ? rc : rs;
}

static ssize_t recv_rec(int fd, void *buf, size_t len, int *type)
{
	union {
		char buf[TLS_KTLS_CMSG_SPACE];
		size_t align; /* as struct cmsghdr (which has a flexible array) */
	} c;
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	ssize_t r = recvmsg(fd, &m, 0);

	*type = r >= 0 ? tls_ktls_cmsg_type(&m) : -1;
	return r < 0 ? -errno : r;
}

static void test_loopback(bool server_user)
{
	struct tls_ctx *cctx = tls_ctx_new(TLS_ROLE_CLIENT), *sctx = tls_ctx_new(TLS_ROLE_SERVER);
	struct tls_sess_opts co = { 0 }, so = { .lookup = lookup, .ktls = true };
	struct tls_sess *c = NULL, *s = NULL;
	char identity[TLS_IDENTITY_MAX], buf[256];
	uint8_t psk[TLS_PSK_MAX];
	int fds[2] = { -1, -1 }, rc, rs, type;
	ssize_t r;

	co.psk_len = (size_t)tls_psk_for_host(&key, HOST, SUB, 0, TLS_PSK_RFC8446, identity, psk);
	co.identity = identity;
	co.psk = psk;
	co.ktls = true;
	if (!tap_ok(!tcp_pair(fds), "loopback TCP pair"))
		return;
	tls_sess_new(cctx, &co, &c);
	tls_sess_new(sctx, &so, &s);
	tap_eq(handshake(c, s, fds), 0, "handshake over TCP with exact reads");
	rc = tls_ktls_start(fds[0], c);
	if (rc == ENOENT) {
		struct iovec iov = { (void *)"userspace after all", 19 };

		tap_skip("this kernel has no tls module", "kernel TLS round trip");
		tap_eq(tls_ktls_start(fds[1], s), ENOENT, "server: declined (ENOENT) as well");
		tap_eq(tls_sess_writev(c, &iov, 1), 19, "declined client writes in userspace");
		io(c, fds[0]);
		for (int i = 0; i < 50 && (r = tls_sess_read(s, buf, sizeof(buf))) == -EAGAIN; i++)
			io(s, fds[1]);
		tap_ok(r == 19 && !memcmp(buf, "userspace after all", 19), "declined server reads it");
		goto out;
	}
	tap_eq(rc, 0, "client: kernel TLS on both directions");
	if (server_user) {
		struct iovec iov = { (void *)"from userspace", 14 };

		tls_sess_ktls_decline(s);
		tap_eq(tls_sess_writev(s, &iov, 1), 14, "userspace server writes a record");
		io(s, fds[1]);
		r = recv_rec(fds[0], buf, sizeof(buf), &type);
		tap_ok(r == 14 && type == TLS_RT_DATA && !memcmp(buf, "from userspace", 14), "kTLS client reads it as plaintext");
		tap_eq(send(fds[0], "from the kernel", 15, 0), 15, "kTLS client sends plaintext");
		for (int i = 0; i < 50 && (r = tls_sess_read(s, buf, sizeof(buf))) == -EAGAIN; i++)
			io(s, fds[1]);
		tap_ok(r == 15 && !memcmp(buf, "from the kernel", 15), "userspace server decrypts the kernel's record");
		tap_eq(tls_ktls_send_alert(fds[0], 1, 0), 0, "kTLS client sends close_notify");
		for (int i = 0; i < 50 && (r = tls_sess_read(s, buf, sizeof(buf))) == -EAGAIN; i++)
			io(s, fds[1]);
		tap_eq(r, 0, "userspace server sees the close");
		/* what this kernel does with a KeyUpdate after the switch (the session may still send) */
		tap_eq(tls_sess_key_update(s, false), 0, "userspace server sends KeyUpdate");
		io(s, fds[1]);
		r = recv_rec(fds[0], buf, sizeof(buf), &type);
		tap_ok(r == 5 && type == TLS_RT_HANDSHAKE && buf[0] == 24, "kTLS client gets it as a handshake record "
		       "(type %d, %zd bytes)", type, r);
		tap_eq(tls_ktls_control_record(type, (uint8_t *)buf, r > 0 ? (size_t)r : 0, NULL, 0), -EOPNOTSUPP,
		       "which ends the connection: -EOPNOTSUPP");
		{
			struct iovec after = { (void *)"new keys", 8 };

			tls_sess_writev(s, &after, 1);
			io(s, fds[1]);
			r = recv_rec(fds[0], buf, sizeof(buf), &type);
			tap_diag("a record under the new keys: recvmsg %zd (%s)", r, r < 0 ? strerror((int)-r) : "data");
			tap_ok(r < 0, "the kernel cannot decrypt the next record (no rekey)");
		}
		goto out;
	}
	rs = tls_ktls_start(fds[1], s);
	tap_eq(rs, 0, "server: kernel TLS on both directions");
	tap_eq(send(fds[0], "ICReq-ish", 9, 0), 9, "client sends plaintext");
	r = recv_rec(fds[1], buf, sizeof(buf), &type);
	tap_ok(r == 9 && type == TLS_RT_DATA && !memcmp(buf, "ICReq-ish", 9), "server receives it");
	tap_eq(tls_ktls_send_alert(fds[1], 2, 51), 0, "server sends a fatal alert through kTLS");
	r = recv_rec(fds[0], buf, sizeof(buf), &type);
	tap_ok(r == 2 && type == TLS_RT_ALERT, "client gets a record of type %d, %zd bytes", type, r);
	tap_eq(tls_ktls_control_record(type, (uint8_t *)buf, (size_t)r, NULL, 0), -ECONNABORTED, "and ends");
out:
	tls_sess_free(c);
	tls_sess_free(s);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	tls_key_parse(KEY, &key, NULL, 0);
	test_cmsg();
	test_control_records();
	test_bad_setup();
	test_loopback(false);
	test_loopback(true);
	return tap_done();
}
