/* SPDX-License-Identifier: MIT */
/*
 * nvringd configuration: flags and nvmetcli-shaped JSON become one validated struct nvr_config.
 * Both front ends share the namespace-spec machinery (kind table + option table), so a new
 * backend kind needs one table entry, and both report errors naming the offending item.
 */
#include "config.h"
#include "kvstore/kvstore.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_MAX_THREADS 1024
#define CFG_MAX_JSON (16u << 20) /* a config larger than this is surely a mistake */
#define CFG_NSID_MAX 0xFFFFFFFEu /* 0 and 0xFFFFFFFF (broadcast) are not namespace IDs */
#define CFG_CNTLID_MAX 0xFFEF
#define CFG_DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define CFG_UUID_NQN_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"

/* ---- small helpers ---- */

static int cfg_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Grow an array by one zeroed element; NULL (array untouched) when out of memory. */
static void *cfg_grow(void *arr, size_t nr, size_t elem)
{
	char *p = realloc(arr, (nr + 1) * elem);

	if (p)
		memset(p + nr * elem, 0, elem);
	return p;
}

static int cfg_strv_push(char ***v, size_t *nr, const char *s)
{
	char **nv = cfg_grow(*v, *nr, sizeof(char *));
	char *copy;

	if (!nv)
		return -ENOMEM;
	*v = nv;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	nv[(*nr)++] = copy;
	return 0;
}

static void cfg_strv_free(char **v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(v[i]);
	free(v);
}

