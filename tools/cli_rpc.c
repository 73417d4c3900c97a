/* SPDX-License-Identifier: MIT */
/*
 * nvring rpc: one JSON-RPC call to nvringd's control socket. The result is printed as JSON
 * (exit 0), an error response as its message (exit 1); a usage error or a socket that cannot
 * be reached exits 2. See docs/rpc.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rpc/rpc.h"
#include "rpc/rpc_client.h"

#define RPC_CLI_EXIT_ERROR 1          /* an error response, or no response */
#define RPC_CLI_TIMEOUT_MS 60000      /* methods may take long (opening a backend, draining I/O) */
#define RPC_CLI_MAX_PARAMS (1u << 20) /* the server's default request limit */

static void rpc_cli_usage(void)
{
	fprintf(stderr,
		"usage: nvring rpc [--socket PATH] [--timeout MS] METHOD [PARAMS-JSON | -]\n"
		"       nvring rpc [--socket PATH] --list\n"
		"Call a method of nvringd's control socket (JSON-RPC 2.0) and print its result as JSON.\n"
		"PARAMS-JSON is an object, e.g. '{\"nqn\":\"nqn.2026-11.io.nvring:a\",\"nsid\":2}'; - reads it from stdin.\n\n"
		"options:\n"
		"  -s, --socket PATH    the control socket (default %s)\n"
		"  -t, --timeout MS     wait this long for the answer (default %u)\n"
		"  -l, --list           list the methods with their params\n"
		"  -h, --help           this help\n"
		"exit status: 0 result, 1 error response (its message on stderr), 2 usage or socket unreachable\n",
		RPC_DEFAULT_SOCKET, RPC_CLI_TIMEOUT_MS);
}

static char *rpc_cli_read_stdin(void)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, stdin);

		len += n;
		if (n == 0)
			break;
		if (len + 1 == cap) {
			char *p = cap > RPC_CLI_MAX_PARAMS ? NULL : realloc(buf, cap * 2);

			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* PARAMS-JSON as an object; NULL after a message. */
static json_object *rpc_cli_params(const char *arg)
{
	enum json_tokener_error jerr = json_tokener_success;
	char *text = NULL;
	json_object *v;

	if (!strcmp(arg, "-")) {
		text = rpc_cli_read_stdin();
		if (!text) {
			fprintf(stderr, "nvring rpc: cannot read params from stdin (at most %u bytes)\n", RPC_CLI_MAX_PARAMS);
			return NULL;
		}
		arg = text;
	}
	v = json_tokener_parse_verbose(arg, &jerr);
	if (!v || !json_object_is_type(v, json_type_object)) {
		fprintf(stderr, "nvring rpc: PARAMS-JSON must be a JSON object%s%s\n", v ? "" : ": ",
			v ? "" : json_tokener_error_desc(jerr));
		json_object_put(v);
		v = NULL;
	}
	free(text);
	return v;
}

static void rpc_cli_print_methods(json_object *list)
{
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(list, i), *name, *help, *params;
		const char *p;

		json_object_object_get_ex(m, "name", &name);
		json_object_object_get_ex(m, "description", &help);
		json_object_object_get_ex(m, "params", &params);
		p = json_object_get_string(params);
		printf("%-24s %s\n", json_object_get_string(name), json_object_get_string(help));
		if (p && *p)
			printf("%-24s   params: %s\n", "", p);
	}
}

static int rpc_cli_call(const char *path, unsigned timeout_ms, const char *method, json_object *params, bool list)
{
	struct rpc_client *c;
	struct rpc_reply r;
	int ret = rpc_client_open(path, timeout_ms, &c);

	if (ret) {
		fprintf(stderr, "nvring rpc: cannot connect to %s: %s%s\n", path, strerror(-ret),
			ret == -ENOENT || ret == -ECONNREFUSED ? " (is nvringd running with this --rpc-socket?)" : "");
		return CLI_EXIT_USAGE;
	}
	ret = rpc_client_call(c, method, params, timeout_ms, &r);
	rpc_client_close(c);
	switch (ret) {
	case 0:
		break;
	case -ETIMEDOUT:
		fprintf(stderr, "nvring rpc: no answer from %s within %u ms\n", path, timeout_ms);
		return RPC_CLI_EXIT_ERROR;
	case -ECONNRESET:
		fprintf(stderr, "nvring rpc: %s closed the connection before answering\n", path);
		return RPC_CLI_EXIT_ERROR;
	case -EPROTO:
		fprintf(stderr, "nvring rpc: %s did not answer with a JSON-RPC response\n", path);
		return RPC_CLI_EXIT_ERROR;
	default:
		fprintf(stderr, "nvring rpc: %s: %s\n", path, strerror(-ret));
		return RPC_CLI_EXIT_ERROR;
	}
	if (r.code) {
		fprintf(stderr, "nvring rpc: %s (code %d)\n", r.message, r.code);
		ret = RPC_CLI_EXIT_ERROR;
	} else if (list) {
		rpc_cli_print_methods(r.result);
	} else {
		printf("%s\n", r.result ? json_object_to_json_string_ext(r.result, JSON_C_TO_STRING_PRETTY |
									  JSON_C_TO_STRING_NOSLASHESCAPE) : "null");
	}
	rpc_reply_free(&r);
	return ret;
}

int cmd_rpc(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = RPC_DEFAULT_SOCKET;
	unsigned long timeout = RPC_CLI_TIMEOUT_MS;
	json_object *params = NULL;
	bool list = false;
	char *end;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:t:lh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 't':
			errno = 0;
			timeout = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || !timeout || timeout > 86400000) {
				fprintf(stderr, "nvring rpc: --timeout: '%s' is not a number of milliseconds (1..86400000)\n", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'l':
			list = true;
			break;
		case 'h':
			rpc_cli_usage();
			return CLI_EXIT_OK;
		default:
			rpc_cli_usage();
			return CLI_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (list ? argc != 0 : argc < 1 || argc > 2) {
		fprintf(stderr, "nvring rpc: %s\n", list ? "--list takes no METHOD" : argc ? "too many arguments" : "METHOD missing");
		rpc_cli_usage();
		return CLI_EXIT_USAGE;
	}
	if (argc == 2 && !(params = rpc_cli_params(argv[1])))
		return CLI_EXIT_USAGE;
	ret = rpc_cli_call(path, (unsigned)timeout, list ? "rpc_get_methods" : argv[0], params, list);
	json_object_put(params);
	return ret;
}
