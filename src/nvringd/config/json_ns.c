/* SPDX-License-Identifier: MIT */
/*
 * A JSON namespace {nsid, enable, ana_grpid, device: {...}}. nvmetcli's device is {path, uuid,
 * nguid, p2pmem}; nvring's extensions (backend, size, lba_size, ...) go through the --ns option
 * table, so both front ends take the same values with the same checks.
 */
#include "json_int.h"

#include <inttypes.h>
#include <string.h>

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
		/* Ceph */
		{ "pool", "pool", false }, { "image", "image", false },
		{ "rados_namespace", "rados_namespace", false }, { "conf", "conf", false },
		{ "id", "id", false }, { "cluster", "cluster", false },
		{ "connect_timeout", "connect_timeout", false }, { "op_timeout", "op_timeout", false },
		{ "shards", "shards", false },
	};
	char w[JPATH], msg[256], num[24];

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		json_object *v = j_member(dev, ext[i].key);
		const char *val;

		if (!v)
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
			if (j_type(j, v, json_type_string, w))
				return -1;
			val = json_object_get_string(v);
		} else {
			return jerr(j, w, "must be a string or a non-negative integer");
		}
		if (ns_set_opt(b, ext[i].opt, val, msg, sizeof(msg)))
			return jerr(j, w, "%s", msg);
	}
	return 0;
}

/* ana_grpid (nvmet's attribute) and ana.grpid (its group in nvmetcli's save): the same thing. */
static int j_ns_ana(struct jctx *j, json_object *o, const char *where, struct ns_build *b)
{
	static const char *const ana_keys[] = { "grpid", NULL };
	json_object *v = j_member(o, "ana_grpid"), *ana = j_member(o, "ana"), *g = NULL;
	char w[JPATH], wa[JPATH], w2[JPATH], msg[256], num[24];
	uint64_t id = 0, id2 = 0;

	jkey(wa, where, "ana");
	jkey(w2, wa, "grpid");
	if (ana) {
		if (j_type(j, ana, json_type_object, wa) || j_keys(j, ana, wa, ana_keys))
			return -1;
		g = j_member(ana, "grpid");
	}
	if (v && j_uint(j, v, jkey(w, where, "ana_grpid"), 0, UINT32_MAX, &id))
		return -1;
	if (g && j_uint(j, g, w2, 0, UINT32_MAX, &id2))
		return -1;
	if (v && g && id != id2)
		return jerr(j, w2, "%" PRIu64 " differs from ana_grpid %" PRIu64, id2, id);
	if (!v && !g)
		return 0;
	snprintf(num, sizeof(num), "%" PRIu64, v ? id : id2);
	if (ns_set_opt(b, "ana_grpid", num, msg, sizeof(msg)))
		return jerr(j, v ? w : w2, "%s", msg);
	return 0;
}

int j_ns(struct jctx *j, json_object *o, const char *where, struct cfg_ns *ns, bool nsid_required)
{
	static const char *const keys[] = { "nsid", "enable", "device", "ana_grpid", "ana", "resv", NULL };
	static const char *const dev_keys[] = { "path", "uuid", "nguid", "p2pmem", "backend", "size",
						"lba_size", "buffered", "readonly", "kvssd_compat",
						"segment_size", "max_value", "gc_threshold", "volatile_cache",
						"format", "all_opcodes", "pool", "image", "rados_namespace",
						"conf", "id", "cluster", "connect_timeout", "op_timeout",
						"shards", NULL };
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
	v = j_member(o, "nsid");
	if (!v && nsid_required)
		return jerr(j, jkey(w, where, "nsid"), "missing");
	if (v) {
		if (j_uint(j, v, jkey(w, where, "nsid"), 0, UINT32_MAX, &nsid))
			return -1;
		snprintf(num, sizeof(num), "%" PRIu64, nsid);
		if (ns_set_opt(&b, "nsid", num, msg, sizeof(msg)))
			return jerr(j, w, "%s", msg);
	}
	v = j_member(o, "enable");
	if (v && j_bool(j, v, jkey(w, where, "enable"), &ns->enabled))
		return -1;
	v = j_member(o, "resv");
	if (v) {
		static const char *const resv_keys[] = { "enable", NULL };

		jkey(w, where, "resv");
		if (j_type(j, v, json_type_object, w) || j_keys(j, v, w, resv_keys) ||
		    j_unsupported(j, v, "enable", w, "reservations"))
			return -1;
	}
	if (j_ns_ana(j, o, where, &b))
		return -1;
	if (ns_finish(&b, msg, sizeof(msg)))
		return jerr(j, where, "%s", msg);
	return 0;
}

int nvr_config_ns_from_json(struct cfg_ns *ns, struct json_object *o, const char *where,
			    char *err, size_t errlen)
{
	struct jctx j = { NULL, err, errlen };

	if (j_ns(&j, o, where ? where : "", ns, false)) {
		nvr_config_ns_free(ns);
		return -1;
	}
	return 0;
}
