/* SPDX-License-Identifier: MIT */
/* The command line as scanned (args.c), before it becomes a model (args_build.c). */
#ifndef NVRING_CONFIG_ARGS_H
#define NVRING_CONFIG_ARGS_H

#include "cfg_int.h"

#define CFG_MAX_SETTINGS 16

/* An argument as given, with the option spelling the user typed (for messages). */
struct cfg_arg {
	const char *opt;
	const char *val;
};

struct cfg_args {
	struct cfg_arg *listen, *ns, *hosts;
	size_t nr_listen, nr_ns, nr_hosts;
	struct cfg_arg nqn, config, hashes, dhgroups;
	struct cfg_arg settings[CFG_MAX_SETTINGS]; /* by index in cfg_settings */
	const char *topology_opt; /* first flag that describes topology, to reject with -c */
	unsigned verbose;
	bool poll, help;
};

/* The single subsystem, its hosts, namespaces and listeners described by flags. */
int cfg_args_build(struct nvr_config *cfg, const struct cfg_args *a, char *err, size_t errlen);

#endif
