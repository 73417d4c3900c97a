/* SPDX-License-Identifier: MIT */
/*
 * src/tls/session.c in memory: a client and a server session whose ciphertext the test carries
 * between them (and inspects: record counts, tampering, truncation). The kTLS export is checked
 * independently: a record OpenSSL wrote is decrypted with the exported key/IV/sequence by plain
 * EVP AES-GCM, as the kernel would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "tap.h"
#include "tls/psk.h"
#include "tls/session.h"

#define HOST "nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
#define SUB "nqn.2026-11.io.nvring:test"
#define K01 "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"
#define K02 "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:"

static struct tls_ctx *cctx, *sctx;

/* the target's key table: one host, one key */
struct keytab {
	struct tls_key key;
	const char *host; /* NULL: HOST */
	int calls;
};

static int lookup(void *arg, const char *identity, size_t len, uint8_t psk[TLS_PSK_MAX])
{
	struct keytab *kt = arg;
	struct tls_identity id;

	kt->calls++;
	if (tls_identity_parse(identity, len, &id) || strcmp(id.hostnqn, kt->host ? kt->host : HOST))
		return -ENOKEY;
	return tls_psk_for_target(&kt->key, &id, TLS_PSK_RFC8446, psk, NULL);
}

struct pair {
	struct tls_sess *c, *s;
	struct keytab kt;
	char identity[TLS_IDENTITY_MAX];
	uint8_t psk[TLS_PSK_MAX];
	int crc, src; /* last handshake results */
};

static int pair_open(struct pair *p, const char *key, unsigned version, bool ktls, bool wrong_psk)
{
	struct tls_key k;
	struct tls_sess_opts co = { 0 }, so = { 0 };
	int len, ret;

	memset(p, 0, sizeof(*p));
	tls_key_parse(key, &k, NULL, 0);
	p->kt.key = k;
	len = tls_psk_for_host(&k, HOST, SUB, version, TLS_PSK_RFC8446, p->identity, p->psk);
	if (wrong_psk)
		p->psk[3] ^= 0x40;
	co.identity = p->identity;
	co.psk = p->psk;
	co.psk_len = (size_t)len;
	co.ktls = ktls;
	so.lookup = lookup;
	so.lookup_arg = &p->kt;
	so.ktls = ktls;
	ret = tls_sess_new(cctx, &co, &p->c);
	if (!ret)
		ret = tls_sess_new(sctx, &so, &p->s);
	return ret;
}

static void pair_close(struct pair *p)
{
	tls_sess_free(p->c);
	tls_sess_free(p->s);
}

/* Carry from's ciphertext into to; returns bytes moved. */
static size_t carry(struct tls_sess *from, struct tls_sess *to)
{
	size_t n, k;
	const uint8_t *ct = tls_sess_tx_peek(from, &n);

	k = n ? tls_sess_feed(to, ct, n) : 0;
	tls_sess_tx_consume(from, k);
	return k;
}

static void pump(struct pair *p)
{
	for (int i = 0; i < 200; i++) {
		size_t moved;

		p->crc = tls_sess_handshake(p->c);
		p->src = tls_sess_handshake(p->s);
		moved = carry(p->c, p->s) + carry(p->s, p->c);
		if (!moved && p->crc != -EAGAIN && p->src != -EAGAIN)
			return;
		if (!moved && i > 2 && p->crc == -EAGAIN && p->src == -EAGAIN)
			return; /* stuck: both wait for bytes nobody has */
	}
}

/* Records in a ciphertext stream (all encrypted ones are outer type 23). */
static int count_records(const uint8_t *p, size_t n, int *app)
{
	int cnt = 0;

	*app = 0;
	for (size_t off = 0; off + 5 <= n;) {
		size_t len = (size_t)p[off + 3] << 8 | p[off + 4];

		*app += p[off] == 23;
		cnt++;
		off += 5 + len;
	}
	return cnt;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + seed + (i >> 9));
}

static size_t read_all(struct tls_sess *s, uint8_t *dst, size_t cap)
{
	size_t got = 0;

	for (;;) {
		ssize_t r = tls_sess_read(s, dst + got, cap - got);

		if (r <= 0)
			return got;
		got += (size_t)r;
	}
}


