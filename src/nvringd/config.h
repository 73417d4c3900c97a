/* SPDX-License-Identifier: MIT */
/*
 * nvringd's configuration: command-line flags, or a JSON file in the shape of nvmetcli's saved
 * config (/etc/nvmet/config.json). Parsing only: everything is validated here so that start-up
 * code can trust the result; nothing is opened or started. See docs/config.md.
 */
#ifndef NVRING_TARGET_CONFIG_H
#define NVRING_TARGET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/backend.h"

#define NVR_CFG_NQN_SIZE 224 /* NQN: at most 223 bytes (NVMe base spec 4.5), plus NUL */
#define NVR_CFG_DEFAULT_NQN "nqn.2026-11.io.nvring:default"
#define NVR_CFG_DEFAULT_PORT 4420
#define NVR_CFG_DISCOVERY_PORT 8009 /* a port that serves discovery only */
#define NVR_CFG_ADDR_SIZE 46        /* INET6_ADDRSTRLEN */

/* A key=value option of a namespace spec, kept verbatim for kinds that need more than the fields. */
struct cfg_opt {
	char *key;
	char *val; /* NULL for a bare flag such as "ro" */
};

struct cfg_ns {
	uint32_t nsid;
	bool enabled;
	char kind[16];      /* "mem", "file", "kv", "passthru" */
	char *path;         /* NULL for mem and for kv in memory ("kv:mem") */
	uint64_t size;      /* bytes; 0 = take it from the file/device (or engine default) */
	unsigned lba_size;  /* 512 or 4096; 0 = backend default */
	bool buffered;
	bool readonly;
	bool kvssd_compat;
	bool all_opcodes;   /* passthru: pass every I/O opcode (vendor ones too) to the drive */
	uint8_t uuid[16];   /* given, or derived from subsystem NQN + nsid */
	uint8_t nguid[16];
	struct cfg_opt *opts; /* every option as given, in order */
	size_t nr_opts;
};

struct cfg_subsys {
	char nqn[NVR_CFG_NQN_SIZE];
	char serial[21];    /* Identify SN: 20 ASCII; derived from the NQN if absent */
	char model[41];     /* Identify MN: 40 ASCII */
	char firmware[9];   /* Identify FR: 8 ASCII; "" = target default */
	uint32_t version;   /* Identify VER encoding (major << 16 | minor << 8 | ter); 0 = default */
	uint32_t ieee_oui;  /* 0 = none given */
	uint16_t cntlid_min, cntlid_max;
	uint16_t qid_max;   /* 0 = target default */
	bool allow_any_host;
	char **allowed_hosts;
	size_t nr_allowed_hosts;
	struct cfg_ns *ns;  /* in the order given */
	size_t nr_ns;
};

struct cfg_referral {
	int family;                    /* AF_INET / AF_INET6 */
	char addr[NVR_CFG_ADDR_SIZE];  /* numeric, no brackets */
	uint16_t port;
	uint16_t portid;
};

struct cfg_port {
	uint16_t portid;
	int family;                    /* AF_INET / AF_INET6 */
	char addr[NVR_CFG_ADDR_SIZE];  /* numeric, no brackets */
	uint16_t port;
	bool all_subsys;               /* flags mode: every subsystem is exported here */
	size_t *subsys;                /* else: indices into nvr_config.subsys */
	size_t nr_subsys;
	bool discovery_only;           /* no I/O subsystem is reachable through this port */
	int inline_data_size;          /* bytes of in-capsule data; -1 = target default */
	struct cfg_referral *referrals;
	size_t nr_referrals;
};

struct nvr_config {
	struct cfg_port *ports;
	size_t nr_ports;
	struct cfg_subsys *subsys;
	size_t nr_subsys;
	char **hosts;       /* known host NQNs (JSON "hosts", or --allow-host) */
	size_t nr_hosts;
	unsigned threads;   /* worker threads, >= 1 */
	unsigned verbose;
	bool poll;
	char *config_file;  /* -c FILE, or NULL */
};

/*
 * Parse nvringd's command line into *cfg (which need not be initialised). Returns 0; 1 if
 * --help was asked for (usage printed on stdout); or -1 with err holding a message that names
 * the bad item, without the program name: print it as "nvringd: %s" and exit 2. On error *cfg
 * holds nothing to free. argv is not modified.
 */
int nvr_config_parse_args(struct nvr_config *cfg, int argc, char **argv, char *err, size_t errlen);

/*
 * Replace ports, subsystems and hosts of *cfg with those of the JSON file at path (threads and
 * verbose too, if the file has an "nvring" object). 0, or -1 with err = "PATH: where: what".
 * On error *cfg is unchanged.
 */
int nvr_config_load_json(struct nvr_config *cfg, const char *path, char *err, size_t errlen);
/* The same from a string; name is used in messages in place of the file name. */
int nvr_config_load_json_string(struct nvr_config *cfg, const char *text, const char *name,
				char *err, size_t errlen);

void nvr_config_free(struct nvr_config *cfg);
void nvr_config_usage(FILE *out);
/* One line per port, subsystem and namespace: for -v at start-up. */
void nvr_config_print(FILE *out, const struct nvr_config *cfg);

/* Does this port export subsystem index si? */
bool nvr_config_port_has_subsys(const struct cfg_port *port, size_t si);

/* The backend spec of a namespace; its strings point into ns (valid while cfg lives). */
void nvr_config_ns_to_be_spec(const struct cfg_ns *ns, struct be_spec *spec);

/* "4096", "512K", "1G", "2t": binary suffixes K/M/G/T. 0 or -EINVAL/-ERANGE. */
int nvr_parse_size(const char *s, uint64_t *out);
/*
 * "127.0.0.1:4420", "[::1]:4420": numeric address and port 0..65535 (0: the kernel picks a free
 * port). addr gets the canonical address without brackets. 0 or -EINVAL.
 */
int nvr_parse_addr(const char *s, char *addr, size_t addrlen, uint16_t *port, int *family);
/* An NQN as the NVMe spec defines it: "nqn.yyyy-mm.reverse.domain[:...]" or the UUID form. */
bool nvr_nqn_valid(const char *nqn);

#endif
