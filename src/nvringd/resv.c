/* SPDX-License-Identifier: MIT */
/*
 * Persistent reservations: Register, Acquire, Release, Report, the conflict check and the two
 * features, over struct resv (see resv.h). Rules follow NVMe Base 2.0 section 8.19; where the
 * text leaves room, the choices are the ones Linux nvmet (drivers/nvme/target/pr.c) made, and
 * each is named where it is made.
 */
#include "resv.h"

#include <assert.h>
#include <endian.h>
#include <string.h>

#include <nvme/types.h>

#include "spec/nvme_cmd.h"
#include "spec/nvme_kv.h"

/* The wire layouts come from libnvme; pin the offsets this file writes. */
static_assert(sizeof(struct nvme_resv_status) == 64, "resv status + extended header");
static_assert(offsetof(struct nvme_resv_status, rtype) == 4, "rtype");
static_assert(offsetof(struct nvme_resv_status, regctl) == 5, "regctl");
static_assert(offsetof(struct nvme_resv_status, ptpls) == 9, "ptpls");
static_assert(offsetof(struct nvme_resv_status, regctl_eds) == 64, "extended entries");
static_assert(sizeof(struct nvme_registered_ctrl_ext) == 64, "registered ctrl ext");
static_assert(offsetof(struct nvme_registered_ctrl_ext, rcsts) == 2, "rcsts");
static_assert(offsetof(struct nvme_registered_ctrl_ext, rkey) == 8, "rkey");
static_assert(offsetof(struct nvme_registered_ctrl_ext, hostid) == 16, "hostid");
static_assert(sizeof(struct nvme_registered_ctrl) == 24, "registered ctrl (64-bit host ids)");

#define ST_OK 0
#define ST_INVALID_FIELD (NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR)
#define ST_SHORT_DATA (NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA) | NVME_STATUS_DNR)
/* A conflict does not go away by retrying the same command: DNR, as nvmet does. */
#define ST_CONFLICT (NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_RESERVATION_CONFLICT) | NVME_STATUS_DNR)
#define ST_HOSTID_FORMAT (NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_HOSTID_FORMAT) | NVME_STATUS_DNR)
/* The registrant table is full: no spec status fits; retryable once someone unregisters. */
#define ST_TABLE_FULL NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL)

#define CDW10_ACTION(cdw10) ((cdw10) & 0x7)
#define CDW10_IEKEY(cdw10) (((cdw10) >> 3) & 1)
#define CDW10_RTYPE(cdw10) (((cdw10) >> 8) & 0xff)
#define CDW10_CPTPL(cdw10) ((cdw10) >> 30)

void resv_init(struct resv *rs, uint32_t nsid, bool ptpl_capable)
{
	memset(rs, 0, sizeof(*rs));
	rs->nsid = nsid;
	rs->ptpl_capable = ptpl_capable;
	rs->holder = -1;
}

static uint64_t get_le64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static bool same_host(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, RESV_HOSTID_LEN) == 0;
}

static bool all_registrants_type(uint8_t rtype)
{
	return rtype == NVME_RESERVATION_RTYPE_WEAR || rtype == NVME_RESERVATION_RTYPE_EAAR;
}

static int find_reg(const struct resv *rs, const uint8_t *hostid)
{
	for (unsigned i = 0; i < rs->nregs; i++)
		if (same_host(rs->regs[i].hostid, hostid))
			return (int)i;
	return -1;
}

/* For All Registrants types every registrant holds the reservation. */
static bool holds(const struct resv *rs, int i)
{
	if (i < 0 || !rs->rtype)
		return false;
	return all_registrants_type(rs->rtype) || rs->holder == i;
}

bool resv_is_registrant(const struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN])
{
	return find_reg(rs, hostid) >= 0;
}

bool resv_is_holder(const struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN])
{
	return holds(rs, find_reg(rs, hostid));
}

static void outcome_init(struct resv_outcome *out)
{
	out->save = false;
	out->nevents = 0;
}

