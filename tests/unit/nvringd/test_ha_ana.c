/* SPDX-License-Identifier: MIT */
/*
 * ANA as the daemon wires it: a subsystem's model built from a configuration, the Identify
 * fields, Get Log Page 0x0C bytes through each port (RGO, windows, RAE), the path statuses
 * req_init returns per state, transitions ending at their deadline, the ANA Change event's
 * enable bit and masking, the control functions (ana_ctl) and their errors, and controller IDs
 * from a subsystem's range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "ana_subsys.h"
#include "bytes.h"
#include "config/config.h"
#include "control/ana_ctl.h"
#include "ns/registry.h"
#include "fixture.h"
#include "tap.h"
#include "topo.h"

#define ST_INACCESSIBLE 0x0302
#define ST_PERSISTENT_LOSS 0x0301
#define ST_TRANSITION 0x0303
#define ST_INVALID_FIELD 0x4002
#define AEN_ANA 0x000c0302u

static struct nvr_port port1 = { .portid = 1, .family = AF_INET, .traddr = "127.0.0.1", .trsvcid = "4420" };
static struct nvr_port port2 = { .portid = 2, .family = AF_INET, .traddr = "127.0.0.1", .trsvcid = "4421" };
static struct nvr_port port3 = { .portid = 3, .family = AF_INET, .traddr = "127.0.0.1", .trsvcid = "8009",
				 .discovery_only = true };
static struct nvr_subsys *sub;
static struct nvr_ns *ns1, *ns2, *ns3;

/* Ports 1 and 2 with the states of a JSON config (nvr_config_port_ana_state defaults). */
static void build(void)
{
	static const char *json =
		"{\"ports\": ["
		" {\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.1\","
		"  \"trsvcid\": \"4420\"}, \"subsystems\": [\"nqn.2026-11.io.nvring:ha\"],"
		"  \"ana_groups\": [{\"grpid\": 1, \"ana\": {\"state\": \"optimized\"}},"
		"                   {\"grpid\": 2, \"ana\": {\"state\": \"non-optimized\"}}]},"
		" {\"portid\": 2, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.1\","
		"  \"trsvcid\": \"4421\"}, \"subsystems\": [\"nqn.2026-11.io.nvring:ha\"],"
		"  \"ana_groups\": [{\"grpid\": 1, \"ana\": {\"state\": \"inaccessible\"}},"
		"                   {\"grpid\": 2, \"ana\": {\"state\": \"optimized\"}}]}],"
		" \"subsystems\": [{\"nqn\": \"nqn.2026-11.io.nvring:ha\", \"namespaces\": ["
		"  {\"nsid\": 1, \"device\": {\"path\": \"mem:1M\"}},"
		"  {\"nsid\": 2, \"ana_grpid\": 2, \"device\": {\"path\": \"mem:1M\"}},"
		"  {\"nsid\": 3, \"ana_grpid\": 2, \"device\": {\"path\": \"kv:mem,size=64M\"}}]}]}";
	struct nvr_config cfg;
	struct nvr_ns *all[3];
	char err[256];

	nvr_config_init(&cfg);
	if (nvr_config_load_json_string(&cfg, json, "test", err, sizeof(err))) {
		tap_diag("config: %s", err);
		abort();
	}
	ns1 = fx_ns_nvm(1, 9, 2048);
	ns2 = fx_ns_nvm(2, 9, 2048);
	ns3 = fx_ns_kv(3, 64ull << 20, 4096);
	ns2->anagrpid = ns3->anagrpid = 2; /* what ns_open takes from ana_grpid */
	all[0] = ns1;
	all[1] = ns2;
	all[2] = ns3;
	sub = fx_subsys("nqn.2026-11.io.nvring:ha", 1024, all, 3);
	tap_eq(ana_subsys_setup(fx_target(), sub, &cfg, 0, err, sizeof(err)), 0, "setup: the model from the config");
	nvr_config_free(&cfg);
}

static struct req *admin(struct nvr_ctrl *ctrl, struct nvr_port *port, uint8_t opc, uint32_t len, uint32_t cdw10,
			 uint32_t cdw11, uint32_t nsid)
{
	struct req *req = fx_req_on(ctrl, 0, port, opc, len);

	req->sqe.cdw10 = cdw10;
	req->sqe.cdw11 = cdw11;
	req->sqe.nsid = nsid;
	req->state = REQ_EXECUTING;
	fx_done.count = 0;
	fx_done.req = NULL;
	admin_execute(req);
	return req;
}

