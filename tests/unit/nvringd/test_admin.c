/* SPDX-License-Identifier: MIT */
/* admin_execute end to end on hand-built requests: statuses, CQE DW0 and the bytes returned. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "fixture.h"
#include "tap.h"
#include "cmd/identify.h"

#define ST_INVALID_FIELD 0x4002
#define ST_INVALID_OPCODE 0x4001
#define ST_CMD_SEQ 0x400c
#define ST_ASYNC_LIMIT 0x4105
#define ST_NOT_SAVEABLE 0x410d
#define ST_ABORT_SQ 0x0008
#define ST_INVALID_LOG 0x4109
#define AEN_NS_CHANGED 0x00040002u

static struct nvr_subsys *sub_kv, *sub_plain;

/* Run one command; returns the request (caller frees) after checking it completed. */
static struct req *run(struct nvr_ctrl *ctrl, uint8_t opc, uint32_t data_len, uint32_t cdw10, uint32_t cdw11,
		       uint32_t cdw12, uint32_t cdw14)
{
	struct req *req = fx_req(ctrl, opc, data_len);

	req->sqe.cdw10 = cdw10;
	req->sqe.cdw11 = cdw11;
	req->sqe.cdw12 = cdw12;
	req->sqe.cdw14 = cdw14;
	fx_done.count = 0;
	fx_done.req = NULL;
	admin_execute(req);
	return req;
}

/* Get Log Page: LID, NUMD in bytes (multiple of 4), byte offset, CSI. */
static struct req *get_log(struct nvr_ctrl *ctrl, uint8_t lid, uint32_t bytes, uint32_t off, uint8_t csi, bool rae)
{
	uint32_t numd = bytes / 4 - 1;

	return run(ctrl, 0x02, bytes, lid | (rae ? 1u << 15 : 0) | ((numd & 0xffff) << 16), numd >> 16, off,
		   (uint32_t)csi << 24);
}

static uint16_t status_of(struct req *req)
{
	uint16_t st = fx_done.req == req ? fx_done.status : 0xffff;

	fx_req_free(req);
	return st;
}

static void test_dispatch(void)
{
	struct nvr_ctrl *ctrl = fx_ctrl(sub_kv, 0x42);
	struct req *req;

	req = run(ctrl, 0x06, 4096, 0x01, 0, 0, 0);
	tap_ok(fx_done.count == 1 && fx_done.status == 0, "identify: completed once, success");
	tap_eq(req->xfer_len, 4096, "identify: 4096 bytes");
	tap_eq(u16_at(req->buf, 78), 0x42, "identify: CNTLID in the data");
	fx_req_free(req);
	req = run(ctrl, 0x06, 100, 0x01, 0, 0, 0);
	tap_eq(req->xfer_len, 100, "identify: capped by the host's transfer length");
	fx_req_free(req);
	tap_eq(status_of(run(ctrl, 0x06, 4096, 0x00, 0, 0, 0)), 0x400b, "identify ns 0: invalid namespace");

	req = run(ctrl, 0x08, 0, 0x00010001, 0, 0, 0);
	tap_ok(fx_done.status == 0 && fx_done.dw0 == 1, "abort: success, DW0 bit 0 = not aborted");
	fx_req_free(req);
	fx_now_ms = 777000;
	tap_eq(status_of(run(ctrl, 0x18, 0, 0, 0, 0, 0)), 0, "keep alive: success");
	tap_eq(ctrl->last_ka_ms, 777000, "keep alive: timestamp updated");
	tap_eq(status_of(run(ctrl, 0x80, 0, 0, 0, 0, 0)), ST_INVALID_OPCODE, "format NVM: invalid opcode");
	tap_eq(status_of(run(ctrl, 0x0d, 0, 0, 0, 0, 0)), ST_INVALID_OPCODE, "ns management: invalid opcode");
	tap_eq(status_of(run(ctrl, 0x81, 0, 0, 0, 0, 0)), ST_INVALID_OPCODE, "security send: invalid opcode");
	tap_eq(status_of(run(ctrl, 0x01, 0, 0, 0, 0, 0)), ST_INVALID_OPCODE, "create SQ: invalid opcode");
	ctrl->csts = 0;
	tap_eq(status_of(run(ctrl, 0x06, 4096, 0x01, 0, 0, 0)), ST_CMD_SEQ, "not ready: command sequence error");
	ctrl->csts = 1;

	tap_eq(admin_opcode_dir(0x06), REQ_DIR_C2H, "dir: identify C2H");
	tap_eq(admin_opcode_dir(0x02), REQ_DIR_C2H, "dir: get log page C2H");
	tap_eq(admin_opcode_dir(0x0a), REQ_DIR_C2H, "dir: get features C2H");
	tap_eq(admin_opcode_dir(0x09), REQ_DIR_H2C, "dir: set features H2C");
	tap_eq(admin_opcode_dir(0x0c), REQ_DIR_NONE, "dir: AER none");
	tap_eq(admin_opcode_dir(0x18), REQ_DIR_NONE, "dir: keep alive none");
	tap_eq(admin_opcode_dir(0x81), REQ_DIR_H2C, "dir: unsupported 0x81 by opcode bits");
	tap_eq(admin_opcode_dir(0x82), REQ_DIR_C2H, "dir: unsupported 0x82 by opcode bits");
}

