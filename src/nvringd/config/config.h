/* SPDX-License-Identifier: MIT */
/*
 * nvringd's configuration: command-line flags, or a JSON file in the shape of nvmetcli's saved
 * config (/etc/nvmet/config.json). Parsing only: everything is validated here so that start-up
 * code can trust the result; nothing is opened or started. See docs/config.md.
 *
 * The same model serves the control plane: one item (namespace, subsystem, host, port) can be
 * parsed from a --ns spec or a JSON object, checked against a live model and added to it, and
 * a whole model written back as JSON that loads into an equal model.
 */
#ifndef NVRING_TARGET_CONFIG_H
#define NVRING_TARGET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/backend.h"
#include "util/size_str.h"

struct json_object;

#define NVR_CFG_NQN_SIZE 224 /* NQN: at most 223 bytes (NVMe base spec 4.5), plus NUL */
#define NVR_CFG_DEFAULT_NQN "nqn.2026-11.io.nvring:default"
#define NVR_CFG_DEFAULT_PORT 4420
#define NVR_CFG_DISCOVERY_PORT 8009 /* a port that serves discovery only */
#define NVR_CFG_ADDR_SIZE 46        /* INET6_ADDRSTRLEN */
#define NVR_CFG_DEFAULT_RPC_SOCKET "/run/nvringd.sock"
#define NVR_CFG_ANA_GRPID_MAX 128   /* as nvmet: ANAGRPMAX */
#define NVR_CFG_DEFAULT_ANA_GRPID 1 /* exists on every port, optimized unless said otherwise */

/* TREQ bits 1:0 of a discovery log entry (secure channel). */
enum cfg_treq { CFG_TREQ_NOT_SPECIFIED = 0, CFG_TREQ_REQUIRED = 1, CFG_TREQ_NOT_REQUIRED = 2 };
/* TSAS for TCP: the security type offered on the port. */
enum cfg_tsas { CFG_TSAS_NONE = 0, CFG_TSAS_TLS13 = 1 };
/* ANA states, as the ANA log page encodes them. */
enum cfg_ana_state {
	CFG_ANA_OPTIMIZED = 0x1,
	CFG_ANA_NON_OPTIMIZED = 0x2,
	CFG_ANA_INACCESSIBLE = 0x3,
	CFG_ANA_PERSISTENT_LOSS = 0x4,
	CFG_ANA_CHANGE = 0xf,
};
/* DH-HMAC-CHAP identifiers (TP 8006). */
enum cfg_dhchap_hash { CFG_HASH_SHA256 = 1, CFG_HASH_SHA384 = 2, CFG_HASH_SHA512 = 3 };
enum cfg_dhgroup {
	CFG_DHGROUP_NULL = 0,
	CFG_DHGROUP_FFDHE2048 = 1,
	CFG_DHGROUP_FFDHE3072 = 2,
	CFG_DHGROUP_FFDHE4096 = 3,
	CFG_DHGROUP_FFDHE6144 = 4,
	CFG_DHGROUP_FFDHE8192 = 5,
};
/* Masks of allowed identifiers, bit N = identifier N. */
#define CFG_DHCHAP_HASHES_ALL 0x0eu
#define CFG_DHCHAP_DHGROUPS_ALL 0x3fu

/* A key=value option of a namespace spec, kept verbatim for kinds that need more than the fields. */
struct cfg_opt {
	char *key;
	char *val; /* NULL for a bare flag such as "ro" */
};

