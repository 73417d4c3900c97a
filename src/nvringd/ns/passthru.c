/* SPDX-License-Identifier: MIT */
/*
 * Passthrough namespaces: the host's I/O commands go to a real NVMe namespace as
 * IORING_OP_URING_CMD (NVME_URING_CMD_IO) on the worker's own ring, with the data in the
 * request's buffer; the drive's status and result (CQE DW0/DW1) go back verbatim.
 *
 * The kernel decides the data direction from opcode bit 0 and maps exactly the length we
 * give it, so every opcode we pass must have a direction that agrees with bit 0, and every
 * command whose transfer length is in its own fields is checked against the host's length.
 *
 * Fixed buffers (IORING_URING_CMD_FIXED) are not used: request buffers come from the
 * per-worker bufpool, which mallocs in size classes and frees beyond a cap, so nothing is
 * registered with the ring; registering would need a pinned arena of its own.
 */
#include "passthru.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/nvme_ioctl.h>
#include <nvme/types.h>

#include "cmd/identify.h"
#include "core/queue.h"
#include "log.h"
#include "spec/nvme_kv.h"
#include "worker.h"

#define ST(sc) NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_##sc)

static inline struct nvr_passthru *pt_of(const struct nvr_ns *ns)
{
	return ns->priv;
}
#define ST_DNR(sc) (ST(sc) | NVME_STATUS_DNR)
#define DSM_AD (1u << 2)
#define PT_SQE_CMD_BYTES 80 /* 128-byte SQE minus the 48 bytes before sqe->cmd */

/* Identify byte offsets (NVMe base spec 2.0, Identify Controller / Namespace) */
#define IDC_MDTS 77
#define IDC_ONCS 520
#define IDC_VWC 525
#define IDN_NSZE 0
#define IDN_NLBAF 25
#define IDN_FLBAS 26
#define IDN_LBAF 128
#define IDN_NIDT_CSI 4

/* ---- which opcodes are passed, in which direction ---------------------------------------- */

enum pt_len { /* how the transfer length follows from the command */
	PT_LEN_NONE,   /* no data */
	PT_LEN_LBAS,   /* exactly (NLB + 1) logical blocks */
	PT_LEN_DSM,    /* at least (NR + 1) 16-byte ranges */
	PT_LEN_COPY,   /* at least (NR + 1) source range descriptors */
	PT_LEN_RESV16, /* at least 16 bytes (keys) */
	PT_LEN_RESV8,  /* at least 8 bytes */
	PT_LEN_NUMD,   /* at least (NUMD + 1) dwords, CDW10 */
	PT_LEN_ANY,    /* not known: the host's length is trusted (all-opcodes) */
};

struct pt_opc {
	bool known;
	int8_t dir;      /* enum req_dir */
	bool writes;     /* changes the namespace's data (refused when read-only) */
	uint8_t len;     /* enum pt_len */
};

/* The NVM command set: always passed. Each direction agrees with opcode bit 0. */
static const struct pt_opc pt_nvm[0x20] = {
	[nvme_cmd_flush] = { true, REQ_DIR_NONE, false, PT_LEN_NONE },
	[nvme_cmd_write] = { true, REQ_DIR_H2C, true, PT_LEN_LBAS },
	[nvme_cmd_read] = { true, REQ_DIR_C2H, false, PT_LEN_LBAS },
	[nvme_cmd_write_uncor] = { true, REQ_DIR_NONE, true, PT_LEN_NONE },
	[nvme_cmd_compare] = { true, REQ_DIR_H2C, false, PT_LEN_LBAS },
	[nvme_cmd_write_zeroes] = { true, REQ_DIR_NONE, true, PT_LEN_NONE },
	[nvme_cmd_dsm] = { true, REQ_DIR_H2C, true, PT_LEN_DSM },
	[nvme_cmd_verify] = { true, REQ_DIR_NONE, false, PT_LEN_NONE },
	[nvme_cmd_resv_register] = { true, REQ_DIR_H2C, false, PT_LEN_RESV16 },
	[nvme_cmd_resv_report] = { true, REQ_DIR_C2H, false, PT_LEN_NUMD },
	[nvme_cmd_resv_acquire] = { true, REQ_DIR_H2C, false, PT_LEN_RESV16 },
	[nvme_cmd_resv_release] = { true, REQ_DIR_H2C, false, PT_LEN_RESV8 },
	[nvme_cmd_copy] = { true, REQ_DIR_H2C, true, PT_LEN_COPY },
};

