/* SPDX-License-Identifier: MIT */
/*
 * Limits, timeouts and the control plane's settings: defaults, flags, the JSON "nvring"
 * object, flags over the file, every bad value by name, relations between them, print, usage.
 */
#include <fcntl.h>

#include "cfg_test.h"

static unsigned somaxconn(void)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	unsigned v = 4096;

	if (f) {
		if (fscanf(f, "%u", &v) != 1 || v == 0)
			v = 4096;
		fclose(f);
	}
	return v > 65535 ? 65535 : v;
}

static void test_defaults(void)
{
	struct nvr_config cfg;
	char err[512];

	if (!tap_ok(parse(&cfg, err, sizeof(err), NULL) == 0, "defaults: parse"))
		return;
	tap_ok(cfg.max_connections == 16384 && cfg.max_connections_per_host == 1024, "defaults: connections 16384, 1024 per host");
	tap_ok(cfg.max_inflight_bytes == 1ull << 30 && cfg.max_inflight_bytes_per_conn == 32ull << 20,
	       "defaults: in-flight bytes 1G, 32M per connection");
	tap_ok(cfg.icreq_timeout_ms == 10000 && cfg.connect_timeout_ms == 10000 && cfg.pdu_timeout_ms == 10000,
	       "defaults: timeouts 10000 ms");
	tap_eq(cfg.listen_backlog, somaxconn(), "defaults: backlog = net.core.somaxconn");
	tap_ok(cfg.rpc_socket && !strcmp(cfg.rpc_socket, "/run/nvringd.sock"), "defaults: rpc socket /run/nvringd.sock");
	tap_ok(!cfg.metrics.enabled, "defaults: no metrics");
	nvr_config_free(&cfg);
}

static void test_flags(void)
{
	struct nvr_config cfg;
	char err[512];
	int rc;

	rc = parse(&cfg, err, sizeof(err), "--max-connections", "100", "--max-connections-per-host=100",
		   "--max-inflight-bytes", "2G", "--max-inflight-bytes-per-conn", "1M", "--icreq-timeout", "0",
		   "--connect-timeout", "1", "--pdu-timeout", "3600000", "--listen-backlog", "65535",
		   "--rpc-socket", "/tmp/x.sock", "--metrics", "[::1]:9100", NULL);
	if (!tap_ok(rc == 0, "flags: every setting parses")) {
		printf("# %s\n", err);
		return;
	}
	tap_ok(cfg.max_connections == 100 && cfg.max_connections_per_host == 100, "flags: connections");
	tap_ok(cfg.max_inflight_bytes == 2ull << 30 && cfg.max_inflight_bytes_per_conn == 1ull << 20, "flags: sizes");
	tap_ok(cfg.icreq_timeout_ms == 0 && cfg.connect_timeout_ms == 1 && cfg.pdu_timeout_ms == 3600000,
	       "flags: timeouts (0 = none)");
	tap_ok(cfg.listen_backlog == 65535, "flags: backlog");
	tap_ok(!strcmp(cfg.rpc_socket, "/tmp/x.sock"), "flags: rpc socket");
	tap_ok(cfg.metrics.enabled && !strcmp(cfg.metrics.addr, "::1") && cfg.metrics.port == 9100 &&
	       cfg.metrics.family == AF_INET6, "flags: metrics [::1]:9100");
	nvr_config_free(&cfg);
	rc = parse(&cfg, err, sizeof(err), "--rpc-socket", "none", "--metrics", "none", NULL);
	tap_ok(rc == 0 && !cfg.rpc_socket && !cfg.metrics.enabled, "flags: rpc socket and metrics \"none\"");
	nvr_config_free(&cfg);
}