/* Send iov from one session to the other through both buffers until everything arrived or
 * nothing moves; counts records and writev rounds. Returns the plaintext bytes received. */
static size_t transfer(struct tls_sess *from, struct tls_sess *to, const struct iovec *iov_in, int cnt,
		       uint8_t *dst, size_t cap, int *records, int *rounds, bool *partial)
{
	struct iovec iov[128];
	size_t got = 0, n;
	int idx = 0, app;

	memcpy(iov, iov_in, sizeof(iov[0]) * (size_t)cnt);
	*records = *rounds = 0;
	*partial = false;
	for (int guard = 0; guard < 10000; guard++) {
		size_t before = got, offered = 0;
		ssize_t w = 0;

		for (int i = idx; i < cnt; i++)
			offered += iov[i].iov_len;
		if (offered) {
			const uint8_t *ct;

			w = tls_sess_writev(from, iov + idx, cnt - idx);
			if (w < 0)
				return got;
			*partial |= (size_t)w < offered;
			for (size_t left = (size_t)w; left;) {
				size_t k = left < iov[idx].iov_len ? left : iov[idx].iov_len;

				iov[idx].iov_base = (uint8_t *)iov[idx].iov_base + k;
				iov[idx].iov_len -= k;
				left -= k;
				if (!iov[idx].iov_len)
					idx++;
			}
			ct = tls_sess_tx_peek(from, &n);
			*records += count_records(ct, n, &app);
			(*rounds)++;
		}
		while (carry(from, to))
			got += read_all(to, dst + got, cap - got);
		got += read_all(to, dst + got, cap - got);
		if (!w && got == before)
			return got;
	}
	return got;
}

static void test_handshake(const char *key, unsigned version, unsigned hash)
{
	struct pair p;

	tap_eq(pair_open(&p, key, version, false, false), 0, "sessions created (hash %u, v%u)", hash, version);
	tap_ok(!tls_sess_established(p.c) && tls_sess_hash(p.c) == 0, "not established before the handshake");
	pump(&p);
	tap_eq(p.crc, 0, "client established (hash %u, identity v%u)", hash, version);
	tap_eq(p.src, 0, "server established (hash %u, identity v%u)", hash, version);
	tap_eq(tls_sess_hash(p.c), hash, "client suite hash %u", hash);
	tap_eq(tls_sess_hash(p.s), hash, "server suite hash %u", hash);
	tap_ok(!strcmp(tls_sess_identity(p.s), p.identity), "server saw identity %s", tls_sess_identity(p.s));
	tap_eq(p.kt.calls, 1, "one lookup");
	pair_close(&p);
}

/* 32 read responses of 4 KiB as the target sends them: C2HData header, data, CapsuleResp. */
static void test_gathered(void)
{
	enum { N = 32, DATA = 4096 };
	static uint8_t data[N][DATA], out[N * (DATA + 48)], back[N * (DATA + 48)];
	uint8_t hdr[N][24], rsp[N][24];
	struct iovec iov[3 * N];
	struct pair p;
	size_t n, total = 0;
	const uint8_t *ct;
	int recs, app;
	ssize_t w;

	pair_open(&p, K01, 1, false, false);
	pump(&p);
	for (int i = 0; i < N; i++) {
		memset(hdr[i], 0x07, 24);
		memset(rsp[i], 0x05, 24);
		fill(data[i], DATA, (unsigned)i);
		iov[3 * i] = (struct iovec){ hdr[i], 24 };
		iov[3 * i + 1] = (struct iovec){ data[i], DATA };
		iov[3 * i + 2] = (struct iovec){ rsp[i], 24 };
	}
	for (int i = 0; i < 3 * N; i++) {
		memcpy(out + total, iov[i].iov_base, iov[i].iov_len);
		total += iov[i].iov_len;
	}
	w = tls_sess_writev(p.s, iov, 3 * N);
	tap_eq(w, total, "writev takes all %zu bytes of 96 iovecs", total);
	ct = tls_sess_tx_peek(p.s, &n);
	recs = count_records(ct, n, &app);
	tap_eq(recs, (total + TLS_RECORD_MAX - 1) / TLS_RECORD_MAX, "%zu bytes of 96 PDU pieces in %d full records", total, recs);
	tap_eq(app, recs, "all application-data records");
	tap_eq(n, total + (size_t)recs * TLS_RECORD_OVERHEAD, "ciphertext = plaintext + 22 bytes per record");
	n = 0;
	while (carry(p.s, p.c))
		n += read_all(p.c, back + n, sizeof(back) - n);
	tap_eq(n, total, "client decrypts every byte (through its 128 KiB rx buffer)");
	tap_ok(!memcmp(out, back, total), "plaintext intact");
	tap_eq(tls_sess_read(p.c, back, 10), -EAGAIN, "then -EAGAIN");
	pair_close(&p);
}

