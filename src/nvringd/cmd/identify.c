/* SPDX-License-Identifier: MIT */
/*
 * Identify data structures for I/O and discovery controllers and their namespaces, and the
 * Get Log Page argument helpers. Field choices follow what the Linux host checks
 * (nvme_check_ctrl_fabric_info, nvme_scan_ns) and what nvmet reports.
 */
#include "identify.h"

#include <endian.h>
#include <string.h>

#include <nvme/types.h>

#include "ana_subsys.h"
#include "resv_ns.h"
#include "spec/nvme_kv.h"
#include "subsys.h"

static_assert(sizeof(struct nvme_id_ctrl) == NVR_ID_SIZE, "id ctrl");
static_assert(sizeof(struct nvme_id_ns) == NVR_ID_SIZE, "id ns");
static_assert(sizeof(struct nvme_id_independent_id_ns) == NVR_ID_SIZE, "id indep ns");
static_assert(sizeof(struct nvme_id_iocs) == NVR_ID_SIZE, "id iocs");
static_assert(offsetof(struct nvme_id_ctrl, cntrltype) == 111, "cntrltype");
static_assert(offsetof(struct nvme_id_ctrl, kas) == 320, "kas");
static_assert(offsetof(struct nvme_id_ctrl, sgls) == 536, "sgls");
static_assert(offsetof(struct nvme_id_ctrl, ioccsz) == 1792, "ioccsz");
static_assert(offsetof(struct nvme_id_independent_id_ns, nstat) == 14, "nstat");

/* SGLS: byte-aligned SGLs (bits 1:0 = 01b); offset addressing for in-capsule data (SAOS). */
#define ID_SGLS ((1u << 0) | (1u << 20))
#define ID_CMIC_MULTI_PORT (1u << 0)
#define ID_CMIC_MULTI_CTRL (1u << 1)
#define ID_CTRATT_HID128 (1u << 0)
#define ID_LPA_SMART_NS (1u << 0)    /* SMART / Health log per namespace */
#define ID_LPA_CSE (1u << 1)         /* Commands Supported and Effects log */
#define ID_LPA_EXT_DATA (1u << 2)    /* NUMDU and LPO in Get Log Page */
#define ID_FRMW_SLOT1_RO 0x03        /* one slot, slot 1 read-only */
#define ID_VWC_PRESENT (1u << 0)
#define ID_VWC_FLUSH_ALL (3u << 1)   /* bits 2:1 = 11b: Flush with NSID FFFFFFFFh supported (nvm.c) */
#define ID_NMIC_SHARED (1u << 0)
#define ID_NSATTR_WP (1u << 0)
#define ID_NSTAT_READY (1u << 0)
#define ID_DLFEAT_READ_ZEROES 0x01   /* deallocated blocks read back as zeroes */
#define ID_DLFEAT_WZ_DEAC (1u << 3)  /* Write Zeroes may deallocate */

/* NS Identification Descriptor types and lengths (NIDT/NIDL) */
#define ID_NIDT_EUI64 1
#define ID_NIDT_NGUID 2
#define ID_NIDT_UUID 3
#define ID_NIDT_CSI 4

void identify_ascii(char *dst, size_t width, const char *src)
{
	size_t n = src ? strnlen(src, width) : 0;

	memset(dst, ' ', width);
	if (n)
		memcpy(dst, src, n);
}

static void identify_nqn(char *dst, const char *nqn)
{
	/* NUL padded (not space): an NQN is a C string on the wire */
	size_t n = strnlen(nqn, NVME_NQN_LENGTH - 1);

	memset(dst, 0, NVME_NQN_LENGTH);
	memcpy(dst, nqn, n);
}

bool identify_has_vwc(const struct nvr_subsys *s)
{
	const struct ns_table *t = subsys_ns_table(s);

	for (unsigned i = 0; t && i < t->nr; i++)
		if (t->ns[i]->vwc)
			return true;
	return false;
}

bool identify_has_kv(const struct nvr_subsys *s)
{
	return identify_csi_mask(s) & (1ull << NVR_CSI_KV);
}

