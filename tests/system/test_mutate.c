/* SPDX-License-Identifier: MIT */
/*
 * Structured mutations of real PDU streams over real sockets: each round builds what a host
 * sends (ICReq, Connect, admin commands, NVM reads and writes in-capsule and by R2T/H2CData,
 * KV store/retrieve), damages it (bytes set, header fields changed, cut short, a PDU repeated
 * or dropped), sends it on a fresh connection, ends it (FIN or RST) and waits for the target to
 * close. After each burst a bystander host must still read back what it wrote: no crash, no
 * hang, no corruption, under ASan in CI. MUTATE_PDUS=N sets the number of PDUs (default 50000;
 * the documented long run used 10^6), MUTATE_SEED the seed.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nvme/types.h>

#include "bystander.h"
#include "spec/nvme_kv.h"
#include "tap.h"
#include "tclient.h"

static struct tc_daemon D;
static int PORT;
static struct tc_bystander BY = {.lba = 4000, .seed = 99};
static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

struct stream {
	uint8_t b[64 * 1024];
	uint32_t n;
	uint32_t pdu_at[64]; /* where each PDU starts */
	unsigned pdus;
};

static void emit(struct stream *s, const void *p, uint32_t n)
{
	if (s->n + n > sizeof(s->b))
		return;
	if (s->pdus < 64)
		s->pdu_at[s->pdus++] = s->n;
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static void capsule(struct stream *s, struct nvme_sqe *sqe, const void *icd, uint32_t len)
{
	uint8_t pdu[sizeof(struct nvme_tcp_cmd_pdu) + 8192];
	struct nvme_tcp_cmd_pdu *c = (void *)pdu;

	memset(c, 0, sizeof(*c));
	c->hdr.type = NVME_TCP_CMD;
	c->hdr.hlen = sizeof(*c);
	c->hdr.pdo = len ? sizeof(*c) : 0;
	c->hdr.plen = sizeof(*c) + len;
	c->cmd = *sqe;
	c->cmd.flags = NVME_CMD_PSDT_SGL;
	c->cmd.sgl.type = len ? NVME_SGL_TYPE_ICD : NVME_SGL_TYPE_TRANSPORT;
	if (len)
		c->cmd.sgl.length = len;
	if (len)
		memcpy(pdu + sizeof(*c), icd, len);
	emit(s, pdu, sizeof(*c) + len);
}

static void h2c(struct stream *s, uint16_t cid, uint16_t ttag, uint32_t len)
{
	uint8_t pdu[sizeof(struct nvme_tcp_data_pdu) + 4096];
	struct nvme_tcp_data_pdu *d = (void *)pdu;

	memset(pdu, 0x5a, sizeof(pdu));
	memset(d, 0, sizeof(*d));
	d->hdr.type = NVME_TCP_H2C_DATA;
	d->hdr.flags = NVME_TCP_F_DATA_LAST;
	d->hdr.hlen = sizeof(*d);
	d->hdr.pdo = sizeof(*d);
	d->hdr.plen = sizeof(*d) + len;
	d->cccid = cid;
	d->ttag = ttag; /* the target's tag is not known in advance: a guess, often wrong on purpose */
	d->datal = len;
	emit(s, pdu, sizeof(*d) + len);
}

/* A host's session: admin or I/O queue with a mix of commands. */
static void build(struct stream *s, bool io, uint16_t cntlid)
{
	struct nvme_tcp_icreq_pdu ic;
	uint8_t cd[1024] = { 0 }, data[4096];
	struct nvme_sqe sqe;
	struct nvmf_connect_sqe *con = (void *)&sqe;

	tc_icreq_pdu(&ic, 0, 0, 0);
	emit(s, &ic, sizeof(ic));
	memset(&sqe, 0, sizeof(sqe));
	con->opcode = NVME_FABRICS_OPCODE;
	con->fctype = 0x01;
	con->qid = io ? 1 + rnd() % 2 : 0;
	con->sqsize = 31;
	con->kato = io ? 0 : 20000;
	memcpy(cd + 16, &cntlid, 2);
	strcpy((char *)cd + 256, TC_SUBNQN);
	strcpy((char *)cd + 512, TC_HOSTNQN);
	capsule(s, &sqe, cd, sizeof(cd));
	for (unsigned i = 0, n = 2 + rnd() % 8; i < n; i++) {
		uint16_t cid = (uint16_t)(i + 1);

		memset(&sqe, 0, sizeof(sqe));
		sqe.cid = cid;
		sqe.nsid = 1 + rnd() % 3;
		switch (rnd() % (io ? 6 : 3)) {
		case 0: /* identify / read: C2H */
			sqe.opcode = io ? nvme_cmd_read : nvme_admin_identify;
			sqe.cdw10 = io ? rnd() % 64 : rnd() % 8;
			sqe.cdw12 = io ? rnd() % 8 : 0;
			sqe.sgl.length = 4096;
			capsule(s, &sqe, NULL, 0);
			break;
		case 1: /* in-capsule write / set features */
			sqe.opcode = io ? nvme_cmd_write : nvme_admin_set_features;
			sqe.cdw10 = rnd() % 64;
			sqe.cdw12 = io ? 7 : 0;
			capsule(s, &sqe, data, io ? 4096 : 512);
			break;
		case 2: /* get log page */
			sqe.opcode = io ? nvme_cmd_flush : nvme_admin_get_log_page;
			sqe.cdw10 = (rnd() % 8) | (127u << 16);
			sqe.sgl.length = io ? 0 : 512;
			capsule(s, &sqe, NULL, 0);
			break;
		case 3: /* a write by R2T, with (guessed) H2CData */
			sqe.opcode = nvme_cmd_write;
			sqe.cdw10 = rnd() % 64;
			sqe.cdw12 = 7;
			sqe.sgl.length = 4096;
			capsule(s, &sqe, NULL, 0);
			h2c(s, cid, (uint16_t)(rnd() % 4), 4096);
			break;
		case 4: /* KV store (namespace 3 is KV) */
			sqe.opcode = NVME_KV_OPC_STORE;
			sqe.nsid = 3;
			sqe.cdw10 = 1 + rnd() % 512;
			sqe.cdw11 = 1 + rnd() % 16;
			sqe.cdw2 = rnd();
			capsule(s, &sqe, data, sqe.cdw10);
			break;
		default: /* KV retrieve / vendor retrieve */
			sqe.opcode = rnd() & 1 ? NVME_KV_OPC_RETRIEVE : KVSSD_OPC_RETRIEVE;
			sqe.nsid = 3;
			sqe.cdw10 = 4096;
			sqe.cdw11 = rnd() % 17;
			sqe.sgl.length = 4096;
			capsule(s, &sqe, NULL, 0);
			break;
		}
	}
}

/* Damage the stream: a handful of structured and blind changes. */
static void mutate(struct stream *s)
{
	for (unsigned k = 0, n = 1 + rnd() % 4; k < n && s->n; k++) {
		uint32_t at = s->pdu_at[rnd() % s->pdus];
		uint32_t v = rnd();

		switch (rnd() % 8) {
		case 0: /* a header byte */
			s->b[at + rnd() % 8] = (uint8_t)v;
			break;
		case 1: /* plen */
			if (at + 8 <= s->n)
				memcpy(s->b + at + 4, &v, 4);
			break;
		case 2: /* any byte */
			s->b[rnd() % s->n] = (uint8_t)v;
			break;
		case 3: /* cut short */
			s->n = rnd() % s->n;
			break;
		case 4: /* a field of the SQE or data PDU header */
			if (at + 72 <= s->n)
				memcpy(s->b + at + 8 + (rnd() % 16) * 4, &v, 4);
			break;
		case 5: /* repeat the first PDU (ICReq twice) */
			if (s->n + 128 <= sizeof(s->b)) {
				memmove(s->b + 128, s->b, s->n);
				s->n += 128;
			}
			break;
		case 6: /* drop the ICReq */
			if (s->n > 128) {
				memmove(s->b, s->b + 128, s->n - 128);
				s->n -= 128;
			}
			break;
		default: /* a digest flag nobody negotiated */
			s->b[at + 1] ^= (uint8_t)(1u << (v % 4));
			break;
		}
	}
}

/* Send, end the stream, and wait for the target to close: it must never hang. */
static bool round_trip(const struct stream *s, bool rst)
{
	struct tc_conn c;
	uint8_t sink[65536];
	uint64_t deadline;

	if (tc_open(&c, PORT))
		return false;
	if (s->n && send(c.fd, s->b, s->n, MSG_NOSIGNAL) < 0) {
		tc_close(&c);
		return true; /* the target closed first: fine */
	}
	if (rst) {
		struct linger lg = { 1, 0 };

		setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		tc_close(&c);
		return true;
	}
	shutdown(c.fd, SHUT_WR);
	deadline = tc_now_ms() + 10000;
	while (tc_now_ms() < deadline) {
		struct pollfd p = { .fd = c.fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 200) <= 0)
			continue;
		r = recv(c.fd, sink, sizeof(sink), 0);
		if (r <= 0) {
			tc_close(&c);
			return true;
		}
	}
	tc_close(&c);
	return false; /* still open 10 s after our FIN: a hang */
}