/* 128 KiB transfers, and a tx buffer smaller than the data: writev takes what fits. */
static void test_large(void)
{
	enum { LEN = 1024 * 1024, PIECE = 128 * 1024 };
	uint8_t *src = malloc(LEN + 24), *dst = malloc(LEN + 24 * 8);
	struct tls_sess_opts co = { 0 }, so = { 0 };
	struct iovec iov[2 * LEN / PIECE];
	struct pair p;
	size_t got;
	int recs, rounds;
	bool partial;

	memset(&p, 0, sizeof(p));
	tls_key_parse(K02, &p.kt.key, NULL, 0);
	co.psk_len = (size_t)tls_psk_for_host(&p.kt.key, HOST, SUB, 0, TLS_PSK_RFC8446, p.identity, p.psk);
	co.identity = p.identity;
	co.psk = p.psk;
	co.tx_cap = 64 * 1024;
	so.lookup = lookup;
	so.lookup_arg = &p.kt;
	tls_sess_new(cctx, &co, &p.c);
	tls_sess_new(sctx, &so, &p.s);
	pump(&p);
	tap_eq(p.crc | p.src, 0, "SHA-384 pair up");
	fill(src, LEN + 24, 9);
	for (int i = 0; i < LEN / PIECE; i++) { /* H2CData header + 128 KiB, eight times */
		iov[2 * i] = (struct iovec){ src, 24 };
		iov[2 * i + 1] = (struct iovec){ src + 24 + (size_t)i * PIECE, PIECE };
	}
	got = transfer(p.c, p.s, iov, 2 * LEN / PIECE, dst, LEN + 24 * 8, &recs, &rounds, &partial);
	tap_eq(got, LEN + 24 * 8, "8 x (24 + 128 KiB) through a 64 KiB tx buffer");
	tap_ok(partial, "writev took less than offered when tx was full (%d rounds)", rounds);
	{
		bool same = true;

		for (int i = 0; i < LEN / PIECE; i++)
			same &= !memcmp(dst + (size_t)i * (PIECE + 24), src, 24) &&
				!memcmp(dst + (size_t)i * (PIECE + 24) + 24, src + 24 + (size_t)i * PIECE, PIECE);
		tap_ok(same, "1 MiB intact");
	}
	tap_ok(recs <= (LEN + 24 * 8) / TLS_RECORD_MAX + rounds, "%d records for 1 MiB (+%d partial at round ends)", recs,
	       recs - (LEN + 24 * 8) / TLS_RECORD_MAX);
	free(src);
	free(dst);
	pair_close(&p);
}

static void test_key_update(void)
{
	struct pair p;
	uint8_t buf[64];
	struct iovec iov = { (void *)"after-update", 12 };
	size_t n;
	int app;

	pair_open(&p, K01, 0, false, false);
	pump(&p);
	tap_eq(tls_sess_key_update(p.c, true), 0, "client KeyUpdate (update_requested)");
	tls_sess_tx_peek(p.c, &n);
	tap_ok(n > 0 && count_records(tls_sess_tx_peek(p.c, &n), n, &app) == 1, "one KeyUpdate record queued");
	carry(p.c, p.s);
	tap_eq(tls_sess_read(p.s, buf, sizeof(buf)), -EAGAIN, "server took the KeyUpdate (no data)");
	tls_sess_tx_peek(p.s, &n);
	tap_ok(n > 0, "server answered with its own KeyUpdate (%zu bytes)", n);
	carry(p.s, p.c);
	tap_eq(tls_sess_read(p.c, buf, sizeof(buf)), -EAGAIN, "client took the answer");
	tap_eq(tls_sess_writev(p.c, &iov, 1), 12, "client writes with new keys");
	carry(p.c, p.s);
	tap_eq(tls_sess_read(p.s, buf, sizeof(buf)), 12, "server reads with new keys");
	tap_eq(tls_sess_key_update(p.s, false), 0, "server KeyUpdate (not requested)");
	tap_eq(tls_sess_writev(p.s, &iov, 1), 12, "server writes after its update");
	carry(p.s, p.c);
	tap_eq(tls_sess_read(p.c, buf, sizeof(buf)), 12, "client reads after the server's update");
	tls_sess_tx_peek(p.c, &n);
	tap_eq(n, 0, "no answer owed for an update not requested");
	tap_ok(!memcmp(buf, "after-update", 12), "data intact across updates");
	pair_close(&p);
}

