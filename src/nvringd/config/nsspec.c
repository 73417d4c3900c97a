/* SPDX-License-Identifier: MIT */
/*
 * Namespace specs, KIND:PATH[,key[=value]...], shared by --ns and the JSON reader (whose device
 * keys are fed through the same option table). A new backend kind is one line in ns_kinds
 * (plus its options in ns_opts, if new).
 */
#include "cfg_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum ns_opt_id {
	NO_SIZE, NO_BS, NO_BUFFERED, NO_RO, NO_KVSSD, NO_NSID, NO_UUID, NO_NGUID, NO_ALLOPS,
	NO_ANA_GRPID, NO_VWC, NO_POOL, NO_IMAGE, NO_RADOS_NS, NO_CONF, NO_ID, NO_CLUSTER,
	NO_CONN_TIMEOUT, NO_OP_TIMEOUT, NO_SHARDS, NO_MAX_VALUE,
};
#define NO_BIT(id) (1u << (id))
#define NO_COMMON (NO_BIT(NO_NSID) | NO_BIT(NO_UUID) | NO_BIT(NO_NGUID) | NO_BIT(NO_ANA_GRPID))
#define NO_CEPH (NO_BIT(NO_POOL) | NO_BIT(NO_RADOS_NS) | NO_BIT(NO_CONF) | NO_BIT(NO_ID) | \
		 NO_BIT(NO_CLUSTER) | NO_BIT(NO_CONN_TIMEOUT) | NO_BIT(NO_OP_TIMEOUT))
#define CEPH_TIMEOUT_MAX 3600 /* seconds: an hour is already far past any host's I/O timeout */
#define KVR_SHARDS_MAX 1024
#define KVR_VALUE_MAX (1u << 20) /* the largest transfer (MDTS) */

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
	[NO_ANA_GRPID] = { "ana_grpid", "ana-grpid" },
	[NO_VWC] = { "vwc", "volatile_cache" },
	[NO_POOL] = { "pool", NULL },
	[NO_IMAGE] = { "image", NULL },
	[NO_RADOS_NS] = { "rados_namespace", NULL },
	[NO_CONF] = { "conf", NULL },
	[NO_ID] = { "id", NULL },
	[NO_CLUSTER] = { "cluster", NULL },
	[NO_CONN_TIMEOUT] = { "connect_timeout", NULL },
	[NO_OP_TIMEOUT] = { "op_timeout", NULL },
	[NO_SHARDS] = { "shards", NULL },
	[NO_MAX_VALUE] = { "max_value", NULL },
};

/* Options of the local KV engine: it validates them itself (kvs_config_opt). */
static const struct ns_opt_def kv_engine_opts[] = {
	{ "segment_size", "segment" }, { "max_value", NULL }, { "gc_threshold", "gc" },
	{ "volatile_cache", "vwc" }, { "format", NULL },
};

enum ns_path_rule {
	NP_SIZE,        /* the "path" is the size: mem:1G */
	NP_REQUIRED,    /* a file or device path */
	NP_PATH_OR_MEM, /* a path, "mem" for an in-memory instance (kv:mem), or rados:POOL[/NS] */
	NP_RBD,         /* POOL/IMAGE or POOL/NAMESPACE/IMAGE (or pool= and image= options) */
	NP_RADOS,       /* POOL or POOL/NAMESPACE */
};

struct ns_kind {
	const char *name;
	enum ns_path_rule path;
	unsigned opts;
};