uint64_t identify_csi_mask(const struct nvr_subsys *s)
{
	const struct ns_table *t = subsys_ns_table(s);
	uint64_t m = 1u << NVME_CSI_NVM_ID;

	for (unsigned i = 0; t && i < t->nr; i++)
		m |= 1ull << t->ns[i]->csi;
	return m;
}

/* ONCS bits that describe I/O commands (the rest are controller features we implement). */
#define ID_ONCS_WRITE_UNC (1u << 1)
#define ID_ONCS_RESERVATIONS (1u << 5)
#define ID_ONCS_COPY (1u << 8)
#define ID_ONCS_IO_MASK (NVR_ONCS_COMPARE | ID_ONCS_WRITE_UNC | NVR_ONCS_DSM | NVR_ONCS_WRITE_ZEROES | \
			 ID_ONCS_RESERVATIONS | NVR_ONCS_VERIFY | ID_ONCS_COPY)

uint8_t identify_mdts(const struct nvr_subsys *s)
{
	const struct ns_table *t = subsys_ns_table(s);
	uint8_t mdts = NVR_MDTS;

	/* a namespace that takes less in one command (a passthrough drive) limits them all */
	for (unsigned i = 0; t && i < t->nr; i++) {
		const struct nvr_ns *ns = t->ns[i];

		if (ns->ops->mdts && ns->ops->mdts(ns) < mdts)
			mdts = ns->ops->mdts(ns);
	}
	return mdts;
}

uint16_t identify_oncs(const struct nvr_subsys *s)
{
	const struct ns_table *t = subsys_ns_table(s);
	uint16_t io = t && t->nr ? ID_ONCS_IO_MASK : NVR_ONCS_OURS;

	/* ONCS is controller-wide: an I/O command is announced only when every namespace takes it */
	for (unsigned i = 0; t && i < t->nr; i++)
		io &= t->ns[i]->ops->oncs(t->ns[i]) | (t->ns[i]->resv ? ID_ONCS_RESERVATIONS : 0);
	return (uint16_t)(io | NVR_ONCS_SAVE_SELECT | NVR_ONCS_TIMESTAMP);
}

static void identify_common(const struct nvr_ctrl *ctrl, struct nvme_id_ctrl *id)
{
	const struct nvr_subsys *s = ctrl->subsys;

	identify_ascii(id->sn, sizeof(id->sn), s->serial);
	identify_ascii(id->mn, sizeof(id->mn), s->model[0] ? s->model : "nvring");
	identify_ascii(id->fr, sizeof(id->fr), NVR_FIRMWARE_REV);
	id->mdts = NVR_MDTS;
	id->cntlid = htole16(ctrl->cntlid);
	id->ver = htole32(NVR_VERSION_2_0);
	id->aerl = NVR_AERL;
	id->lpa = ID_LPA_EXT_DATA;
	id->kas = htole16(NVR_KAS);
	id->maxcmd = htole16(NVR_MQES + 1);
	id->sgls = htole32(ID_SGLS);
	identify_nqn(id->subnqn, s->nqn);
}

void identify_ctrl(const struct nvr_ctrl *ctrl, void *buf)
{
	const struct nvr_subsys *s = ctrl->subsys;
	struct nvme_id_ctrl *id = buf;

	memset(id, 0, sizeof(*id));
	identify_common(ctrl, id);
	id->rab = 6;
	/* several controllers (one per host connection) and possibly several ports */
	id->cmic = ID_CMIC_MULTI_PORT | ID_CMIC_MULTI_CTRL;
	id->oaes = htole32(NVR_OAES_NS_ATTR);
	id->ctratt = htole32(ID_CTRATT_HID128);
	id->cntrltype = NVME_CTRL_CNTRLTYPE_IO;
	id->acl = 3;
	id->frmw = ID_FRMW_SLOT1_RO;
	id->lpa |= ID_LPA_CSE | ID_LPA_SMART_NS;
	id->elpe = NVR_ELPE;
	id->sqes = 0x66;
	id->cqes = 0x44;
	id->nn = htole32(s->max_nsid);
	id->mdts = identify_mdts(s);
	id->oncs = htole16(identify_oncs(s));
	id->fuses = 0;
	if (identify_has_vwc(s))
		id->vwc = ID_VWC_PRESENT | ID_VWC_FLUSH_ALL;
	/* capsule sizes in 16-byte units: the SQE plus the in-capsule data we accept */
	id->ioccsz = htole32((64 + NVR_IOCCSZ_ICD) / 16);
	id->iorcsz = htole32(1);
	id->icdoff = 0;
	id->fcatt = 0; /* dynamic controller model */
	id->msdbd = 1;
	id->ofcs = 0;
	/* ANA reporting, ANACAP/ANATT/ANAGRPMAX/NANAGRPID, OAES ANA Change, MNAN */
	if (s->ana)
		ana_subsys_id_ctrl(s->ana, id);
}

