/* SPDX-License-Identifier: MIT */
/* Asymmetric Namespace Access: groups, per-port states, transitions, the log page (see ana.h). */
#include "ana.h"
#include "util/errf.h"

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <nvme/types.h>

#include "spec/nvme_cmd.h"

static_assert(sizeof(struct nvme_ana_log) == 16, "ANA log header");
static_assert(offsetof(struct nvme_ana_log, ngrps) == 8, "NGRPS");
static_assert(sizeof(struct nvme_ana_group_desc) == 32, "ANA group descriptor");
static_assert(offsetof(struct nvme_ana_group_desc, nnsids) == 4, "NNSIDS");
static_assert(offsetof(struct nvme_ana_group_desc, chgcnt) == 8, "CHGCNT");
static_assert(offsetof(struct nvme_ana_group_desc, state) == 16, "ANA state");
static_assert(offsetof(struct nvme_id_ctrl, cmic) == 76 && offsetof(struct nvme_id_ctrl, anatt) == 342 &&
		      offsetof(struct nvme_id_ctrl, anacap) == 343 && offsetof(struct nvme_id_ctrl, anagrpmax) == 344 &&
		      offsetof(struct nvme_id_ctrl, nanagrpid) == 348, "Identify Controller ANA fields");
static_assert(offsetof(struct nvme_id_ns, nmic) == 30 && offsetof(struct nvme_id_ns, anagrpid) == 92,
	      "Identify Namespace ANA fields");

#define NS_PER_S 1000000000ull

static const struct {
	uint8_t state;
	const char *name;
} ana_names[] = {
	{ NVME_ANA_STATE_OPTIMIZED, "optimized" },
	{ NVME_ANA_STATE_NONOPTIMIZED, "non-optimized" },
	{ NVME_ANA_STATE_INACCESSIBLE, "inaccessible" },
	{ NVME_ANA_STATE_PERSISTENT_LOSS, "persistent-loss" },
	{ NVME_ANA_STATE_CHANGE, "change" },
};
#define ANA_NAMES (sizeof(ana_names) / sizeof(ana_names[0]))

const char *ana_state_name(uint8_t state)
{
	for (unsigned i = 0; i < ANA_NAMES; i++)
		if (ana_names[i].state == state)
			return ana_names[i].name;
	return NULL;
}

int ana_state_from_name(const char *name)
{
	for (unsigned i = 0; name && i < ANA_NAMES; i++)
		if (strcmp(ana_names[i].name, name) == 0)
			return ana_names[i].state;
	return -EINVAL;
}

int ana_init(struct ana *a, uint32_t ngroups, unsigned anatt_s, ana_change_fn on_change, void *arg)
{
	if (ngroups < 1 || ngroups > ANA_MAX_GROUPS || anatt_s < 1 || anatt_s > ANA_MAX_ANATT)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->ngroups = ngroups;
	a->anatt = (uint8_t)anatt_s;
	a->on_change = on_change;
	a->on_change_arg = arg;
	return 0;
}

int ana_port_index(const struct ana *a, uint16_t portid)
{
	for (unsigned i = 0; i < a->nports; i++)
		if (a->ports[i].portid == portid)
			return (int)i;
	return -1;
}

int ana_add_port(struct ana *a, uint16_t portid)
{
	struct ana_port *p;

	if (ana_port_index(a, portid) >= 0)
		return -EEXIST;
	if (a->nports == ANA_MAX_PORTS)
		return -ENOSPC;
	p = &a->ports[a->nports++];
	memset(p, 0, sizeof(*p));
	p->portid = portid;
	for (unsigned g = 0; g < ANA_MAX_GROUPS; g++)
		p->grp[g].state = p->grp[g].target = NVME_ANA_STATE_OPTIMIZED;
	return 0;
}

static bool grpid_valid(const struct ana *a, uint32_t grpid)
{
	return grpid >= 1 && grpid <= a->ngroups;
}

