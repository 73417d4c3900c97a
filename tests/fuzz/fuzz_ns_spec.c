/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: one --ns spec (the input, as text). A spec either parses, and then its
 * namespace goes into a model that must survive the writer's round trip, or fails with a
 * message. Never a crash, a leak or a hang.
 */
#include "fuzz_common.h"

static struct nvr_config base;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvr_config cfg;
	struct cfg_ns ns;
	char err[512], *spec;
	char *argv[] = { "nvringd", "--ns", NULL, NULL };

	if (size > 4096)
		return 0;
	spec = fuzz_cstr(data, size);
	err[0] = '\0';
	if (nvr_config_parse_ns_spec(&ns, spec, err, sizeof(err))) {
		if (!err[0])
			abort(); /* every refusal says why */
		free(spec);
		return 0;
	}
	if (ns.size % (ns.lba_size ? ns.lba_size : 512) || !ns.kind[0])
		abort();
	/* into a model (it may clash: an ANA group no port has), then the round trip */
	if (!base.nr_subsys && nvr_config_parse_args(&base, 1, argv, err, sizeof(err)))
		abort();
	argv[2] = spec;
	if (!nvr_config_parse_args(&cfg, 3, argv, err, sizeof(err))) {
		fuzz_roundtrip(&cfg);
		nvr_config_free(&cfg);
	}
	if (!nvr_config_add_ns(&base, 0, &ns, "ns", err, sizeof(err))) {
		fuzz_roundtrip(&base);
		nvr_config_free(&base); /* keep the model small */
	} else {
		nvr_config_ns_free(&ns);
	}
	free(spec);
	return 0;
}