/* Get Log Page 0x0C of `bytes` from offset `off`, LSP bit 0 = RGO. */
static struct req *ana_log(struct nvr_ctrl *ctrl, struct nvr_port *port, uint32_t bytes, uint32_t off, bool rgo,
			   bool rae)
{
	uint32_t numd = bytes / 4 - 1;
	struct req *req = fx_req_on(ctrl, 0, port, 0x02, bytes);

	req->sqe.cdw10 = 0x0c | (rgo ? 1u << 8 : 0) | (rae ? 1u << 15 : 0) | ((numd & 0xffff) << 16);
	req->sqe.cdw11 = numd >> 16;
	req->sqe.cdw12 = off;
	req->sqe.nsid = 0xffffffff;
	req->state = REQ_EXECUTING;
	fx_done.count = 0;
	fx_done.req = NULL;
	admin_execute(req);
	return req;
}

/* The status req_init gives a Write of 1 block to nsid through port. */
static uint16_t io_status(struct nvr_ctrl *ctrl, struct nvr_port *port, uint32_t nsid, uint8_t opc)
{
	struct req *req = fx_req_on(ctrl, 1, port, opc, 512);
	uint16_t st;

	req->sqe.nsid = nsid;
	st = req_init(req, 0);
	if (req->ns) {
		ns_put(req->ns, req->q->w);
		req->ns = NULL;
	}
	fx_req_free(req);
	return st;
}

static void test_identify(void)
{
	struct nvr_ctrl *ctrl = fx_ctrl(sub, 7);
	struct req *req = admin(ctrl, &port1, 0x06, 4096, 0x01, 0, 0);
	const uint8_t *b = req->buf;

	tap_eq(fx_done.status, 0, "id-ctrl: success");
	tap_eq(u8_at(b, 76), 0x0b, "id-ctrl: CMIC multi-port | multi-controller | ANA reporting");
	tap_ok(u32_at(b, 92) & (1u << 11), "id-ctrl: OAES ANA Change");
	tap_ok(u32_at(b, 92) & (1u << 8), "id-ctrl: OAES namespace attribute still there");
	tap_eq(u8_at(b, 342), ANA_SUBSYS_ANATT, "id-ctrl: ANATT 10 s");
	tap_eq(u8_at(b, 343), 0x1f, "id-ctrl: ANACAP all five states, ANAGRPID may change");
	tap_eq(u32_at(b, 344), 128, "id-ctrl: ANAGRPMAX 128");
	tap_eq(u32_at(b, 348), 128, "id-ctrl: NANAGRPID 128");
	tap_eq(u32_at(b, 540), u32_at(b, 516), "id-ctrl: MNAN = NN (Linux refuses ANA with MNAN 0)");
	tap_ok(u16_at(b, 520) & (1u << 5), "id-ctrl: ONCS reservations");
	tap_eq(u16_at(b, 78), 7, "id-ctrl: CNTLID");
	fx_req_free(req);

	req = admin(ctrl, &port1, 0x06, 4096, 0x00, 0, 2);
	b = req->buf;
	tap_eq(u32_at(b, 92), 2, "id-ns 2: ANAGRPID 2");
	tap_eq(u8_at(b, 30) & 1, 1, "id-ns 2: NMIC shared");
	tap_eq(u8_at(b, 31), 0xfe, "id-ns 2: RESCAP all types + IEKEY, no PTPL (RAM)");
	fx_req_free(req);
	req = admin(ctrl, &port1, 0x06, 4096, 0x00, 0, 1);
	tap_eq(u32_at(req->buf, 92), 1, "id-ns 1: ANAGRPID 1 (the default)");
	fx_req_free(req);
	/* CNS 08h: what Linux reads for a KV namespace */
	req = admin(ctrl, &port1, 0x06, 4096, 0x08, 0, 3);
	b = req->buf;
	tap_ok(fx_done.status == 0 && u32_at(b, 4) == 2 && u8_at(b, 2) == 0xfe && u8_at(b, 1) == 1,
	       "id-indep-ns 3 (KV): ANAGRPID 2, RESCAP, NMIC shared");
	fx_req_free(req);
	req = admin(ctrl, &port1, 0x06, 4096, 0x05, 1u << 24, 3);
	b = req->buf;
	tap_ok(fx_done.status == 0 && u32_at(b, 36) == 2 && u8_at(b, 27) == 0xfe,
	       "id-ns KV (CNS 05h, CSI 1): ANAGRPID at 36, RESCAP at 27");
	fx_req_free(req);
}

