/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the JSON config loader (the input is the file's text). A config either
 * loads, and then survives the writer's round trip, or fails with a message naming the file;
 * a failed load leaves the model as it was.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvr_config cfg;
	char err[1024], *text;

	if (size > 1 << 16 || memchr(data, '\0', size))
		return 0; /* the file loader refuses NUL bytes before parsing */
	text = fuzz_cstr(data, size);
	if (nvr_config_init(&cfg))
		abort();
	err[0] = '\0';
	if (nvr_config_load_json_string(&cfg, text, "f.json", err, sizeof(err))) {
		if (strncmp(err, "f.json: ", 8) || cfg.nr_ports || cfg.nr_subsys || cfg.nr_hosts)
			abort();
	} else {
		fuzz_roundtrip(&cfg);
	}
	nvr_config_free(&cfg);
	free(text);
	return 0;
}
