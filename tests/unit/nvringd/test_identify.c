/* SPDX-License-Identifier: MIT */
/* Identify data structures byte by byte, and the Get Log Page argument helpers. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "fixture.h"
#include "tap.h"
#include "cmd/identify.h"
#include "ns/kv.h"

#define ST_INVALID_NS 0x400b
#define ST_INVALID_FIELD 0x4002
#define ST_INVALID_IOCS 0x412c

static uint8_t buf[NVR_ID_SIZE];

static const uint8_t eui[8] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
static const uint8_t nguid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t uuid[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
				  0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };

static struct nvme_sqe sqe_identify(uint8_t cns, uint32_t nsid, uint8_t csi)
{
	struct nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = 0x06;
	sqe.nsid = nsid;
	sqe.cdw10 = cns;
	sqe.cdw11 = (uint32_t)csi << 24;
	return sqe;
}

/* nsid 1: NVM 512 B, ids, deallocate; 2: NVM 4 KiB, read-only, volatile cache; 5: KV; NN 8 */
static struct nvr_subsys *mk_subsys(void)
{
	struct nvr_ns *ns[3];

	ns[0] = fx_ns_nvm(1, 9, 2048);
	memcpy(ns[0]->eui64, eui, 8);
	memcpy(ns[0]->nguid, nguid, 16);
	memcpy(ns[0]->uuid, uuid, 16);
	ns[1] = fx_ns_nvm(2, 12, 262144);
	ns[1]->readonly = true;
	ns[1]->vwc = true;
	ns[2] = fx_ns_kv(5, 64ull << 20, 1u << 20);
	return fx_subsys("nqn.2026-11.io.nvring:test", 8, ns, 3);
}

static void test_ctrl(struct nvr_subsys *s)
{
	struct nvr_ctrl *ctrl = fx_ctrl(s, 0x1234);
	struct nvme_sqe sqe = sqe_identify(0x01, 0, 0);

	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "ctrl: success");
	tap_eq(u16_at(buf, 0), 0, "ctrl: VID 0");
	tap_ok(padded_eq(buf, 4, 20, "SN0123", ' '), "ctrl: SN space padded");
	tap_ok(padded_eq(buf, 24, 40, "nvring test", ' '), "ctrl: MN space padded");
	tap_ok(padded_eq(buf, 64, 8, "0.1.0", ' '), "ctrl: FR 0.1.0 space padded");
	tap_eq(u8_at(buf, 72), 6, "ctrl: RAB");
	tap_eq(u8_at(buf, 76), 0x03, "ctrl: CMIC multi-port|multi-ctrl, no ANA");
	tap_eq(u8_at(buf, 77), 8, "ctrl: MDTS 8 (1 MiB)");
	tap_eq(u16_at(buf, 78), 0x1234, "ctrl: CNTLID is the controller's");
	tap_eq(u32_at(buf, 80), 0x00020000, "ctrl: VER 2.0");
	tap_eq(u32_at(buf, 92), 1u << 8, "ctrl: OAES namespace attribute notices only");
	tap_eq(u32_at(buf, 96), 1, "ctrl: CTRATT 128-bit host id");
	tap_eq(u8_at(buf, 111), 1, "ctrl: CNTRLTYPE I/O");
	tap_eq(u16_at(buf, 256), 0, "ctrl: OACS none");
	tap_eq(u8_at(buf, 258), 3, "ctrl: ACL");
	tap_eq(u8_at(buf, 259), NVR_AERL, "ctrl: AERL");
	tap_eq(u8_at(buf, 260), 0x03, "ctrl: FRMW one read-only slot");
	tap_eq(u8_at(buf, 261), 0x07, "ctrl: LPA SMART per namespace + effects log + extended data");
	tap_eq(u8_at(buf, 262), 63, "ctrl: ELPE 63 (64 error log entries)");
	tap_ok(u16_at(buf, 320) != 0, "ctrl: KAS non-zero (Linux: mandatory for fabrics)");
	tap_eq(u16_at(buf, 320), NVR_KAS, "ctrl: KAS value");
	tap_eq(u8_at(buf, 512), 0x66, "ctrl: SQES");
	tap_eq(u8_at(buf, 513), 0x44, "ctrl: CQES");
	tap_eq(u16_at(buf, 514), NVR_MQES + 1, "ctrl: MAXCMD");
	tap_eq(u32_at(buf, 516), 8, "ctrl: NN = max nsid");
	tap_eq(u16_at(buf, 520), 0xfd, "ctrl: ONCS compare|dsm|write zeroes|save-select|reservations|timestamp|verify");
	tap_eq(u16_at(buf, 522), 0, "ctrl: FUSES 0");
	tap_eq(u8_at(buf, 525), 0x07, "ctrl: VWC present, flush with NSID FFFFFFFFh supported");
	tap_eq(u32_at(buf, 536) & 3, 1, "ctrl: SGLS bits 1:0 = byte aligned");
	tap_ok(u32_at(buf, 536) & (1u << 20), "ctrl: SGLS offset (in-capsule) supported");
	tap_ok(padded_eq(buf, 768, 256, "nqn.2026-11.io.nvring:test", '\0'), "ctrl: SUBNQN NUL padded");
	tap_eq(u32_at(buf, 1792), (64 + NVR_IOCCSZ_ICD) / 16, "ctrl: IOCCSZ");
	tap_ok(u32_at(buf, 1792) >= 4, "ctrl: IOCCSZ >= 4");
	tap_eq(u32_at(buf, 1796), 1, "ctrl: IORCSZ 1");
	tap_eq(u16_at(buf, 1800), 0, "ctrl: ICDOFF 0");
	tap_eq(u8_at(buf, 1802), 0, "ctrl: FCATT dynamic");
	tap_eq(u8_at(buf, 1803), 1, "ctrl: MSDBD 1");
	tap_eq(u16_at(buf, 1804), 0, "ctrl: OFCS 0");
	tap_ok(all_zero(buf, 2048, 2048), "ctrl: PSD and vendor area zero");
}

