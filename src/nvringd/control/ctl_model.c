/* SPDX-License-Identifier: MIT */
/* Removing items from the running configuration (the config API checks and adds them). */
#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"

void ctl_cfg_remove_ns(struct nvr_config *cfg, size_t si, size_t k)
{
	struct cfg_subsys *s = &cfg->subsys[si];

	nvr_config_ns_free(&s->ns[k]);
	memmove(&s->ns[k], &s->ns[k + 1], (s->nr_ns - k - 1) * sizeof(s->ns[0]));
	s->nr_ns--;
}

static void ctl_cfg_drop_unused_host(struct nvr_config *cfg, const char *hostnqn)
{
	long hi = nvr_config_find_host(cfg, hostnqn);

	if (hi < 0 || ctl_cfg_host_used(cfg, hostnqn))
		return;
	nvr_config_host_free(&cfg->hosts[hi]);
	memmove(&cfg->hosts[hi], &cfg->hosts[hi + 1], (cfg->nr_hosts - (size_t)hi - 1) * sizeof(cfg->hosts[0]));
	cfg->nr_hosts--;
}

void ctl_cfg_remove_subsys(struct nvr_config *cfg, size_t si)
{
	struct cfg_subsys gone = cfg->subsys[si];

	/* its hosts entries go with it when no other subsystem allows them */
	memmove(&cfg->subsys[si], &cfg->subsys[si + 1], (cfg->nr_subsys - si - 1) * sizeof(cfg->subsys[0]));
	cfg->nr_subsys--;
	for (size_t k = 0; k < gone.nr_allowed_hosts; k++)
		ctl_cfg_drop_unused_host(cfg, gone.allowed_hosts[k]);
	nvr_config_subsys_free(&gone);
	/* ports name subsystems by index: drop this one, renumber the ones after it */
	for (size_t pi = 0; pi < cfg->nr_ports; pi++) {
		struct cfg_port *p = &cfg->ports[pi];
		size_t n = 0;

		for (size_t k = 0; k < p->nr_subsys; k++) {
			if (p->subsys[k] == si)
				continue;
			p->subsys[n++] = p->subsys[k] > si ? p->subsys[k] - 1 : p->subsys[k];
		}
		p->nr_subsys = n;
	}
}

void ctl_cfg_remove_port(struct nvr_config *cfg, size_t pi)
{
	nvr_config_port_free(&cfg->ports[pi]);
	memmove(&cfg->ports[pi], &cfg->ports[pi + 1], (cfg->nr_ports - pi - 1) * sizeof(cfg->ports[0]));
	cfg->nr_ports--;
}

int ctl_cfg_port_list_all(struct nvr_config *cfg, size_t pi)
{
	struct cfg_port *p = &cfg->ports[pi];
	size_t *idx;

	if (!p->all_subsys)
		return 0;
	idx = calloc(cfg->nr_subsys + 1, sizeof(*idx));
	if (!idx)
		return -1;
	for (size_t si = 0; si < cfg->nr_subsys; si++)
		idx[si] = si;
	free(p->subsys);
	p->subsys = idx;
	p->nr_subsys = cfg->nr_subsys;
	p->all_subsys = false;
	return 0;
}

bool ctl_cfg_host_used(const struct nvr_config *cfg, const char *hostnqn)
{
	for (size_t si = 0; si < cfg->nr_subsys; si++)
		for (size_t k = 0; k < cfg->subsys[si].nr_allowed_hosts; k++)
			if (!strcmp(cfg->subsys[si].allowed_hosts[k], hostnqn))
				return true;
	return false;
}

void ctl_cfg_disallow_host(struct nvr_config *cfg, size_t si, const char *hostnqn)
{
	struct cfg_subsys *s = &cfg->subsys[si];

	for (size_t k = 0; k < s->nr_allowed_hosts; k++) {
		if (strcmp(s->allowed_hosts[k], hostnqn))
			continue;
		free(s->allowed_hosts[k]);
		memmove(&s->allowed_hosts[k], &s->allowed_hosts[k + 1],
			(s->nr_allowed_hosts - k - 1) * sizeof(s->allowed_hosts[0]));
		s->nr_allowed_hosts--;
		break;
	}
	ctl_cfg_drop_unused_host(cfg, hostnqn);
}
