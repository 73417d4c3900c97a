/* SPDX-License-Identifier: MIT */
/* The model as a few readable lines for -v at start-up. Secrets are never printed: only
 * whether a key is set, and the file it came from. */
#include "cfg_int.h"

#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

static void cfg_print_uuid(FILE *out, const uint8_t u[16])
{
	for (int i = 0; i < 16; i++)
		fprintf(out, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", u[i]);
}

static void cfg_print_settings(FILE *out, const struct nvr_config *cfg)
{
	char buf[128];

	fputs("settings:", out);
	for (size_t i = 1; i < cfg_nr_settings; i++) /* threads is on the line above */
		fprintf(out, " %s %s", cfg_settings[i].flag + 2, cfg_setting_fmt(&cfg_settings[i], cfg, buf, sizeof(buf)));
	fputc('\n', out);
}

static void cfg_print_secret(FILE *out, const char *what, const struct cfg_secret *s)
{
	if (!s->value)
		return;
	fprintf(out, " %s", what);
	if (s->file)
		fprintf(out, " (%s)", s->file);
}

static void cfg_print_host(FILE *out, const struct cfg_host *h)
{
	fprintf(out, "host %s:", h->nqn);
	cfg_print_secret(out, "dhchap-key", &h->dhchap_key);
	cfg_print_secret(out, "dhchap-ctrl-key", &h->dhchap_ctrl_key);
	if (h->dhchap_key.value)
		fprintf(out, " %s %s", nvr_config_hash_name(h->dhchap_hash),
			nvr_config_dhgroup_name(h->dhchap_dhgroup));
	cfg_print_secret(out, "psk", &h->psk);
	if (!h->dhchap_key.value && !h->psk.value)
		fputs(" no keys", out);
	fputc('\n', out);
}

static void cfg_print_port(FILE *out, const struct nvr_config *cfg, const struct cfg_port *p)
{
	bool v6 = p->family == AF_INET6;

	fprintf(out, "port %u: %s%s%s:%u", p->portid, v6 ? "[" : "", p->addr, v6 ? "]" : "", p->port);
	if (p->discovery_only)
		fputs(" discovery only", out);
	else if (p->all_subsys)
		fputs(" all subsystems", out);
	for (size_t k = 0; k < p->nr_subsys; k++)
		fprintf(out, " %s", cfg->subsys[p->subsys[k]].nqn);
	if (p->tsas == CFG_TSAS_TLS13)
		fprintf(out, " tls %s", p->treq == CFG_TREQ_REQUIRED ? "required" : "optional");
	for (size_t k = 0; k < p->nr_ana_groups; k++)
		fprintf(out, "%s%u:%s", k ? "," : " ana ", p->ana_groups[k].grpid,
			nvr_config_ana_state_name(p->ana_groups[k].state));
	for (size_t k = 0; k < p->nr_referrals; k++) {
		const struct cfg_referral *r = &p->referrals[k];
		bool r6 = r->family == AF_INET6;

		fprintf(out, " referral %s%s%s:%u%s", r6 ? "[" : "", r->addr, r6 ? "]" : "", r->port,
			r->enabled ? "" : " (disabled)");
	}
	fputc('\n', out);
}

static void cfg_print_ns(FILE *out, const struct cfg_ns *ns)
{
	fprintf(out, "  ns %" PRIu32 ": %s%s%s size %" PRIu64 " bs %u%s%s%s%s uuid ", ns->nsid,
		ns->kind, ns->path ? ":" : "", ns->path ? ns->path : "", ns->size, ns->lba_size,
		ns->buffered ? " buffered" : "", ns->readonly ? " ro" : "",
		ns->kvssd_compat ? " kvssd-compat" : "", ns->enabled ? "" : " disabled");
	cfg_print_uuid(out, ns->uuid);
	if (ns->pool)
		fprintf(out, " pool %s%s%s%s%s", ns->pool, ns->rados_ns ? " namespace " : "",
			ns->rados_ns ? ns->rados_ns : "", ns->image ? " image " : "", ns->image ? ns->image : "");
	if (ns->ceph_conf || ns->ceph_id || ns->ceph_cluster)
		fprintf(out, " ceph%s%s%s%s%s%s", ns->ceph_conf ? " conf " : "", ns->ceph_conf ? ns->ceph_conf : "",
			ns->ceph_id ? " id " : "", ns->ceph_id ? ns->ceph_id : "",
			ns->ceph_cluster ? " cluster " : "", ns->ceph_cluster ? ns->ceph_cluster : "");
	if (ns->ceph_connect_timeout || ns->ceph_op_timeout)
		fprintf(out, " timeouts connect %u op %u", ns->ceph_connect_timeout, ns->ceph_op_timeout);
	if (ns->kv_shards)
		fprintf(out, " shards %u", ns->kv_shards);
	if (ns->vwc)
		fputs(" vwc", out);
	if (ns->ana_grpid != NVR_CFG_DEFAULT_ANA_GRPID)
		fprintf(out, " ana_grpid %" PRIu32, ns->ana_grpid);
	fputc('\n', out);
}

void nvr_config_print(FILE *out, const struct nvr_config *cfg)
{
	fprintf(out, "threads %u, verbose %u%s%s%s\n", cfg->threads, cfg->verbose,
		cfg->poll ? ", poll" : "", cfg->config_file ? ", config " : "",
		cfg->config_file ? cfg->config_file : "");
	cfg_print_settings(out, cfg);
	for (size_t i = 0; i < cfg->nr_hosts; i++)
		cfg_print_host(out, &cfg->hosts[i]);
	for (size_t i = 0; i < cfg->nr_ports; i++)
		cfg_print_port(out, cfg, &cfg->ports[i]);
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		const struct cfg_subsys *s = &cfg->subsys[i];

		fprintf(out, "subsystem %s: serial %s, model '%s', %s", s->nqn, s->serial, s->model,
			s->allow_any_host ? "any host" : "hosts:");
		for (size_t k = 0; k < s->nr_allowed_hosts; k++)
			fprintf(out, " %s", s->allowed_hosts[k]);
		if (s->dhchap_hashes != CFG_DHCHAP_HASHES_ALL || s->dhchap_dhgroups != CFG_DHCHAP_DHGROUPS_ALL) {
			fputs(", dhchap", out);
			for (int b = 0; b < 8; b++)
				if (s->dhchap_hashes & (1u << b))
					fprintf(out, " %s", nvr_config_hash_name((enum cfg_dhchap_hash)b));
			for (int b = 0; b < 8; b++)
				if (s->dhchap_dhgroups & (1u << b))
					fprintf(out, " %s", nvr_config_dhgroup_name((enum cfg_dhgroup)b));
		}
		fputc('\n', out);
		for (size_t k = 0; k < s->nr_ns; k++)
			cfg_print_ns(out, &s->ns[k]);
	}
}
