/* SPDX-License-Identifier: MIT */
/*
 * The ceiling of the userspace TLS record path on one core: src/tls sessions in memory (no
 * sockets), NVMe/TCP-shaped traffic as a target sends it and a host receives it.
 *
 *   read4k   per command: C2HData header (24) + 4 KiB + CapsuleResp (24), `batch` commands per
 *            writev (the PDUs one sendmsg would carry at that queue depth)
 *   read128k per command: C2HData header + 128 KiB + CapsuleResp
 *
 * encrypt = tls_sess_writev of the batch (gathered into records of up to 16 KiB), decrypt =
 * tls_sess_read of all of it into a payload buffer (the copy a host does anyway); the
 * ciphertext hand-over between them (what recv does) is not counted. "aead" is plain EVP
 * AES-GCM over the same bytes in 16 KiB pieces: the crypto alone. Also: one record per PDU
 * piece (writev per iovec) to show what gathering saves. Times are the thread's CPU time.
 *
 *   tls_records [--seconds S] [--json]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "tls/psk.h"
#include "tls/session.h"

/* CPU time of this thread: what one core spends, whatever else the machine runs */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const uint8_t *tls_psk_bytes;

static int lookup(void *arg, const char *identity, size_t len, uint8_t psk[TLS_PSK_MAX])
{
	size_t n = *(size_t *)arg;

	(void)identity;
	(void)len;
	memcpy(psk, tls_psk_bytes, n);
	return (int)n;
}

struct pair {
	struct tls_ctx *cctx, *sctx;
	struct tls_sess *c, *s;
	size_t psk_len;
};

static size_t carry(struct tls_sess *from, struct tls_sess *to)
{
	size_t n, k;
	const uint8_t *ct = tls_sess_tx_peek(from, &n);

	k = n ? tls_sess_feed(to, ct, n) : 0;
	tls_sess_tx_consume(from, k);
	return k;
}

static int pair_open(struct pair *p, size_t psk_len)
{
	static uint8_t psk[48];
	struct tls_sess_opts co = { .identity = "NVMe0R01 nqn.bench-host nqn.bench-sub", .psk = psk, .psk_len = psk_len,
				    .rx_cap = 1u << 20, .tx_cap = 2u << 20 };
	struct tls_sess_opts so = { .lookup = lookup, .lookup_arg = &p->psk_len, .rx_cap = 1u << 20, .tx_cap = 2u << 20 };

	memset(psk, 0x5a, sizeof(psk));
	tls_psk_bytes = psk;
	p->psk_len = psk_len;
	if (psk_len == 48)
		co.identity = "NVMe0R02 nqn.bench-host nqn.bench-sub";
	p->cctx = tls_ctx_new(TLS_ROLE_CLIENT);
	p->sctx = tls_ctx_new(TLS_ROLE_SERVER);
	if (!p->cctx || !p->sctx || tls_sess_new(p->cctx, &co, &p->c) || tls_sess_new(p->sctx, &so, &p->s))
		return -1;
	for (int i = 0; i < 50 && !(tls_sess_established(p->c) && tls_sess_established(p->s)); i++) {
		tls_sess_handshake(p->c);
		tls_sess_handshake(p->s);
		carry(p->c, p->s);
		carry(p->s, p->c);
	}
	return tls_sess_established(p->c) && tls_sess_established(p->s) ? 0 : -1;
}

static void pair_close(struct pair *p)
{
	tls_sess_free(p->c);
	tls_sess_free(p->s);
	tls_ctx_free(p->cctx);
	tls_ctx_free(p->sctx);
}

static int count_records(const uint8_t *p, size_t n)
{
	int cnt = 0;

	for (size_t off = 0; off + 5 <= n; cnt++)
		off += 5 + ((size_t)p[off + 3] << 8 | p[off + 4]);
	return cnt;
}

struct result {
	double enc_s, dec_s, bytes, records, cmds;
};

