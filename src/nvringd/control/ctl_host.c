/* SPDX-License-Identifier: MIT */
/*
 * host_add / host_remove / host_set_keys. A subsystem's allowed hosts and their keys are a
 * published table (subsys.h): a new table is built from the configuration, published, and
 * the old one freed after a grace period. New Connects see the new table at once; a removed
 * host's controllers are torn down; a host whose keys changed keeps its authenticated queues
 * until it re-authenticates (cmd/auth.c takes the new keys then).
 */
#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"
#include "ctrl.h"
#include "log.h"
#include "ns/registry.h"
#include "rpc/rpc.h"
#include "setup.h"
#include "target.h"
#include "topo.h"

static bool ctl_host_allowed(const struct cfg_subsys *cs, const char *hostnqn)
{
	for (size_t k = 0; k < cs->nr_allowed_hosts; k++)
		if (!strcmp(cs->allowed_hosts[k], hostnqn))
			return true;
	return false;
}

/* Replace subsystem si's host table with ht; the old one goes after a grace period. */
static void ctl_hosts_publish(struct ctl *c, size_t si, struct host_table *ht)
{
	struct nvr_subsys *s = c->tgt->subsys[si];
	struct host_table *old = atomic_exchange_explicit(&s->hosts, ht, memory_order_acq_rel);

	registry_sync(c->tgt);
	host_table_free(old);
}

int ctl_host_add(struct ctl *c, const char *nqn, struct cfg_host *h, bool has_keys, struct ctl_err *e)
{
	struct nvr_config *cfg = c->cfg;
	long si = ctl_subsys_find(c, nqn, e);
	char hostnqn[NVR_CFG_NQN_SIZE], err[512];
	struct host_table *ht;
	struct cfg_subsys *cs;
	bool known;

	if (si < 0)
		return -1;
	cs = &cfg->subsys[si];
	snprintf(hostnqn, sizeof(hostnqn), "%s", h->nqn);
	known = nvr_config_find_host(cfg, hostnqn) >= 0;
	if (cs->allow_any_host)
		return ctl_fail(e, RPC_ERR_STATE, "'%s' lets any host in (allow_any_host): hosts are listed only on "
				"a subsystem created with \"allow_any_host\": false", nqn);
	if (ctl_host_allowed(cs, hostnqn))
		return ctl_fail(e, RPC_ERR_EXISTS, "host '%s' is already allowed into '%s'", hostnqn, nqn);
	if (known && has_keys)
		return ctl_fail(e, RPC_ERR_EXISTS, "host '%s' is already known with its keys (host_set_keys changes them)",
				hostnqn);
	if (!known && nvr_config_add_host(cfg, h, "params", err, sizeof(err)))
		return ctl_fail(e, RPC_ERR_INVALID_PARAMS, "%s", err);
	if (nvr_config_allow_host(cfg, (size_t)si, hostnqn, "params", err, sizeof(err))) {
		ctl_cfg_disallow_host(cfg, (size_t)si, hostnqn); /* drops the entry just added */
		return ctl_fail(e, RPC_ERR_INTERNAL, "%s", err);
	}
	ht = target_hosts_build(cfg, &cfg->subsys[si], err, sizeof(err));
	if (!ht) {
		ctl_cfg_disallow_host(cfg, (size_t)si, hostnqn);
		return ctl_fail(e, RPC_ERR_INVALID_PARAMS, "%s", err);
	}
	ctl_hosts_publish(c, (size_t)si, ht);
	topo_discovery_changed(c->tgt);
	log_info("control: host %s allowed into %s", hostnqn, nqn);
	return 0;
}

struct ctl_host_match {
	const struct nvr_subsys *s;
	const char *hostnqn;
};

static bool ctl_ctrl_of_host(const struct nvr_ctrl *ctrl, const void *arg)
{
	const struct ctl_host_match *m = arg;

	return ctrl->subsys == m->s && !strcmp(ctrl->hostnqn, m->hostnqn);
}

