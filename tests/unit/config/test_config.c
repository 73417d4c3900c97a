/* SPDX-License-Identifier: MIT */
/*
 * nvringd configuration: flags, JSON (nvmetcli save format), and every error message.
 * Plain TAP; argv[1] is the folder with the JSON samples.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "nvringd/config/config.h"

static const char *data_dir = ".";
static const char *doc_path; /* docs/config.md: its JSON example must load */

static bool check_str(const char *got, const char *want, const char *name)
{
	bool ok = got && !strcmp(got, want);

	if (!ok)
		printf("# %s\n#   got:  '%s'\n#   want: '%s'\n", name, got ? got : "(null)", want);
	return tap_ok(ok, "%s", name);
}

/* Run parse_args on a NULL-terminated list (argv[0] added). */
static int parse(struct nvr_config *cfg, char *err, size_t errlen, ...)
{
	char *argv[64] = { "nvringd" };
	int argc = 1;
	va_list ap;

	va_start(ap, errlen);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 63;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return nvr_config_parse_args(cfg, argc, argv, err, errlen);
}

static bool uuid_is(const uint8_t *u, const char *s)
{
	char buf[40];

	snprintf(buf, sizeof(buf), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
	return !strcmp(buf, s);
}

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_defaults(void)
{
	struct nvr_config cfg, again;
	char err[512];
	const struct cfg_ns *ns;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	tap_ok(parse(&cfg, err, sizeof(err), NULL) == 0, "defaults: no arguments parse");
	tap_ok(cfg.nr_ports == 2, "defaults: two ports");
	tap_ok(!strcmp(cfg.ports[0].addr, "127.0.0.1") && cfg.ports[0].port == 4420 &&
	      cfg.ports[0].family == AF_INET && cfg.ports[0].portid == 1,
	      "defaults: port 1 is 127.0.0.1:4420");
	tap_ok(cfg.ports[0].all_subsys && !cfg.ports[0].discovery_only, "defaults: 4420 serves I/O subsystems");
	tap_ok(!strcmp(cfg.ports[1].addr, "127.0.0.1") && cfg.ports[1].port == 8009 &&
	      cfg.ports[1].portid == 2, "defaults: port 2 is 127.0.0.1:8009");
	tap_ok(cfg.ports[1].discovery_only && !cfg.ports[1].all_subsys &&
	      !nvr_config_port_has_subsys(&cfg.ports[1], 0), "defaults: 8009 is discovery only");
	tap_ok(nvr_config_port_has_subsys(&cfg.ports[0], 0), "defaults: 4420 exports subsystem 0");
	tap_ok(cfg.nr_subsys == 1 && !strcmp(cfg.subsys[0].nqn, "nqn.2026-11.io.nvring:default"),
	      "defaults: subsystem nqn.2026-11.io.nvring:default");
	tap_ok(cfg.subsys[0].allow_any_host && cfg.subsys[0].nr_allowed_hosts == 0 && cfg.nr_hosts == 0,
	      "defaults: any host allowed");
	tap_ok(strlen(cfg.subsys[0].serial) == 20 && strspn(cfg.subsys[0].serial, "0123456789abcdef") == 20,
	      "defaults: serial is 20 hex digits");
	tap_ok(!strcmp(cfg.subsys[0].model, "nvring") && cfg.subsys[0].cntlid_min == 1 &&
	      cfg.subsys[0].cntlid_max == 0xFFEF, "defaults: model and cntlid range");
	ns = &cfg.subsys[0].ns[0];
	tap_ok(cfg.subsys[0].nr_ns == 1 && ns->nsid == 1 && !strcmp(ns->kind, "mem") && !ns->path &&
	      ns->size == (1ull << 30) && ns->enabled && !ns->readonly && ns->lba_size == 0,
	      "defaults: namespace 1 is a 1 GiB RAM namespace");
	tap_ok((ns->uuid[6] >> 4) == 8 && (ns->uuid[8] & 0xc0) == 0x80, "defaults: uuid is RFC 9562 version 8");
	tap_ok(!is_zero(ns->nguid, 16) && memcmp(ns->nguid, ns->uuid, 16), "defaults: nguid set, differs from uuid");
	tap_ok(cfg.threads == (unsigned)cpus && cfg.verbose == 0 && !cfg.poll && !cfg.config_file,
	      "defaults: threads = online CPUs (%ld), verbose 0, no poll", cpus);

	tap_ok(parse(&again, err, sizeof(err), NULL) == 0 &&
	      !strcmp(again.subsys[0].serial, cfg.subsys[0].serial) &&
	      !memcmp(again.subsys[0].ns[0].uuid, ns->uuid, 16) &&
	      !memcmp(again.subsys[0].ns[0].nguid, ns->nguid, 16),
	      "defaults: serial, uuid, nguid are stable across runs");
	nvr_config_free(&again);
	tap_ok(parse(&again, err, sizeof(err), "--nqn", "nqn.2026-11.io.nvring:other", NULL) == 0 &&
	      strcmp(again.subsys[0].serial, cfg.subsys[0].serial) &&
	      memcmp(again.subsys[0].ns[0].uuid, ns->uuid, 16),
	      "defaults: another NQN gives another serial and uuid");
	nvr_config_free(&again);
	nvr_config_free(&cfg);
	tap_ok(cfg.nr_ports == 0 && cfg.ports == NULL, "free: config zeroed");
	nvr_config_free(&cfg); /* twice is harmless */
}

static void test_all_flags(void)
{
	struct nvr_config cfg;
	char err[512];
	const struct cfg_subsys *s;
	struct be_spec spec;
	int rc;

	rc = parse(&cfg, err, sizeof(err), "-l", "127.0.0.2:5000", "--listen", "[::1]:4420",
		   "--listen=[::]:8009", "--nqn", "nqn.2024-01.com.example:foo",
		   "--ns", "mem:64M", "--ns", "file:/tmp/x.img,size=1G,bs=4096,buffered,ro",
		   "--ns=kv:mem,size=1G,kvssd-compat", "--ns", "kv:/var/kv", "--ns", "passthru:/dev/ng0n1,nsid=10",
		   "--ns", "mem:1M,uuid=d592cdf3-5d1c-44e0-8412-3fcf7d99df27,nguid=6e2f37c1b0d44a4e9a2d2b1c0f4e5d6a",
		   "--allow-host", "nqn.2014-08.org.nvmexpress:uuid:0c468c4d-a385-47e0-8299-6e95051277db",
		   "--allow-host", "nqn.2026-11.com.example:h2", "-t", "3", "-vv", "--verbose", "--poll", NULL);
	if (!tap_ok(rc == 0, "flags: all flags parse")) {
		printf("# %s\n", err);
		return;
	}
	tap_ok(cfg.nr_ports == 3, "flags: -l replaces the default ports");
	tap_ok(!strcmp(cfg.ports[0].addr, "127.0.0.2") && cfg.ports[0].port == 5000 &&
	      cfg.ports[0].family == AF_INET && cfg.ports[0].all_subsys, "flags: -l IPv4");
	tap_ok(!strcmp(cfg.ports[1].addr, "::1") && cfg.ports[1].port == 4420 &&
	      cfg.ports[1].family == AF_INET6 && cfg.ports[1].all_subsys && !cfg.ports[1].discovery_only,
	      "flags: --listen [::1]:4420 is IPv6");
	tap_ok(!strcmp(cfg.ports[2].addr, "::") && cfg.ports[2].port == 8009 && cfg.ports[2].discovery_only,
	      "flags: --listen=[::]:8009 is discovery only");
	tap_ok(cfg.ports[0].portid == 1 && cfg.ports[1].portid == 2 && cfg.ports[2].portid == 3,
	      "flags: portids in order");
	s = &cfg.subsys[0];
	tap_ok(cfg.nr_subsys == 1 && !strcmp(s->nqn, "nqn.2024-01.com.example:foo"), "flags: --nqn");
	tap_ok(!s->allow_any_host && s->nr_allowed_hosts == 2 && cfg.nr_hosts == 2 &&
	      !strcmp(s->allowed_hosts[1], "nqn.2026-11.com.example:h2"), "flags: --allow-host restricts");
	tap_ok(cfg.threads == 3 && cfg.verbose == 3 && cfg.poll, "flags: -t 3, -vv --verbose, --poll");
	tap_ok(s->nr_ns == 6, "flags: six namespaces");
	tap_ok(s->ns[0].nsid == 1 && !strcmp(s->ns[0].kind, "mem") && s->ns[0].size == 64ull << 20,
	      "flags: mem:64M");
	tap_ok(s->ns[1].nsid == 2 && !strcmp(s->ns[1].kind, "file") && !strcmp(s->ns[1].path, "/tmp/x.img") &&
	      s->ns[1].size == 1ull << 30 && s->ns[1].lba_size == 4096 && s->ns[1].buffered &&
	      s->ns[1].readonly, "flags: file with size, bs, buffered, ro");
	tap_ok(s->ns[1].nr_opts == 4 && !strcmp(s->ns[1].opts[0].key, "size") &&
	      !strcmp(s->ns[1].opts[0].val, "1G") && !strcmp(s->ns[1].opts[3].key, "ro") &&
	      s->ns[1].opts[3].val == NULL, "flags: raw options kept in order");
	tap_ok(s->ns[2].nsid == 3 && !strcmp(s->ns[2].kind, "kv") && !s->ns[2].path &&
	      s->ns[2].size == 1ull << 30 && s->ns[2].kvssd_compat, "flags: kv:mem,size=1G,kvssd-compat");
	tap_ok(s->ns[3].nsid == 4 && !strcmp(s->ns[3].kind, "kv") && !strcmp(s->ns[3].path, "/var/kv") &&
	      !s->ns[3].kvssd_compat, "flags: kv:/var/kv");
	tap_ok(s->ns[4].nsid == 10 && !strcmp(s->ns[4].kind, "passthru") &&
	      !strcmp(s->ns[4].path, "/dev/ng0n1"), "flags: passthru with nsid=10");
	tap_ok(s->ns[5].nsid == 5 && uuid_is(s->ns[5].uuid, "d592cdf3-5d1c-44e0-8412-3fcf7d99df27") &&
	      uuid_is(s->ns[5].nguid, "6e2f37c1-b0d4-4a4e-9a2d-2b1c0f4e5d6a"), "flags: given uuid and nguid");

	nvr_config_ns_to_be_spec(&s->ns[1], &spec);
	tap_ok(!strcmp(spec.kind, "file") && spec.path == s->ns[1].path && spec.size == 1ull << 30 &&
	      spec.lba_size == 4096 && spec.buffered && spec.readonly, "be_spec: file namespace");
	nvr_config_ns_to_be_spec(&s->ns[0], &spec);
	tap_ok(!strcmp(spec.kind, "mem") && !spec.path && spec.size == 64ull << 20 && !spec.buffered,
	      "be_spec: mem namespace");
	nvr_config_free(&cfg);

	/* short options bundled and glued */
	rc = parse(&cfg, err, sizeof(err), "-vvt2", "-l127.0.0.1:4421", "--threads=4", NULL);
	tap_ok(rc == -1 && !strcmp(err, "option '--threads' given twice"), "flags: -t twice is an error");
	rc = parse(&cfg, err, sizeof(err), "-vvt2", "-l127.0.0.1:4421", NULL);
	tap_ok(rc == 0 && cfg.verbose == 2 && cfg.threads == 2 && cfg.nr_ports == 1 && cfg.ports[0].port == 4421,
	      "flags: -vvt2 -l127.0.0.1:4421");
	nvr_config_free(&cfg);

	/* explicit nsids first, the rest numbered around them */
	rc = parse(&cfg, err, sizeof(err), "--ns", "mem:1M", "--ns", "mem:1M,nsid=1", "--ns", "mem:1M", NULL);
	tap_ok(rc == 0 && cfg.subsys[0].ns[0].nsid == 2 && cfg.subsys[0].ns[1].nsid == 1 &&
	      cfg.subsys[0].ns[2].nsid == 3, "flags: automatic nsids skip explicit ones");
	nvr_config_free(&cfg);

	/* different families or ports do not clash, even with wildcards */
	rc = parse(&cfg, err, sizeof(err), "-l", "0.0.0.0:4420", "-l", "[::]:4420", "-l", "127.0.0.1:4421", NULL);
	tap_ok(rc == 0 && cfg.nr_ports == 3, "flags: 0.0.0.0:4420, [::]:4420 and 127.0.0.1:4421 coexist");
	nvr_config_free(&cfg);

	/* port 0: the kernel picks a free port per listener, so two of them do not clash */
	rc = parse(&cfg, err, sizeof(err), "-l", "127.0.0.1:0", "-l", "127.0.0.1:0", NULL);
	tap_ok(rc == 0 && cfg.nr_ports == 2 && cfg.ports[0].port == 0 && cfg.ports[1].port == 0 &&
	      cfg.ports[0].all_subsys, "flags: -l ADDR:0 twice is fine (dynamic ports)");
	nvr_config_free(&cfg);

	rc = parse(&cfg, err, sizeof(err), "--", NULL);
	tap_ok(rc == 0 && cfg.nr_ports == 2, "flags: a lone -- is fine");
	nvr_config_free(&cfg);

	/* usage goes to stdout: keep it out of the TAP stream */
	{
		int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);

		fflush(stdout);
		dup2(null, STDOUT_FILENO);
		rc = parse(&cfg, err, sizeof(err), "-h", NULL);
		int rc2 = parse(&cfg, err, sizeof(err), "--ns", "bogus", "--help", NULL);
		int rc3 = parse(&cfg, err, sizeof(err), "--bogus", "--help", NULL);

		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		close(null);
		tap_ok(rc == 1 && cfg.nr_ports == 0, "flags: -h returns 1");
		tap_ok(rc2 == 1, "flags: --help wins over a bad --ns value");
		tap_ok(rc3 == -1 && !strcmp(err, "unknown option '--bogus' (see --help)"),
		      "flags: an unknown option is reported even with --help");
	}
}