/* A state a group can be put in for good (ANA Change only ever as a transition). */
static bool stable_state(uint8_t s)
{
	return s == NVME_ANA_STATE_OPTIMIZED || s == NVME_ANA_STATE_NONOPTIMIZED ||
	       s == NVME_ANA_STATE_INACCESSIBLE || s == NVME_ANA_STATE_PERSISTENT_LOSS;
}

static void changed(struct ana *a, unsigned pidx, uint32_t grpid)
{
	struct ana_port *p = &a->ports[pidx];

	p->chgcnt++;
	if (grpid)
		p->grp[grpid - 1].chgcnt++;
	if (a->on_change)
		a->on_change(a->on_change_arg, p->portid);
}

int ana_ns_set_group(struct ana *a, uint32_t nsid, uint32_t grpid)
{
	uint32_t old;

	if (nsid < 1 || nsid > ANA_MAX_NSID || (grpid && !grpid_valid(a, grpid)))
		return -EINVAL;
	old = a->ns_grp[nsid];
	if (old == grpid)
		return 0;
	a->ns_grp[nsid] = grpid;
	for (unsigned p = 0; p < a->nports; p++) {
		if (old)
			a->ports[p].grp[old - 1].chgcnt++;
		changed(a, p, grpid);
	}
	return 0;
}

uint32_t ana_ns_group(const struct ana *a, uint32_t nsid)
{
	return nsid >= 1 && nsid <= ANA_MAX_NSID ? a->ns_grp[nsid] : 0;
}

static struct ana_group_state *lookup(struct ana *a, uint16_t portid, uint32_t grpid, int *pidx, int *rc)
{
	*pidx = ana_port_index(a, portid);
	if (*pidx < 0) {
		*rc = -ENOENT;
		return NULL;
	}
	if (!grpid_valid(a, grpid)) {
		*rc = -EINVAL;
		return NULL;
	}
	return &a->ports[*pidx].grp[grpid - 1];
}

static void set_now(struct ana *a, int pidx, uint32_t grpid, uint8_t state)
{
	struct ana_group_state *g = &a->ports[pidx].grp[grpid - 1];

	if (g->state == state)
		return;
	g->state = g->target = state;
	g->deadline_ns = 0;
	changed(a, (unsigned)pidx, grpid);
}

int ana_transition(struct ana *a, uint16_t portid, uint32_t grpid, uint8_t target, uint64_t duration_ns,
		   uint64_t now_ns)
{
	int pidx, rc = 0;
	struct ana_group_state *g = lookup(a, portid, grpid, &pidx, &rc);

	if (!g)
		return rc;
	if (!stable_state(target))
		return -EINVAL;
	if (duration_ns > a->anatt * NS_PER_S)
		return -ERANGE;
	if (duration_ns == 0) {
		set_now(a, pidx, grpid, target);
		return 0;
	}
	g->target = target;
	g->deadline_ns = now_ns + duration_ns;
	/* Already reporting ANA Change: the log does not change, only where it will end. */
	if (g->state != NVME_ANA_STATE_CHANGE) {
		g->state = NVME_ANA_STATE_CHANGE;
		changed(a, (unsigned)pidx, grpid);
	}
	return 0;
}

int ana_set_state(struct ana *a, uint16_t portid, uint32_t grpid, uint8_t state, uint64_t now_ns)
{
	int pidx, rc = 0;
	struct ana_group_state *g = lookup(a, portid, grpid, &pidx, &rc);

	if (!g)
		return rc;
	if (state == NVME_ANA_STATE_CHANGE) {
		if (g->state == NVME_ANA_STATE_CHANGE)
			return 0;
		return ana_transition(a, portid, grpid, g->state, a->anatt * NS_PER_S, now_ns);
	}
	if (!stable_state(state))
		return -EINVAL;
	set_now(a, pidx, grpid, state);
	return 0;
}

