/* SPDX-License-Identifier: MIT */
/*
 * What the configuration's fuzz targets share: the writer's round trip as an oracle. Any
 * model that loads must write back to JSON that loads equal and writes the same text again;
 * a difference aborts, so libFuzzer keeps the input.
 */
#ifndef NVRING_FUZZ_COMMON_H
#define NVRING_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvringd/config/config.h"

/* The input as a C string (libFuzzer's data is not NUL-terminated). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static inline void fuzz_roundtrip(const struct nvr_config *cfg)
{
	struct nvr_config again;
	char err[1024], diff[256];
	char *text, *text2;

	/* port 0 (the kernel picks one) is for tests: a config file cannot say it */
	for (size_t i = 0; i < cfg->nr_ports; i++)
		if (!cfg->ports[i].port)
			return;
	text = nvr_config_to_json_string(cfg);
	if (!text)
		abort();
	if (nvr_config_init(&again))
		abort();
	if (nvr_config_load_json_string(&again, text, "written", err, sizeof(err))) {
		fprintf(stderr, "round trip: the written config does not load: %s\n%s", err, text);
		abort();
	}
	if (nvr_config_compare(cfg, &again, diff, sizeof(diff))) {
		fprintf(stderr, "round trip: %s\n%s", diff, text);
		abort();
	}
	text2 = nvr_config_to_json_string(&again);
	if (!text2 || strcmp(text, text2)) {
		fprintf(stderr, "round trip: writing again differs\n%s\n---\n%s", text, text2 ? text2 : "(null)");
		abort();
	}
	free(text2);
	free(text);
	nvr_config_free(&again);
}

#endif
