/* SPDX-License-Identifier: MIT */
/*
 * Passthrough namespaces without a drive: the opcode table (which opcodes pass, their data
 * direction), the length and read-only checks made before a command reaches the drive, the
 * status mapping of uring_cmd results, and what Identify reports for a passthrough namespace.
 */
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "fixture.h"
#include "tap.h"
#include "cmd/identify.h"
#include "ns/passthru.h"

#define ST_INVALID_OPCODE 0x4001
#define ST_INVALID_FIELD 0x4002
#define ST_SGL_INVALID_DATA 0x400f
#define ST_WRITE_PROTECTED 0x4020

static uint8_t buf[NVR_ID_SIZE];

static struct nvr_ns *mk_pt_ns(uint32_t nsid, bool all_opcodes)
{
	struct nvr_ns *ns = fx_alloc(sizeof(*ns));
	struct nvr_passthru *pt = fx_alloc(sizeof(*pt));

	ns->nsid = nsid;
	ns->lba_shift = 9;
	ns->nlba = 1u << 20;

	pt->fd = -1;
	pt->nsid = 7; /* the drive's own NSID differs from ours */
	pt->all_opcodes = all_opcodes;
	pt->mdts = 5;
	pt->max_bytes = 4096u << 5;
	passthru_attach(ns, pt);
	return ns;
}

static struct nvr_passthru *drive(struct nvr_ns *ns)
{
	return ns->priv;
}

static struct req *mk_req(struct nvr_ns *ns, uint8_t opcode, uint32_t data_len)
{
	struct req *req = fx_req(NULL, opcode, data_len);

	req->ns = ns;
	req->sqe.nsid = ns->nsid;
	return req;
}

static uint16_t check(struct nvr_ns *ns, uint8_t opc, uint32_t len, uint32_t cdw10, uint32_t cdw11, uint32_t cdw12)
{
	struct req *req = mk_req(ns, opc, len);
	uint16_t st;

	req->sqe.cdw10 = cdw10;
	req->sqe.cdw11 = cdw11;
	req->sqe.cdw12 = cdw12;
	st = passthru_check(req);
	fx_req_free(req);
	return st;
}