/* batch commands of data bytes each, server -> client, for `seconds`. */
static int run(size_t psk_len, size_t data, int batch, bool per_piece, double seconds, struct result *r)
{
	struct pair p;
	struct iovec *iov = calloc((size_t)batch * 3, sizeof(*iov));
	uint8_t *payload = malloc(data), *sink = malloc(data + 64), hdr[24], rsp[24];
	double t_end;

	memset(r, 0, sizeof(*r));
	if (!iov || !payload || !sink || pair_open(&p, psk_len))
		return -1;
	memset(payload, 0xa5, data);
	memset(hdr, 7, sizeof(hdr));
	memset(rsp, 5, sizeof(rsp));
	for (int i = 0; i < batch; i++) {
		iov[3 * i] = (struct iovec){ hdr, sizeof(hdr) };
		iov[3 * i + 1] = (struct iovec){ payload, data };
		iov[3 * i + 2] = (struct iovec){ rsp, sizeof(rsp) };
	}
	t_end = now_s() + seconds;
	while (now_s() < t_end) {
		size_t total = (size_t)batch * (data + 48), sent = 0, got = 0, n;
		int idx = 0;
		struct iovec cur[3 * 64];

		memcpy(cur, iov, sizeof(iov[0]) * (size_t)batch * 3);
		while (sent < total) {
			double t0 = now_s(), t1;
			ssize_t w;

			if (per_piece) {
				w = tls_sess_writev(p.s, &cur[idx], 1);
			} else {
				w = tls_sess_writev(p.s, &cur[idx], batch * 3 - idx);
			}
			t1 = now_s();
			r->enc_s += t1 - t0;
			if (w <= 0)
				return -1;
			sent += (size_t)w;
			for (size_t left = (size_t)w; left;) {
				size_t k = left < cur[idx].iov_len ? left : cur[idx].iov_len;

				cur[idx].iov_base = (uint8_t *)cur[idx].iov_base + k;
				cur[idx].iov_len -= k;
				left -= k;
				if (!cur[idx].iov_len)
					idx++;
			}
			/* the host side: ciphertext arrives (not timed), records are opened */
			while (tls_sess_tx_peek(p.s, &n), n) {
				r->records += count_records(tls_sess_tx_peek(p.s, &n), n);
				if (!carry(p.s, p.c))
					return -1;
				t0 = now_s();
				for (;;) {
					ssize_t k = tls_sess_read(p.c, sink, data + 64);

					if (k <= 0)
						break;
					got += (size_t)k;
				}
				r->dec_s += now_s() - t0;
			}
		}
		if (got != total)
			return -1;
		r->bytes += (double)total;
		r->cmds += batch;
	}
	pair_close(&p);
	free(iov);
	free(payload);
	free(sink);
	return 0;
}

/* EVP AES-GCM alone: seal then open records of rec bytes (16 KiB: the crypto's throughput; small:
 * its fixed cost per record). */
