/* SPDX-License-Identifier: MIT */
/*
 * Persistent reservations as the daemon wires them: the commands through req_init (their
 * interception before the kind's parse, the data they take) between two hosts, the conflict
 * check on the I/O path for block and KV namespaces, Report bytes, exact statuses for wrong
 * keys, short data and bad fields, log page 0x80, the notification event, features 0x82/0x83.
 */
#include <endian.h>
#include <string.h>

#include <nvme/types.h>

#include "bytes.h"
#include "fixture.h"
#include "ns/registry.h"
#include "resv.h"
#include "tap.h"

#define ST_CONFLICT 0x4083
#define ST_INVALID_FIELD 0x4002
#define ST_SGL_INVALID 0x400f
#define ST_HOSTID_FORMAT 0x4018
#define ST_INVALID_NS 0x400b
#define RTYPE_WE 1u
#define RTYPE_EA 2u

static struct nvr_port port = { .portid = 1 };
static struct nvr_subsys *sub;
static struct nvr_ctrl *ca, *cb, *ca2;
static uint8_t report[4096];

/* Run an I/O command of ctrl on nsid as a transport would: req_init, data in, execute. */
static uint16_t io(struct nvr_ctrl *ctrl, uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11, const void *data,
		   uint32_t len)
{
	struct req *req = fx_req_on(ctrl, 1, &port, opc, len);
	uint16_t st;

	req->sqe.nsid = nsid;
	req->sqe.cdw10 = cdw10;
	req->sqe.cdw11 = cdw11;
	st = req_init(req, 0);
	if (!st) {
		if (req_alloc_buf(req, len ? len : 1) == 0 && data)
			memcpy(req->buf, data, len);
		if (req->aux_need)
			req_alloc_aux(req, req->aux_need);
		fx_done.count = 0;
		fx_done.req = NULL;
		req->state = REQ_EXECUTING;
		req->execute(req);
		st = fx_done.req == req ? fx_done.status : 0xffff;
		if (opc == nvme_cmd_resv_report && !st)
			memcpy(report, req->buf, len < sizeof(report) ? len : sizeof(report));
	}
	if (req->ns)
		ns_put(req->ns, req->q->w);
	req->ns = NULL;
	fx_req_free(req);
	return st;
}

/* The gate alone: what req_init says of an I/O command (0: it goes on to execute). */
static uint16_t gate(struct nvr_ctrl *ctrl, uint8_t opc, uint32_t nsid)
{
	struct req *req = fx_req_on(ctrl, 1, &port, opc, 512);
	uint16_t st;

	req->sqe.nsid = nsid;
	st = req_init(req, 0);
	if (req->ns)
		ns_put(req->ns, req->q->w);
	req->ns = NULL;
	fx_req_free(req);
	return st;
}

static uint16_t reg(struct nvr_ctrl *c, uint32_t nsid, uint32_t cdw10, uint64_t crkey, uint64_t nrkey)
{
	uint64_t d[2] = { htole64(crkey), htole64(nrkey) };

	return io(c, nvme_cmd_resv_register, nsid, cdw10, 0, d, 16);
}

static uint16_t acq(struct nvr_ctrl *c, uint32_t nsid, uint32_t racqa, uint32_t rtype, uint64_t crkey, uint64_t prkey)
{
	uint64_t d[2] = { htole64(crkey), htole64(prkey) };

	return io(c, nvme_cmd_resv_acquire, nsid, racqa | rtype << 8, 0, d, 16);
}

static uint16_t rel(struct nvr_ctrl *c, uint32_t nsid, uint32_t rrela, uint32_t rtype, uint64_t crkey)
{
	uint64_t d = htole64(crkey);

	return io(c, nvme_cmd_resv_release, nsid, rrela | rtype << 8, 0, &d, 8);
}

static uint16_t rep(struct nvr_ctrl *c, uint32_t nsid, uint32_t bytes, bool eds)
{
	memset(report, 0xee, sizeof(report));
	return io(c, nvme_cmd_resv_report, nsid, bytes / 4 - 1, eds, NULL, bytes);
}

static struct req *admin(struct nvr_ctrl *ctrl, uint8_t opc, uint32_t len, uint32_t cdw10, uint32_t cdw11,
			 uint32_t nsid)
{
	struct req *req = fx_req(ctrl, opc, len);

	req->sqe.cdw10 = cdw10;
	req->sqe.cdw11 = cdw11;
	req->sqe.nsid = nsid;
	fx_done.count = 0;
	fx_done.req = NULL;
	admin_execute(req);
	return req;
}