static void test_effects(void)
{
	struct nvr_ctrl *ctrl = fx_ctrl(sub_kv, 1);
	struct req *req;
	uint8_t *b;

	req = get_log(ctrl, 0x05, 4096, 0, 0, false);
	b = req->buf;
	tap_ok(fx_done.status == 0 && req->xfer_len == 4096, "effects NVM: 4096 bytes");
	tap_ok(u32_at(b, 4 * 0x02) == 1 && u32_at(b, 4 * 0x06) == 1 && u32_at(b, 4 * 0x08) == 1 &&
		       u32_at(b, 4 * 0x09) == 1 && u32_at(b, 4 * 0x0a) == 1 && u32_at(b, 4 * 0x0c) == 1 &&
		       u32_at(b, 4 * 0x18) == 1,
	       "effects: admin commands we implement CSUPP");
	tap_ok(u32_at(b, 4 * 0x0d) == 0 && u32_at(b, 4 * 0x80) == 0 && u32_at(b, 4 * 0x10) == 0,
	       "effects: ns mgmt, format, fw commit not supported");
	tap_eq(u32_at(b, 1024 + 4 * 0x00), 1, "effects NVM: flush CSUPP");
	tap_eq(u32_at(b, 1024 + 4 * 0x01), 3, "effects NVM: write CSUPP|LBCC");
	tap_eq(u32_at(b, 1024 + 4 * 0x02), 1, "effects NVM: read CSUPP");
	tap_eq(u32_at(b, 1024 + 4 * 0x05), 1, "effects NVM: compare CSUPP");
	tap_eq(u32_at(b, 1024 + 4 * 0x08), 3, "effects NVM: write zeroes CSUPP|LBCC");
	tap_eq(u32_at(b, 1024 + 4 * 0x09), 3, "effects NVM: DSM CSUPP|LBCC");
	tap_eq(u32_at(b, 1024 + 4 * 0x0c), 1, "effects NVM: verify CSUPP");
	tap_ok(u32_at(b, 1024 + 4 * 0x04) == 0 && u32_at(b, 1024 + 4 * 0x10) == 0,
	       "effects NVM: write uncorrectable, 0x10 not supported");
	tap_ok(u32_at(b, 1024 + 4 * 0x0d) == 1 && u32_at(b, 1024 + 4 * 0x0e) == 1 && u32_at(b, 1024 + 4 * 0x11) == 1 &&
		       u32_at(b, 1024 + 4 * 0x15) == 1,
	       "effects NVM: reservation register/report/acquire/release CSUPP");
	tap_ok(all_zero(b, 2048, 2048), "effects: reserved area zero");
	fx_req_free(req);

	req = get_log(ctrl, 0x05, 4096, 0, 1, false);
	b = req->buf;
	tap_eq(fx_done.status, 0, "effects KV: success");
	tap_eq(u32_at(b, 1024 + 4 * 0x01), 3, "effects KV: store CSUPP|LBCC");
	tap_eq(u32_at(b, 1024 + 4 * 0x02), 1, "effects KV: retrieve CSUPP");
	tap_eq(u32_at(b, 1024 + 4 * 0x06), 1, "effects KV: list CSUPP");
	tap_eq(u32_at(b, 1024 + 4 * 0x10), 3, "effects KV: delete CSUPP|LBCC");
	tap_eq(u32_at(b, 1024 + 4 * 0x14), 1, "effects KV: exist CSUPP");
	tap_ok(u32_at(b, 1024 + 4 * 0x08) == 0 && u32_at(b, 1024 + 4 * 0x09) == 0 && u32_at(b, 1024 + 4 * 0x81) == 0,
	       "effects KV: NVM-only and vendor opcodes absent");
	tap_eq(u32_at(b, 4 * 0x06), 1, "effects KV: admin part present");
	fx_req_free(req);

	req = get_log(ctrl, 0x05, 4, 4 * 0x06, 0, false);
	tap_ok(fx_done.status == 0 && req->xfer_len == 4 && u32_at(req->buf, 0) == 1, "effects: LPO selects one dword");
	fx_req_free(req);
	req = get_log(ctrl, 0x05, 4096, 0, 2, false);
	tap_ok(fx_done.status == 0 && u32_at(req->buf, 4 * 0x06) == 1 && all_zero(req->buf, 1024, 3072),
	       "effects CSI 2 (ZNS): admin commands, no I/O commands");
	fx_req_free(req);
	ctrl->subsys = sub_plain;
	req = get_log(ctrl, 0x05, 4096, 0, 1, false);
	tap_ok(fx_done.status == 0 && u32_at(req->buf, 4 * 0x02) == 1 && all_zero(req->buf, 1024, 3072),
	       "effects CSI 1 without a KV namespace: no I/O commands");
	fx_req_free(req);
}