static void test_dirs(void)
{
	struct nvr_ns *nvm = mk_pt_ns(1, false), *all = mk_pt_ns(2, true);
	static const struct { uint8_t opc; int dir; } nvm_dirs[] = {
		{ 0x00, REQ_DIR_NONE }, { 0x01, REQ_DIR_H2C }, { 0x02, REQ_DIR_C2H }, { 0x04, REQ_DIR_NONE },
		{ 0x05, REQ_DIR_H2C }, { 0x08, REQ_DIR_NONE }, { 0x09, REQ_DIR_H2C }, { 0x0c, REQ_DIR_NONE },
		{ 0x0d, REQ_DIR_H2C }, { 0x0e, REQ_DIR_C2H }, { 0x11, REQ_DIR_H2C }, { 0x15, REQ_DIR_H2C },
		{ 0x19, REQ_DIR_H2C },
	};
	bool bit0_ok = true;

	for (size_t i = 0; i < sizeof(nvm_dirs) / sizeof(nvm_dirs[0]); i++) {
		tap_eq(passthru_opcode_dir(nvm, nvm_dirs[i].opc), nvm_dirs[i].dir, "dir: NVM opcode %#x",
		       nvm_dirs[i].opc);
		tap_eq(passthru_opcode_dir(all, nvm_dirs[i].opc), nvm_dirs[i].dir, "dir: NVM opcode %#x (all-opcodes)",
		       nvm_dirs[i].opc);
	}
	/* the vendor KV set breaks the bits 1:0 convention: retrieve (0x90) reads data */
	tap_eq(passthru_opcode_dir(all, 0x90), REQ_DIR_C2H, "dir: KV retrieve 0x90 is C2H (all-opcodes)");
	tap_eq(passthru_opcode_dir(all, 0xb2), REQ_DIR_C2H, "dir: KV iterator read 0xb2 is C2H");
	tap_eq(passthru_opcode_dir(all, 0x83), REQ_DIR_H2C, "dir: KV append 0x83 (bits 11) is H2C");
	tap_eq(passthru_opcode_dir(all, 0xb3), REQ_DIR_NONE, "dir: KV exist 0xb3 (bits 11) has no data");
	tap_eq(passthru_opcode_dir(all, 0x82), REQ_DIR_C2H, "dir: other vendor 0x82 from bits 1:0");
	tap_eq(passthru_opcode_dir(all, 0x87), 3, "dir: other vendor 0x87 bidirectional: refused");
	tap_eq(passthru_opcode_dir(all, 0x7e), REQ_DIR_C2H, "dir: unassigned 0x7e from bits 1:0");
	/* without all-opcodes the transport still moves the data by convention, then refuses */
	tap_eq(passthru_opcode_dir(nvm, 0x90), REQ_DIR_NONE, "dir: 0x90 without all-opcodes: bits 1:0");
	tap_eq(check(nvm, 0x90, 0, 0, 0, 0), ST_INVALID_OPCODE, "check: 0x90 without all-opcodes: Invalid Opcode");
	tap_eq(check(nvm, 0x7e, 4096, 0, 0, 0), ST_INVALID_OPCODE, "check: 0x7e without all-opcodes: Invalid Opcode");
	tap_eq(check(nvm, 0x03, 0, 0, 0, 0), ST_INVALID_OPCODE, "check: reserved NVM 0x03: Invalid Opcode");
	tap_eq(check(all, 0x90, 4096, 0, 0, 0), 0, "check: 0x90 with all-opcodes: passed");
	tap_eq(check(all, 0x87, 0, 0, 0, 0), ST_INVALID_OPCODE, "check: bidirectional 0x87: Invalid Opcode");

	/* the kernel maps the buffer by opcode bit 0: every direction we pass must agree */
	for (unsigned opc = 0; opc < 256; opc++) {
		int d = passthru_opcode_dir(all, (uint8_t)opc);

		if ((d == REQ_DIR_H2C && !(opc & 1)) || (d == REQ_DIR_C2H && (opc & 1))) {
			bit0_ok = false;
			printf("# opcode %#x: direction %d disagrees with bit 0\n", opc, d);
		}
	}
	tap_ok(bit0_ok, "dir: every passed direction agrees with opcode bit 0 (the kernel's rule)");
}

