/* SPDX-License-Identifier: MIT */
/*
 * The NVMe/TCP transport state machine fed byte streams (no sockets), as SPDK's tcp_ut does:
 * the same session fed whole and byte by byte gives the same bytes back; malformed PDUs get
 * their TermReq; ICReq/Connect/PDU timeouts close; SQ flow control is enforced; write
 * buffers wait for the queue's budget instead of failing.
 */
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "harness.h"
#include "spec/nvme_tcp.h"
#include "spec/tcp_pdu.h"
#include "tap.h"
#include "target.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:0c0c0c0c-0000-4000-8000-000000000001"
#define SUBNQN "nqn.2026-11.io.nvring:default"

static const char *const args[] = { "-l", "127.0.0.1:0", "--ns", "mem:16M", "-t", "1", NULL };

/* ---- a little host: PDUs as bytes ---- */

struct wire {
	uint8_t b[1 << 21];
	size_t n;
};

static void put(struct wire *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void icreq(struct wire *w)
{
	struct nvme_tcp_icreq_pdu r = { 0 };

	r.hdr.type = NVME_TCP_ICREQ;
	r.hdr.hlen = r.hdr.plen = sizeof(r);
	put(w, &r, sizeof(r));
}

static void capsule(struct wire *w, const struct nvme_sqe *sqe, const void *icd, uint32_t icd_len)
{
	struct nvme_tcp_cmd_pdu c = { 0 };

	tcp_pdu_frame(&c.hdr, NVME_TCP_CMD, false, false, icd_len);
	c.cmd = *sqe;
	c.cmd.flags = NVME_CMD_PSDT_SGL;
	if (icd_len) {
		c.cmd.sgl.type = NVME_SGL_TYPE_ICD;
		c.cmd.sgl.length = icd_len;
	} else {
		c.cmd.sgl.type = NVME_SGL_TYPE_TRANSPORT;
	}
	put(w, &c, sizeof(c));
	if (icd_len)
		put(w, icd, icd_len);
}

static void connect_cmd(struct wire *w, uint16_t qid, uint16_t sqsize, uint16_t cntlid)
{
	struct nvmf_connect_sqe s = { 0 };
	uint8_t data[1024] = { 0 };

	s.opcode = NVME_FABRICS_OPCODE;
	s.cid = 0x100 + qid;
	s.fctype = nvme_fabrics_type_connect;
	s.qid = qid;
	s.sqsize = sqsize;
	s.kato = qid ? 0 : 30000;
	memcpy(data + 16, &cntlid, 2);
	strcpy((char *)data + 256, SUBNQN);
	strcpy((char *)data + 512, HOSTNQN);
	capsule(w, (struct nvme_sqe *)&s, data, sizeof(data));
}

static void prop_set_cc_en(struct wire *w)
{
	struct nvmf_property_sqe s = { 0 };

	s.opcode = NVME_FABRICS_OPCODE;
	s.cid = 2;
	s.fctype = nvme_fabrics_type_property_set;
	s.offset = NVME_REG_CC;
	s.value = 1 | (6u << 16) | (4u << 20);
	capsule(w, (struct nvme_sqe *)&s, NULL, 0);
}

static void rw(struct wire *w, uint8_t opc, uint16_t cid, uint64_t slba, uint32_t nlb, const void *data, uint32_t len)
{
	struct nvme_sqe s = { 0 };

	s.opcode = opc;
	s.cid = cid;
	s.nsid = 1;
	s.cdw10 = (uint32_t)slba;
	s.cdw11 = (uint32_t)(slba >> 32);
	s.cdw12 = nlb - 1;
	s.sgl.length = len;
	capsule(w, &s, data, data ? len : 0);
	if (!data) /* data comes later (R2T) or goes to the host (read) */
		((struct nvme_tcp_cmd_pdu *)(w->b + w->n - sizeof(struct nvme_tcp_cmd_pdu)))->cmd.sgl.length = len;
}

/* ---- reading what the target sent ---- */

/* The next PDU in c's output (NULL if none complete); *plen its length. */
static const struct nvme_tcp_hdr *next_pdu(struct th_conn *c, uint32_t *plen)
{
	size_t n;
	const uint8_t *o = th_out(c, &n);

	if (n < sizeof(struct nvme_tcp_hdr))
		return NULL;
	*plen = ((const struct nvme_tcp_hdr *)o)->plen;
	return n >= *plen ? (const void *)o : NULL;
}

/* Take PDUs until a CapsuleResp for cid (or anything else fatal): its status, or -1. */
static int resp_status(struct th_conn *c, uint16_t cid, uint32_t *dw0)
{
	const struct nvme_tcp_hdr *h;
	uint32_t plen = 0;

	while ((h = next_pdu(c, &plen))) {
		if (h->type == NVME_TCP_RSP) {
			const struct nvme_tcp_rsp_pdu *r = (const void *)h;
			int st = nvme_status_from_wire(r->cqe.status);
			uint16_t got = r->cqe.cid;

			if (dw0)
				*dw0 = r->cqe.dw0;
			th_take(c, plen);
			if (got == cid)
				return st;
			continue;
		}
		th_take(c, plen);
	}
	return -1;
}

/* An admin session: ICReq, Connect, CC.EN. Returns the controller ID, or -1. */
static int admin_session(struct th_conn *c, struct wire *w)
{
	uint32_t dw0 = 0;

	w->n = 0;
	icreq(w);
	connect_cmd(w, 0, 31, 0xffff);
	prop_set_cc_en(w);
	th_feed(c, w->b, w->n, 0);
	th_take(c, sizeof(struct nvme_tcp_icresp_pdu));
	if (resp_status(c, 0x100, &dw0) != 0 || resp_status(c, 2, NULL) != 0)
		return -1;
	return (int)(dw0 & 0xffff);
}

static struct wire W, W2;

static void test_icresp(void)
{
	struct th_conn *c = th_connect();
	const struct nvme_tcp_icresp_pdu *r;
	uint32_t plen = 0;

	W.n = 0;
	icreq(&W);
	th_feed(c, W.b, W.n, 0);
	r = (const void *)next_pdu(c, &plen);
	if (tap_ok(r != NULL, "ICReq: an ICResp comes back")) {
		tap_eq(r->hdr.type, NVME_TCP_ICRESP, "ICResp: type");
		tap_eq(plen, 128, "ICResp: plen 128");
		tap_eq(r->pfv, 0, "ICResp: PFV 0");
		tap_eq(r->maxh2cdata, 1 << 20, "ICResp: MAXH2CDATA 1 MiB");
	}
	th_drop(c);
}

/* The same bytes whole and byte by byte: the same answer, byte for byte. */
static void test_split_delivery(void)
{
	static uint8_t data[4096], out1[1 << 16], out2[1 << 16];
	size_t n1, n2;
	struct th_conn *a = th_connect(), *b = th_connect();
	const uint8_t *o;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	W.n = 0;
	icreq(&W);
	connect_cmd(&W, 0, 31, 0xffff);
	prop_set_cc_en(&W);
	th_feed(a, W.b, W.n, 0);
	th_feed(b, W.b, W.n, 1);
	o = th_out(a, &n1);
	memcpy(out1, o, n1);
	o = th_out(b, &n2);
	memcpy(out2, o, n2);
	/* the controller IDs differ (CQE DW0 of the Connect response): compare the rest */
	tap_eq(n1, n2, "byte by byte: as many bytes back as fed whole (%zu)", n1);
	tap_ok(n1 > 128 + 24 && !memcmp(out1, out2, 128 + 8) && !memcmp(out1 + 128 + 12, out2 + 128 + 12, n1 - 140),
	       "byte by byte: the same PDUs back");
	th_drop(a);
	th_drop(b);
}

static void test_fatal(void)
{
	static const uint8_t bad[8] = { 0xff, 0, 8, 0, 8, 0, 0, 0 };
	const struct nvme_tcp_term_pdu *t;
	struct th_conn *c = th_connect();
	uint32_t plen = 0;

	th_feed(c, bad, sizeof(bad), 0);
	t = (const void *)next_pdu(c, &plen);
	if (tap_ok(t && t->hdr.type == NVME_TCP_C2H_TERM, "bad PDU type: C2HTermReq")) {
		tap_eq(t->fes, NVME_TCP_FES_INVALID_PDU_HDR, "bad PDU type: FES 1");
		tap_eq(t->fei, 0, "bad PDU type: FEI 0 (type)");
		tap_ok(plen == 24 + 8 && !memcmp((const uint8_t *)t + 24, bad, 8), "bad PDU type: the header echoed");
	}
	tap_ok(th_closed(c), "bad PDU type: the connection closes");
	th_drop(c);
}

static void test_timeouts(void)
{
	struct th_conn *idle = th_connect(), *half = th_connect(), *noconn = th_connect();
	struct th_conn *mid = th_connect(), *ok = th_connect();

	W.n = 0;
	icreq(&W);
	th_feed(half, W.b, 64, 0);   /* half an ICReq */
	th_feed(noconn, W.b, W.n, 0); /* ICReq only */
	if (tap_ok(admin_session(mid, &W2) > 0, "session for the mid-PDU case")) {
		W.n = 0;
		rw(&W, nvme_cmd_write, 9, 0, 8, NULL, 4096);
		th_feed(mid, W.b, 40, 0);  /* half a capsule header */
	}
	tap_ok(admin_session(ok, &W2) > 0, "a session that behaves");
	th_advance(9000);
	tap_ok(!th_closed(idle) && !th_closed(half) && !th_closed(noconn) && !th_closed(mid),
	       "before 10 s nobody is dropped");
	th_advance(1500);
	tap_ok(th_closed(idle), "no ICReq within 10 s: closed");
	tap_ok(th_closed(half), "half an ICReq for 10 s: closed");
	tap_ok(th_closed(noconn), "ICReq but no Connect within 10 s: closed");
	tap_ok(th_closed(mid), "a PDU started and not finished for 10 s: closed");
	tap_ok(!th_closed(ok), "a connected idle admin queue stays (keep-alive governs it)");
	th_drop(idle);
	th_drop(half);
	th_drop(noconn);
	th_drop(mid);
	th_drop(ok);
}

/* An I/O queue with SQSIZE 1 (2 entries) takes 2 outstanding commands; a third breaks SQ flow
 * control: Command Sequence Error, and the queue keeps working. */
static void test_sqsize(void)
{
	struct th_conn *a = th_connect(), *q = th_connect();
	int cntlid = admin_session(a, &W);
	uint32_t plen = 0;
	int r2ts = 0;

	if (!tap_ok(cntlid > 0, "sqsize: admin session"))
		goto out;
	W.n = 0;
	icreq(&W);
	connect_cmd(&W, 1, 1, (uint16_t)cntlid);
	th_feed(q, W.b, W.n, 0);
	th_take(q, 128);
	tap_eq(resp_status(q, 0x101, NULL), 0, "sqsize: I/O Connect with SQSIZE 1");
	/* three writes whose data the host holds back: each stays outstanding */
	W.n = 0;
	for (uint16_t cid = 1; cid <= 3; cid++)
		rw(&W, nvme_cmd_write, cid, cid * 8, 8, NULL, 4096);
	th_feed(q, W.b, W.n, 0);
	for (const struct nvme_tcp_hdr *h; (h = next_pdu(q, &plen));) {
		if (h->type == NVME_TCP_R2T) {
			r2ts++;
			th_take(q, plen);
			continue;
		}
		break;
	}
	tap_eq(r2ts, 2, "sqsize: R2Ts for the two commands the queue holds");
	tap_eq(resp_status(q, 3, NULL), NVME_STATUS_DNR | NVME_SC_CMD_SEQ_ERROR,
	       "sqsize: the third: Command Sequence Error, DNR");
	tap_ok(!th_closed(q), "sqsize: the queue stays");
out:
	th_drop(q);
	th_drop(a);
}

/* Write buffers are taken when the R2T is sent, within the queue's budget (32 MiB by
 * default): 40 writes of 1 MiB whose data never comes get 32 R2Ts; the rest wait, none fails.
 * Sending the data for one lets the next R2T out. */
static void test_budget(void)
{
	static uint8_t mib[1 << 20];
	struct th_conn *a = th_connect(), *q = th_connect();
	int cntlid = admin_session(a, &W);
	const struct nvme_tcp_r2t_pdu *first = NULL;
	struct nvme_tcp_r2t_pdu r2t0;
	uint32_t plen = 0;
	int r2ts = 0, other = 0;

	if (!tap_ok(cntlid > 0, "budget: admin session"))
		goto out;
	W.n = 0;
	icreq(&W);
	connect_cmd(&W, 1, 127, (uint16_t)cntlid);
	th_feed(q, W.b, W.n, 0);
	th_take(q, 128);
	tap_eq(resp_status(q, 0x101, NULL), 0, "budget: I/O Connect");
	W.n = 0;
	for (uint16_t cid = 1; cid <= 40; cid++)
		rw(&W, nvme_cmd_write, cid, 0, 2048, NULL, 1 << 20);
	th_feed(q, W.b, W.n, 0);
	for (const struct nvme_tcp_hdr *h; (h = next_pdu(q, &plen)); th_take(q, plen)) {
		if (h->type != NVME_TCP_R2T) {
			other++;
			continue;
		}
		if (!first) {
			memcpy(&r2t0, h, sizeof(r2t0));
			first = &r2t0;
		}
		r2ts++;
	}
	tap_eq(r2ts, 32, "budget: 32 R2Ts of 1 MiB within the 32 MiB per queue");
	tap_eq(other, 0, "budget: nothing failed");
	if (first) {
		struct nvme_tcp_data_pdu d = { 0 };

		tcp_pdu_frame(&d.hdr, NVME_TCP_H2C_DATA, false, false, 1 << 20);
		d.hdr.flags |= NVME_TCP_F_DATA_LAST;
		d.cccid = first->cccid;
		d.ttag = first->ttag;
		d.datal = 1 << 20;
		W.n = 0;
		put(&W, &d, sizeof(d));
		put(&W, mib, sizeof(mib));
		th_feed(q, W.b, W.n, 0);
		r2ts = 0;
		for (const struct nvme_tcp_hdr *h; (h = next_pdu(q, &plen)); th_take(q, plen)) {
			if (h->type == NVME_TCP_R2T)
				r2ts++;
			else if (h->type == NVME_TCP_RSP)
				tap_eq(((const struct nvme_tcp_rsp_pdu *)h)->cqe.status, 0, "budget: the write with data completes");
		}
		tap_eq(r2ts, 1, "budget: its buffer came back: one more R2T");
	}
	tap_ok(!th_closed(q), "budget: the queue stays");
	/* the host never sends the rest: the R2Ts go unanswered past --pdu-timeout */
	th_advance(10500);
	tap_ok(th_closed(q), "budget: R2Ts unanswered for 10 s: closed");
out:
	th_drop(q);
	th_drop(a);
}

int main(void)
{
	if (!tap_ok(th_init(args) == 0, "an in-process target"))
		return tap_done();
	test_icresp();
	test_split_delivery();
	test_fatal();
	test_timeouts();
	test_sqsize();
	test_budget();
	th_fini();
	return tap_done();
}