static void test_logs(void)
{
	struct nvr_ctrl *ctrl = fx_ctrl(sub_kv, 1);
	struct req *req;

	fx_now_ms = 7ull * 3600000 + 1800000; /* 7.5 h since the target started (at 0) */
	ctrl->err_count = 3;
	req = get_log(ctrl, 0x02, 512, 0, 0, false);
	tap_ok(fx_done.status == 0 && req->xfer_len == 512, "smart: 512 bytes");
	tap_eq(u8_at(req->buf, 0), 0, "smart: no critical warning");
	tap_ok(all_zero(req->buf, 1, 31), "smart: no temperature, spare or wear reported (no such thing)");
	tap_ok(all_zero(req->buf, 32, 80), "smart: no I/O yet: data units, commands, busy time 0");
	tap_eq(u64_at(req->buf, 128), 7, "smart: power-on hours since the start");
	tap_eq(u64_at(req->buf, 112), 1, "smart: power cycles");
	tap_eq(u64_at(req->buf, 176), 3, "smart: error log entries");
	fx_req_free(req);
	ctrl->err_count = 0; /* no entry was really recorded */

	req = get_log(ctrl, 0x03, 512, 0, 0, false);
	tap_eq(u8_at(req->buf, 0), 1, "fw slot: AFI slot 1");
	tap_ok(padded_eq(req->buf, 8, 8, "0.1.0", ' '), "fw slot: FRS1 = FR");
	tap_ok(all_zero(req->buf, 16, 512 - 16), "fw slot: other slots empty");
	fx_req_free(req);

	req = get_log(ctrl, 0x01, 128, 0, 0, false);
	tap_ok(fx_done.status == 0 && req->xfer_len == 128 && all_zero(req->buf, 0, 128),
	       "error log: no entry recorded yet: zeroes");
	fx_req_free(req);

	req = get_log(ctrl, 0x04, 4096, 0, 0, false);
	tap_ok(fx_done.status == 0 && all_zero(req->buf, 0, 4096), "changed ns: empty");
	fx_req_free(req);

	tap_eq(status_of(get_log(ctrl, 0x0a, 512, 0, 0, false)), ST_INVALID_LOG, "LID 0x0A: invalid log page");
	tap_eq(status_of(get_log(ctrl, 0x6f, 512, 0, 0, false)), ST_INVALID_LOG, "LID 0x6F: invalid log page");
	tap_eq(status_of(get_log(ctrl, 0x70, 1024, 0, 0, false)), ST_INVALID_LOG,
	       "discovery log on an NVM controller: invalid log page");
	tap_eq(status_of(get_log(ctrl, 0x02, 4, 516, 0, false)), ST_INVALID_FIELD, "offset past the log: invalid field");
	tap_eq(status_of(get_log(ctrl, 0x02, 4, 2, 0, false)), ST_INVALID_FIELD, "unaligned offset: invalid field");
	req = get_log(ctrl, 0x02, 8, 512, 0, false);
	tap_ok(fx_done.status == 0 && all_zero(req->buf, 0, 8), "offset == size: zeroes");
	fx_req_free(req);

	/* the five failures above, newest first: the unaligned offset one leads */
	req = get_log(ctrl, 0x01, 4096, 0, 0, false);
	tap_ok(fx_done.status == 0 && req->xfer_len == 4096, "error log: 4096 bytes (64 entries)");
	tap_eq(u64_at(req->buf, 0), 5, "error log: newest entry's error count");
	tap_eq(u16_at(req->buf, 8), 0, "error log: SQID 0 (admin)");
	tap_eq(u16_at(req->buf, 12), (0x02 << 1) | (1u << 15), "error log: status Invalid Field, DNR");
	tap_eq(u16_at(req->buf, 14), 0xffff, "error log: no parameter location");
	tap_eq(u8_at(req->buf, 29), 3, "error log: transport type TCP");
	tap_eq(u64_at(req->buf, 64), 4, "error log: the entry before");
	tap_eq(u16_at(req->buf, 64 + 12), (0x02 << 1) | (1u << 15), "error log: offset past the log, Invalid Field");
	tap_eq(u16_at(req->buf, 128 + 12), (0x09 << 1) | (1u << 9) | (1u << 15), "error log: invalid log page (SCT 1)");
	tap_eq(u64_at(req->buf, 4 * 64), 1, "error log: the oldest of five");
	tap_ok(all_zero(req->buf, 5 * 64, 4096 - 5 * 64), "error log: the rest empty");
	fx_req_free(req);
}