static const struct ns_kind ns_kinds[] = {
	{ "mem", NP_SIZE, NO_COMMON | NO_BIT(NO_SIZE) | NO_BIT(NO_BS) | NO_BIT(NO_RO) },
	{ "file", NP_REQUIRED,
	  NO_COMMON | NO_BIT(NO_SIZE) | NO_BIT(NO_BS) | NO_BIT(NO_BUFFERED) | NO_BIT(NO_RO) },
	{ "kv", NP_PATH_OR_MEM, NO_COMMON | NO_BIT(NO_SIZE) | NO_BIT(NO_RO) | NO_BIT(NO_KVSSD) },
	{ "passthru", NP_REQUIRED, NO_COMMON | NO_BIT(NO_RO) | NO_BIT(NO_ALLOPS) },
	{ "rbd", NP_RBD,
	  NO_COMMON | NO_CEPH | NO_BIT(NO_IMAGE) | NO_BIT(NO_BS) | NO_BIT(NO_VWC) | NO_BIT(NO_RO) },
	{ "kv-rados", NP_RADOS,
	  NO_COMMON | NO_CEPH | NO_BIT(NO_RO) | NO_BIT(NO_KVSSD) | NO_BIT(NO_SIZE) |
	  NO_BIT(NO_SHARDS) | NO_BIT(NO_MAX_VALUE) },
};
#define NR_KINDS (sizeof(ns_kinds) / sizeof(ns_kinds[0]))

const char *ns_kind_list(void)
{
	return "mem, file, kv, passthru, rbd, kv-rados";
}

const struct ns_kind *ns_kind_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NR_KINDS; i++)
		if (strlen(ns_kinds[i].name) == len && !strncmp(ns_kinds[i].name, name, len))
			return &ns_kinds[i];
	return NULL;
}

static int ns_opt_lookup(const struct ns_opt_def *defs, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(defs[i].name, key) || (defs[i].alias && !strcmp(defs[i].alias, key)))
			return (int)i;
	return -1;
}

void nvr_config_ns_free(struct cfg_ns *ns)
{
	free(ns->path);
	free(ns->pool);
	free(ns->image);
	free(ns->rados_ns);
	free(ns->ceph_conf);
	free(ns->ceph_id);
	free(ns->ceph_cluster);
	for (size_t i = 0; i < ns->nr_opts; i++) {
		free(ns->opts[i].key);
		free(ns->opts[i].val);
	}
	free(ns->opts);
	memset(ns, 0, sizeof(*ns));
}

int ns_begin(struct ns_build *b, struct cfg_ns *ns, const char *kind, size_t len, char *msg,
	     size_t msglen)
{
	memset(b, 0, sizeof(*b));
	memset(ns, 0, sizeof(*ns));
	b->ns = ns;
	b->kind = ns_kind_find(kind, len);
	if (!b->kind)
		return cfg_err(msg, msglen, "unknown kind '%.*s' (%s)", (int)len, kind, ns_kind_list());
	strcpy(ns->kind, b->kind->name);
	ns->enabled = true;
	ns->ana_grpid = NVR_CFG_DEFAULT_ANA_GRPID;
	return 0;
}

/* Split "a/b[/c]" into at most max names; the number found, or -1 if one is not a valid name. */
static int ns_split_names(const char *path, char parts[3][CFG_NAME_MAX + 1], int max)
{
	int n = 0;

	for (const char *p = path;; n++) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (n == max || len > CFG_NAME_MAX)
			return -1;
		memcpy(parts[n], p, len);
		parts[n][len] = '\0';
		if (!cfg_name_valid(parts[n]))
			return -1;
		if (!slash)
			return n + 1;
		p = slash + 1;
	}
}

static int ns_set_ceph_path(struct ns_build *b, const char *path, char *msg, size_t msglen)
{
	char parts[3][CFG_NAME_MAX + 1];
	struct cfg_ns *ns = b->ns;
	bool rbd = b->kind->path == NP_RBD;
	int n;

	if (!*path)
		return 0; /* pool= (and image=) may follow */
	n = ns_split_names(path, parts, rbd ? 3 : 2);
	if (rbd && n < 2)
		n = -1;
	if (n < 0)
		return cfg_err(msg, msglen, rbd ? "expected POOL/IMAGE or POOL/NAMESPACE/IMAGE (e.g. rbd:rbd/disk1)"
					       : "expected POOL or POOL/NAMESPACE (e.g. kv:rados:kvpool/ns1)");
	if (cfg_dup(&ns->pool, parts[0]) ||
	    (rbd && cfg_dup(&ns->image, parts[n - 1])) ||
	    (n == (rbd ? 3 : 2) && cfg_dup(&ns->rados_ns, parts[1])))
		return cfg_err(msg, msglen, "out of memory");
	b->seen |= NO_BIT(NO_POOL) | (rbd ? NO_BIT(NO_IMAGE) : 0) |
		   (ns->rados_ns ? NO_BIT(NO_RADOS_NS) : 0);
	return 0;
}