static void test_log(void)
{
	struct nvr_ctrl *ctrl = fx_ctrl(sub, 8);
	struct req *req;
	const uint8_t *b;
	uint64_t chg1;

	req = ana_log(ctrl, &port1, 4096, 0, false, true);
	b = req->buf;
	tap_eq(fx_done.status, 0, "log 0x0C port 1: success");
	tap_eq(req->xfer_len, 4096, "log 0x0C: the host's length");
	tap_eq(u16_at(b, 8), 2, "log 0x0C: NGRPS 2 (groups holding namespaces)");
	tap_ok(u32_at(b, 16) == 1 && u32_at(b, 20) == 1 && u8_at(b, 32) == 1 && u32_at(b, 48) == 1,
	       "log 0x0C port 1: group 1, 1 NSID, optimized, NSID 1");
	tap_ok(u32_at(b, 52) == 2 && u32_at(b, 56) == 2 && u8_at(b, 68) == 2 && u32_at(b, 84) == 2 &&
		       u32_at(b, 88) == 3,
	       "log 0x0C port 1: group 2, 2 NSIDs, non-optimized, NSIDs 2 3 ascending");
	tap_ok(all_zero(b, 92, 4096 - 92), "log 0x0C: zero past its end");
	chg1 = u64_at(b, 0);
	fx_req_free(req);

	req = ana_log(ctrl, &port2, 4096, 0, false, true);
	b = req->buf;
	tap_ok(u8_at(b, 32) == 3 && u8_at(b, 68) == 1, "log 0x0C port 2: group 1 inaccessible, group 2 optimized");
	fx_req_free(req);

	req = ana_log(ctrl, &port1, 80, 0, true, true);
	b = req->buf;
	tap_ok(fx_done.status == 0 && u16_at(b, 8) == 2 && u32_at(b, 16) == 1 && u32_at(b, 20) == 0 &&
		       u32_at(b, 48) == 2 && u32_at(b, 52) == 0 && u8_at(b, 64) == 2,
	       "log 0x0C RGO: descriptors without NSIDs (NNSIDS 0), back to back");
	fx_req_free(req);

	req = ana_log(ctrl, &port1, 8, 48, false, true);
	tap_ok(fx_done.status == 0 && u32_at(req->buf, 0) == 1 && u32_at(req->buf, 4) == 2,
	       "log 0x0C window: offset 48, 8 bytes = group 2's GRPID, NNSIDS");
	fx_req_free(req);
	req = ana_log(ctrl, &port1, 4096, 4096, false, true);
	tap_ok(fx_done.status == 0 && all_zero(req->buf, 0, 4096),
	       "log 0x0C: offset 4096 (nvme-cli's second piece): zeroes, within the size hosts give it");
	fx_req_free(req);
	req = ana_log(ctrl, &port1, 8, 16 + 128 * 32 + 1024 * 4 + 4, false, true);
	tap_eq(fx_done.status, ST_INVALID_FIELD, "log 0x0C: offset past 16 + 128 x 32 + 1024 x 4: Invalid Field");
	fx_req_free(req);

	/* a change through port 1 counts there, not on port 2 */
	tap_eq(ana_subsys_set_state(sub->ana, 1, 2, "inaccessible", 0, fx_now_ms, NULL, 0), 0, "set port 1 group 2");
	req = ana_log(ctrl, &port1, 4096, 0, false, true);
	b = req->buf;
	tap_ok(u64_at(b, 0) == chg1 + 1 && u8_at(b, 68) == 3, "log 0x0C: CHGCNT + 1, group 2 now inaccessible");
	fx_req_free(req);
	tap_eq(ana_subsys_set_state(sub->ana, 1, 2, "non-optimized", 0, fx_now_ms, NULL, 0), 0, "set it back");
}