void identify_disc_ctrl(const struct nvr_ctrl *ctrl, void *buf)
{
	struct nvme_id_ctrl *id = buf;

	memset(id, 0, sizeof(*id));
	identify_common(ctrl, id);
	id->oaes = htole32(NVR_OAES_DISC_CHANGE);
	id->cntrltype = NVME_CTRL_CNTRLTYPE_DISCOVERY;
}

/* What every namespace reports the same way in each Identify Namespace variant. */
static uint32_t identify_anagrpid(const struct nvr_subsys *s, const struct nvr_ns *ns)
{
	return s->ana ? htole32(ns->anagrpid) : 0;
}

static uint8_t identify_rescap(const struct nvr_ns *ns)
{
	return ns->resv ? resv_rescap(&ns->resv->rs) : 0; /* ptpl_capable is fixed at open */
}

/* Look up an NSID for Identify: NULL with *status 0 for a valid inactive NSID. */
static const struct nvr_ns *identify_lookup(const struct nvr_subsys *s, uint32_t nsid, uint16_t *status)
{
	*status = 0;
	if (nsid == 0 || nsid > s->max_nsid) {
		*status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NS) | NVME_STATUS_DNR;
		return NULL;
	}
	return subsys_find_ns(s, nsid);
}

void identify_ns_basic(const struct nvr_ns *ns, struct nvme_id_ns *id, bool dealloc_zeroes)
{
	id->nsze = id->ncap = id->nuse = htole64(ns_nlba(ns));
	id->nlbaf = 0;
	id->flbas = 0;
	if (dealloc_zeroes)
		id->dlfeat = ID_DLFEAT_READ_ZEROES | ID_DLFEAT_WZ_DEAC;
	id->lbaf[0].ds = (uint8_t)ns->lba_shift;
}

uint16_t identify_ns(const struct nvr_subsys *s, uint32_t nsid, void *buf)
{
	struct nvme_id_ns *id = buf;
	const struct nvr_ns *ns;
	uint16_t st;

	memset(id, 0, sizeof(*id));
	ns = identify_lookup(s, nsid, &st);
	if (!ns)
		return st; /* inactive: all zeroes */
	if (ns->csi != NVR_CSI_NVM)
		return NVME_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_IOCS) | NVME_STATUS_DNR;
	ns->ops->identify_nvm(ns, id);
	/* what every kind shares: hosts on every path see the namespace, and our identifiers
	 * (also for a passthrough drive: a host that sees the drive directly, or through a
	 * second target, would refuse a second namespace with the drive's IDs) */
	id->nmic |= ID_NMIC_SHARED;
	if (ns->readonly)
		id->nsattr |= ID_NSATTR_WP;
	memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
	memcpy(id->eui64, ns->eui64, sizeof(id->eui64));
	id->anagrpid = identify_anagrpid(s, ns);
	if (ns->resv)
		id->rescap = identify_rescap(ns);
	return 0;
}