/* The PATH part of a spec (may be empty); the message is complete. */
int ns_set_path(struct ns_build *b, const char *path, char *msg, size_t msglen)
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
	case NP_RBD:
	case NP_RADOS:
		return ns_set_ceph_path(b, path, msg, msglen);
	case NP_PATH_OR_MEM:
		if (!strcmp(path, "mem"))
			return 0;
		if (!strncmp(path, "rados:", 6)) { /* kv:rados:POOL: the store lives in RADOS */
			b->kind = ns_kind_find("kv-rados", 8);
			strcpy(ns->kind, b->kind->name);
			if (!path[6])
				return cfg_err(msg, msglen, "kv:rados: needs a pool (kv:rados:POOL[/NAMESPACE])");
			return ns_set_ceph_path(b, path + 6, msg, msglen);
		}
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
static int ns_set_engine_opt(struct ns_build *b, int id, const char *key, const char *val,
			     char *msg, size_t msglen)
{
	char why[128];

	if (kvs_config_opt(&b->kv, key, val, why, sizeof(why)))
		return cfg_err(msg, msglen, "bad value '%s'", val ? val : "");
	if (b->seen_engine & NO_BIT(id))
		return cfg_err(msg, msglen, "given twice");
	b->seen_engine |= NO_BIT(id);
	return ns_record_opt(b->ns, key, val, msg, msglen);
}

static int ns_set_name(char **dst, const char *val, char *msg, size_t msglen)
{
	if (!val || !cfg_name_valid(val))
		return cfg_err(msg, msglen, "must be a name (printable, no '/', ',' or spaces, at most %d bytes)",
			       CFG_NAME_MAX);
	return cfg_dup(dst, val) ? cfg_err(msg, msglen, "out of memory") : 0;
}

static int ns_set_bool(struct cfg_ns *ns, int id, const char *val, char *msg, size_t msglen)
{
	bool on;

	if (cfg_parse_bool(val, &on))
		return cfg_err(msg, msglen, "must be a boolean (0/1, true/false)");
	switch (id) {
	case NO_BUFFERED: ns->buffered = on; break;
	case NO_RO: ns->readonly = on; break;
	case NO_KVSSD: ns->kvssd_compat = on; break;
	case NO_ALLOPS: ns->all_opcodes = on; break;
	default: ns->vwc = on; break;
	}
	return 0;
}

/*
 * Apply one option (val NULL = bare flag). The message does not name the option: the caller
 * prefixes the name in its own vocabulary (--ns "bs" or JSON "device.lba_size").
 */
