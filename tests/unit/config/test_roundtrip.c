/* SPDX-License-Identifier: MIT */
/*
 * The JSON writer: for every sample config (files, the docs' example, flag sets), loading what
 * it writes gives an equal model, and writing that again gives the same text. TAP; argv[1] is
 * the sample-config folder, argv[2] docs/config.md.
 */
#include <sys/stat.h>

#include <json-c/json.h>

#include "cfg_test.h"

static const char *data_dir = ".";

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* load(write(cfg)) == cfg, and write(load(write(cfg))) == write(cfg). */
static void roundtrip(const struct nvr_config *cfg, const char *name)
{
	struct nvr_config again;
	char err[512], diff[256];
	char *text = nvr_config_to_json_string(cfg), *text2;

	if (!tap_ok(text != NULL, "%s: writes", name))
		return;
	if (!tap_ok(load_str(&again, text, err, sizeof(err)) == 0, "%s: what it writes loads", name)) {
		printf("# %s\n%s", err, text);
		free(text);
		return;
	}
	diff[0] = '\0';
	if (!tap_ok(nvr_config_compare(cfg, &again, diff, sizeof(diff)) == 0, "%s: load(write(cfg)) == cfg", name))
		printf("# %s\n", diff);
	text2 = nvr_config_to_json_string(&again);
	tap_ok(text2 && !strcmp(text, text2), "%s: writing it again gives the same text", name);
	free(text2);
	free(text);
	nvr_config_free(&again);
}

static void roundtrip_file(const char *file)
{
	struct nvr_config cfg;
	char path[4096], err[512];

	snprintf(path, sizeof(path), "%s/%s", data_dir, file);
	if (!tap_ok(parse(&cfg, err, sizeof(err), "-c", path, NULL) == 0, "%s: loads", file)) {
		printf("# %s\n", err);
		return;
	}
	roundtrip(&cfg, file);
	nvr_config_free(&cfg);
}

static void roundtrip_doc(const char *doc)
{
	struct nvr_config cfg;
	char *text = slurp(doc), *start, *end, err[512];

	start = text ? strstr(text, "```json\n") : NULL;
	end = start ? strstr(start + 8, "\n```") : NULL;
	if (!tap_ok(start && end, "docs example: found")) {
		free(text);
		return;
	}
	end[1] = '\0';
	if (tap_ok(load_str(&cfg, start + 8, err, sizeof(err)) == 0, "docs example: loads")) {
		roundtrip(&cfg, "docs example");
		nvr_config_free(&cfg);
	}
	free(text);
}

static void roundtrip_flags(void)
{
	static const char *const sets[][24] = {
		{ NULL },
		{ "-l", "127.0.0.2:5000", "--listen", "[::1]:4420", "--listen=[::]:8009", "--nqn",
		  "nqn.2024-01.com.example:foo", "--ns", "mem:64M", "--ns", "file:/tmp/x.img,size=1G,bs=4096,buffered,ro",
		  "--ns=kv:mem,size=1G,kvssd-compat", "--ns", "kv:/var/kv", "--ns", "passthru:/dev/ng0n1,nsid=10,all-opcodes",
		  "--allow-host", "nqn.2014-08.org.nvmexpress:uuid:0c468c4d-a385-47e0-8299-6e95051277db",
		  "-t", "3", "-vv", "--poll", NULL },
		{ "-l", "0.0.0.0:4420,tls=required,ana=2:optimized,ana=3:inaccessible", "-l", "0.0.0.0:4421,tls=optional",
		  "--ns", "rbd:rbd/img,conf=/etc/ceph/ceph.conf,id=nvring,cluster=ceph,bs=4096,vwc,ro,ana_grpid=2",
		  "--ns", "kv:rados:kvpool/ns,ana_grpid=3,shards=8,max_value=4K,capacity=1G,connect_timeout=5,op_timeout=9", "--ns", "kv:mem,size=64M,vwc,gc=30,format",
		  "--ns", "file:mem:odd,nsid=9", "--dhchap-hashes", "hmac(sha512)", "--dhchap-dhgroups", "ffdhe4096,null",
		  "--allow-host", "nqn.2026-11.io.t:h1,dhchap=DHHC-1:01:T9ra1N18uoFmBc5e43dmlsRskMVguNogmOxBZ6R9lzbxp4hV:,"
		  "dhchap-hash=hmac(sha384),dhchap-dhgroup=ffdhe4096",
		  "--allow-host", "nqn.2026-11.io.t:h2,psk=NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
		  NULL },
		{ "--max-connections", "64", "--max-connections-per-host=8", "--max-inflight-bytes", "64M",
		  "--max-inflight-bytes-per-conn", "2M", "--icreq-timeout", "0", "--connect-timeout", "500",
		  "--pdu-timeout", "60000", "--listen-backlog", "7", "--rpc-socket", "none", "--metrics", "[::1]:9100",
		  NULL },
	};
	struct nvr_config cfg;
	char err[512], name[32];

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		char *argv[26] = { "nvringd" };
		int argc = 1;

		for (int k = 0; sets[i][k]; k++)
			argv[argc++] = (char *)sets[i][k];
		snprintf(name, sizeof(name), "flag set %zu", i);
		if (!tap_ok(nvr_config_parse_args(&cfg, argc, argv, err, sizeof(err)) == 0, "%s: parses", name)) {
			printf("# %s\n", err);
			continue;
		}
		roundtrip(&cfg, name);
		nvr_config_free(&cfg);
	}
}