/*
 * Opcodes outside the NVM table, passed only with all-opcodes. The Samsung KV-SSD / NVMeVirt
 * vendor set (reference C.7) breaks the bits 1:0 convention (retrieve 0x90 reads data with
 * bits 00), so it is listed; its directions agree with bit 0, which is what the kernel uses.
 * Anything else: bits 1:0 (11b = bidirectional, refused).
 */
static struct pt_opc pt_other(uint8_t opc)
{
	int kv_dir = kvssd_opcode_dir(opc);
	struct pt_opc o = { true, REQ_DIR_NONE, false, PT_LEN_ANY };

	if (kv_dir >= 0) {
		o.dir = (int8_t)kv_dir;
		/* store, append, batch and delete change the stored data */
		o.writes = kv_dir == REQ_DIR_H2C || opc == KVSSD_OPC_DELETE;
		return o;
	}
	o.dir = (int8_t)(opc & 3);
	/* bit 0 is the kernel's "write" (data to the drive): treat it as changing data */
	o.writes = opc & 1;
	return o;
}

/* false: the opcode is not passed on this namespace */
static bool pt_lookup(const struct nvr_passthru *pt, uint8_t opc, struct pt_opc *o)
{
	if (opc < 0x20 && pt_nvm[opc].known) {
		*o = pt_nvm[opc];
		return true;
	}
	if (!pt->all_opcodes)
		return false;
	*o = pt_other(opc);
	return o->dir != 3;
}

int passthru_opcode_dir(const struct nvr_ns *ns, uint8_t opcode)
{
	struct pt_opc o;

	if (pt_lookup(pt_of(ns), opcode, &o))
		return o.dir;
	/* refused at execution with Invalid Opcode; the transport still moves the data the
	 * host announced by the usual convention so the stream stays in step */
	return opcode & 3;
}

static uint64_t pt_min_len(const struct req *req, const struct pt_opc *o, uint16_t *st)
{
	const struct nvme_sqe *sqe = &req->sqe;
	uint32_t fmt;

	*st = 0;
	switch (o->len) {
	case PT_LEN_DSM:
		return ((uint64_t)(sqe->cdw10 & 0xff) + 1) * 16;
	case PT_LEN_COPY:
		/* descriptor formats 0 and 2 are 32 bytes, 1 and 3 are 40 */
		fmt = (sqe->cdw12 >> 8) & 0xf;
		if (fmt > 3) {
			*st = ST_DNR(INVALID_FIELD);
			return 0;
		}
		return ((uint64_t)(sqe->cdw12 & 0xff) + 1) * (fmt & 1 ? 40 : 32);
	case PT_LEN_RESV16:
		return 16;
	case PT_LEN_RESV8:
		return 8;
	case PT_LEN_NUMD:
		return ((uint64_t)sqe->cdw10 + 1) * 4;
	default:
		return 0;
	}
}

