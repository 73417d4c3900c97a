/* SPDX-License-Identifier: MIT */
/*
 * DH-HMAC-CHAP and TLS settings: host keys (inline, in nvmetcli's "dhchap" group, from files),
 * allowed hashes and DH groups per subsystem, TLS requirements of ports, and that no message
 * or print ever shows a key. TAP; argv[1] is the sample-config folder.
 */
#include <sys/stat.h>

#include "cfg_test.h"

#define KEY1 "DHHC-1:01:T9ra1N18uoFmBc5e43dmlsRskMVguNogmOxBZ6R9lzbxp4hV:"
#define KEY2 "DHHC-1:02:xqamZ0ww/rasKQP/PxD/m+JkSgp0FAKmhU8lrSn+r94zeX5y:"
#define PSK1 "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"
#define NQN_H "nqn.2026-11.io.t:h"

static const char *data_dir = ".";

static void test_json_good(void)
{
	struct nvr_config cfg;
	char path[4096], err[512];
	const struct cfg_host *h;

	snprintf(path, sizeof(path), "%s/security.json", data_dir);
	if (!tap_ok(parse(&cfg, err, sizeof(err), "-c", path, NULL) == 0, "security.json: loads")) {
		printf("# %s\n", err);
		return;
	}
	h = &cfg.hosts[0];
	tap_ok(cfg.nr_hosts == 3 && !strcmp(h->dhchap_key.value, KEY1) && !strcmp(h->dhchap_ctrl_key.value, KEY2) &&
	       !h->dhchap_key.file && h->dhchap_hash == CFG_HASH_SHA384 && h->dhchap_dhgroup == CFG_DHGROUP_FFDHE2048 &&
	       !h->psk.value, "security.json: host 0 with nvmet's attribute names");
	h = &cfg.hosts[1];
	tap_ok(h->dhchap_key.value && !strncmp(h->dhchap_key.value, "DHHC-1:00:xa97", 14) && !h->dhchap_ctrl_key.value &&
	       h->dhchap_hash == CFG_HASH_SHA512 && h->dhchap_dhgroup == CFG_DHGROUP_NULL,
	       "security.json: host 1 in nvmetcli's dhchap group (empty ctrl_key = none)");
	h = &cfg.hosts[2];
	tap_ok(!h->dhchap_key.value && !strcmp(h->psk.value, PSK1) && h->dhchap_hash == CFG_HASH_SHA256 &&
	       h->dhchap_dhgroup == CFG_DHGROUP_NULL, "security.json: host 2 with a PSK, nvmet's defaults");
	tap_ok(cfg.ports[0].treq == CFG_TREQ_REQUIRED && cfg.ports[0].tsas == CFG_TSAS_TLS13 &&
	       cfg.ports[1].treq == CFG_TREQ_NOT_REQUIRED && cfg.ports[1].tsas == CFG_TSAS_TLS13,
	       "security.json: TLS required on port 1, optional on port 2");
	tap_ok(cfg.ports[2].treq == CFG_TREQ_REQUIRED && cfg.ports[2].tsas == CFG_TSAS_TLS13,
	       "security.json: tsas tls1.3 without treq means required (as nvmet)");
	tap_ok(cfg.subsys[0].dhchap_hashes == ((1u << CFG_HASH_SHA384) | (1u << CFG_HASH_SHA512)) &&
	       cfg.subsys[0].dhchap_dhgroups == ((1u << CFG_DHGROUP_NULL) | (1u << CFG_DHGROUP_FFDHE2048) |
						 (1u << CFG_DHGROUP_FFDHE8192)), "security.json: allowed hashes and groups");
	tap_ok(cfg.ports[0].treq == CFG_TREQ_REQUIRED && cfg.nr_subsys == 1 && cfg.subsys[0].nr_allowed_hosts == 3,
	       "security.json: subsystem allows the three hosts");
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		nvr_config_print(f, &cfg);
		fclose(f);
		tap_ok(buf && !strstr(buf, "T9ra1N") && !strstr(buf, "xqamZ0") && !strstr(buf, "VRLbtn") &&
		       strstr(buf, "host nqn.2026-11.com.example:tls: psk\n") &&
		       strstr(buf, "dhchap-key dhchap-ctrl-key hmac(sha384) ffdhe2048") && strstr(buf, " tls required") &&
		       strstr(buf, " tls optional") && strstr(buf, ", dhchap hmac(sha384) hmac(sha512) null ffdhe2048 ffdhe8192"),
		       "print: keys are said to be set, never shown");
		free(buf);
	}
	nvr_config_free(&cfg);

	cfg.subsys = NULL;
	{
		static const char one[] = "{\"nqn\":\"nqn.2026-11.io.t:s\",\"dhchap_hashes\":[\"hmac(sha256)\"]}";
		char doc[512];

		snprintf(doc, sizeof(doc), "{\"subsystems\":[%s],\"ports\":[{\"portid\":1,\"addr\":{\"adrfam\":\"ipv4\","
			 "\"traddr\":\"127.0.0.1\",\"trsvcid\":1,\"trtype\":\"tcp\"}}]}", one);
		tap_ok(load_str(&cfg, doc, err, sizeof(err)) == 0 && cfg.subsys[0].dhchap_hashes == 1u << CFG_HASH_SHA256 &&
		       cfg.subsys[0].dhchap_dhgroups == CFG_DHCHAP_DHGROUPS_ALL, "json: one hash; groups default to all");
		nvr_config_free(&cfg);
	}
}