/* Keys read from files are written as the files' names, never as the keys. */
static void roundtrip_key_files(void)
{
	static const char key[] = "DHHC-1:00:xa978e/bwP4lHEAquH0Q3KhH77F8VzVX8BTCLiZJ9TygB+8C:";
	static const char psk[] = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";
	char kpath[128], ppath[128], arg[512], err[512];
	struct nvr_config cfg;
	char *text;

	snprintf(kpath, sizeof(kpath), "%s", write_tmp("host.key", "DHHC-1:00:xa978e/bwP4lHEAquH0Q3KhH77F8VzVX8BTCLiZJ9TygB+8C:\n"));
	snprintf(ppath, sizeof(ppath), "%s", write_tmp("host.psk", "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:\r\n"));
	snprintf(arg, sizeof(arg), "nqn.2026-11.io.t:h,dhchap-file=%s,psk-file=%s", kpath, ppath);
	if (!tap_ok(parse(&cfg, err, sizeof(err), "--allow-host", arg, NULL) == 0, "key files: parse")) {
		printf("# %s\n", err);
		return;
	}
	tap_ok(!strcmp(cfg.hosts[0].dhchap_key.value, key) && !strcmp(cfg.hosts[0].dhchap_key.file, kpath) &&
	       !strcmp(cfg.hosts[0].psk.value, psk) && !strcmp(cfg.hosts[0].psk.file, ppath),
	       "key files: read, trailing newline (and CR) dropped, file names kept");
	text = nvr_config_to_json_string(&cfg);
	tap_ok(text && !strstr(text, "xa978e") && !strstr(text, "VRLbtnN9") && strstr(text, "\"dhchap_key_file\"") &&
	       strstr(text, "\"psk_file\""), "key files: the written config names the files, not the keys");
	free(text);
	roundtrip(&cfg, "key files");
	nvr_config_free(&cfg);
}

/* nvmetcli's own shape survives: a plain file namespace has no nvring extensions. */
static void writer_shape(void)
{
	struct nvr_config cfg;
	char path[4096], err[512];
	json_object *root, *dev, *ns, *addr;

	snprintf(path, sizeof(path), "%s/nvmetcli.json", data_dir);
	if (parse(&cfg, err, sizeof(err), "-c", path, NULL))
		return;
	root = nvr_config_to_json(&cfg);
	ns = json_object_array_get_idx(json_object_object_get(json_object_array_get_idx(
		json_object_object_get(root, "subsystems"), 0), "namespaces"), 0);
	dev = json_object_object_get(ns, "device");
	tap_ok(dev && !json_object_object_get(dev, "backend") &&
	       !strcmp(json_object_get_string(json_object_object_get(dev, "path")), "/dev/nvme0n1") &&
	       !strcmp(json_object_get_string(json_object_object_get(dev, "uuid")), "d592cdf3-5d1c-44e0-8412-3fcf7d99df27"),
	       "writer: a file namespace is nvmetcli's {path, uuid, nguid}");
	addr = json_object_object_get(json_object_array_get_idx(json_object_object_get(root, "ports"), 0), "addr");
	tap_ok(addr && !strcmp(json_object_get_string(json_object_object_get(addr, "trsvcid")), "4420") &&
	       !strcmp(json_object_get_string(json_object_object_get(addr, "treq")), "not specified") &&
	       !strcmp(json_object_get_string(json_object_object_get(addr, "tsas")), "none"),
	       "writer: addr in nvmetcli's words");
	json_object_put(root);
	nvr_config_free(&cfg);
}