struct cfg_ns {
	uint32_t nsid;
	bool enabled;
	char kind[16];      /* "mem", "file", "kv", "passthru", "rbd", "kv-rados" */
	char *path;         /* NULL for mem, kv in memory ("kv:mem"), rbd and kv-rados */
	uint64_t size;      /* bytes; 0 = take it from the file/device (or engine default) */
	unsigned lba_size;  /* 512 or 4096; 0 = backend default */
	bool buffered;
	bool readonly;
	bool kvssd_compat;
	bool all_opcodes;   /* passthru: pass every I/O opcode (vendor ones too) to the drive */
	bool vwc;           /* volatile write cache: kv (engine option vwc), rbd (librbd cache) */
	uint32_t ana_grpid; /* ANA group, 1..NVR_CFG_ANA_GRPID_MAX (default 1) */
	uint8_t uuid[16];   /* given, or derived from subsystem NQN + nsid */
	uint8_t nguid[16];
	/* kv engine tuning, also in opts: 0 / false = the engine's default */
	uint32_t kv_segment_size;
	uint32_t kv_max_value;
	unsigned kv_gc_threshold;
	bool kv_format;     /* discard the store at start */
	/* rbd and kv-rados: the Ceph object; NULL = librados's default */
	char *pool;
	char *image;        /* rbd */
	char *rados_ns;     /* RADOS namespace (rbd: the image's; kv-rados: the store's) */
	char *ceph_conf;    /* conf=PATH */
	char *ceph_id;      /* id=CLIENT: the cephx user without "client." */
	char *ceph_cluster; /* cluster=NAME */
	unsigned ceph_connect_timeout; /* connect_timeout=S: reaching the cluster at open; 0 = 10 s */
	unsigned ceph_op_timeout;      /* op_timeout=S: an OSD operation fails (retryable); 0 = none */
	unsigned kv_shards;            /* kv-rados: shard objects of a new data set; 0 = 16 */
	struct cfg_opt *opts; /* every option as given, in order */
	size_t nr_opts;
};

/* An ANA group as a port reports it. */
struct cfg_ana_group {
	uint32_t grpid;
	enum cfg_ana_state state;
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
	char **allowed_hosts; /* NQNs, each also in nvr_config.hosts */
	size_t nr_allowed_hosts;
	uint8_t dhchap_hashes;   /* enum cfg_dhchap_hash bits a host may use; default all */
	uint8_t dhchap_dhgroups; /* enum cfg_dhgroup bits; default all */
	struct cfg_ns *ns;  /* in the order given */
	size_t nr_ns;
};

struct cfg_referral {
	char *name;                    /* NULL if the config gave none */
	bool enabled;                  /* a disabled referral is kept but not reported */
	int family;                    /* AF_INET / AF_INET6 */
	char addr[NVR_CFG_ADDR_SIZE];  /* numeric, no brackets */
	uint16_t port;
	uint16_t portid;
	enum cfg_treq treq;
	enum cfg_tsas tsas;
};

struct cfg_port {
	uint16_t portid;
	int family;                    /* AF_INET / AF_INET6 */
	char addr[NVR_CFG_ADDR_SIZE];  /* numeric, no brackets */
	uint16_t port;
	enum cfg_treq treq;            /* TLS: required, or optional (not required) with tsas */
	enum cfg_tsas tsas;
	bool all_subsys;               /* flags mode: every subsystem is exported here */
	size_t *subsys;                /* else: indices into nvr_config.subsys */
	size_t nr_subsys;
	bool discovery_only;           /* no I/O subsystem is reachable through this port */
	int inline_data_size;          /* bytes of in-capsule data; -1 = target default */
	int max_queue_size;            /* entries; -1 = target default */
	struct cfg_referral *referrals;
	size_t nr_referrals;
	struct cfg_ana_group *ana_groups; /* groups with a state given on this port */
	size_t nr_ana_groups;
};

/* A secret string, and the file it was read from (so that a saved config names the file). */
struct cfg_secret {
	char *value; /* NULL = none */
	char *file;  /* NULL if given inline */
};

struct cfg_host {
	char nqn[NVR_CFG_NQN_SIZE];
	struct cfg_secret dhchap_key;      /* "DHHC-1:..": the host must authenticate */
	struct cfg_secret dhchap_ctrl_key; /* "DHHC-1:..": the controller authenticates too */
	enum cfg_dhchap_hash dhchap_hash;  /* default SHA-256, as nvmet */
	enum cfg_dhgroup dhchap_dhgroup;   /* default null (no DH exchange), as nvmet */
	struct cfg_secret psk;             /* TLS PSK, interchange form "NVMeTLSkey-1:.." */
};

struct cfg_metrics {
	bool enabled;
	int family;
	char addr[NVR_CFG_ADDR_SIZE];
	uint16_t port;
};

