/* SPDX-License-Identifier: MIT */
/*
 * The NVM command set on a block backend: Read, Write (FUA), Flush, Write Zeroes, Dataset
 * Management (deallocate), Compare and Verify, with the LBA-range and transfer checks a
 * controller owes the host.
 */
#include <string.h>

#include <nvme/types.h>

#include "core/queue.h"
#include "ctrl.h"
#include "nvm.h"
#include "ns/block.h"
#include "ns/registry.h"
#include "worker.h"

#define ST(sc) NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_##sc)
#define ST_DNR(sc) (ST(sc) | NVME_STATUS_DNR)
#define ST_COMPARE_FAILED (NVME_STATUS(NVME_SCT_MEDIA, 0x85) | NVME_STATUS_DNR)
#define NVM_CDW12_FUA (1u << 30)
#define NVM_DSM_AD (1u << 2)
#define NVM_VERIFY_CHUNK NVR_MDTS_BYTES

static void nvm_io_done(struct be_io *io, int res);

static void nvm_submit(struct req *req, enum be_op op, uint64_t off, uint64_t len, void *buf, unsigned flags)
{
	struct be_io *io = &req->io;
	int ret;

	io->op = op;
	io->flags = flags;
	io->offset = off;
	io->len = len;
	io->buf = buf;
	io->buf_index = -1;
	io->done = nvm_io_done;
	ret = be_submit(ns_backend(req->ns), req_executor(req), io);
	if (ret < 0)
		req_complete_status(req, be_errno_to_status(ret, op));
}

/* slba/nlb from CDW10-12, checked against the namespace; 0 or a status. */
uint16_t nvm_lba_range(struct req *req, uint64_t *slba, uint32_t *nlb)
{
	const struct nvme_sqe *sqe = &req->sqe;

	uint64_t nlba = ns_nlba(req->ns);

	*slba = (uint64_t)sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	*nlb = (sqe->cdw12 & 0xffff) + 1;
	if (*slba >= nlba || *nlb > nlba - *slba)
		return ST_DNR(LBA_RANGE);
	return 0;
}

uint16_t nvm_check_transfer(struct req *req, uint64_t bytes)
{
	if (bytes > NVR_MDTS_BYTES)
		return ST_DNR(INVALID_FIELD);
	if (bytes != req->data_len)
		return ST_DNR(SGL_INVALID_DATA);
	return 0;
}

static void nvm_rw(struct req *req, bool write)
{
	unsigned shift = req->ns->lba_shift;
	uint64_t slba, bytes;
	uint32_t nlb;
	uint16_t st;

	st = nvm_lba_range(req, &slba, &nlb);
	bytes = (uint64_t)nlb << shift;
	if (!st)
		st = nvm_check_transfer(req, bytes);
	if (!st && write && req->ns->readonly)
		st = ST_DNR(NS_WRITE_PROTECTED);
	if (st) {
		req_complete_status(req, st);
		return;
	}
	if (!write) {
		req->xfer_len = (uint32_t)bytes;
		if (req->zero_copy) {
			/* a RAM namespace: the data is sent from the namespace, no buffer, no copy */
			req->buf = ns_mem_ptr(req->ns, slba << shift);
			req_complete_status(req, 0);
			return;
		}
	}
	nvm_submit(req, write ? BE_WRITE : BE_READ, slba << shift, bytes, req->buf,
		   write && (req->sqe.cdw12 & NVM_CDW12_FUA) ? BE_FUA : 0);
}

static void nvm_write_zeroes(struct req *req)
{
	unsigned shift = req->ns->lba_shift;
	uint64_t slba;
	uint32_t nlb;
	uint16_t st = nvm_lba_range(req, &slba, &nlb);

	if (!st && req->ns->readonly)
		st = ST_DNR(NS_WRITE_PROTECTED);
	if (st) {
		req_complete_status(req, st);
		return;
	}
	nvm_submit(req, BE_WRITE_ZEROES, slba << shift, (uint64_t)nlb << shift, NULL,
		   req->sqe.cdw12 & NVM_CDW12_FUA ? BE_FUA : 0);
}