static void test_ctrl_no_vwc(void)
{
	struct nvr_ns *ns = fx_ns_nvm(1, 9, 8);
	struct nvr_subsys *s = fx_subsys("nqn.x", 1, &ns, 1);
	struct nvr_ctrl *ctrl = fx_ctrl(s, 1);

	s->model[0] = 0;
	identify_ctrl(ctrl, buf);
	tap_eq(u8_at(buf, 525), 0, "ctrl: VWC 0 without a volatile cache");
	tap_ok(padded_eq(buf, 24, 40, "nvring", ' '), "ctrl: default MN");
}

static void test_disc_ctrl(void)
{
	struct nvr_subsys *d = fx_subsys(NVR_DISC_NQN, 0, NULL, 0);
	struct nvr_ctrl *ctrl;
	struct nvme_sqe sqe;

	d->discovery = true;
	ctrl = fx_ctrl(d, 7);
	sqe = sqe_identify(0x01, 0, 0);
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "disc ctrl: success");
	tap_eq(u8_at(buf, 111), 2, "disc ctrl: CNTRLTYPE discovery");
	tap_eq(u16_at(buf, 78), 7, "disc ctrl: CNTLID");
	tap_eq(u32_at(buf, 92), 1u << 31, "disc ctrl: OAES discovery log change");
	tap_eq(u16_at(buf, 320), NVR_KAS, "disc ctrl: KAS");
	tap_eq(u32_at(buf, 536), 1 | (1u << 20), "disc ctrl: SGLS");
	tap_eq(u16_at(buf, 514), NVR_MQES + 1, "disc ctrl: MAXCMD");
	tap_eq(u32_at(buf, 516), 0, "disc ctrl: NN 0");
	tap_eq(u32_at(buf, 1792), 0, "disc ctrl: IOCCSZ 0 (not an I/O controller)");
	tap_ok(padded_eq(buf, 768, 256, NVR_DISC_NQN, '\0'), "disc ctrl: SUBNQN well-known");
	sqe = sqe_identify(0x00, 1, 0);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_FIELD, "disc ctrl: CNS 0 invalid field");
	sqe = sqe_identify(0x02, 0, 0);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_FIELD, "disc ctrl: CNS 2 invalid field");
}

