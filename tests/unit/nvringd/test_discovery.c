/* SPDX-License-Identifier: MIT */
/* The discovery controller: log page records byte by byte, host filtering, GENCTR, windows, AEN. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "fixture.h"
#include "tap.h"
#include "cmd/identify.h"

#define ST_INVALID_FIELD 0x4002
#define ST_INVALID_OPCODE 0x4001
#define AEN_DISC_CHANGED 0x0070f002u
#define HOST_A "nqn.2014-08.org.nvmexpress:uuid:host-a"
#define HOST_B "nqn.2014-08.org.nvmexpress:uuid:host-b"

static struct target *tgt;
static struct nvr_ctrl *dctrl;
static char *sub2_hosts[] = { HOST_B };

static void mk_port(struct nvr_port *p, uint16_t id, int family, const char *addr, const char *svc, bool disc)
{
	p->portid = id;
	p->family = family;
	snprintf(p->traddr, sizeof(p->traddr), "%s", addr);
	snprintf(p->trsvcid, sizeof(p->trsvcid), "%s", svc);
	p->discovery_only = disc;
}

/* ports: 1 = 127.0.0.1:4420, 2 = [::1]:4421, 3 = 127.0.0.1:8009 (discovery only)
 * subsystems: discovery; sub1 (any host) on ports 1 and 2; sub2 (host B only) on port 1 */
static void mk_target(void)
{
	struct nvr_subsys *disc, *sub1, *sub2;
	struct nvr_ns *ns = fx_ns_nvm(1, 9, 8);
	struct nvr_topo *topo;

	tgt = fx_alloc(sizeof(*tgt));
	tgt->ports = fx_alloc(3 * sizeof(*tgt->ports));
	tgt->nr_ports = 3;
	for (unsigned i = 0; i < 3; i++)
		tgt->ports[i] = fx_alloc(sizeof(struct nvr_port));
	mk_port(tgt->ports[0], 1, AF_INET, "127.0.0.1", "4420", false);
	mk_port(tgt->ports[1], 2, AF_INET6, "::1", "4421", false);
	mk_port(tgt->ports[2], 3, AF_INET, "127.0.0.1", "8009", true);
	disc = fx_subsys(NVR_DISC_NQN, 0, NULL, 0);
	disc->discovery = true;
	sub1 = fx_subsys("nqn.2026-11.io.nvring:sub1", 1, &ns, 1);
	sub2 = fx_subsys("nqn.2026-11.io.nvring:sub2", 1, &ns, 1);
	sub2->allow_any_host = false;
	{
		struct host_table *ht = fx_alloc(sizeof(*ht) + sizeof(ht->host[0]));
		struct nvr_host *h = fx_alloc(sizeof(*h));

		snprintf(h->nqn, sizeof(h->nqn), "%s", sub2_hosts[0]);
		ht->host[0] = h;
		ht->nr = 1;
		atomic_init(&sub2->hosts, ht);
	}
	/* the published topology: sub1 on ports 1 and 2, sub2 on port 1 */
	topo = fx_alloc(sizeof(*topo));
	topo->ports = tgt->ports;
	topo->nr_ports = 3;
	topo->subsys = fx_alloc(3 * sizeof(*topo->subsys));
	topo->nr_subsys = 3;
	topo->subsys[0].s = disc;
	topo->subsys[1].s = sub1;
	topo->subsys[1].ports = fx_alloc(2 * sizeof(struct nvr_port *));
	topo->subsys[1].ports[0] = tgt->ports[0];
	topo->subsys[1].ports[1] = tgt->ports[1];
	topo->subsys[1].nr_ports = 2;
	topo->subsys[2].s = sub2;
	topo->subsys[2].ports = fx_alloc(sizeof(struct nvr_port *));
	topo->subsys[2].ports[0] = tgt->ports[0];
	topo->subsys[2].nr_ports = 1;
	atomic_init(&tgt->topo, topo);
	atomic_store(&tgt->genctr, 42);
	dctrl = fx_ctrl(disc, 9);
	dctrl->tgt = tgt;
}

