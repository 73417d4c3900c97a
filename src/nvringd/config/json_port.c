/* SPDX-License-Identifier: MIT */
/* A JSON port (nvmetcli's ports[] entry): address with TLS requirements, exported subsystems,
 * parameters, ANA group states and discovery referrals. */
#include "json_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct j_addr_out {
	int family;
	char *addr; /* NVR_CFG_ADDR_SIZE */
	uint16_t port;
	uint16_t portid;
	enum cfg_treq treq;
	enum cfg_tsas tsas;
};

static int j_treq_tsas(struct jctx *j, json_object *o, const char *where, struct j_addr_out *a)
{
	json_object *treq, *tsas;
	char w[JPATH], msg[128];
	const char *s;

	if (j_get(j, o, "tsas", json_type_string, where, false, &tsas) ||
	    j_get(j, o, "treq", json_type_string, where, false, &treq))
		return -1;
	s = tsas ? json_object_get_string(tsas) : "";
	if (!strcmp(s, "tls1.3"))
		a->tsas = CFG_TSAS_TLS13;
	else if (*s && strcmp(s, "none"))
		return jerr(j, jkey(w, where, "tsas"), "'%s': must be \"none\" or \"tls1.3\"", s);
	/* as nvmet: offering TLS 1.3 makes it required unless treq says otherwise */
	a->treq = a->tsas == CFG_TSAS_TLS13 ? CFG_TREQ_REQUIRED : CFG_TREQ_NOT_SPECIFIED;
	if (treq) {
		s = json_object_get_string(treq);
		if (!strcmp(s, "not specified"))
			a->treq = CFG_TREQ_NOT_SPECIFIED;
		else if (!strcmp(s, "required"))
			a->treq = CFG_TREQ_REQUIRED;
		else if (!strcmp(s, "not required"))
			a->treq = CFG_TREQ_NOT_REQUIRED;
		else
			return jerr(j, jkey(w, where, "treq"), "'%s': must be \"not specified\", \"required\" "
				    "or \"not required\"", s);
	}
	if (cfg_port_tls_check(a->treq, a->tsas, msg, sizeof(msg)))
		return jerr(j, jkey(w, where, "treq"), "%s", msg);
	return 0;
}

/* addr {adrfam, traddr, trsvcid, trtype, treq, tsas} of a port or a referral (+ portid). */
static int j_addr(struct jctx *j, json_object *o, const char *where, struct j_addr_out *a)
{
	static const char *const keys[] = { "adrfam", "traddr", "trsvcid", "trtype", "treq", "tsas",
					    "portid", NULL };
	json_object *v;
	char w[JPATH];
	const char *s;
	uint64_t u;

	if (j_keys(j, o, where, keys) || j_get(j, o, "trtype", json_type_string, where, true, &v))
		return -1;
	if (strcmp(json_object_get_string(v), "tcp"))
		return jerr(j, jkey(w, where, "trtype"), "'%s': only \"tcp\" is supported",
			    json_object_get_string(v));
	if (j_get(j, o, "adrfam", json_type_string, where, true, &v))
		return -1;
	s = json_object_get_string(v);
	if (!strcmp(s, "ipv4"))
		a->family = AF_INET;
	else if (!strcmp(s, "ipv6"))
		a->family = AF_INET6;
	else
		return jerr(j, jkey(w, where, "adrfam"), "'%s': must be \"ipv4\" or \"ipv6\"", s);
	if (j_get(j, o, "traddr", json_type_string, where, true, &v))
		return -1;
	s = json_object_get_string(v);
	if (strlen(s) >= NVR_CFG_ADDR_SIZE || cfg_parse_ip(s, a->family, a->addr) < 0)
		return jerr(j, jkey(w, where, "traddr"), "'%s' is not a numeric %s address", s,
			    a->family == AF_INET ? "IPv4" : "IPv6");
	v = j_member(o, "trsvcid");
	if (!v)
		return jerr(j, jkey(w, where, "trsvcid"), "missing");
	if (j_uint(j, v, jkey(w, where, "trsvcid"), 1, 65535, &u))
		return -1;
	a->port = (uint16_t)u;
	if (j_treq_tsas(j, o, where, a))
		return -1;
	v = j_member(o, "portid");
	if (v) {
		if (j_uint(j, v, jkey(w, where, "portid"), 0, 65535, &u))
			return -1;
		a->portid = (uint16_t)u;
	}
	return 0;
}