static uint16_t admin_st(struct nvr_ctrl *ctrl, uint8_t opc, uint32_t cdw10, uint32_t cdw11, uint32_t nsid,
			 uint32_t *dw0)
{
	struct req *req = admin(ctrl, opc, 0, cdw10, cdw11, nsid);
	uint16_t st = fx_done.req == req ? fx_done.status : 0xffff;

	if (dw0)
		*dw0 = fx_done.dw0;
	fx_req_free(req);
	return st;
}

static void test_two_hosts(void)
{
	tap_eq(reg(ca, 1, 0, 0, 0xA), 0, "A registers key A");
	tap_eq(reg(cb, 1, 0, 0, 0xB), 0, "B registers key B");
	tap_eq(reg(cb, 1, 0, 0, 0xB), 0, "B registers the same key again: success");
	tap_eq(reg(cb, 1, 0, 0, 0xC), ST_CONFLICT, "B registers another key: Reservation Conflict (DNR)");
	tap_eq(acq(ca, 1, 0, RTYPE_WE, 0xB, 0), ST_CONFLICT, "A acquires with B's key: conflict");
	tap_eq(gate(cb, nvme_cmd_write, 1), 0, "no reservation: B writes");
	tap_eq(acq(ca, 1, 0, RTYPE_WE, 0xA, 0), 0, "A acquires Write Exclusive");
	tap_eq(acq(ca, 1, 0, RTYPE_WE, 0xA, 0), 0, "A acquires the same again: success");
	tap_eq(acq(cb, 1, 0, RTYPE_WE, 0xB, 0), ST_CONFLICT, "B acquires: conflict (A holds it)");

	tap_eq(gate(cb, nvme_cmd_write, 1), ST_CONFLICT, "WE: B's write: Reservation Conflict 0x83 with DNR");
	tap_eq(gate(cb, nvme_cmd_write_zeroes, 1), ST_CONFLICT, "WE: B's write zeroes: conflict");
	tap_eq(gate(cb, nvme_cmd_dsm, 1), ST_CONFLICT, "WE: B's dataset management: conflict");
	tap_eq(gate(cb, nvme_cmd_flush, 1), ST_CONFLICT, "WE: B's flush: conflict");
	tap_eq(gate(cb, nvme_cmd_read, 1), 0, "WE: B reads");
	tap_eq(gate(ca, nvme_cmd_write, 1), 0, "WE: A (holder) writes");
	tap_eq(gate(ca2, nvme_cmd_write, 1), 0, "WE: A's second controller (same host ID) writes");
	tap_eq(gate(cb, nvme_cmd_write, 2), 0, "WE on ns 1 only: B writes ns 2");
	tap_eq(io(cb, nvme_cmd_write, 1, 0, 0, report, 512), ST_CONFLICT, "WE: B's write never executes");

	tap_eq(rep(cb, 1, 192, true), 0, "report (EDS) from B: success");
	tap_ok(u32_at(report, 0) == 3 && u8_at(report, 4) == RTYPE_WE && u16_at(report, 5) == 2 && u8_at(report, 9) == 0,
	       "report: GEN 3 (every successful register), RTYPE WE, REGCTL 2, PTPLS 0");
	tap_ok(u16_at(report, 64) == 0xffff && u8_at(report, 66) == 1 && u64_at(report, 72) == 0xA &&
		       !memcmp(report + 80, ca->hostid, 16),
	       "report: entry 1 = A: CNTLID FFFFh, holder, key A, host ID");
	tap_ok(u8_at(report, 130) == 0 && u64_at(report, 136) == 0xB && !memcmp(report + 144, cb->hostid, 16),
	       "report: entry 2 = B: not holder, key B, host ID");
	tap_eq(rep(cb, 1, 100, true), 0, "report truncated to 100 bytes: success");
	tap_ok(u8_at(report, 66) == 1 && report[99] != 0xee, "report truncated: the first 100 bytes");
	tap_eq(rep(cb, 1, 192, false), ST_HOSTID_FORMAT, "report without EDS: Host Identifier Inconsistent Format");
	{
		struct req *req = fx_req_on(cb, 1, &port, nvme_cmd_resv_report, 100);
		uint16_t st;

		req->sqe.nsid = 1;
		req->sqe.cdw10 = 47; /* 192 bytes asked, 100 described */
		st = req_init(req, 0);
		ns_put(req->ns, req->q->w);
		req->ns = NULL;
		fx_req_free(req);
		tap_eq(st, ST_SGL_INVALID, "report: NUMD and the SGL disagree: Data SGL Length Invalid");
	}

	tap_eq(acq(cb, 1, 1, RTYPE_WE, 0xB, 0xA), 0, "B preempts A (PRKEY = A's key)");
	tap_eq(gate(ca, nvme_cmd_write, 1), ST_CONFLICT, "after preempt: A (unregistered) cannot write");
	tap_eq(gate(cb, nvme_cmd_write, 1), 0, "after preempt: B (holder) writes");
	tap_eq(rep(ca, 1, 192, true), 0, "report after preempt");
	tap_ok(u16_at(report, 5) == 1 && u64_at(report, 72) == 0xB && u8_at(report, 66) == 1,
	       "report: only B, holding");
	tap_eq(reg(ca, 1, 1, 0xA, 0), ST_CONFLICT, "A unregisters: not registered any more: conflict");
	tap_eq(rel(cb, 1, 0, RTYPE_EA, 0xB), ST_INVALID_FIELD, "B releases with another type: Invalid Field");
	tap_eq(rel(cb, 1, 0, RTYPE_WE, 0xA), ST_CONFLICT, "B releases with a wrong key: conflict");
	tap_eq(rel(cb, 1, 0, RTYPE_WE, 0xB), 0, "B releases");
	tap_eq(gate(ca, nvme_cmd_write, 1), 0, "released: A writes again");
	tap_eq(reg(ca, 1, 0, 0, 0xA), 0, "A registers again");
	tap_eq(rel(ca, 1, 1, 0, 0xA), 0, "A clears");
	tap_eq(rep(cb, 1, 64, true), 0, "report after clear");
	tap_ok(u16_at(report, 5) == 0 && u8_at(report, 4) == 0, "report: no registrant, no reservation");

	tap_eq(io(ca, nvme_cmd_resv_register, 1, 0, 0, report, 8), ST_SGL_INVALID, "register with 8 bytes: SGL invalid");
	tap_eq(reg(ca, 1, 3u << 30, 0, 0xA), ST_INVALID_FIELD, "register with CPTPL=3 on RAM: Invalid Field (no PTPL)");
	tap_eq(reg(ca, 1, 7, 0, 0xA), ST_INVALID_FIELD, "register action 7: Invalid Field");
	tap_eq(reg(ca, 9, 0, 0, 0xA), ST_INVALID_NS, "register on a missing namespace: Invalid Namespace");
}

