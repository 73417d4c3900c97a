/* SPDX-License-Identifier: MIT */
/*
 * One item at a time, as the control plane will add them (ns_add, subsystem_create, host_add,
 * listener_add): parse from a spec or JSON, check against a live model, add; errors name the
 * item and leave the model as it was.
 */
#include <json-c/json.h>

#include "cfg_test.h"

#define NQN "nqn.2026-11.io.nvring:default"

static json_object *J(const char *text)
{
	return json_tokener_parse(text);
}

static void test_ns(void)
{
	struct nvr_config cfg;
	struct cfg_ns ns;
	char err[512];
	json_object *o;

	parse(&cfg, err, sizeof(err), "--ns", "mem:1M", "--ns", "mem:1M,nsid=3", NULL);
	tap_ok(nvr_config_parse_ns_spec(&ns, "mem:2M", err, sizeof(err)) == 0 && ns.nsid == 0 &&
	       nvr_config_add_ns(&cfg, 0, &ns, "params", err, sizeof(err)) == 0 && cfg.subsys[0].nr_ns == 3 &&
	       cfg.subsys[0].ns[2].nsid == 2 && cfg.subsys[0].ns[2].size == 2u << 20 && ns.opts == NULL,
	       "ns_add spec: the lowest free nsid (2), the item moved in");
	tap_ok(memcmp(cfg.subsys[0].ns[2].uuid, (uint8_t[16]){ 0 }, 16) && (cfg.subsys[0].ns[2].uuid[6] >> 4) == 8 &&
	       memcmp(cfg.subsys[0].ns[2].nguid, (uint8_t[16]){ 0 }, 16), "ns_add: identifiers derived");
	tap_ok(nvr_config_parse_ns_spec(&ns, "mem:2M,nsid=3", err, sizeof(err)) == 0 &&
	       nvr_config_add_ns(&cfg, 0, &ns, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.nsid: 3 is also namespaces[1]") && cfg.subsys[0].nr_ns == 3 && ns.nsid == 3,
	       "ns_add: an nsid in use is refused, the model unchanged, the item still ours");
	nvr_config_ns_free(&ns);
	tap_ok(nvr_config_parse_ns_spec(&ns, "mem:2M,ana_grpid=5", err, sizeof(err)) == 0 &&
	       nvr_config_add_ns(&cfg, 0, &ns, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.ana_grpid: ANA group 5 is not defined on any port"), "ns_add: an undefined ANA group");
	nvr_config_ns_free(&ns);
	nvr_config_parse_ns_spec(&ns, "mem:2M", err, sizeof(err));
	memcpy(ns.uuid, cfg.subsys[0].ns[0].uuid, 16);
	tap_ok(nvr_config_add_ns(&cfg, 0, &ns, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "namespace 4 of " NQN " has the same uuid as namespace 1 of " NQN),
	       "ns_add: a duplicate uuid");
	tap_ok(nvr_config_add_ns(&cfg, 7, &ns, "params", err, sizeof(err)) == -1 && !strcmp(err, "params: no subsystem 7"),
	       "ns_add: no such subsystem");
	nvr_config_ns_free(&ns);
	tap_ok(nvr_config_parse_ns_spec(&ns, "mem:12Q", err, sizeof(err)) == -1 && !strcmp(err, "bad size '12Q'"),
	       "parse_ns_spec: the grammar's messages");

	o = J("{\"device\":{\"backend\":\"mem\",\"size\":\"4M\",\"lba_size\":4096}}");
	tap_ok(nvr_config_ns_from_json(&ns, o, "params", err, sizeof(err)) == 0 && ns.nsid == 0 && ns.lba_size == 4096 &&
	       nvr_config_add_ns(&cfg, 0, &ns, "params", err, sizeof(err)) == 0 && cfg.subsys[0].ns[3].nsid == 4,
	       "ns_add json: no nsid needed; added as 4");
	json_object_put(o);
	o = J("{\"nsid\":9,\"device\":{\"backend\":\"mem\",\"size\":\"4M\",\"lba_size\":1000}}");
	tap_ok(nvr_config_ns_from_json(&ns, o, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.device.lba_size: must be 512 or 4096") && !ns.opts, "ns_from_json: located message");
	tap_ok(nvr_config_ns_from_json(&ns, o, NULL, err, sizeof(err)) == -1 && !strcmp(err, "device.lba_size: must be 512 or 4096"),
	       "ns_from_json: without where");
	json_object_put(o);
	o = J("{\"nqn\":\"x\",\"device\":{}}");
	tap_ok(nvr_config_ns_from_json(&ns, o, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.nqn: unknown key (expected one of: nsid, enable, device, ana_grpid, ana, resv)"),
	       "ns_from_json: the namespace shape only");
	json_object_put(o);
	nvr_config_free(&cfg);
}

static void test_subsys_host(void)
{
	struct nvr_config cfg;
	struct cfg_subsys s;
	struct cfg_host h;
	char err[512];
	json_object *o;

	parse(&cfg, err, sizeof(err), "--allow-host", "nqn.2026-11.io.t:h1", NULL);
	o = J("{\"nqn\":\"nqn.2026-11.io.t:h2\",\"dhchap_key\":\"DHHC-1:00:abcd:\"}");
	tap_ok(nvr_config_host_from_json(&h, o, "params", err, sizeof(err)) == 0 &&
	       nvr_config_add_host(&cfg, &h, "params", err, sizeof(err)) == 0 && cfg.nr_hosts == 2 &&
	       !strcmp(cfg.hosts[1].dhchap_key.value, "DHHC-1:00:abcd:") && !h.dhchap_key.value, "host_add: added");
	tap_ok(nvr_config_host_from_json(&h, o, "params", err, sizeof(err)) == 0 &&
	       nvr_config_add_host(&cfg, &h, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.nqn: 'nqn.2026-11.io.t:h2' is also hosts[1]") && cfg.nr_hosts == 2, "host_add: twice");
	nvr_config_host_free(&h);
	json_object_put(o);
	o = J("{\"nqn\":\"nqn.2026-11.io.t:h3\",\"dhchap_ctrl_key\":\"DHHC-1:00:abcd:\"}");
	tap_ok(nvr_config_host_from_json(&h, o, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.dhchap_ctrl_key: needs dhchap_key (the host authenticates first)"),
	       "host_from_json: checked");
	json_object_put(o);

	tap_ok(nvr_config_find_subsys(&cfg, NQN) == 0 && nvr_config_find_host(&cfg, "nqn.2026-11.io.t:h2") == 1 &&
	       nvr_config_find_host(&cfg, "nqn.2026-11.io.t:zz") == -1, "find subsystem and host");
	tap_ok(nvr_config_allow_host(&cfg, 0, "nqn.2026-11.io.t:h2", "params", err, sizeof(err)) == 0 &&
	       cfg.subsys[0].nr_allowed_hosts == 2, "allow_host: added");
	tap_ok(nvr_config_allow_host(&cfg, 0, "nqn.2026-11.io.t:h2", "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params: 'nqn.2026-11.io.t:h2' is already allowed into " NQN), "allow_host: twice");
	tap_ok(nvr_config_allow_host(&cfg, 0, "nqn.2026-11.io.t:zz", "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params: 'nqn.2026-11.io.t:zz' is not in \"hosts\""), "allow_host: unknown host");

	o = J("{\"nqn\":\"nqn.2026-11.io.t:new\",\"allowed_hosts\":[\"nqn.2026-11.io.t:h1\"],"
	      "\"namespaces\":[{\"nsid\":1,\"device\":{\"path\":\"mem:1M\"}}]}");
	tap_ok(nvr_config_subsys_from_json(&cfg, &s, o, "params", err, sizeof(err)) == 0 &&
	       nvr_config_add_subsys(&cfg, &s, "params", err, sizeof(err)) == 0 && cfg.nr_subsys == 2 &&
	       strlen(cfg.subsys[1].serial) == 20 && !cfg.subsys[1].allow_any_host &&
	       memcmp(cfg.subsys[1].ns[0].uuid, (uint8_t[16]){ 0 }, 16),
	       "subsystem_create: added, serial derived");
	tap_ok(nvr_config_allow_host(&cfg, 1, "nqn.2026-11.io.t:h2", "params", err, sizeof(err)) == 0,
	       "allow_host: into the new subsystem");
	tap_ok(nvr_config_subsys_from_json(&cfg, &s, o, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.nqn: 'nqn.2026-11.io.t:new' is also subsystems[1]"), "subsystem_create: twice");
	json_object_put(o);
	o = J("{\"nqn\":\"nqn.2026-11.io.t:n2\",\"allowed_hosts\":[\"nqn.2026-11.io.t:nobody\"]}");
	tap_ok(nvr_config_subsys_from_json(&cfg, &s, o, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.allowed_hosts[0]: 'nqn.2026-11.io.t:nobody' is not in \"hosts\""),
	       "subsystem_create: an unknown host");
	json_object_put(o);
	o = J("{\"nqn\":\"nqn.2026-11.io.t:any\"}");
	nvr_config_subsys_from_json(&cfg, &s, o, "params", err, sizeof(err));
	tap_ok(nvr_config_add_subsys(&cfg, &s, "params", err, sizeof(err)) == 0 &&
	       nvr_config_allow_host(&cfg, 2, "nqn.2026-11.io.t:h1", "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params: nqn.2026-11.io.t:any lets any host in (allow_any_host): turn that off first"),
	       "allow_host: refused while any host may connect (as nvmet)");
	json_object_put(o);
	/* a subsystem whose namespace copies an existing UUID */
	nvr_config_subsys_from_json(&cfg, &s, (o = J("{\"nqn\":\"nqn.2026-11.io.t:dup\",\"namespaces\":[{\"nsid\":1,"
						     "\"device\":{\"path\":\"mem:1M\",\"uuid\":\"00000000-0000-0000-0000-000000000001\"}}]}")),
				    "params", err, sizeof(err));
	memcpy(s.ns[0].uuid, cfg.subsys[1].ns[0].uuid, 16);
	tap_ok(nvr_config_add_subsys(&cfg, &s, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "namespace 1 of nqn.2026-11.io.t:dup has the same uuid as namespace 1 of nqn.2026-11.io.t:new") &&
	       cfg.nr_subsys == 3, "subsystem_create: a namespace UUID clash");
	nvr_config_subsys_free(&s);
	json_object_put(o);
	tap_ok(nvr_config_check_subsys(&cfg, &cfg.subsys[0], "x", err, sizeof(err)) == 0,
	       "check_subsys: an item already in the model does not clash with itself");
	nvr_config_free(&cfg);
}

static void test_port(void)
{
	struct nvr_config cfg;
	struct cfg_port p;
	char err[512], diff[128];
	json_object *o;
	char *text;
	struct nvr_config again;

	parse(&cfg, err, sizeof(err), "--metrics", "127.0.0.1:9100", NULL);
	o = J("{\"portid\":7,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":4430,\"trtype\":\"tcp\","
	      "\"tsas\":\"tls1.3\"},\"subsystems\":[\"" NQN "\"],\"ana_groups\":[{\"grpid\":3}]}");
	tap_ok(nvr_config_port_from_json(&cfg, &p, o, "params", err, sizeof(err)) == 0 &&
	       nvr_config_add_port(&cfg, &p, "params", err, sizeof(err)) == 0 && cfg.nr_ports == 3 &&
	       cfg.ports[2].treq == CFG_TREQ_REQUIRED && nvr_config_port_has_subsys(&cfg.ports[2], 0) &&
	       !cfg.ports[2].discovery_only && nvr_config_port_ana_state(&cfg.ports[2], 3) == CFG_ANA_OPTIMIZED,
	       "listener_add: added");
	tap_ok(nvr_config_port_from_json(&cfg, &p, o, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.portid: 7 is also ports[2]"), "listener_add: portid in use");
	json_object_put(o);
	o = J("{\"portid\":8,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"0.0.0.0\",\"trsvcid\":4420,\"trtype\":\"tcp\"}}");
	tap_ok(nvr_config_port_from_json(&cfg, &p, o, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.addr: 0.0.0.0:4420 overlaps (wildcard address) with ports[0]"), "listener_add: address clash");
	json_object_put(o);
	o = J("{\"portid\":9,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":9100,\"trtype\":\"tcp\"}}");
	tap_ok(nvr_config_port_from_json(&cfg, &p, o, "params", err, sizeof(err)) == 0 &&
	       nvr_config_add_port(&cfg, &p, "params", err, sizeof(err)) == -1 &&
	       !strcmp(err, "params.addr: 127.0.0.1:9100 is also the metrics address") && cfg.nr_ports == 3,
	       "listener_add: the metrics address is taken");
	nvr_config_port_free(&p);
	json_object_put(o);
	/* the grown model still writes and loads equal */
	text = nvr_config_to_json_string(&cfg);
	tap_ok(text && load_str(&again, text, err, sizeof(err)) == 0 && nvr_config_compare(&cfg, &again, diff, sizeof(diff)) == 0,
	       "config_get/save after additions: round trip");
	free(text);
	nvr_config_free(&again);
	nvr_config_free(&cfg);
	{
		struct cfg_ns ns = { 0 };
		struct cfg_host h = { 0 };
		struct cfg_subsys s = { 0 };

		memset(&p, 0, sizeof(p));
		nvr_config_ns_free(&ns);
		nvr_config_host_free(&h);
		nvr_config_subsys_free(&s);
		nvr_config_port_free(&p);
		tap_ok(!ns.path && !h.dhchap_key.value && !s.ns && !p.subsys, "free functions take zeroed items");
	}
}

int main(void)
{
	test_ns();
	test_subsys_host();
	test_port();
	return tap_done();
}