static bool cfg_strv_has(char *const *v, size_t nr, const char *s)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* v = v * 10 + digit, or -ERANGE on overflow. */
static int cfg_mul10_add(uint64_t *v, char digit)
{
	uint64_t d = (uint64_t)(digit - '0');

	if (*v > UINT64_MAX / 10 || (*v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
		return -ERANGE;
	*v = *v * 10 + d;
	return 0;
}

/* Decimal only, no sign, no junk; max bounds the value. */
static int cfg_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		if (cfg_mul10_add(&v, *s))
			return -ERANGE;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int cfg_parse_bool(const char *s, bool *out)
{
	if (!s || !strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

int nvr_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++)
		if (cfg_mul10_add(&v, *p))
			return -ERANGE;
	if (*p) {
		switch (toupper((unsigned char)*p)) {
		case 'K': mult = 1ull << 10; break;
		case 'M': mult = 1ull << 20; break;
		case 'G': mult = 1ull << 30; break;
		case 'T': mult = 1ull << 40; break;
		default: return -EINVAL;
		}
		if (p[1])
			return -EINVAL;
	}
	if (v && mult > UINT64_MAX / v)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

static int cfg_parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (cfg_parse_uint(s, 65535, &v))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/*
 * A numeric address of the given family; returns the family or -EINVAL. canon (if not NULL,
 * NVR_CFG_ADDR_SIZE bytes) gets the canonical spelling, so "0::1" and "::1" compare equal.
 */
static int cfg_parse_ip(const char *s, int family, char *canon)
{
	struct in6_addr a;

	if (inet_pton(family, s, &a) != 1)
		return -EINVAL;
	if (canon && !inet_ntop(family, &a, canon, NVR_CFG_ADDR_SIZE))
		return -EINVAL;
	return family;
}

int nvr_parse_addr(const char *s, char *addr, size_t addrlen, uint16_t *port, int *family)
{
	char host[NVR_CFG_ADDR_SIZE], canon[NVR_CFG_ADDR_SIZE];
	const char *end, *colon;
	bool bracketed;
	size_t len;
	int fam;

	if (!s)
		return -EINVAL;
	bracketed = *s == '[';
	if (bracketed) {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		len = (size_t)(end - s - 1);
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon) /* bare IPv6 needs brackets */
			return -EINVAL;
		len = (size_t)(colon - s);
	}
	if (len == 0 || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	fam = cfg_parse_ip(host, bracketed ? AF_INET6 : AF_INET, canon);
	if (fam < 0 || cfg_parse_port(colon + 1, port))
		return -EINVAL;
	if (strlen(canon) >= addrlen)
		return -EINVAL;
	strcpy(addr, canon);
	*family = fam;
	return 0;
}

static bool cfg_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Canonical 8-4-4-4-12 form, or 32 hex digits without dashes. */
static int cfg_parse_uuid(const char *s, uint8_t out[16])
{
	char hex[33];
	size_t n = 0;

	if (!s)
		return -EINVAL;
	if (strlen(s) == 36) {
		for (size_t i = 0; i < 36; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;

			if (dash != (s[i] == '-'))
				return -EINVAL;
			if (!dash)
				hex[n++] = s[i];
		}
	} else if (strlen(s) == 32) {
		memcpy(hex, s, 32);
		n = 32;
	} else {
		return -EINVAL;
	}
	if (!cfg_is_hex(hex, n))
		return -EINVAL;
	for (size_t i = 0; i < 16; i++) {
		char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		out[i] = (uint8_t)strtoul(b, NULL, 16);
	}
	return 0;
}

bool nvr_nqn_valid(const char *nqn)
{
	size_t len = strlen(nqn);
	const char *p;

	if (len >= NVR_CFG_NQN_SIZE || strncmp(nqn, "nqn.", 4))
		return false;
	for (p = nqn; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	/* "nqn.2014-08.org.nvmexpress:uuid:" + a UUID in 8-4-4-4-12 form */
	if (!strncmp(nqn, CFG_UUID_NQN_PREFIX, strlen(CFG_UUID_NQN_PREFIX))) {
		uint8_t u[16];

		return !cfg_parse_uuid(nqn + strlen(CFG_UUID_NQN_PREFIX), u) &&
		       strlen(nqn + strlen(CFG_UUID_NQN_PREFIX)) == 36;
	}
	/* "nqn.yyyy-mm." + a reverse domain name (at least one character) */
	p = nqn + 4;
	for (int i = 0; i < 7; i++) {
		bool ok = i == 4 ? p[i] == '-' : isdigit((unsigned char)p[i]);

		if (!ok)
			return false;
	}
	if (p[5] > '1' || (p[5] == '1' && p[6] > '2') || (p[5] == '0' && p[6] == '0'))
		return false;
	return p[7] == '.' && p[8] && p[8] != ':' && p[8] != '.';
}

/* ---- stable identifiers: derived from names so they survive restarts ---- */

static uint64_t cfg_fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t cfg_fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

/* 16 bytes from (domain, nqn, nsid); two independently seeded FNV-1a lanes, each finalised. */
static void cfg_hash128(const char *domain, const char *nqn, uint32_t nsid, uint8_t out[16])
{
	char num[16];
	uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;

	snprintf(num, sizeof(num), "/%" PRIu32, nsid);
	a = cfg_fnv1a(cfg_fnv1a(cfg_fnv1a(a, domain), nqn), num);
	b = cfg_fnv1a(cfg_fnv1a(cfg_fnv1a(b, num), nqn), domain);
	a = cfg_fmix64(a);
	b = cfg_fmix64(b ^ a);
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)(a >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(b >> (56 - 8 * i));
	}
}

static bool cfg_is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void cfg_gen_serial(const char *nqn, char serial[21])
{
	uint8_t h[16];

	cfg_hash128("serial", nqn, 0, h);
	for (int i = 0; i < 10; i++)
		snprintf(serial + 2 * i, 3, "%02x", h[i]);
}

static void cfg_gen_ns_ids(const char *nqn, struct cfg_ns *ns)
{
	if (cfg_is_zero(ns->uuid, 16)) {
		cfg_hash128("uuid", nqn, ns->nsid, ns->uuid);
		ns->uuid[6] = (uint8_t)((ns->uuid[6] & 0x0f) | 0x80); /* RFC 9562 version 8 */
		ns->uuid[8] = (uint8_t)((ns->uuid[8] & 0x3f) | 0x80); /* variant 10 */
	}
	if (cfg_is_zero(ns->nguid, 16))
		cfg_hash128("nguid", nqn, ns->nsid, ns->nguid);
}

/* ---- namespace specs: KIND:PATH[,key[=value]...], shared by --ns and JSON ---- */

enum ns_opt_id { NO_SIZE, NO_BS, NO_BUFFERED, NO_RO, NO_KVSSD, NO_NSID, NO_UUID, NO_NGUID, NO_ALLOPS };
#define NO_BIT(id) (1u << (id))
#define NO_COMMON (NO_BIT(NO_NSID) | NO_BIT(NO_UUID) | NO_BIT(NO_NGUID))

static const struct ns_opt_def {
	const char *name;
	const char *alias;
} ns_opts[] = {
	[NO_SIZE] = { "size", NULL },
	[NO_BS] = { "bs", "lba_size" },
	[NO_BUFFERED] = { "buffered", NULL },
	[NO_RO] = { "ro", "readonly" },
	[NO_KVSSD] = { "kvssd-compat", "kvssd_compat" },
	[NO_NSID] = { "nsid", NULL },
	[NO_UUID] = { "uuid", NULL },
	[NO_NGUID] = { "nguid", NULL },
	[NO_ALLOPS] = { "all-opcodes", "all_opcodes" },
};

enum ns_path_rule {
	NP_SIZE,        /* the "path" is the size: mem:1G */
	NP_REQUIRED,    /* a file or device path */
	NP_PATH_OR_MEM, /* a path, or "mem" for an in-memory instance: kv:mem */
};

/* A new backend kind is one line here (plus its options in ns_opts, if new). */
static const struct ns_kind {
	const char *name;
	enum ns_path_rule path;
	unsigned opts;
} ns_kinds[] = {
	{ "mem", NP_SIZE, NO_COMMON | NO_BIT(NO_SIZE) | NO_BIT(NO_BS) | NO_BIT(NO_RO) },
	{ "file", NP_REQUIRED,
	  NO_COMMON | NO_BIT(NO_SIZE) | NO_BIT(NO_BS) | NO_BIT(NO_BUFFERED) | NO_BIT(NO_RO) },
	{ "kv", NP_PATH_OR_MEM, NO_COMMON | NO_BIT(NO_SIZE) | NO_BIT(NO_RO) | NO_BIT(NO_KVSSD) },
	{ "passthru", NP_REQUIRED, NO_COMMON | NO_BIT(NO_RO) | NO_BIT(NO_ALLOPS) },
};

struct ns_build {
	struct cfg_ns *ns;
	const struct ns_kind *kind;
	unsigned seen; /* NO_BIT()s given so far: each option at most once */
};

static const struct ns_kind *ns_kind_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(ns_kinds) / sizeof(ns_kinds[0]); i++)
		if (strlen(ns_kinds[i].name) == len && !strncmp(ns_kinds[i].name, name, len))
			return &ns_kinds[i];
	return NULL;
}

static int ns_opt_find(const char *key)
{
	for (size_t i = 0; i < sizeof(ns_opts) / sizeof(ns_opts[0]); i++)
		if (!strcmp(ns_opts[i].name, key) || (ns_opts[i].alias && !strcmp(ns_opts[i].alias, key)))
			return (int)i;
	return -1;
}

static void cfg_ns_free(struct cfg_ns *ns)
{
	free(ns->path);
	for (size_t i = 0; i < ns->nr_opts; i++) {
		free(ns->opts[i].key);
		free(ns->opts[i].val);
	}
	free(ns->opts);
	memset(ns, 0, sizeof(*ns));
}

static int ns_begin(struct ns_build *b, struct cfg_ns *ns, const char *kind, size_t len,
		    char *msg, size_t msglen)
{
	memset(b, 0, sizeof(*b));
	memset(ns, 0, sizeof(*ns));
	b->ns = ns;
	b->kind = ns_kind_find(kind, len);
	if (!b->kind)
		return cfg_err(msg, msglen, "unknown kind '%.*s' (mem, file, kv, passthru)",
			       (int)len, kind);
	strcpy(ns->kind, b->kind->name);
	ns->enabled = true;
	return 0;
}

/* The PATH part of a spec (may be empty); the message is complete. */
static int ns_set_path(struct ns_build *b, const char *path, char *msg, size_t msglen)
{
	struct cfg_ns *ns = b->ns;

	switch (b->kind->path) {
	case NP_SIZE:
		if (!*path)
			return 0; /* size= may follow */
		if (nvr_parse_size(path, &ns->size))
			return cfg_err(msg, msglen, "bad size '%s'", path);
		b->seen |= NO_BIT(NO_SIZE);
		return 0;
	case NP_PATH_OR_MEM:
		if (!strcmp(path, "mem"))
			return 0;
		/* fall through */
	case NP_REQUIRED:
		if (!*path)
			return cfg_err(msg, msglen, "%s needs a path", b->kind->name);
		ns->path = strdup(path);
		return ns->path ? 0 : cfg_err(msg, msglen, "out of memory");
	}
	return 0;
}

static int ns_record_opt(struct cfg_ns *ns, const char *key, const char *val, char *msg, size_t msglen)
{
	struct cfg_opt *o = cfg_grow(ns->opts, ns->nr_opts, sizeof(*ns->opts));

	if (!o)
		return cfg_err(msg, msglen, "out of memory");
	ns->opts = o;
	o = &ns->opts[ns->nr_opts++];
	o->key = strdup(key);
	o->val = val ? strdup(val) : NULL;
	if (!o->key || (val && !o->val))
		return cfg_err(msg, msglen, "out of memory");
	return 0;
}

/* KV engine tuning (segment, max_value, gc, vwc, format): the engine validates its own. */
static int ns_set_engine_opt(struct ns_build *b, const char *key, const char *val, char *msg, size_t msglen)
{
	struct kvs_config scratch = { 0 };
	char why[128];
	int ret = kvs_config_opt(&scratch, key, val, why, sizeof(why));

	if (ret == -ENOENT)
		return cfg_err(msg, msglen, "unknown option");
	if (ret)
		return cfg_err(msg, msglen, "bad value '%s'", val ? val : "");
	for (size_t i = 0; i < b->ns->nr_opts; i++)
		if (!strcmp(b->ns->opts[i].key, key))
			return cfg_err(msg, msglen, "given twice");
	return ns_record_opt(b->ns, key, val, msg, msglen);
}

/*
 * Apply one option (val NULL = bare flag). The message does not name the option: the caller
 * prefixes the name in its own vocabulary (--ns "bs" or JSON "device.lba_size").
 */
static int ns_set_opt(struct ns_build *b, const char *key, const char *val, char *msg, size_t msglen)
{
	struct cfg_ns *ns = b->ns;
	uint64_t v;
	int id = ns_opt_find(key);

	if (id < 0 && !strcmp(b->kind->name, "kv"))
		return ns_set_engine_opt(b, key, val, msg, msglen);
	if (id < 0)
		return cfg_err(msg, msglen, "unknown option");
	if (!(b->kind->opts & NO_BIT(id)))
		return cfg_err(msg, msglen, "does not apply to %s namespaces", b->kind->name);
	if (b->seen & NO_BIT(id))
		return cfg_err(msg, msglen, "given twice");
	b->seen |= NO_BIT(id);

	switch ((enum ns_opt_id)id) {
	case NO_SIZE:
		if (!val || nvr_parse_size(val, &ns->size))
			return cfg_err(msg, msglen, "bad size '%s'", val ? val : "");
		break;
	case NO_BS:
		if (!val || cfg_parse_uint(val, 4096, &v) || (v != 512 && v != 4096))
			return cfg_err(msg, msglen, "must be 512 or 4096");
		ns->lba_size = (unsigned)v;
		break;
	case NO_BUFFERED:
	case NO_RO:
	case NO_KVSSD:
	case NO_ALLOPS: {
		bool on;

		if (cfg_parse_bool(val, &on))
			return cfg_err(msg, msglen, "must be a boolean (0/1, true/false)");
		if (id == NO_BUFFERED)
			ns->buffered = on;
		else if (id == NO_RO)
			ns->readonly = on;
		else if (id == NO_KVSSD)
			ns->kvssd_compat = on;
		else
			ns->all_opcodes = on;
		break;
	}
	case NO_NSID:
		if (!val || cfg_parse_uint(val, UINT32_MAX, &v) || v == 0 || v > CFG_NSID_MAX)
			return cfg_err(msg, msglen, "must be 1..4294967294 (0 and 0xFFFFFFFF are reserved)");
		ns->nsid = (uint32_t)v;
		break;
	case NO_UUID:
	case NO_NGUID:
		/* all-zero is how nvmetcli saves "none": derive one then */
		if (cfg_parse_uuid(val, id == NO_UUID ? ns->uuid : ns->nguid))
			return cfg_err(msg, msglen, "bad %s '%s' (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
				       ns_opts[id].name, val ? val : "");
		break;
	}

	return ns_record_opt(ns, ns_opts[id].name, val, msg, msglen);
}

/* Checks that need the whole namespace; the message is complete. */
static int ns_finish(struct ns_build *b, char *msg, size_t msglen)
{
	struct cfg_ns *ns = b->ns;
	unsigned bs = ns->lba_size ? ns->lba_size : 512;

	if (b->kind->path == NP_SIZE && ns->size == 0)
		return cfg_err(msg, msglen, "%s needs a size > 0 (e.g. %s:1G)", ns->kind, ns->kind);
	if (ns->size % bs)
		return cfg_err(msg, msglen, "size %" PRIu64 " is not a multiple of the block size %u",
			       ns->size, bs);
	return 0;
}

/*
 * Parse "KIND:PATH[,opt[=val]...]" into ns. Returns -1 with msg complete for the spec as a
 * whole ("unknown kind", "bad size '12Q'") or "OPT: problem" for one option.
 */
static int ns_parse_spec(struct cfg_ns *ns, struct ns_build *b, const char *spec,
			 char *msg, size_t msglen)
{
	const char *colon = strchr(spec, ':');
	char *copy, *tok, *save = NULL, *path;
	char sub[256];
	int ret = -1;

	if (!colon) {
		memset(ns, 0, sizeof(*ns));
		return cfg_err(msg, msglen, "expected KIND:PATH[,OPTION...] (e.g. mem:1G, file:/dev/sdb)");
	}
	if (ns_begin(b, ns, spec, (size_t)(colon - spec), msg, msglen))
		return -1;
	copy = strdup(colon + 1);
	if (!copy)
		return cfg_err(msg, msglen, "out of memory");
	/* The path is everything up to the first comma (and may be empty for mem). */
	path = copy;
	tok = strchr(copy, ',');
	if (tok)
		*tok++ = '\0';
	if (ns_set_path(b, path, msg, msglen))
		goto out;
	for (tok = tok ? strtok_r(tok, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (eq)
			*eq++ = '\0';
		if (ns_set_opt(b, tok, eq, sub, sizeof(sub))) {
			cfg_err(msg, msglen, "%s: %s", tok, sub);
			goto out;
		}
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

void nvr_config_ns_to_be_spec(const struct cfg_ns *ns, struct be_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->kind = ns->kind;
	spec->path = ns->path;
	spec->size = ns->size;
	spec->lba_size = ns->lba_size;
	spec->buffered = ns->buffered;
	spec->readonly = ns->readonly;
}

/* ---- the config object ---- */

static void cfg_subsys_free(struct cfg_subsys *s)
{
	cfg_strv_free(s->allowed_hosts, s->nr_allowed_hosts);
	for (size_t i = 0; i < s->nr_ns; i++)
		cfg_ns_free(&s->ns[i]);
	free(s->ns);
	memset(s, 0, sizeof(*s));
}

static void cfg_port_free(struct cfg_port *p)
{
	free(p->subsys);
	free(p->referrals);
	memset(p, 0, sizeof(*p));
}

/* Ports, subsystems and hosts only: what a JSON file replaces. */
static void cfg_free_topology(struct nvr_config *cfg)
{
	for (size_t i = 0; i < cfg->nr_ports; i++)
		cfg_port_free(&cfg->ports[i]);
	free(cfg->ports);
	for (size_t i = 0; i < cfg->nr_subsys; i++)
		cfg_subsys_free(&cfg->subsys[i]);
	free(cfg->subsys);
	cfg_strv_free(cfg->hosts, cfg->nr_hosts);
	cfg->ports = NULL;
	cfg->subsys = NULL;
	cfg->hosts = NULL;
	cfg->nr_ports = cfg->nr_subsys = cfg->nr_hosts = 0;
}

void nvr_config_free(struct nvr_config *cfg)
{
	if (!cfg)
		return;
	cfg_free_topology(cfg);
	free(cfg->config_file);
	memset(cfg, 0, sizeof(*cfg));
}

bool nvr_config_port_has_subsys(const struct cfg_port *port, size_t si)
{
	if (port->all_subsys)
		return true;
	for (size_t i = 0; i < port->nr_subsys; i++)
		if (port->subsys[i] == si)
			return true;
	return false;
}

static struct cfg_subsys *cfg_add_subsys(struct nvr_config *cfg)
{
	struct cfg_subsys *s = cfg_grow(cfg->subsys, cfg->nr_subsys, sizeof(*s));

	if (!s)
		return NULL;
	cfg->subsys = s;
	s = &cfg->subsys[cfg->nr_subsys++];
	strcpy(s->model, "nvring");
	s->cntlid_min = 1;
	s->cntlid_max = CFG_CNTLID_MAX;
	s->allow_any_host = true;
	return s;
}

static struct cfg_port *cfg_add_port(struct nvr_config *cfg)
{
	struct cfg_port *p = cfg_grow(cfg->ports, cfg->nr_ports, sizeof(*p));

	if (!p)
		return NULL;
	cfg->ports = p;
	p = &cfg->ports[cfg->nr_ports++];
	p->inline_data_size = -1;
	return p;
}

static bool cfg_addr_is_any(const struct cfg_port *p)
{
	return !strcmp(p->addr, p->family == AF_INET6 ? "::" : "0.0.0.0");
}

/*
 * Index of an earlier port that clashes with port i, or -1: the same address and port, or the
 * same port with a wildcard address on either side (the kernel would refuse the second bind,
 * and a subsystem meant for one address would leak to the other). *same tells which.
 * Port 0 never clashes: the kernel picks a distinct port for each.
 */
static long cfg_port_dup(const struct nvr_config *cfg, size_t i, bool *same)
{
	const struct cfg_port *p = &cfg->ports[i];

	for (size_t j = 0; j < i && p->port; j++) {
		const struct cfg_port *q = &cfg->ports[j];

		if (q->port != p->port || q->family != p->family)
			continue;
		*same = !strcmp(q->addr, p->addr);
		if (*same || cfg_addr_is_any(p) || cfg_addr_is_any(q))
			return (long)j;
	}
	return -1;
}

static struct cfg_ns *cfg_add_ns(struct cfg_subsys *s)
{
	struct cfg_ns *ns = cfg_grow(s->ns, s->nr_ns, sizeof(*ns));

	if (!ns)
		return NULL;
	s->ns = ns;
	return &s->ns[s->nr_ns++];
}

/*
 * Checks across the whole config, and the identifiers derived from names. Per-item checks
 * (syntax, ranges, references) were done where each item was read, with its own location.
 */
static int cfg_finalize(struct nvr_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->nr_ports; i++)
		cfg->ports[i].discovery_only = !cfg->ports[i].all_subsys && cfg->ports[i].nr_subsys == 0;
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		struct cfg_subsys *s = &cfg->subsys[i];

		if (!s->serial[0])
			cfg_gen_serial(s->nqn, s->serial);
		for (size_t j = 0; j < s->nr_ns; j++)
			cfg_gen_ns_ids(s->nqn, &s->ns[j]);
	}
	/* The spec wants namespace UUIDs/NGUIDs unique; only given ones can collide. */
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		for (size_t j = 0; j < cfg->subsys[i].nr_ns; j++) {
			const struct cfg_ns *a = &cfg->subsys[i].ns[j];

			for (size_t k = 0; k <= i; k++) {
				for (size_t l = 0; l < (k == i ? j : cfg->subsys[k].nr_ns); l++) {
					const struct cfg_ns *b = &cfg->subsys[k].ns[l];
					const char *what = !memcmp(a->uuid, b->uuid, 16) ? "uuid" :
							   !memcmp(a->nguid, b->nguid, 16) ? "nguid" : NULL;

					if (what)
						return cfg_err(err, errlen,
							       "namespace %" PRIu32 " of %s has the same %s as namespace %" PRIu32 " of %s",
							       a->nsid, cfg->subsys[i].nqn, what, b->nsid,
							       cfg->subsys[k].nqn);
				}
			}
		}
	}
	return 0;
}

/* ---- command line ---- */

enum cfg_flag { F_LISTEN, F_NQN, F_NS, F_ALLOW_HOST, F_THREADS, F_CONFIG, F_VERBOSE, F_POLL, F_HELP };

static const struct cfg_flag_def {
	const char *lng; /* as typed, with the dashes: also the name used in messages */
	const char *shrt;
	bool arg;
} cfg_flags[] = {
	[F_LISTEN] = { "--listen", "-l", true },
	[F_NQN] = { "--nqn", NULL, true },
	[F_NS] = { "--ns", NULL, true },
	[F_ALLOW_HOST] = { "--allow-host", NULL, true },
	[F_THREADS] = { "--threads", "-t", true },
	[F_CONFIG] = { "--config", "-c", true },
	[F_VERBOSE] = { "--verbose", "-v", false },
	[F_POLL] = { "--poll", NULL, false },
	[F_HELP] = { "--help", "-h", false },
};

/* An argument as given, with the option spelling the user typed (for messages). */
struct cfg_arg {
	const char *opt;
	const char *val;
};

struct cfg_args {
	struct cfg_arg *listen, *ns, *hosts;
	size_t nr_listen, nr_ns, nr_hosts;
	struct cfg_arg nqn, threads, config;
	const char *topology_opt; /* first of -l/--nqn/--ns/--allow-host, to reject with -c */
	unsigned verbose;
	bool poll, help;
};

void nvr_config_usage(FILE *out)
{
	fputs("Usage: nvringd [OPTIONS]\n"
	      "NVMe over TCP target.\n\n"
	      "  -l, --listen ADDR:PORT  listen here (repeatable; [IPv6]:PORT); port 8009 serves\n"
	      "                          discovery only. Default: 127.0.0.1:4420 and 127.0.0.1:8009\n"
	      "      --nqn NQN           subsystem NQN (default " NVR_CFG_DEFAULT_NQN ")\n"
	      "      --ns SPEC           add a namespace (repeatable; default mem:1G):\n"
	      "                            mem:SIZE           RAM, SIZE with K/M/G/T suffix\n"
	      "                            file:PATH          regular file or block device\n"
	      "                            kv:PATH | kv:mem   key-value namespace\n"
	      "                            passthru:/dev/ngXnY  NVMe passthrough\n"
	      "                          options after commas: size=SIZE, bs=512|4096, buffered,\n"
	      "                          ro, nsid=N, uuid=UUID, nguid=UUID; kv: kvssd-compat,\n"
	      "                          max_value=SIZE, segment_size=SIZE, gc_threshold=PCT, vwc,\n"
	      "                          format; passthru: all-opcodes (see docs/config.md)\n"
	      "      --allow-host NQN    allow only these hosts (repeatable; default any host)\n"
	      "  -t, --threads N         worker threads (default: online CPUs)\n"
	      "  -c, --config FILE       JSON config (nvmetcli save format, see docs/config.md);\n"
	      "                          not combinable with -l, --nqn, --ns, --allow-host\n"
	      "  -v, --verbose           more logging (repeatable)\n"
	      "      --poll              busy-poll the rings instead of sleeping\n"
	      "  -h, --help              this text\n",
	      out);
}

static int cfg_args_add(struct cfg_args *a, enum cfg_flag f, const char *opt, const char *val)
{
	struct cfg_arg arg = { opt, val };

	switch (f) {
	case F_LISTEN: a->listen[a->nr_listen++] = arg; break;
	case F_NS: a->ns[a->nr_ns++] = arg; break;
	case F_ALLOW_HOST: a->hosts[a->nr_hosts++] = arg; break;
	case F_NQN:
	case F_THREADS:
	case F_CONFIG: {
		struct cfg_arg *dst = f == F_NQN ? &a->nqn : f == F_THREADS ? &a->threads : &a->config;

		if (dst->val)
			return -1;
		*dst = arg;
		break;
	}
	case F_VERBOSE: a->verbose++; break;
	case F_POLL: a->poll = true; break;
	case F_HELP: a->help = true; break;
	}
	if ((f == F_LISTEN || f == F_NS || f == F_NQN || f == F_ALLOW_HOST) && !a->topology_opt)
		a->topology_opt = opt;
	return 0;
}

/* Long options by exact name (--listen=X or --listen X), short ones bundled (-vv, -l X, -lX). */
static int cfg_args_scan(struct cfg_args *a, int argc, char **argv, char *err, size_t errlen)
{
	const size_t nflags = sizeof(cfg_flags) / sizeof(cfg_flags[0]);

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		size_t f;

		if (!strcmp(s, "--")) {
			if (i + 1 < argc)
				return cfg_err(err, errlen, "unexpected argument '%s'", argv[i + 1]);
			break;
		}
		if (!strncmp(s, "--", 2)) {
			const char *eq = strchr(s, '=');
			size_t len = eq ? (size_t)(eq - s) : strlen(s);
			const struct cfg_flag_def *d;

			for (f = 0; f < nflags; f++)
				if (strlen(cfg_flags[f].lng) == len && !strncmp(cfg_flags[f].lng, s, len))
					break;
			if (f == nflags)
				return cfg_err(err, errlen, "unknown option '%.*s' (see --help)", (int)len, s);
			d = &cfg_flags[f];
			if (!d->arg && eq)
				return cfg_err(err, errlen, "option '%s' takes no argument", d->lng);
			if (d->arg && !eq && i + 1 >= argc)
				return cfg_err(err, errlen, "option '%s' needs an argument", d->lng);
			if (cfg_args_add(a, (enum cfg_flag)f, d->lng, d->arg ? (eq ? eq + 1 : argv[++i]) : NULL))
				return cfg_err(err, errlen, "option '%s' given twice", d->lng);
			continue;
		}
		if (s[0] != '-' || !s[1])
			return cfg_err(err, errlen, "unexpected argument '%s'", s);
		for (const char *c = s + 1; *c; c++) {
			const struct cfg_flag_def *d;

			for (f = 0; f < nflags; f++)
				if (cfg_flags[f].shrt && cfg_flags[f].shrt[1] == *c)
					break;
			if (f == nflags)
				return cfg_err(err, errlen, "unknown option '-%c' (see --help)", *c);
			d = &cfg_flags[f];
			if (!d->arg) {
				cfg_args_add(a, (enum cfg_flag)f, d->shrt, NULL);
				continue;
			}
			if (!c[1] && i + 1 >= argc)
				return cfg_err(err, errlen, "option '%s' needs an argument", d->shrt);
			if (cfg_args_add(a, (enum cfg_flag)f, d->shrt, c[1] ? c + 1 : argv[++i]))
				return cfg_err(err, errlen, "option '%s' given twice", d->shrt);
			break;
		}
	}
	return 0;
}