static struct req *set_feat(struct nvr_ctrl *ctrl, uint8_t fid, uint32_t cdw11, uint32_t data_len)
{
	return run(ctrl, 0x09, data_len, fid, cdw11, 0, 0);
}

static struct req *get_feat(struct nvr_ctrl *ctrl, uint8_t fid, uint8_t sel, uint32_t data_len)
{
	return run(ctrl, 0x0a, data_len, fid | ((uint32_t)sel << 8), 0, 0, 0);
}

static uint32_t dw0_of(struct req *req)
{
	uint32_t dw0 = fx_done.req == req && fx_done.status == 0 ? fx_done.dw0 : 0xdeadbeef;

	fx_req_free(req);
	return dw0;
}

static void test_features(void)
{
	struct nvr_ctrl *ctrl = fx_ctrl(sub_kv, 1);
	struct req *req;

	tap_eq(dw0_of(get_feat(ctrl, 0x07, 0, 0)), (63u << 16) | 63, "queues: before Set, the maximum");
	tap_eq(dw0_of(set_feat(ctrl, 0x07, (7u << 16) | 3, 0)), (3u << 16) | 3, "queues: grant min(NSQR, NCQR)");
	tap_eq(ctrl->nr_io_queues, 4, "queues: 4 I/O queues granted");
	tap_eq(dw0_of(get_feat(ctrl, 0x07, 0, 0)), (3u << 16) | 3, "queues: Get current");
	tap_eq(dw0_of(get_feat(ctrl, 0x07, 1, 0)), (63u << 16) | 63, "queues: Get default");
	tap_eq(dw0_of(set_feat(ctrl, 0x07, (200u << 16) | 200, 0)), (63u << 16) | 63, "queues: capped at 64");
	tap_eq(status_of(set_feat(ctrl, 0x07, 0xffff, 0)), ST_INVALID_FIELD, "queues: 65535 invalid");

	tap_eq(status_of(set_feat(ctrl, 0x0b, 0xffffffff, 0)), 0, "AEC: set");
	tap_eq(ctrl->feat_aec, 0x1ff, "AEC: only supported bits kept (NS attr + SMART)");
	tap_eq(dw0_of(get_feat(ctrl, 0x0b, 0, 0)), 0x1ff, "AEC: Get current");

	fx_now_ms = 5000;
	tap_eq(status_of(set_feat(ctrl, 0x0f, 15000, 0)), 0, "KATO: set");
	tap_ok(ctrl->kato_ms == 15000 && ctrl->last_ka_ms == 5000, "KATO: stored, timer restarted");
	status_of(set_feat(ctrl, 0x0f, 1500, 0));
	tap_eq(dw0_of(get_feat(ctrl, 0x0f, 0, 0)), 2000, "KATO: rounded up to KAS granularity");

	tap_eq(status_of(set_feat(ctrl, 0x0e, 0, 8)), 0, "timestamp: set accepted");
	req = get_feat(ctrl, 0x0e, 0, 8);
	tap_ok(fx_done.status == 0 && req->xfer_len == 8 && u64_at(req->buf, 0) != 0 && u8_at(req->buf, 6) == 0 &&
		       u8_at(req->buf, 7) == 0,
	       "timestamp: Get returns 48-bit ms and attributes");
	fx_req_free(req);
	tap_eq(status_of(set_feat(ctrl, 0x0e, 0, 4)), ST_INVALID_FIELD, "timestamp: short data invalid");

	tap_eq(status_of(set_feat(ctrl, 0x16, 0, 512)), 0, "host behavior: set accepted");
	req = get_feat(ctrl, 0x16, 0, 512);
	tap_ok(fx_done.status == 0 && req->xfer_len == 512 && all_zero(req->buf, 0, 512), "host behavior: Get 512 B");
	fx_req_free(req);

	tap_eq(status_of(set_feat(ctrl, 0x20, 1, 0)), 0, "KV config: set EDNEK");
	tap_eq(dw0_of(get_feat(ctrl, 0x20, 0, 0)), 1, "KV config: Get current");
	tap_eq(dw0_of(get_feat(ctrl, 0x06, 0, 0)), 0, "VWC: Get current (disabled)");
	tap_eq(status_of(set_feat(ctrl, 0x06, 1, 0)), 0, "VWC: enable");
	tap_ok(ctrl->feat_vwc, "VWC: stored");
	tap_eq(dw0_of(get_feat(ctrl, 0x06, 1, 0)), 1, "VWC: default enabled");
	tap_eq(dw0_of(get_feat(ctrl, 0x02, 0, 0)), 0, "power management: power state 0");
	tap_eq(status_of(set_feat(ctrl, 0x02, 1, 0)), ST_INVALID_FIELD, "power management: PS 1 invalid");

	tap_eq(dw0_of(get_feat(ctrl, 0x07, 3, 0)), 4, "SEL 11b: capabilities = changeable");
	tap_eq(dw0_of(get_feat(ctrl, 0x0b, 2, 0)), 0, "SEL 10b: saved = default");
	tap_eq(status_of(get_feat(ctrl, 0x07, 4, 0)), ST_INVALID_FIELD, "SEL 100b: invalid field");
	tap_eq(status_of(run(ctrl, 0x09, 0, 0x0b | (1u << 31), 0, 0, 0)), ST_NOT_SAVEABLE, "SV: not saveable");
	tap_eq(status_of(get_feat(ctrl, 0x03, 0, 0)), ST_INVALID_FIELD, "LBA range feature: invalid field");
	tap_eq(status_of(get_feat(ctrl, 0x04, 0, 0)), ST_INVALID_FIELD, "temperature threshold: invalid field");

	ctrl->subsys = sub_plain;
	tap_eq(dw0_of(get_feat(ctrl, 0x06, 0, 0)), 0, "VWC Get without volatile cache: WCE 0");
	tap_eq(dw0_of(get_feat(ctrl, 0x06, 1, 0)), 0, "VWC Get default without volatile cache: 0");
	tap_eq(status_of(set_feat(ctrl, 0x06, 1, 0)), ST_INVALID_FIELD, "VWC Set without volatile cache: invalid");
	tap_eq(status_of(set_feat(ctrl, 0x20, 1, 0)), ST_INVALID_FIELD, "KV config without KV: invalid");
}