static void test_ns(struct nvr_subsys *s)
{
	struct nvr_ctrl *ctrl = fx_ctrl(s, 1);
	struct nvme_sqe sqe = sqe_identify(0x00, 1, 0);

	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "ns 512: success");
	tap_eq(u64_at(buf, 0), 2048, "ns 512: NSZE");
	tap_eq(u64_at(buf, 8), 2048, "ns 512: NCAP");
	tap_eq(u64_at(buf, 16), 2048, "ns 512: NUSE");
	tap_eq(u8_at(buf, 24), 0, "ns 512: NSFEAT");
	tap_eq(u8_at(buf, 25), 0, "ns 512: NLBAF 0 (one format)");
	tap_eq(u8_at(buf, 26), 0, "ns 512: FLBAS 0");
	tap_eq(u8_at(buf, 30), 1, "ns 512: NMIC shared");
	tap_eq(u8_at(buf, 33), 0x09, "ns 512: DLFEAT reads zeroes + write zeroes deallocate");
	tap_eq(u8_at(buf, 99), 0, "ns 512: NSATTR writable");
	tap_ok(!memcmp(buf + 104, nguid, 16), "ns 512: NGUID");
	tap_ok(!memcmp(buf + 120, eui, 8), "ns 512: EUI64");
	tap_eq(u16_at(buf, 128), 0, "ns 512: LBAF0 MS 0");
	tap_eq(u8_at(buf, 130), 9, "ns 512: LBAF0 LBADS 9");
	tap_eq(u8_at(buf, 131), 0, "ns 512: LBAF0 RP 0");
	tap_ok(all_zero(buf, 132, NVR_ID_SIZE - 132), "ns 512: rest zero");

	sqe = sqe_identify(0x00, 2, 0);
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "ns 4096: success");
	tap_eq(u64_at(buf, 0), 262144, "ns 4096: NSZE in 4 KiB blocks");
	tap_eq(u8_at(buf, 130), 12, "ns 4096: LBAF0 LBADS 12");
	tap_eq(u8_at(buf, 33), 0x09, "ns 4096: DLFEAT read zeroes (RAM and file namespaces always zero deallocated blocks)");
	tap_eq(u8_at(buf, 99), 1, "ns 4096: NSATTR write protected");

	sqe = sqe_identify(0x00, 3, 0);
	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "ns inactive: success");
	tap_ok(all_zero(buf, 0, NVR_ID_SIZE), "ns inactive: all zeroes");
	sqe = sqe_identify(0x00, 0, 0);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_NS, "ns 0: invalid namespace DNR");
	sqe = sqe_identify(0x00, 9, 0);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_NS, "ns > NN: invalid namespace DNR");
	sqe = sqe_identify(0x00, 0xffffffff, 0);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_NS, "ns FFFFFFFF: invalid namespace DNR");
	sqe = sqe_identify(0x00, 5, 0);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_IOCS, "ns KV via CNS 0: invalid I/O command set");
}

static void test_active_list(struct nvr_subsys *s)
{
	struct nvr_ctrl *ctrl = fx_ctrl(s, 1);
	struct nvme_sqe sqe = sqe_identify(0x02, 0, 0);
	enum { N = 1500 };
	struct nvr_ns **many = fx_alloc(N * sizeof(*many));
	struct nvr_subsys *big;
	bool asc = true;

	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "list: success");
	tap_ok(u32_at(buf, 0) == 1 && u32_at(buf, 4) == 2 && u32_at(buf, 8) == 5 && u32_at(buf, 12) == 0,
	       "list: 1,2,5 then 0");
	tap_ok(all_zero(buf, 12, NVR_ID_SIZE - 12), "list: zero filled");
	sqe.nsid = 2;
	identify_execute(ctrl, &sqe, buf);
	tap_ok(u32_at(buf, 0) == 5 && u32_at(buf, 4) == 0, "list: only NSIDs greater than NSID");
	sqe.nsid = 0xfffffffe;
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_NS, "list: FFFFFFFE invalid namespace");
	sqe = sqe_identify(0x07, 0, 1);
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "list CSI 1: success");
	tap_ok(u32_at(buf, 0) == 5 && u32_at(buf, 4) == 0, "list CSI 1: KV namespaces only");
	sqe = sqe_identify(0x07, 0, 0);
	identify_execute(ctrl, &sqe, buf);
	tap_ok(u32_at(buf, 0) == 1 && u32_at(buf, 4) == 2 && u32_at(buf, 8) == 0, "list CSI 0: NVM only");
	sqe = sqe_identify(0x07, 0, 2);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_IOCS, "list CSI 2: invalid I/O command set");

	/* pagination over 1500 namespaces given in reverse order */
	for (unsigned i = 0; i < N; i++)
		many[i] = fx_ns_nvm(N - i, 9, 8);
	big = fx_subsys("nqn.big", N, many, N);
	ctrl->subsys = big;
	sqe = sqe_identify(0x02, 0, 0);
	identify_execute(ctrl, &sqe, buf);
	for (unsigned i = 0; i < 1024; i++)
		asc &= u32_at(buf, 4 * i) == i + 1;
	tap_ok(asc, "list page 1: 1..1024 ascending");
	sqe.nsid = 1024;
	identify_execute(ctrl, &sqe, buf);
	asc = true;
	for (unsigned i = 0; i < N - 1024; i++)
		asc &= u32_at(buf, 4 * i) == 1025 + i;
	tap_ok(asc, "list page 2: 1025..1500");
	tap_ok(all_zero(buf, 4 * (N - 1024), NVR_ID_SIZE - 4 * (N - 1024)), "list page 2: zero after the last");
}