static unsigned cfg_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > CFG_MAX_THREADS ? CFG_MAX_THREADS : (unsigned)n;
}

static int cfg_nqn_check(const char *nqn, char *msg, size_t msglen)
{
	if (!nvr_nqn_valid(nqn))
		return cfg_err(msg, msglen, "not a valid NQN (want nqn.yyyy-mm.reverse.domain[:name] "
			       "or " CFG_UUID_NQN_PREFIX "UUID, at most 223 bytes)");
	return 0;
}

static int cfg_args_ports(struct nvr_config *cfg, const struct cfg_args *a, char *err, size_t errlen)
{
	static const struct cfg_arg defaults[] = { { "", "127.0.0.1:4420" }, { "", "127.0.0.1:8009" } };
	const struct cfg_arg *l = a->nr_listen ? a->listen : defaults;
	size_t n = a->nr_listen ? a->nr_listen : 2;

	for (size_t i = 0; i < n; i++) {
		struct cfg_port *p = cfg_add_port(cfg);
		bool same;
		long dup;

		if (!p)
			return cfg_err(err, errlen, "out of memory");
		if (nvr_parse_addr(l[i].val, p->addr, sizeof(p->addr), &p->port, &p->family))
			return cfg_err(err, errlen, "%s '%s': expected ADDR:PORT or [IPV6]:PORT with a numeric "
				       "address and a port 0..65535 (0: any free port)", l[i].opt, l[i].val);
		/* port 0 asks the kernel for a free port each time: never a duplicate */
		dup = cfg_port_dup(cfg, cfg->nr_ports - 1, &same);
		if (dup >= 0 && same)
			return cfg_err(err, errlen, "%s '%s': given twice", l[i].opt, l[i].val);
		if (dup >= 0)
			return cfg_err(err, errlen, "%s '%s': overlaps with '%s' (a wildcard address covers the other)",
				       l[i].opt, l[i].val, l[dup].val);
		p->portid = (uint16_t)(i + 1);
		p->all_subsys = p->port != NVR_CFG_DISCOVERY_PORT;
	}
	return 0;
}