static void test_io(void)
{
	struct nvr_ctrl *ctrl = fx_ctrl(sub, 9);

	tap_eq(io_status(ctrl, &port1, 1, 0x01), 0, "io: write through optimized port: passes");
	tap_eq(io_status(ctrl, &port1, 2, 0x02), 0, "io: read through non-optimized port: passes");
	tap_eq(io_status(ctrl, &port2, 1, 0x01), ST_INACCESSIBLE, "io: inaccessible: SCT 3 SC 2, no DNR");
	tap_eq(io_status(ctrl, &port2, 1, 0x00), ST_INACCESSIBLE, "io: flush too");
	tap_eq(io_status(ctrl, &port2, 1, 0x0d), ST_INACCESSIBLE, "io: reservation register too");
	tap_eq(ana_subsys_set_state(sub->ana, 2, 1, "persistent-loss", 0, fx_now_ms, NULL, 0), 0, "set persistent-loss");
	tap_eq(io_status(ctrl, &port2, 1, 0x02), ST_PERSISTENT_LOSS, "io: persistent loss: SCT 3 SC 1");
	tap_eq(ana_subsys_set_state(sub->ana, 2, 1, "change", 0, fx_now_ms, NULL, 0), 0, "set change");
	tap_eq(io_status(ctrl, &port2, 1, 0x02), ST_TRANSITION, "io: change: SCT 3 SC 3");
	tap_eq(ana_subsys_set_state(sub->ana, 2, 1, "optimized", 0, fx_now_ms, NULL, 0), 0, "set optimized");
	tap_eq(io_status(ctrl, &port2, 1, 0x02), 0, "io: optimized again: passes");
	tap_eq(io_status(ctrl, &port3, 1, 0x02), 0, "io: a port without ANA state (none): not gated");
	tap_eq(io_status(ctrl, &port2, 3, 0x02), 0x4086,
	       "io: KV namespace in group 2, optimized on port 2: past the gate (its own key check speaks)");
	tap_eq(ana_subsys_set_state(sub->ana, 2, 2, "inaccessible", 0, fx_now_ms, NULL, 0), 0, "group 2 inaccessible");
	tap_eq(io_status(ctrl, &port2, 3, 0x02), ST_INACCESSIBLE, "io: KV retrieve through it: inaccessible");
	tap_eq(io_status(ctrl, &port2, 1, 0x02), 0, "io: group 1 unaffected");
	tap_eq(ana_subsys_set_state(sub->ana, 2, 2, "optimized", 0, fx_now_ms, NULL, 0), 0, "group 2 back");
	tap_eq(io_status(ctrl, &port2, 9, 0x02), 0x400b, "io: an unknown NSID is still Invalid Namespace");
}

static void test_transition(void)
{
	struct nvr_ctrl *ctrl = fx_ctrl(sub, 10);
	uint64_t t0 = fx_now_ms;
	struct req *req;
	char err[256];

	tap_eq(ana_subsys_set_state(sub->ana, 2, 1, "inaccessible", 500, t0, err, sizeof(err)), 0,
	       "transition to inaccessible over 500 ms");
	tap_eq(io_status(ctrl, &port2, 1, 0x02), ST_TRANSITION, "transition: I/O gets ANA Transition");
	fx_now_ms = t0 + 499;
	req = ana_log(ctrl, &port2, 4096, 0, false, true);
	tap_eq(u8_at(req->buf, 32), 0x0f, "transition: log says change at 499 ms");
	fx_req_free(req);
	fx_now_ms = t0 + 500;
	req = ana_log(ctrl, &port2, 4096, 0, false, true);
	tap_eq(u8_at(req->buf, 32), 3, "transition: inaccessible from 500 ms (committed by the log read)");
	fx_req_free(req);
	tap_eq(io_status(ctrl, &port2, 1, 0x02), ST_INACCESSIBLE, "transition: and the I/O path follows");
	tap_eq(ana_subsys_set_state(sub->ana, 2, 1, "optimized", 10001, fx_now_ms, err, sizeof(err)), -ERANGE,
	       "transition longer than ANATT: -ERANGE");
	tap_ok(strstr(err, "ANATT") != NULL, "... the message says ANATT");
	tap_eq(ana_subsys_set_state(sub->ana, 2, 1, "optimised", 0, fx_now_ms, err, sizeof(err)), -EINVAL,
	       "bad state name: -EINVAL");
	tap_ok(strstr(err, "\"optimised\"") != NULL, "... naming it");
	tap_eq(ana_subsys_set_state(sub->ana, 2, 129, "optimized", 0, fx_now_ms, err, sizeof(err)), -EINVAL,
	       "group 129: -EINVAL");
	tap_eq(ana_subsys_set_state(sub->ana, 5, 1, "optimized", 0, fx_now_ms, err, sizeof(err)), -ENOENT,
	       "port 5 not exporting: -ENOENT");
	tap_eq(ana_subsys_ns_set(sub->ana, 1025, 1, err, sizeof(err)), -EINVAL, "NSID 1025: refused");
	tap_ok(strstr(err, "1025") != NULL, "... naming it");
	tap_eq(ana_subsys_set_state(sub->ana, 2, 1, "optimized", 0, fx_now_ms, NULL, 0), 0, "back to optimized");
}