static struct req *disc_run(uint8_t opc, uint32_t data_len, uint32_t cdw10, uint32_t cdw11, uint32_t cdw12,
			    struct nvr_port *port)
{
	struct req *req = fx_req(dctrl, opc, data_len);

	req->q->port = port;
	req->sqe.cdw10 = cdw10;
	req->sqe.cdw11 = cdw11;
	req->sqe.cdw12 = cdw12;
	fx_done.count = 0;
	fx_done.req = NULL;
	discovery_execute(req);
	return req;
}

static struct req *disc_log(uint32_t bytes, uint32_t off, struct nvr_port *port)
{
	uint32_t numd = bytes / 4 - 1;

	return disc_run(0x02, bytes, 0x70 | ((numd & 0xffff) << 16), numd >> 16, off, port);
}

static uint16_t status_of(struct req *req)
{
	uint16_t st = fx_done.req == req ? fx_done.status : 0xffff;

	fx_req_free(req);
	return st;
}

/* One record against every field. */
static bool entry_is(const uint8_t *e, uint8_t adrfam, uint8_t subtype, uint16_t portid, const char *svc,
		     const char *nqn, const char *addr)
{
	return u8_at(e, 0) == 3 && u8_at(e, 1) == adrfam && u8_at(e, 2) == subtype && u8_at(e, 3) == 0x04 &&
	       u16_at(e, 4) == portid && u16_at(e, 6) == 0xffff && u16_at(e, 8) == 32 && u16_at(e, 10) == 0 &&
	       all_zero(e, 12, 20) && padded_eq(e, 32, 32, svc, '\0') && all_zero(e, 64, 192) &&
	       padded_eq(e, 256, 256, nqn, '\0') && padded_eq(e, 512, 256, addr, '\0') && all_zero(e, 768, 256);
}

static void test_log(void)
{
	struct req *req;
	uint8_t *b;

	req = disc_log(8192, 0, tgt->ports[2]);
	b = req->buf;
	tap_ok(fx_done.status == 0 && req->xfer_len == 8192, "log host A on 8009: success, 8192 bytes");
	tap_eq(u64_at(b, 0), 42, "log: GENCTR");
	tap_eq(u64_at(b, 8), 3, "log host A: NUMREC 3 (sub2 filtered out)");
	tap_eq(u16_at(b, 16), 0, "log: RECFMT 0");
	tap_ok(all_zero(b, 18, 1024 - 18), "log: header reserved zero");
	tap_ok(entry_is(b + 1024, 1, 3, 3, "8009", NVR_DISC_NQN, "127.0.0.1"),
	       "entry 0: current discovery subsystem on this port");
	tap_ok(entry_is(b + 2048, 1, 2, 1, "4420", "nqn.2026-11.io.nvring:sub1", "127.0.0.1"),
	       "entry 1: sub1 on port 1 (IPv4)");
	tap_ok(entry_is(b + 3072, 2, 2, 2, "4421", "nqn.2026-11.io.nvring:sub1", "::1"), "entry 2: sub1 on port 2 (IPv6)");
	tap_ok(all_zero(b, 4096, 4096), "log: zero past the last record");
	fx_req_free(req);

	snprintf(dctrl->hostnqn, sizeof(dctrl->hostnqn), "%s", HOST_B);
	req = disc_log(8192, 0, tgt->ports[0]);
	b = req->buf;
	tap_eq(u64_at(b, 8), 4, "log host B: NUMREC 4");
	tap_ok(entry_is(b + 1024, 1, 3, 1, "4420", NVR_DISC_NQN, "127.0.0.1"), "host B entry 0: discovery on port 1");
	tap_ok(entry_is(b + 4096, 1, 2, 1, "4420", "nqn.2026-11.io.nvring:sub2", "127.0.0.1"),
	       "host B entry 3: sub2 allowed for host B");
	fx_req_free(req);
	snprintf(dctrl->hostnqn, sizeof(dctrl->hostnqn), "%s", HOST_A);

	/* the host reads the header first, then the rest */
	req = disc_log(1024, 0, tgt->ports[2]);
	tap_ok(fx_done.status == 0 && req->xfer_len == 1024 && u64_at(req->buf, 8) == 3, "header-only read");
	fx_req_free(req);
	req = disc_log(1024, 2048, tgt->ports[2]);
	tap_ok(entry_is(req->buf, 1, 2, 1, "4420", "nqn.2026-11.io.nvring:sub1", "127.0.0.1"),
	       "LPO 2048: exactly record 1");
	fx_req_free(req);
	req = disc_log(32, 2048 + 256, tgt->ports[2]);
	tap_ok(padded_eq(req->buf, 0, 32, "nqn.2026-11.io.nvring:sub1", '\0'), "LPO inside a record: its SUBNQN bytes");
	fx_req_free(req);
	req = disc_log(16, 0, tgt->ports[2]);
	tap_ok(req->xfer_len == 16 && u64_at(req->buf, 0) == 42 && u64_at(req->buf, 8) == 3, "16-byte read: GENCTR, NUMREC");
	fx_req_free(req);

	atomic_fetch_add(&tgt->genctr, 1);
	req = disc_log(1024, 0, tgt->ports[2]);
	tap_eq(u64_at(req->buf, 0), 43, "GENCTR follows tgt->genctr");
	fx_req_free(req);

	tap_eq(status_of(disc_log(1024, 4096 + 4, tgt->ports[2])), ST_INVALID_FIELD, "LPO past the log: invalid field");
	tap_eq(status_of(disc_log(1024, 2, tgt->ports[2])), ST_INVALID_FIELD, "unaligned LPO: invalid field");
	tap_eq(status_of(disc_run(0x02, 512, 0x02 | (127u << 16), 0, 0, tgt->ports[2])), 0x4109,
	       "SMART log on discovery: invalid log page");
}