/* Dataset Management: deallocate each range in turn (req->step = next range). */
static void nvm_dsm_next(struct req *req)
{
	const struct nvme_dsm_range *r = req->buf;
	uint32_t nr = (req->sqe.cdw10 & 0xff) + 1;
	unsigned shift = req->ns->lba_shift;

	while (req->step < nr && r[req->step].nlb == 0)
		req->step++;
	if (req->step >= nr) {
		req_complete_status(req, 0);
		return;
	}
	r = &r[req->step++];
	nvm_submit(req, BE_DISCARD, r->slba << shift, (uint64_t)r->nlb << shift, NULL, 0);
}

static void nvm_dsm(struct req *req)
{
	uint32_t nr = (req->sqe.cdw10 & 0xff) + 1;
	const struct nvme_dsm_range *r = req->buf;

	if (req->data_len < nr * sizeof(*r)) {
		req_complete_status(req, ST_DNR(SGL_INVALID_DATA));
		return;
	}
	if (!(req->sqe.cdw11 & NVM_DSM_AD)) {
		/* only attributes (hints): nothing to do */
		req_complete_status(req, 0);
		return;
	}
	if (req->ns->readonly) {
		req_complete_status(req, ST_DNR(NS_WRITE_PROTECTED));
		return;
	}
	/* check every range before changing anything */
	uint64_t nlba = ns_nlba(req->ns);

	for (uint32_t i = 0; i < nr; i++) {
		if (r[i].nlb && (r[i].slba >= nlba || r[i].nlb > nlba - r[i].slba)) {
			req_complete_status(req, ST_DNR(LBA_RANGE));
			return;
		}
	}
	req->step = 0;
	nvm_dsm_next(req);
}

static void nvm_compare(struct req *req)
{
	unsigned shift = req->ns->lba_shift;
	uint64_t slba, bytes;
	uint32_t nlb;
	uint16_t st = nvm_lba_range(req, &slba, &nlb);

	bytes = (uint64_t)nlb << shift;
	if (!st)
		st = nvm_check_transfer(req, bytes);
	if (st) {
		req_complete_status(req, st);
		return;
	}
	/* the aux buffer (taken with the data buffer: nvm_parse) gets the stored data */
	nvm_submit(req, BE_READ, slba << shift, bytes, req->aux, 0);
}

/* Verify: read the range in chunks and drop the data; req->slba tracks progress in bytes. */
static void nvm_verify_next(struct req *req)
{
	uint64_t end = ((uint64_t)req->sqe.cdw10 | ((uint64_t)req->sqe.cdw11 << 32)) << req->ns->lba_shift;
	uint64_t left;

	end += ((uint64_t)(req->sqe.cdw12 & 0xffff) + 1) << req->ns->lba_shift;
	left = end - req->slba;
	if (!left) {
		req_complete_status(req, 0);
		return;
	}
	if (left > req->aux_size)
		left = req->aux_size;
	req->step++;
	nvm_submit(req, BE_READ, req->slba, left, req->aux, 0);
}

static void nvm_verify(struct req *req)
{
	uint64_t slba;
	uint32_t nlb;
	uint16_t st = nvm_lba_range(req, &slba, &nlb);

	if (st) {
		req_complete_status(req, st);
		return;
	}
	req->slba = slba << req->ns->lba_shift;
	req->step = 0;
	nvm_verify_next(req);
}

static void nvm_io_done(struct be_io *io, int res)
{
	struct req *req = container_of(io, struct req, io);

	if (res < 0) {
		req->xfer_len = 0;
		req_complete_status(req, be_errno_to_status(res, io->op));
		return;
	}
	switch (req->sqe.opcode) {
	case nvme_cmd_dsm:
		nvm_dsm_next(req);
		return;
	case nvme_cmd_compare:
		req_complete_status(req, memcmp(req->aux, req->buf, io->len) ? ST_COMPARE_FAILED : 0);
		return;
	case nvme_cmd_verify:
		req->slba += io->len;
		nvm_verify_next(req);
		return;
	default:
		break;
	}
	req_complete_status(req, 0);
}