static void test_aen(void)
{
	struct nvr_ctrl *ctrl = fx_ctrl(sub, 11);
	struct req *aer, *req;

	req = admin(ctrl, &port1, 0x09, 0, 0x0b, 0x900, 0);
	tap_eq(fx_done.status, 0, "set AEC: namespace attribute + ANA change");
	fx_req_free(req);
	req = admin(ctrl, &port1, 0x0a, 0, 0x0b, 0, 0);
	tap_eq(fx_done.dw0, 0x900, "get AEC: ANA change bit 11 kept (OAES says it)");
	fx_req_free(req);
	aer = admin(ctrl, &port1, 0x0c, 0, 0, 0, 0);
	tap_ok(fx_done.count == 0 && aer->state == REQ_HELD, "AER held");
	ctrl_notify_event(ctrl, AEN_ANA);
	tap_ok(fx_done.count == 1 && fx_done.req == aer && fx_done.dw0 == AEN_ANA,
	       "ANA change: AER completes with 0x000C0302 (notice, ANA, log 0x0C)");
	fx_req_free(aer);
	aer = admin(ctrl, &port1, 0x0c, 0, 0, 0, 0);
	ctrl_notify_event(ctrl, AEN_ANA);
	tap_eq(fx_done.count, 0, "masked until the log is read");
	req = ana_log(ctrl, &port1, 4096, 0, false, true);
	fx_req_free(req);
	fx_done.count = 0;
	ctrl_notify_event(ctrl, AEN_ANA);
	tap_eq(fx_done.count, 0, "a read with RAE keeps it masked");
	req = ana_log(ctrl, &port1, 4096, 0, false, false);
	fx_req_free(req);
	fx_done.count = 0;
	ctrl_notify_event(ctrl, AEN_ANA);
	tap_ok(fx_done.count == 1 && fx_done.req == aer && fx_done.dw0 == AEN_ANA, "after a read without RAE: reported");
	fx_req_free(aer);
	/* the host that did not enable it hears nothing */
	ctrl = fx_ctrl(sub, 12);
	aer = admin(ctrl, &port1, 0x0c, 0, 0, 0, 0);
	ctrl_notify_event(ctrl, AEN_ANA);
	tap_eq(fx_done.count, 0, "AEC bit 11 clear: no ANA change event");
	ctrl_abort_aers(ctrl);
	fx_req_free(aer);
}