uint16_t passthru_check(const struct req *req)
{
	const struct nvr_ns *ns = req->ns;
	const struct nvr_passthru *pt = pt_of(ns);
	const struct nvme_sqe *sqe = &req->sqe;
	struct pt_opc o;
	uint64_t need;
	uint16_t st;

	if (!pt_lookup(pt, sqe->opcode, &o))
		return ST_DNR(INVALID_OPCODE);
	if (ns->readonly && o.writes && !(sqe->opcode == nvme_cmd_dsm && !(sqe->cdw11 & DSM_AD)))
		return ST_DNR(NS_WRITE_PROTECTED);
	if (req->data_len > pt->max_bytes)
		return ST_DNR(INVALID_FIELD);
	if (o.dir == REQ_DIR_NONE || o.len == PT_LEN_ANY)
		return 0;
	if (o.len == PT_LEN_LBAS) {
		/* NLB is 0's based: 16 bits can ask for up to 64 Ki blocks */
		need = ((uint64_t)(sqe->cdw12 & 0xffff) + 1) << ns->lba_shift;
		return need == req->data_len ? 0 : ST_DNR(SGL_INVALID_DATA);
	}
	need = pt_min_len(req, &o, &st);
	if (st)
		return st;
	return req->data_len >= need ? 0 : ST_DNR(SGL_INVALID_DATA);
}

/* ---- status mapping -------------------------------------------------------------------- */

uint16_t passthru_status(int res, uint8_t opcode)
{
	enum be_op op = opcode == nvme_cmd_read ? BE_READ : (opcode & 1) ? BE_WRITE : BE_FLUSH;

	if (res < 0)
		/* the kernel refused or cancelled the command (-EINTR when the controller went away) */
		return be_errno_to_status(res, op);
	/*
	 * The kernel reports the drive's CQE status shifted right by one, which is our internal
	 * form (SC 7:0, SCT 10:8, CRD 12:11, More 13, DNR 14). SCT 3 / SC 70h-7Fh are the host's
	 * own path statuses (the kernel's "host path error", "host aborted": the drive is gone or
	 * being reset); a controller must not return them, and the host would fail over to the
	 * same path forever: say Internal Error, do not retry.
	 */
	if (((res >> 8) & 7) == 3 && (res & 0xff) >= 0x70)
		return ST_DNR(INTERNAL);
	return (uint16_t)(res & 0x67ff);
}

/* ---- submission ------------------------------------------------------------------------ */

static void pt_prep(struct io_uring_sqe *sqe, const struct nvr_passthru *pt, const struct nvme_sqe *hsqe,
		    void *buf, uint32_t len)
{
	/* the command area starts at byte 48 and runs 80 bytes into the 128-byte SQE */
	struct nvme_uring_cmd *cmd = (struct nvme_uring_cmd *)sqe->cmd;

	memset(sqe, 0, sizeof(*sqe));
	memset(sqe->cmd, 0, PT_SQE_CMD_BYTES);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = pt->fd;
	sqe->cmd_op = NVME_URING_CMD_IO;
	cmd->opcode = hsqe->opcode; /* flags 0: the kernel builds PRPs itself and refuses PSDT/FUSE */
	cmd->nsid = pt->nsid;
	cmd->cdw2 = hsqe->cdw2;
	cmd->cdw3 = hsqe->cdw3;
	cmd->addr = (uint64_t)(uintptr_t)buf;
	cmd->data_len = len;
	cmd->cdw10 = hsqe->cdw10;
	cmd->cdw11 = hsqe->cdw11;
	cmd->cdw12 = hsqe->cdw12;
	cmd->cdw13 = hsqe->cdw13;
	cmd->cdw14 = hsqe->cdw14;
	cmd->cdw15 = hsqe->cdw15;
}

static_assert(sizeof(struct nvme_uring_cmd) <= PT_SQE_CMD_BYTES, "uring_cmd fits the big SQE");
static_assert(offsetof(struct io_uring_sqe, cmd) == 48, "SQE command area");