/* Record what happens to one (other) host; masked notification types are dropped here. */
static void add_event(const struct resv *rs, struct resv_outcome *out, const uint8_t *hostid,
		      uint8_t rnlpt, bool abort)
{
	if (rs->notify_mask & (1u << rnlpt))
		rnlpt = NVME_RESV_NOTIFY_RNLPT_EMPTY;
	if (rnlpt == NVME_RESV_NOTIFY_RNLPT_EMPTY && !abort)
		return;
	assert(out->nevents < RESV_MAX_REGISTRANTS);
	struct resv_event *ev = &out->events[out->nevents++];

	memcpy(ev->hostid, hostid, RESV_HOSTID_LEN);
	ev->rnlpt = rnlpt;
	ev->abort = abort;
}

/* A notification to every registrant but the issuer. */
static void notify_registrants(const struct resv *rs, struct resv_outcome *out, const uint8_t *issuer,
			       uint8_t rnlpt)
{
	for (unsigned i = 0; i < rs->nregs; i++)
		if (!same_host(rs->regs[i].hostid, issuer))
			add_event(rs, out, rs->regs[i].hostid, rnlpt, false);
}

static uint16_t add_reg(struct resv *rs, const uint8_t *hostid, uint64_t rkey)
{
	if (rs->nregs == RESV_MAX_REGISTRANTS)
		return ST_TABLE_FULL;
	memcpy(rs->regs[rs->nregs].hostid, hostid, RESV_HOSTID_LEN);
	rs->regs[rs->nregs].rkey = rkey;
	rs->nregs++;
	return ST_OK;
}

/*
 * Drop registrant i, keeping the holder index right. The reservation ends with its holder
 * (single-holder types) or with the last registrant (All Registrants types).
 */
static void remove_reg(struct resv *rs, int i)
{
	assert(i >= 0 && (unsigned)i < rs->nregs);
	memmove(&rs->regs[i], &rs->regs[i + 1], (rs->nregs - (unsigned)i - 1) * sizeof(rs->regs[0]));
	rs->nregs--;
	if (rs->holder == i) {
		rs->holder = -1;
		rs->rtype = 0;
	} else if (rs->holder > i) {
		rs->holder--;
	}
	if (all_registrants_type(rs->rtype) && rs->nregs == 0)
		rs->rtype = 0;
}

static void unregister(struct resv *rs, int i, struct resv_outcome *out)
{
	uint8_t issuer[RESV_HOSTID_LEN];
	uint8_t old = rs->rtype;
	bool was_holder = rs->holder == i;

	memcpy(issuer, rs->regs[i].hostid, RESV_HOSTID_LEN);
	remove_reg(rs, i);
	/* 8.19: the holder leaving a Registrants Only reservation releases it, and says so. */
	if (was_holder && (old == NVME_RESERVATION_RTYPE_WERO || old == NVME_RESERVATION_RTYPE_EARO))
		notify_registrants(rs, out, issuer, NVME_RESV_NOTIFY_RNLPT_RESERVATION_RELEASED);
}