static void test_parse_size(void)
{
	static const struct { const char *s; uint64_t v; } good[] = {
		{ "0", 0 }, { "512", 512 }, { "4k", 4096 }, { "4K", 4096 }, { "1M", 1 << 20 },
		{ "1G", 1ull << 30 }, { "3g", 3ull << 30 }, { "2T", 2ull << 40 },
		{ "18446744073709551615", UINT64_MAX }, { "16777215T", 16777215ull << 40 },
	};
	static const struct { const char *s; int err; } bad[] = {
		{ "", -EINVAL }, { "G", -EINVAL }, { "12Q", -EINVAL }, { "1GB", -EINVAL }, { "-1", -EINVAL },
		{ " 1", -EINVAL }, { "1 ", -EINVAL }, { "0x10", -EINVAL }, { "1.5G", -EINVAL },
		{ "18446744073709551616", -ERANGE }, { "16777216T", -ERANGE },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 12345;
		tap_ok(nvr_parse_size(good[i].s, &v) == 0 && v == good[i].v, "parse_size '%s' = %" PRIu64,
		      good[i].s, good[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(nvr_parse_size(bad[i].s, &v) == bad[i].err, "parse_size '%s' fails with %d", bad[i].s,
		      bad[i].err);
	tap_ok(nvr_parse_size(NULL, &v) == -EINVAL, "parse_size NULL fails");
}

static void test_parse_addr(void)
{
	static const struct { const char *s, *addr; uint16_t port; int fam; } good[] = {
		{ "127.0.0.1:4420", "127.0.0.1", 4420, AF_INET }, { "0.0.0.0:65535", "0.0.0.0", 65535, AF_INET },
		{ "[::1]:4420", "::1", 4420, AF_INET6 }, { "[::]:1", "::", 1, AF_INET6 },
		{ "[fe80::1:2]:8009", "fe80::1:2", 8009, AF_INET6 },
		{ "[::ffff:10.0.0.1]:4420", "::ffff:10.0.0.1", 4420, AF_INET6 },
		{ "127.0.0.1:0", "127.0.0.1", 0, AF_INET }, { "[0::1]:4420", "::1", 4420, AF_INET6 },
	};
	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:44a",
		"::1:4420", "[::1]4420", "[::1]", "[127.0.0.1]:4420", "localhost:4420", ":4420", "[]:1",
		"1.2.3:4420", "[::1]:4420x", "127.0.0.1:+4420", "[::1:4420",
		"[0000:0000:0000:0000:0000:0000:0000:0000:0000]:1",
	};
	char addr[NVR_CFG_ADDR_SIZE];
	uint16_t port;
	int fam;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		tap_ok(nvr_parse_addr(good[i].s, addr, sizeof(addr), &port, &fam) == 0 &&
		      !strcmp(addr, good[i].addr) && port == good[i].port && fam == good[i].fam,
		      "parse_addr '%s'", good[i].s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(nvr_parse_addr(bad[i], addr, sizeof(addr), &port, &fam) == -EINVAL,
		      "parse_addr '%s' fails", bad[i]);
	tap_ok(nvr_parse_addr("127.0.0.1:1", addr, 9, &port, &fam) == -EINVAL,
	      "parse_addr: a too small buffer fails");
}

static void test_nqn(void)
{
	static const char *const good[] = {
		"nqn.2026-11.io.nvring:default", "nqn.2014-08.org.nvmexpress.discovery",
		"nqn.2014-08.org.nvmexpress:uuid:0c468c4d-a385-47e0-8299-6e95051277db",
		"nqn.1999-12.x", "nqn.2016-06.io.spdk:cnode1",
	};
	static const char *const bad[] = {
		"", "nqn.", "foo", "NQN.2026-11.io.nvring:x", "nqn.26-11.io.x", "nqn.2026-13.io.x",
		"nqn.2026-00.io.x", "nqn.2026-1.io.x", "nqn.2026-11io.x", "nqn.2026-11.", "nqn.2026-11.:x",
		"nqn.2014-08.org.nvmexpress:uuid:0c468c4d", "nqn.2014-08.org.nvmexpress:uuid:0c468c4da38547e082996e95051277db",
		"nqn.2026-11.io.x\tab",
	};
	char longest[224], toolong[225];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		tap_ok(nvr_nqn_valid(good[i]), "nqn '%s' is valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(!nvr_nqn_valid(bad[i]), "nqn '%s' is invalid", bad[i]);
	memset(longest, 'a', sizeof(longest));
	memcpy(longest, "nqn.2026-11.io.", 15);
	longest[223] = '\0';
	tap_ok(nvr_nqn_valid(longest), "nqn of 223 bytes is valid");
	memset(toolong, 'a', sizeof(toolong));
	memcpy(toolong, "nqn.2026-11.io.", 15);
	toolong[224] = '\0';
	tap_ok(!nvr_nqn_valid(toolong), "nqn of 224 bytes is invalid");
}

#define NQN_MSG "not a valid NQN (want nqn.yyyy-mm.reverse.domain[:name] or " \
		"nqn.2014-08.org.nvmexpress:uuid:UUID, at most 223 bytes)"

static void test_flag_errors(void)
{
	static const struct { const char *argv[8]; const char *msg; } cases[] = {
		{ { "--ns", "mem:12Q" }, "--ns 'mem:12Q': bad size '12Q'" },
		{ { "--ns", "mem:1G,bs=1000" }, "--ns 'mem:1G,bs=1000': bs: must be 512 or 4096" },
		{ { "--ns", "file:/x,bs" }, "--ns 'file:/x,bs': bs: must be 512 or 4096" },
		{ { "--ns", "mem:1G,buffered" }, "--ns 'mem:1G,buffered': buffered: does not apply to mem namespaces" },
		{ { "--ns", "passthru:/dev/ng0n1,size=1G" },
		  "--ns 'passthru:/dev/ng0n1,size=1G': size: does not apply to passthru namespaces" },
		{ { "--ns", "mem:1G,kvssd-compat" }, "--ns 'mem:1G,kvssd-compat': kvssd-compat: does not apply to mem namespaces" },
		{ { "--ns", "mem:1G,foo=1" }, "--ns 'mem:1G,foo=1': foo: unknown option" },
		{ { "--ns", "mem:1G,size=2G" }, "--ns 'mem:1G,size=2G': size: given twice" },
		{ { "--ns", "file:/x,ro,ro" }, "--ns 'file:/x,ro,ro': ro: given twice" },
		{ { "--ns", "file:/x,size=12Q" }, "--ns 'file:/x,size=12Q': size: bad size '12Q'" },
		{ { "--ns", "file:/x,ro=maybe" }, "--ns 'file:/x,ro=maybe': ro: must be a boolean (0/1, true/false)" },
		{ { "--ns", "zz:1" }, "--ns 'zz:1': unknown kind 'zz' (mem, file, kv, passthru, rbd, kv-rados)" },
		{ { "--ns", "mem" }, "--ns 'mem': expected KIND:PATH[,OPTION...] (e.g. mem:1G, file:/dev/sdb)" },
		{ { "--ns", "file:" }, "--ns 'file:': file needs a path" },
		{ { "--ns", "file:,size=1G" }, "--ns 'file:,size=1G': file needs a path" },
		{ { "--ns", "kv:" }, "--ns 'kv:': kv needs a path" },
		{ { "--ns", "passthru:" }, "--ns 'passthru:': passthru needs a path" },
		{ { "--ns", "mem:1000" }, "--ns 'mem:1000': size 1000 is not a multiple of the block size 512" },
		{ { "--ns", "mem:4608,bs=4096" }, "--ns 'mem:4608,bs=4096': size 4608 is not a multiple of the block size 4096" },
		{ { "--ns", "mem:0" }, "--ns 'mem:0': mem needs a size > 0 (e.g. mem:1G)" },
		{ { "--ns", "mem:,bs=512" }, "--ns 'mem:,bs=512': mem needs a size > 0 (e.g. mem:1G)" },
		{ { "--ns", "mem:1G,nsid=0" }, "--ns 'mem:1G,nsid=0': nsid: must be 1..4294967294 (0 and 0xFFFFFFFF are reserved)" },
		{ { "--ns", "mem:1G,nsid=4294967295" },
		  "--ns 'mem:1G,nsid=4294967295': nsid: must be 1..4294967294 (0 and 0xFFFFFFFF are reserved)" },
		{ { "--ns", "mem:1G,nsid=2", "--ns", "mem:1M,nsid=2" },
		  "--ns 'mem:1M,nsid=2': nsid 2 is already used by 'mem:1G,nsid=2'" },
		{ { "--ns", "mem:1G,uuid=xyz" }, "--ns 'mem:1G,uuid=xyz': uuid: bad uuid 'xyz' (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)" },
		{ { "--ns", "mem:1G,uuid=d592cdf3-5d1c-44e0-8412-3fcf7d99df27", "--ns",
		    "mem:1G,uuid=d592cdf3-5d1c-44e0-8412-3fcf7d99df27" },
		  "namespace 2 of nqn.2026-11.io.nvring:default has the same uuid as namespace 1 of nqn.2026-11.io.nvring:default" },
		{ { "-l", "127.0.0.1" },
		  "-l '127.0.0.1': expected ADDR:PORT or [IPV6]:PORT with a numeric address and a port 0..65535 (0: any free port)" },
		{ { "--listen", "::1:4420" },
		  "--listen '::1:4420': expected ADDR:PORT or [IPV6]:PORT with a numeric address and a port 0..65535 (0: any free port)" },
		{ { "-l", "127.0.0.1:4420", "--listen", "127.0.0.1:4420" }, "--listen '127.0.0.1:4420': given twice" },
		{ { "-l", "0.0.0.0:4420", "-l", "127.0.0.1:4420" },
		  "-l '127.0.0.1:4420': overlaps with '0.0.0.0:4420' (a wildcard address covers the other)" },
		{ { "-l", "[::1]:4420", "-l", "[0::0]:4420" },
		  "-l '[0::0]:4420': overlaps with '[::1]:4420' (a wildcard address covers the other)" },
		{ { "--nqn", "foo" }, "--nqn 'foo': " NQN_MSG },
		{ { "--nqn", "nqn.2014-08.org.nvmexpress.discovery" },
		  "--nqn 'nqn.2014-08.org.nvmexpress.discovery': that is the discovery subsystem's NQN" },
		{ { "--nqn", "nqn.2026-11.a.b", "--nqn", "nqn.2026-11.a.c" }, "option '--nqn' given twice" },
		{ { "--allow-host", "host1" }, "--allow-host 'host1': " NQN_MSG },
		{ { "--allow-host", "nqn.2026-11.a:h", "--allow-host", "nqn.2026-11.a:h" },
		  "--allow-host 'nqn.2026-11.a:h': given twice" },
		{ { "-t", "0" }, "-t '0': must be a number 1..1024" },
		{ { "--threads", "abc" }, "--threads 'abc': must be a number 1..1024" },
		{ { "-t", "2000" }, "-t '2000': must be a number 1..1024" },
		{ { "--bogus" }, "unknown option '--bogus' (see --help)" },
		{ { "--bogus=1" }, "unknown option '--bogus' (see --help)" },
		{ { "-x" }, "unknown option '-x' (see --help)" },
		{ { "-vx" }, "unknown option '-x' (see --help)" },
		{ { "extra" }, "unexpected argument 'extra'" },
		{ { "-" }, "unexpected argument '-'" },
		{ { "--", "x" }, "unexpected argument 'x'" },
		{ { "--poll=1" }, "option '--poll' takes no argument" },
		{ { "--ns" }, "option '--ns' needs an argument" },
		{ { "-l" }, "option '-l' needs an argument" },
		{ { "-c", "x.json", "--config", "y.json" }, "option '--config' given twice" },
		{ { "-c", "x.json", "--ns", "mem:1G" },
		  "--ns cannot be combined with -c: describe ports, subsystems, namespaces and hosts in the config file" },
		{ { "-l", "[::1]:4420", "--config=x.json" },
		  "-l cannot be combined with --config: describe ports, subsystems, namespaces and hosts in the config file" },
		{ { "-c", "/nonexistent/nvring.json" }, "/nonexistent/nvring.json: No such file or directory" },
		{ { "-c", "/" }, "/: not a regular file of at most 16777216 bytes" },
	};
	struct nvr_config cfg;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[10] = { "nvringd" };
		char name[600];
		int argc = 1, rc;

		for (int k = 0; cases[i].argv[k]; k++)
			argv[argc++] = (char *)cases[i].argv[k];
		err[0] = '\0';
		memset(&cfg, 0xa5, sizeof(cfg)); /* must not matter */
		rc = nvr_config_parse_args(&cfg, argc, argv, err, sizeof(err));
		snprintf(name, sizeof(name), "flag error: %s", cases[i].msg);
		tap_ok(rc == -1 && cfg.nr_ports == 0 && cfg.subsys == NULL, "%s: returns -1, config empty", name);
		check_str(err, cases[i].msg, name);
	}
	/* The error buffer may be small: the message is cut, never overrun. */
	{
		char small[8];
		char *argv[] = { "nvringd", "--ns", "mem:12Q", NULL };

		memset(small, 'x', sizeof(small));
		tap_ok(nvr_config_parse_args(&cfg, 3, argv, small, sizeof(small)) == -1 &&
		      !strcmp(small, "--ns 'm"), "flag error: message truncated to the buffer");
	}
}

static char *read_data(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	return path;
}

static void test_json_nvmetcli(void)
{
	struct nvr_config cfg;
	char err[512];
	const struct cfg_subsys *s;
	const struct cfg_port *p;
	int rc;

	rc = parse(&cfg, err, sizeof(err), "-c", read_data("nvmetcli.json"), NULL);
	if (!tap_ok(rc == 0, "nvmetcli.json: loads")) {
		printf("# %s\n", err);
		return;
	}
	tap_ok(cfg.config_file && strstr(cfg.config_file, "nvmetcli.json"), "nvmetcli.json: config_file kept");
	tap_ok(cfg.nr_hosts == 2 && !strcmp(cfg.hosts[1].nqn, "nqn.2026-11.com.example:host2"), "nvmetcli.json: hosts");
	tap_ok(cfg.nr_ports == 3, "nvmetcli.json: three ports");
	p = &cfg.ports[0];
	tap_ok(p->portid == 1 && p->family == AF_INET && !strcmp(p->addr, "127.0.0.1") && p->port == 4420 &&
	      !p->all_subsys && p->nr_subsys == 2 && p->subsys[0] == 0 && p->subsys[1] == 1 &&
	      !p->discovery_only && p->inline_data_size == 16384, "nvmetcli.json: port 1");
	tap_ok(p->nr_referrals == 1 && p->referrals[0].family == AF_INET &&
	      !strcmp(p->referrals[0].addr, "10.0.0.7") && p->referrals[0].port == 4420 &&
	      p->referrals[0].portid == 3, "nvmetcli.json: port 1 referral");
	p = &cfg.ports[1];
	tap_ok(p->portid == 2 && p->family == AF_INET6 && !strcmp(p->addr, "::1") && p->port == 4421 &&
	      p->nr_subsys == 1 && p->subsys[0] == 1 && !nvr_config_port_has_subsys(p, 0) &&
	      nvr_config_port_has_subsys(p, 1), "nvmetcli.json: port 2 (IPv6)");
	p = &cfg.ports[2];
	tap_ok(p->portid == 8009 && p->port == 8009 && p->discovery_only && p->nr_subsys == 0,
	      "nvmetcli.json: port 8009 with no subsystems is discovery only");

	tap_ok(cfg.nr_subsys == 2, "nvmetcli.json: two subsystems");
	s = &cfg.subsys[0];
	tap_ok(!strcmp(s->nqn, "nqn.2026-11.com.example:disk") && !s->allow_any_host &&
	      s->nr_allowed_hosts == 1 && !strncmp(s->allowed_hosts[0], "nqn.2014-08.org.nvmexpress:uuid:", 32),
	      "nvmetcli.json: subsystem 0 hosts");
	tap_ok(!strcmp(s->serial, "7d8f1a2b3c4d5e6f") && !strcmp(s->model, "Linux") &&
	      !strcmp(s->firmware, "6.1.0") && s->version == 0x10300 && s->cntlid_min == 1 &&
	      s->cntlid_max == 65519 && s->qid_max == 128 && s->ieee_oui == 0, "nvmetcli.json: subsystem 0 attr");
	tap_ok(s->nr_ns == 2 && s->ns[0].nsid == 1 && s->ns[0].enabled && !strcmp(s->ns[0].kind, "file") &&
	      !strcmp(s->ns[0].path, "/dev/nvme0n1") && s->ns[0].size == 0,
	      "nvmetcli.json: ns 1 is a file/blockdev namespace");
	tap_ok(uuid_is(s->ns[0].uuid, "d592cdf3-5d1c-44e0-8412-3fcf7d99df27") && !is_zero(s->ns[0].nguid, 16),
	      "nvmetcli.json: ns 1 uuid kept, zero nguid replaced");
	tap_ok(s->ns[1].nsid == 7 && !s->ns[1].enabled && !strcmp(s->ns[1].path, "/srv/nvmet/disk2.img") &&
	      uuid_is(s->ns[1].nguid, "6e2f37c1-b0d4-4a4e-9a2d-2b1c0f4e5d6a") && !is_zero(s->ns[1].uuid, 16),
	      "nvmetcli.json: ns 7 disabled, nguid kept, zero uuid replaced");
	s = &cfg.subsys[1];
	tap_ok(!strcmp(s->nqn, "nqn.2026-11.com.example:open") && s->allow_any_host && s->nr_ns == 0 &&
	      strlen(s->serial) == 20 && s->version == 0x10400, "nvmetcli.json: subsystem 1, empty serial generated");
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		nvr_config_print(f, &cfg);
		fclose(f);
		tap_ok(buf && strstr(buf, "port 2: [::1]:4421 nqn.2026-11.com.example:open\n") &&
		      strstr(buf, "port 8009: 127.0.0.1:8009 discovery only\n") &&
		      strstr(buf, "  ns 7: file:/srv/nvmet/disk2.img size 0 bs 0 disabled uuid "),
		      "print: ports and namespaces");
		free(buf);
	}
	nvr_config_free(&cfg);
}

static void test_json_ext(void)
{
	struct nvr_config cfg;
	char err[512];
	const struct cfg_subsys *s;
	int rc;

	rc = parse(&cfg, err, sizeof(err), "-c", read_data("nvring-ext.json"), NULL);
	if (!tap_ok(rc == 0, "nvring-ext.json: loads")) {
		printf("# %s\n", err);
		return;
	}
	tap_ok(cfg.threads == 3 && cfg.verbose == 2 && cfg.poll, "nvring-ext.json: nvring section");
	s = &cfg.subsys[0];
	tap_ok(s->nr_ns == 6 && s->allow_any_host, "nvring-ext.json: six namespaces");
	tap_ok(!strcmp(s->ns[0].kind, "mem") && s->ns[0].size == 64ull << 20 && s->ns[0].lba_size == 4096 &&
	      !s->ns[0].path, "nvring-ext.json: backend mem, size, lba_size");
	tap_ok(s->ns[0].nr_opts == 3 && !strcmp(s->ns[0].opts[0].key, "size") &&
	      !strcmp(s->ns[0].opts[1].key, "bs") && !strcmp(s->ns[0].opts[1].val, "4096") &&
	      !strcmp(s->ns[0].opts[2].key, "nsid"), "nvring-ext.json: raw options in --ns vocabulary");
	tap_ok(!strcmp(s->ns[1].kind, "mem") && s->ns[1].size == 1ull << 30, "nvring-ext.json: path mem:1G");
	tap_ok(!strcmp(s->ns[2].kind, "kv") && !strcmp(s->ns[2].path, "/var/lib/nvring/kv0") &&
	      s->ns[2].size == 1ull << 30 && s->ns[2].kvssd_compat, "nvring-ext.json: kv with kvssd_compat");
	tap_ok(!strcmp(s->ns[3].kind, "kv") && !s->ns[3].path, "nvring-ext.json: kv in memory");
	tap_ok(!strcmp(s->ns[4].kind, "passthru") && !strcmp(s->ns[4].path, "/dev/ng0n1") && s->ns[4].readonly,
	      "nvring-ext.json: passthru read-only");
	tap_ok(!strcmp(s->ns[5].kind, "file") && !strcmp(s->ns[5].path, "/tmp/disk.img") &&
	      s->ns[5].lba_size == 4096 && s->ns[5].buffered && s->ns[5].nsid == 6,
	      "nvring-ext.json: path in --ns syntax with options");
	tap_ok(cfg.ports[0].family == AF_INET6 && cfg.ports[0].nr_subsys == 1, "nvring-ext.json: port");
	nvr_config_free(&cfg);

	/* Flags still apply over the file */
	rc = parse(&cfg, err, sizeof(err), "-c", read_data("nvring-ext.json"), "-t", "5", "-v", NULL);
	tap_ok(rc == 0 && cfg.threads == 5 && cfg.verbose == 1 && cfg.poll, "-c with -t/-v: flags win");
	nvr_config_free(&cfg);
	rc = parse(&cfg, err, sizeof(err), "--poll", "--config", read_data("nvmetcli.json"), NULL);
	tap_ok(rc == 0 && cfg.poll && cfg.verbose == 0 && cfg.threads == (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
	      "-c with --poll: poll on, file without nvring section keeps defaults");
	nvr_config_free(&cfg);
}

/* JSON snippets for the validation table */
#define PORT(subs) "{\"portid\":1,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"4420\"," \
	"\"trtype\":\"tcp\"},\"subsystems\":[" subs "]}"
#define PORTA PORT("\"nqn.2026-11.io.t:a\"")
#define ADDR(fam, ip, svc) "\"addr\":{\"adrfam\":\"" fam "\",\"traddr\":\"" ip "\",\"trsvcid\":" svc ",\"trtype\":\"tcp\"}"
#define SUB(nqn, rest) "{\"nqn\":\"" nqn "\"" rest "}"
#define SUBA(ns) SUB("nqn.2026-11.io.t:a", ",\"namespaces\":[" ns "]")
#define NSMEM(id) "{\"nsid\":" id ",\"device\":{\"path\":\"mem:1M\"}}"
#define NSDEV(dev) "{\"nsid\":1,\"device\":{" dev "}}"
#define DOC(subs, ports) "{\"subsystems\":[" subs "],\"ports\":[" ports "]}"
#define SUBNS(dev) DOC(SUBA(NSDEV(dev)), PORTA)
#define NSPATH "subsystems[0].namespaces[0]"

static void test_json_errors(void)
{
	static const struct { const char *json, *msg; } cases[] = {
		{ "{\"bogus\":1}", "t.json: bogus: unknown key (expected one of: hosts, ports, subsystems, nvring)" },
		{ "[]", "t.json: must be an object" },
		{ "{\"subsystems\":[]", "t.json: line 1, column 17: unexpected end of file" },
		{ "{\"subsystems\":[],\n \"ports\": [x]}", "t.json: line 2, column 12: unexpected character" },
		{ DOC("", PORT("")) " {}", "t.json: trailing data after the JSON object" },
		{ "{\"subsystems\":[]}", "t.json: ports: missing" },
		{ "{\"ports\":[]}", "t.json: ports: empty: nothing to listen on" },
		{ "{\"ports\":{}}", "t.json: ports: must be an array" },
		{ "{\"ports\":[1]}", "t.json: ports[0]: must be an object" },
		{ DOC(SUBA(NSMEM("1") "," "{\"nsid\":2,\"device\":{\"backend\":\"mem\",\"size\":\"1G\",\"lba_size\":1000}}"), PORTA),
		  "t.json: subsystems[0].namespaces[1].device.lba_size: must be 512 or 4096" },
		{ DOC(SUBA(NSMEM("1") "," NSMEM("1")), PORTA), "t.json: subsystems[0].namespaces[1].nsid: 1 is also namespaces[0]" },
		{ DOC(SUBA(NSMEM("0")), PORTA),
		  "t.json: " NSPATH ".nsid: must be 1..4294967294 (0 and 0xFFFFFFFF are reserved)" },
		{ DOC(SUBA(NSMEM("4294967295")), PORTA),
		  "t.json: " NSPATH ".nsid: must be 1..4294967294 (0 and 0xFFFFFFFF are reserved)" },
		{ DOC(SUBA(NSMEM("\"0xFFFFFFFF\"")), PORTA), "t.json: " NSPATH ".nsid: must be an integer 0..4294967295" },
		{ DOC(SUBA(NSMEM("-1")), PORTA), "t.json: " NSPATH ".nsid: must be an integer 0..4294967295" },
		{ DOC(SUBA("{\"device\":{\"path\":\"mem:1M\"}}"), PORTA), "t.json: " NSPATH ".nsid: missing" },
		{ DOC(SUBA("{\"nsid\":1}"), PORTA), "t.json: " NSPATH ".device: missing" },
		{ DOC(SUBA("{\"nsid\":1,\"device\":\"/dev/sda\"}"), PORTA), "t.json: " NSPATH ".device: must be an object" },
		{ DOC(SUBA("{\"nsid\":1,\"enable\":2,\"device\":{\"path\":\"mem:1M\"}}"), PORTA),
		  "t.json: " NSPATH ".enable: must be a boolean (true/false, 0/1, \"0\"/\"1\")" },
		{ DOC(SUBA("{\"nsid\":1,\"device\":{\"path\":\"mem:1M\"},\"resv\":{\"enable\":\"1\"}}"), PORTA),
		  "t.json: " NSPATH ".resv.enable: reservations is not supported" },
		{ DOC(SUBA("{\"nsid\":1,\"device\":{\"path\":\"mem:1M\"},\"ana\":{\"state\":1}}"), PORTA),
		  "t.json: " NSPATH ".ana.state: unknown key (expected one of: grpid)" },
		{ DOC(SUBA("{\"nsid\":1,\"devise\":{}}"), PORTA),
		  "t.json: " NSPATH ".devise: unknown key (expected one of: nsid, enable, device, ana_grpid, ana, resv)" },
		{ SUBNS("\"path\":\"mem:1M\",\"lba\":512"),
		  "t.json: " NSPATH ".device.lba: unknown key (expected one of: path, uuid, nguid, p2pmem, backend, size, "
		  "lba_size, buffered, readonly, kvssd_compat, segment_size, max_value, gc_threshold, volatile_cache, "
		  "format, all_opcodes, pool, image, rados_namespace, conf, id, cluster, connect_timeout, op_timeout, "
		  "shards)" },
		{ SUBNS("\"backend\":\"zfs\",\"path\":\"/x\""),
		  "t.json: " NSPATH ".device.backend: unknown kind 'zfs' (mem, file, kv, passthru, rbd, kv-rados)" },
		{ SUBNS("\"backend\":\"mem\",\"size\":\"1G\",\"buffered\":true"),
		  "t.json: " NSPATH ".device.buffered: does not apply to mem namespaces" },
		{ SUBNS("\"backend\":\"passthru\",\"path\":\"/dev/ng0n1\",\"size\":\"1G\""),
		  "t.json: " NSPATH ".device.size: does not apply to passthru namespaces" },
		{ SUBNS("\"path\":\"mem:1G\",\"size\":\"1G\""), "t.json: " NSPATH ".device.size: given twice" },
		{ SUBNS("\"path\":\"mem:1G,nsid=2\""), "t.json: " NSPATH ".nsid: given twice" },
		{ SUBNS("\"path\":\"mem:12Q\""), "t.json: " NSPATH ".device.path: bad size '12Q'" },
		{ SUBNS("\"path\":\"file:/x,bogus\""), "t.json: " NSPATH ".device.path: bogus: unknown option" },
		{ SUBNS("\"backend\":\"mem\",\"size\":\"12Q\""), "t.json: " NSPATH ".device.size: bad size '12Q'" },
		{ SUBNS("\"backend\":\"mem\",\"size\":-5"),
		  "t.json: " NSPATH ".device.size: must be a string or a non-negative integer" },
		{ SUBNS("\"backend\":\"mem\""), "t.json: " NSPATH ": mem needs a size > 0 (e.g. mem:1G)" },
		{ SUBNS("\"backend\":\"mem\",\"size\":1000"),
		  "t.json: " NSPATH ": size 1000 is not a multiple of the block size 512" },
		{ SUBNS("\"backend\":\"file\""), "t.json: " NSPATH ".device: file needs a path" },
		{ SUBNS("\"path\":\"\""), "t.json: " NSPATH ".device.path: file needs a path" },
		{ SUBNS("\"path\":7"), "t.json: " NSPATH ".device.path: must be a string" },
		{ SUBNS("\"path\":\"/etc/passwd\\u0000.img\""), "t.json: " NSPATH ".device.path: must not contain NUL characters" },
		{ SUBNS("\"path\":\"/x\",\"readonly\":\"yes please\""),
		  "t.json: " NSPATH ".device.readonly: must be a boolean (true/false, 0/1, \"0\"/\"1\")" },
		{ SUBNS("\"path\":\"/x\",\"uuid\":\"d592cdf3-5d1c-44e0-8412\""),
		  "t.json: " NSPATH ".device.uuid: bad uuid 'd592cdf3-5d1c-44e0-8412' (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)" },
		{ DOC(SUBA("{\"nsid\":1,\"device\":{\"path\":\"/x\",\"nguid\":\"6e2f37c1-b0d4-4a4e-9a2d-2b1c0f4e5d6a\"}},"
			   "{\"nsid\":2,\"device\":{\"path\":\"/y\",\"nguid\":\"6e2f37c1-b0d4-4a4e-9a2d-2b1c0f4e5d6a\"}}"), PORTA),
		  "t.json: namespace 2 of nqn.2026-11.io.t:a has the same nguid as namespace 1 of nqn.2026-11.io.t:a" },
		{ DOC(SUB("nqn.2026-11.io.t:a", "") "," SUB("nqn.2026-11.io.t:a", ""), PORTA),
		  "t.json: subsystems[1].nqn: 'nqn.2026-11.io.t:a' is also subsystems[0]" },
		{ DOC(SUB("foo", ""), PORT("")), "t.json: subsystems[0].nqn: 'foo': " NQN_MSG },
		{ DOC("{}", PORT("")), "t.json: subsystems[0].nqn: missing" },
		{ DOC("{\"nqn\":5}", PORT("")), "t.json: subsystems[0].nqn: must be a string" },
		{ DOC(SUB("nqn.2014-08.org.nvmexpress.discovery", ""), PORT("")),
		  "t.json: subsystems[0].nqn: 'nqn.2014-08.org.nvmexpress.discovery' is the discovery subsystem's NQN" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ",\"passthru\":[{}]"), PORTA),
		  "t.json: subsystems[0].passthru: whole-controller passthrough is not supported; use a namespace with "
		  "\"backend\": \"passthru\"" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ",\"attr\":{\"pi_enable\":\"1\"}"), PORTA),
		  "t.json: subsystems[0].attr.pi_enable: protection information is not supported" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ",\"attr\":{\"serial\":\"123456789012345678901\"}"), PORTA),
		  "t.json: subsystems[0].attr.serial: longer than 20 characters" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ",\"attr\":{\"model\":\"caf\xc3\xa9\"}"), PORTA),
		  "t.json: subsystems[0].attr.model: must be printable ASCII" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ",\"attr\":{\"version\":\"one\"}"), PORTA),
		  "t.json: subsystems[0].attr.version: must look like \"1.3\" or \"1.2.1\"" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ",\"attr\":{\"cntlid_min\":\"100\",\"cntlid_max\":\"10\"}"), PORTA),
		  "t.json: subsystems[0].attr.cntlid_min: greater than cntlid_max" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ",\"attr\":{\"cntlid_max\":\"65520\"}"), PORTA),
		  "t.json: subsystems[0].attr.cntlid_max: must be an integer 1..65519" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ",\"attr\":{\"allow_any_host\":\"maybe\"}"), PORTA),
		  "t.json: subsystems[0].attr.allow_any_host: must be a boolean (true/false, 0/1, \"0\"/\"1\")" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ",\"attr\":{\"colour\":\"red\"}"), PORTA),
		  "t.json: subsystems[0].attr.colour: unknown key (expected one of: allow_any_host, serial, model, version, "
		  "firmware, ieee_oui, cntlid_min, cntlid_max, qid_max, pi_enable)" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ",\"allowed_hosts\":[\"nqn.2026-11.io.t:h\"]"), PORTA),
		  "t.json: subsystems[0].allowed_hosts[0]: 'nqn.2026-11.io.t:h' is not in \"hosts\"" },
		{ "{\"hosts\":[{\"nqn\":\"nqn.2026-11.io.t:h\"}],\"subsystems\":[" SUB("nqn.2026-11.io.t:a",
		  ",\"attr\":{\"allow_any_host\":\"1\"},\"allowed_hosts\":[\"nqn.2026-11.io.t:h\"]") "],\"ports\":[" PORTA "]}",
		  "t.json: subsystems[0].attr.allow_any_host: is \"1\" but allowed_hosts is not empty (nvmet refuses this too)" },
		{ "{\"hosts\":[{\"nqn\":\"nqn.2026-11.io.t:h\"}],\"subsystems\":[" SUB("nqn.2026-11.io.t:a",
		  ",\"allowed_hosts\":[\"nqn.2026-11.io.t:h\",\"nqn.2026-11.io.t:h\"]") "],\"ports\":[" PORTA "]}",
		  "t.json: subsystems[0].allowed_hosts[1]: 'nqn.2026-11.io.t:h' is listed twice" },
		{ "{\"hosts\":[{\"nqn\":\"nqn.2026-11.io.t:h\"},{\"nqn\":\"nqn.2026-11.io.t:h\"}],\"ports\":[" PORT("") "]}",
		  "t.json: hosts[1].nqn: 'nqn.2026-11.io.t:h' is listed twice" },
		{ "{\"hosts\":[{\"nqn\":\"h\"}],\"ports\":[" PORT("") "]}", "t.json: hosts[0].nqn: 'h': " NQN_MSG },
		{ "{\"hosts\":[{}],\"ports\":[" PORT("") "]}", "t.json: hosts[0].nqn: missing" },
		{ "{\"hosts\":[{\"nqn\":\"nqn.2026-11.io.t:h\",\"dhchap\":{\"key\":\"DHHC-1:00:abc\"}}],\"ports\":[" PORT("") "]}",
		  "t.json: hosts[0].dhchap.key: must be a DH-HMAC-CHAP secret (DHHC-1:XX:BASE64:)" },
		{ DOC("", PORT("\"nqn.2026-11.io.t:b\"")), "t.json: ports[0].subsystems[0]: 'nqn.2026-11.io.t:b' is not in \"subsystems\"" },
		{ DOC(SUB("nqn.2026-11.io.t:a", ""), PORT("\"nqn.2026-11.io.t:a\",\"nqn.2026-11.io.t:a\"")),
		  "t.json: ports[0].subsystems[1]: 'nqn.2026-11.io.t:a' is listed twice" },
		{ DOC("", "{\"portid\":1," ADDR("ipv4", "127.0.0.300", "\"4420\"") "}"),
		  "t.json: ports[0].addr.traddr: '127.0.0.300' is not a numeric IPv4 address" },
		{ DOC("", "{\"portid\":1," ADDR("ipv4", "::1", "\"4420\"") "}"),
		  "t.json: ports[0].addr.traddr: '::1' is not a numeric IPv4 address" },
		{ DOC("", "{\"portid\":1," ADDR("ipv6", "127.0.0.1", "\"4420\"") "}"),
		  "t.json: ports[0].addr.traddr: '127.0.0.1' is not a numeric IPv6 address" },
		{ DOC("", "{\"portid\":1," ADDR("ipv4", "localhost", "\"4420\"") "}"),
		  "t.json: ports[0].addr.traddr: 'localhost' is not a numeric IPv4 address" },
		{ DOC("", "{\"portid\":1," ADDR("fc", "127.0.0.1", "\"4420\"") "}"),
		  "t.json: ports[0].addr.adrfam: 'fc': must be \"ipv4\" or \"ipv6\"" },
		{ DOC("", "{\"portid\":1," ADDR("ipv4", "127.0.0.1", "\"0\"") "}"),
		  "t.json: ports[0].addr.trsvcid: must be an integer 1..65535" },
		{ DOC("", "{\"portid\":1," ADDR("ipv4", "127.0.0.1", "\"nvme\"") "}"),
		  "t.json: ports[0].addr.trsvcid: must be an integer 1..65535" },
		{ DOC("", "{\"portid\":1," ADDR("ipv4", "127.0.0.1", "65536") "}"),
		  "t.json: ports[0].addr.trsvcid: must be an integer 1..65535" },
		{ DOC("", "{\"portid\":1,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trtype\":\"tcp\"}}"),
		  "t.json: ports[0].addr.trsvcid: missing" },
		{ DOC("", "{\"portid\":1,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"4420\",\"trtype\":\"rdma\"}}"),
		  "t.json: ports[0].addr.trtype: 'rdma': only \"tcp\" is supported" },
		{ DOC("", "{\"portid\":1,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"4420\",\"trtype\":\"tcp\","
			  "\"treq\":\"required\"}}"),
		  "t.json: ports[0].addr.treq: \"required\" needs tsas \"tls1.3\"" },
		{ DOC("", "{\"portid\":1,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"4420\",\"trtype\":\"tcp\","
			  "\"tsas\":\"tls1.2\"}}"),
		  "t.json: ports[0].addr.tsas: 'tls1.2': must be \"none\" or \"tls1.3\"" },
		{ DOC("", "{\"portid\":1}"), "t.json: ports[0].addr: missing" },
		{ DOC("", "{" ADDR("ipv4", "127.0.0.1", "\"4420\"") "}"), "t.json: ports[0].portid: missing" },
		{ DOC("", "{\"portid\":\"x\"," ADDR("ipv4", "127.0.0.1", "\"4420\"") "}"),
		  "t.json: ports[0].portid: must be an integer 0..65535" },
		{ DOC("", PORT("") "," PORT("")), "t.json: ports[1].portid: 1 is also ports[0]" },
		{ DOC("", PORT("") ",{\"portid\":2," ADDR("ipv4", "0.0.0.0", "4420") "}"),
		  "t.json: ports[1].addr: 0.0.0.0:4420 overlaps (wildcard address) with ports[0]" },
		{ DOC("", PORT("") ",{\"portid\":2," ADDR("ipv4", "127.0.0.1", "4420") "}"),
		  "t.json: ports[1].addr: 127.0.0.1:4420 is also ports[0]" },
		{ DOC("", "{\"portid\":1," ADDR("ipv6", "::1", "\"4420\"") "},{\"portid\":2," ADDR("ipv6", "0::1", "\"4420\"") "}"),
		  "t.json: ports[1].addr: [::1]:4420 is also ports[0]" },
		{ DOC("", "{\"portid\":1,\"param\":{\"inline_data_size\":\"-1\"}," ADDR("ipv4", "127.0.0.1", "\"4420\"") "}"),
		  "t.json: ports[0].param.inline_data_size: must be an integer 0..1048576" },
		{ DOC("", "{\"portid\":1,\"referrals\":[{\"name\":\"r\"}]," ADDR("ipv4", "127.0.0.1", "\"4420\"") "}"),
		  "t.json: ports[0].referrals[0].addr: missing" },
		{ DOC("", "{\"portid\":1,\"ana_groups\":[{\"grpid\":1,\"ana\":{\"state\":\"optimized\",\"x\":1}}],"
			  ADDR("ipv4", "127.0.0.1", "\"4420\"") "}"),
		  "t.json: ports[0].ana_groups[0].ana.x: unknown key (expected one of: state)" },
		{ DOC("", "{\"portid\":1,\"subsystem\":[]," ADDR("ipv4", "127.0.0.1", "\"4420\"") "}"),
		  "t.json: ports[0].subsystem: unknown key (expected one of: portid, addr, subsystems, referrals, param, ana_groups)" },
		{ "{\"nvring\":{\"threads\":0},\"ports\":[" PORT("") "]}", "t.json: nvring.threads: must be an integer 1..1024" },
		{ "{\"nvring\":{\"thread\":2},\"ports\":[" PORT("") "]}",
		  "t.json: nvring.thread: unknown key (expected one of: threads, verbose, poll, max_connections, "
		  "max_connections_per_host, max_inflight_bytes, max_inflight_bytes_per_conn, icreq_timeout, "
		  "connect_timeout, pdu_timeout, listen_backlog, rpc_socket, metrics)" },
	};
	struct nvr_config cfg;
	char err[512], name[700];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		memset(&cfg, 0, sizeof(cfg));
		cfg.threads = 7;
		err[0] = '\0';
		rc = nvr_config_load_json_string(&cfg, cases[i].json, "t.json", err, sizeof(err));
		snprintf(name, sizeof(name), "json error: %s", cases[i].msg);
		tap_ok(rc == -1 && cfg.nr_ports == 0 && cfg.nr_subsys == 0 && cfg.threads == 7,
		      "%s: returns -1, config unchanged", name);
		check_str(err, cases[i].msg, name);
		nvr_config_free(&cfg);
	}
}