static int j_port_param(struct jctx *j, json_object *o, const char *where, struct cfg_port *p)
{
	static const char *const param_keys[] = { "inline_data_size", "pi_enable", "max_queue_size", NULL };
	json_object *v, *m;
	char w[JPATH], w2[JPATH];
	uint64_t u;

	if (j_get(j, o, "param", json_type_object, where, false, &v))
		return -1;
	if (!v)
		return 0;
	jkey(w, where, "param");
	if (j_keys(j, v, w, param_keys) || j_unsupported(j, v, "pi_enable", w, "protection information"))
		return -1;
	m = j_member(v, "inline_data_size");
	if (m) {
		if (j_uint(j, m, jkey(w2, w, "inline_data_size"), 0, 1u << 20, &u))
			return -1;
		p->inline_data_size = (int)u;
	}
	m = j_member(v, "max_queue_size");
	if (m) {
		const char *s = json_object_is_type(m, json_type_string) ? json_object_get_string(m) : NULL;

		/* nvmet shows -1 for "the transport's default", so nvmetcli saves that */
		if ((s && !strcmp(s, "-1")) || (json_object_is_type(m, json_type_int) && json_object_get_int64(m) == -1))
			p->max_queue_size = -1;
		else if (j_uint(j, m, jkey(w2, w, "max_queue_size"), 16, 1024, &u))
			return -1;
		else
			p->max_queue_size = (int)u;
	}
	return 0;
}

