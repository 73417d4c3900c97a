/* SPDX-License-Identifier: MIT */
/*
 * Namespace kinds rbd and kv-rados, ANA groups (ports, namespaces, -l ana=), referrals kept
 * with their state, port parameters, and KV engine options by their canonical name.
 * TAP; argv[1] is the sample-config folder.
 */
#include "cfg_test.h"

static const char *data_dir = ".";

static void test_specs(void)
{
	static const struct { const char *spec, *kind, *pool, *image, *ns; } good[] = {
		{ "rbd:rbd/disk1", "rbd", "rbd", "disk1", NULL },
		{ "rbd:p/n/i", "rbd", "p", "i", "n" },
		{ "rbd:,pool=p,image=i,rados_namespace=n", "rbd", "p", "i", "n" },
		{ "kv:rados:kvpool", "kv-rados", "kvpool", NULL, NULL },
		{ "kv:rados:kvpool/tenant", "kv-rados", "kvpool", NULL, "tenant" },
		{ "kv-rados:kvpool/tenant", "kv-rados", "kvpool", NULL, "tenant" },
	};
	struct cfg_ns ns;
	char err[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = nvr_config_parse_ns_spec(&ns, good[i].spec, err, sizeof(err));

		tap_ok(rc == 0 && !strcmp(ns.kind, good[i].kind) && !ns.path && !strcmp(ns.pool, good[i].pool) &&
		       (good[i].image ? ns.image && !strcmp(ns.image, good[i].image) : !ns.image) &&
		       (good[i].ns ? ns.rados_ns && !strcmp(ns.rados_ns, good[i].ns) : !ns.rados_ns) && ns.nsid == 0 &&
		       ns.ana_grpid == 1, "spec '%s': %s pool %s", good[i].spec, good[i].kind, good[i].pool);
		if (rc)
			printf("# %s\n", err);
		nvr_config_ns_free(&ns);
	}
	tap_ok(nvr_config_parse_ns_spec(&ns, "rbd:rbd/img,conf=/etc/ceph/c.conf,id=nvring,cluster=c2,bs=4096,vwc,ro,"
				       "ana_grpid=7,nsid=3", err, sizeof(err)) == 0 &&
	       !strcmp(ns.ceph_conf, "/etc/ceph/c.conf") && !strcmp(ns.ceph_id, "nvring") &&
	       !strcmp(ns.ceph_cluster, "c2") && ns.lba_size == 4096 && ns.vwc && ns.readonly && ns.ana_grpid == 7 &&
	       ns.nsid == 3, "spec rbd: every option");
	nvr_config_ns_free(&ns);
	tap_ok(nvr_config_parse_ns_spec(&ns, "kv:rados:p,conf=/c,id=u,cluster=k,kvssd-compat,ro", err, sizeof(err)) == 0 &&
	       !strcmp(ns.ceph_conf, "/c") && ns.kvssd_compat && ns.readonly, "spec kv:rados: options");
	nvr_config_ns_free(&ns);
	tap_ok(nvr_config_parse_ns_spec(&ns, "kv:rados:p,shards=64,max_value=64K,capacity=1G,connect_timeout=3,"
				       "op_timeout=0", err, sizeof(err)) == 0 &&
	       ns.kv_shards == 64 && ns.kv_max_value == 65536 && ns.size == 1ull << 30 &&
	       ns.ceph_connect_timeout == 3 && ns.ceph_op_timeout == 0, "spec kv:rados: engine options");
	nvr_config_ns_free(&ns);
	tap_ok(nvr_config_parse_ns_spec(&ns, "rbd:p/i,connect_timeout=3600,op_timeout=30", err, sizeof(err)) == 0 &&
	       ns.ceph_connect_timeout == 3600 && ns.ceph_op_timeout == 30, "spec rbd: timeouts");
	nvr_config_ns_free(&ns);
	tap_ok(nvr_config_parse_ns_spec(&ns, "kv:mem,size=1G,vwc,segment=1M,max_value=4K,gc=20,format", err,
				       sizeof(err)) == 0 && ns.vwc && ns.kv_segment_size == 1u << 20 &&
	       ns.kv_max_value == 4096 && ns.kv_gc_threshold == 20 && ns.kv_format && ns.nr_opts == 6,
	       "spec kv: engine options kept as fields and as raw options");
	nvr_config_ns_free(&ns);
	tap_ok(nvr_config_parse_ns_spec(&ns, "kv:mem,capacity=2G", err, sizeof(err)) == 0 && ns.size == 2ull << 30,
	       "spec kv: capacity is the size");
	nvr_config_ns_free(&ns);
	tap_ok(nvr_config_parse_ns_spec(&ns, "mem:1G,ana_grpid=128", err, sizeof(err)) == 0 && ns.ana_grpid == 128,
	       "spec: ana_grpid 128");
	nvr_config_ns_free(&ns);
}