int ns_set_opt(struct ns_build *b, const char *key, const char *val, char *msg, size_t msglen)
{
	struct cfg_ns *ns = b->ns;
	uint64_t v;
	int id;

	if (!strcmp(b->kind->name, "kv")) {
		id = ns_opt_lookup(kv_engine_opts, sizeof(kv_engine_opts) / sizeof(kv_engine_opts[0]), key);
		if (id >= 0)
			return ns_set_engine_opt(b, id, key, val, msg, msglen);
	}
	if (!strncmp(b->kind->name, "kv", 2) && !strcmp(key, "capacity")) /* the engines' name for the size */
		key = "size";
	id = ns_opt_lookup(ns_opts, sizeof(ns_opts) / sizeof(ns_opts[0]), key);
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
	case NO_ALLOPS:
	case NO_VWC:
		if (ns_set_bool(ns, id, val, msg, msglen))
			return -1;
		break;
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
	case NO_ANA_GRPID:
		if (!val || cfg_parse_uint(val, NVR_CFG_ANA_GRPID_MAX, &v) || v == 0)
			return cfg_err(msg, msglen, "must be 1..%d", NVR_CFG_ANA_GRPID_MAX);
		ns->ana_grpid = (uint32_t)v;
		break;
	case NO_POOL:
		return ns_set_name(&ns->pool, val, msg, msglen);
	case NO_IMAGE:
		return ns_set_name(&ns->image, val, msg, msglen);
	case NO_RADOS_NS:
		return ns_set_name(&ns->rados_ns, val, msg, msglen);
	case NO_ID:
		return ns_set_name(&ns->ceph_id, val, msg, msglen);
	case NO_CLUSTER:
		return ns_set_name(&ns->ceph_cluster, val, msg, msglen);
	case NO_CONN_TIMEOUT:
	case NO_OP_TIMEOUT:
		if (!val || cfg_parse_uint(val, CEPH_TIMEOUT_MAX, &v) || (id == NO_CONN_TIMEOUT && v == 0))
			return cfg_err(msg, msglen, "must be %s..%d seconds", id == NO_CONN_TIMEOUT ? "1" : "0",
				       CEPH_TIMEOUT_MAX);
		*(id == NO_CONN_TIMEOUT ? &ns->ceph_connect_timeout : &ns->ceph_op_timeout) = (unsigned)v;
		break;
	case NO_SHARDS:
		if (!val || cfg_parse_uint(val, KVR_SHARDS_MAX, &v) || v == 0)
			return cfg_err(msg, msglen, "must be 1..%d", KVR_SHARDS_MAX);
		ns->kv_shards = (unsigned)v;
		break;
	case NO_MAX_VALUE:
		if (!val || nvr_parse_size(val, &v) || v == 0 || v > KVR_VALUE_MAX)
			return cfg_err(msg, msglen, "must be 1..%u bytes", KVR_VALUE_MAX);
		ns->kv_max_value = (uint32_t)v;
		break;
	case NO_CONF:
		if (!val || !*val)
			return cfg_err(msg, msglen, "needs a path");
		return cfg_dup(&ns->ceph_conf, val) ? cfg_err(msg, msglen, "out of memory") : 0;
	}

	return ns_record_opt(ns, ns_opts[id].name, val, msg, msglen);
}

/* Checks that need the whole namespace; the message is complete. */
int ns_finish(struct ns_build *b, char *msg, size_t msglen)
{
	struct cfg_ns *ns = b->ns;
	unsigned bs = ns->lba_size ? ns->lba_size : 512;

	if (b->kind->path == NP_SIZE && ns->size == 0)
		return cfg_err(msg, msglen, "%s needs a size > 0 (e.g. %s:1G)", ns->kind, ns->kind);
	if (ns->size % bs)
		return cfg_err(msg, msglen, "size %" PRIu64 " is not a multiple of the block size %u",
			       ns->size, bs);
	if (b->kind->path == NP_RBD && (!ns->pool || !ns->image))
		return cfg_err(msg, msglen, "rbd needs POOL/IMAGE (e.g. rbd:rbd/disk1)");
	if (b->kind->path == NP_RADOS && !ns->pool)
		return cfg_err(msg, msglen, "kv-rados needs a pool (e.g. kv:rados:kvpool)");
	if (!strcmp(ns->kind, "kv")) {
		ns->kv_segment_size = b->kv.segment_size;
		ns->kv_max_value = b->kv.max_value;
		ns->kv_gc_threshold = b->kv.gc_threshold;
		ns->kv_format = b->kv.format;
		ns->vwc = b->kv.volatile_cache;
	}
	return 0;
}

/*
 * Parse "KIND:PATH[,opt[=val]...]" into ns. Returns -1 with msg complete for the spec as a
 * whole ("unknown kind", "bad size '12Q'") or "OPT: problem" for one option.
 */
int ns_parse_spec(struct cfg_ns *ns, struct ns_build *b, const char *spec, char *msg, size_t msglen)
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

int nvr_config_parse_ns_spec(struct cfg_ns *ns, const char *spec, char *err, size_t errlen)
{
	struct ns_build b;

	if (ns_parse_spec(ns, &b, spec, err, errlen) || ns_finish(&b, err, errlen)) {
		nvr_config_ns_free(ns);
		return -1;
	}
	return 0;
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