static void test_kv(void)
{
	tap_eq(reg(ca, 3, 0, 0, 0x1), 0, "KV: A registers");
	tap_eq(acq(ca, 3, 0, RTYPE_EA, 0x1, 0), 0, "KV: A acquires Exclusive Access");
	tap_eq(gate(cb, 0x01, 3), ST_CONFLICT, "KV EA: B's store: conflict");
	tap_eq(gate(cb, 0x02, 3), ST_CONFLICT, "KV EA: B's retrieve: conflict");
	tap_eq(gate(cb, 0x14, 3), ST_CONFLICT, "KV EA: B's exist: conflict");
	tap_ok(gate(ca, 0x02, 3) != ST_CONFLICT, "KV EA: A's retrieve passes the reservation");
	tap_eq(rep(cb, 3, 128, true), 0, "KV: B reads the report");
	tap_ok(u8_at(report, 4) == RTYPE_EA && u16_at(report, 5) == 1, "KV report: EA, one registrant");
	tap_eq(rel(ca, 3, 1, 0, 0x1), 0, "KV: A clears");
	tap_eq(gate(cb, 0x02, 3) == ST_CONFLICT, 0, "KV: cleared, B is not refused");
}

static void test_log_and_features(void)
{
	struct req *req;
	uint32_t dw0;

	req = admin(ca, 0x02, 64, 0x80 | (15u << 16), 0, 0xffffffff);
	tap_ok(fx_done.status == 0 && all_zero(req->buf, 0, 64), "log 0x80 empty: 64 zero bytes");
	fx_req_free(req);
	resv_log_post(&ca->resv_log, NVME_RESV_NOTIFY_RNLPT_REGISTRATION_PREEMPTED, 1);
	resv_log_post(&ca->resv_log, NVME_RESV_NOTIFY_RNLPT_RESERVATION_RELEASED, 1);
	req = admin(ca, 0x02, 64, 0x80 | (15u << 16), 0, 0xffffffff);
	tap_ok(u64_at(req->buf, 0) == 1 && u8_at(req->buf, 8) == 1 && u8_at(req->buf, 9) == 1 &&
		       u32_at(req->buf, 12) == 1,
	       "log 0x80: LPC 1, registration preempted, 1 more available, NSID 1");
	fx_req_free(req);
	req = admin(ca, 0x02, 64, 0x80 | (15u << 16), 0, 0xffffffff);
	tap_ok(u64_at(req->buf, 0) == 2 && u8_at(req->buf, 8) == 2 && u8_at(req->buf, 9) == 0,
	       "log 0x80: then LPC 2, reservation released, none left");
	fx_req_free(req);

	req = admin(ca, 0x0c, 0, 0, 0, 0);
	ctrl_notify_event(ca, RESV_AEN_RESULT);
	tap_ok(fx_done.req == req && fx_done.dw0 == 0x00800006,
	       "reservation event: AER completes with 0x00800006 (no AEC bit needed)");
	fx_req_free(req);

	tap_eq(admin_st(ca, 0x09, 0x82, 0x2, 1, NULL), 0, "set 0x82 ns 1: mask registration preempted");
	tap_eq(admin_st(ca, 0x0a, 0x82, 0, 1, &dw0), 0, "get 0x82 ns 1");
	tap_eq(dw0, 0x2, "get 0x82: the mask");
	tap_eq(admin_st(ca, 0x09, 0x82, 0x1, 1, NULL), ST_INVALID_FIELD, "set 0x82 bit 0 (reserved): Invalid Field");
	tap_eq(admin_st(ca, 0x09, 0x82, 0xe, 0xffffffff, NULL), 0, "set 0x82 every namespace");
	admin_st(ca, 0x0a, 0x82, 0, 3, &dw0);
	tap_eq(dw0, 0xe, "get 0x82 ns 3: set by the broadcast");
	tap_eq(admin_st(ca, 0x0a, 0x82, 0, 0xffffffff, NULL), ST_INVALID_FIELD, "get 0x82 NSID FFFFFFFFh: Invalid Field");
	tap_eq(admin_st(ca, 0x0a, 0x82, 0, 9, NULL), ST_INVALID_NS, "get 0x82 missing namespace: Invalid Namespace");
	tap_eq(admin_st(ca, 0x0a, 0x82 | 3u << 8, 0, 1, &dw0), 0, "get 0x82 capabilities");
	tap_eq(dw0, 0x6, "capabilities: changeable, namespace specific");
	tap_eq(admin_st(ca, 0x09, 0x83, 1, 1, NULL), ST_INVALID_FIELD, "set 0x83 PTPL on RAM: Invalid Field");
	tap_eq(admin_st(ca, 0x09, 0x83, 0, 1, NULL), 0, "set 0x83 PTPL off: success");
	tap_eq(admin_st(ca, 0x0a, 0x83, 0, 1, &dw0), 0, "get 0x83");
	tap_eq(dw0, 0, "get 0x83: PTPL off");
	tap_eq(admin_st(ca, 0x09, 0x83, 0, 0xffffffff, NULL), ST_INVALID_FIELD, "set 0x83 NSID FFFFFFFFh: refused");
	tap_eq(admin_st(ca, 0x09, 0x82, 0, 1, NULL), 0, "mask cleared");
}

int main(void)
{
	struct nvr_ns *all[3];

	all[0] = fx_ns_nvm(1, 9, 2048);
	all[1] = fx_ns_nvm(2, 9, 2048);
	all[2] = fx_ns_kv(3, 64ull << 20, 4096);
	sub = fx_subsys("nqn.2026-11.io.nvring:resv", 1024, all, 3);
	ca = fx_ctrl(sub, 1);
	cb = fx_ctrl(sub, 2);
	ca2 = fx_ctrl(sub, 3);
	memset(ca->hostid, 0xa1, 16);
	memset(ca2->hostid, 0xa1, 16);
	memset(cb->hostid, 0xb2, 16);
	snprintf(cb->hostnqn, sizeof(cb->hostnqn), "nqn.2014-08.org.nvmexpress:uuid:host-b");
	tap_ok(all[0]->resv && all[2]->resv, "block and KV namespaces keep reservations");
	test_two_hosts();
	test_kv();
	test_log_and_features();
	fx_free_all();
	return tap_done();
}