static void test_spec_errors(void)
{
	static const struct { const char *spec, *msg; } bad[] = {
		{ "rbd:", "rbd needs POOL/IMAGE (e.g. rbd:rbd/disk1)" },
		{ "rbd:pool", "expected POOL/IMAGE or POOL/NAMESPACE/IMAGE (e.g. rbd:rbd/disk1)" },
		{ "rbd:a/b/c/d", "expected POOL/IMAGE or POOL/NAMESPACE/IMAGE (e.g. rbd:rbd/disk1)" },
		{ "rbd:a//b", "expected POOL/IMAGE or POOL/NAMESPACE/IMAGE (e.g. rbd:rbd/disk1)" },
		{ "rbd:a/b c", "expected POOL/IMAGE or POOL/NAMESPACE/IMAGE (e.g. rbd:rbd/disk1)" },
		{ "rbd:,pool=p", "rbd needs POOL/IMAGE (e.g. rbd:rbd/disk1)" },
		{ "rbd:p/i,pool=q", "pool: given twice" },
		{ "rbd:p/i,size=1G", "size: does not apply to rbd namespaces" },
		{ "rbd:p/i,buffered", "buffered: does not apply to rbd namespaces" },
		{ "rbd:p/i,bs=1024", "bs: must be 512 or 4096" },
		{ "rbd:p/i,vwc=maybe", "vwc: must be a boolean (0/1, true/false)" },
		{ "rbd:p/i,conf=", "conf: needs a path" },
		{ "rbd:p/i,id=a/b", "id: must be a name (printable, no '/', ',' or spaces, at most 255 bytes)" },
		{ "rbd:p/i,cluster", "cluster: must be a name (printable, no '/', ',' or spaces, at most 255 bytes)" },
		{ "kv:rados:", "kv:rados: needs a pool (kv:rados:POOL[/NAMESPACE])" },
		{ "kv:rados:a/b/c", "expected POOL or POOL/NAMESPACE (e.g. kv:rados:kvpool/ns1)" },
		{ "kv-rados:", "kv-rados needs a pool (e.g. kv:rados:kvpool)" },
		{ "kv:rados:p,image=i", "image: does not apply to kv-rados namespaces" },
		{ "kv:rados:p,max_value=0", "max_value: must be 1..1048576 bytes" },
		{ "kv:rados:p,max_value=2M", "max_value: must be 1..1048576 bytes" },
		{ "kv:rados:p,shards=0", "shards: must be 1..1024" },
		{ "kv:rados:p,shards=1025", "shards: must be 1..1024" },
		{ "kv:rados:p,shards", "shards: must be 1..1024" },
		{ "kv:rados:p,segment=1M", "segment: unknown option" },
		{ "kv:rados:p,size=1G,capacity=2G", "capacity: given twice" },
		{ "kv:rados:p,capacity=1000", "size 1000 is not a multiple of the block size 512" },
		{ "rbd:p/i,connect_timeout=0", "connect_timeout: must be 1..3600 seconds" },
		{ "rbd:p/i,connect_timeout=3601", "connect_timeout: must be 1..3600 seconds" },
		{ "rbd:p/i,op_timeout=x", "op_timeout: must be 0..3600 seconds" },
		{ "rbd:p/i,op_timeout", "op_timeout: must be 0..3600 seconds" },
		{ "rbd:p/i,op_timeout=5,op_timeout=6", "op_timeout: given twice" },
		{ "rbd:p/i,shards=4", "shards: does not apply to rbd namespaces" },
		{ "rbd:p/i,max_value=4K", "max_value: does not apply to rbd namespaces" },
		{ "file:/x,op_timeout=5", "op_timeout: does not apply to file namespaces" },
		{ "kv:mem,shards=4", "shards: does not apply to kv namespaces" },
		{ "kv:rados:p,bs=4096", "bs: does not apply to kv-rados namespaces" },
		{ "mem:1G,ana_grpid=0", "ana_grpid: must be 1..128" },
		{ "mem:1G,ana_grpid=129", "ana_grpid: must be 1..128" },
		{ "mem:1G,ana_grpid", "ana_grpid: must be 1..128" },
		{ "mem:1G,vwc", "vwc: does not apply to mem namespaces" },
		{ "kv:mem,gc=10,gc_threshold=20", "gc_threshold: given twice" },
		{ "kv:mem,vwc,volatile_cache=0", "volatile_cache: given twice" },
		{ "kv:mem,size=1G,capacity=1G", "capacity: given twice" },
		{ "kv:mem,segment=7", "segment: bad value '7'" },
	};
	struct cfg_ns ns;
	char err[256], name[400];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ns, 0x5a, sizeof(ns));
		snprintf(name, sizeof(name), "spec '%s': %s", bad[i].spec, bad[i].msg);
		tap_ok(nvr_config_parse_ns_spec(&ns, bad[i].spec, err, sizeof(err)) == -1 && !ns.path && !ns.pool &&
		       !ns.opts, "%s: fails, nothing left to free", name);
		check_str(err, bad[i].msg, name);
	}
}