static void test_aen(void)
{
	struct nvr_ctrl *ctrl = fx_ctrl(sub_kv, 1);
	struct req *aer[5], *req;
	bool held = true;

	for (int i = 0; i < 4; i++) {
		aer[i] = run(ctrl, 0x0c, 0, 0, 0, 0, 0);
		held &= fx_done.count == 0 && aer[i]->state == REQ_HELD;
	}
	tap_ok(held && ctrl->nr_aers == 4, "AER: AERL+1 requests held");
	aer[4] = run(ctrl, 0x0c, 0, 0, 0, 0, 0);
	tap_eq(fx_done.req == aer[4] ? fx_done.status : 0, ST_ASYNC_LIMIT, "AER: one more exceeds the limit");
	fx_req_free(aer[4]);

	fx_done.count = 0;
	ctrl_notify_event(ctrl, AEN_NS_CHANGED);
	tap_ok(fx_done.count == 0 && ctrl->pending_aen == 0, "notify: disabled in AEC, dropped");
	ctrl->feat_aec = NVR_OAES_NS_ATTR;
	ctrl_ns_changed(ctrl, 7);
	tap_ok(fx_done.count == 1 && fx_done.req == aer[0] && fx_done.status == 0 && fx_done.dw0 == AEN_NS_CHANGED,
	       "notify: oldest AER completed with 0x00040002");
	tap_eq(ctrl->nr_aers, 3, "notify: three still held");
	fx_done.count = 0;
	ctrl_ns_changed(ctrl, 3);
	ctrl_ns_changed(ctrl, 7);
	tap_ok(fx_done.count == 0, "notify: same event masked until the log is read");

	req = get_log(ctrl, 0x04, 4096, 0, 0, true);
	tap_ok(u32_at(req->buf, 0) == 3 && u32_at(req->buf, 4) == 7 && all_zero(req->buf, 8, 4088),
	       "changed ns log: the changed NSIDs, ascending, each once");
	fx_req_free(req);
	fx_done.count = 0;
	ctrl_notify_event(ctrl, AEN_NS_CHANGED);
	tap_ok(fx_done.count == 0, "notify: still masked after a read with RAE");
	req = get_log(ctrl, 0x04, 4096, 0, 0, false);
	fx_req_free(req);
	req = get_log(ctrl, 0x04, 4096, 0, 0, false);
	tap_ok(all_zero(req->buf, 0, 4096), "changed ns log: cleared by the read");
	fx_req_free(req);
	fx_done.count = 0;
	ctrl_notify_event(ctrl, AEN_NS_CHANGED);
	tap_ok(fx_done.count == 1 && fx_done.req == aer[1] && fx_done.dw0 == AEN_NS_CHANGED,
	       "notify: unmasked, next AER completed");

	fx_done.count = 0;
	ctrl_abort_aers(ctrl);
	tap_ok(fx_done.count == 2 && fx_done.status == ST_ABORT_SQ && ctrl->nr_aers == 0,
	       "abort AERs: both completed with Abort SQ Deletion");
	for (int i = 0; i < 4; i++)
		fx_req_free(aer[i]);
	for (uint32_t nsid = 1; nsid <= 1025; nsid++)
		ctrl_ns_changed(ctrl, nsid);
	req = get_log(ctrl, 0x04, 4096, 0, 0, false);
	tap_ok(u32_at(req->buf, 0) == 0xffffffff && all_zero(req->buf, 4, 4092),
	       "changed ns log: more than 1024 changes: FFFFFFFFh = rescan all");
	fx_req_free(req);

	/* an event with no AER outstanding waits for the next one */
	get_log(ctrl, 0x04, 4096, 0, 0, false);
	fx_req_free(fx_done.req);
	ctrl_notify_event(ctrl, AEN_NS_CHANGED);
	tap_ok(ctrl->pending_aen != 0, "notify without AER: pending");
	req = run(ctrl, 0x0c, 0, 0, 0, 0, 0);
	tap_ok(fx_done.count == 1 && fx_done.req == req && fx_done.dw0 == AEN_NS_CHANGED && ctrl->nr_aers == 0,
	       "AER: completes at once with the pending event");
	fx_req_free(req);
	fx_done.count = 0;
	ctrl_notify_event(ctrl, 0x00020001); /* SMART reliability: AEC bit 2 not set */
	req = run(ctrl, 0x0c, 0, 0, 0, 0, 0);
	tap_ok(fx_done.count == 0 && ctrl->nr_aers == 1, "AER: nothing pending, held");
	ctrl_notify_event(ctrl, 0x00000000); /* error event: not maskable, carried by a held AER */
	tap_ok(fx_done.count == 1 && fx_done.req == req && fx_done.dw0 == 0, "notify: error event delivered");
	fx_req_free(req);
}

int main(void)
{
	struct nvr_ns *ns[3];
	struct nvr_ns *plain = fx_ns_nvm(1, 9, 8);

	ns[0] = fx_ns_nvm(1, 9, 2048);
	ns[1] = fx_ns_nvm(2, 12, 1024);
	ns[1]->vwc = true;
	ns[2] = fx_ns_kv(3, 64 << 20, 4096);
	sub_kv = fx_subsys("nqn.kv", 4, ns, 3);
	sub_plain = fx_subsys("nqn.plain", 1, &plain, 1);

	test_dispatch();
	test_effects();
	test_logs();
	test_features();
	test_aen();
	fx_free_all();
	return tap_done();
}