static void test_descs(struct nvr_subsys *s)
{
	struct nvr_ctrl *ctrl = fx_ctrl(s, 1);
	struct nvme_sqe sqe = sqe_identify(0x03, 1, 0);

	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "descs: success");
	tap_ok(u8_at(buf, 0) == 1 && u8_at(buf, 1) == 8 && u16_at(buf, 2) == 0 && !memcmp(buf + 4, eui, 8),
	       "descs: EUI64 NIDT 1 NIDL 8");
	tap_ok(u8_at(buf, 12) == 2 && u8_at(buf, 13) == 16 && !memcmp(buf + 16, nguid, 16),
	       "descs: NGUID NIDT 2 NIDL 16");
	tap_ok(u8_at(buf, 32) == 3 && u8_at(buf, 33) == 16 && !memcmp(buf + 36, uuid, 16),
	       "descs: UUID NIDT 3 NIDL 16");
	tap_ok(u8_at(buf, 52) == 4 && u8_at(buf, 53) == 1 && u8_at(buf, 56) == 0, "descs: CSI NIDT 4 NIDL 1 = NVM");
	tap_ok(all_zero(buf, 57, NVR_ID_SIZE - 57), "descs: terminated by zeroes");
	sqe.nsid = 5;
	identify_execute(ctrl, &sqe, buf);
	tap_ok(u8_at(buf, 0) == 4 && u8_at(buf, 1) == 1 && u8_at(buf, 4) == 1 && all_zero(buf, 5, 100),
	       "descs KV: zero ids omitted, CSI 1");
	sqe.nsid = 3;
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_NS, "descs inactive: invalid namespace");
}

static void test_csi(struct nvr_subsys *s)
{
	struct nvr_ctrl *ctrl = fx_ctrl(s, 1);
	struct nvme_sqe sqe = sqe_identify(0x05, 5, 1);
	struct nvr_subsys *nvm_only;
	struct nvr_ns *ns = fx_ns_nvm(1, 9, 8);

	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "kv id ns: success");
	tap_eq(u64_at(buf, 0), kvs_capacity(ns_kv(s->ns_table->ns[2])->eng), "kv id ns: NSZE = the engine's capacity");
	tap_ok(all_zero(buf, 8, 8), "kv id ns: rsvd 8");
	tap_eq(u64_at(buf, 16), kvs_used(ns_kv(s->ns_table->ns[2])->eng), "kv id ns: NUSE = the engine's live bytes");
	tap_eq(u8_at(buf, 25), 0, "kv id ns: NKVF 0 (one format)");
	tap_eq(u8_at(buf, 26), 1, "kv id ns: NMIC");
	tap_eq(u8_at(buf, 29), 0, "kv id ns: KVFC format 0");
	tap_eq(u16_at(buf, 72), 16, "kv id ns: KVF0 KVKML 16");
	tap_eq(u32_at(buf, 76), 1u << 20, "kv id ns: KVF0 KVVML");
	tap_eq(u32_at(buf, 80), 0, "kv id ns: KVF0 MNKS not reported");
	tap_ok(all_zero(buf, 88, NVR_ID_SIZE - 88), "kv id ns: rest zero");
	sqe = sqe_identify(0x05, 1, 1);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_IOCS, "kv id ns on NVM ns: invalid I/O command set");
	sqe = sqe_identify(0x05, 1, 0);
	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "nvm csi ns: success");
	tap_ok(all_zero(buf, 0, NVR_ID_SIZE), "nvm csi ns: zeroes");
	sqe = sqe_identify(0x05, 1, 2);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_IOCS, "csi ns CSI 2: invalid I/O command set");

	sqe = sqe_identify(0x06, 0, 1);
	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "kv id ctrl: success");
	tap_eq(u32_at(buf, 0), 0x00010000, "kv id ctrl: VER 1.0");
	tap_ok(all_zero(buf, 4, NVR_ID_SIZE - 4), "kv id ctrl: rest zero");
	sqe = sqe_identify(0x06, 0, 0);
	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "nvm id ctrl: success");
	tap_ok(all_zero(buf, 0, NVR_ID_SIZE), "nvm id ctrl: zeroes");

	sqe = sqe_identify(0x08, 2, 0);
	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "indep ns: success");
	tap_eq(u8_at(buf, 14), 1, "indep ns: NSTAT ready");
	tap_eq(u8_at(buf, 1), 1, "indep ns: NMIC");
	tap_eq(u8_at(buf, 8), 1, "indep ns: NSATTR write protected");
	tap_eq(u32_at(buf, 4), 0, "indep ns: ANAGRPID 0");
	sqe.nsid = 5;
	identify_execute(ctrl, &sqe, buf);
	tap_eq(u8_at(buf, 14), 1, "indep ns KV: NSTAT ready");
	sqe.nsid = 4;
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "indep ns inactive: success");
	tap_ok(all_zero(buf, 0, NVR_ID_SIZE), "indep ns inactive: zeroes (not ready)");

	sqe = sqe_identify(0x1c, 0, 0);
	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(ctrl, &sqe, buf), 0, "iocs: success");
	tap_eq(u64_at(buf, 0), 0x3, "iocs: vector 0 = NVM | KV");
	tap_ok(all_zero(buf, 8, NVR_ID_SIZE - 8), "iocs: other vectors zero");
	sqe = sqe_identify(0x10, 0, 0);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_FIELD, "CNS 0x10: invalid field DNR");

	nvm_only = fx_subsys("nqn.nvm", 1, &ns, 1);
	ctrl->subsys = nvm_only;
	sqe = sqe_identify(0x1c, 0, 0);
	identify_execute(ctrl, &sqe, buf);
	tap_eq(u64_at(buf, 0), 0x1, "iocs NVM only: vector 0 = NVM");
	sqe = sqe_identify(0x06, 0, 1);
	tap_eq(identify_execute(ctrl, &sqe, buf), ST_INVALID_IOCS, "kv id ctrl without KV: invalid I/O command set");
}

