/* SPDX-License-Identifier: MIT */
/* What the configuration's files share among themselves; not for the rest of the daemon. */
#ifndef NVRING_CONFIG_CFG_INT_H
#define NVRING_CONFIG_CFG_INT_H

#include "config.h"

#include "kvstore/kvstore.h"

#define CFG_MAX_THREADS 1024
#define CFG_MAX_VERBOSE 16
#define CFG_MAX_JSON (16u << 20) /* a config larger than this is surely a mistake */
#define CFG_NSID_MAX 0xFFFFFFFEu /* 0 and 0xFFFFFFFF (broadcast) are not namespace IDs */
#define CFG_CNTLID_MAX 0xFFEF
#define CFG_DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define CFG_UUID_NQN_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"
#define CFG_MAX_SECRET 4096      /* a key file larger than this is not a key */
#define CFG_NAME_MAX 255         /* Ceph pool, image, namespace, client and cluster names */
#define CFG_SUN_PATH_MAX 107     /* sizeof(sockaddr_un.sun_path) - 1 */

/* ---- helpers (model.c) ---- */

int cfg_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Grow an array by one zeroed element; NULL (array untouched) when out of memory. */
void *cfg_grow(void *arr, size_t nr, size_t elem);
int cfg_strv_push(char ***v, size_t *nr, const char *s);
void cfg_strv_free(char **v, size_t nr);
bool cfg_strv_has(char *const *v, size_t nr, const char *s);
/* strdup that keeps NULL: 0, or -ENOMEM */
int cfg_dup(char **dst, const char *src);

/* ---- value parsers (parse.c) ---- */

int cfg_parse_uint(const char *s, uint64_t max, uint64_t *out);
int cfg_parse_bool(const char *s, bool *out);
int cfg_parse_port(const char *s, uint16_t *port);
int cfg_parse_ip(const char *s, int family, char *canon);
int cfg_parse_uuid(const char *s, uint8_t out[16]);
bool cfg_is_hex(const char *s, size_t n);
int cfg_parse_version(const char *s, uint32_t *out);
/* "1G" for 1 << 30, "1536K", "1000": the shortest exact spelling. buf >= 24 bytes. */
const char *cfg_fmt_size(char *buf, uint64_t v);
/* Printable ASCII without '/', ',' or spaces, 1..CFG_NAME_MAX bytes: Ceph names. */
bool cfg_name_valid(const char *s);
/* The shape of a DH-HMAC-CHAP secret "DHHC-1:XX:...:" / a TLS PSK "NVMeTLSkey-1:XX:...:". */
bool cfg_dhchap_key_valid(const char *s);
bool cfg_psk_valid(const char *s);
/* Read a secret from a regular file, one trailing newline dropped. 0 or -1 with msg. */
int cfg_read_secret(const char *path, char **out, char *msg, size_t msglen);
/* Names to identifiers; -1 if unknown. */
int cfg_hash_id(const char *name);
int cfg_dhgroup_id(const char *name);
int cfg_ana_state_id(const char *name);
/* Add a hash / DH group by name to a mask of allowed ones; refuses unknown and repeated names. */
int cfg_mask_add(uint8_t *mask, bool hash, const char *name, char *msg, size_t msglen);
/* The message for a bad NQN, or 0 if fine. */
int cfg_nqn_check(const char *nqn, char *msg, size_t msglen);
/* A Unix socket path or "none" (NULL). */
int cfg_parse_socket_path(const char *s, char **out, char *msg, size_t msglen);
void cfg_secret_free(struct cfg_secret *s);

/* ---- identifiers derived from names (ident.c) ---- */

bool cfg_is_zero(const uint8_t *p, size_t n);
void cfg_gen_serial(const char *nqn, char serial[21]);
void cfg_gen_ns_ids(const char *nqn, struct cfg_ns *ns);

/* ---- namespace specs (nsspec.c) ---- */

struct ns_kind;

struct ns_build {
	struct cfg_ns *ns;
	const struct ns_kind *kind;
	unsigned seen;        /* option bits given so far: each option at most once */
	unsigned seen_engine; /* kv engine options given so far */
	struct kvs_config kv; /* the engine options as the engine reads them */
};