#define PORT "{\"portid\":1,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"4420\",\"trtype\":\"tcp\"}}"
#define HOSTS(h) "{\"hosts\":[" h "],\"ports\":[" PORT "]}"
#define HOST(rest) HOSTS("{\"nqn\":\"" NQN_H "\"" rest "}")
#define SUBS(rest) "{\"subsystems\":[{\"nqn\":\"nqn.2026-11.io.t:s\"" rest "}],\"ports\":[" PORT "]}"
#define TLSPORT(addr) "{\"ports\":[{\"portid\":1,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\"," \
	"\"trsvcid\":\"4420\",\"trtype\":\"tcp\"" addr "}}]}"
#define DH_SHAPE "must be a DH-HMAC-CHAP secret (DHHC-1:XX:BASE64:)"

static void test_json_bad(void)
{
	char missing[] = "/nonexistent/key";
	const char *bad_file = write_tmp("bad.key", "DHHC-1:00:zz\n");
	const char *empty_file = write_tmp("empty.key", "\n");
	const char *two_lines = write_tmp("two.key", KEY1 "\n" KEY2 "\n");
	char big[5000], fifo[128], doc[700], msg[700];
	struct nvr_config cfg;
	char err[768], name[900];

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *big_file = write_tmp("big.key", big);
	snprintf(fifo, sizeof(fifo), "%s.fifo", bad_file);
	unlink(fifo);
	mkfifo(fifo, 0600);
	snprintf(tmp_files[nr_tmp_files++], 128, "%s", fifo);

	static const struct { const char *json, *msg; } cases[] = {
		{ HOST(",\"dhchap_key\":\"abc\""), "t.json: hosts[0].dhchap_key: " DH_SHAPE },
		{ HOST(",\"dhchap_key\":\"DHHC-1:0g:abcd:\""), "t.json: hosts[0].dhchap_key: " DH_SHAPE },
		{ HOST(",\"dhchap_key\":\"DHHC-1:00::\""), "t.json: hosts[0].dhchap_key: " DH_SHAPE },
		{ HOST(",\"dhchap_key\":\"DHHC-1:00:ab cd:\""), "t.json: hosts[0].dhchap_key: " DH_SHAPE },
		{ HOST(",\"dhchap_key\":\"DHHC-1:00:abcd\""), "t.json: hosts[0].dhchap_key: " DH_SHAPE },
		{ HOST(",\"dhchap_key\":7"), "t.json: hosts[0].dhchap_key: must be a string" },
		{ HOST(",\"dhchap\":{\"key\":\"" PSK1 "\"}"), "t.json: hosts[0].dhchap.key: " DH_SHAPE },
		{ HOST(",\"psk\":\"NVMeTLSkey-1:01:abc\""),
		  "t.json: hosts[0].psk: must be a TLS PSK in interchange form (NVMeTLSkey-1:XX:BASE64:)" },
		{ HOST(",\"psk\":\"" KEY1 "\""),
		  "t.json: hosts[0].psk: must be a TLS PSK in interchange form (NVMeTLSkey-1:XX:BASE64:)" },
		{ HOST(",\"dhchap_key\":\"" KEY1 "\",\"dhchap\":{\"key\":\"" KEY2 "\"}"),
		  "t.json: hosts[0].dhchap_key: given twice (also dhchap.key)" },
		{ HOST(",\"dhchap_key\":\"" KEY1 "\",\"dhchap_key_file\":\"/x\""),
		  "t.json: hosts[0].dhchap_key_file: dhchap_key is given too" },
		{ HOST(",\"dhchap_key\":\"" KEY1 "\",\"dhchap\":{\"ctrl_key\":\"" KEY2 "\"},\"dhchap_ctrl_key_file\":\"/x\""),
		  "t.json: hosts[0].dhchap_ctrl_key_file: dhchap.ctrl_key is given too" },
		{ HOST(",\"dhchap_ctrl_key\":\"" KEY2 "\""),
		  "t.json: hosts[0].dhchap_ctrl_key: needs dhchap_key (the host authenticates first)" },
		{ HOST(",\"dhchap_hash\":\"sha256\""),
		  "t.json: hosts[0].dhchap_hash: 'sha256' is not a hash (hmac(sha256), hmac(sha384), hmac(sha512))" },
		{ HOST(",\"dhchap\":{\"dhgroup\":\"ffdhe1024\"}"),
		  "t.json: hosts[0].dhchap.dhgroup: 'ffdhe1024' is not a DH group (null, ffdhe2048, ffdhe3072, ffdhe4096, "
		  "ffdhe6144, ffdhe8192)" },
		{ HOST(",\"dhchap_hash\":\"hmac(sha384)\",\"dhchap\":{\"hash\":\"hmac(sha512)\"}"),
		  "t.json: hosts[0].dhchap_hash: differs from dhchap.hash" },
		{ HOST(",\"dhchap\":{\"secret\":\"x\"}"),
		  "t.json: hosts[0].dhchap.secret: unknown key (expected one of: key, ctrl_key, hash, dhgroup)" },
		{ HOST(",\"dhchap_secret\":\"x\""),
		  "t.json: hosts[0].dhchap_secret: unknown key (expected one of: nqn, dhchap_key, dhchap_key_file, "
		  "dhchap_ctrl_key, dhchap_ctrl_key_file, dhchap_hash, dhchap_dhgroup, psk, psk_file, dhchap)" },
		{ SUBS(",\"dhchap_hashes\":[]"), "t.json: subsystems[0].dhchap_hashes: must list at least one" },
		{ SUBS(",\"dhchap_hashes\":[\"hmac(md5)\"]"),
		  "t.json: subsystems[0].dhchap_hashes[0]: 'hmac(md5)' is not a hash (hmac(sha256), hmac(sha384), hmac(sha512))" },
		{ SUBS(",\"dhchap_hashes\":[\"hmac(sha256)\",\"hmac(sha256)\"]"),
		  "t.json: subsystems[0].dhchap_hashes[1]: 'hmac(sha256)' is listed twice" },
		{ SUBS(",\"dhchap_dhgroups\":5"), "t.json: subsystems[0].dhchap_dhgroups: must be an array" },
		{ SUBS(",\"dhchap_dhgroups\":[1]"), "t.json: subsystems[0].dhchap_dhgroups[0]: must be a string" },
		{ TLSPORT(",\"tsas\":\"tls1.3\",\"treq\":\"not specified\""),
		  "t.json: ports[0].addr.treq: must be \"required\" or \"not required\" with tsas \"tls1.3\"" },
		{ TLSPORT(",\"treq\":\"maybe\""),
		  "t.json: ports[0].addr.treq: 'maybe': must be \"not specified\", \"required\" or \"not required\"" },
		{ TLSPORT(",\"tsas\":5"), "t.json: ports[0].addr.tsas: must be a string" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "json error: %s", cases[i].msg);
		tap_ok(load_str(&cfg, cases[i].json, err, sizeof(err)) == -1, "%s: fails", name);
		check_str(err, cases[i].msg, name);
	}
	/* key files */
	struct { const char *file, *want; } files[] = {
		{ missing, "/nonexistent/key: No such file or directory" },
		{ bad_file, "%s: not a DH-HMAC-CHAP secret (DHHC-1:XX:BASE64:)" },
		{ empty_file, "%s: empty" },
		{ two_lines, "%s: must hold one line" },
		{ big_file, "%s: not a regular file of at most 4096 bytes" },
		{ fifo, "%s: not a regular file of at most 4096 bytes" },
		{ "/tmp", "/tmp: not a regular file of at most 4096 bytes" },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char want[600];

		snprintf(doc, sizeof(doc), HOSTS("{\"nqn\":\"" NQN_H "\",\"dhchap_key_file\":\"%s\"}"), files[i].file);
		snprintf(want, sizeof(want), files[i].want, files[i].file);
		snprintf(msg, sizeof(msg), "t.json: hosts[0].dhchap_key_file: %s", want);
		snprintf(name, sizeof(name), "json key file: %s", msg);
		tap_ok(load_str(&cfg, doc, err, sizeof(err)) == -1, "%s: fails (and does not hang)", name);
		check_str(err, msg, name);
	}
	tap_ok(load_str(&cfg, HOSTS("{\"nqn\":\"" NQN_H "\",\"dhchap_key_file\":\"\",\"psk_file\":\"\"}"), err,
			sizeof(err)) == 0 && !cfg.hosts[0].dhchap_key.value && !cfg.hosts[0].psk.value,
	       "json key files: \"\" means none, as an empty key does");
	nvr_config_free(&cfg);
	/* a good one */
	{
		const char *k = write_tmp("good.key", KEY1 "\n"), *c = write_tmp("ctrl.key", KEY2),
			   *p = write_tmp("good.psk", PSK1 "\n");
		char kk[128], cc[128], pp[128];

		snprintf(kk, sizeof(kk), "%s", k);
		snprintf(cc, sizeof(cc), "%s", c);
		snprintf(pp, sizeof(pp), "%s", p);
		snprintf(doc, sizeof(doc), HOSTS("{\"nqn\":\"" NQN_H "\",\"dhchap_key_file\":\"%s\","
						 "\"dhchap_ctrl_key_file\":\"%s\",\"psk_file\":\"%s\"}"), kk, cc, pp);
		tap_ok(load_str(&cfg, doc, err, sizeof(err)) == 0 && !strcmp(cfg.hosts[0].dhchap_key.value, KEY1) &&
		       !strcmp(cfg.hosts[0].dhchap_key.file, kk) && !strcmp(cfg.hosts[0].dhchap_ctrl_key.value, KEY2) &&
		       !strcmp(cfg.hosts[0].psk.value, PSK1) && !strcmp(cfg.hosts[0].psk.file, pp),
		       "json key files: read (newline dropped), file names kept");
		nvr_config_free(&cfg);
	}
}

