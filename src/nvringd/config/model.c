/* SPDX-License-Identifier: MIT */
/*
 * The configuration model: items with their defaults, freeing, lookups, and the checks that
 * need the whole config (finalize). Per-item syntax was checked where each item was read.
 */
#include "cfg_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void *cfg_grow(void *arr, size_t nr, size_t elem)
{
	char *p = realloc(arr, (nr + 1) * elem);

	if (p)
		memset(p + nr * elem, 0, elem);
	return p;
}

int cfg_strv_push(char ***v, size_t *nr, const char *s)
{
	char **nv = cfg_grow(*v, *nr, sizeof(char *));
	char *copy;

	if (!nv)
		return -ENOMEM;
	*v = nv;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	nv[(*nr)++] = copy;
	return 0;
}

void cfg_strv_free(char **v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(v[i]);
	free(v);
}

bool cfg_strv_has(char *const *v, size_t nr, const char *s)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

int cfg_dup(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

/* ---- items ---- */

void cfg_subsys_init(struct cfg_subsys *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->model, "nvring");
	s->cntlid_min = 1;
	s->cntlid_max = CFG_CNTLID_MAX;
	s->allow_any_host = true;
	s->dhchap_hashes = CFG_DHCHAP_HASHES_ALL;
	s->dhchap_dhgroups = CFG_DHCHAP_DHGROUPS_ALL;
}

void cfg_port_init(struct cfg_port *p)
{
	memset(p, 0, sizeof(*p));
	p->inline_data_size = -1;
	p->max_queue_size = -1;
}

void cfg_host_init(struct cfg_host *h)
{
	memset(h, 0, sizeof(*h));
	h->dhchap_hash = CFG_HASH_SHA256;
	h->dhchap_dhgroup = CFG_DHGROUP_NULL;
}

struct cfg_subsys *cfg_add_subsys(struct nvr_config *cfg)
{
	struct cfg_subsys *s = cfg_grow(cfg->subsys, cfg->nr_subsys, sizeof(*s));

	if (!s)
		return NULL;
	cfg->subsys = s;
	s = &cfg->subsys[cfg->nr_subsys++];
	cfg_subsys_init(s);
	return s;
}

struct cfg_port *cfg_add_port(struct nvr_config *cfg)
{
	struct cfg_port *p = cfg_grow(cfg->ports, cfg->nr_ports, sizeof(*p));

	if (!p)
		return NULL;
	cfg->ports = p;
	p = &cfg->ports[cfg->nr_ports++];
	cfg_port_init(p);
	return p;
}

struct cfg_host *cfg_add_host(struct nvr_config *cfg)
{
	struct cfg_host *h = cfg_grow(cfg->hosts, cfg->nr_hosts, sizeof(*h));

	if (!h)
		return NULL;
	cfg->hosts = h;
	h = &cfg->hosts[cfg->nr_hosts++];
	cfg_host_init(h);
	return h;
}

struct cfg_ns *cfg_add_ns(struct cfg_subsys *s)
{
	struct cfg_ns *ns = cfg_grow(s->ns, s->nr_ns, sizeof(*ns));

	if (!ns)
		return NULL;
	s->ns = ns;
	return &s->ns[s->nr_ns++];
}

void nvr_config_subsys_free(struct cfg_subsys *s)
{
	cfg_strv_free(s->allowed_hosts, s->nr_allowed_hosts);
	for (size_t i = 0; i < s->nr_ns; i++)
		nvr_config_ns_free(&s->ns[i]);
	free(s->ns);
	memset(s, 0, sizeof(*s));
}

void nvr_config_port_free(struct cfg_port *p)
{
	free(p->subsys);
	for (size_t i = 0; i < p->nr_referrals; i++)
		free(p->referrals[i].name);
	free(p->referrals);
	free(p->ana_groups);
	memset(p, 0, sizeof(*p));
}

void nvr_config_host_free(struct cfg_host *h)
{
	cfg_secret_free(&h->dhchap_key);
	cfg_secret_free(&h->dhchap_ctrl_key);
	cfg_secret_free(&h->psk);
	memset(h, 0, sizeof(*h));
}