uint16_t resv_register(struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN], uint32_t cdw10,
		       const void *data, size_t len, struct resv_outcome *out)
{
	unsigned rrega = CDW10_ACTION(cdw10), cptpl = CDW10_CPTPL(cdw10);
	bool iekey = CDW10_IEKEY(cdw10), was_ptpl = rs->ptpl;
	uint64_t crkey, nrkey;
	uint16_t st;
	int i;

	outcome_init(out);
	if (len < RESV_REGISTER_DATA_LEN)
		return ST_SHORT_DATA;
	crkey = get_le64(data);
	nrkey = get_le64((const uint8_t *)data + 8);
	if (rrega > NVME_RESERVATION_RREGA_REPLACE_KEY || cptpl == 1 ||
	    (cptpl == NVME_RESERVATION_CPTPL_PERSIST && !rs->ptpl_capable))
		return ST_INVALID_FIELD;

	i = find_reg(rs, hostid);
	switch (rrega) {
	case NVME_RESERVATION_RREGA_REGISTER_KEY:
		/* Registering again with the same key is a success, with another a conflict. */
		if (i >= 0) {
			if (rs->regs[i].rkey != nrkey)
				return ST_CONFLICT;
		} else if ((st = add_reg(rs, hostid, nrkey))) {
			return st;
		}
		break;
	case NVME_RESERVATION_RREGA_UNREGISTER_KEY:
		if (i < 0 || (!iekey && rs->regs[i].rkey != crkey))
			return ST_CONFLICT;
		unregister(rs, i, out);
		break;
	default: /* replace; with IEKEY "without regard to its registration status" */
		if (i >= 0) {
			if (!iekey && rs->regs[i].rkey != crkey)
				return ST_CONFLICT;
			rs->regs[i].rkey = nrkey;
		} else if (!iekey) {
			return ST_CONFLICT;
		} else if ((st = add_reg(rs, hostid, nrkey))) {
			return st;
		}
		break;
	}
	if (cptpl == NVME_RESERVATION_CPTPL_CLEAR)
		rs->ptpl = false;
	else if (cptpl == NVME_RESERVATION_CPTPL_PERSIST)
		rs->ptpl = true;
	/* GEN counts every successful Register, no-op re-registrations included. */
	rs->gen++;
	out->save = rs->ptpl || was_ptpl;
	return ST_OK;
}

/*
 * Unregister every registrant with key `key` except `keep` (NULL: none). Those other than the
 * issuer learn their registration was preempted (and lose their commands on abort).
 */
static unsigned remove_by_key(struct resv *rs, uint64_t key, const uint8_t *keep, const uint8_t *issuer,
			      bool abort, struct resv_outcome *out)
{
	unsigned n = 0;

	for (int j = (int)rs->nregs - 1; j >= 0; j--) {
		uint8_t host[RESV_HOSTID_LEN];

		if (rs->regs[j].rkey != key || (keep && same_host(rs->regs[j].hostid, keep)))
			continue;
		memcpy(host, rs->regs[j].hostid, RESV_HOSTID_LEN);
		remove_reg(rs, j);
		n++;
		if (!same_host(host, issuer))
			add_event(rs, out, host, NVME_RESV_NOTIFY_RNLPT_REGISTRATION_PREEMPTED, abort);
	}
	return n;
}

static void take_reservation(struct resv *rs, const uint8_t *hostid, uint8_t rtype)
{
	rs->rtype = rtype;
	rs->holder = all_registrants_type(rtype) ? -1 : find_reg(rs, hostid);
}

/* Preempt / Preempt and Abort by registrant i (8.19.7). */
static uint16_t preempt(struct resv *rs, int i, uint8_t rtype, uint64_t prkey, bool abort,
			struct resv_outcome *out)
{
	uint8_t issuer[RESV_HOSTID_LEN];
	uint8_t old = rs->rtype;

	memcpy(issuer, rs->regs[i].hostid, RESV_HOSTID_LEN);
	/* No reservation, or a key other than the holder's: only registrations go. */
	if (!old || (!all_registrants_type(old) && prkey != rs->regs[rs->holder].rkey)) {
		if (old && prkey == 0)
			return ST_INVALID_FIELD; /* PRKEY 0 names no holder of a single-holder type */
		return remove_by_key(rs, prkey, NULL, issuer, abort, out) ? ST_OK : ST_CONFLICT;
	}
	if (all_registrants_type(old)) {
		if (prkey != 0)
			return remove_by_key(rs, prkey, NULL, issuer, abort, out) ? ST_OK : ST_CONFLICT;
		/* PRKEY 0: everyone else goes and the issuer holds the new reservation alone. */
		for (int j = (int)rs->nregs - 1; j >= 0; j--) {
			uint8_t host[RESV_HOSTID_LEN];

			if (same_host(rs->regs[j].hostid, issuer))
				continue;
			memcpy(host, rs->regs[j].hostid, RESV_HOSTID_LEN);
			remove_reg(rs, j);
			add_event(rs, out, host, NVME_RESV_NOTIFY_RNLPT_REGISTRATION_PREEMPTED, abort);
		}
		take_reservation(rs, issuer, rtype);
		return ST_OK;
	}
	/* PRKEY is the holder's key: its registration (unless it is the issuer's) and every other
	 * one with that key go; the issuer holds a reservation of the new type. */
	remove_by_key(rs, prkey, issuer, issuer, abort, out);
	take_reservation(rs, issuer, rtype);
	/* A type change releases the old reservation for the remaining registrants (as nvmet). */
	if (rtype != old)
		notify_registrants(rs, out, issuer, NVME_RESV_NOTIFY_RNLPT_RESERVATION_RELEASED);
	return ST_OK;
}