int ctl_host_remove(struct ctl *c, const char *nqn, const char *hostnqn, struct ctl_err *e)
{
	struct nvr_config *cfg = c->cfg;
	long si = ctl_subsys_find(c, nqn, e);
	struct ctl_host_match m;
	struct cfg_subsys view;
	struct host_table *ht;
	char err[512];
	size_t n = 0;

	if (si < 0)
		return -1;
	if (!ctl_host_allowed(&cfg->subsys[si], hostnqn))
		return ctl_fail(e, RPC_ERR_NOT_FOUND, "host '%s' is not allowed into '%s'", hostnqn, nqn);
	/* the new table first, from a view without the host: failing here changes nothing */
	view = cfg->subsys[si];
	view.allowed_hosts = calloc(view.nr_allowed_hosts, sizeof(char *));
	if (!view.allowed_hosts)
		return ctl_fail(e, RPC_ERR_INTERNAL, "out of memory");
	for (size_t k = 0; k < cfg->subsys[si].nr_allowed_hosts; k++)
		if (strcmp(cfg->subsys[si].allowed_hosts[k], hostnqn))
			view.allowed_hosts[n++] = cfg->subsys[si].allowed_hosts[k];
	view.nr_allowed_hosts = n;
	ht = target_hosts_build(cfg, &view, err, sizeof(err));
	free(view.allowed_hosts);
	if (!ht)
		return ctl_fail(e, RPC_ERR_INTERNAL, "%s", err);
	ctl_hosts_publish(c, (size_t)si, ht);
	m.s = c->tgt->subsys[si];
	m.hostnqn = hostnqn;
	ctl_kill_ctrls(c, ctl_ctrl_of_host, &m, NULL);
	ctl_cfg_disallow_host(cfg, (size_t)si, hostnqn);
	topo_discovery_changed(c->tgt);
	log_info("control: host %s removed from %s", hostnqn, nqn);
	return 0;
}

static void ctl_secret_swap(struct cfg_secret *a, struct cfg_secret *b)
{
	struct cfg_secret t = *a;

	*a = *b;
	*b = t;
}

static void ctl_secret_clear(struct cfg_secret *s)
{
	if (s->value)
		memset(s->value, 0, strlen(s->value));
	free(s->value);
	free(s->file);
	s->value = s->file = NULL;
}

int ctl_host_set_keys(struct ctl *c, const char *nqn, const char *hostnqn, struct cfg_secret *key,
		      struct cfg_secret *ctrl_key, struct ctl_err *e)
{
	struct nvr_config *cfg = c->cfg;
	long si = ctl_subsys_find(c, nqn, e), hi;
	struct host_table **tables;
	struct cfg_host *h;
	char err[512];
	int ret = -1;

	if (si < 0)
		return -1;
	hi = nvr_config_find_host(cfg, hostnqn);
	if (!ctl_host_allowed(&cfg->subsys[si], hostnqn) || hi < 0)
		return ctl_fail(e, RPC_ERR_NOT_FOUND, "host '%s' is not allowed into '%s'", hostnqn, nqn);
	h = &cfg->hosts[hi];
	tables = calloc(cfg->nr_subsys + 1, sizeof(*tables));
	if (!tables)
		return ctl_fail(e, RPC_ERR_INTERNAL, "out of memory");
	/* the keys are the host's, in every subsystem that allows it: try them on all first */
	if (key)
		ctl_secret_swap(&h->dhchap_key, key);
	if (ctrl_key)
		ctl_secret_swap(&h->dhchap_ctrl_key, ctrl_key);
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		if (!ctl_host_allowed(&cfg->subsys[i], hostnqn))
			continue;
		tables[i] = target_hosts_build(cfg, &cfg->subsys[i], err, sizeof(err));
		if (!tables[i]) {
			ctl_fail(e, RPC_ERR_INVALID_PARAMS, "%s", err);
			goto out;
		}
	}
	for (size_t i = 0; i < cfg->nr_subsys; i++)
		if (tables[i])
			ctl_hosts_publish(c, i, tables[i]);
	memset(tables, 0, (cfg->nr_subsys + 1) * sizeof(*tables));
	ret = 0;
	log_info("control: new keys for host %s", hostnqn);
out:
	for (size_t i = 0; i < cfg->nr_subsys; i++)
		host_table_free(tables[i]);
	free(tables);
	if (ret) {
		/* back to the old keys; the caller frees what it passed */
		if (key)
			ctl_secret_swap(&h->dhchap_key, key);
		if (ctrl_key)
			ctl_secret_swap(&h->dhchap_ctrl_key, ctrl_key);
	} else {
		/* the old secrets, now in the caller's structs, are wiped */
		if (key)
			ctl_secret_clear(key);
		if (ctrl_key)
			ctl_secret_clear(ctrl_key);
	}
	return ret;
}
