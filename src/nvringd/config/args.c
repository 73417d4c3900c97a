/* SPDX-License-Identifier: MIT */
/*
 * nvringd's command line: scanning (long options by exact name, short ones bundled), the
 * usage text, and the order of work: flags that describe topology build the model
 * (args_build.c) or -c loads it; settings flags then win over the file.
 */
#include "args.h"

#include <stdlib.h>
#include <string.h>

enum cfg_flag {
	F_LISTEN, F_NQN, F_NS, F_ALLOW_HOST, F_CONFIG, F_VERBOSE, F_POLL, F_HELP, F_DHCHAP_HASHES,
	F_DHCHAP_DHGROUPS, F_NR_FIXED, /* then the settings, by index in cfg_settings */
};

static const struct cfg_flag_def {
	const char *lng; /* as typed, with the dashes: also the name used in messages */
	const char *shrt;
	bool arg;
	bool topology;   /* describes ports, subsystems, namespaces or hosts: not with -c */
} cfg_flags[F_NR_FIXED] = {
	[F_LISTEN] = { "--listen", "-l", true, true },
	[F_NQN] = { "--nqn", NULL, true, true },
	[F_NS] = { "--ns", NULL, true, true },
	[F_ALLOW_HOST] = { "--allow-host", NULL, true, true },
	[F_CONFIG] = { "--config", "-c", true, false },
	[F_VERBOSE] = { "--verbose", "-v", false, false },
	[F_POLL] = { "--poll", NULL, false, false },
	[F_HELP] = { "--help", "-h", false, false },
	[F_DHCHAP_HASHES] = { "--dhchap-hashes", NULL, true, true },
	[F_DHCHAP_DHGROUPS] = { "--dhchap-dhgroups", NULL, true, true },
};

_Static_assert(CFG_MAX_SETTINGS >= 11, "cfg_args.settings too small for cfg_settings");

void nvr_config_usage(FILE *out)
{
	fputs("Usage: nvringd [OPTIONS]\n"
	      "NVMe over TCP target.\n\n"
	      "  -l, --listen ADDR:PORT[,OPT...]  listen here (repeatable; [IPv6]:PORT); port 8009\n"
	      "                          serves discovery only. Default: 127.0.0.1:4420 and\n"
	      "                          127.0.0.1:8009. OPT: tls=required|optional (TLS 1.3 PSK),\n"
	      "                          ana=GRPID:STATE (optimized, non-optimized, inaccessible,\n"
	      "                          persistent-loss, change; repeatable)\n"
	      "      --nqn NQN           subsystem NQN (default " NVR_CFG_DEFAULT_NQN ")\n"
	      "      --ns SPEC           add a namespace (repeatable; default mem:1G):\n"
	      "                            mem:SIZE           RAM, SIZE with K/M/G/T suffix\n"
	      "                            file:PATH          regular file or block device\n"
	      "                            kv:PATH | kv:mem   key-value namespace\n"
	      "                            kv:rados:POOL[/NAMESPACE]  key-value store in RADOS\n"
	      "                            passthru:/dev/ngXnY  NVMe passthrough\n"
	      "                            rbd:POOL/IMAGE     Ceph RBD image (POOL/NAMESPACE/IMAGE)\n"
	      "                          options after commas: size=SIZE, bs=512|4096, buffered,\n"
	      "                          ro, nsid=N, uuid=UUID, nguid=UUID, ana_grpid=N; kv:\n"
	      "                          kvssd-compat, max_value=SIZE, segment_size=SIZE,\n"
	      "                          gc_threshold=PCT, vwc, format; passthru: all-opcodes;\n"
	      "                          rbd and kv:rados: conf=PATH, id=CLIENT, cluster=NAME,\n"
	      "                          connect_timeout=S, op_timeout=S; rbd: vwc; kv:rados:\n"
	      "                          shards=N, max_value=SIZE, capacity=SIZE (docs/ceph.md)\n"
	      "      --allow-host NQN[,OPT...]  allow only these hosts (repeatable; default any\n"
	      "                          host). OPT: dhchap=KEY | dhchap-file=PATH,\n"
	      "                          dhchap-ctrl=KEY | dhchap-ctrl-file=PATH, dhchap-hash=HASH,\n"
	      "                          dhchap-dhgroup=GROUP, psk=KEY | psk-file=PATH (a file keeps\n"
	      "                          the key out of ps)\n"
	      "      --dhchap-hashes LIST    hashes hosts may use (default all: hmac(sha256),\n"
	      "                          hmac(sha384),hmac(sha512))\n"
	      "      --dhchap-dhgroups LIST  DH groups hosts may use (default all: null,ffdhe2048,\n"
	      "                          ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192)\n"
	      "  -c, --config FILE       JSON config (nvmetcli save format, see docs/config.md);\n"
	      "                          not combinable with -l, --nqn, --ns, --allow-host,\n"
	      "                          --dhchap-hashes, --dhchap-dhgroups\n"
	      "  -t, --threads N         worker threads (default: online CPUs)\n"
	      "  -v, --verbose           more logging (repeatable)\n"
	      "      --poll              busy-poll the rings instead of sleeping\n"
	      "  -h, --help              this text\n"
	      "Limits (these, -t, -v and --poll also apply with -c, and win over the file):\n"
	      "      --max-connections N             all connections (default 16384)\n"
	      "      --max-connections-per-host N    per peer IP address (default 1024)\n"
	      "      --max-inflight-bytes SIZE       data buffers of all connections (default 1G)\n"
	      "      --max-inflight-bytes-per-conn SIZE  per connection (default 32M)\n"
	      "      --icreq-timeout MS      connection to ICReq (default 10000; 0: none)\n"
	      "      --connect-timeout MS    ICResp to Fabrics Connect (default 10000; 0: none)\n"
	      "      --pdu-timeout MS        a started PDU must be complete within (default 10000;\n"
	      "                              0: none)\n"
	      "      --listen-backlog N      listen(2) backlog (default: net.core.somaxconn)\n"
	      "Control plane:\n"
	      "      --rpc-socket PATH       JSON-RPC Unix socket (default " NVR_CFG_DEFAULT_RPC_SOCKET ";\n"
	      "                              none: no control socket)\n"
	      "      --metrics ADDR:PORT     serve metrics over HTTP here (default: none)\n",
	      out);
}