static void test_check(void)
{
	struct nvr_ns *ns = mk_pt_ns(1, false), *ro = mk_pt_ns(2, true), *all = mk_pt_ns(3, true);

	ro->readonly = true;
	tap_eq(check(ns, 0x02, 4096, 0, 0, 7), 0, "check: read 8 x 512 B with 4 KiB");
	tap_eq(check(ns, 0x02, 2048, 0, 0, 7), ST_SGL_INVALID_DATA, "check: read 8 blocks with 2 KiB: refused");
	tap_eq(check(ns, 0x02, 8192, 0, 0, 7), ST_SGL_INVALID_DATA, "check: read 8 blocks with 8 KiB: refused");
	tap_eq(check(ns, 0x01, 512, 0, 0, 0), 0, "check: write 1 block");
	tap_eq(check(ns, 0x05, 1024, 0, 0, 0), ST_SGL_INVALID_DATA, "check: compare 1 block with 1 KiB: refused");
	tap_eq(check(ns, 0x02, 4096, 0xffffffff, 0xffffffff, 7), 0,
	       "check: LBA range is left to the drive (its status goes back verbatim)");
	tap_eq(check(ns, 0x01, 256 * 1024, 0, 0, 511), ST_INVALID_FIELD, "check: 256 KiB above the drive's 128 KiB");
	tap_eq(check(ns, 0x01, 128 * 1024, 0, 0, 255), 0, "check: 128 KiB = the drive's limit");
	tap_eq(check(ns, 0x09, 16, 1, 1u << 2, 0), ST_SGL_INVALID_DATA, "check: DSM 2 ranges in 16 bytes: refused");
	tap_eq(check(ns, 0x09, 32, 1, 1u << 2, 0), 0, "check: DSM 2 ranges in 32 bytes");
	tap_eq(check(ns, 0x19, 32, 0, 0, 1u << 8), ST_SGL_INVALID_DATA, "check: Copy format 1 (40 B) in 32: refused");
	tap_eq(check(ns, 0x19, 40, 0, 0, 1u << 8), 0, "check: Copy format 1, one 40-byte descriptor");
	tap_eq(check(ns, 0x19, 64, 0, 0, 1), 0, "check: Copy format 0, two 32-byte descriptors");
	tap_eq(check(ns, 0x19, 4096, 0, 0, 4u << 8), ST_INVALID_FIELD, "check: Copy descriptor format 4: Invalid Field");
	tap_eq(check(ns, 0x0d, 8, 0, 0, 0), ST_SGL_INVALID_DATA, "check: Reservation Register with 8 bytes: refused");
	tap_eq(check(ns, 0x0d, 16, 0, 0, 0), 0, "check: Reservation Register with 16 bytes");
	tap_eq(check(ns, 0x15, 8, 0, 0, 0), 0, "check: Reservation Release with 8 bytes");
	tap_eq(check(ns, 0x0e, 64, 31, 0, 0), ST_SGL_INVALID_DATA, "check: Reservation Report 32 dwords in 64 B: refused");
	tap_eq(check(ns, 0x0e, 128, 31, 0, 0), 0, "check: Reservation Report 32 dwords in 128 B");
	tap_eq(check(ns, 0x00, 0, 0, 0, 0), 0, "check: Flush");
	tap_eq(check(all, 0x81, 4096, 0, 0, 0), 0, "check: vendor store (all-opcodes), length trusted");

	tap_eq(check(ro, 0x01, 512, 0, 0, 0), ST_WRITE_PROTECTED, "ro: Write refused");
	tap_eq(check(ro, 0x08, 0, 0, 0, 0), ST_WRITE_PROTECTED, "ro: Write Zeroes refused");
	tap_eq(check(ro, 0x04, 0, 0, 0, 0), ST_WRITE_PROTECTED, "ro: Write Uncorrectable refused");
	tap_eq(check(ro, 0x09, 16, 0, 1u << 2, 0), ST_WRITE_PROTECTED, "ro: DSM deallocate refused");
	tap_eq(check(ro, 0x09, 16, 0, 1u << 0, 0), 0, "ro: DSM attributes only (a hint) passed");
	tap_eq(check(ro, 0x19, 32, 0, 0, 0), ST_WRITE_PROTECTED, "ro: Copy refused");
	tap_eq(check(ro, 0x81, 4096, 0, 0, 0), ST_WRITE_PROTECTED, "ro: vendor store refused");
	tap_eq(check(ro, 0xc1, 0, 0, 0, 0), ST_WRITE_PROTECTED, "ro: unknown opcode with bit 0 (a write) refused");
	tap_eq(check(ro, 0x02, 512, 0, 0, 0), 0, "ro: Read passed");
	tap_eq(check(ro, 0x05, 512, 0, 0, 0), 0, "ro: Compare passed");
	tap_eq(check(ro, 0x90, 512, 0, 0, 0), 0, "ro: vendor retrieve passed");
}