static void test_json_accepts(void)
{
	static const struct { const char *json, *name; } cases[] = {
		{ DOC("", PORT("")), "minimal: one discovery port" },
		{ DOC(SUB("nqn.2014-08.org.nvmexpress:uuid:0c468c4d-a385-47e0-8299-6e95051277db",
			  ",\"namespaces\":[{\"nsid\":\"3\",\"enable\":\"1\",\"device\":{\"path\":\"/dev/sdb\"}}]"),
		      PORT("\"nqn.2014-08.org.nvmexpress:uuid:0c468c4d-a385-47e0-8299-6e95051277db\"")),
		  "uuid-form NQN, string nsid" },
		{ "{\"hosts\":[{\"nqn\":\"nqn.2026-11.io.t:h\",\"dhchap\":{\"key\":\"\",\"ctrl_key\":\"\",\"hash\":\"hmac(sha256)\","
		  "\"dhgroup\":\"null\"}}],\"ports\":[" PORT("") "]}", "empty dhchap group from nvmetcli" },
		{ DOC("", "{\"portid\":1,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":4420,\"trtype\":\"tcp\","
			  "\"treq\":\"not required\",\"tsas\":\"\"}}"), "integer trsvcid, treq not required" },
	};
	struct nvr_config cfg;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		memset(&cfg, 0, sizeof(cfg));
		rc = nvr_config_load_json_string(&cfg, cases[i].json, "t.json", err, sizeof(err));
		if (!tap_ok(rc == 0, "json accepts: %s", cases[i].name))
			printf("# %s\n", err);
		nvr_config_free(&cfg);
	}
	memset(&cfg, 0, sizeof(cfg));
	tap_ok(nvr_config_load_json_string(&cfg, DOC(SUB("nqn.2026-11.io.t:a", ",\"namespaces\":[]"), PORTA), "t.json",
					  err, sizeof(err)) == 0 &&
	      cfg.subsys[0].allow_any_host && cfg.ports[0].nr_subsys == 1 && !cfg.ports[0].discovery_only,
	      "json: without attr, an empty allowed_hosts means any host");
	nvr_config_free(&cfg);
	tap_ok(nvr_config_load_json_string(&cfg, DOC(SUB("nqn.2026-11.io.t:a", ",\"attr\":{\"allow_any_host\":\"0\"}"), PORTA),
					  "t.json", err, sizeof(err)) == 0 && !cfg.subsys[0].allow_any_host &&
	      cfg.subsys[0].nr_allowed_hosts == 0, "json: allow_any_host \"0\" with no hosts keeps everyone out");
	nvr_config_free(&cfg);

	/* A failed load leaves an existing config alone */
	{
		char errbuf[256];

		tap_ok(parse(&cfg, errbuf, sizeof(errbuf), NULL) == 0 &&
		      nvr_config_load_json_string(&cfg, "{}", "t.json", errbuf, sizeof(errbuf)) == -1 &&
		      cfg.nr_ports == 2 && cfg.nr_subsys == 1 && cfg.subsys[0].nr_ns == 1,
		      "json: a failed load leaves the config unchanged");
		tap_ok(nvr_config_load_json_string(&cfg, DOC("", PORT("")), "t.json", errbuf, sizeof(errbuf)) == 0 &&
		      cfg.nr_ports == 1 && cfg.nr_subsys == 0 && cfg.ports[0].discovery_only,
		      "json: a good load replaces ports and subsystems");
		nvr_config_free(&cfg);
	}
}