uint16_t resv_acquire(struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN], uint32_t cdw10,
		      const void *data, size_t len, struct resv_outcome *out)
{
	unsigned racqa = CDW10_ACTION(cdw10);
	uint8_t rtype = (uint8_t)CDW10_RTYPE(cdw10);
	uint64_t crkey, prkey;
	uint16_t st;
	int i;

	outcome_init(out);
	if (len < RESV_ACQUIRE_DATA_LEN)
		return ST_SHORT_DATA;
	crkey = get_le64(data);
	prkey = get_le64((const uint8_t *)data + 8);
	/* IEKEY has no meaning for Acquire as of NVMe 1.3 (RESCAP bit 7 says so). */
	if (CDW10_IEKEY(cdw10) || racqa > NVME_RESERVATION_RACQA_PREEMPT_AND_ABORT ||
	    rtype < NVME_RESERVATION_RTYPE_WE || rtype > NVME_RESERVATION_RTYPE_EAAR)
		return ST_INVALID_FIELD;
	i = find_reg(rs, hostid);
	if (i < 0 || rs->regs[i].rkey != crkey)
		return ST_CONFLICT;

	if (racqa == NVME_RESERVATION_RACQA_ACQUIRE) {
		if (!rs->rtype) {
			take_reservation(rs, hostid, rtype);
			out->save = rs->ptpl;
			return ST_OK;
		}
		/* A holder acquiring the same type again is not an error; anything else conflicts. */
		return holds(rs, i) && rs->rtype == rtype ? ST_OK : ST_CONFLICT;
	}
	st = preempt(rs, i, rtype, prkey, racqa == NVME_RESERVATION_RACQA_PREEMPT_AND_ABORT, out);
	if (st) {
		out->nevents = 0;
		return st;
	}
	rs->gen++;
	out->save = rs->ptpl;
	return ST_OK;
}

uint16_t resv_release(struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN], uint32_t cdw10,
		      const void *data, size_t len, struct resv_outcome *out)
{
	unsigned rrela = CDW10_ACTION(cdw10);
	uint8_t rtype = (uint8_t)CDW10_RTYPE(cdw10), old = rs->rtype;
	int i;

	outcome_init(out);
	if (len < RESV_RELEASE_DATA_LEN)
		return ST_SHORT_DATA;
	if (CDW10_IEKEY(cdw10) || rrela > NVME_RESERVATION_RRELA_CLEAR)
		return ST_INVALID_FIELD;
	i = find_reg(rs, hostid);
	if (i < 0 || rs->regs[i].rkey != get_le64(data))
		return ST_CONFLICT;

	if (rrela == NVME_RESERVATION_RRELA_CLEAR) {
		notify_registrants(rs, out, hostid, NVME_RESV_NOTIFY_RNLPT_RESERVATION_PREEMPTED);
		rs->nregs = 0;
		rs->rtype = 0;
		rs->holder = -1;
		rs->gen++;
		out->save = rs->ptpl;
		return ST_OK;
	}
	/* No reservation, or not a holder: success without effect. */
	if (!holds(rs, i))
		return ST_OK;
	if (rtype != old)
		return ST_INVALID_FIELD;
	rs->rtype = 0;
	rs->holder = -1;
	if (old != NVME_RESERVATION_RTYPE_WE && old != NVME_RESERVATION_RTYPE_EA)
		notify_registrants(rs, out, hostid, NVME_RESV_NOTIFY_RNLPT_RESERVATION_RELEASED);
	out->save = rs->ptpl;
	return ST_OK;
}