static int cfg_args_namespaces(struct cfg_subsys *s, const struct cfg_args *a, char *err, size_t errlen)
{
	static const struct cfg_arg def = { "", "mem:1G" };
	const struct cfg_arg *spec = a->nr_ns ? a->ns : &def;
	size_t n = a->nr_ns ? a->nr_ns : 1;
	char msg[256];
	uint32_t next = 1;

	for (size_t i = 0; i < n; i++) {
		struct cfg_ns *ns = cfg_add_ns(s);
		struct ns_build b;

		if (!ns)
			return cfg_err(err, errlen, "out of memory");
		if (ns_parse_spec(ns, &b, spec[i].val, msg, sizeof(msg)) || ns_finish(&b, msg, sizeof(msg)))
			return cfg_err(err, errlen, "%s '%s': %s", spec[i].opt, spec[i].val, msg);
	}
	/* Explicit nsid= first, then number the rest from 1, skipping taken IDs. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (s->ns[i].nsid && s->ns[i].nsid == s->ns[j].nsid)
				return cfg_err(err, errlen, "%s '%s': nsid %" PRIu32 " is already used by '%s'",
					       spec[i].opt, spec[i].val, s->ns[i].nsid, spec[j].val);
	for (size_t i = 0; i < n; i++) {
		bool taken;

		if (s->ns[i].nsid)
			continue;
		do {
			taken = false;
			for (size_t j = 0; j < n; j++)
				taken |= s->ns[j].nsid == next;
			if (taken)
				next++;
		} while (taken);
		s->ns[i].nsid = next++;
	}
	return 0;
}

static int cfg_args_build(struct nvr_config *cfg, const struct cfg_args *a, char *err, size_t errlen)
{
	struct cfg_subsys *s = cfg_add_subsys(cfg);
	char msg[256];

	if (!s)
		return cfg_err(err, errlen, "out of memory");
	if (a->nqn.val) {
		if (cfg_nqn_check(a->nqn.val, msg, sizeof(msg)))
			return cfg_err(err, errlen, "%s '%s': %s", a->nqn.opt, a->nqn.val, msg);
		if (!strcmp(a->nqn.val, CFG_DISC_NQN))
			return cfg_err(err, errlen, "%s '%s': that is the discovery subsystem's NQN",
				       a->nqn.opt, a->nqn.val);
	}
	strcpy(s->nqn, a->nqn.val ? a->nqn.val : NVR_CFG_DEFAULT_NQN);
	for (size_t i = 0; i < a->nr_hosts; i++) {
		const struct cfg_arg *h = &a->hosts[i];

		if (cfg_nqn_check(h->val, msg, sizeof(msg)))
			return cfg_err(err, errlen, "%s '%s': %s", h->opt, h->val, msg);
		if (cfg_strv_has(cfg->hosts, cfg->nr_hosts, h->val))
			return cfg_err(err, errlen, "%s '%s': given twice", h->opt, h->val);
		if (cfg_strv_push(&cfg->hosts, &cfg->nr_hosts, h->val) ||
		    cfg_strv_push(&s->allowed_hosts, &s->nr_allowed_hosts, h->val))
			return cfg_err(err, errlen, "out of memory");
	}
	s->allow_any_host = a->nr_hosts == 0;
	if (cfg_args_namespaces(s, a, err, errlen) || cfg_args_ports(cfg, a, err, errlen))
		return -1;
	return cfg_finalize(cfg, err, errlen);
}

int nvr_config_parse_args(struct nvr_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	struct cfg_args a = { 0 };
	size_t n = argc > 0 ? (size_t)argc : 1;
	uint64_t threads = 0;
	int ret = -1;

	memset(cfg, 0, sizeof(*cfg));
	a.listen = calloc(n, sizeof(*a.listen));
	a.ns = calloc(n, sizeof(*a.ns));
	a.hosts = calloc(n, sizeof(*a.hosts));
	if (!a.listen || !a.ns || !a.hosts) {
		cfg_err(err, errlen, "out of memory");
		goto out;
	}
	if (cfg_args_scan(&a, argc, argv, err, errlen))
		goto out;
	if (a.help) {
		nvr_config_usage(stdout);
		ret = 1;
		goto out;
	}
	if (a.threads.val && (cfg_parse_uint(a.threads.val, CFG_MAX_THREADS, &threads) || threads == 0)) {
		cfg_err(err, errlen, "%s '%s': must be a number 1..%d", a.threads.opt, a.threads.val,
			CFG_MAX_THREADS);
		goto out;
	}
	cfg->threads = cfg_online_cpus();
	cfg->poll = a.poll;
	if (a.config.val) {
		if (a.topology_opt) {
			cfg_err(err, errlen, "%s cannot be combined with %s: describe ports, subsystems, "
				"namespaces and hosts in the config file", a.topology_opt, a.config.opt);
			goto out;
		}
		cfg->config_file = strdup(a.config.val);
		if (!cfg->config_file) {
			cfg_err(err, errlen, "out of memory");
			goto out;
		}
		if (nvr_config_load_json(cfg, a.config.val, err, errlen))
			goto out;
	} else if (cfg_args_build(cfg, &a, err, errlen)) {
		goto out;
	}
	/* Flags win over the file's "nvring" section. */
	if (a.threads.val)
		cfg->threads = (unsigned)threads;
	if (a.verbose)
		cfg->verbose = a.verbose;
	if (a.poll)
		cfg->poll = true;
	ret = 0;
out:
	if (ret < 0)
		nvr_config_free(cfg);
	free(a.listen);
	free(a.ns);
	free(a.hosts);
	return ret;
}