static void test_close_and_alerts(void)
{
	struct pair p;
	uint8_t buf[64], *ct;
	struct iovec iov = { (void *)"0123456789abcdef", 16 };
	size_t n;

	pair_open(&p, K01, 1, false, false);
	pump(&p);
	tap_eq(tls_sess_shutdown(p.c), 0, "client close_notify");
	carry(p.c, p.s);
	tap_eq(tls_sess_read(p.s, buf, sizeof(buf)), 0, "server reads 0: orderly close");
	tap_eq(tls_sess_read(p.s, buf, sizeof(buf)), 0, "and stays closed");
	pair_close(&p);

	pair_open(&p, K01, 1, false, false);
	pump(&p);
	tls_sess_writev(p.c, &iov, 1);
	ct = (uint8_t *)tls_sess_tx_peek(p.c, &n);
	ct[n - 3] ^= 1; /* a bit of the tag */
	carry(p.c, p.s);
	tap_eq(tls_sess_read(p.s, buf, sizeof(buf)), -EKEYREJECTED, "tampered record: server -EKEYREJECTED");
	tap_ok(strstr(tls_sess_error(p.s), "bad record mac") != NULL, "error says: %s", tls_sess_error(p.s));
	tls_sess_tx_peek(p.s, &n);
	tap_ok(n > 0, "server queued an alert (%zu bytes)", n);
	carry(p.s, p.c);
	tap_eq(tls_sess_read(p.c, buf, sizeof(buf)), -ECONNABORTED, "client gets the fatal alert: -ECONNABORTED");
	tap_ok(strstr(tls_sess_error(p.c), "bad record mac") != NULL, "client error: %s", tls_sess_error(p.c));
	tap_eq(tls_sess_writev(p.c, &iov, 1), -ECONNABORTED, "a failed session stays failed");
	pair_close(&p);
}

