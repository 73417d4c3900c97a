/* SPDX-License-Identifier: MIT */
/*
 * The discovery controller: Identify, the Discovery log page (LID 0x70) and the few features
 * and commands a discovery host uses. The log is generated for the window the host asks for,
 * one 1024-byte record at a time, so its size never needs a buffer of its own.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <string.h>
#include <sys/socket.h>

#include <nvme/types.h>

#include "core/queue.h"
#include "ctrl.h"
#include "identify.h"
#include "target.h"

#define DISC_REC_SIZE 1024
#define DISC_ASQSZ 32

static_assert(sizeof(struct nvmf_disc_log_entry) == DISC_REC_SIZE, "disc entry");
static_assert(offsetof(struct nvmf_discovery_log, entries) == DISC_REC_SIZE, "disc header");
static_assert(offsetof(struct nvmf_disc_log_entry, trsvcid) == 32, "trsvcid");
static_assert(offsetof(struct nvmf_disc_log_entry, subnqn) == 256, "subnqn");
static_assert(offsetof(struct nvmf_disc_log_entry, traddr) == 512, "traddr");
static_assert(offsetof(struct nvmf_disc_log_entry, tsas) == 768, "tsas");

/* What one host sees, and the output window. */
struct disc_view {
	struct target *tgt;
	const char *hostnqn;
	const struct nvr_port *port;
	const char *local_traddr;
	uint8_t *buf;
	uint64_t off, len;   /* window into the log */
	uint64_t rec;        /* records emitted so far */
};

/* Copy the part of [pos, pos + n) of the log that falls into the window. */
static void disc_copy(struct disc_view *v, uint64_t pos, const void *src, uint64_t n)
{
	uint64_t lo = pos > v->off ? pos : v->off;
	uint64_t hi = pos + n < v->off + v->len ? pos + n : v->off + v->len;

	if (!v->buf || lo >= hi)
		return;
	memcpy(v->buf + (lo - v->off), (const uint8_t *)src + (lo - pos), hi - lo);
}

static bool disc_is_wildcard(const char *traddr)
{
	return !traddr[0] || !strcmp(traddr, "0.0.0.0") || !strcmp(traddr, "::");
}

static void disc_fill(char *dst, size_t width, const char *src)
{
	/* NUL padded, as Linux nvmet reports; hosts also accept space padding */
	size_t n = strnlen(src, width - 1);

	memset(dst, 0, width);
	memcpy(dst, src, n);
}

static void disc_emit(struct disc_view *v, const struct nvr_port *p, const char *nqn, uint8_t subtype)
{
	uint64_t pos = DISC_REC_SIZE * (v->rec + 1);
	struct nvmf_disc_log_entry e;

	v->rec++;
	if (!v->buf || pos >= v->off + v->len || pos + DISC_REC_SIZE <= v->off)
		return; /* outside the window: only counted */
	memset(&e, 0, sizeof(e));
	e.trtype = NVMF_TRTYPE_TCP;
	e.adrfam = p->family == AF_INET6 ? NVMF_ADDR_FAMILY_IP6 : NVMF_ADDR_FAMILY_IP4;
	e.subtype = subtype;
	/* the port's secure channel requirement; SQ flow control disable supported (as nvmet) */
	e.treq = NVMF_TREQ_DISABLE_SQFLOW | p->treq;
	e.portid = htole16(p->portid);
	e.cntlid = htole16(0xffff); /* dynamic controller model */
	e.asqsz = htole16(DISC_ASQSZ);
	e.eflags = 0;
	disc_fill(e.trsvcid, sizeof(e.trsvcid), p->trsvcid);
	disc_fill(e.subnqn, sizeof(e.subnqn), nqn);
	disc_fill(e.traddr, sizeof(e.traddr),
		  disc_is_wildcard(p->traddr) && v->local_traddr ? v->local_traddr : p->traddr);
	e.tsas.tcp.sectype = p->treq ? NVMF_TCP_SECTYPE_TLS13 : NVMF_TCP_SECTYPE_NONE;
	disc_copy(v, pos, &e, sizeof(e));
}