/* ---- JSON (nvmetcli save format + nvring extensions) ---- */

struct jctx {
	const char *name; /* file name, for messages */
	char *err;
	size_t errlen;
};

#define JPATH 256

static int jerr(struct jctx *j, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int jerr(struct jctx *j, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (where && *where)
		return cfg_err(j->err, j->errlen, "%s: %s: %s", j->name, where, msg);
	return cfg_err(j->err, j->errlen, "%s: %s", j->name, msg);
}

/* buf = a + b + c, cut at JPATH (a location only names things; truncation is harmless). */
static const char *jcat(char buf[JPATH], const char *a, const char *b, const char *c)
{
	const char *parts[3] = { a, b, c };
	size_t n = 0;

	for (int i = 0; i < 3; i++)
		for (const char *p = parts[i]; *p && n < JPATH - 1; p++)
			buf[n++] = *p;
	buf[n] = '\0';
	return buf;
}

static const char *jkey(char buf[JPATH], const char *base, const char *key)
{
	return jcat(buf, base, *base ? "." : "", key);
}

static const char *jidx(char buf[JPATH], const char *base, size_t i)
{
	char num[24];

	snprintf(num, sizeof(num), "[%zu]", i);
	return jcat(buf, base, num, "");
}

/* Every key of o must be in allowed (NULL-terminated): a typo must not be silently ignored. */
static int j_keys(struct jctx *j, json_object *o, const char *where, const char *const *allowed)
{
	json_object_object_foreach(o, key, val) {
		size_t i;
		char w[JPATH], list[256] = "";

		(void)val;
		for (i = 0; allowed[i]; i++)
			if (!strcmp(allowed[i], key))
				break;
		if (allowed[i])
			continue;
		for (i = 0; allowed[i]; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
				 allowed[i]);
		return jerr(j, jkey(w, where, key), "unknown key (expected one of: %s)", list);
	}
	return 0;
}

static int j_type(struct jctx *j, json_object *v, json_type t, const char *where)
{
	static const char *const names[] = {
		[json_type_null] = "null", [json_type_boolean] = "a boolean",
		[json_type_double] = "a number", [json_type_int] = "an integer",
		[json_type_object] = "an object", [json_type_array] = "an array",
		[json_type_string] = "a string",
	};

	if (json_object_get_type(v) != t)
		return jerr(j, where, "must be %s", names[t]);
	/* "\u0000" would silently cut a path or NQN short */
	if (t == json_type_string && strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return jerr(j, where, "must not contain NUL characters");
	return 0;
}

/* o[key] if present (and not null); *out NULL if absent. */
static int j_get(struct jctx *j, json_object *o, const char *key, json_type t, const char *where,
		 bool required, json_object **out)
{
	char w[JPATH];

	*out = NULL;
	if (!json_object_object_get_ex(o, key, out) || !*out) {
		*out = NULL;
		return required ? jerr(j, jkey(w, where, key), "missing") : 0;
	}
	return j_type(j, *out, t, jkey(w, where, key));
}

/* nvmetcli saves most attributes as strings ("1", "4420"): accept integers and numeric strings. */
static int j_uint(struct jctx *j, json_object *v, const char *where, uint64_t min, uint64_t max,
		  uint64_t *out)
{
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i >= 0 && (uint64_t)i >= min && (uint64_t)i <= max) {
			*out = (uint64_t)i;
			return 0;
		}
	} else if (json_object_is_type(v, json_type_string)) {
		if (!cfg_parse_uint(json_object_get_string(v), max, out) && *out >= min)
			return 0;
	}
	return jerr(j, where, "must be an integer %" PRIu64 "..%" PRIu64, min, max);
}

static int j_bool(struct jctx *j, json_object *v, const char *where, bool *out)
{
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i == 0 || i == 1) {
			*out = i;
			return 0;
		}
	} else if (json_object_is_type(v, json_type_string)) {
		if (!cfg_parse_bool(json_object_get_string(v), out))
			return 0;
	}
	return jerr(j, where, "must be a boolean (true/false, 0/1, \"0\"/\"1\")");
}

/* An optional member that must be false: features nvring does not have. */
static int j_unsupported(struct jctx *j, json_object *o, const char *key, const char *where,
			 const char *what)
{
	json_object *v;
	char w[JPATH];
	bool on = false;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (j_bool(j, v, jkey(w, where, key), &on))
		return -1;
	return on ? jerr(j, w, "%s is not supported", what) : 0;
}

static int j_ascii(struct jctx *j, json_object *o, const char *key, const char *where, char *dst,
		   size_t size)
{
	json_object *v;
	const char *s;
	char w[JPATH];

	if (j_get(j, o, key, json_type_string, where, false, &v))
		return -1;
	if (!v)
		return 0;
	s = json_object_get_string(v);
	if (strlen(s) >= size)
		return jerr(j, jkey(w, where, key), "longer than %zu characters", size - 1);
	for (const char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return jerr(j, jkey(w, where, key), "must be printable ASCII");
	strcpy(dst, s);
	return 0;
}

static int j_nqn(struct jctx *j, json_object *v, const char *where, const char **out)
{
	char msg[256];

	if (j_type(j, v, json_type_string, where))
		return -1;
	*out = json_object_get_string(v);
	if (cfg_nqn_check(*out, msg, sizeof(msg)))
		return jerr(j, where, "'%s': %s", *out, msg);
	return 0;
}

static int j_hosts(struct jctx *j, json_object *root, struct nvr_config *cfg)
{
	static const char *const keys[] = { "nqn", "dhchap", NULL };
	static const char *const dhchap_keys[] = { "key", "ctrl_key", "hash", "dhgroup", NULL };
	json_object *arr, *o, *v;
	char w[JPATH], w2[JPATH];

	if (j_get(j, root, "hosts", json_type_array, "", false, &arr))
		return -1;
	if (!arr)
		return 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *nqn;

		o = json_object_array_get_idx(arr, i);
		jidx(w, "hosts", i);
		if (j_type(j, o, json_type_object, w) || j_keys(j, o, w, keys) ||
		    j_get(j, o, "nqn", json_type_string, w, true, &v) || j_nqn(j, v, jkey(w2, w, "nqn"), &nqn))
			return -1;
		if (cfg_strv_has(cfg->hosts, cfg->nr_hosts, nqn))
			return jerr(j, w2, "'%s' is listed twice", nqn);
		/* nvmetcli saves an empty dhchap group; a key would mean authentication, which we lack */
		if (j_get(j, o, "dhchap", json_type_object, w, false, &v))
			return -1;
		if (v) {
			jkey(w2, w, "dhchap");
			if (j_keys(j, v, w2, dhchap_keys))
				return -1;
			json_object_object_foreach(v, k, kv) {
				if (kv && json_object_is_type(kv, json_type_string) &&
				    !*json_object_get_string(kv))
					continue;
				if (!kv || !strcmp(k, "hash") || !strcmp(k, "dhgroup"))
					continue;
				return jerr(j, jkey(w, w2, k), "DH-HMAC-CHAP authentication is not supported");
			}
		}
		if (cfg_strv_push(&cfg->hosts, &cfg->nr_hosts, nqn))
			return jerr(j, NULL, "out of memory");
	}
	return 0;
}