static void test_refusals(void)
{
	static const uint8_t icreq[128] = { 0x00, 0x00, 0x80, 0x00, 0x80 };
	static const uint8_t term[24] = { 0x03, 0x00, 0x18, 0x00, 0x18 };
	struct pair p;
	size_t n;
	uint8_t buf[16];
	const uint8_t *ct;

	pair_open(&p, K01, 1, false, true);
	pump(&p);
	tap_eq(p.src, -EKEYREJECTED, "wrong PSK: server -EKEYREJECTED (%s)", tls_sess_error(p.s));
	tap_eq(p.crc, -EKEYREJECTED, "wrong PSK: client -EKEYREJECTED (%s)", tls_sess_error(p.c));
	pair_close(&p);

	pair_open(&p, K01, 0, false, false);
	p.kt.host = "nqn.2014-08.org.example:someone-else"; /* the target knows another host only */
	pump(&p);
	tap_eq(p.src, -ENOKEY, "unknown identity: server -ENOKEY (%s)", tls_sess_error(p.s));
	tap_eq(p.crc, -ENOKEY, "unknown identity: client -ENOKEY (%s)", tls_sess_error(p.c));
	pair_close(&p);

	pair_open(&p, K01, 0, false, false);
	tls_sess_feed(p.s, icreq, sizeof(icreq));
	tap_eq(tls_sess_handshake(p.s), -EPROTONOSUPPORT, "plaintext ICReq to a TLS server: -EPROTONOSUPPORT");
	tap_ok(strstr(tls_sess_error(p.s), "NVMe/TCP") != NULL, "error: %s", tls_sess_error(p.s));
	ct = tls_sess_tx_peek(p.s, &n);
	tap_ok(n == 7 && ct[0] == 21 && ct[1] == 3 && ct[5] == 2 && ct[6] == 10,
	       "server answers with a plaintext fatal alert (unexpected_message)");
	tap_eq(tls_sess_handshake(p.c), -EAGAIN, "client sent its ClientHello");
	tls_sess_feed(p.c, term, sizeof(term));
	tap_eq(tls_sess_handshake(p.c), -EPROTONOSUPPORT, "C2HTermReq answering a ClientHello: -EPROTONOSUPPORT");
	pair_close(&p);

	/* the peer dies mid-handshake: half a ClientHello, then EOF */
	pair_open(&p, K01, 0, false, false);
	tls_sess_handshake(p.c);
	ct = tls_sess_tx_peek(p.c, &n);
	tls_sess_feed(p.s, ct, n / 2);
	tap_eq(tls_sess_handshake(p.s), -EAGAIN, "half a ClientHello: waiting");
	tls_sess_rx_eof(p.s);
	tap_eq(tls_sess_handshake(p.s), -ECONNRESET, "then EOF: -ECONNRESET (%s)", tls_sess_error(p.s));
	pair_close(&p);

	/* ... and mid-record */
	pair_open(&p, K01, 0, false, false);
	pump(&p);
	tls_sess_writev(p.c, &(struct iovec){ (void *)"payload-payload", 15 }, 1);
	ct = tls_sess_tx_peek(p.c, &n);
	tls_sess_feed(p.s, ct, 10);
	tap_eq(tls_sess_read(p.s, buf, sizeof(buf)), -EAGAIN, "10 bytes of a record: waiting");
	tls_sess_rx_eof(p.s);
	tap_eq(tls_sess_read(p.s, buf, sizeof(buf)), -ECONNRESET, "then EOF mid-record: -ECONNRESET (%s)", tls_sess_error(p.s));
	pair_close(&p);

	/* EOF between records without close_notify */
	pair_open(&p, K01, 0, false, false);
	pump(&p);
	tls_sess_rx_eof(p.c);
	tap_eq(tls_sess_read(p.c, buf, sizeof(buf)), -ECONNRESET, "EOF without close_notify: -ECONNRESET");
	pair_close(&p);
}

static void test_deadline(void)
{
	struct tls_sess_opts co = { 0 };
	struct tls_sess *c;
	uint8_t psk[32] = { 1 };

	co.identity = "NVMe0R01 a b";
	co.psk = psk;
	co.psk_len = 32;
	co.deadline_ns = 1000;
	tls_sess_new(cctx, &co, &c);
	tap_ok(!tls_sess_expired(c, 999), "before the deadline: not expired");
	tap_eq(tls_sess_handshake(c), -EAGAIN, "handshake in progress");
	tap_ok(tls_sess_expired(c, 1000), "at the deadline: expired");
	tap_eq(tls_sess_handshake(c), -ETIMEDOUT, "handshake now fails -ETIMEDOUT");
	tls_sess_free(c);
	co.psk_len = 31;
	tap_eq(tls_sess_new(cctx, &co, &c), -EINVAL, "a 31-byte PSK is refused");
	tap_ok(c == NULL, "no session");
}

static void test_bad_use(void)
{
	struct tls_sess_opts so = { 0 }, co = { 0 };
	struct tls_sess *s = NULL;
	uint8_t psk[32] = { 0 }, buf[8];
	char longid[TLS_IDENTITY_MAX + 8];
	struct iovec iov = { buf, sizeof(buf) };

	tap_eq(tls_sess_new(sctx, &so, &s), -EINVAL, "server session without a lookup: -EINVAL");
	so.lookup = lookup;
	so.rx_cap = 1024;
	tap_eq(tls_sess_new(sctx, &so, &s), -EINVAL, "a receive buffer smaller than two records: -EINVAL");
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = 0;
	co.identity = longid;
	co.psk = psk;
	co.psk_len = 32;
	tap_eq(tls_sess_new(cctx, &co, &s), -EINVAL, "an identity longer than TLS_IDENTITY_MAX: -EINVAL");
	tap_eq(tls_sess_new(NULL, &co, &s), -EINVAL, "no context: -EINVAL");
	co.identity = "NVMe0R01 a b";
	tap_eq(tls_sess_new(cctx, &co, &s), 0, "a client session");
	tap_eq(tls_sess_writev(s, &iov, 1), -ENOTCONN, "writev before the handshake: -ENOTCONN");
	tap_eq(tls_sess_read(s, buf, sizeof(buf)), -ENOTCONN, "read before the handshake: -ENOTCONN");
	tap_eq(tls_sess_key_update(s, true), -ENOTCONN, "KeyUpdate before the handshake: -ENOTCONN");
	tap_eq(tls_sess_shutdown(s), -ENOTCONN, "close_notify before the handshake: -ENOTCONN");
	tap_ok(!strcmp(tls_sess_error(s), "") && tls_sess_err(s) == 0, "no failure recorded by misuse");
	tls_sess_free(s);
	tls_sess_free(NULL);
	tls_ctx_free(NULL);
}