static void pt_req_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct req *req = container_of(op, struct req, pt_op);
	uint16_t st = passthru_status(cqe->res, req->sqe.opcode);
	uint64_t result = 0;

	if (cqe->res >= 0)
		result = cqe->big_cqe[0];
	else if (!atomic_exchange(&pt_of(req->ns)->failing, true))
		/* errno, not a drive status: the drive is gone or being reset (logged once) */
		log_err("passthru %s: the kernel fails commands to the drive: %s (opcode %#x); hosts get NVMe "
			"status %#x", pt_of(req->ns)->path, strerror(-cqe->res), req->sqe.opcode, st);
	if (st == 0 && req->dir == REQ_DIR_C2H)
		req->xfer_len = req->data_len;
	else
		req->xfer_len = 0;
	req_complete(req, st, (uint32_t)result, (uint32_t)(result >> 32));
}

void passthru_execute(struct req *req)
{
	struct io_uring *ring = req_executor(req)->ring;
	const struct nvr_passthru *pt = pt_of(req->ns);
	struct io_uring_sqe *sqe;
	uint16_t st = passthru_check(req);

	if (!st && !(ring->flags & IORING_SETUP_SQE128))
		st = ST(INTERNAL); /* cannot happen: setup makes every ring big */
	if (st) {
		req_complete_status(req, st);
		return;
	}
	/* a C2H command whose length is not exactly its data: what the drive leaves unwritten
	 * must not carry an earlier request's bytes to this host */
	if (req->dir == REQ_DIR_C2H && req->sqe.opcode != nvme_cmd_read && req->data_len)
		memset(req->buf, 0, req->data_len);
	req->pt_op.complete = pt_req_done;
	sqe = ring_get_sqe(ring);
	pt_prep(sqe, pt, &req->sqe, req->data_len ? req->buf : NULL, req->data_len);
	ring_op_attach(sqe, &req->pt_op);
}

/* Flush (broadcast Flush, shutdown notification) reaches the drive as a uring_cmd too. */
static void pt_flush_done(struct ring_op *op, const struct io_uring_cqe *cqe)
{
	struct ns_flush *f = container_of(op, struct ns_flush, io.rop);

	/* the drive's status does not fit an errno: any failure is an I/O error */
	f->done(f, cqe->res == 0);
}

static void pt_flush(struct nvr_ns *ns, struct executor *ex, struct ns_flush *f)
{
	struct nvme_sqe flush = { .opcode = nvme_cmd_flush };
	struct io_uring_sqe *sqe;

	if (!(ex->ring->flags & IORING_SETUP_SQE128)) {
		f->done(f, false);
		return;
	}
	f->io.rop.complete = pt_flush_done;
	sqe = executor_get_sqe(ex);
	pt_prep(sqe, pt_of(ns), &flush, NULL, 0);
	ring_op_attach(sqe, &f->io.rop);
}

static int pt_ioctl_flush(const struct nvr_passthru *pt)
{
	struct nvme_passthru_cmd cmd = { .opcode = nvme_cmd_flush, .nsid = pt->nsid };
	int ret = ioctl(pt->fd, NVME_IOCTL_IO_CMD, &cmd);

	return ret < 0 ? -errno : ret ? -EIO : 0;
}


/* ---- open: identify the drive, probe the kernel ---------------------------------------- */

static int pt_identify(int fd, uint32_t nsid, uint8_t cns, void *buf, char *err, size_t errlen, const char *what)
{
	struct nvme_admin_cmd cmd = {
		.opcode = 0x06,
		.nsid = nsid,
		.addr = (uint64_t)(uintptr_t)buf,
		.data_len = NVR_PT_ID_SIZE,
		.cdw10 = cns,
	};
	int ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);

	if (ret < 0) {
		snprintf(err, errlen, "%s (admin ioctl): %s%s", what, strerror(errno),
			 errno == EACCES || errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		return -1;
	}
	if (ret > 0) {
		snprintf(err, errlen, "%s: the drive answered NVMe status %#x", what, ret);
		return -1;
	}
	return 0;
}

/*
 * One harmless command through the same path the data will take: a ring with SQE128|CQE32
 * and a Flush as NVME_URING_CMD_IO. Kernels before 5.19 refuse the ring flags or the opcode.
 */