uint64_t resv_report_len(uint32_t cdw10)
{
	return ((uint64_t)cdw10 + 1) * 4;
}

static void copy_window(void *buf, size_t len, size_t off, const void *src, size_t n)
{
	if (off >= len)
		return;
	memcpy((uint8_t *)buf + off, src, n < len - off ? n : len - off);
}

uint16_t resv_report(const struct resv *rs, uint32_t cdw11, void *buf, size_t len)
{
	struct nvme_resv_status hdr;
	uint16_t regctl = htole16((uint16_t)rs->nregs);

	if (!(cdw11 & 1))
		return ST_HOSTID_FORMAT;
	memset(buf, 0, len);
	memset(&hdr, 0, sizeof(hdr));
	hdr.gen = htole32(rs->gen);
	hdr.rtype = rs->rtype;
	memcpy(hdr.regctl, &regctl, sizeof(regctl));
	hdr.ptpls = rs->ptpl;
	copy_window(buf, len, 0, &hdr, sizeof(hdr));
	for (unsigned i = 0; i < rs->nregs; i++) {
		struct nvme_registered_ctrl_ext e;
		size_t off = offsetof(struct nvme_resv_status, regctl_eds) + i * sizeof(e);

		if (off >= len)
			break;
		memset(&e, 0, sizeof(e));
		e.cntlid = htole16(0xffff); /* dynamic controller model */
		e.rcsts = holds(rs, (int)i);
		e.rkey = htole64(rs->regs[i].rkey);
		memcpy(e.hostid, rs->regs[i].hostid, RESV_HOSTID_LEN);
		copy_window(buf, len, off, &e, sizeof(e));
	}
	return ST_OK;
}

static enum resv_class classify_vendor(uint8_t opcode)
{
	/* opcode bits 1:0 = 10b: controller to host, a read; anything else may change data. */
	return (opcode & 3) == 2 ? RESV_CLASS_READ : RESV_CLASS_WRITE;
}

enum resv_class resv_classify(uint8_t csi, bool admin, uint8_t opcode)
{
	if (admin) {
		switch (opcode) {
		case nvme_admin_format_nvm:
		case nvme_admin_security_send:
		case nvme_admin_sanitize_nvm:
		case nvme_admin_ns_mgmt:
		case nvme_admin_ns_attach:
			return RESV_CLASS_WRITE;
		case nvme_admin_security_recv:
			return RESV_CLASS_READ;
		default:
			return RESV_CLASS_OTHER;
		}
	}
	if (csi == NVME_CSI_KV_ID) {
		switch (opcode) {
		case NVME_KV_OPC_FLUSH:
		case NVME_KV_OPC_STORE:
		case NVME_KV_OPC_DELETE:
			return RESV_CLASS_WRITE;
		case NVME_KV_OPC_RETRIEVE:
		case NVME_KV_OPC_LIST:
		case NVME_KV_OPC_EXIST:
			return RESV_CLASS_READ;
		default:
			return opcode >= 0x80 ? classify_vendor(opcode) : RESV_CLASS_OTHER;
		}
	}
	switch (opcode) {
	case nvme_cmd_flush:
	case nvme_cmd_write:
	case nvme_cmd_write_uncor:
	case nvme_cmd_write_zeroes:
	case nvme_cmd_dsm:
	case nvme_cmd_copy:
	case nvme_zns_cmd_mgmt_send:
	case nvme_zns_cmd_append:
		return RESV_CLASS_WRITE;
	case nvme_cmd_read:
	case nvme_cmd_compare:
	case nvme_cmd_verify:
	case nvme_zns_cmd_mgmt_recv:
	/* Samsung KV-SSD opcodes of kvssd-compat NVM namespaces whose direction bits mislead */
	case KVSSD_OPC_RETRIEVE:
	case KVSSD_OPC_EXIST:
	case KVSSD_OPC_ITER_REQ:
		return RESV_CLASS_READ;
	default:
		return opcode >= 0x80 ? classify_vendor(opcode) : RESV_CLASS_OTHER;
	}
}