static void test_status(void)
{
	tap_eq(passthru_status(0, 0x02), 0, "status: 0 is success");
	tap_eq(passthru_status(0x4080, 0x02), 0x4080, "status: LBA Out of Range + DNR verbatim");
	tap_eq(passthru_status(0x0281, 0x02), 0x0281, "status: media Unrecovered Read Error verbatim");
	tap_eq(passthru_status(0x6002, 0x01), 0x6002, "status: More and DNR kept");
	tap_eq(passthru_status(0x1806, 0x01), 0x0006, "status: CRD dropped (needs host ACRE we never enable)");
	tap_eq(passthru_status(0x0310, 0x90), 0x0310, "status: vendor SCT 3 / SC 10h (KV key not exist) verbatim");
	tap_eq(passthru_status(0x0370, 0x02), 0x4006, "status: kernel host path error -> Internal Error, DNR");
	tap_eq(passthru_status(0x0371, 0x01), 0x4006, "status: kernel host aborted -> Internal Error, DNR");
	tap_eq(passthru_status(-EIO, 0x02), 0x0281, "status: -EIO on read -> Unrecovered Read Error");
	tap_eq(passthru_status(-EIO, 0x01), 0x0280, "status: -EIO on write -> Write Fault");
	tap_eq(passthru_status(-EINVAL, 0x00), ST_INVALID_FIELD, "status: -EINVAL -> Invalid Field");
	tap_eq(passthru_status(-EINTR, 0x00), 0x0006, "status: -EINTR (cancelled) -> Internal Error, retryable");
	tap_eq(passthru_status(-ENODEV, 0x02), 0x0006, "status: -ENODEV -> Internal Error");
}

/* the drive's Identify Namespace: 4 KiB blocks in format 1, its own ids and groups */
static void fill_drive_id_ns(uint8_t *id)
{
	memset(id, 0, NVR_PT_ID_SIZE);
	id[0] = 0x00, id[1] = 0x10;            /* NSZE 4096 */
	id[8] = 0x00, id[9] = 0x10;            /* NCAP */
	id[16] = 0x00, id[17] = 0x08;          /* NUSE 2048 */
	id[24] = 0x14;                          /* NSFEAT: NPVG/optimal I/O fields */
	id[25] = 1;                             /* NLBAF: 2 formats */
	id[26] = 1;                             /* FLBAS: format 1 */
	id[30] = 0;                             /* NMIC: private */
	id[33] = 0x09;                          /* DLFEAT */
	id[72] = 0x20;                          /* NOIOB 32 */
	id[92] = 5;                             /* ANAGRPID 5 */
	id[99] = 0;                             /* NSATTR */
	id[100] = 3;                            /* NVMSETID 3 */
	id[102] = 2;                            /* ENDGID 2 */
	memset(id + 104, 0xd1, 16);             /* NGUID (drive) */
	memset(id + 120, 0xe1, 8);              /* EUI64 (drive) */
	id[128 + 2] = 9;                        /* LBAF0: 512 B */
	id[132 + 2] = 12;                       /* LBAF1: 4 KiB */
	id[132 + 3] = 1;                        /* RP */
}

