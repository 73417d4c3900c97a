/* SPDX-License-Identifier: MIT */
/*
 * The NVM command set on a block backend: Read, Write (FUA), Flush, Write Zeroes, Dataset
 * Management (deallocate), Compare and Verify, with the LBA-range and transfer checks a
 * controller owes the host.
 */
#include <string.h>

#include <nvme/types.h>

#include "conn.h"
#include "ctrl.h"
#include "target.h"

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
	ret = be_submit(&req->ns->be, &req->conn->w->ex, io);
	if (ret < 0)
		req_complete_status(req, be_errno_to_status(ret, op));
}

/* slba/nlb from CDW10-12, checked against the namespace; 0 or a status. */
uint16_t nvm_lba_range(struct req *req, uint64_t *slba, uint32_t *nlb)
{
	const struct nvme_sqe *sqe = &req->sqe;

	*slba = (uint64_t)sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	*nlb = (sqe->cdw12 & 0xffff) + 1;
	if (*slba >= req->ns->nlba || *nlb > req->ns->nlba - *slba)
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
		if (!req->buf) {
			/* conn.c leaves reads on a RAM namespace without a buffer: send from the namespace */
			req->buf = be_mem_ptr(&req->ns->be, slba << shift);
			if (req->buf) {
				req_complete_status(req, 0);
				return;
			}
			if (req_alloc_buf(req, (uint32_t)bytes)) {
				req_complete_status(req, ST(INTERNAL));
				return;
			}
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
	for (uint32_t i = 0; i < nr; i++) {
		if (r[i].nlb && (r[i].slba >= req->ns->nlba || r[i].nlb > req->ns->nlba - r[i].slba)) {
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
	if (req_alloc_aux(req, (uint32_t)bytes)) {
		req_complete_status(req, ST(INTERNAL));
		return;
	}
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
	if (left > NVM_VERIFY_CHUNK)
		left = NVM_VERIFY_CHUNK;
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
	if (req_alloc_aux(req, NVM_VERIFY_CHUNK)) {
		req_complete_status(req, ST(INTERNAL));
		return;
	}
	req->slba = slba << req->ns->lba_shift;
	req->step = 0;
	nvm_verify_next(req);
}

/* Flush of every namespace (broadcast NSID): req->step = next namespace index. */
static void nvm_flush_all_next(struct req *req)
{
	struct nvr_subsys *s = req->conn->ctrl->subsys;

	while (req->step < s->nr_ns && s->ns[req->step]->csi != NVR_CSI_NVM)
		req->step++;
	if (req->step >= s->nr_ns) {
		req_complete_status(req, 0);
		return;
	}
	req->ns = s->ns[req->step++];
	nvm_submit(req, BE_FLUSH, 0, 0, NULL, 0);
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
	case nvme_cmd_flush:
		if (req->sqe.nsid == NVME_NSID_ALL) {
			nvm_flush_all_next(req);
			return;
		}
		break;
	default:
		break;
	}
	req_complete_status(req, 0);
}

uint16_t nvm_precheck(struct req *req)
{
	uint64_t slba;
	uint32_t nlb;
	uint16_t st;

	switch (req->sqe.opcode) {
	case nvme_cmd_write:
	case nvme_cmd_compare:
		st = nvm_lba_range(req, &slba, &nlb);
		if (!st)
			st = nvm_check_transfer(req, (uint64_t)nlb << req->ns->lba_shift);
		if (!st && req->sqe.opcode == nvme_cmd_write && req->ns->readonly)
			st = ST_DNR(NS_WRITE_PROTECTED);
		return st;
	default:
		return 0;
	}
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
		if (req->sqe.nsid == NVME_NSID_ALL) {
			req->step = 0;
			nvm_flush_all_next(req);
		} else {
			nvm_submit(req, BE_FLUSH, 0, 0, NULL, 0);
		}
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