static void test_flag_errors(void)
{
	static const struct { const char *argv[6]; const char *msg; } cases[] = {
		{ { "--max-connections", "0" }, "--max-connections '0': must be a number 1..1048576" },
		{ { "--max-connections", "x" }, "--max-connections 'x': must be a number 1..1048576" },
		{ { "--max-connections-per-host", "1048577" }, "--max-connections-per-host '1048577': must be a number 1..1048576" },
		{ { "--max-inflight-bytes", "512K" },
		  "--max-inflight-bytes '512K': must be a size 1M..1T (bytes, or with a K/M/G/T suffix)" },
		{ { "--max-inflight-bytes-per-conn", "2T" },
		  "--max-inflight-bytes-per-conn '2T': must be a size 1M..1T (bytes, or with a K/M/G/T suffix)" },
		{ { "--icreq-timeout", "-1" }, "--icreq-timeout '-1': must be a number 0..3600000" },
		{ { "--connect-timeout", "3600001" }, "--connect-timeout '3600001': must be a number 0..3600000" },
		{ { "--pdu-timeout", "10s" }, "--pdu-timeout '10s': must be a number 0..3600000" },
		{ { "--listen-backlog", "0" }, "--listen-backlog '0': must be a number 1..65535" },
		{ { "--rpc-socket", "" }, "--rpc-socket '': must be a path or \"none\"" },
		{ { "--rpc-socket", "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
		  "--rpc-socket '/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': "
		  "longer than 107 bytes (the limit of a Unix socket path)" },
		{ { "--metrics", "localhost:9100" },
		  "--metrics 'localhost:9100': expected ADDR:PORT or [IPV6]:PORT with a numeric address, or \"none\"" },
		{ { "--max-connections", "1", "--max-connections", "2" }, "option '--max-connections' given twice" },
		{ { "--max-connections", "10", "--max-connections-per-host", "11" },
		  "--max-connections-per-host 11 is more than --max-connections (10)" },
		{ { "--max-inflight-bytes", "4M", "--max-inflight-bytes-per-conn", "5M" },
		  "--max-inflight-bytes-per-conn 5M is more than --max-inflight-bytes (4M)" },
		{ { "--metrics", "127.0.0.1:4420" }, "--metrics 127.0.0.1:4420 is also a listener (-l)" },
		{ { "-l", "127.0.0.1:9100", "--metrics", "0.0.0.0:9100" },
		  "--metrics 0.0.0.0:9100 overlaps (wildcard address) with a listener (-l)" },
		{ { "--icreq-timeout" }, "option '--icreq-timeout' needs an argument" },
	};
	struct nvr_config cfg;
	char err[512], name[700];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[8] = { "nvringd" };
		int argc = 1, rc;

		for (int k = 0; cases[i].argv[k]; k++)
			argv[argc++] = (char *)cases[i].argv[k];
		err[0] = '\0';
		rc = nvr_config_parse_args(&cfg, argc, argv, err, sizeof(err));
		snprintf(name, sizeof(name), "flag error: %s", cases[i].msg);
		tap_ok(rc == -1 && cfg.nr_ports == 0 && !cfg.rpc_socket, "%s: returns -1, config empty", name);
		check_str(err, cases[i].msg, name);
	}
}

#define PORT "{\"portid\":1,\"addr\":{\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"4420\",\"trtype\":\"tcp\"}}"
#define NVRING(x) "{\"nvring\":{" x "},\"ports\":[" PORT "]}"

static void test_json(void)
{
	static const struct { const char *json, *msg; } bad[] = {
		{ NVRING("\"max_connections\":0"), "t.json: nvring.max_connections: must be an integer 1..1048576" },
		{ NVRING("\"max_connections_per_host\":\"many\""),
		  "t.json: nvring.max_connections_per_host: must be an integer 1..1048576" },
		{ NVRING("\"max_inflight_bytes\":\"1Q\""),
		  "t.json: nvring.max_inflight_bytes: must be a size 1M..1T (a number of bytes, or a string with a K/M/G/T suffix)" },
		{ NVRING("\"max_inflight_bytes_per_conn\":1.5"),
		  "t.json: nvring.max_inflight_bytes_per_conn: must be a size 1M..1T (a number of bytes, or a string with a K/M/G/T suffix)" },
		{ NVRING("\"icreq_timeout\":-5"), "t.json: nvring.icreq_timeout: must be an integer 0..3600000" },
		{ NVRING("\"connect_timeout\":true"), "t.json: nvring.connect_timeout: must be an integer 0..3600000" },
		{ NVRING("\"pdu_timeout\":\"3600001\""), "t.json: nvring.pdu_timeout: must be an integer 0..3600000" },
		{ NVRING("\"listen_backlog\":65536"), "t.json: nvring.listen_backlog: must be an integer 1..65535" },
		{ NVRING("\"rpc_socket\":5"), "t.json: nvring.rpc_socket: must be a string" },
		{ NVRING("\"rpc_socket\":\"\""), "t.json: nvring.rpc_socket: must be a path or \"none\"" },
		{ NVRING("\"metrics\":\"9100\""),
		  "t.json: nvring.metrics: expected ADDR:PORT or [IPV6]:PORT with a numeric address, or \"none\"" },
		{ NVRING("\"max_connections\":5,\"max_connections_per_host\":6"),
		  "t.json: nvring.max_connections_per_host 6 is more than nvring.max_connections (5)" },
		{ NVRING("\"max_inflight_bytes\":\"2M\",\"max_inflight_bytes_per_conn\":\"3M\""),
		  "t.json: nvring.max_inflight_bytes_per_conn 3M is more than nvring.max_inflight_bytes (2M)" },
		{ NVRING("\"metrics\":\"127.0.0.1:4420\""), "t.json: nvring.metrics 127.0.0.1:4420 is also ports[0]" },
	};
	struct nvr_config cfg;
	char err[512], name[700];

	if (tap_ok(load_str(&cfg, NVRING("\"max_connections\":\"50\",\"max_connections_per_host\":50,"
					 "\"max_inflight_bytes\":\"64M\",\"max_inflight_bytes_per_conn\":1048576,"
					 "\"icreq_timeout\":0,\"connect_timeout\":\"7\",\"pdu_timeout\":3600000,"
					 "\"listen_backlog\":1,\"rpc_socket\":\"none\",\"metrics\":\"0.0.0.0:9100\""),
			    err, sizeof(err)) == 0, "json: every setting loads")) {
		tap_ok(cfg.max_connections == 50 && cfg.max_connections_per_host == 50 &&
		       cfg.max_inflight_bytes == 64ull << 20 && cfg.max_inflight_bytes_per_conn == 1ull << 20 &&
		       cfg.icreq_timeout_ms == 0 && cfg.connect_timeout_ms == 7 && cfg.pdu_timeout_ms == 3600000 &&
		       cfg.listen_backlog == 1 && !cfg.rpc_socket && cfg.metrics.enabled && cfg.metrics.port == 9100,
		       "json: values as given (numbers or strings)");
		nvr_config_free(&cfg);
	} else {
		printf("# %s\n", err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "json error: %s", bad[i].msg);
		tap_ok(load_str(&cfg, bad[i].json, err, sizeof(err)) == -1, "%s: fails", name);
		check_str(err, bad[i].msg, name);
	}
}