static void test_identify(void)
{
	static const uint8_t nguid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct nvr_ns *pt = mk_pt_ns(1, false), *pt_ro = mk_pt_ns(2, false), *mem = fx_ns_nvm(3, 9, 2048);
	struct nvr_ns *only[1] = { pt }, *mixed[3] = { pt, pt_ro, mem };
	struct nvr_subsys *s1, *s3;
	struct nvme_sqe sqe;

	fill_drive_id_ns(drive(pt)->id_ns);
	fill_drive_id_ns(drive(pt_ro)->id_ns);
	pt->lba_shift = pt_ro->lba_shift = 12;
	memcpy(pt->nguid, nguid, 16);
	memcpy(pt->eui64, nguid, 8);
	pt_ro->readonly = true;
	s1 = fx_subsys("nqn.2026-11.io.nvring:pt", 8, only, 1);
	s3 = fx_subsys("nqn.2026-11.io.nvring:mixed", 8, mixed, 3);

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = 0x06;
	sqe.nsid = 1;
	sqe.cdw10 = 0x00;
	memset(buf, 0xa5, sizeof(buf));
	tap_eq(identify_execute(fx_ctrl(s1, 1), &sqe, buf), 0, "id-ns pt: success");
	tap_eq(u64_at(buf, 0), 4096, "id-ns pt: NSZE is the drive's");
	tap_eq(u64_at(buf, 16), 2048, "id-ns pt: NUSE is the drive's");
	tap_eq(u8_at(buf, 25), 1, "id-ns pt: NLBAF is the drive's");
	tap_eq(u8_at(buf, 26), 1, "id-ns pt: FLBAS is the drive's (format 1)");
	tap_eq(u8_at(buf, 132 + 2), 12, "id-ns pt: LBAF1 LBADS 12");
	tap_eq(u8_at(buf, 24), 0x14, "id-ns pt: NSFEAT is the drive's");
	tap_eq(u16_at(buf, 72), 0x20, "id-ns pt: NOIOB is the drive's");
	tap_eq(u8_at(buf, 33), 0x09, "id-ns pt: DLFEAT is the drive's");
	tap_eq(u8_at(buf, 30), 1, "id-ns pt: NMIC shared (every host connected to us)");
	tap_eq(u8_at(buf, 99), 0, "id-ns pt: NSATTR not write protected");
	tap_eq(u32_at(buf, 92), 0, "id-ns pt: ANAGRPID 0 (no ANA here)");
	tap_eq(u16_at(buf, 100), 0, "id-ns pt: NVMSETID 0");
	tap_eq(u16_at(buf, 102), 0, "id-ns pt: ENDGID 0");
	tap_ok(!memcmp(buf + 104, nguid, 16), "id-ns pt: NGUID ours, not the drive's");
	tap_ok(!memcmp(buf + 120, nguid, 8), "id-ns pt: EUI64 ours, not the drive's");
	sqe.nsid = 2;
	tap_eq(identify_execute(fx_ctrl(s3, 1), &sqe, buf), 0, "id-ns pt ro: success");
	tap_eq(u8_at(buf, 99), 1, "id-ns pt ro: NSATTR write protected");
	tap_ok(all_zero(buf, 104, 24), "id-ns pt: no ids configured, none reported (not the drive's)");

	/* drive: MDTS 5, ONCS compare|write zeroes|reservations|copy, volatile cache */
	drive(pt)->oncs = drive(pt_ro)->oncs = 0x0129;
	pt->vwc = true;
	sqe.cdw10 = 0x01;
	sqe.nsid = 0;
	tap_eq(identify_execute(fx_ctrl(s1, 1), &sqe, buf), 0, "id-ctrl pt: success");
	tap_eq(u8_at(buf, 77), 5, "id-ctrl pt: MDTS min(8, the drive's 5)");
	tap_eq(u16_at(buf, 520), 0x0129 | 0x50, "id-ctrl pt only: ONCS = the drive's I/O bits + ours (features, timestamp)");
	tap_eq(u8_at(buf, 525), 0x07, "id-ctrl pt: VWC present (Flush goes to the drive), broadcast Flush");
	tap_eq(identify_execute(fx_ctrl(s3, 1), &sqe, buf), 0, "id-ctrl mixed: success");
	tap_eq(u16_at(buf, 520), 0x01 | 0x08 | 0x20 | 0x50,
	       "id-ctrl mixed: ONCS = what every namespace takes (reservations: the drive's and ours)");
	drive(pt)->mdts = drive(pt_ro)->mdts = 10;
	tap_eq(identify_execute(fx_ctrl(s1, 1), &sqe, buf), 0, "id-ctrl pt MDTS 10: success");
	tap_eq(u8_at(buf, 77), 8, "id-ctrl pt: MDTS stays ours (8) when the drive takes more");
}

int main(void)
{
	test_dirs();
	test_check();
	test_status();
	test_identify();
	fx_free_all();
	return tap_done();
}
