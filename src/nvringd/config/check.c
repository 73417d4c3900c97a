/* SPDX-License-Identifier: MIT */
/*
 * One addition to a live model (the control plane's ns_add, subsystem_create, host_add,
 * listener_add): would it clash with what is there, and moving it in.
 */
#include "cfg_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* "where.key: message" ("key: message" without where, "where: message" without key). */
static int cfg_werr(char *err, size_t errlen, const char *where, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int cfg_werr(char *err, size_t errlen, const char *where, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where = where ? where : "";
	return cfg_err(err, errlen, "%s%s%s%s%s", where, *where && key ? "." : "", key ? key : "",
		       *where || key ? ": " : "", msg);
}

static int cfg_check_ns_ids(const struct nvr_config *cfg, const struct cfg_ns *ns, const char *nqn,
			    char *err, size_t errlen)
{
	const char *what;
	size_t k, l;

	if (cfg_ns_id_clash(cfg, ns, &k, &l, &what))
		return cfg_err(err, errlen,
			       "namespace %" PRIu32 " of %s has the same %s as namespace %" PRIu32 " of %s",
			       ns->nsid, nqn, what, cfg->subsys[k].ns[l].nsid, cfg->subsys[k].nqn);
	return 0;
}

int nvr_config_check_ns(const struct nvr_config *cfg, size_t si, const struct cfg_ns *ns,
			const char *where, char *err, size_t errlen)
{
	const struct cfg_subsys *s;

	if (si >= cfg->nr_subsys)
		return cfg_werr(err, errlen, where, NULL, "no subsystem %zu", si);
	s = &cfg->subsys[si];
	for (size_t k = 0; k < s->nr_ns; k++)
		if (ns->nsid && s->ns[k].nsid == ns->nsid)
			return cfg_werr(err, errlen, where, "nsid", "%" PRIu32 " is also namespaces[%zu]",
					ns->nsid, k);
	if (!cfg_ana_group_defined(cfg, ns->ana_grpid))
		return cfg_werr(err, errlen, where, "ana_grpid", "ANA group %" PRIu32 " is not defined on any port",
				ns->ana_grpid);
	return cfg_check_ns_ids(cfg, ns, s->nqn, err, errlen);
}

int nvr_config_add_ns(struct nvr_config *cfg, size_t si, struct cfg_ns *ns, const char *where,
		      char *err, size_t errlen)
{
	struct cfg_ns n = *ns, *slot;
	struct cfg_subsys *s;

	if (si >= cfg->nr_subsys)
		return cfg_werr(err, errlen, where, NULL, "no subsystem %zu", si);
	s = &cfg->subsys[si];
	/* the lowest free NSID, as nvmet's and SPDK's ns_add without one */
	for (bool taken = !n.nsid; taken;) {
		n.nsid++;
		taken = false;
		for (size_t k = 0; k < s->nr_ns; k++)
			taken |= s->ns[k].nsid == n.nsid;
	}
	cfg_gen_ns_ids(s->nqn, &n);
	if (nvr_config_check_ns(cfg, si, &n, where, err, errlen))
		return -1;
	slot = cfg_add_ns(s);
	if (!slot)
		return cfg_werr(err, errlen, where, NULL, "out of memory");
	*slot = n;
	memset(ns, 0, sizeof(*ns));
	return 0;
}

int nvr_config_check_subsys(const struct nvr_config *cfg, const struct cfg_subsys *s,
			    const char *where, char *err, size_t errlen)
{
	long i = nvr_config_find_subsys(cfg, s->nqn);

	if (!strcmp(s->nqn, CFG_DISC_NQN))
		return cfg_werr(err, errlen, where, "nqn", "'%s' is the discovery subsystem's NQN", s->nqn);
	if (i >= 0 && &cfg->subsys[i] != s)
		return cfg_werr(err, errlen, where, "nqn", "'%s' is also subsystems[%ld]", s->nqn, i);
	for (size_t k = 0; k < s->nr_allowed_hosts; k++) {
		char key[40];

		snprintf(key, sizeof(key), "allowed_hosts[%zu]", k);
		if (nvr_config_find_host(cfg, s->allowed_hosts[k]) < 0)
			return cfg_werr(err, errlen, where, key, "'%s' is not in \"hosts\"", s->allowed_hosts[k]);
	}
	for (size_t k = 0; k < s->nr_ns; k++) {
		char key[40];

		snprintf(key, sizeof(key), "namespaces[%zu]", k);
		for (size_t l = 0; l < k; l++)
			if (s->ns[l].nsid == s->ns[k].nsid)
				return cfg_werr(err, errlen, where, key, "nsid %" PRIu32 " is also namespaces[%zu]",
						s->ns[k].nsid, l);
		if (!cfg_ana_group_defined(cfg, s->ns[k].ana_grpid))
			return cfg_werr(err, errlen, where, key, "ANA group %" PRIu32 " is not defined on any port",
					s->ns[k].ana_grpid);
		if (cfg_check_ns_ids(cfg, &s->ns[k], s->nqn, err, errlen))
			return -1;
	}
	return 0;
}

int nvr_config_add_subsys(struct nvr_config *cfg, struct cfg_subsys *s, const char *where,
			  char *err, size_t errlen)
{
	struct cfg_subsys *arr;

	if (!s->serial[0])
		cfg_gen_serial(s->nqn, s->serial);
	for (size_t k = 0; k < s->nr_ns; k++) {
		uint32_t next = 0;

		for (bool taken = !s->ns[k].nsid; taken;) {
			next++;
			taken = false;
			for (size_t l = 0; l < s->nr_ns; l++)
				taken |= s->ns[l].nsid == next;
		}
		if (next)
			s->ns[k].nsid = next;
		cfg_gen_ns_ids(s->nqn, &s->ns[k]);
	}
	if (nvr_config_check_subsys(cfg, s, where, err, errlen))
		return -1;
	arr = cfg_grow(cfg->subsys, cfg->nr_subsys, sizeof(*arr));
	if (!arr)
		return cfg_werr(err, errlen, where, NULL, "out of memory");
	cfg->subsys = arr;
	arr[cfg->nr_subsys++] = *s;
	memset(s, 0, sizeof(*s)); /* a flags-mode port that exports all subsystems has it now too */
	return 0;
}

int nvr_config_check_host(const struct nvr_config *cfg, const struct cfg_host *h,
			  const char *where, char *err, size_t errlen)
{
	long i = nvr_config_find_host(cfg, h->nqn);
	const char *field;
	char msg[256];

	if (i >= 0 && &cfg->hosts[i] != h)
		return cfg_werr(err, errlen, where, "nqn", "'%s' is also hosts[%ld]", h->nqn, i);
	if (cfg_host_check(h, msg, sizeof(msg), &field))
		return cfg_werr(err, errlen, where, field, "%s", msg);
	return 0;
}

int nvr_config_add_host(struct nvr_config *cfg, struct cfg_host *h, const char *where,
			char *err, size_t errlen)
{
	struct cfg_host *arr;

	if (nvr_config_check_host(cfg, h, where, err, errlen))
		return -1;
	arr = cfg_grow(cfg->hosts, cfg->nr_hosts, sizeof(*arr));
	if (!arr)
		return cfg_werr(err, errlen, where, NULL, "out of memory");
	cfg->hosts = arr;
	arr[cfg->nr_hosts++] = *h;
	memset(h, 0, sizeof(*h));
	return 0;
}

int nvr_config_check_port(const struct nvr_config *cfg, const struct cfg_port *p,
			  const char *where, char *err, size_t errlen)
{
	bool same;
	long dup;
	bool v6 = p->family == AF_INET6;

	for (size_t i = 0; i < cfg->nr_ports; i++)
		if (&cfg->ports[i] != p && cfg->ports[i].portid == p->portid)
			return cfg_werr(err, errlen, where, "portid", "%u is also ports[%zu]", p->portid, i);
	dup = cfg_port_clash(cfg->ports, cfg->nr_ports, p, &same);
	if (dup >= 0)
		return cfg_werr(err, errlen, where, "addr", "%s%s%s:%u %s ports[%ld]", v6 ? "[" : "", p->addr,
				v6 ? "]" : "", p->port, same ? "is also" : "overlaps (wildcard address) with", dup);
	if (cfg->metrics.enabled && cfg->metrics.port == p->port && cfg->metrics.family == p->family &&
	    !strcmp(cfg->metrics.addr, p->addr) && p->port)
		return cfg_werr(err, errlen, where, "addr", "%s%s%s:%u is also the metrics address",
				v6 ? "[" : "", p->addr, v6 ? "]" : "", p->port);
	for (size_t k = 0; k < p->nr_subsys; k++)
		if (p->subsys[k] >= cfg->nr_subsys)
			return cfg_werr(err, errlen, where, "subsystems", "no subsystem %zu", p->subsys[k]);
	return 0;
}

int nvr_config_add_port(struct nvr_config *cfg, struct cfg_port *p, const char *where,
			char *err, size_t errlen)
{
	struct cfg_port *arr;

	if (nvr_config_check_port(cfg, p, where, err, errlen))
		return -1;
	arr = cfg_grow(cfg->ports, cfg->nr_ports, sizeof(*arr));
	if (!arr)
		return cfg_werr(err, errlen, where, NULL, "out of memory");
	cfg->ports = arr;
	p->discovery_only = !p->all_subsys && p->nr_subsys == 0;
	arr[cfg->nr_ports++] = *p;
	memset(p, 0, sizeof(*p));
	return 0;
}

int nvr_config_allow_host(struct nvr_config *cfg, size_t si, const char *hostnqn,
			  const char *where, char *err, size_t errlen)
{
	struct cfg_subsys *s;

	if (si >= cfg->nr_subsys)
		return cfg_werr(err, errlen, where, NULL, "no subsystem %zu", si);
	s = &cfg->subsys[si];
	if (nvr_config_find_host(cfg, hostnqn) < 0)
		return cfg_werr(err, errlen, where, NULL, "'%s' is not in \"hosts\"", hostnqn);
	if (cfg_strv_has(s->allowed_hosts, s->nr_allowed_hosts, hostnqn))
		return cfg_werr(err, errlen, where, NULL, "'%s' is already allowed into %s", hostnqn, s->nqn);
	/* as nvmet: a list of allowed hosts means nothing while any host may connect */
	if (s->allow_any_host)
		return cfg_werr(err, errlen, where, NULL, "%s lets any host in (allow_any_host): "
				"turn that off first", s->nqn);
	if (cfg_strv_push(&s->allowed_hosts, &s->nr_allowed_hosts, hostnqn))
		return cfg_werr(err, errlen, where, NULL, "out of memory");
	return 0;
}