/* Damaged files must fail cleanly (under ASan in CI): every prefix, and deterministic mutations. */
static void test_json_robust(void)
{
	static const char junk[] = "\"{}[],:0x \\-1e99n";
	struct nvr_config cfg;
	char err[512], *text;
	FILE *f = fopen(read_data("nvmetcli.json"), "r");
	size_t len, bad_prefix = 0, bad_mut = 0, accepted = 0;
	uint32_t seed = 12345;

	if (!tap_ok(f != NULL, "robust: sample opens"))
		return;
	text = calloc(1, 1 << 16);
	len = fread(text, 1, (1 << 16) - 1, f);
	fclose(f);
	for (size_t l = 0; l + 1 < len; l++) { /* the last byte is a newline: the full text is valid */
		char saved = text[l];
		int rc;

		text[l] = '\0';
		memset(&cfg, 0, sizeof(cfg));
		err[0] = '\0';
		rc = nvr_config_load_json_string(&cfg, text, "t.json", err, sizeof(err));
		if (rc != -1 || strncmp(err, "t.json: ", 8) || cfg.nr_ports)
			bad_prefix++;
		nvr_config_free(&cfg);
		text[l] = saved;
	}
	tap_ok(bad_prefix == 0, "robust: all %zu truncations fail with a message", len - 1);
	for (int i = 0; i < 3000; i++) {
		size_t pos;
		char saved;
		int rc;

		seed = seed * 1103515245u + 12345u;
		pos = (seed >> 8) % len;
		seed = seed * 1103515245u + 12345u;
		saved = text[pos];
		text[pos] = junk[(seed >> 8) % (sizeof(junk) - 1)];
		memset(&cfg, 0, sizeof(cfg));
		err[0] = '\0';
		rc = nvr_config_load_json_string(&cfg, text, "t.json", err, sizeof(err));
		if (rc == 0)
			accepted++;
		else if (rc != -1 || strncmp(err, "t.json: ", 8) || cfg.nr_ports)
			bad_mut++;
		nvr_config_free(&cfg);
		text[pos] = saved;
	}
	tap_ok(bad_mut == 0, "robust: 3000 one-byte mutations load or fail cleanly (%zu loaded)", accepted);
	free(text);
}