/* Ports, subsystems and hosts only: what a JSON file replaces. */
void cfg_free_topology(struct nvr_config *cfg)
{
	for (size_t i = 0; i < cfg->nr_ports; i++)
		nvr_config_port_free(&cfg->ports[i]);
	free(cfg->ports);
	for (size_t i = 0; i < cfg->nr_subsys; i++)
		nvr_config_subsys_free(&cfg->subsys[i]);
	free(cfg->subsys);
	for (size_t i = 0; i < cfg->nr_hosts; i++)
		nvr_config_host_free(&cfg->hosts[i]);
	free(cfg->hosts);
	cfg->ports = NULL;
	cfg->subsys = NULL;
	cfg->hosts = NULL;
	cfg->nr_ports = cfg->nr_subsys = cfg->nr_hosts = 0;
}

int nvr_config_init(struct nvr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->threads = cfg_online_cpus();
	cfg->max_connections = 16384;
	cfg->max_connections_per_host = 1024;
	cfg->max_inflight_bytes = 1ull << 30;
	cfg->max_inflight_bytes_per_conn = 32ull << 20;
	cfg->icreq_timeout_ms = 10000;
	cfg->connect_timeout_ms = 10000;
	cfg->pdu_timeout_ms = 10000;
	cfg->listen_backlog = cfg_default_backlog();
	cfg->rpc_socket = strdup(NVR_CFG_DEFAULT_RPC_SOCKET);
	return cfg->rpc_socket ? 0 : -ENOMEM;
}

void nvr_config_free(struct nvr_config *cfg)
{
	if (!cfg)
		return;
	cfg_free_topology(cfg);
	free(cfg->config_file);
	free(cfg->rpc_socket);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- lookups ---- */

bool nvr_config_port_has_subsys(const struct cfg_port *port, size_t si)
{
	if (port->all_subsys)
		return true;
	for (size_t i = 0; i < port->nr_subsys; i++)
		if (port->subsys[i] == si)
			return true;
	return false;
}

enum cfg_ana_state nvr_config_port_ana_state(const struct cfg_port *port, uint32_t grpid)
{
	for (size_t i = 0; i < port->nr_ana_groups; i++)
		if (port->ana_groups[i].grpid == grpid)
			return port->ana_groups[i].state;
	/* nvmet's defaults: the default group is optimized, any other inaccessible */
	return grpid == NVR_CFG_DEFAULT_ANA_GRPID ? CFG_ANA_OPTIMIZED : CFG_ANA_INACCESSIBLE;
}

long nvr_config_find_subsys(const struct nvr_config *cfg, const char *nqn)
{
	for (size_t i = 0; i < cfg->nr_subsys; i++)
		if (!strcmp(cfg->subsys[i].nqn, nqn))
			return (long)i;
	return -1;
}

long nvr_config_find_host(const struct nvr_config *cfg, const char *nqn)
{
	for (size_t i = 0; i < cfg->nr_hosts; i++)
		if (!strcmp(cfg->hosts[i].nqn, nqn))
			return (long)i;
	return -1;
}

bool cfg_ana_group_defined(const struct nvr_config *cfg, uint32_t grpid)
{
	if (grpid == NVR_CFG_DEFAULT_ANA_GRPID)
		return true;
	for (size_t i = 0; i < cfg->nr_ports; i++)
		for (size_t k = 0; k < cfg->ports[i].nr_ana_groups; k++)
			if (cfg->ports[i].ana_groups[k].grpid == grpid)
				return true;
	return false;
}

static bool cfg_addr_is_any(const struct cfg_port *p)
{
	return !strcmp(p->addr, p->family == AF_INET6 ? "::" : "0.0.0.0");
}

/*
 * The kernel would refuse the second bind, and a subsystem meant for one address would leak to
 * the other. Port 0 never clashes: the kernel picks a distinct port for each.
 */
long cfg_port_clash(const struct cfg_port *ports, size_t n, const struct cfg_port *p, bool *same)
{
	for (size_t j = 0; j < n && p->port; j++) {
		const struct cfg_port *q = &ports[j];

		if (q == p || q->port != p->port || q->family != p->family)
			continue;
		*same = !strcmp(q->addr, p->addr);
		if (*same || cfg_addr_is_any(p) || cfg_addr_is_any(q))
			return (long)j;
	}
	return -1;
}

/* Searches the namespaces before ns if ns is in cfg, else all of them. */
bool cfg_ns_id_clash(const struct nvr_config *cfg, const struct cfg_ns *ns, size_t *si, size_t *k,
		     const char **what)
{
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		for (size_t l = 0; l < cfg->subsys[i].nr_ns; l++) {
			const struct cfg_ns *b = &cfg->subsys[i].ns[l];

			if (b == ns)
				return false;
			*what = !memcmp(ns->uuid, b->uuid, 16) ? "uuid" :
				!memcmp(ns->nguid, b->nguid, 16) ? "nguid" : NULL;
			if (*what) {
				*si = i;
				*k = l;
				return true;
			}
		}
	}
	return false;
}