static void test_log_args(void)
{
	struct nvme_sqe sqe;
	struct identify_log_args a;
	uint8_t log[16], out[32];

	for (unsigned i = 0; i < sizeof(log); i++)
		log[i] = (uint8_t)(i + 1);
	memset(&sqe, 0, sizeof(sqe));
	sqe.cdw10 = 0x05 | (1u << 15) | (0x0003u << 16); /* LID 5, RAE, NUMDL 3 */
	sqe.cdw11 = 0x0001;                              /* NUMDU 1 */
	sqe.cdw12 = 0x100;
	sqe.cdw13 = 0x1;
	sqe.cdw14 = 1u << 24;
	tap_eq(identify_log_args(&sqe, 0x100000, &a), 0, "log args: success");
	tap_ok(a.lid == 5 && a.rae && a.csi == 1, "log args: LID, RAE, CSI");
	tap_eq(a.len, (0x10003ull + 1) * 4, "log args: NUMD from NUMDU:NUMDL, 0's based");
	tap_eq(a.offset, 0x100000100ull, "log args: 64-bit LPO");
	identify_log_args(&sqe, 64, &a);
	tap_eq(a.len, 64, "log args: capped by the host transfer length");
	sqe.cdw12 = 2;
	sqe.cdw13 = 0;
	tap_eq(identify_log_args(&sqe, 64, &a), ST_INVALID_FIELD, "log args: unaligned offset invalid");
	sqe.cdw12 = 0;
	sqe.cdw14 = 1u << 23;
	tap_eq(identify_log_args(&sqe, 64, &a), ST_INVALID_FIELD, "log args: offset type index invalid");

	a.offset = 8;
	a.len = 16;
	memset(out, 0xee, sizeof(out));
	tap_eq(identify_log_copy(&a, log, sizeof(log), out), 0, "log copy: success");
	tap_ok(out[0] == 9 && out[7] == 16 && all_zero(out, 8, 8) && out[16] == 0xee,
	       "log copy: window then zero fill, nothing past len");
	a.offset = 16;
	tap_eq(identify_log_copy(&a, log, sizeof(log), out), 0, "log copy: offset == size ok");
	a.offset = 20;
	tap_eq(identify_log_copy(&a, log, sizeof(log), out), ST_INVALID_FIELD, "log copy: offset past end invalid");
}

int main(void)
{
	struct nvr_subsys *s = mk_subsys();

	test_ctrl(s);
	test_ctrl_no_vwc();
	test_disc_ctrl();
	test_ns(s);
	test_active_list(s);
	test_descs(s);
	test_csi(s);
	test_log_args();
	fx_free_all();
	return tap_done();
}