static void test_flags_over_file(void)
{
	const char *path = write_tmp("limits.json", NVRING("\"max_connections\":50,\"rpc_socket\":\"/tmp/file.sock\","
							  "\"icreq_timeout\":5"));
	struct nvr_config cfg;
	char err[512];

	tap_ok(parse(&cfg, err, sizeof(err), "-c", path, "--max-connections", "60", "--rpc-socket", "/tmp/flag.sock",
		     NULL) == 0 && cfg.max_connections == 60 && !strcmp(cfg.rpc_socket, "/tmp/flag.sock") &&
	       cfg.icreq_timeout_ms == 5 && cfg.connect_timeout_ms == 10000,
	       "-c with settings flags: flags win, the file's others stay, defaults for the rest");
	/* the file's global 50 lowered the default per-host limit when it was read */
	tap_ok(cfg.max_connections_per_host == 50, "-c: the per-host default follows the file's lower global limit");
	nvr_config_free(&cfg);
	tap_ok(parse(&cfg, err, sizeof(err), "--max-connections", "8", "--max-inflight-bytes", "2M", NULL) == 0 &&
	       cfg.max_connections_per_host == 8 && cfg.max_inflight_bytes_per_conn == 2ull << 20,
	       "flags: defaults of per-host and per-connection limits follow a lower global one");
	nvr_config_free(&cfg);
	tap_ok(parse(&cfg, err, sizeof(err), "-c", path, "--max-connections-per-host", "51", NULL) == -1 &&
	       !strcmp(err, "--max-connections-per-host 51 is more than --max-connections (50)"),
	       "-c with a flag that breaks a relation with the file's value: refused");
	nvr_config_free(&cfg);
}

static void test_print_usage(void)
{
	struct nvr_config cfg;
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *f;
	static const char *const flags[] = { "--max-connections ", "--max-connections-per-host ",
					     "--max-inflight-bytes ", "--max-inflight-bytes-per-conn ",
					     "--icreq-timeout ", "--connect-timeout ", "--pdu-timeout ",
					     "--listen-backlog ", "--rpc-socket ", "--metrics " };

	parse(&cfg, err, sizeof(err), "--max-inflight-bytes-per-conn", "3M", "--metrics", "127.0.0.1:9", NULL);
	f = open_memstream(&buf, &len);
	nvr_config_print(f, &cfg);
	fclose(f);
	tap_ok(buf && strstr(buf, "settings: max-connections 16384 max-connections-per-host 1024 max-inflight-bytes 1G "
			    "max-inflight-bytes-per-conn 3M icreq-timeout 10000 connect-timeout 10000 pdu-timeout 10000 "
			    "listen-backlog ") && strstr(buf, " rpc-socket /run/nvringd.sock metrics 127.0.0.1:9\n"),
	       "print: one settings line");
	free(buf);
	nvr_config_free(&cfg);
	buf = NULL;
	f = open_memstream(&buf, &len);
	nvr_config_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		tap_ok(buf && strstr(buf, flags[i]), "usage: mentions %s", flags[i]);
	free(buf);
}

int main(void)
{
	test_defaults();
	test_flags();
	test_flag_errors();
	test_json();
	test_flags_over_file();
	test_print_usage();
	cleanup_tmp();
	return tap_done();
}