static void test_flags(void)
{
	struct nvr_config cfg;
	char err[512], arg[600];
	const char *k = write_tmp("f.key", KEY1 "\n"), *c, *p;
	char kk[128], cc[128], pp[128];

	snprintf(kk, sizeof(kk), "%s", k);
	c = write_tmp("f.ctrl", KEY2 "\n");
	snprintf(cc, sizeof(cc), "%s", c);
	p = write_tmp("f.psk", PSK1);
	snprintf(pp, sizeof(pp), "%s", p);

	tap_ok(parse(&cfg, err, sizeof(err), "--allow-host", NQN_H ",dhchap=" KEY1 ",dhchap-ctrl=" KEY2
		     ",dhchap-hash=hmac(sha512),dhchap-dhgroup=ffdhe3072,psk=" PSK1, NULL) == 0 &&
	       cfg.nr_hosts == 1 && !strcmp(cfg.hosts[0].nqn, NQN_H) && !strcmp(cfg.hosts[0].dhchap_key.value, KEY1) &&
	       !strcmp(cfg.hosts[0].dhchap_ctrl_key.value, KEY2) && cfg.hosts[0].dhchap_hash == CFG_HASH_SHA512 &&
	       cfg.hosts[0].dhchap_dhgroup == CFG_DHGROUP_FFDHE3072 && !strcmp(cfg.hosts[0].psk.value, PSK1) &&
	       cfg.subsys[0].nr_allowed_hosts == 1 && !strcmp(cfg.subsys[0].allowed_hosts[0], NQN_H),
	       "flags: --allow-host with inline keys");
	nvr_config_free(&cfg);
	snprintf(arg, sizeof(arg), NQN_H ",dhchap-file=%s,dhchap-ctrl-file=%s,psk-file=%s", kk, cc, pp);
	tap_ok(parse(&cfg, err, sizeof(err), "--allow-host", arg, NULL) == 0 &&
	       !strcmp(cfg.hosts[0].dhchap_key.value, KEY1) && !strcmp(cfg.hosts[0].dhchap_key.file, kk) &&
	       !strcmp(cfg.hosts[0].dhchap_ctrl_key.value, KEY2) && !strcmp(cfg.hosts[0].dhchap_ctrl_key.file, cc) &&
	       !strcmp(cfg.hosts[0].psk.value, PSK1) && !strcmp(cfg.hosts[0].psk.file, pp),
	       "flags: --allow-host with key files");
	nvr_config_free(&cfg);
	tap_ok(parse(&cfg, err, sizeof(err), "-l", "0.0.0.0:4420,tls=required", "-l", "[::]:4421,tls=optional",
		     "-l", "0.0.0.0:8009", NULL) == 0 &&
	       cfg.ports[0].treq == CFG_TREQ_REQUIRED && cfg.ports[0].tsas == CFG_TSAS_TLS13 &&
	       cfg.ports[1].treq == CFG_TREQ_NOT_REQUIRED && cfg.ports[1].tsas == CFG_TSAS_TLS13 &&
	       cfg.ports[2].treq == CFG_TREQ_NOT_SPECIFIED && cfg.ports[2].tsas == CFG_TSAS_NONE,
	       "flags: -l ...,tls=required|optional");
	nvr_config_free(&cfg);
	tap_ok(parse(&cfg, err, sizeof(err), "--dhchap-hashes", "hmac(sha512),hmac(sha256)", "--dhchap-dhgroups=null",
		     NULL) == 0 && cfg.subsys[0].dhchap_hashes == ((1u << CFG_HASH_SHA256) | (1u << CFG_HASH_SHA512)) &&
	       cfg.subsys[0].dhchap_dhgroups == 1u << CFG_DHGROUP_NULL, "flags: --dhchap-hashes, --dhchap-dhgroups");
	nvr_config_free(&cfg);
}