struct nvr_config {
	struct cfg_port *ports;
	size_t nr_ports;
	struct cfg_subsys *subsys;
	size_t nr_subsys;
	struct cfg_host *hosts; /* known hosts (JSON "hosts", or --allow-host) */
	size_t nr_hosts;
	unsigned threads;   /* worker threads, >= 1 */
	unsigned verbose;
	bool poll;
	char *config_file;  /* -c FILE, or NULL */
	/* limits (each checked by the daemon; see docs/config.md) */
	unsigned max_connections;           /* all connections, default 16384 */
	unsigned max_connections_per_host;  /* per peer IP address, default 1024 */
	uint64_t max_inflight_bytes;        /* data buffers of all connections, default 1 GiB */
	uint64_t max_inflight_bytes_per_conn; /* default 32 MiB */
	unsigned icreq_timeout_ms;          /* accept to ICReq; 0 = none; default 10000 */
	unsigned connect_timeout_ms;        /* ICResp to Fabrics Connect; 0 = none */
	unsigned pdu_timeout_ms;            /* a started PDU must be complete within; 0 = none */
	unsigned listen_backlog;            /* listen(2) backlog; default net.core.somaxconn */
	/* control plane */
	char *rpc_socket;                   /* JSON-RPC Unix socket path; NULL = none */
	struct cfg_metrics metrics;         /* off by default */
};

/* ---- whole configurations ---- */

/* Defaults for everything that is not topology (threads, limits, rpc socket, ...); no ports. */
int nvr_config_init(struct nvr_config *cfg);

/*
 * Parse nvringd's command line into *cfg (which need not be initialised). Returns 0; 1 if
 * --help was asked for (usage printed on stdout); or -1 with err holding a message that names
 * the bad item, without the program name: print it as "nvringd: %s" and exit 2. On error *cfg
 * holds nothing to free. argv is not modified.
 */
int nvr_config_parse_args(struct nvr_config *cfg, int argc, char **argv, char *err, size_t errlen);

/*
 * Replace ports, subsystems and hosts of *cfg (from nvr_config_init or parse_args) with those
 * of the JSON file at path (settings too, where the file's "nvring" object gives them).
 * 0, or -1 with err = "PATH: where: what". On error *cfg is unchanged.
 */
int nvr_config_load_json(struct nvr_config *cfg, const char *path, char *err, size_t errlen);
/* The same from a string; name is used in messages in place of the file name. */
int nvr_config_load_json_string(struct nvr_config *cfg, const char *text, const char *name,
				char *err, size_t errlen);

/*
 * The whole model as JSON in the -c format: loading it gives an equal model
 * (nvr_config_compare). Secrets read from files are written as their file names.
 */
struct json_object *nvr_config_to_json(const struct nvr_config *cfg);
char *nvr_config_to_json_string(const struct nvr_config *cfg); /* malloc'd, ends with "\n" */
/* Write it to path atomically (PATH.tmp, fsync, rename). 0 or -1 with err. Blocks. */
int nvr_config_save(const struct nvr_config *cfg, const char *path, char *err, size_t errlen);

/* 0 if a and b mean the same (config_file and raw opts aside), else -1 and the first difference. */
int nvr_config_compare(const struct nvr_config *a, const struct nvr_config *b, char *diff,
		       size_t difflen);

void nvr_config_free(struct nvr_config *cfg);
void nvr_config_usage(FILE *out);
/* One line per setting group, host, port, subsystem and namespace (never a secret): for -v. */
void nvr_config_print(FILE *out, const struct nvr_config *cfg);

/* ---- queries ---- */

/* Does this port export subsystem index si? */
bool nvr_config_port_has_subsys(const struct cfg_port *port, size_t si);
/* The ANA state of group grpid on this port (group 1 optimized, others inaccessible, unless given). */
enum cfg_ana_state nvr_config_port_ana_state(const struct cfg_port *port, uint32_t grpid);
/* Index of the subsystem / host with this NQN, or -1. */
long nvr_config_find_subsys(const struct nvr_config *cfg, const char *nqn);
long nvr_config_find_host(const struct nvr_config *cfg, const char *nqn);

/* The backend spec of a namespace; its strings point into ns (valid while cfg lives). */
void nvr_config_ns_to_be_spec(const struct cfg_ns *ns, struct be_spec *spec);

/* Names used in the config ("hmac(sha256)", "ffdhe2048", "optimized"); NULL if out of range. */
const char *nvr_config_hash_name(enum cfg_dhchap_hash id);
const char *nvr_config_dhgroup_name(enum cfg_dhgroup id);
const char *nvr_config_ana_state_name(enum cfg_ana_state state);

/* ---- single items, for the control plane ----
 *
 * Messages name the item by its path, starting with `where` ("params", "subsystems[2]"):
 * "params.device.lba_size: must be 512 or 4096". Parsing checks the item and what it refers
 * to (allowed hosts, exported subsystems); adding checks it against the rest of the model
 * (an NSID in use, a duplicate NQN, port ID or address) and then moves it in.
 */