const struct ns_kind *ns_kind_find(const char *name, size_t len);
int ns_begin(struct ns_build *b, struct cfg_ns *ns, const char *kind, size_t len, char *msg,
	     size_t msglen);
int ns_set_path(struct ns_build *b, const char *path, char *msg, size_t msglen);
int ns_set_opt(struct ns_build *b, const char *key, const char *val, char *msg, size_t msglen);
int ns_finish(struct ns_build *b, char *msg, size_t msglen);
int ns_parse_spec(struct cfg_ns *ns, struct ns_build *b, const char *spec, char *msg, size_t msglen);
/* "mem, file, kv, ...": for messages */
const char *ns_kind_list(void);

/* ---- the model (model.c, check.c) ---- */

void cfg_subsys_init(struct cfg_subsys *s);
void cfg_port_init(struct cfg_port *p);
void cfg_host_init(struct cfg_host *h);
struct cfg_subsys *cfg_add_subsys(struct nvr_config *cfg);
struct cfg_port *cfg_add_port(struct nvr_config *cfg);
struct cfg_ns *cfg_add_ns(struct cfg_subsys *s);
struct cfg_host *cfg_add_host(struct nvr_config *cfg);
void cfg_free_topology(struct nvr_config *cfg);
/*
 * Index of a port among ports[0..n) that clashes with p, or -1: the same address and port,
 * or the same port with a wildcard address on either side. *same tells which.
 */
long cfg_port_clash(const struct cfg_port *ports, size_t n, const struct cfg_port *p, bool *same);
/* Namespace k of subsystem si whose uuid or nguid equals ns's (only those before ns if ns is
 * in cfg); *what says which. */
bool cfg_ns_id_clash(const struct nvr_config *cfg, const struct cfg_ns *ns, size_t *si, size_t *k,
		     const char **what);
bool cfg_ana_group_defined(const struct nvr_config *cfg, uint32_t grpid);
/* Whole-config checks and derived identifiers, after every item was read. */
int cfg_finalize(struct nvr_config *cfg, char *err, size_t errlen);
int cfg_port_tls_check(enum cfg_treq treq, enum cfg_tsas tsas, char *msg, size_t msglen);
int cfg_host_check(const struct cfg_host *h, char *msg, size_t msglen, const char **field);

/* ---- settings that are not topology (settings.c) ---- */

enum cfg_setting_type {
	CS_UINT, /* unsigned, min..max */
	CS_SIZE, /* uint64_t bytes with K/M/G/T, min..max */
	CS_PATH, /* char *: a Unix socket path or "none" */
	CS_ADDR, /* struct cfg_metrics: ADDR:PORT or "none" */
};

struct cfg_setting {
	const char *flag;  /* "--max-connections" */
	const char *shrt;  /* "-t", or NULL */
	const char *json;  /* "max_connections" in the "nvring" object */
	enum cfg_setting_type type;
	size_t off;        /* in struct nvr_config */
	uint64_t min, max;
};

extern const struct cfg_setting cfg_settings[];
extern const size_t cfg_nr_settings;

/* Parse a flag's value into cfg; msg without the flag's name. */
int cfg_setting_parse(const struct cfg_setting *st, struct nvr_config *cfg, const char *val,
		      char *msg, size_t msglen);
/* Copy one setting between configs (strings duplicated). */
int cfg_setting_copy(const struct cfg_setting *st, struct nvr_config *dst, const struct nvr_config *src);
/* The value as a flag would take it ("16384", "1G", "none"). */
const char *cfg_setting_fmt(const struct cfg_setting *st, const struct nvr_config *cfg, char *buf,
			    size_t len);
/*
 * Relations between settings and with the ports; names from flags or from JSON. A per-host or
 * per-connection limit above its global one is an error if it was given (bit i of given for
 * cfg_settings[i]), and else lowered to the global one.
 */
int cfg_settings_check(struct nvr_config *cfg, bool flag_names, unsigned given, char *err, size_t errlen);
unsigned cfg_setting_bit(const char *json);
unsigned cfg_default_backlog(void);
unsigned cfg_online_cpus(void);

#endif