static void test_ctl(void)
{
	static struct target tgt;
	struct nvr_subsys *subs[1] = { sub };
	struct nvr_port ports[3] = { port1, port2, port3 };
	struct nvr_port *pp[3] = { &ports[0], &ports[1], &ports[2] };
	struct topo_subsys ts[1] = { { sub, pp, 2 } };
	struct nvr_topo topo = { .ports = pp, .nr_ports = 3, .subsys = ts, .nr_subsys = 1 };
	struct ana_ctl_set a = { .addr = "127.0.0.1:4421", .grpid = 1, .state = "non-optimized" };
	struct nvr_ctrl *ctrl;
	json_object *r, *e;
	char err[512];

	tgt.ports = pp;
	tgt.nr_ports = 3;
	tgt.subsys = subs;
	tgt.nr_subsys = 1;
	atomic_store(&tgt.topo, &topo);
	tap_eq(ana_ctl_set_state(&tgt, &a, err, sizeof(err)), 0, "ctl: addr 127.0.0.1:4421 group 1 non-optimized");
	ctrl = fx_ctrl(sub, 13);
	tap_eq(io_status(ctrl, &port2, 1, 0x02), 0, "ctl: I/O through port 2 passes");
	a.addr = NULL;
	a.portid = 2;
	a.state = "inaccessible";
	tap_eq(ana_ctl_set_state(&tgt, &a, err, sizeof(err)), 0, "ctl: portid 2 group 1 inaccessible");
	tap_eq(io_status(ctrl, &port2, 1, 0x02), ST_INACCESSIBLE, "ctl: I/O through port 2: inaccessible");

	a.portid = 9;
	tap_eq(ana_ctl_set_state(&tgt, &a, err, sizeof(err)), -ENOENT, "ctl: portid 9: -ENOENT");
	tap_ok(!strcmp(err, "portid: no port 9"), "ctl: ... \"portid: no port 9\"");
	a.portid = 0;
	a.addr = "127.0.0.1:5000";
	tap_eq(ana_ctl_set_state(&tgt, &a, err, sizeof(err)), -ENOENT, "ctl: no listener: -ENOENT");
	tap_ok(!strcmp(err, "addr: no listener on '127.0.0.1:5000'"), "ctl: ... naming the address");
	a.addr = "127.0.0.1:8009";
	tap_eq(ana_ctl_set_state(&tgt, &a, err, sizeof(err)), -ENOENT, "ctl: discovery port: -ENOENT");
	tap_ok(strstr(err, "exports no subsystem") != NULL, "ctl: ... exports no subsystem");
	a.addr = "127.0.0.1:4421";
	a.state = "fast";
	tap_eq(ana_ctl_set_state(&tgt, &a, err, sizeof(err)), -EINVAL, "ctl: state 'fast': -EINVAL");
	tap_ok(strstr(err, "state: unknown ANA state 'fast'") == err, "ctl: ... \"state: unknown ANA state 'fast'\"");
	a.state = "optimized";
	a.grpid = 0;
	tap_eq(ana_ctl_set_state(&tgt, &a, err, sizeof(err)), -EINVAL, "ctl: group 0: -EINVAL");
	tap_ok(strstr(err, "grpid:") == err, "ctl: ... names grpid");
	a.grpid = 1;
	a.transition_ms = 20000;
	tap_eq(ana_ctl_set_state(&tgt, &a, err, sizeof(err)), -ERANGE, "ctl: transition 20 s: -ERANGE");
	tap_ok(strstr(err, "transition_ms:") == err, "ctl: ... names transition_ms");
	a.transition_ms = 0;
	a.nqn = "nqn.2026-11.io.nvring:other";
	tap_eq(ana_ctl_set_state(&tgt, &a, err, sizeof(err)), -ENOENT, "ctl: nqn not on the port: -ENOENT");
	tap_eq(io_status(ctrl, &port2, 1, 0x02), ST_INACCESSIBLE, "ctl: failed calls changed nothing");

	r = ana_ctl_get(&tgt, NULL, 0, err, sizeof(err));
	tap_ok(r && json_object_array_length(r) == 4, "ana_get: 2 ports x 2 groups with namespaces");
	e = r ? json_object_array_get_idx(r, 2) : NULL;
	tap_ok(e && json_object_get_int(json_object_object_get(e, "portid")) == 2 &&
		       json_object_get_int(json_object_object_get(e, "grpid")) == 1 &&
		       !strcmp(json_object_get_string(json_object_object_get(e, "state")), "inaccessible") &&
		       !strcmp(json_object_get_string(json_object_object_get(e, "addr")), "127.0.0.1:4421") &&
		       json_object_array_length(json_object_object_get(e, "nsids")) == 1,
	       "ana_get: port 2 group 1 inaccessible, addr, nsids [1]");
	json_object_put(r);
	r = ana_ctl_get(&tgt, NULL, 7, err, sizeof(err));
	tap_ok(r && json_object_array_length(r) == 2, "ana_get grpid 7: the empty group on both ports");
	json_object_put(r);
	tap_ok(!ana_ctl_get(&tgt, "nqn.2026-11.io.nvring:nope", 0, err, sizeof(err)) && strstr(err, "nqn:") == err,
	       "ana_get: unknown nqn refused, naming it");
	a.nqn = NULL;
	a.state = "optimized";
	tap_eq(ana_ctl_set_state(&tgt, &a, err, sizeof(err)), 0, "ctl: back to optimized");

	/* a port-wide change is kept in the configuration (save_config starts the same way) */
	{
		struct nvr_config cfg;

		nvr_config_init(&cfg);
		cfg.ports = calloc(1, sizeof(*cfg.ports));
		cfg.nr_ports = 1;
		cfg.ports[0].portid = 2;
		a.state = "non-optimized";
		tap_eq(ana_ctl_set_state_cfg(&tgt, &cfg, &a, err, sizeof(err)), 0, "ctl+cfg: group 1 non-optimized");
		tap_ok(cfg.ports[0].nr_ana_groups == 1 && cfg.ports[0].ana_groups[0].grpid == 1 &&
			       cfg.ports[0].ana_groups[0].state == CFG_ANA_NON_OPTIMIZED,
		       "ctl+cfg: the port's ana_groups say group 1 non-optimized");
		a.state = "inaccessible";
		a.transition_ms = 100;
		tap_eq(ana_ctl_set_state_cfg(&tgt, &cfg, &a, err, sizeof(err)), 0, "ctl+cfg: a transition to inaccessible");
		tap_ok(cfg.ports[0].nr_ana_groups == 1 && cfg.ports[0].ana_groups[0].state == CFG_ANA_INACCESSIBLE,
		       "ctl+cfg: the state it ends in is kept");
		a.transition_ms = 0;
		a.state = "change";
		tap_eq(ana_ctl_set_state_cfg(&tgt, &cfg, &a, err, sizeof(err)), 0, "ctl+cfg: a bare change");
		tap_eq(cfg.ports[0].ana_groups[0].state, CFG_ANA_INACCESSIBLE, "ctl+cfg: a flap is not kept");
		a.state = "optimized";
		a.nqn = sub->nqn;
		tap_eq(ana_ctl_set_state_cfg(&tgt, &cfg, &a, err, sizeof(err)), 0, "ctl+cfg: one subsystem's group");
		tap_eq(cfg.ports[0].ana_groups[0].state, CFG_ANA_INACCESSIBLE, "ctl+cfg: not a port-wide state: not kept");
		a.grpid = 3;
		a.nqn = NULL;
		tap_eq(ana_ctl_set_state_cfg(&tgt, &cfg, &a, err, sizeof(err)), 0, "ctl+cfg: group 3");
		tap_ok(cfg.ports[0].nr_ana_groups == 2 && cfg.ports[0].ana_groups[1].grpid == 3, "ctl+cfg: appended");
		a.grpid = 1;
		nvr_config_free(&cfg);
	}
}