static int cfg_args_add(struct cfg_args *a, int f, const char *opt, const char *val, bool topology)
{
	struct cfg_arg arg = { opt, val }, *dst = NULL;

	switch (f) {
	case F_LISTEN: a->listen[a->nr_listen++] = arg; break;
	case F_NS: a->ns[a->nr_ns++] = arg; break;
	case F_ALLOW_HOST: a->hosts[a->nr_hosts++] = arg; break;
	case F_NQN: dst = &a->nqn; break;
	case F_CONFIG: dst = &a->config; break;
	case F_DHCHAP_HASHES: dst = &a->hashes; break;
	case F_DHCHAP_DHGROUPS: dst = &a->dhgroups; break;
	case F_VERBOSE: a->verbose += a->verbose < CFG_MAX_VERBOSE; break; /* more says nothing more */
	case F_POLL: a->poll = true; break;
	case F_HELP: a->help = true; break;
	default: dst = &a->settings[f - F_NR_FIXED]; break;
	}
	if (dst) {
		if (dst->val)
			return -1;
		*dst = arg;
	}
	if (topology && !a->topology_opt)
		a->topology_opt = opt;
	return 0;
}

/* One flag by index: the fixed ones, then the settings. */
struct cfg_flag_ref {
	const char *lng;
	const char *shrt;
	bool arg, topology;
};

static bool cfg_flag_ref(size_t f, struct cfg_flag_ref *r)
{
	if (f < F_NR_FIXED) {
		*r = (struct cfg_flag_ref){ cfg_flags[f].lng, cfg_flags[f].shrt,
					    cfg_flags[f].arg, cfg_flags[f].topology };
		return true;
	}
	if (f - F_NR_FIXED >= cfg_nr_settings)
		return false;
	*r = (struct cfg_flag_ref){ cfg_settings[f - F_NR_FIXED].flag, cfg_settings[f - F_NR_FIXED].shrt,
				    true, false };
	return true;
}

