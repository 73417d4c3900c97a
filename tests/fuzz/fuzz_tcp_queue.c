/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the NVMe/TCP receive path and every command handler behind it, in
 * process (tests/unit/tcp/harness.c: the real target over an in-memory stream).
 *
 * Input: byte 0 picks where the bytes go (bits 1:0: a fresh connection, the admin queue of a
 * live controller, or an I/O queue of one, whose namespaces are RAM (512 B and 4 KiB blocks)
 * and an in-memory KV store); byte 1 the piece size the bytes arrive in (0 = all at once).
 * The rest is what the host sends. The target must never crash, leak or hang, whatever it is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "harness.h"
#include "spec/nvme_tcp.h"
#include "spec/tcp_pdu.h"

static const char *const args[] = { "-l", "127.0.0.1:0", "--ns", "mem:4M", "--ns", "mem:4M,bs=4096",
				    "--ns", "kv:mem,size=32M,segment_size=1M,max_value=64K", "-t", "1", NULL };

static uint8_t pre[4096];
static size_t pre_len;

static void put(const void *p, size_t n)
{
	if (n)
		memcpy(pre + pre_len, p, n);
	pre_len += n;
}

static void capsule(const struct nvme_sqe *sqe, const void *icd, uint32_t len)
{
	struct nvme_tcp_cmd_pdu c = { 0 };

	tcp_pdu_frame(&c.hdr, NVME_TCP_CMD, false, false, len);
	c.cmd = *sqe;
	c.cmd.flags = NVME_CMD_PSDT_SGL;
	c.cmd.sgl.type = len ? NVME_SGL_TYPE_ICD : NVME_SGL_TYPE_TRANSPORT;
	c.cmd.sgl.length = len;
	put(&c, sizeof(c));
	put(icd, len);
}

/* ICReq + Connect(qid) (+ CC.EN on the admin queue) as a Linux host sends them */
static void session(uint16_t qid, uint16_t cntlid)
{
	struct nvme_tcp_icreq_pdu ic = { 0 };
	struct nvmf_connect_sqe s = { 0 };
	uint8_t data[1024] = { 0 };

	ic.hdr.type = NVME_TCP_ICREQ;
	ic.hdr.hlen = ic.hdr.plen = sizeof(ic);
	put(&ic, sizeof(ic));
	s.opcode = NVME_FABRICS_OPCODE;
	s.fctype = nvme_fabrics_type_connect;
	s.qid = qid;
	s.sqsize = qid ? 127 : 31;
	s.cid = 0x7000;
	memcpy(data + 16, &cntlid, 2);
	strcpy((char *)data + 256, "nqn.2026-11.io.nvring:default");
	strcpy((char *)data + 512, "nqn.2014-08.org.nvmexpress:uuid:f0f0f0f0-0000-4000-8000-00000000f022");
	capsule((struct nvme_sqe *)&s, data, sizeof(data));
	if (!qid) {
		struct nvmf_property_sqe p = { 0 };

		p.opcode = NVME_FABRICS_OPCODE;
		p.fctype = nvme_fabrics_type_property_set;
		p.cid = 0x7001;
		p.offset = NVME_REG_CC;
		p.value = 1 | (6u << 16) | (4u << 20) | (6u << 4); /* CSS: all I/O command sets */
		capsule((struct nvme_sqe *)&p, NULL, 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct th_conn *admin = NULL, *c;
	unsigned mode, chunk;

	if (!ready) {
		if (th_init(args))
			abort();
		ready = 1;
	}
	if (size < 2)
		return 0;
	mode = data[0] & 3;
	chunk = data[1];
	data += 2;
	size -= 2;
	if (mode >= 1) {
		/* a live controller: cntlid from its Connect response (CQE DW0 at byte 128 + 8) */
		size_t n;
		uint16_t cntlid;

		admin = th_connect();
		pre_len = 0;
		session(0, 0xffff);
		th_feed(admin, pre, pre_len, 0);
		if (th_out(admin, &n) && n >= 128 + 24)
			memcpy(&cntlid, th_out(admin, &n) + 128 + 8, 2);
		else
			cntlid = 1;
		if (mode == 1) {
			c = admin;
		} else {
			c = th_connect();
			pre_len = 0;
			session(1, cntlid);
			th_feed(c, pre, pre_len, 0);
		}
	} else {
		c = th_connect();
	}
	th_feed(c, data, size, chunk);
	th_hangup(c);
	if (c != admin)
		th_drop(c);
	if (admin)
		th_drop(admin);
	return 0;
}