static int pt_probe_uring(const struct nvr_passthru *pt, char *err, size_t errlen)
{
	static const char too_old[] = "kernel too old: needs Linux 5.19+ io_uring NVMe passthrough";
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 };
	struct nvme_sqe flush = { .opcode = nvme_cmd_flush };
	struct __kernel_timespec ts = { .tv_sec = 30 };
	struct io_uring_probe *probe;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	bool has_cmd;
	int ret, res;

	ret = io_uring_queue_init_params(2, &ring, &p);
	if (ret == -EINVAL) {
		snprintf(err, errlen, "%s (no IORING_SETUP_SQE128)", too_old);
		return -1;
	}
	if (ret < 0) {
		snprintf(err, errlen, "io_uring setup: %s", strerror(-ret));
		return -1;
	}
	probe = io_uring_get_probe_ring(&ring);
	has_cmd = probe && io_uring_opcode_supported(probe, IORING_OP_URING_CMD);
	io_uring_free_probe(probe);
	if (!has_cmd) {
		io_uring_queue_exit(&ring);
		snprintf(err, errlen, "%s (no IORING_OP_URING_CMD)", too_old);
		return -1;
	}
	sqe = io_uring_get_sqe(&ring);
	if (!sqe) { /* cannot happen on a fresh ring, but pt_prep must never see NULL */
		io_uring_queue_exit(&ring);
		snprintf(err, errlen, "uring_cmd probe: no free SQE");
		return -1;
	}
	pt_prep(sqe, pt, &flush, NULL, 0);
	ret = io_uring_submit(&ring);
	if (ret == 1)
		ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	if (ret < 0) {
		io_uring_queue_exit(&ring);
		snprintf(err, errlen, "uring_cmd probe: %s", strerror(-ret));
		return -1;
	}
	res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	if (res == -EOPNOTSUPP || res == -EINVAL || res == -ENOTTY) {
		snprintf(err, errlen, "%s (uring_cmd Flush: %s)", too_old, strerror(-res));
		return -1;
	}
	if (res < 0) {
		snprintf(err, errlen, "uring_cmd probe (Flush): %s%s", strerror(-res),
			 res == -EACCES || res == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		return -1;
	}
	/* an NVMe status for Flush still proves the path works */
	return 0;
}