static void save_and_reload(void)
{
	struct nvr_config cfg, again;
	char path[4096], err[512], diff[256];
	const char *out = write_tmp("saved.json", "old");
	struct stat st;

	snprintf(path, sizeof(path), "%s/security.json", data_dir);
	if (!tap_ok(parse(&cfg, err, sizeof(err), "-c", path, NULL) == 0, "save: security.json loads")) {
		printf("# %s\n", err);
		return;
	}
	tap_ok(nvr_config_save(&cfg, out, err, sizeof(err)) == 0 && stat(out, &st) == 0 &&
	       (st.st_mode & 0777) == 0600, "save: written with mode 0600 (it holds keys)");
	tap_ok(nvr_config_init(&again) == 0 && nvr_config_load_json(&again, out, err, sizeof(err)) == 0 &&
	       nvr_config_compare(&cfg, &again, diff, sizeof(diff)) == 0, "save: the saved file loads equal");
	nvr_config_free(&again);
	tap_ok(nvr_config_save(&cfg, "/nonexistent/dir/x.json", err, sizeof(err)) == -1 &&
	       !strcmp(err, "/nonexistent/dir/x.json.tmp: No such file or directory"),
	       "save: an unwritable place fails with the file named");
	nvr_config_free(&cfg);
}

/* compare names the first difference. */
static void compare_names(void)
{
	struct nvr_config a, b;
	char err[512], diff[256] = "";

	parse(&a, err, sizeof(err), "--ns", "mem:1M", "--ns", "mem:2M", NULL);
	parse(&b, err, sizeof(err), "--ns", "mem:1M", "--ns", "mem:2M", NULL);
	tap_ok(nvr_config_compare(&a, &b, diff, sizeof(diff)) == 0, "compare: equal configs");
	b.subsys[0].ns[1].readonly = true;
	tap_ok(nvr_config_compare(&a, &b, diff, sizeof(diff)) == -1 &&
	       !strcmp(diff, "subsystems[0].namespaces[1].readonly differs"), "compare: names the field");
	b.subsys[0].ns[1].readonly = false;
	b.max_connections = 5;
	tap_ok(nvr_config_compare(&a, &b, diff, sizeof(diff)) == -1 && !strcmp(diff, "max_connections differs"),
	       "compare: a setting");
	b.max_connections = a.max_connections;
	b.ports[1].all_subsys = true;
	tap_ok(nvr_config_compare(&a, &b, diff, sizeof(diff)) == -1 && !strcmp(diff, "ports[1].subsystems differs"),
	       "compare: exports");
	nvr_config_free(&a);
	nvr_config_free(&b);
}

/* Inputs the fuzz targets found (tests/fuzz), each once broken. */
static void fuzz_findings(void)
{
	struct nvr_config cfg;
	char err[512];

	/* fuzz_args: 17 -v made verbose 17, which the writer wrote and the reader refuses */
	tap_ok(parse(&cfg, err, sizeof(err), "-vvvvvvvvvvvvvvvvvvvv", NULL) == 0 && cfg.verbose == 16,
	       "fuzz finding: -v counts up to 16");
	roundtrip(&cfg, "twenty -v");
	nvr_config_free(&cfg);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		data_dir = argv[1];
	roundtrip_file("nvmetcli.json");
	roundtrip_file("nvring-ext.json");
	roundtrip_file("security.json");
	roundtrip_file("ceph-ana.json");
	if (argc > 2)
		roundtrip_doc(argv[2]);
	roundtrip_flags();
	roundtrip_key_files();
	writer_shape();
	save_and_reload();
	compare_names();
	fuzz_findings();
	cleanup_tmp();
	return tap_done();
}