uint16_t identify_active_list(const struct nvr_subsys *s, uint32_t nsid, int csi, void *buf)
{
	uint32_t *list = buf;
	unsigned n = 0;

	memset(buf, 0, NVR_ID_SIZE);
	if (nsid >= 0xfffffffe)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NS) | NVME_STATUS_DNR;
	/* tables are sorted by nsid, so the list comes out ascending */
	const struct ns_table *t = subsys_ns_table(s);

	for (unsigned i = 0; t && i < t->nr && n < NVME_ID_NS_LIST_MAX; i++) {
		const struct nvr_ns *ns = t->ns[i];

		if (ns->nsid <= nsid || (csi >= 0 && (int)ns->csi != csi))
			continue;
		list[n++] = htole32(ns->nsid);
	}
	return 0;
}

static uint8_t *identify_put_desc(uint8_t *p, uint8_t nidt, const void *id, uint8_t len)
{
	p[0] = nidt;
	p[1] = len;
	memcpy(p + 4, id, len);
	return p + 4 + len;
}

static bool identify_nonzero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return true;
	return false;
}

uint16_t identify_ns_descs(const struct nvr_subsys *s, uint32_t nsid, void *buf)
{
	const struct nvr_ns *ns;
	uint8_t *p = buf;
	uint8_t csi;
	uint16_t st;

	memset(buf, 0, NVR_ID_SIZE);
	ns = identify_lookup(s, nsid, &st);
	if (!ns)
		return st ? st : NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NS) | NVME_STATUS_DNR;
	/* an all-zero identifier means "none"; reporting it would make hosts see duplicates */
	if (identify_nonzero(ns->eui64, sizeof(ns->eui64)))
		p = identify_put_desc(p, ID_NIDT_EUI64, ns->eui64, sizeof(ns->eui64));
	if (identify_nonzero(ns->nguid, sizeof(ns->nguid)))
		p = identify_put_desc(p, ID_NIDT_NGUID, ns->nguid, sizeof(ns->nguid));
	if (identify_nonzero(ns->uuid, sizeof(ns->uuid)))
		p = identify_put_desc(p, ID_NIDT_UUID, ns->uuid, sizeof(ns->uuid));
	/* the host needs the CSI descriptor to use anything but an NVM namespace */
	csi = (uint8_t)ns->csi;
	identify_put_desc(p, ID_NIDT_CSI, &csi, 1);
	return 0;
}

uint16_t identify_csi_ns(const struct nvr_subsys *s, uint32_t nsid, uint8_t csi, void *buf)
{
	const struct nvr_ns *ns;
	uint16_t st;

	memset(buf, 0, NVR_ID_SIZE);
	if (csi > 63 || !(identify_csi_mask(s) & (1ull << csi)))
		return NVME_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_IOCS) | NVME_STATUS_DNR;
	ns = identify_lookup(s, nsid, &st);
	if (!ns)
		return st; /* inactive: zeroes */
	if ((uint8_t)ns->csi != csi)
		return NVME_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_IOCS) | NVME_STATUS_DNR;
	/* NVM command set specific namespace data: no PI or extended formats, all zero */
	if (ns->ops->identify_csi)
		ns->ops->identify_csi(ns, buf);
	if (csi == NVME_CSI_KV_ID) {
		struct nvme_kv_id_ns *kid = buf;

		kid->anagrpid = identify_anagrpid(s, ns);
		kid->rescap = identify_rescap(ns);
	}
	return 0;
}

uint16_t identify_csi_ctrl(const struct nvr_subsys *s, uint8_t csi, void *buf)
{
	memset(buf, 0, NVR_ID_SIZE);
	if (csi > 63 || !(identify_csi_mask(s) & (1ull << csi)))
		return NVME_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_IOCS) | NVME_STATUS_DNR;
	if (csi == NVME_CSI_KV_ID) {
		uint32_t ver = htole32(NVR_KV_SPEC_VER);

		memcpy(buf, &ver, sizeof(ver));
	}
	/* NVM: zeroes = no VSL/WZSL/DMRL limits beyond MDTS */
	return 0;
}