static long pt_sysfs_num(const char *blk, const char *attr)
{
	char path[256], val[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/block/%s/queue/%s", blk, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, val, sizeof(val) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	val[n] = 0;
	return strtol(val, NULL, 10);
}

/*
 * The largest transfer the kernel takes for one command: the drive's MDTS (assuming the
 * usual 4 KiB CAP.MPSMIN, which the char device cannot show), the block queue's
 * max_hw_sectors (which has the real MPSMIN folded in) and max_segments x 4 KiB (a request
 * buffer is virtually contiguous, not physically: one segment per page at worst).
 */
static uint8_t pt_mdts(const struct stat *st, uint8_t drive_mdts)
{
	uint64_t max = NVR_MDTS_BYTES;
	char link[PATH_MAX], sys[64], blk[64];
	const char *name;
	uint8_t mdts = 0;
	long v;
	ssize_t n;

	if (drive_mdts && drive_mdts < 20 && (4096ull << drive_mdts) < max)
		max = 4096ull << drive_mdts;
	snprintf(sys, sizeof(sys), "/sys/dev/char/%u:%u", major(st->st_rdev), minor(st->st_rdev));
	n = readlink(sys, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		name = strrchr(link, '/');
		name = name ? name + 1 : link;
		/* ngXnY is the char twin of the block device nvmeXnY */
		if (!strncmp(name, "ng", 2)) {
			snprintf(blk, sizeof(blk), "nvme%s", name + 2);
			v = pt_sysfs_num(blk, "max_hw_sectors_kb");
			if (v > 0 && (uint64_t)v * 1024 < max)
				max = (uint64_t)v * 1024;
			v = pt_sysfs_num(blk, "max_segments");
			if (v > 0 && (uint64_t)v * 4096 < max)
				max = (uint64_t)v * 4096;
		}
	}
	while ((4096ull << (mdts + 1)) <= max)
		mdts++;
	return mdts ? mdts : 1; /* 0 would mean "no limit" to the host */
}

static uint16_t le16_at(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint64_t le64_at(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return le64toh(v);
}

/* The CSI in a Namespace Identification Descriptor list; NVM (0) when none is reported. */
static uint8_t pt_desc_csi(const uint8_t *d)
{
	for (size_t off = 0; off + 4 <= NVR_PT_ID_SIZE && d[off];) {
		size_t len = d[off + 1];

		if (d[off] == IDN_NIDT_CSI && len >= 1 && off + 4 < NVR_PT_ID_SIZE)
			return d[off + 4];
		off += 4 + len;
	}
	return 0;
}

static int pt_check_format(struct nvr_ns *ns, const struct nvr_passthru *pt, char *err, size_t errlen)
{
	const uint8_t *id = pt->id_ns;
	uint8_t flbas = id[IDN_FLBAS], nlbaf = id[IDN_NLBAF];
	/* FLBAS bits 3:0 and, beyond 16 formats, bits 6:5 as the high part */
	unsigned idx = (flbas & 0xf) | (nlbaf >= 16 ? ((flbas >> 5) & 3u) << 4 : 0);
	const uint8_t *lbaf = id + IDN_LBAF + 4 * idx;
	uint16_t ms = le16_at(lbaf, 0);
	uint8_t ds = lbaf[2];
	uint64_t nsze = le64_at(id, IDN_NSZE);

	if (!nsze) {
		snprintf(err, errlen, "namespace %u has no capacity (inactive?)", pt->nsid);
		return -1;
	}
	if (ms) {
		snprintf(err, errlen, "LBA format %u has %u bytes of metadata per block; NVMe/TCP carries "
			 "none: format the namespace without metadata", idx, ms);
		return -1;
	}
	if (ds < 9 || ds > 16) {
		snprintf(err, errlen, "LBA format %u: unsupported LBA data size 2^%u", idx, ds);
		return -1;
	}
	ns->lba_shift = ds;
	ns->nlba = nsze;
	return 0;
}

static uint16_t pt_parse(struct req *req)
{
	req->execute = passthru_execute;
	return passthru_check(req);
}

void passthru_identify_nvm(const struct nvr_ns *ns, struct nvme_id_ns *id)
{
	/* the drive's geometry, formats, features and limits as they are; identifiers, NMIC and
	 * write protection are set by identify.c for every kind */
	memcpy(id, pt_of(ns)->id_ns, sizeof(*id));
	/* structures we do not report: no ANA groups, NVM sets or endurance groups of the drive */
	id->anagrpid = 0;
	id->nvmsetid = 0;
	id->endgid = 0;
}

static uint16_t pt_oncs(const struct nvr_ns *ns)
{
	return pt_of(ns)->oncs;
}

static uint8_t pt_mdts_of(const struct nvr_ns *ns)
{
	return pt_of(ns)->mdts;
}

static int pt_flush_sync(struct nvr_ns *ns)
{
	return pt_ioctl_flush(pt_of(ns));
}

static void pt_close(struct nvr_ns *ns);

static const struct nvr_ns_ops pt_ops = {
	.kind = "passthru",
	.io_dir = passthru_opcode_dir,
	.parse = pt_parse,
	.identify_nvm = passthru_identify_nvm,
	.oncs = pt_oncs,
	.mdts = pt_mdts_of,
	.flush = pt_flush,
	.flush_sync = pt_flush_sync,
	.close = pt_close,
};

void passthru_attach(struct nvr_ns *ns, struct nvr_passthru *pt)
{
	ns->ops = &pt_ops;
	ns->priv = pt;
	ns->csi = NVR_CSI_NVM;
}

int ns_passthru_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen)
{
	struct nvr_passthru *pt;
	uint8_t *idc = NULL, *desc = NULL;
	struct stat st;
	int fd, id;

	fd = open(cn->path, (cn->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", cn->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		snprintf(err, errlen, "%s is %s; passthrough needs an NVMe generic char device (/dev/ngXnY)%s",
			 cn->path, S_ISBLK(st.st_mode) ? "a block device" : "not a character device",
			 S_ISBLK(st.st_mode) ? ", or use file: for the block device" : "");
		close(fd);
		return -1;
	}
	id = ioctl(fd, NVME_IOCTL_ID);
	if (id <= 0) {
		snprintf(err, errlen, "%s is not an NVMe namespace char device (/dev/ngXnY): NVME_IOCTL_ID: %s",
			 cn->path, id < 0 ? strerror(errno) : "no namespace");
		close(fd);
		return -1;
	}
	pt = calloc(1, sizeof(*pt));
	idc = aligned_alloc(4096, NVR_PT_ID_SIZE);
	desc = aligned_alloc(4096, NVR_PT_ID_SIZE);
	if (!pt || !idc || !desc) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pt->fd = fd;
	pt->nsid = (uint32_t)id;
	pt->all_opcodes = cn->all_opcodes;
	snprintf(pt->path, sizeof(pt->path), "%s", cn->path);
	if (pt_identify(fd, 0, 0x01, idc, err, errlen, "Identify Controller") < 0 ||
	    pt_identify(fd, pt->nsid, 0x00, pt->id_ns, err, errlen, "Identify Namespace") < 0)
		goto fail;
	/* only NVM namespaces: a ZNS or KV namespace needs its own Identify data (CNS 05h) */
	memset(desc, 0, NVR_PT_ID_SIZE);
	if (pt_identify(fd, pt->nsid, 0x03, desc, err, errlen, "Identify NS descriptors") == 0 &&
	    pt_desc_csi(desc) != 0) {
		snprintf(err, errlen, "namespace %u uses command set %u; only NVM (0) is passed", pt->nsid,
			 pt_desc_csi(desc));
		goto fail;
	}
	if (pt_check_format(ns, pt, err, errlen) < 0)
		goto fail;
	pt->oncs = le16_at(idc, IDC_ONCS);
	pt->vwc = idc[IDC_VWC];
	pt->mdts = pt_mdts(&st, idc[IDC_MDTS]);
	pt->max_bytes = 4096u << pt->mdts;
	if (pt_probe_uring(pt, err, errlen) < 0)
		goto fail;
	free(idc);
	free(desc);

	passthru_attach(ns, pt);
	ns->readonly = cn->readonly;
	ns->vwc = pt->vwc & 1;
	ns->big_sqe = true;
	log_info("passthru %s: nsid %u, %llu x %u B, MDTS %u (%u KiB), ONCS %#x, VWC %u%s", cn->path, pt->nsid,
		 (unsigned long long)ns_nlba(ns), 1u << ns->lba_shift, pt->mdts, pt->max_bytes >> 10, pt->oncs,
		 pt->vwc & 1, pt->all_opcodes ? ", all opcodes" : "");
	return 0;
fail:
	free(idc);
	free(desc);
	free(pt);
	close(fd);
	return -1;
}

static void pt_close(struct nvr_ns *ns)
{
	struct nvr_passthru *pt = pt_of(ns);

	if (!pt)
		return;
	/* what the hosts wrote reaches the media before we let go of the drive */
	if ((pt->vwc & 1) && !ns->readonly && pt_ioctl_flush(pt) < 0)
		log_err("passthru %s: flush at close failed", pt->path);
	close(pt->fd);
	free(pt);
	ns->priv = NULL;
}