unsigned ana_advance(struct ana *a, uint64_t now_ns)
{
	unsigned n = 0;

	for (unsigned p = 0; p < a->nports; p++)
		for (uint32_t g = 1; g <= a->ngroups; g++) {
			struct ana_group_state *s = &a->ports[p].grp[g - 1];

			if (s->state == NVME_ANA_STATE_CHANGE && s->deadline_ns <= now_ns) {
				set_now(a, (int)p, g, s->target);
				n++;
			}
		}
	return n;
}

uint64_t ana_next_deadline(const struct ana *a)
{
	uint64_t next = UINT64_MAX;

	for (unsigned p = 0; p < a->nports; p++)
		for (uint32_t g = 0; g < a->ngroups; g++)
			if (a->ports[p].grp[g].state == NVME_ANA_STATE_CHANGE && a->ports[p].grp[g].deadline_ns < next)
				next = a->ports[p].grp[g].deadline_ns;
	return next;
}

int ana_set_state_by_name(struct ana *a, uint16_t portid, uint32_t grpid, const char *state,
			  uint32_t transition_ms, uint64_t now_ns, char *err, size_t errlen)
{
	int s = ana_state_from_name(state);

	if (s < 0)
		return nvr_errf(err, errlen, -EINVAL,
			    "unknown ANA state \"%s\" (optimized, non-optimized, inaccessible, persistent-loss, change)",
			    state ? state : "");
	if (ana_port_index(a, portid) < 0)
		return nvr_errf(err, errlen, -ENOENT, "port %u does not export this subsystem", portid);
	if (!grpid_valid(a, grpid))
		return nvr_errf(err, errlen, -EINVAL, "ANA group %u is not in 1..%u", grpid, a->ngroups);
	if (transition_ms && s == NVME_ANA_STATE_CHANGE)
		return nvr_errf(err, errlen, -EINVAL, "a transition ends in a state: give one other than \"change\"");
	if ((uint64_t)transition_ms > a->anatt * 1000ull)
		return nvr_errf(err, errlen, -ERANGE, "transition of %u ms is longer than ANATT (%u s)", transition_ms,
			    a->anatt);
	if (transition_ms)
		return ana_transition(a, portid, grpid, (uint8_t)s, transition_ms * 1000000ull, now_ns);
	return ana_set_state(a, portid, grpid, (uint8_t)s, now_ns);
}

size_t ana_get_states(const struct ana *a, uint64_t now_ns, struct ana_state_info *out, size_t max)
{
	uint32_t count[ANA_MAX_GROUPS + 1] = { 0 };
	size_t n = 0;

	for (uint32_t nsid = 1; nsid <= ANA_MAX_NSID; nsid++)
		count[a->ns_grp[nsid]]++;
	for (unsigned p = 0; p < a->nports; p++)
		for (uint32_t g = 1; g <= a->ngroups; g++, n++) {
			const struct ana_group_state *s = &a->ports[p].grp[g - 1];
			bool moving = s->state == NVME_ANA_STATE_CHANGE;

			if (n >= max)
				continue;
			out[n] = (struct ana_state_info){
				.portid = a->ports[p].portid,
				.grpid = g,
				.state = s->state,
				.target = s->target,
				.remaining_ns = moving && s->deadline_ns > now_ns ? s->deadline_ns - now_ns : 0,
				.chgcnt = s->chgcnt,
				.nnsids = count[g],
			};
		}
	return n;
}

static void put(void *buf, size_t cap, size_t off, const void *src, size_t n)
{
	if (off < cap)
		memcpy((uint8_t *)buf + off, src, n < cap - off ? n : cap - off);
}