static void test_json(void)
{
	struct nvr_config cfg;
	char path[4096], err[512];
	const struct cfg_subsys *s;
	const struct cfg_port *p;

	snprintf(path, sizeof(path), "%s/ceph-ana.json", data_dir);
	if (!tap_ok(parse(&cfg, err, sizeof(err), "-c", path, NULL) == 0, "ceph-ana.json: loads")) {
		printf("# %s\n", err);
		return;
	}
	s = &cfg.subsys[0];
	tap_ok(!strcmp(s->ns[0].kind, "rbd") && !strcmp(s->ns[0].pool, "rbd") && !strcmp(s->ns[0].image, "disk1") &&
	       !strcmp(s->ns[0].ceph_conf, "/etc/ceph/ceph.conf") && !strcmp(s->ns[0].ceph_id, "nvring") &&
	       !strcmp(s->ns[0].ceph_cluster, "ceph") && s->ns[0].lba_size == 4096 && s->ns[0].vwc &&
	       s->ns[0].ana_grpid == 2, "ceph-ana.json: rbd in the JSON device shape");
	tap_ok(!strcmp(s->ns[1].kind, "rbd") && !strcmp(s->ns[1].rados_ns, "ns2") && !strcmp(s->ns[1].image, "disk2") &&
	       s->ns[1].readonly && s->ns[1].ana_grpid == 3, "ceph-ana.json: rbd as a --ns path");
	tap_ok(!strcmp(s->ns[2].kind, "kv-rados") && !strcmp(s->ns[2].pool, "kvpool") &&
	       !strcmp(s->ns[2].rados_ns, "tenant1") && s->ns[2].kvssd_compat, "ceph-ana.json: kv:rados path");
	tap_ok(!strcmp(s->ns[3].kind, "kv-rados") && !s->ns[3].rados_ns && !strcmp(s->ns[3].ceph_id, "kv") &&
	       s->ns[3].ana_grpid == 4, "ceph-ana.json: kv-rados backend, string ana_grpid");
	tap_ok(s->ns[4].vwc && s->ns[4].kv_segment_size == 1u << 20 && s->ns[4].kv_gc_threshold == 30 &&
	       s->ns[4].ana_grpid == 1, "ceph-ana.json: kv engine fields; ana_grpid defaults to 1");
	tap_ok(s->cntlid_min == 10 && s->cntlid_max == 20 && s->ieee_oui == 0x0002a0 && s->version == 0x20001,
	       "ceph-ana.json: cntlid range, ieee_oui, version");
	p = &cfg.ports[0];
	tap_ok(p->nr_ana_groups == 2 && p->ana_groups[1].grpid == 2 && p->ana_groups[1].state == CFG_ANA_NON_OPTIMIZED &&
	       p->inline_data_size == 16384 && p->max_queue_size == 128, "ceph-ana.json: port 1 ANA groups and params");
	tap_ok(p->nr_referrals == 2 && p->referrals[0].enabled && !strcmp(p->referrals[0].name, "peer") &&
	       !p->referrals[1].enabled && !strcmp(p->referrals[1].name, "old") && p->referrals[1].family == AF_INET6 &&
	       !strcmp(p->referrals[1].addr, "fd00::3") && p->referrals[1].portid == 7 &&
	       p->referrals[1].treq == CFG_TREQ_NOT_REQUIRED && p->referrals[1].tsas == CFG_TSAS_TLS13,
	       "ceph-ana.json: referrals kept, the disabled one too, with their TLS fields");
	tap_eq(nvr_config_port_ana_state(p, 1), CFG_ANA_OPTIMIZED, "ana state: given");
	tap_eq(nvr_config_port_ana_state(p, 3), CFG_ANA_INACCESSIBLE, "ana state: a group not on this port is inaccessible");
	p = &cfg.ports[1];
	tap_ok(p->max_queue_size == -1 && p->nr_ana_groups == 4 && p->ana_groups[3].state == CFG_ANA_CHANGE &&
	       p->ana_groups[2].state == CFG_ANA_PERSISTENT_LOSS && nvr_config_port_ana_state(p, 1) == CFG_ANA_INACCESSIBLE,
	       "ceph-ana.json: port 2 (max_queue_size -1 = default, all states)");
	nvr_config_free(&cfg);
	tap_ok(parse(&cfg, err, sizeof(err), NULL) == 0 && nvr_config_port_ana_state(&cfg.ports[0], 1) == CFG_ANA_OPTIMIZED &&
	       nvr_config_port_ana_state(&cfg.ports[0], 2) == CFG_ANA_INACCESSIBLE,
	       "ana state: without groups, group 1 is optimized and the rest inaccessible (nvmet's defaults)");
	nvr_config_free(&cfg);
}