/* "KIND:PATH[,OPTION...]" as --ns takes it; nsid 0 if the spec gives none. */
int nvr_config_parse_ns_spec(struct cfg_ns *ns, const char *spec, char *err, size_t errlen);
/* A namespace object {nsid?, enable?, ana_grpid?, device: {...}} (nsid may be absent: 0). */
int nvr_config_ns_from_json(struct cfg_ns *ns, struct json_object *o, const char *where,
			    char *err, size_t errlen);
/* A subsystem object {nqn, attr?, allowed_hosts?, namespaces?, dhchap_hashes?, ...}. */
int nvr_config_subsys_from_json(const struct nvr_config *cfg, struct cfg_subsys *s,
				struct json_object *o, const char *where, char *err, size_t errlen);
/*
 * subsystem_create's flat params {nqn, serial?, model?, firmware?, version?, ieee_oui?,
 * cntlid_min?, cntlid_max?, qid_max?, allow_any_host?} (the "attr" keys next to the NQN);
 * allow_any_host defaults to false. Messages say "where.serial".
 */
int nvr_config_subsys_from_params(const struct nvr_config *cfg, struct cfg_subsys *s, struct json_object *o,
				  const char *where, char *err, size_t errlen);
/* A hosts[] entry {nqn, dhchap_key?, ...}. */
int nvr_config_host_from_json(struct cfg_host *h, struct json_object *o, const char *where,
			      char *err, size_t errlen);
/* A ports[] entry {portid, addr, subsystems?, referrals?, param?, ana_groups?}. */
int nvr_config_port_from_json(const struct nvr_config *cfg, struct cfg_port *p,
			      struct json_object *o, const char *where, char *err, size_t errlen);

/* Would adding this item clash? 0, or -1 with err naming it. */
int nvr_config_check_ns(const struct nvr_config *cfg, size_t si, const struct cfg_ns *ns,
			const char *where, char *err, size_t errlen);
int nvr_config_check_subsys(const struct nvr_config *cfg, const struct cfg_subsys *s,
			    const char *where, char *err, size_t errlen);
int nvr_config_check_host(const struct nvr_config *cfg, const struct cfg_host *h,
			  const char *where, char *err, size_t errlen);
int nvr_config_check_port(const struct nvr_config *cfg, const struct cfg_port *p,
			  const char *where, char *err, size_t errlen);

/*
 * Check, then move the item into cfg (it is zeroed: nothing left to free). A namespace
 * without nsid gets the lowest free one; derived identifiers (serial, UUID, NGUID) are filled
 * in. On error cfg is unchanged and the item still the caller's.
 */
int nvr_config_add_ns(struct nvr_config *cfg, size_t si, struct cfg_ns *ns, const char *where,
		      char *err, size_t errlen);
int nvr_config_add_subsys(struct nvr_config *cfg, struct cfg_subsys *s, const char *where,
			  char *err, size_t errlen);
int nvr_config_add_host(struct nvr_config *cfg, struct cfg_host *h, const char *where,
			char *err, size_t errlen);
int nvr_config_add_port(struct nvr_config *cfg, struct cfg_port *p, const char *where,
			char *err, size_t errlen);
/* Let host hostnqn (already in cfg->hosts) into subsystem si. */
int nvr_config_allow_host(struct nvr_config *cfg, size_t si, const char *hostnqn,
			  const char *where, char *err, size_t errlen);

void nvr_config_ns_free(struct cfg_ns *ns);
void nvr_config_subsys_free(struct cfg_subsys *s);
void nvr_config_host_free(struct cfg_host *h);
void nvr_config_port_free(struct cfg_port *p);

/* ---- value parsers ---- */

/* "4096", "512K", "1G", "2t": binary suffixes K/M/G/T. 0 or -EINVAL/-ERANGE. */
/*
 * "127.0.0.1:4420", "[::1]:4420": numeric address and port 0..65535 (0: the kernel picks a free
 * port). addr gets the canonical address without brackets. 0 or -EINVAL.
 */
int nvr_parse_addr(const char *s, char *addr, size_t addrlen, uint16_t *port, int *family);
/* An NQN as the NVMe spec defines it: "nqn.yyyy-mm.reverse.domain[:...]" or the UUID form. */
bool nvr_nqn_valid(const char *nqn);
/* The shape of a DH-HMAC-CHAP secret, "DHHC-1:XX:BASE64:" (its CRC is checked where it is used). */
bool nvr_config_dhchap_key_valid(const char *s);

#endif