ssize_t ana_log_build(const struct ana *a, uint16_t portid, bool rgo, void *buf, size_t cap)
{
	uint32_t count[ANA_MAX_GROUPS + 1] = { 0 };
	size_t start[ANA_MAX_GROUPS + 1] = { 0 };
	int pidx = ana_port_index(a, portid);
	const struct ana_port *p;
	struct nvme_ana_log hdr;
	size_t off = sizeof(hdr);
	uint16_t ngrps = 0;

	if (pidx < 0)
		return -ENOENT;
	p = &a->ports[pidx];
	for (uint32_t nsid = 1; nsid <= ANA_MAX_NSID; nsid++)
		count[a->ns_grp[nsid]]++;
	/* Descriptors first, remembering where each group's NSID list starts. */
	for (uint32_t g = 1; g <= a->ngroups; g++) {
		struct nvme_ana_group_desc d;

		if (!count[g])
			continue;
		memset(&d, 0, sizeof(d));
		d.grpid = htole32(g);
		d.nnsids = htole32(rgo ? 0 : count[g]);
		d.chgcnt = htole64(p->grp[g - 1].chgcnt);
		d.state = p->grp[g - 1].state;
		put(buf, cap, off, &d, sizeof(d));
		off += sizeof(d);
		start[g] = off;
		if (!rgo)
			off += count[g] * sizeof(uint32_t);
		ngrps++;
	}
	/* One pass over the namespaces fills every list in ascending NSID order (Linux needs it). */
	for (uint32_t nsid = 1; !rgo && nsid <= ANA_MAX_NSID; nsid++) {
		uint32_t g = a->ns_grp[nsid], le = htole32(nsid);

		if (g) {
			put(buf, cap, start[g], &le, sizeof(le));
			start[g] += sizeof(le);
		}
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.chgcnt = htole64(p->chgcnt);
	hdr.ngrps = htole16(ngrps);
	put(buf, cap, 0, &hdr, sizeof(hdr));
	return (ssize_t)off;
}

size_t ana_log_max_len(const struct ana *a, uint32_t mnan)
{
	return sizeof(struct nvme_ana_log) + a->ngroups * sizeof(struct nvme_ana_group_desc) +
	       (size_t)mnan * sizeof(uint32_t);
}

uint16_t ana_status_of(uint8_t state)
{
	switch (state) {
	case NVME_ANA_STATE_INACCESSIBLE:
		return NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE);
	case NVME_ANA_STATE_PERSISTENT_LOSS:
		return NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_PERSISTENT_LOSS);
	case NVME_ANA_STATE_CHANGE:
		return NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_TRANSITION);
	default:
		return 0;
	}
}

uint16_t ana_io_status_at(const struct ana *a, int pidx, uint32_t nsid)
{
	uint32_t g = ana_ns_group(a, nsid);

	if (pidx < 0 || (unsigned)pidx >= a->nports || !g)
		return 0;
	return ana_status_of(a->ports[pidx].grp[g - 1].state);
}

uint16_t ana_io_status(const struct ana *a, uint16_t portid, uint32_t nsid)
{
	return ana_io_status_at(a, ana_port_index(a, portid), nsid);
}

void ana_id_ctrl(const struct ana *a, struct nvme_id_ctrl *id)
{
	id->cmic |= NVME_CTRL_CMIC_MULTI_PORT | NVME_CTRL_CMIC_MULTI_CTRL | NVME_CTRL_CMIC_MULTI_ANA_REPORTING;
	/* Not ANAGRPID_NO_CHG: ana_ns_set_group may move an attached namespace. */
	id->anacap = NVME_CTRL_ANACAP_OPT | NVME_CTRL_ANACAP_NON_OPT | NVME_CTRL_ANACAP_INACCESSIBLE |
		     NVME_CTRL_ANACAP_PERSISTENT_LOSS | NVME_CTRL_ANACAP_CHANGE;
	id->anatt = a->anatt;
	id->anagrpmax = htole32(a->ngroups);
	id->nanagrpid = htole32(a->ngroups);
	id->oaes |= htole32(NVME_CTRL_OAES_ANA);
	if (!id->mnan)
		id->mnan = id->nn;
}

void ana_id_ns(const struct ana *a, uint32_t nsid, struct nvme_id_ns *id)
{
	id->anagrpid = htole32(ana_ns_group(a, nsid));
	id->nmic |= NVME_NS_NMIC_SHARED;
}