static int cfg_args_scan(struct cfg_args *a, int argc, char **argv, char *err, size_t errlen)
{
	struct cfg_flag_ref d;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		size_t f;

		if (!strcmp(s, "--")) {
			if (i + 1 < argc)
				return cfg_err(err, errlen, "unexpected argument '%s'", argv[i + 1]);
			break;
		}
		if (!strncmp(s, "--", 2)) {
			const char *eq = strchr(s, '=');
			size_t len = eq ? (size_t)(eq - s) : strlen(s);

			for (f = 0; cfg_flag_ref(f, &d); f++)
				if (strlen(d.lng) == len && !strncmp(d.lng, s, len))
					break;
			if (!cfg_flag_ref(f, &d))
				return cfg_err(err, errlen, "unknown option '%.*s' (see --help)", (int)len, s);
			if (!d.arg && eq)
				return cfg_err(err, errlen, "option '%s' takes no argument", d.lng);
			if (d.arg && !eq && i + 1 >= argc)
				return cfg_err(err, errlen, "option '%s' needs an argument", d.lng);
			if (cfg_args_add(a, (int)f, d.lng, d.arg ? (eq ? eq + 1 : argv[++i]) : NULL, d.topology))
				return cfg_err(err, errlen, "option '%s' given twice", d.lng);
			continue;
		}
		if (s[0] != '-' || !s[1])
			return cfg_err(err, errlen, "unexpected argument '%s'", s);
		for (const char *c = s + 1; *c; c++) {
			for (f = 0; cfg_flag_ref(f, &d); f++)
				if (d.shrt && d.shrt[1] == *c)
					break;
			if (!cfg_flag_ref(f, &d))
				return cfg_err(err, errlen, "unknown option '-%c' (see --help)", *c);
			if (!d.arg) {
				cfg_args_add(a, (int)f, d.shrt, NULL, d.topology);
				continue;
			}
			if (!c[1] && i + 1 >= argc)
				return cfg_err(err, errlen, "option '%s' needs an argument", d.shrt);
			if (cfg_args_add(a, (int)f, d.shrt, c[1] ? c + 1 : argv[++i], d.topology))
				return cfg_err(err, errlen, "option '%s' given twice", d.shrt);
			break;
		}
	}
	return 0;
}

/* Settings given as flags, parsed into flags (a scratch model) before anything else is read. */
static int cfg_args_settings(const struct cfg_args *a, struct nvr_config *flags, char *err, size_t errlen)
{
	char msg[256];

	for (size_t i = 0; i < cfg_nr_settings; i++) {
		const struct cfg_arg *s = &a->settings[i];

		if (s->val && cfg_setting_parse(&cfg_settings[i], flags, s->val, msg, sizeof(msg)))
			return cfg_err(err, errlen, "%s '%s': %s", s->opt, s->val, msg);
	}
	return 0;
}

int nvr_config_parse_args(struct nvr_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	struct cfg_args a = { 0 };
	struct nvr_config flags = { 0 };
	size_t n = argc > 0 ? (size_t)argc : 1;
	unsigned given = 0;
	int ret = -1;

	memset(cfg, 0, sizeof(*cfg));
	a.listen = calloc(n, sizeof(*a.listen));
	a.ns = calloc(n, sizeof(*a.ns));
	a.hosts = calloc(n, sizeof(*a.hosts));
	if (!a.listen || !a.ns || !a.hosts) {
		cfg_err(err, errlen, "out of memory");
		goto out;
	}
	if (cfg_args_scan(&a, argc, argv, err, errlen))
		goto out;
	if (a.help) {
		nvr_config_usage(stdout);
		ret = 1;
		goto out;
	}
	if (cfg_args_settings(&a, &flags, err, errlen))
		goto out;
	if (nvr_config_init(cfg)) {
		cfg_err(err, errlen, "out of memory");
		goto out;
	}
	cfg->poll = a.poll;
	if (a.config.val) {
		if (a.topology_opt) {
			cfg_err(err, errlen, "%s cannot be combined with %s: describe ports, subsystems, "
				"namespaces and hosts in the config file", a.topology_opt, a.config.opt);
			goto out;
		}
		cfg->config_file = strdup(a.config.val);
		if (!cfg->config_file) {
			cfg_err(err, errlen, "out of memory");
			goto out;
		}
		if (nvr_config_load_json(cfg, a.config.val, err, errlen))
			goto out;
	} else if (cfg_args_build(cfg, &a, err, errlen)) {
		goto out;
	}
	/* Flags win over the file's "nvring" section. */
	for (size_t i = 0; i < cfg_nr_settings; i++) {
		if (!a.settings[i].val)
			continue;
		given |= 1u << i;
		if (cfg_setting_copy(&cfg_settings[i], cfg, &flags)) {
			cfg_err(err, errlen, "out of memory");
			goto out;
		}
	}
	if (a.verbose)
		cfg->verbose = a.verbose;
	if (a.poll)
		cfg->poll = true;
	if (cfg_settings_check(cfg, true, given, err, errlen))
		goto out;
	ret = 0;
out:
	if (ret < 0)
		nvr_config_free(cfg);
	free(flags.rpc_socket);
	free(a.listen);
	free(a.ns);
	free(a.hosts);
	return ret;
}