/*
 * Checks across the whole config, and the identifiers derived from names. Per-item checks
 * (syntax, ranges, references) were done where each item was read, with its own location.
 */
int cfg_finalize(struct nvr_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->nr_ports; i++)
		cfg->ports[i].discovery_only = !cfg->ports[i].all_subsys && cfg->ports[i].nr_subsys == 0;
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		struct cfg_subsys *s = &cfg->subsys[i];

		if (!s->serial[0])
			cfg_gen_serial(s->nqn, s->serial);
		for (size_t j = 0; j < s->nr_ns; j++)
			cfg_gen_ns_ids(s->nqn, &s->ns[j]);
	}
	/* The spec wants namespace UUIDs/NGUIDs unique; only given ones can collide. */
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		for (size_t j = 0; j < cfg->subsys[i].nr_ns; j++) {
			const struct cfg_ns *a = &cfg->subsys[i].ns[j];
			const char *what;
			size_t k, l;

			if (cfg_ns_id_clash(cfg, a, &k, &l, &what))
				return cfg_err(err, errlen,
					       "namespace %" PRIu32 " of %s has the same %s as namespace %" PRIu32 " of %s",
					       a->nsid, cfg->subsys[i].nqn, what, cfg->subsys[k].ns[l].nsid,
					       cfg->subsys[k].nqn);
		}
	}
	for (size_t i = 0; i < cfg->nr_subsys; i++)
		for (size_t j = 0; j < cfg->subsys[i].nr_ns; j++)
			if (!cfg_ana_group_defined(cfg, cfg->subsys[i].ns[j].ana_grpid))
				return cfg_err(err, errlen, "namespace %" PRIu32 " of %s: ANA group %" PRIu32
					       " is not defined on any port", cfg->subsys[i].ns[j].nsid,
					       cfg->subsys[i].nqn, cfg->subsys[i].ns[j].ana_grpid);
	return 0;
}

/* nvmet's rules: TLS 1.3 offered means the port says whether it is required; requiring a
 * secure channel that is not offered means nothing can connect. */
int cfg_port_tls_check(enum cfg_treq treq, enum cfg_tsas tsas, char *msg, size_t msglen)
{
	if (tsas == CFG_TSAS_TLS13 && treq == CFG_TREQ_NOT_SPECIFIED)
		return cfg_err(msg, msglen, "must be \"required\" or \"not required\" with tsas \"tls1.3\"");
	if (tsas == CFG_TSAS_NONE && treq == CFG_TREQ_REQUIRED)
		return cfg_err(msg, msglen, "\"required\" needs tsas \"tls1.3\"");
	return 0;
}

/* Relations between a host's fields; *field names the one at fault. */
int cfg_host_check(const struct cfg_host *h, char *msg, size_t msglen, const char **field)
{
	*field = "dhchap_ctrl_key";
	if (h->dhchap_ctrl_key.value && !h->dhchap_key.value)
		return cfg_err(msg, msglen, "needs dhchap_key (the host authenticates first)");
	return 0;
}

bool nvr_config_dhchap_key_valid(const char *s)
{
	return cfg_dhchap_key_valid(s);
}