/* All records in order: the current discovery subsystem, then every (subsystem, port) allowed. */
static void disc_walk(struct disc_view *v)
{
	struct target *tgt = v->tgt;

	if (v->port) {
		disc_emit(v, v->port, NVR_DISC_NQN, NVME_NQN_CURR);
	} else {
		for (unsigned i = 0; i < tgt->nr_ports; i++)
			disc_emit(v, &tgt->ports[i], NVR_DISC_NQN, NVME_NQN_CURR);
	}
	for (unsigned i = 0; i < tgt->nr_subsys; i++) {
		const struct nvr_subsys *s = tgt->subsys[i];

		if (s->discovery || (v->hostnqn && !subsys_host_allowed(s, v->hostnqn)))
			continue;
		for (unsigned j = 0; j < s->nr_ports; j++)
			disc_emit(v, s->ports[j], s->nqn, NVME_NQN_NVME);
	}
}

uint32_t discovery_log_build_for(struct target *tgt, const char *hostnqn, const struct nvr_port *port,
				 const char *local_traddr, void *buf, uint32_t len, uint64_t offset)
{
	struct disc_view v = { .tgt = tgt, .hostnqn = hostnqn, .port = port, .local_traddr = local_traddr };
	struct nvmf_discovery_log hdr;
	uint64_t size;

	disc_walk(&v); /* count */
	size = DISC_REC_SIZE * (v.rec + 1);
	if (buf && len) {
		memset(buf, 0, len);
		if (offset >= size) /* nothing of the log in the window (and no overflow below) */
			return size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
		memset(&hdr, 0, sizeof(hdr));
		hdr.genctr = htole64(atomic_load(&tgt->genctr));
		hdr.numrec = htole64(v.rec);
		hdr.recfmt = 0;
		v.buf = buf;
		v.off = offset;
		v.len = len;
		v.rec = 0;
		disc_copy(&v, 0, &hdr, sizeof(hdr));
		disc_walk(&v);
	}
	return size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
}

uint32_t discovery_log_build(struct target *tgt, void *buf, uint32_t len, uint64_t offset)
{
	return discovery_log_build_for(tgt, NULL, NULL, NULL, buf, len, offset);
}

static void discovery_get_log_page(struct req *req, struct nvr_ctrl *ctrl)
{
	struct identify_log_args a;
	char local[INET6_ADDRSTRLEN];
	const char *lt = NULL;
	uint32_t size;
	uint16_t st;

	st = identify_log_args(&req->sqe, req->data_len, &a);
	if (!st && a.lid != NVME_LOG_LID_DISCOVER)
		st = NVME_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_LOG_PAGE) | NVME_STATUS_DNR;
	if (st) {
		req_complete_status(req, st);
		return;
	}
	/* the address the host reached us on stands in for a wildcard listen address */
	if (req->q->port && disc_is_wildcard(req->q->port->traddr) &&
	    req->q->ops->local_addr(req->q, local, sizeof(local)) == 0)
		lt = local;
	size = discovery_log_build_for(ctrl->tgt, ctrl->hostnqn, req->q->port, lt, NULL, 0, 0);
	if (a.offset > size) {
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR);
		return;
	}
	if (req_alloc_buf(req, a.len ? a.len : 1) < 0) {
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
		return;
	}
	discovery_log_build_for(ctrl->tgt, ctrl->hostnqn, req->q->port, lt, req->buf, a.len, a.offset);
	if (!a.rae)
		ctrl_aen_log_read(ctrl, NVME_LOG_LID_DISCOVER);
	req->xfer_len = a.len;
	req_complete(req, 0, 0, 0);
}

void discovery_execute(struct req *req)
{
	struct nvr_ctrl *ctrl = req->ctrl;
	uint16_t st;

	if (!(ctrl->csts & NVME_CSTS_RDY_MASK)) {
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR) | NVME_STATUS_DNR);
		return;
	}
	switch (req->sqe.opcode) {
	case nvme_admin_identify:
		if (req_alloc_buf(req, NVR_ID_SIZE) < 0) {
			req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
			return;
		}
		st = identify_execute(ctrl, &req->sqe, req->buf);
		if (st) {
			req_complete_status(req, st);
			return;
		}
		req->xfer_len = req->data_len < NVR_ID_SIZE ? req->data_len : NVR_ID_SIZE;
		req_complete(req, 0, 0, 0);
		break;
	case nvme_admin_get_log_page:
		discovery_get_log_page(req, ctrl);
		break;
	case nvme_admin_set_features:
	case nvme_admin_get_features:
	case nvme_admin_async_event:
	case nvme_admin_keep_alive:
		/* the admin code restricts features to AEC and KATO on a discovery controller */
		admin_execute(req);
		break;
	default:
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE) | NVME_STATUS_DNR);
		break;
	}
}