/* Controller IDs come from the subsystem's range, round robin, and run out. */
static void test_cntlid(void)
{
	static struct target tgt;
	struct nvr_subsys s = { .cntlid_min = 100, .cntlid_max = 102 };
	struct nvr_ctrl *c[4];

	pthread_mutex_init(&tgt.lock, NULL);
	for (int i = 0; i < 4; i++)
		c[i] = target_ctrl_create(&tgt, &s);
	tap_ok(c[0] && c[1] && c[2] && c[0]->cntlid == 100 && c[1]->cntlid == 101 && c[2]->cntlid == 102,
	       "cntlid: 100, 101, 102 from [100, 102]");
	tap_ok(c[3] == NULL, "cntlid: the range exhausted: no controller");
	tgt.ctrls[101] = NULL;
	free(c[1]);
	c[1] = target_ctrl_create(&tgt, &s);
	tap_ok(c[1] && c[1]->cntlid == 101, "cntlid: a freed ID is handed out again");
	for (int i = 0; i < 3; i++) {
		tgt.ctrls[c[i]->cntlid] = NULL;
		free(c[i]);
	}
	s.cntlid_min = 0xfff0;
	s.cntlid_max = 0xffff;
	c[0] = target_ctrl_create(&tgt, &s);
	tap_ok(!c[0], "cntlid: nothing above FFEFh (reserved IDs)");
}

int main(void)
{
	build();
	test_identify();
	test_log();
	test_io();
	test_transition();
	test_aen();
	test_ctl();
	test_cntlid();
	ana_subsys_destroy(sub->ana);
	fx_free_all();
	return tap_done();
}
