/* SPDX-License-Identifier: MIT */
/*
 * Flags mode: one subsystem, its namespaces (--ns), hosts (--allow-host NQN[,keys]) and
 * listeners (-l ADDR:PORT[,tls=..][,ana=..]) become the model. Messages quote the argument
 * as typed, except --allow-host's keys: only the NQN is quoted, so no secret reaches a log.
 */
#include "args.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- -l ADDR:PORT[,tls=required|optional][,ana=GRPID:STATE...] ---- */

static int cfg_listen_ana(struct cfg_port *p, const char *val, char *msg, size_t msglen)
{
	const char *colon = val ? strchr(val, ':') : NULL;
	struct cfg_ana_group *g;
	char num[16];
	uint64_t grpid;
	int state;

	if (!colon || (size_t)(colon - val) >= sizeof(num))
		return cfg_err(msg, msglen, "must be GRPID:STATE (e.g. 2:inaccessible)");
	memcpy(num, val, (size_t)(colon - val));
	num[colon - val] = '\0';
	if (cfg_parse_uint(num, NVR_CFG_ANA_GRPID_MAX, &grpid) || grpid == 0)
		return cfg_err(msg, msglen, "group '%s' must be 1..%d", num, NVR_CFG_ANA_GRPID_MAX);
	state = cfg_ana_state_id(colon + 1);
	if (state < 0)
		return cfg_err(msg, msglen, "state '%s' must be optimized, non-optimized, inaccessible, "
			       "persistent-loss or change", colon + 1);
	for (size_t i = 0; i < p->nr_ana_groups; i++)
		if (p->ana_groups[i].grpid == grpid)
			return cfg_err(msg, msglen, "group %" PRIu64 " given twice", grpid);
	g = cfg_grow(p->ana_groups, p->nr_ana_groups, sizeof(*g));
	if (!g)
		return cfg_err(msg, msglen, "out of memory");
	p->ana_groups = g;
	g[p->nr_ana_groups++] = (struct cfg_ana_group){ (uint32_t)grpid, (enum cfg_ana_state)state };
	return 0;
}

static int cfg_listen_opt(struct cfg_port *p, const char *key, const char *val, bool *tls_seen,
			  char *msg, size_t msglen)
{
	if (!strcmp(key, "ana"))
		return cfg_listen_ana(p, val, msg, msglen);
	if (strcmp(key, "tls"))
		return cfg_err(msg, msglen, "unknown option (tls, ana)");
	if (*tls_seen)
		return cfg_err(msg, msglen, "given twice");
	*tls_seen = true;
	if (val && !strcmp(val, "required"))
		p->treq = CFG_TREQ_REQUIRED;
	else if (val && !strcmp(val, "optional"))
		p->treq = CFG_TREQ_NOT_REQUIRED;
	else
		return cfg_err(msg, msglen, "must be required or optional");
	p->tsas = CFG_TSAS_TLS13;
	return 0;
}