static void test_build(void)
{
	uint8_t *b = malloc(8 * 1024);
	uint32_t size;
	struct nvr_port any;

	size = discovery_log_build(tgt, NULL, 0, 0);
	tap_eq(size, 7 * 1024, "build all: 3 discovery + 3 subsystem records");
	memset(b, 0xa5, 8 * 1024);
	tap_eq(discovery_log_build(tgt, b, 8 * 1024, 0), 7 * 1024, "build all: returns the full length");
	tap_eq(u64_at(b, 8), 6, "build all: NUMREC 6");
	tap_ok(u8_at(b, 1024 + 2) == 3 && u8_at(b, 2048 + 2) == 3 && u8_at(b, 3072 + 2) == 3 && u8_at(b, 4096 + 2) == 2,
	       "build all: discovery entries first, one per port");
	tap_ok(all_zero(b, 7 * 1024, 1024), "build all: zero filled after");
	memset(b, 0xa5, 64);
	tap_eq(discovery_log_build(tgt, b, 64, UINT64_MAX - 8), 7 * 1024, "build at a huge offset: full length");
	tap_ok(all_zero(b, 0, 64), "build at a huge offset: zeroes, no overflow");

	/* a wildcard listen address is reported as the address the host reached */
	memset(&any, 0, sizeof(any));
	mk_port(&any, 7, AF_INET, "0.0.0.0", "4420", false);
	discovery_log_build_for(tgt, HOST_A, &any, "10.0.2.2", b, 2048, 0);
	tap_ok(padded_eq(b, 1024 + 512, 256, "10.0.2.2", '\0'), "wildcard traddr replaced");
	free(b);
}