/*
 * The spec's table: the holder may read and write; for WE/EA other registrants are treated
 * like non-registrants; the Registrants Only and All Registrants types admit registrants;
 * Write Exclusive types let anyone read.
 */
uint16_t resv_check(const struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN], enum resv_class cls)
{
	int i;
	bool registrant;

	if (cls == RESV_CLASS_OTHER || !rs->rtype)
		return ST_OK;
	i = find_reg(rs, hostid);
	if (holds(rs, i))
		return ST_OK;
	registrant = i >= 0;
	switch (rs->rtype) {
	case NVME_RESERVATION_RTYPE_WE:
		return cls == RESV_CLASS_WRITE ? ST_CONFLICT : ST_OK;
	case NVME_RESERVATION_RTYPE_EA:
		return ST_CONFLICT;
	case NVME_RESERVATION_RTYPE_WERO:
	case NVME_RESERVATION_RTYPE_WEAR:
		return !registrant && cls == RESV_CLASS_WRITE ? ST_CONFLICT : ST_OK;
	default: /* EARO, EAAR */
		return registrant ? ST_OK : ST_CONFLICT;
	}
}

#define RESV_MASK_ALL (NVME_FEAT_RESV_NOTIFY_REGPRE | NVME_FEAT_RESV_NOTIFY_RESREL | NVME_FEAT_RESV_NOTIFY_RESPRE)
static_assert(NVME_FEAT_RESV_NOTIFY_REGPRE == 1u << NVME_RESV_NOTIFY_RNLPT_REGISTRATION_PREEMPTED &&
		      NVME_FEAT_RESV_NOTIFY_RESREL == 1u << NVME_RESV_NOTIFY_RNLPT_RESERVATION_RELEASED &&
		      NVME_FEAT_RESV_NOTIFY_RESPRE == 1u << NVME_RESV_NOTIFY_RNLPT_RESERVATION_PREEMPTED,
	      "mask bit n masks log page type n");

uint16_t resv_set_notify_mask(struct resv *rs, uint32_t cdw11)
{
	if (cdw11 & ~(uint32_t)RESV_MASK_ALL)
		return ST_INVALID_FIELD;
	rs->notify_mask = (uint8_t)cdw11;
	return ST_OK;
}

uint32_t resv_get_notify_mask(const struct resv *rs)
{
	return rs->notify_mask;
}

uint16_t resv_set_persistence(struct resv *rs, uint32_t cdw11, struct resv_outcome *out)
{
	bool on = cdw11 & 1;

	outcome_init(out);
	if ((cdw11 & ~1u) || (on && !rs->ptpl_capable))
		return ST_INVALID_FIELD;
	out->save = on != rs->ptpl;
	rs->ptpl = on;
	return ST_OK;
}

uint32_t resv_get_persistence(const struct resv *rs)
{
	return rs->ptpl;
}

uint8_t resv_rescap(const struct resv *rs)
{
	return (uint8_t)(NVME_NS_RESCAP_WE | NVME_NS_RESCAP_EA | NVME_NS_RESCAP_WERO | NVME_NS_RESCAP_EARO |
			 NVME_NS_RESCAP_WEAR | NVME_NS_RESCAP_EAAR | NVME_NS_RESCAP_IEK_13 |
			 (rs->ptpl_capable ? NVME_NS_RESCAP_PTPL : 0));
}