static int cfg_listen_spec(struct cfg_port *p, const struct cfg_arg *l, char *err, size_t errlen)
{
	char *copy = strdup(l->val), *opts, *tok, *save = NULL, msg[256];
	bool tls_seen = false;
	int ret = -1;

	if (!copy)
		return cfg_err(err, errlen, "out of memory");
	opts = strchr(copy, ',');
	if (opts)
		*opts++ = '\0';
	if (nvr_parse_addr(copy, p->addr, sizeof(p->addr), &p->port, &p->family)) {
		cfg_err(err, errlen, "%s '%s': expected ADDR:PORT or [IPV6]:PORT with a numeric "
			"address and a port 0..65535 (0: any free port)", l->opt, l->val);
		goto out;
	}
	for (tok = opts ? strtok_r(opts, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (eq)
			*eq++ = '\0';
		if (cfg_listen_opt(p, tok, eq, &tls_seen, msg, sizeof(msg))) {
			cfg_err(err, errlen, "%s '%s': %s: %s", l->opt, l->val, tok, msg);
			goto out;
		}
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

static int cfg_args_ports(struct nvr_config *cfg, const struct cfg_args *a, char *err, size_t errlen)
{
	static const struct cfg_arg defaults[] = { { "", "127.0.0.1:4420" }, { "", "127.0.0.1:8009" } };
	const struct cfg_arg *l = a->nr_listen ? a->listen : defaults;
	size_t n = a->nr_listen ? a->nr_listen : 2;

	for (size_t i = 0; i < n; i++) {
		struct cfg_port *p = cfg_add_port(cfg);
		bool same;
		long dup;

		if (!p)
			return cfg_err(err, errlen, "out of memory");
		if (cfg_listen_spec(p, &l[i], err, errlen))
			return -1;
		/* port 0 asks the kernel for a free port each time: never a duplicate */
		dup = cfg_port_clash(cfg->ports, cfg->nr_ports - 1, p, &same);
		if (dup >= 0 && same)
			return cfg_err(err, errlen, "%s '%s': given twice", l[i].opt, l[i].val);
		if (dup >= 0)
			return cfg_err(err, errlen, "%s '%s': overlaps with '%s' (a wildcard address covers the other)",
				       l[i].opt, l[i].val, l[dup].val);
		p->portid = (uint16_t)(i + 1);
		p->all_subsys = p->port != NVR_CFG_DISCOVERY_PORT;
	}
	return 0;
}

/* ---- --allow-host NQN[,dhchap=KEY|dhchap-file=PATH][,dhchap-ctrl...][,psk...] ---- */

enum { HK_DHCHAP, HK_CTRL, HK_PSK, HK_HASH, HK_DHGROUP };

static const struct cfg_host_opt {
	const char *name;
	int slot;
	bool file;
} cfg_host_opts[] = {
	{ "dhchap", HK_DHCHAP, false }, { "dhchap-file", HK_DHCHAP, true },
	{ "dhchap-ctrl", HK_CTRL, false }, { "dhchap-ctrl-file", HK_CTRL, true },
	{ "psk", HK_PSK, false }, { "psk-file", HK_PSK, true },
	{ "dhchap-hash", HK_HASH, false }, { "dhchap-dhgroup", HK_DHGROUP, false },
};

static int cfg_host_opt(struct cfg_host *h, const char *key, const char *val, unsigned *seen,
			char *msg, size_t msglen)
{
	const struct cfg_host_opt *o = NULL;
	struct cfg_secret *sec;
	char *value = NULL;
	bool ok;

	for (size_t i = 0; i < sizeof(cfg_host_opts) / sizeof(cfg_host_opts[0]); i++)
		if (!strcmp(cfg_host_opts[i].name, key))
			o = &cfg_host_opts[i];
	if (!o)
		return cfg_err(msg, msglen, "unknown option (dhchap, dhchap-file, dhchap-ctrl, dhchap-ctrl-file, "
			       "dhchap-hash, dhchap-dhgroup, psk, psk-file)");
	if (*seen & (1u << o->slot))
		return cfg_err(msg, msglen, "given twice");
	*seen |= 1u << o->slot;
	if (!val || !*val)
		return cfg_err(msg, msglen, "needs a value");
	if (o->slot == HK_HASH || o->slot == HK_DHGROUP) {
		int id = o->slot == HK_HASH ? cfg_hash_id(val) : cfg_dhgroup_id(val);

		if (id < 0)
			return cfg_err(msg, msglen, "'%s' is not a %s", val,
				       o->slot == HK_HASH ? "hash (hmac(sha256), hmac(sha384), hmac(sha512))"
							  : "DH group (null, ffdhe2048 ... ffdhe8192)");
		if (o->slot == HK_HASH)
			h->dhchap_hash = (enum cfg_dhchap_hash)id;
		else
			h->dhchap_dhgroup = (enum cfg_dhgroup)id;
		return 0;
	}
	if (o->file && cfg_read_secret(val, &value, msg, msglen))
		return -1;
	if (!o->file && !(value = strdup(val)))
		return cfg_err(msg, msglen, "out of memory");
	ok = o->slot == HK_PSK ? cfg_psk_valid(value) : cfg_dhchap_key_valid(value);
	sec = o->slot == HK_PSK ? &h->psk : o->slot == HK_CTRL ? &h->dhchap_ctrl_key : &h->dhchap_key;
	sec->value = value; /* freed with the host even if refused below */
	if (!ok)
		return cfg_err(msg, msglen, "%s%s %s", o->file ? val : "", o->file ? ": not" : "must be",
			       o->slot == HK_PSK ? "a TLS PSK in interchange form (NVMeTLSkey-1:XX:BASE64:)"
						 : "a DH-HMAC-CHAP secret (DHHC-1:XX:BASE64:)");
	if (o->file && cfg_dup(&sec->file, val))
		return cfg_err(msg, msglen, "out of memory");
	return 0;
}

static int cfg_host_spec(struct nvr_config *cfg, struct cfg_subsys *s, const struct cfg_arg *arg,
			 char *err, size_t errlen)
{
	char *copy = strdup(arg->val), *opts, *tok, *save = NULL, msg[256];
	struct cfg_host *h;
	unsigned seen = 0;
	int ret = -1;

	if (!copy)
		return cfg_err(err, errlen, "out of memory");
	opts = strchr(copy, ',');
	if (opts)
		*opts++ = '\0';
	if (cfg_nqn_check(copy, msg, sizeof(msg))) {
		cfg_err(err, errlen, "%s '%s': %s", arg->opt, copy, msg);
		goto out;
	}
	if (nvr_config_find_host(cfg, copy) >= 0) {
		cfg_err(err, errlen, "%s '%s': given twice", arg->opt, copy);
		goto out;
	}
	h = cfg_add_host(cfg);
	if (!h || cfg_strv_push(&s->allowed_hosts, &s->nr_allowed_hosts, copy)) {
		cfg_err(err, errlen, "out of memory");
		goto out;
	}
	strcpy(h->nqn, copy);
	for (tok = opts ? strtok_r(opts, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (eq)
			*eq++ = '\0';
		if (cfg_host_opt(h, tok, eq, &seen, msg, sizeof(msg))) {
			cfg_err(err, errlen, "%s '%s': %s: %s", arg->opt, copy, tok, msg);
			goto out;
		}
	}
	if (h->dhchap_ctrl_key.value && !h->dhchap_key.value) {
		cfg_err(err, errlen, "%s '%s': dhchap-ctrl needs dhchap (the host authenticates first)",
			arg->opt, copy);
		goto out;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* ---- --ns SPEC... ---- */

static int cfg_args_namespaces(struct cfg_subsys *s, const struct cfg_args *a, char *err, size_t errlen)
{
	static const struct cfg_arg def = { "", "mem:1G" };
	const struct cfg_arg *spec = a->nr_ns ? a->ns : &def;
	size_t n = a->nr_ns ? a->nr_ns : 1;
	char msg[256];
	uint32_t next = 1;

	for (size_t i = 0; i < n; i++) {
		struct cfg_ns *ns = cfg_add_ns(s);
		struct ns_build b;

		if (!ns)
			return cfg_err(err, errlen, "out of memory");
		if (ns_parse_spec(ns, &b, spec[i].val, msg, sizeof(msg)) || ns_finish(&b, msg, sizeof(msg)))
			return cfg_err(err, errlen, "%s '%s': %s", spec[i].opt, spec[i].val, msg);
	}
	/* Explicit nsid= first, then number the rest from 1, skipping taken IDs. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (s->ns[i].nsid && s->ns[i].nsid == s->ns[j].nsid)
				return cfg_err(err, errlen, "%s '%s': nsid %" PRIu32 " is already used by '%s'",
					       spec[i].opt, spec[i].val, s->ns[i].nsid, spec[j].val);
	for (size_t i = 0; i < n; i++) {
		bool taken;

		if (s->ns[i].nsid)
			continue;
		do {
			taken = false;
			for (size_t j = 0; j < n; j++)
				taken |= s->ns[j].nsid == next;
			if (taken)
				next++;
		} while (taken);
		s->ns[i].nsid = next++;
	}
	return 0;
}

/* --dhchap-hashes / --dhchap-dhgroups: comma-separated names. */
static int cfg_args_mask(uint8_t *mask, bool hash, const struct cfg_arg *arg, char *err, size_t errlen)
{
	char *copy, *tok, *save = NULL, msg[256];
	int ret = 0;

	if (!arg->val)
		return 0;
	copy = strdup(arg->val);
	if (!copy)
		return cfg_err(err, errlen, "out of memory");
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
		if (cfg_mask_add(mask, hash, tok, msg, sizeof(msg)))
			ret = cfg_err(err, errlen, "%s '%s': %s", arg->opt, arg->val, msg);
	if (!ret && !*mask)
		ret = cfg_err(err, errlen, "%s '%s': must list at least one", arg->opt, arg->val);
	free(copy);
	return ret;
}

int cfg_args_build(struct nvr_config *cfg, const struct cfg_args *a, char *err, size_t errlen)
{
	struct cfg_subsys *s = cfg_add_subsys(cfg);
	char msg[256];

	if (!s)
		return cfg_err(err, errlen, "out of memory");
	if (a->nqn.val) {
		if (cfg_nqn_check(a->nqn.val, msg, sizeof(msg)))
			return cfg_err(err, errlen, "%s '%s': %s", a->nqn.opt, a->nqn.val, msg);
		if (!strcmp(a->nqn.val, CFG_DISC_NQN))
			return cfg_err(err, errlen, "%s '%s': that is the discovery subsystem's NQN",
				       a->nqn.opt, a->nqn.val);
	}
	strcpy(s->nqn, a->nqn.val ? a->nqn.val : NVR_CFG_DEFAULT_NQN);
	if (cfg_args_mask(&s->dhchap_hashes, true, &a->hashes, err, errlen) ||
	    cfg_args_mask(&s->dhchap_dhgroups, false, &a->dhgroups, err, errlen))
		return -1;
	for (size_t i = 0; i < a->nr_hosts; i++)
		if (cfg_host_spec(cfg, s, &a->hosts[i], err, errlen))
			return -1;
	s->allow_any_host = a->nr_hosts == 0;
	if (cfg_args_namespaces(s, a, err, errlen) || cfg_args_ports(cfg, a, err, errlen))
		return -1;
	return cfg_finalize(cfg, err, errlen);
}
