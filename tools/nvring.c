/* SPDX-License-Identifier: MIT */
/* nvring: NVMe/TCP host CLI on libnvring. Dispatches to one function per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cli_cmds[] = {
	{ "discover", cmd_discover, "read the discovery log" },
	{ "id-ctrl", cmd_id_ctrl, "Identify Controller" },
	{ "id-ns", cmd_id_ns, "Identify Namespace" },
	{ "list-ns", cmd_list_ns, "list active namespace IDs" },
	{ "get-log", cmd_get_log, "Get Log Page" },
	{ "get-feature", cmd_get_feature, "Get Features" },
	{ "set-feature", cmd_set_feature, "Set Features" },
	{ "read", cmd_read, "read blocks" },
	{ "write", cmd_write, "write blocks" },
	{ "flush", cmd_flush, "Flush" },
	{ "write-zeroes", cmd_write_zeroes, "Write Zeroes" },
	{ "dsm", cmd_dsm, "Dataset Management (deallocate)" },
	{ "io-passthru", cmd_io_passthru, "any I/O command" },
	{ "admin-passthru", cmd_admin_passthru, "any admin command" },
	{ "kv", cmd_kv, "Key Value: store|retrieve|delete|exist|list" },
	{ "perf", cmd_perf, "benchmark: IOPS, bandwidth, latency percentiles" },
	{ "gen-tls-key", cmd_tls_key_gen, "generate a TLS PSK (NVMeTLSkey-1)" },
	{ "check-tls-key", cmd_tls_key, "check a TLS PSK, derive identity and TLS PSK" },
	{ "rpc", cmd_rpc, "call a method of nvringd's control socket (JSON-RPC)" },
};

static void usage(void)
{
	fprintf(stderr, "usage: nvring <command> [options]   (nvring <command> -h for options)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
		fprintf(stderr, "  %-16s %s\n", cli_cmds[i].name, cli_cmds[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage();
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
		if (!strcmp(argv[1], cli_cmds[i].name))
			return cli_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "nvring: unknown command %s\n", argv[1]);
	usage();
	return CLI_EXIT_USAGE;
}