static void test_flag_errors(void)
{
	char fifo[128], missing_arg[200];
	const char *dir;

	dir = write_tmp("x", "");
	snprintf(fifo, sizeof(fifo), "%s.fifo2", dir);
	unlink(fifo);
	mkfifo(fifo, 0600);
	memcpy(tmp_files[nr_tmp_files++], fifo, 128);
	tmp_files[nr_tmp_files - 1][127] = '\0';
	snprintf(missing_arg, sizeof(missing_arg), NQN_H ",dhchap-file=%s", fifo);

	const struct { const char *argv[6]; const char *msg; } cases[] = {
		{ { "--allow-host", NQN_H ",dhchap=DHHC-1:00:secretbutbad" },
		  "--allow-host '" NQN_H "': dhchap: must be a DH-HMAC-CHAP secret (DHHC-1:XX:BASE64:)" },
		{ { "--allow-host", NQN_H ",psk=" KEY1 },
		  "--allow-host '" NQN_H "': psk: must be a TLS PSK in interchange form (NVMeTLSkey-1:XX:BASE64:)" },
		{ { "--allow-host", NQN_H ",dhchap=" KEY1 ",dhchap-file=/x" }, "--allow-host '" NQN_H "': dhchap-file: given twice" },
		{ { "--allow-host", NQN_H ",bogus=1" },
		  "--allow-host '" NQN_H "': bogus: unknown option (dhchap, dhchap-file, dhchap-ctrl, dhchap-ctrl-file, "
		  "dhchap-hash, dhchap-dhgroup, psk, psk-file)" },
		{ { "--allow-host", NQN_H ",dhchap-ctrl=" KEY2 },
		  "--allow-host '" NQN_H "': dhchap-ctrl needs dhchap (the host authenticates first)" },
		{ { "--allow-host", NQN_H ",dhchap=" }, "--allow-host '" NQN_H "': dhchap: needs a value" },
		{ { "--allow-host", NQN_H ",psk" }, "--allow-host '" NQN_H "': psk: needs a value" },
		{ { "--allow-host", NQN_H ",dhchap-file=/nonexistent/k" },
		  "--allow-host '" NQN_H "': dhchap-file: /nonexistent/k: No such file or directory" },
		{ { "--allow-host", missing_arg }, NULL }, /* FIFO: message built below */
		{ { "--allow-host", NQN_H ",dhchap-hash=md5" },
		  "--allow-host '" NQN_H "': dhchap-hash: 'md5' is not a hash (hmac(sha256), hmac(sha384), hmac(sha512))" },
		{ { "--allow-host", NQN_H ",dhchap-dhgroup=modp" },
		  "--allow-host '" NQN_H "': dhchap-dhgroup: 'modp' is not a DH group (null, ffdhe2048 ... ffdhe8192)" },
		{ { "--allow-host", "bad,dhchap=" KEY1 }, "--allow-host 'bad': not a valid NQN (want nqn.yyyy-mm.reverse.domain[:name] "
		  "or nqn.2014-08.org.nvmexpress:uuid:UUID, at most 223 bytes)" },
		{ { "--allow-host", NQN_H, "--allow-host", NQN_H ",psk=" PSK1 }, "--allow-host '" NQN_H "': given twice" },
		{ { "-l", "127.0.0.1:4420,tls=maybe" }, "-l '127.0.0.1:4420,tls=maybe': tls: must be required or optional" },
		{ { "-l", "127.0.0.1:4420,tls" }, "-l '127.0.0.1:4420,tls': tls: must be required or optional" },
		{ { "-l", "127.0.0.1:4420,tls=required,tls=optional" },
		  "-l '127.0.0.1:4420,tls=required,tls=optional': tls: given twice" },
		{ { "-l", "127.0.0.1:4420,foo=1" }, "-l '127.0.0.1:4420,foo=1': foo: unknown option (tls, ana)" },
		{ { "-l", "127.0.0.1,tls=required" },
		  "-l '127.0.0.1,tls=required': expected ADDR:PORT or [IPV6]:PORT with a numeric address and a port 0..65535 "
		  "(0: any free port)" },
		{ { "--dhchap-hashes", "" }, "--dhchap-hashes '': must list at least one" },
		{ { "--dhchap-hashes", "hmac(md5)" },
		  "--dhchap-hashes 'hmac(md5)': 'hmac(md5)' is not a hash (hmac(sha256), hmac(sha384), hmac(sha512))" },
		{ { "--dhchap-dhgroups", "null,null" }, "--dhchap-dhgroups 'null,null': 'null' is listed twice" },
		{ { "--dhchap-dhgroups", "null", "-c", "x.json" },
		  "--dhchap-dhgroups cannot be combined with -c: describe ports, subsystems, namespaces and hosts in the config file" },
	};
	struct nvr_config cfg;
	char err[512], name[700], fifo_msg[400];

	snprintf(fifo_msg, sizeof(fifo_msg), "--allow-host '" NQN_H "': dhchap-file: %s: not a regular file of at most 4096 bytes",
		 fifo);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[8] = { "nvringd" };
		const char *want = cases[i].msg ? cases[i].msg : fifo_msg;
		int argc = 1, rc;

		for (int k = 0; cases[i].argv[k]; k++)
			argv[argc++] = (char *)cases[i].argv[k];
		err[0] = '\0';
		rc = nvr_config_parse_args(&cfg, argc, argv, err, sizeof(err));
		snprintf(name, sizeof(name), "flag error: %s", want);
		tap_ok(rc == -1 && cfg.nr_hosts == 0 && !strstr(err, "secretbutbad") && !strstr(err, "T9ra1N"),
		       "%s: returns -1, no key in the message", name);
		check_str(err, want, name);
	}
}

/* -c on a FIFO used to block in open(2) until a writer came; now it is refused at once. */
static void test_config_fifo(void)
{
	const char *base = write_tmp("cfg", "");
	char fifo[128], want[300], err[512];
	struct nvr_config cfg;

	snprintf(fifo, sizeof(fifo), "%s.fifo", base);
	unlink(fifo);
	if (!tap_ok(mkfifo(fifo, 0600) == 0, "-c FIFO: made one"))
		return;
	snprintf(want, sizeof(want), "%s: not a regular file of at most 16777216 bytes", fifo);
	tap_ok(parse(&cfg, err, sizeof(err), "-c", fifo, NULL) == -1, "-c FIFO: refused, without waiting for a writer");
	check_str(err, want, "-c FIFO: the message");
	unlink(fifo);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		data_dir = argv[1];
	test_json_good();
	test_json_bad();
	test_flags();
	test_flag_errors();
	test_config_fifo();
	cleanup_tmp();
	return tap_done();
}