/* Decrypt one TLS 1.3 record with key/iv/seq as the kernel would (RFC 8446 §5.2-5.3). */
static int open_record(const struct tls_ktls_keys *k, uint64_t seq, const uint8_t *rec, size_t n,
		       uint8_t *out, uint8_t *type)
{
	const EVP_CIPHER *c = k->key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	size_t body = ((size_t)rec[3] << 8 | rec[4]) - 16;
	int l, ok;

	if (n < 5 + body + 16)
		return -1;
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
	ok = EVP_DecryptInit_ex(x, c, NULL, k->key, nonce) && EVP_DecryptUpdate(x, NULL, &l, rec, 5) &&
	     EVP_DecryptUpdate(x, out, &l, rec + 5, (int)body) &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, (void *)(rec + 5 + body)) &&
	     EVP_DecryptFinal_ex(x, out + l, &l);
	EVP_CIPHER_CTX_free(x);
	if (!ok)
		return -1;
	while (body && !out[body - 1])
		body--; /* padding zeros, then the inner content type */
	*type = out[body - 1];
	return (int)body - 1;
}

static void test_ktls_export(const char *key, unsigned hash)
{
	struct tls_ktls_keys ctx, crx, stx, srx;
	struct iovec iov[2] = { { (void *)"first record", 12 }, { (void *)"second", 6 } };
	struct pair p;
	uint8_t pt[64], type;
	const uint8_t *ct;
	size_t n, left;
	int l;

	pair_open(&p, key, 1, true, false);
	pump(&p);
	tap_eq(p.crc | p.src, 0, "kTLS pair established (hash %u)", hash);
	tap_eq(tls_sess_ktls_export(p.s, &stx, &srx), 0, "server exports");
	tap_eq(stx.cipher, hash == 2 ? 52 : 51, "cipher TLS_CIPHER_AES_GCM_%s", hash == 2 ? "256" : "128");
	tap_eq(stx.key_len, hash == 2 ? 32 : 16, "key length");
	tap_ok(stx.seq == 0 && srx.seq == 0, "sequence numbers start at 0");
	tap_eq(tls_sess_ktls_export(p.s, &stx, &srx), -EINVAL, "export only once");
	/* the client, still in userspace, writes two records; the server's rx keys open them */
	tls_sess_writev(p.c, &iov[0], 1);
	tls_sess_writev(p.c, &iov[1], 1);
	ct = tls_sess_tx_peek(p.c, &n);
	l = open_record(&srx, 0, ct, n, pt, &type);
	tap_ok(l == 12 && type == 23 && !memcmp(pt, "first record", 12), "record 0 opens with exported rx key/iv, seq 0");
	left = n - (5 + ((size_t)ct[3] << 8 | ct[4]));
	l = open_record(&srx, 1, ct + (n - left), left, pt, &type);
	tap_ok(l == 6 && !memcmp(pt, "second", 6), "record 1 opens with seq 1");
	tap_ok(open_record(&srx, 0, ct + (n - left), left, pt, &type) < 0, "record 1 with seq 0 fails");
	tap_eq(tls_sess_writev(p.s, iov, 1), -ENOTCONN, "an exported session moves no data itself");
	pair_close(&p);

	/* the other direction: the client exports, the server writes */
	pair_open(&p, key, 1, true, false);
	pump(&p);
	tap_eq(tls_sess_ktls_export(p.c, &ctx, &crx), 0, "client exports");
	tls_sess_writev(p.s, iov, 1);
	ct = tls_sess_tx_peek(p.s, &n);
	l = open_record(&crx, 0, ct, n, pt, &type);
	tap_ok(l == 12 && !memcmp(pt, "first record", 12), "server record opens with the client's rx keys");
	tap_ok(memcmp(ctx.key, crx.key, ctx.key_len) && memcmp(ctx.iv, crx.iv, 12), "tx and rx keys differ");
	pair_close(&p);
}