#define ADDR "\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"4420\",\"trtype\":\"tcp\"}"
#define PORTX(x) "{\"portid\":1," ADDR x "}"
#define DOC(ns, port) "{\"subsystems\":[{\"nqn\":\"nqn.2026-11.io.t:a\",\"namespaces\":[" ns "]}],\"ports\":[" port "]}"
#define NSX(x) "{\"nsid\":1" x ",\"device\":{\"path\":\"mem:1M\"}}"

static void test_json_errors(void)
{
	static const struct { const char *json, *msg; } bad[] = {
		{ DOC(NSX(",\"ana_grpid\":2"), PORTX("")),
		  "t.json: namespace 1 of nqn.2026-11.io.t:a: ANA group 2 is not defined on any port" },
		{ DOC(NSX(",\"ana_grpid\":129"), PORTX("")), "t.json: subsystems[0].namespaces[0].ana_grpid: must be 1..128" },
		{ DOC(NSX(",\"ana_grpid\":\"x\""), PORTX("")),
		  "t.json: subsystems[0].namespaces[0].ana_grpid: must be an integer 0..4294967295" },
		{ DOC(NSX(",\"ana_grpid\":2,\"ana\":{\"grpid\":\"3\"}"), PORTX("")),
		  "t.json: subsystems[0].namespaces[0].ana.grpid: 3 differs from ana_grpid 2" },
		{ DOC("{\"nsid\":1,\"ana_grpid\":2,\"device\":{\"path\":\"mem:1M,ana_grpid=2\"}}", PORTX("")),
		  "t.json: subsystems[0].namespaces[0].ana_grpid: given twice" },
		{ DOC("", PORTX(",\"ana_groups\":[{\"ana\":{\"state\":\"optimized\"}}]")),
		  "t.json: ports[0].ana_groups[0].grpid: missing" },
		{ DOC("", PORTX(",\"ana_groups\":[{\"grpid\":0}]")), "t.json: ports[0].ana_groups[0].grpid: must be an integer 1..128" },
		{ DOC("", PORTX(",\"ana_groups\":[{\"grpid\":2},{\"grpid\":\"2\"}]")),
		  "t.json: ports[0].ana_groups[1].grpid: 2 is also ana_groups[0]" },
		{ DOC("", PORTX(",\"ana_groups\":[{\"grpid\":2,\"ana\":{\"state\":\"standby\"}}]")),
		  "t.json: ports[0].ana_groups[0].ana.state: 'standby': must be optimized, non-optimized, inaccessible, "
		  "persistent-loss or change" },
		{ DOC("", PORTX(",\"ana_groups\":[{\"grpid\":2,\"ana\":{\"state\":2}}]")),
		  "t.json: ports[0].ana_groups[0].ana.state: must be a string" },
		{ DOC("", PORTX(",\"param\":{\"max_queue_size\":\"8\"}")),
		  "t.json: ports[0].param.max_queue_size: must be an integer 16..1024" },
		{ DOC("", PORTX(",\"param\":{\"max_queue_size\":-2}")),
		  "t.json: ports[0].param.max_queue_size: must be an integer 16..1024" },
		{ DOC("", PORTX(",\"referrals\":[{\"name\":5," ADDR "}]")), "t.json: ports[0].referrals[0].name: must be a string" },
		{ DOC("", PORTX(",\"referrals\":[{\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"1.2.3.4\",\"trsvcid\":\"1\","
				 "\"trtype\":\"tcp\",\"treq\":\"required\"}}]")),
		  "t.json: ports[0].referrals[0].addr.treq: \"required\" needs tsas \"tls1.3\"" },
		{ DOC("{\"nsid\":1,\"device\":{\"backend\":\"rbd\",\"pool\":\"p\"}}", PORTX("")),
		  "t.json: subsystems[0].namespaces[0]: rbd needs POOL/IMAGE (e.g. rbd:rbd/disk1)" },
		{ DOC("{\"nsid\":1,\"device\":{\"backend\":\"rbd\",\"pool\":\"p/q\",\"image\":\"i\"}}", PORTX("")),
		  "t.json: subsystems[0].namespaces[0].device.pool: must be a name (printable, no '/', ',' or spaces, at most 255 bytes)" },
		{ DOC("{\"nsid\":1,\"device\":{\"backend\":\"rbd\",\"path\":\"p/i\",\"image\":\"j\"}}", PORTX("")),
		  "t.json: subsystems[0].namespaces[0].device.image: given twice" },
		{ DOC("{\"nsid\":1,\"device\":{\"backend\":\"kv-rados\",\"pool\":\"p\",\"id\":7}}", PORTX("")), NULL },
		{ DOC("{\"nsid\":1,\"device\":{\"backend\":\"kv-rados\",\"pool\":\"p\",\"conf\":true}}", PORTX("")),
		  "t.json: subsystems[0].namespaces[0].device.conf: must be a string or a non-negative integer" },
	};
	struct nvr_config cfg;
	char err[512], name[700];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = load_str(&cfg, bad[i].json, err, sizeof(err));

		if (!bad[i].msg) { /* numbers pass as names: "7" is a fine cephx id */
			tap_ok(rc == 0 && !strcmp(cfg.subsys[0].ns[0].ceph_id, "7"), "json: a numeric id is a name");
			if (!rc)
				nvr_config_free(&cfg);
			continue;
		}
		snprintf(name, sizeof(name), "json error: %s", bad[i].msg);
		tap_ok(rc == -1, "%s: fails", name);
		check_str(err, bad[i].msg, name);
	}
}