uint16_t nvm_parse(struct req *req)
{
	uint64_t slba, bytes;
	uint32_t nlb;
	uint16_t st = 0;

	req->execute = nvm_execute;
	switch (req->sqe.opcode) {
	case nvme_cmd_read:
		st = nvm_lba_range(req, &slba, &nlb);
		if (!st)
			st = nvm_check_transfer(req, (uint64_t)nlb << req->ns->lba_shift);
		/* a RAM namespace's data is sent from where it lies (not with a data digest: a write
		 * from another queue could change it between the CRC and the send) */
		req->zero_copy = !st && req->q->zero_copy_ok && ns_mem_ptr(req->ns, 0);
		return st;
	case nvme_cmd_write:
	case nvme_cmd_compare:
		st = nvm_lba_range(req, &slba, &nlb);
		if (!st)
			st = nvm_check_transfer(req, (uint64_t)nlb << req->ns->lba_shift);
		if (!st && req->sqe.opcode == nvme_cmd_write && req->ns->readonly)
			st = ST_DNR(NS_WRITE_PROTECTED);
		if (!st && req->sqe.opcode == nvme_cmd_compare)
			req->aux_need = req->data_len;
		/* a RAM write is a memcpy done before submit returns */
		req->exec_inline = !st && req->sqe.opcode == nvme_cmd_write && ns_mem_ptr(req->ns, 0);
		return st;
	case nvme_cmd_verify:
		st = nvm_lba_range(req, &slba, &nlb);
		bytes = (uint64_t)nlb << req->ns->lba_shift;
		if (!st)
			req->aux_need = bytes < NVM_VERIFY_CHUNK ? (uint32_t)bytes : NVM_VERIFY_CHUNK;
		return st;
	default:
		return 0;
	}
}

/* ---- Flush with the broadcast NSID: every namespace, one after another ------------------ */

struct nvm_flush_all {
	struct ns_flush f;
	struct req *req;
	unsigned next, nr;
	bool failed;
	struct nvr_ns *ns[];
};

static void nvm_flush_all_next(struct nvm_flush_all *fa);

static void nvm_flush_all_done(struct ns_flush *f, bool ok)
{
	struct nvm_flush_all *fa = container_of(f, struct nvm_flush_all, f);

	if (!ok)
		fa->failed = true;
	nvm_flush_all_next(fa);
}

static void nvm_flush_all_next(struct nvm_flush_all *fa)
{
	struct req *req = fa->req;
	struct nvr_ns *ns;

	if (fa->next == fa->nr) {
		for (unsigned i = 0; i < fa->nr; i++)
			ns_put(fa->ns[i], req->q->w);
		req_complete_status(req, fa->failed ? NVME_STATUS(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT) : 0);
		return;
	}
	ns = fa->ns[fa->next++];
	fa->f.done = nvm_flush_all_done;
	ns->ops->flush(ns, req_executor(req), &fa->f);
}

void nvm_flush_all(struct req *req)
{
	const struct ns_table *t = subsys_ns_table(req->ctrl->subsys);
	struct nvm_flush_all *fa;
	unsigned n = 0;

	/* references keep each namespace while the flushes run one after another */
	if (req_alloc_aux(req, sizeof(*fa) + (t ? t->nr : 0) * sizeof(fa->ns[0]))) {
		req_complete_status(req, ST(INTERNAL));
		return;
	}
	fa = req->aux;
	memset(fa, 0, sizeof(*fa));
	fa->req = req;
	for (unsigned i = 0; t && i < t->nr; i++) {
		if (!t->ns[i]->ops->flush)
			continue;
		ns_ref(t->ns[i], req->q->w);
		fa->ns[n++] = t->ns[i];
	}
	fa->nr = n;
	nvm_flush_all_next(fa);
}

void nvm_execute(struct req *req)
{
	switch (req->sqe.opcode) {
	case nvme_cmd_read:
		nvm_rw(req, false);
		break;
	case nvme_cmd_write:
		nvm_rw(req, true);
		break;
	case nvme_cmd_flush:
		nvm_submit(req, BE_FLUSH, 0, 0, NULL, 0);
		break;
	case nvme_cmd_write_zeroes:
		nvm_write_zeroes(req);
		break;
	case nvme_cmd_dsm:
		nvm_dsm(req);
		break;
	case nvme_cmd_compare:
		nvm_compare(req);
		break;
	case nvme_cmd_verify:
		nvm_verify(req);
		break;
	default:
		req_complete_status(req, ST_DNR(INVALID_OPCODE));
		break;
	}
}