/* Exact reads: a client writing data right after its Finished (the host's ICReq) leaves that
 * record for the kernel; export is refused once data has gone through OpenSSL. */
static void test_ktls_exact(void)
{
	struct tls_ktls_keys tx, rx;
	struct iovec iov = { (void *)"ICReq-bytes", 11 };
	struct pair p;
	size_t n, room, before;
	uint8_t buf[32];
	int rc;

	pair_open(&p, K01, 0, true, false);
	for (int i = 0; i < 50 && tls_sess_handshake(p.c) != 0; i++)
		carry(p.c, p.s), tls_sess_handshake(p.s), carry(p.s, p.c);
	tap_ok(tls_sess_established(p.c), "client established first");
	tap_eq(tls_sess_writev(p.c, &iov, 1), 11, "client sends data at once");
	tls_sess_tx_peek(p.c, &before);
	for (int i = 0; i < 20; i++) {
		carry(p.c, p.s);
		rc = tls_sess_handshake(p.s);
	}
	tls_sess_tx_peek(p.c, &n);
	tap_eq(rc, 0, "server established");
	tap_eq(n, 5 + 11 + 17, "the data record is still unread: it belongs to the kernel");
	tls_sess_rx_buf(p.s, &room);
	tap_eq(room, 0, "the server asks for no byte past the handshake");
	tap_eq(tls_sess_ktls_export(p.s, &tx, &rx), 0, "server exports");
	pair_close(&p);

	pair_open(&p, K01, 0, true, false);
	pump(&p);
	tls_sess_ktls_decline(p.s);
	tls_sess_writev(p.c, &iov, 1);
	carry(p.c, p.s);
	tap_eq(tls_sess_read(p.s, buf, sizeof(buf)), 11, "declined: the server reads in userspace");
	tap_eq(tls_sess_ktls_export(p.s, &tx, &rx), -EINVAL, "and exports nothing");
	pair_close(&p);

	pair_open(&p, K01, 0, true, false);
	pump(&p);
	tls_sess_writev(p.s, &iov, 1);
	tap_eq(tls_sess_ktls_export(p.s, &tx, &rx), -EBUSY, "export after a record went out: -EBUSY");
	pair_close(&p);
	pair_open(&p, K01, 0, false, false);
	pump(&p);
	tap_eq(tls_sess_ktls_export(p.s, &tx, &rx), -EINVAL, "export without opts.ktls: -EINVAL");
	pair_close(&p);
}

static void test_sniff(void)
{
	static const uint8_t hello[6] = { 0x16, 0x03, 0x01, 0x00, 0x80, 0x01 };
	static const uint8_t icreq[8] = { 0x00, 0x00, 0x80, 0x00 };

	tap_eq(tls_sniff_client_hello(hello, 6), 1, "sniff: ClientHello");
	tap_eq(tls_sniff_client_hello(hello, 3), -EAGAIN, "sniff: 3 bytes are not enough");
	tap_eq(tls_sniff_client_hello(icreq, 8), 0, "sniff: ICReq");
	tap_eq(tls_sniff_client_hello(icreq, 0), -EAGAIN, "sniff: nothing yet");
}

int main(void)
{
	cctx = tls_ctx_new(TLS_ROLE_CLIENT);
	sctx = tls_ctx_new(TLS_ROLE_SERVER);
	if (!tap_ok(cctx && sctx, "contexts"))
		return tap_done();
	test_handshake(K01, 0, 1);
	test_handshake(K01, 1, 1);
	test_handshake(K02, 0, 2);
	test_handshake(K02, 1, 2);
	test_gathered();
	test_large();
	test_key_update();
	test_close_and_alerts();
	test_refusals();
	test_deadline();
	test_bad_use();
	test_ktls_export(K01, 1);
	test_ktls_export(K02, 2);
	test_ktls_exact();
	test_sniff();
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
	return tap_done();
}