static void t_bystander(void)
{
	tc_bystander_open(&BY, PORT);
}

static void t_mutations(void)
{
	const char *e = getenv("MUTATE_PDUS");
	uint64_t want = e ? strtoull(e, NULL, 10) : 50000, pdus = 0;
	unsigned hangs = 0, rounds = 0, checks = 0;

	e = getenv("MUTATE_SEED");
	rng = e ? strtoull(e, NULL, 10) : 0x9e3779b97f4a7c15ull;
	REQUIRE(BY.ok);
	while (pdus < want && hangs == 0) {
		static struct stream s;

		s.n = s.pdus = 0;
		build(&s, rnd() % 3 != 0, BY.admin.cntlid);
		pdus += s.pdus;
		if (rnd() % 8)
			mutate(&s);
		hangs += !round_trip(&s, rnd() % 4 == 0);
		if (++rounds % 200 == 0) {
			tc_bystander_check(&BY);
			checks++;
			if (!BY.ok)
				break;
		}
	}
	tc_bystander_check(&BY);
	CHECK_EQ(hangs, 0);
	CHECK(BY.ok);
	tap_diag("%llu PDUs in %u mutated sessions, %u bystander checks", (unsigned long long)pdus, rounds, checks + 1);
}

static void t_stop(void)
{
	tc_bystander_close(&BY);
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	static const char *const args[] = { "-l", "127.0.0.1:0", "--ns", "mem:64M", "--ns", "mem:16M,bs=4096",
					    "--ns", "kv:mem,size=64M", "-t", "2", NULL };
	int status;

	if (!tc_suite_start(&D, args, "nvringd starts", &PORT, t_stop, &status))
		return status;
	tap_run("bystander session", t_bystander);
	tap_run("mutated PDU streams: no crash, no hang, the bystander reads back what it wrote", t_mutations);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