static double aead(size_t key_len, size_t rec, double seconds, double *open_s, double *ns_per_rec)
{
	const EVP_CIPHER *c = key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
	EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new(), *d = EVP_CIPHER_CTX_new();
	static uint8_t buf[TLS_RECORD_MAX + 16], out[TLS_RECORD_MAX + 16];
	uint8_t key[32] = { 1 }, iv[12] = { 2 }, tag[16], aad[5] = { 23, 3, 3 };
	double seal = 0, open = 0, bytes = 0, recs = 0, t_end = now_s() + seconds;
	int l;

	/* key schedule once, a new nonce per record: what a TLS record layer does */
	EVP_EncryptInit_ex(e, c, NULL, key, iv);
	EVP_DecryptInit_ex(d, c, NULL, key, iv);
	while (now_s() < t_end) {
		double t0 = now_s();

		iv[11]++;
		EVP_EncryptInit_ex(e, NULL, NULL, NULL, iv);
		EVP_EncryptUpdate(e, NULL, &l, aad, 5);
		EVP_EncryptUpdate(e, out, &l, buf, (int)rec);
		EVP_EncryptFinal_ex(e, out + l, &l);
		EVP_CIPHER_CTX_ctrl(e, EVP_CTRL_GCM_GET_TAG, 16, tag);
		seal += now_s() - t0;
		t0 = now_s();
		EVP_DecryptInit_ex(d, NULL, NULL, NULL, iv);
		EVP_DecryptUpdate(d, NULL, &l, aad, 5);
		EVP_DecryptUpdate(d, buf, &l, out, (int)rec);
		EVP_CIPHER_CTX_ctrl(d, EVP_CTRL_GCM_SET_TAG, 16, tag);
		if (EVP_DecryptFinal_ex(d, buf + l, &l) <= 0)
			return -1;
		open += now_s() - t0;
		bytes += (double)rec;
		recs++;
	}
	EVP_CIPHER_CTX_free(e);
	EVP_CIPHER_CTX_free(d);
	*open_s = bytes / open / 1e6;
	*ns_per_rec = seal / recs * 1e9;
	return bytes / seal / 1e6;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		size_t data;
		int batch;
		bool per_piece;
	} w[] = {
		{ "read4k-qd1", 4096, 1, false },     { "read4k-qd32", 4096, 32, false },
		{ "read4k-qd32-per-pdu", 4096, 32, true }, { "read128k-qd1", 128 * 1024, 1, false },
		{ "read128k-qd8", 128 * 1024, 8, false },
	};
	double seconds = 1.0;
	bool json = false;
	int first = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else {
			fprintf(stderr, "usage: tls_records [--seconds S] [--json]\n");
			return 2;
		}
	}
	if (json)
		printf("{\n \"points\": [\n");
	else
		printf("%-22s %-8s %10s %10s %10s %12s %10s %10s %9s\n", "workload", "suite", "enc MB/s", "dec MB/s",
		       "both MB/s", "records/s", "ns/rec enc", "ns/rec dec", "cmds/s");
	for (size_t k = 0; k < 2; k++) {
		size_t psk_len = k ? 48 : 32;
		const char *suite = k ? "aes256" : "aes128";
		double seal, open = 0;

		for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
			struct result r;
			double both;

			if (run(psk_len, w[i].data, w[i].batch, w[i].per_piece, seconds, &r)) {
				fprintf(stderr, "tls_records: %s failed\n", w[i].name);
				return 1;
			}
			both = r.bytes / (r.enc_s + r.dec_s) / 1e6;
			if (json)
				printf("%s  {\"workload\": \"%s\", \"suite\": \"%s\", \"enc_mb_s\": %.0f, \"dec_mb_s\": %.0f, "
				       "\"both_mb_s\": %.0f, \"records_per_s\": %.0f, \"ns_per_record_enc\": %.0f, "
				       "\"ns_per_record_dec\": %.0f, \"cmds_per_s_one_core\": %.0f}",
				       first ? "" : ",\n", w[i].name, suite, r.bytes / r.enc_s / 1e6, r.bytes / r.dec_s / 1e6,
				       both, r.records / (r.enc_s + r.dec_s), r.enc_s / r.records * 1e9,
				       r.dec_s / r.records * 1e9, r.cmds / (r.enc_s + r.dec_s));
			else
				printf("%-22s %-8s %10.0f %10.0f %10.0f %12.0f %10.0f %10.0f %9.0f\n", w[i].name, suite,
				       r.bytes / r.enc_s / 1e6, r.bytes / r.dec_s / 1e6, both, r.records / (r.enc_s + r.dec_s),
				       r.enc_s / r.records * 1e9, r.dec_s / r.records * 1e9, r.cmds / (r.enc_s + r.dec_s));
			first = 0;
		}
		for (size_t rec = 64; rec <= TLS_RECORD_MAX; rec *= 256) {
			double ns = 0;

			seal = aead(k ? 32 : 16, rec, seconds, &open, &ns);
			if (json)
				printf(",\n  {\"workload\": \"aead-%zu\", \"suite\": \"%s\", \"enc_mb_s\": %.0f, \"dec_mb_s\": %.0f, "
				       "\"ns_per_record_enc\": %.0f}", rec, suite, seal, open, ns);
			else
				printf("%-22s %-8s %10.0f %10.0f %10s %12s %10.0f\n", rec == 64 ? "aead-64B (EVP only)" : "aead-16k (EVP only)",
				       suite, seal, open, "", "", ns);
		}
	}
	if (json)
		printf("\n ]\n}\n");
	return 0;
}