/* "1.3", "1.2.1", "2.0" -> the Identify VER encoding. */
static int cfg_parse_version(const char *s, uint32_t *out)
{
	unsigned maj, min, ter = 0;
	int n = 0;

	if (sscanf(s, "%u.%u%n", &maj, &min, &n) == 2 && !s[n])
		goto ok;
	if (sscanf(s, "%u.%u.%u%n", &maj, &min, &ter, &n) == 3 && !s[n])
		goto ok;
	return -EINVAL;
ok:
	if (!isdigit((unsigned char)s[0]) || maj > 0xffff || min > 0xff || ter > 0xff)
		return -EINVAL;
	*out = maj << 16 | min << 8 | ter;
	return 0;
}

static int j_subsys_attr(struct jctx *j, json_object *o, const char *where, struct cfg_subsys *s,
			 bool *any_given)
{
	static const char *const keys[] = { "allow_any_host", "serial", "model", "version", "firmware",
					    "ieee_oui", "cntlid_min", "cntlid_max", "qid_max",
					    "pi_enable", NULL };
	json_object *v;
	char w[JPATH];
	uint64_t u;

	*any_given = false;
	if (j_keys(j, o, where, keys) || j_ascii(j, o, "serial", where, s->serial, sizeof(s->serial)) ||
	    j_ascii(j, o, "model", where, s->model, sizeof(s->model)) ||
	    j_ascii(j, o, "firmware", where, s->firmware, sizeof(s->firmware)) ||
	    j_unsupported(j, o, "pi_enable", where, "protection information"))
		return -1;
	if (json_object_object_get_ex(o, "allow_any_host", &v) && v) {
		if (j_bool(j, v, jkey(w, where, "allow_any_host"), &s->allow_any_host))
			return -1;
		*any_given = true;
	}
	if (j_get(j, o, "version", json_type_string, where, false, &v))
		return -1;
	if (v && cfg_parse_version(json_object_get_string(v), &s->version))
		return jerr(j, jkey(w, where, "version"), "must look like \"1.3\" or \"1.2.1\"");
	if (json_object_object_get_ex(o, "ieee_oui", &v) && v) {
		const char *str = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		char *end;

		/* nvmet prints it as 0x%06x */
		if (str && !strncmp(str, "0x", 2) && cfg_is_hex(str + 2, strlen(str + 2)) && str[2] &&
		    strlen(str + 2) <= 6) {
			s->ieee_oui = (uint32_t)strtoul(str + 2, &end, 16);
		} else if (j_uint(j, v, jkey(w, where, "ieee_oui"), 0, 0xffffff, &u)) {
			return -1;
		} else {
			s->ieee_oui = (uint32_t)u;
		}
	}
	if (json_object_object_get_ex(o, "cntlid_min", &v) && v) {
		if (j_uint(j, v, jkey(w, where, "cntlid_min"), 1, CFG_CNTLID_MAX, &u))
			return -1;
		s->cntlid_min = (uint16_t)u;
	}
	if (json_object_object_get_ex(o, "cntlid_max", &v) && v) {
		if (j_uint(j, v, jkey(w, where, "cntlid_max"), 1, CFG_CNTLID_MAX, &u))
			return -1;
		s->cntlid_max = (uint16_t)u;
	}
	if (s->cntlid_min > s->cntlid_max)
		return jerr(j, jkey(w, where, "cntlid_min"), "greater than cntlid_max");
	if (json_object_object_get_ex(o, "qid_max", &v) && v) {
		if (j_uint(j, v, jkey(w, where, "qid_max"), 1, 65534, &u))
			return -1;
		s->qid_max = (uint16_t)u;
	}
	return 0;
}

/* device.{backend,size,lba_size,...}: our extensions, fed through the same option table as --ns. */
static int j_ns_device_ext(struct jctx *j, json_object *dev, const char *where, struct ns_build *b)
{
	static const struct { const char *key, *opt; bool boolean; } ext[] = {
		{ "size", "size", false }, { "lba_size", "bs", false },
		{ "buffered", "buffered", true }, { "readonly", "ro", true },
		{ "kvssd_compat", "kvssd-compat", true }, { "uuid", "uuid", false },
		{ "nguid", "nguid", false },
		/* KV engine tuning */
		{ "segment_size", "segment_size", false }, { "max_value", "max_value", false },
		{ "gc_threshold", "gc_threshold", false }, { "volatile_cache", "volatile_cache", true },
		{ "format", "format", true }, { "all_opcodes", "all-opcodes", true },
	};
	char w[JPATH], msg[256], num[24];

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		json_object *v;
		const char *val;

		if (!json_object_object_get_ex(dev, ext[i].key, &v) || !v)
			continue;
		jkey(w, where, ext[i].key);
		if (ext[i].boolean) {
			bool on;

			if (j_bool(j, v, w, &on))
				return -1;
			val = on ? "1" : "0";
		} else if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
			snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(v));
			val = num;
		} else if (json_object_is_type(v, json_type_string)) {
			val = json_object_get_string(v);
		} else {
			return jerr(j, w, "must be a string or a non-negative integer");
		}
		if (ns_set_opt(b, ext[i].opt, val, msg, sizeof(msg)))
			return jerr(j, w, "%s", msg);
	}
	return 0;
}

static int j_ns(struct jctx *j, json_object *o, const char *where, struct cfg_ns *ns)
{
	static const char *const keys[] = { "nsid", "enable", "device", "ana_grpid", "ana", "resv", NULL };
	static const char *const dev_keys[] = { "path", "uuid", "nguid", "p2pmem", "backend", "size",
						"lba_size", "buffered", "readonly", "kvssd_compat",
						"segment_size", "max_value", "gc_threshold", "volatile_cache",
						"format", "all_opcodes", NULL };
	json_object *dev, *v, *backend, *path;
	struct ns_build b;
	char w[JPATH], wd[JPATH], msg[256], num[24];
	const char *p;
	uint64_t nsid;

	memset(ns, 0, sizeof(*ns));
	if (j_type(j, o, json_type_object, where) || j_keys(j, o, where, keys) ||
	    j_get(j, o, "device", json_type_object, where, true, &dev))
		return -1;
	jkey(wd, where, "device");
	if (j_keys(j, dev, wd, dev_keys) || j_get(j, dev, "backend", json_type_string, wd, false, &backend) ||
	    j_get(j, dev, "path", json_type_string, wd, false, &path))
		return -1;
	p = path ? json_object_get_string(path) : "";
	jkey(w, wd, "path");
	if (!backend && strchr(p, ':') && ns_kind_find(p, (size_t)(strchr(p, ':') - p))) {
		/* "mem:1G", "file:/x,bs=4096": the --ns syntax */
		if (ns_parse_spec(ns, &b, p, msg, sizeof(msg)))
			return jerr(j, w, "%s", msg);
	} else {
		const char *kind = backend ? json_object_get_string(backend) : "file";

		if (ns_begin(&b, ns, kind, strlen(kind), msg, sizeof(msg)))
			return jerr(j, jkey(w, wd, "backend"), "%s", msg);
		if (ns_set_path(&b, p, msg, sizeof(msg)))
			return jerr(j, path ? w : wd, "%s", msg);
	}
	if (j_ns_device_ext(j, dev, wd, &b))
		return -1;
	if (!json_object_object_get_ex(o, "nsid", &v) || !v)
		return jerr(j, jkey(w, where, "nsid"), "missing");
	if (j_uint(j, v, jkey(w, where, "nsid"), 0, UINT32_MAX, &nsid))
		return -1;
	snprintf(num, sizeof(num), "%" PRIu64, nsid);
	if (ns_set_opt(&b, "nsid", num, msg, sizeof(msg)))
		return jerr(j, w, "%s", msg);
	if (json_object_object_get_ex(o, "enable", &v) && v &&
	    j_bool(j, v, jkey(w, where, "enable"), &ns->enabled))
		return -1;
	if (json_object_object_get_ex(o, "resv", &v) && v) {
		static const char *const resv_keys[] = { "enable", NULL };

		jkey(w, where, "resv");
		if (j_type(j, v, json_type_object, w) || j_keys(j, v, w, resv_keys) ||
		    j_unsupported(j, v, "enable", w, "reservations"))
			return -1;
	}
	if (json_object_object_get_ex(o, "ana", &v) && v) {
		static const char *const ana_keys[] = { "grpid", NULL };

		jkey(w, where, "ana");
		if (j_type(j, v, json_type_object, w) || j_keys(j, v, w, ana_keys))
			return -1;
	}
	if (ns_finish(&b, msg, sizeof(msg)))
		return jerr(j, where, "%s", msg);
	return 0;
}

static int j_subsys(struct jctx *j, json_object *o, const char *where, struct nvr_config *cfg,
		    struct cfg_subsys *s)
{
	static const char *const keys[] = { "nqn", "attr", "allowed_hosts", "namespaces", "passthru", NULL };
	json_object *v, *arr;
	char w[JPATH], w2[JPATH];
	const char *nqn;
	bool any_given = false;