static void test_listen_ana(void)
{
	static const struct { const char *arg, *msg; } bad[] = {
		{ "127.0.0.1:4420,ana=2", "-l '127.0.0.1:4420,ana=2': ana: must be GRPID:STATE (e.g. 2:inaccessible)" },
		{ "127.0.0.1:4420,ana", "-l '127.0.0.1:4420,ana': ana: must be GRPID:STATE (e.g. 2:inaccessible)" },
		{ "127.0.0.1:4420,ana=0:optimized", "-l '127.0.0.1:4420,ana=0:optimized': ana: group '0' must be 1..128" },
		{ "127.0.0.1:4420,ana=2:standby",
		  "-l '127.0.0.1:4420,ana=2:standby': ana: state 'standby' must be optimized, non-optimized, inaccessible, "
		  "persistent-loss or change" },
		{ "127.0.0.1:4420,ana=2:optimized,ana=2:change",
		  "-l '127.0.0.1:4420,ana=2:optimized,ana=2:change': ana: group 2 given twice" },
	};
	struct nvr_config cfg;
	char err[512], name[600];

	tap_ok(parse(&cfg, err, sizeof(err), "-l", "127.0.0.1:4420,ana=1:non-optimized,ana=2:optimized", "-l",
		     "127.0.0.2:4420,ana=2:inaccessible", "--ns", "mem:1M,ana_grpid=2", NULL) == 0 &&
	       cfg.ports[0].nr_ana_groups == 2 && nvr_config_port_ana_state(&cfg.ports[0], 1) == CFG_ANA_NON_OPTIMIZED &&
	       nvr_config_port_ana_state(&cfg.ports[1], 2) == CFG_ANA_INACCESSIBLE && cfg.subsys[0].ns[0].ana_grpid == 2,
	       "flags: -l ...,ana=GRPID:STATE and --ns ...,ana_grpid=N");
	nvr_config_free(&cfg);
	tap_ok(parse(&cfg, err, sizeof(err), "--ns", "mem:1M,ana_grpid=2", NULL) == -1 &&
	       !strcmp(err, "namespace 1 of nqn.2026-11.io.nvring:default: ANA group 2 is not defined on any port"),
	       "flags: an ANA group no listener defines is refused");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "flag error: %s", bad[i].msg);
		tap_ok(parse(&cfg, err, sizeof(err), "-l", bad[i].arg, NULL) == -1, "%s: fails", name);
		check_str(err, bad[i].msg, name);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1)
		data_dir = argv[1];
	test_specs();
	test_spec_errors();
	test_json();
	test_json_errors();
	test_listen_ana();
	return tap_done();
}
