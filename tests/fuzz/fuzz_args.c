/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: nvringd's command line. The input is the arguments after argv[0],
 * separated by NUL bytes. Parsing succeeds (and the model survives the writer's round trip),
 * prints usage, or fails with a message and nothing left to free.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz_common.h"

#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int null = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	if (null >= 0)
		dup2(null, STDOUT_FILENO); /* --help prints usage; libFuzzer reports on stderr */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[MAX_ARGS + 2] = { "nvringd" }, *buf, err[512];
	struct nvr_config cfg;
	int argc = 1, rc;

	if (size > 8192)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i <= size && argc <= MAX_ARGS;) {
		args[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	if (size == 0)
		argc = 1;
	args[argc] = NULL;
	err[0] = '\0';
	rc = nvr_config_parse_args(&cfg, argc, args, err, sizeof(err));
	if (rc == 0) {
		fuzz_roundtrip(&cfg);
		nvr_config_free(&cfg);
	} else if (rc < 0 && (!err[0] || cfg.nr_ports || cfg.subsys || cfg.rpc_socket)) {
		abort();
	}
	free(buf);
	return 0;
}