static int j_port_ana(struct jctx *j, json_object *o, const char *where, struct cfg_port *p)
{
	static const char *const ana_keys[] = { "grpid", "ana", NULL };
	static const char *const ana_state_keys[] = { "state", NULL };
	json_object *v, *arr, *a, *st;
	char w[JPATH], w2[JPATH];
	uint64_t grpid;

	if (j_get(j, o, "ana_groups", json_type_array, where, false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct cfg_ana_group *g;
		int state = CFG_ANA_OPTIMIZED;

		jidx(w, jkey(w2, where, "ana_groups"), i);
		v = json_object_array_get_idx(arr, i);
		if (j_type(j, v, json_type_object, w) || j_keys(j, v, w, ana_keys))
			return -1;
		a = j_member(v, "ana");
		if (a && (j_type(j, a, json_type_object, jkey(w2, w, "ana")) || j_keys(j, a, w2, ana_state_keys) ||
			  j_get(j, a, "state", json_type_string, w2, false, &st)))
			return -1;
		if (a && st) {
			state = cfg_ana_state_id(json_object_get_string(st));
			if (state < 0)
				return jerr(j, jkey(w2, w, "ana.state"), "'%s': must be optimized, non-optimized, "
					    "inaccessible, persistent-loss or change", json_object_get_string(st));
		}
		if (!j_member(v, "grpid"))
			return jerr(j, jkey(w2, w, "grpid"), "missing");
		if (j_uint(j, j_member(v, "grpid"), jkey(w2, w, "grpid"), 1, NVR_CFG_ANA_GRPID_MAX, &grpid))
			return -1;
		for (size_t k = 0; k < p->nr_ana_groups; k++)
			if (p->ana_groups[k].grpid == grpid)
				return jerr(j, w2, "%" PRIu64 " is also ana_groups[%zu]", grpid, k);
		g = cfg_grow(p->ana_groups, p->nr_ana_groups, sizeof(*g));
		if (!g)
			return jerr(j, NULL, "out of memory");
		p->ana_groups = g;
		g[p->nr_ana_groups++] = (struct cfg_ana_group){ (uint32_t)grpid, (enum cfg_ana_state)state };
	}
	return 0;
}

static int j_referrals(struct jctx *j, json_object *o, const char *where, struct cfg_port *p)
{
	static const char *const keys[] = { "name", "enable", "portid", "addr", NULL };
	json_object *arr, *v, *addr, *name;
	char w[JPATH], w2[JPATH];

	if (j_get(j, o, "referrals", json_type_array, where, false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct cfg_referral *r = cfg_grow(p->referrals, p->nr_referrals, sizeof(*r));
		struct j_addr_out a = { 0 };

		if (!r)
			return jerr(j, NULL, "out of memory");
		p->referrals = r;
		r = &p->referrals[p->nr_referrals++];
		a.addr = r->addr;
		r->enabled = true;
		jidx(w, jkey(w2, where, "referrals"), i);
		v = json_object_array_get_idx(arr, i);
		if (j_type(j, v, json_type_object, w) || j_keys(j, v, w, keys) ||
		    j_get(j, v, "addr", json_type_object, w, true, &addr) ||
		    j_addr(j, addr, jkey(w2, w, "addr"), &a))
			return -1;
		r->family = a.family;
		r->port = a.port;
		r->portid = a.portid;
		r->treq = a.treq;
		r->tsas = a.tsas;
		addr = j_member(v, "enable");
		if (addr && j_bool(j, addr, jkey(w2, w, "enable"), &r->enabled))
			return -1;
		if (j_get(j, v, "name", json_type_string, w, false, &name))
			return -1;
		if (name && cfg_dup(&r->name, json_object_get_string(name)))
			return jerr(j, NULL, "out of memory");
	}
	return 0;
}

int j_port(struct jctx *j, json_object *o, const char *where, const struct nvr_config *cfg,
	   struct cfg_port *p)
{
	static const char *const keys[] = { "portid", "addr", "subsystems", "referrals", "param",
					    "ana_groups", NULL };
	json_object *v, *arr;
	char w[JPATH], w2[JPATH];
	struct j_addr_out a = { .addr = p->addr };
	uint64_t u;
	bool same;
	long dup;

	if (j_type(j, o, json_type_object, where) || j_keys(j, o, where, keys))
		return -1;
	v = j_member(o, "portid");
	if (!v)
		return jerr(j, jkey(w, where, "portid"), "missing");
	if (j_uint(j, v, jkey(w, where, "portid"), 0, 65535, &u))
		return -1;
	p->portid = (uint16_t)u;
	for (size_t i = 0; i < cfg->nr_ports; i++)
		if (cfg->ports[i].portid == p->portid)
			return jerr(j, w, "%u is also ports[%zu]", p->portid, i);
	if (j_get(j, o, "addr", json_type_object, where, true, &v) || j_addr(j, v, jkey(w, where, "addr"), &a))
		return -1;
	p->family = a.family;
	p->port = a.port;
	p->treq = a.treq;
	p->tsas = a.tsas;
	dup = cfg_port_clash(cfg->ports, cfg->nr_ports, p, &same);
	if (dup >= 0)
		return jerr(j, w, "%s%s%s:%u %s ports[%ld]", p->family == AF_INET6 ? "[" : "",
			    p->addr, p->family == AF_INET6 ? "]" : "", p->port,
			    same ? "is also" : "overlaps (wildcard address) with", dup);
	if (j_get(j, o, "subsystems", json_type_array, where, false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		const char *nqn;
		size_t *idx;
		long si;

		jidx(w, jkey(w2, where, "subsystems"), i);
		v = json_object_array_get_idx(arr, i);
		if (j_type(j, v, json_type_string, w))
			return -1;
		nqn = json_object_get_string(v);
		si = nvr_config_find_subsys(cfg, nqn);
		if (si < 0)
			return jerr(j, w, "'%s' is not in \"subsystems\"", nqn);
		if (nvr_config_port_has_subsys(p, (size_t)si))
			return jerr(j, w, "'%s' is listed twice", nqn);
		idx = cfg_grow(p->subsys, p->nr_subsys, sizeof(*idx));
		if (!idx)
			return jerr(j, NULL, "out of memory");
		p->subsys = idx;
		p->subsys[p->nr_subsys++] = (size_t)si;
	}
	if (j_port_param(j, o, where, p) || j_port_ana(j, o, where, p) || j_referrals(j, o, where, p))
		return -1;
	p->discovery_only = p->nr_subsys == 0;
	return 0;
}

int nvr_config_port_from_json(const struct nvr_config *cfg, struct cfg_port *p,
			      struct json_object *o, const char *where, char *err, size_t errlen)
{
	struct jctx j = { NULL, err, errlen };

	cfg_port_init(p);
	if (j_port(&j, o, where ? where : "", cfg, p)) {
		nvr_config_port_free(p);
		return -1;
	}
	return 0;
}
