/* SPDX-License-Identifier: MIT */
/*
 * Do two models mean the same? For the writer's round trip (and a reload that wants to know
 * what changed). Exported subsystems are compared by meaning (a flags-mode port exports all
 * subsystems; its JSON lists them), raw namespace options not at all (they are the fields'
 * source, spelled as given).
 */
#include "cfg_int.h"

#include <string.h>

struct cmp {
	char *diff;
	size_t len;
	char where[160];
};

static int cmp_fail(struct cmp *c, const char *field)
{
	return cfg_err(c->diff, c->len, "%s%s%s differs", c->where, *c->where ? "." : "", field);
}

static bool cmp_str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

#define EQ(field) do { if (a->field != b->field) return cmp_fail(c, #field); } while (0)
#define EQ_STR(field) do { if (!cmp_str_eq(a->field, b->field)) return cmp_fail(c, #field); } while (0)
#define EQ_MEM(field) do { if (memcmp(a->field, b->field, sizeof(a->field))) return cmp_fail(c, #field); } while (0)

static int cmp_ns(struct cmp *c, const struct cfg_ns *a, const struct cfg_ns *b)
{
	EQ(nsid); EQ(enabled); EQ_STR(kind); EQ_STR(path); EQ(size); EQ(lba_size); EQ(buffered);
	EQ(readonly); EQ(kvssd_compat); EQ(all_opcodes); EQ(vwc); EQ(ana_grpid); EQ_MEM(uuid);
	EQ_MEM(nguid); EQ(kv_segment_size); EQ(kv_max_value); EQ(kv_gc_threshold); EQ(kv_format);
	EQ_STR(pool); EQ_STR(image); EQ_STR(rados_ns); EQ_STR(ceph_conf); EQ_STR(ceph_id);
	EQ_STR(ceph_cluster); EQ(ceph_connect_timeout); EQ(ceph_op_timeout); EQ(kv_shards);
	return 0;
}

static int cmp_subsys(struct cmp *c, const struct cfg_subsys *a, const struct cfg_subsys *b)
{
	size_t len = strlen(c->where);

	EQ_STR(nqn); EQ_STR(serial); EQ_STR(model); EQ_STR(firmware); EQ(version); EQ(ieee_oui);
	EQ(cntlid_min); EQ(cntlid_max); EQ(qid_max); EQ(allow_any_host); EQ(nr_allowed_hosts);
	EQ(dhchap_hashes); EQ(dhchap_dhgroups); EQ(nr_ns);
	for (size_t i = 0; i < a->nr_allowed_hosts; i++)
		if (strcmp(a->allowed_hosts[i], b->allowed_hosts[i]))
			return cmp_fail(c, "allowed_hosts");
	for (size_t i = 0; i < a->nr_ns; i++) {
		snprintf(c->where + len, sizeof(c->where) - len, ".namespaces[%zu]", i);
		if (cmp_ns(c, &a->ns[i], &b->ns[i]))
			return -1;
	}
	c->where[len] = '\0';
	return 0;
}

static int cmp_referral(struct cmp *c, const struct cfg_referral *a, const struct cfg_referral *b)
{
	EQ_STR(name); EQ(enabled); EQ(family); EQ_STR(addr); EQ(port); EQ(portid); EQ(treq); EQ(tsas);
	return 0;
}

static int cmp_port(struct cmp *c, const struct cfg_port *a, const struct cfg_port *b, size_t nr_subsys)
{
	size_t len = strlen(c->where);

	EQ(portid); EQ(family); EQ_STR(addr); EQ(port); EQ(treq); EQ(tsas); EQ(discovery_only);
	EQ(inline_data_size); EQ(max_queue_size); EQ(nr_referrals); EQ(nr_ana_groups);
	for (size_t si = 0; si < nr_subsys; si++)
		if (nvr_config_port_has_subsys(a, si) != nvr_config_port_has_subsys(b, si))
			return cmp_fail(c, "subsystems");
	for (size_t i = 0; i < a->nr_ana_groups; i++)
		if (a->ana_groups[i].grpid != b->ana_groups[i].grpid ||
		    a->ana_groups[i].state != b->ana_groups[i].state)
			return cmp_fail(c, "ana_groups");
	for (size_t i = 0; i < a->nr_referrals; i++) {
		snprintf(c->where + len, sizeof(c->where) - len, ".referrals[%zu]", i);
		if (cmp_referral(c, &a->referrals[i], &b->referrals[i]))
			return -1;
	}
	c->where[len] = '\0';
	return 0;
}

static int cmp_host(struct cmp *c, const struct cfg_host *a, const struct cfg_host *b)
{
	EQ_STR(nqn); EQ_STR(dhchap_key.value); EQ_STR(dhchap_key.file); EQ_STR(dhchap_ctrl_key.value);
	EQ_STR(dhchap_ctrl_key.file); EQ(dhchap_hash); EQ(dhchap_dhgroup); EQ_STR(psk.value);
	EQ_STR(psk.file);
	return 0;
}

int nvr_config_compare(const struct nvr_config *a, const struct nvr_config *b, char *diff,
		       size_t difflen)
{
	struct cmp cmp = { diff, difflen, "" }, *c = &cmp;

	EQ(threads); EQ(verbose); EQ(poll); EQ(nr_hosts); EQ(nr_ports); EQ(nr_subsys);
	for (size_t i = 0; i < cfg_nr_settings; i++) {
		char va[128], vb[128];

		if (strcmp(cfg_setting_fmt(&cfg_settings[i], a, va, sizeof(va)),
			   cfg_setting_fmt(&cfg_settings[i], b, vb, sizeof(vb))))
			return cmp_fail(c, cfg_settings[i].json);
	}
	for (size_t i = 0; i < a->nr_hosts; i++) {
		snprintf(c->where, sizeof(c->where), "hosts[%zu]", i);
		if (cmp_host(c, &a->hosts[i], &b->hosts[i]))
			return -1;
	}
	for (size_t i = 0; i < a->nr_subsys; i++) {
		snprintf(c->where, sizeof(c->where), "subsystems[%zu]", i);
		if (cmp_subsys(c, &a->subsys[i], &b->subsys[i]))
			return -1;
	}
	for (size_t i = 0; i < a->nr_ports; i++) {
		snprintf(c->where, sizeof(c->where), "ports[%zu]", i);
		if (cmp_port(c, &a->ports[i], &b->ports[i], a->nr_subsys))
			return -1;
	}
	return 0;
}