uint16_t identify_indep_ns(const struct nvr_subsys *s, uint32_t nsid, void *buf)
{
	struct nvme_id_independent_id_ns *id = buf;
	const struct nvr_ns *ns;
	uint16_t st;

	memset(id, 0, sizeof(*id));
	ns = identify_lookup(s, nsid, &st);
	if (!ns)
		return st;
	id->nmic = ID_NMIC_SHARED;
	if (ns->readonly)
		id->nsattr = ID_NSATTR_WP;
	id->nstat = ID_NSTAT_READY;
	/* Linux reads a non-NVM namespace's ANA group from here */
	id->anagrpid = identify_anagrpid(s, ns);
	id->rescap = identify_rescap(ns);
	return 0;
}

void identify_iocs(const struct nvr_subsys *s, void *buf)
{
	struct nvme_id_iocs *id = buf;

	memset(id, 0, sizeof(*id));
	id->iocsc[0] = htole64(identify_csi_mask(s));
}

uint16_t identify_execute(const struct nvr_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf)
{
	const struct nvr_subsys *s = ctrl->subsys;
	uint8_t cns = sqe->cdw10 & 0xff;
	uint8_t csi = (uint8_t)(sqe->cdw11 >> 24);
	uint32_t nsid = le32toh(sqe->nsid);

	memset(buf, 0, NVR_ID_SIZE);
	if (s->discovery) {
		if (cns != NVME_IDENTIFY_CNS_CTRL)
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR;
		identify_disc_ctrl(ctrl, buf);
		return 0;
	}
	switch (cns) {
	case NVME_IDENTIFY_CNS_NS:
		return identify_ns(s, nsid, buf);
	case NVME_IDENTIFY_CNS_CTRL:
		identify_ctrl(ctrl, buf);
		return 0;
	case NVME_IDENTIFY_CNS_NS_ACTIVE_LIST:
		return identify_active_list(s, nsid, -1, buf);
	case NVME_IDENTIFY_CNS_NS_DESC_LIST:
		return identify_ns_descs(s, nsid, buf);
	case NVME_IDENTIFY_CNS_CSI_NS:
		return identify_csi_ns(s, nsid, csi, buf);
	case NVME_IDENTIFY_CNS_CSI_CTRL:
		return identify_csi_ctrl(s, csi, buf);
	case NVME_IDENTIFY_CNS_CSI_NS_ACTIVE_LIST:
		if (csi > 63 || !(identify_csi_mask(s) & (1ull << csi)))
			return NVME_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_IOCS) | NVME_STATUS_DNR;
		return identify_active_list(s, nsid, csi, buf);
	case NVME_IDENTIFY_CNS_CSI_INDEPENDENT_ID_NS:
		return identify_indep_ns(s, nsid, buf);
	case NVME_IDENTIFY_CNS_COMMAND_SET_STRUCTURE:
		identify_iocs(s, buf);
		return 0;
	default:
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR;
	}
}

uint16_t identify_log_args(const struct nvme_sqe *sqe, uint32_t data_len, struct identify_log_args *a)
{
	uint32_t cdw10 = le32toh(sqe->cdw10), cdw11 = le32toh(sqe->cdw11);
	uint32_t cdw14 = le32toh(sqe->cdw14);
	uint64_t numd = (((uint64_t)(cdw11 & 0xffff) << 16) | (cdw10 >> 16)) + 1;
	uint64_t bytes = numd * 4;

	a->lid = cdw10 & 0xff;
	a->lsp = (cdw10 >> 8) & 0x7f;
	a->rae = (cdw10 >> 15) & 1;
	a->csi = (uint8_t)(cdw14 >> 24);
	a->offset = ((uint64_t)le32toh(sqe->cdw13) << 32) | le32toh(sqe->cdw12);
	a->len = bytes < data_len ? (uint32_t)bytes : data_len;
	/* offset as an index (OT, CDW14 bit 23) is for log pages we do not have; offsets are dword aligned */
	if ((cdw14 & (1u << 23)) || (a->offset & 3))
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR;
	return 0;
}

uint16_t identify_log_copy(const struct identify_log_args *a, const void *log, uint32_t size, void *dst)
{
	uint64_t n;

	if (a->offset > size)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR;
	n = size - a->offset;
	if (n > a->len)
		n = a->len;
	memcpy(dst, (const uint8_t *)log + a->offset, n);
	memset((uint8_t *)dst + n, 0, a->len - n);
	return 0;
}