	if (j_type(j, o, json_type_object, where) || j_keys(j, o, where, keys) ||
	    j_get(j, o, "nqn", json_type_string, where, true, &v) || j_nqn(j, v, jkey(w, where, "nqn"), &nqn))
		return -1;
	if (!strcmp(nqn, CFG_DISC_NQN))
		return jerr(j, w, "'%s' is the discovery subsystem's NQN", nqn);
	for (size_t i = 0; cfg->subsys + i != s; i++)
		if (!strcmp(cfg->subsys[i].nqn, nqn))
			return jerr(j, w, "'%s' is also subsystems[%zu]", nqn, i);
	strcpy(s->nqn, nqn);
	if (json_object_object_get_ex(o, "passthru", &v) && v)
		return jerr(j, jkey(w, where, "passthru"), "whole-controller passthrough is not supported; "
			    "use a namespace with \"backend\": \"passthru\"");
	if (j_get(j, o, "attr", json_type_object, where, false, &v) ||
	    (v && j_subsys_attr(j, v, jkey(w, where, "attr"), s, &any_given)))
		return -1;

	if (j_get(j, o, "allowed_hosts", json_type_array, where, false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		const char *h;

		jidx(w, jkey(w2, where, "allowed_hosts"), i);
		if (j_nqn(j, json_object_array_get_idx(arr, i), w, &h))
			return -1;
		/* as in nvmet, an allowed host is a link to an entry of "hosts" */
		if (!cfg_strv_has(cfg->hosts, cfg->nr_hosts, h))
			return jerr(j, w, "'%s' is not in \"hosts\"", h);
		if (cfg_strv_has(s->allowed_hosts, s->nr_allowed_hosts, h))
			return jerr(j, w, "'%s' is listed twice", h);
		if (cfg_strv_push(&s->allowed_hosts, &s->nr_allowed_hosts, h))
			return jerr(j, NULL, "out of memory");
	}
	/* Without an explicit allow_any_host, an empty allowed_hosts means any host. */
	if (!any_given)
		s->allow_any_host = s->nr_allowed_hosts == 0;
	else if (s->allow_any_host && s->nr_allowed_hosts)
		return jerr(j, jkey(w, where, "attr.allow_any_host"),
			    "is \"1\" but allowed_hosts is not empty (nvmet refuses this too)");

	if (j_get(j, o, "namespaces", json_type_array, where, false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct cfg_ns *ns = cfg_add_ns(s);

		if (!ns)
			return jerr(j, NULL, "out of memory");
		jidx(w, jkey(w2, where, "namespaces"), i);
		if (j_ns(j, json_object_array_get_idx(arr, i), w, ns))
			return -1;
		for (size_t k = 0; k + 1 < s->nr_ns; k++)
			if (s->ns[k].nsid == ns->nsid)
				return jerr(j, jkey(w2, w, "nsid"), "%" PRIu32 " is also namespaces[%zu]",
					    ns->nsid, k);
	}
	return 0;
}

/* addr {adrfam, traddr, trsvcid, trtype, treq, tsas} of a port or a referral. */
static int j_addr(struct jctx *j, json_object *o, const char *where, int *family, char *addr,
		  uint16_t *port, uint16_t *portid)
{
	static const char *const keys[] = { "adrfam", "traddr", "trsvcid", "trtype", "treq", "tsas",
					    "portid", NULL };
	json_object *v;
	char w[JPATH];
	const char *s;
	uint64_t u;

	if (j_keys(j, o, where, keys) || j_get(j, o, "trtype", json_type_string, where, true, &v))
		return -1;
	if (strcmp(json_object_get_string(v), "tcp"))
		return jerr(j, jkey(w, where, "trtype"), "'%s': only \"tcp\" is supported",
			    json_object_get_string(v));
	if (j_get(j, o, "adrfam", json_type_string, where, true, &v))
		return -1;
	s = json_object_get_string(v);
	if (!strcmp(s, "ipv4"))
		*family = AF_INET;
	else if (!strcmp(s, "ipv6"))
		*family = AF_INET6;
	else
		return jerr(j, jkey(w, where, "adrfam"), "'%s': must be \"ipv4\" or \"ipv6\"", s);
	if (j_get(j, o, "traddr", json_type_string, where, true, &v))
		return -1;
	s = json_object_get_string(v);
	if (strlen(s) >= NVR_CFG_ADDR_SIZE || cfg_parse_ip(s, *family, addr) < 0)
		return jerr(j, jkey(w, where, "traddr"), "'%s' is not a numeric %s address", s,
			    *family == AF_INET ? "IPv4" : "IPv6");
	if (!json_object_object_get_ex(o, "trsvcid", &v) || !v)
		return jerr(j, jkey(w, where, "trsvcid"), "missing");
	if (j_uint(j, v, jkey(w, where, "trsvcid"), 1, 65535, &u))
		return -1;
	*port = (uint16_t)u;
	if (j_get(j, o, "treq", json_type_string, where, false, &v))
		return -1;
	if (v && strcmp(json_object_get_string(v), "not specified") &&
	    strcmp(json_object_get_string(v), "not required")) {
		if (!strcmp(json_object_get_string(v), "required"))
			return jerr(j, jkey(w, where, "treq"), "a secure channel (TLS) is not supported");
		return jerr(j, jkey(w, where, "treq"), "'%s': must be \"not specified\", \"required\" "
			    "or \"not required\"", json_object_get_string(v));
	}
	if (j_get(j, o, "tsas", json_type_string, where, false, &v))
		return -1;
	if (v && strcmp(json_object_get_string(v), "none") && *json_object_get_string(v))
		return jerr(j, jkey(w, where, "tsas"), "'%s': only \"none\" is supported (no TLS)",
			    json_object_get_string(v));
	if (json_object_object_get_ex(o, "portid", &v) && v) {
		if (j_uint(j, v, jkey(w, where, "portid"), 0, 65535, &u))
			return -1;
		if (portid)
			*portid = (uint16_t)u;
	}
	return 0;
}

static int j_port_extras(struct jctx *j, json_object *o, const char *where, struct cfg_port *p)
{
	static const char *const param_keys[] = { "inline_data_size", "pi_enable", "max_queue_size", NULL };
	static const char *const ana_keys[] = { "grpid", "ana", NULL };
	static const char *const ana_state_keys[] = { "state", NULL };
	json_object *v, *arr;
	char w[JPATH], w2[JPATH];
	uint64_t u;

	if (j_get(j, o, "param", json_type_object, where, false, &v))
		return -1;
	if (v) {
		jkey(w, where, "param");
		if (j_keys(j, v, w, param_keys) || j_unsupported(j, v, "pi_enable", w, "protection information"))
			return -1;
		if (json_object_object_get_ex(v, "inline_data_size", &arr) && arr) {
			if (j_uint(j, arr, jkey(w2, w, "inline_data_size"), 0, 1u << 20, &u))
				return -1;
			p->inline_data_size = (int)u;
		}
	}
	/* ANA groups are accepted for compatibility and ignored: every path is optimized. */
	if (j_get(j, o, "ana_groups", json_type_array, where, false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		jidx(w, jkey(w2, where, "ana_groups"), i);
		v = json_object_array_get_idx(arr, i);
		if (j_type(j, v, json_type_object, w) || j_keys(j, v, w, ana_keys))
			return -1;
		if (json_object_object_get_ex(v, "ana", &v) && v &&
		    (j_type(j, v, json_type_object, jkey(w2, w, "ana")) || j_keys(j, v, w2, ana_state_keys)))
			return -1;
	}
	return 0;
}

static int j_referrals(struct jctx *j, json_object *o, const char *where, struct cfg_port *p)
{
	static const char *const keys[] = { "name", "enable", "portid", "addr", NULL };
	json_object *arr, *v, *addr;
	char w[JPATH], w2[JPATH];

	if (j_get(j, o, "referrals", json_type_array, where, false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct cfg_referral *r = cfg_grow(p->referrals, p->nr_referrals, sizeof(*r));
		bool enabled = true;

		if (!r)
			return jerr(j, NULL, "out of memory");
		p->referrals = r;
		r = &p->referrals[p->nr_referrals];
		jidx(w, jkey(w2, where, "referrals"), i);
		v = json_object_array_get_idx(arr, i);
		if (j_type(j, v, json_type_object, w) || j_keys(j, v, w, keys) ||
		    j_get(j, v, "addr", json_type_object, w, true, &addr) ||
		    j_addr(j, addr, jkey(w2, w, "addr"), &r->family, r->addr, &r->port, &r->portid))
			return -1;
		if (json_object_object_get_ex(v, "enable", &addr) && addr &&
		    j_bool(j, addr, jkey(w2, w, "enable"), &enabled))
			return -1;
		if (enabled) /* a disabled referral is not reported */
			p->nr_referrals++;
	}
	return 0;
}

static int j_port(struct jctx *j, json_object *o, const char *where, struct nvr_config *cfg,
		  struct cfg_port *p)
{
	static const char *const keys[] = { "portid", "addr", "subsystems", "referrals", "param",
					    "ana_groups", NULL };
	json_object *v, *arr;
	char w[JPATH], w2[JPATH];
	uint64_t u;
	bool same;
	long dup;

	if (j_type(j, o, json_type_object, where) || j_keys(j, o, where, keys))
		return -1;
	if (!json_object_object_get_ex(o, "portid", &v) || !v)
		return jerr(j, jkey(w, where, "portid"), "missing");
	if (j_uint(j, v, jkey(w, where, "portid"), 0, 65535, &u))
		return -1;
	p->portid = (uint16_t)u;
	for (size_t i = 0; cfg->ports + i != p; i++)
		if (cfg->ports[i].portid == p->portid)
			return jerr(j, w, "%u is also ports[%zu]", p->portid, i);
	if (j_get(j, o, "addr", json_type_object, where, true, &v) ||
	    j_addr(j, v, jkey(w, where, "addr"), &p->family, p->addr, &p->port, NULL))
		return -1;
	dup = cfg_port_dup(cfg, (size_t)(p - cfg->ports), &same);
	if (dup >= 0)
		return jerr(j, w, "%s%s%s:%u %s ports[%ld]", p->family == AF_INET6 ? "[" : "",
			    p->addr, p->family == AF_INET6 ? "]" : "", p->port,
			    same ? "is also" : "overlaps (wildcard address) with", dup);
	if (j_get(j, o, "subsystems", json_type_array, where, false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		const char *nqn;
		size_t si, *idx;

		jidx(w, jkey(w2, where, "subsystems"), i);
		v = json_object_array_get_idx(arr, i);
		if (j_type(j, v, json_type_string, w))
			return -1;
		nqn = json_object_get_string(v);
		for (si = 0; si < cfg->nr_subsys; si++)
			if (!strcmp(cfg->subsys[si].nqn, nqn))
				break;
		if (si == cfg->nr_subsys)
			return jerr(j, w, "'%s' is not in \"subsystems\"", nqn);
		if (nvr_config_port_has_subsys(p, si))
			return jerr(j, w, "'%s' is listed twice", nqn);
		idx = cfg_grow(p->subsys, p->nr_subsys, sizeof(*idx));
		if (!idx)
			return jerr(j, NULL, "out of memory");
		p->subsys = idx;
		p->subsys[p->nr_subsys++] = si;
	}
	return j_port_extras(j, o, where, p) || j_referrals(j, o, where, p) ? -1 : 0;
}

static int j_nvring(struct jctx *j, json_object *root, struct nvr_config *cfg)
{
	static const char *const keys[] = { "threads", "verbose", "poll", NULL };
	json_object *o, *v;
	char w[JPATH];
	uint64_t u;

	if (j_get(j, root, "nvring", json_type_object, "", false, &o))
		return -1;
	if (!o)
		return 0;
	if (j_keys(j, o, "nvring", keys))
		return -1;
	if (json_object_object_get_ex(o, "threads", &v) && v) {
		if (j_uint(j, v, jkey(w, "nvring", "threads"), 1, CFG_MAX_THREADS, &u))
			return -1;
		cfg->threads = (unsigned)u;
	}
	if (json_object_object_get_ex(o, "verbose", &v) && v) {
		if (j_uint(j, v, jkey(w, "nvring", "verbose"), 0, 16, &u))
			return -1;
		cfg->verbose = (unsigned)u;
	}
	if (json_object_object_get_ex(o, "poll", &v) && v && j_bool(j, v, jkey(w, "nvring", "poll"), &cfg->poll))
		return -1;
	return 0;
}

static int j_root(struct jctx *j, json_object *root, struct nvr_config *cfg)
{
	static const char *const keys[] = { "hosts", "ports", "subsystems", "nvring", NULL };
	json_object *arr;
	char w[JPATH];

	if (j_type(j, root, json_type_object, "") || j_keys(j, root, "", keys) || j_hosts(j, root, cfg) ||
	    j_nvring(j, root, cfg))
		return -1;
	/* Subsystems before ports: ports refer to them by NQN. */
	if (j_get(j, root, "subsystems", json_type_array, "", false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct cfg_subsys *s = cfg_add_subsys(cfg);

		if (!s)
			return jerr(j, NULL, "out of memory");
		if (j_subsys(j, json_object_array_get_idx(arr, i), jidx(w, "subsystems", i), cfg, s))
			return -1;
	}
	if (j_get(j, root, "ports", json_type_array, "", true, &arr))
		return -1;
	if (json_object_array_length(arr) == 0)
		return jerr(j, "ports", "empty: nothing to listen on");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct cfg_port *p = cfg_add_port(cfg);

		if (!p)
			return jerr(j, NULL, "out of memory");
		if (j_port(j, json_object_array_get_idx(arr, i), jidx(w, "ports", i), cfg, p))
			return -1;
	}
	return 0;
}

int nvr_config_load_json_string(struct nvr_config *cfg, const char *text, const char *name,
				char *err, size_t errlen)
{
	struct jctx j = { name, err, errlen };
	struct nvr_config tmp = { 0 };
	struct json_tokener *tok;
	json_object *root;
	size_t len = strlen(text), end;
	char msg[512];
	int ret = -1;

	tok = json_tokener_new();
	if (!tok)
		return jerr(&j, NULL, "out of memory");
	root = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);
		unsigned line = 1, col = 1;

		for (size_t i = 0; i < end && i < len; i++, col++)
			if (text[i] == '\n')
				line++, col = 0;
		jerr(&j, NULL, "line %u, column %u: %s", line, col,
		     e == json_tokener_continue ? "unexpected end of file" : json_tokener_error_desc(e));
		goto out;
	}
	while (end < len && isspace((unsigned char)text[end]))
		end++;
	if (end < len) {
		jerr(&j, NULL, "trailing data after the JSON object");
		goto out;
	}
	tmp.threads = cfg->threads;
	tmp.verbose = cfg->verbose;
	tmp.poll = cfg->poll;
	if (j_root(&j, root, &tmp))
		goto out;
	if (cfg_finalize(&tmp, msg, sizeof(msg))) {
		jerr(&j, NULL, "%s", msg);
		goto out;
	}
	/* Success: the file's topology replaces cfg's; other settings stay as they were. */
	cfg_free_topology(cfg);
	cfg->ports = tmp.ports;
	cfg->nr_ports = tmp.nr_ports;
	cfg->subsys = tmp.subsys;
	cfg->nr_subsys = tmp.nr_subsys;
	cfg->hosts = tmp.hosts;
	cfg->nr_hosts = tmp.nr_hosts;
	cfg->threads = tmp.threads;
	cfg->verbose = tmp.verbose;
	cfg->poll = tmp.poll;
	memset(&tmp, 0, sizeof(tmp));
	ret = 0;
out:
	nvr_config_free(&tmp);
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

int nvr_config_load_json(struct nvr_config *cfg, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *text;
	ssize_t n;
	size_t got = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cfg_err(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CFG_MAX_JSON) {
		close(fd);
		return cfg_err(err, errlen, "%s: not a regular file of at most %u bytes", path, CFG_MAX_JSON);
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return cfg_err(err, errlen, "%s: out of memory", path);
	}
	while (got < (size_t)st.st_size && (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	text[got] = '\0';
	if (got != (size_t)st.st_size || memchr(text, '\0', got)) {
		free(text);
		return cfg_err(err, errlen, "%s: %s", path, got != (size_t)st.st_size ?
			       "short read" : "contains a NUL byte");
	}
	ret = nvr_config_load_json_string(cfg, text, path, err, errlen);
	free(text);
	return ret;
}

/* ---- printing ---- */

static void cfg_print_uuid(FILE *out, const uint8_t u[16])
{
	for (int i = 0; i < 16; i++)
		fprintf(out, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", u[i]);
}

void nvr_config_print(FILE *out, const struct nvr_config *cfg)
{
	fprintf(out, "threads %u, verbose %u%s%s%s\n", cfg->threads, cfg->verbose,
		cfg->poll ? ", poll" : "", cfg->config_file ? ", config " : "",
		cfg->config_file ? cfg->config_file : "");
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		const struct cfg_port *p = &cfg->ports[i];
		bool v6 = p->family == AF_INET6;

		fprintf(out, "port %u: %s%s%s:%u", p->portid, v6 ? "[" : "", p->addr, v6 ? "]" : "", p->port);
		if (p->discovery_only)
			fputs(" discovery only", out);
		else if (p->all_subsys)
			fputs(" all subsystems", out);
		for (size_t k = 0; k < p->nr_subsys; k++)
			fprintf(out, " %s", cfg->subsys[p->subsys[k]].nqn);
		fputc('\n', out);
	}
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		const struct cfg_subsys *s = &cfg->subsys[i];

		fprintf(out, "subsystem %s: serial %s, model '%s', %s", s->nqn, s->serial, s->model,
			s->allow_any_host ? "any host" : "hosts:");
		for (size_t k = 0; k < s->nr_allowed_hosts; k++)
			fprintf(out, " %s", s->allowed_hosts[k]);
		fputc('\n', out);
		for (size_t k = 0; k < s->nr_ns; k++) {
			const struct cfg_ns *ns = &s->ns[k];

			fprintf(out, "  ns %" PRIu32 ": %s%s%s size %" PRIu64 " bs %u%s%s%s%s uuid ", ns->nsid,
				ns->kind, ns->path ? ":" : "", ns->path ? ns->path : "", ns->size, ns->lba_size,
				ns->buffered ? " buffered" : "", ns->readonly ? " ro" : "",
				ns->kvssd_compat ? " kvssd-compat" : "", ns->enabled ? "" : " disabled");
			cfg_print_uuid(out, ns->uuid);
			fputc('\n', out);
		}
	}
}