/* Referrals are reported in the log of the port that has them, after the subsystems. */
static void test_referrals(void)
{
	struct nvr_referral ref = { .family = AF_INET, .traddr = "10.0.0.9", .trsvcid = "8009", .portid = 5 };
	struct nvr_port *p = tgt->ports[2];
	struct req *req;
	uint8_t *b;

	p->referrals = &ref;
	p->nr_referrals = 1;
	req = disc_log(8192, 0, tgt->ports[2]);
	b = req->buf;
	tap_eq(u64_at(b, 8), 4, "referral: NUMREC 4 on its port");
	tap_ok(u8_at(b + 4096, 0) == 3 && u8_at(b + 4096, 1) == 1 && u8_at(b + 4096, 2) == 1 && u8_at(b + 4096, 3) == 0 &&
	       u16_at(b + 4096, 4) == 5 && padded_eq(b + 4096, 32, 32, "8009", '\0') &&
	       padded_eq(b + 4096, 256, 256, NVR_DISC_NQN, '\0') && padded_eq(b + 4096, 512, 256, "10.0.0.9", '\0'),
	       "referral: subtype 1 (discovery), TREQ as configured, its portid, address and service");
	fx_req_free(req);
	req = disc_log(8192, 0, tgt->ports[0]);
	tap_eq(u64_at(req->buf, 8), 3, "referral: not in another port's log");
	fx_req_free(req);
	p->referrals = NULL;
	p->nr_referrals = 0;
}

static void test_commands(void)
{
	struct req *req, *aer;

	req = disc_run(0x06, 4096, 0x01, 0, 0, tgt->ports[2]);
	tap_ok(fx_done.status == 0 && req->xfer_len == 4096 && u8_at(req->buf, 111) == 2, "identify: discovery ctrl");
	fx_req_free(req);
	tap_eq(status_of(disc_run(0x06, 4096, 0x00, 0, 0, NULL)), ST_INVALID_FIELD, "identify CNS 0: invalid field");
	tap_eq(status_of(disc_run(0x09, 0, 0x0b, 0xffffffff, 0, NULL)), 0, "set AEC");
	tap_eq(dctrl->feat_aec, 1u << 31, "AEC: only discovery log change kept");
	tap_eq(status_of(disc_run(0x09, 0, 0x0f, 120000, 0, NULL)), 0, "set KATO");
	tap_eq(dctrl->kato_ms, 120000, "KATO stored");
	tap_eq(status_of(disc_run(0x09, 0, 0x07, 0, 0, NULL)), ST_INVALID_FIELD, "number of queues: invalid field");
	tap_eq(status_of(disc_run(0x0a, 8, 0x0e, 0, 0, NULL)), ST_INVALID_FIELD, "timestamp: invalid field");
	tap_eq(status_of(disc_run(0x0a, 0, 0x06, 0, 0, NULL)), ST_INVALID_FIELD, "VWC on discovery: invalid field");
	tap_eq(status_of(disc_run(0x08, 0, 0, 0, 0, NULL)), ST_INVALID_OPCODE, "abort: invalid opcode");
	tap_eq(status_of(disc_run(0x80, 0, 0, 0, 0, NULL)), ST_INVALID_OPCODE, "format: invalid opcode");
	fx_now_ms = 99;
	tap_eq(status_of(disc_run(0x18, 0, 0, 0, 0, NULL)), 0, "keep alive");
	tap_eq(dctrl->last_ka_ms, 99, "keep alive: timestamp");

	aer = disc_run(0x0c, 0, 0, 0, 0, NULL);
	tap_ok(fx_done.count == 0 && aer->state == REQ_HELD, "AER held");
	ctrl_notify_event(dctrl, AEN_DISC_CHANGED);
	tap_ok(fx_done.req == aer && fx_done.dw0 == AEN_DISC_CHANGED, "discovery change: AER completed 0x0070F002");
	fx_req_free(aer);
	aer = disc_run(0x0c, 0, 0, 0, 0, NULL);
	ctrl_notify_event(dctrl, AEN_DISC_CHANGED);
	tap_ok(fx_done.count == 0, "second change masked");
	req = disc_log(1024, 0, tgt->ports[2]);
	fx_req_free(req);
	fx_done.count = 0;
	ctrl_notify_event(dctrl, AEN_DISC_CHANGED);
	tap_ok(fx_done.req == aer && fx_done.count == 1, "after the log read: next change reported");
	fx_req_free(aer);
}

int main(void)
{
	mk_target();
	test_log();
	test_build();
	test_referrals();
	test_commands();
	fx_free_all();
	return tap_done();
}