/* The example in docs/config.md is the first ```json block; it must stay valid. */
static void test_doc_example(void)
{
	struct nvr_config cfg = { 0 };
	char err[512] = "", *text = NULL, *start, *end;
	size_t cap = 0;
	FILE *f;
	ssize_t n;

	if (!doc_path)
		return;
	f = fopen(doc_path, "r");
	if (!tap_ok(f != NULL, "docs: %s opens", doc_path))
		return;
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	start = n > 0 ? strstr(text, "```json\n") : NULL;
	end = start ? strstr(start + 8, "\n```") : NULL;
	if (tap_ok(start && end, "docs: has a JSON example")) {
		end[1] = '\0';
		tap_ok(nvr_config_load_json_string(&cfg, start + 8, "config.md", err, sizeof(err)) == 0,
		      "docs: the JSON example loads%s%s", err[0] ? ": " : "", err[0] ? err : "");
		tap_ok(cfg.nr_ports == 2 && cfg.ports[1].discovery_only && cfg.nr_subsys == 1 &&
		      cfg.subsys[0].nr_ns == 3 && cfg.threads == 4, "docs: the JSON example means what it says");
	}
	nvr_config_free(&cfg);
	free(text);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		data_dir = argv[1];
	if (argc > 2)
		doc_path = argv[2];
	test_defaults();
	test_all_flags();
	test_parse_size();
	test_parse_addr();
	test_nqn();
	test_flag_errors();
	test_json_nvmetcli();
	test_json_ext();
	test_json_errors();
	test_json_accepts();
	test_json_robust();
	test_doc_example();
	return tap_done();
}
