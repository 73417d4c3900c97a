/* SPDX-License-Identifier: MIT */
/*
 * JSON hosts[] entries (with DH-HMAC-CHAP and TLS PSK secrets, under nvmet's configfs names)
 * and subsystems (attributes, allowed hosts, namespaces, allowed DH-HMAC-CHAP parameters).
 * Secrets are never quoted in messages.
 */
#include "json_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A string member; "" counts as absent (nvmetcli saves unset keys that way). */
static int j_str(struct jctx *j, json_object *o, const char *key, const char *where, json_object **out)
{
	if (!o) {
		*out = NULL;
		return 0;
	}
	if (j_get(j, o, key, json_type_string, where, false, out))
		return -1;
	if (*out && !*json_object_get_string(*out))
		*out = NULL;
	return 0;
}

/*
 * One secret: flat (dhchap_key, nvmet's attribute name), in nvmetcli's "dhchap" group
 * ({"key"}), or from a file (dhchap_key_file); one of them at most.
 */
static int j_secret(struct jctx *j, json_object *o, json_object *group, const char *flat,
		    const char *nested, const char *file_key, const char *where, bool psk,
		    struct cfg_secret *sec)
{
	const char *shape = psk ? "a TLS PSK in interchange form (NVMeTLSkey-1:XX:BASE64:)"
				: "a DH-HMAC-CHAP secret (DHHC-1:XX:BASE64:)";
	json_object *v, *g, *f;
	char w[JPATH], wg[JPATH], msg[512];
	const char *loc;

	jkey(wg, where, "dhchap");
	if (j_str(j, o, flat, where, &v) || j_str(j, group, nested, wg, &g) ||
	    j_str(j, o, file_key, where, &f))
		return -1;
	if (v && g)
		return jerr(j, jkey(w, where, flat), "given twice (also dhchap.%s)", nested);
	if (f && (v || g))
		return jerr(j, jkey(w, where, file_key), "%s%s is given too", v ? flat : "dhchap.",
			    v ? "" : nested);
	if (f) {
		const char *path = json_object_get_string(f);

		jkey(w, where, file_key);
		if (cfg_read_secret(path, &sec->value, msg, sizeof(msg)))
			return jerr(j, w, "%s", msg);
		if (cfg_dup(&sec->file, path))
			return jerr(j, NULL, "out of memory");
		if (!(psk ? cfg_psk_valid(sec->value) : cfg_dhchap_key_valid(sec->value)))
			return jerr(j, w, "%s: not %s", path, shape);
		return 0;
	}
	if (!v && !g)
		return 0;
	loc = v ? jkey(w, where, flat) : jkey(w, wg, nested);
	if (!(psk ? cfg_psk_valid(json_object_get_string(v ? v : g))
		  : cfg_dhchap_key_valid(json_object_get_string(v ? v : g))))
		return jerr(j, loc, "must be %s", shape);
	if (cfg_dup(&sec->value, json_object_get_string(v ? v : g)))
		return jerr(j, NULL, "out of memory");
	return 0;
}

/* dhchap_hash / dhchap_dhgroup, flat or in the "dhchap" group. */
static int j_dhchap_name(struct jctx *j, json_object *o, json_object *group, bool hash,
			 const char *where, int *out)
{
	const char *flat = hash ? "dhchap_hash" : "dhchap_dhgroup", *nested = hash ? "hash" : "dhgroup";
	json_object *v, *g;
	char w[JPATH], wg[JPATH], msg[256];
	uint8_t mask = 0;

	jkey(wg, where, "dhchap");
	if (j_str(j, o, flat, where, &v) || j_str(j, group, nested, wg, &g))
		return -1;
	if (v && g && strcmp(json_object_get_string(v), json_object_get_string(g)))
		return jerr(j, jkey(w, where, flat), "differs from dhchap.%s", nested);
	if (!v && !g)
		return 0;
	if (cfg_mask_add(&mask, hash, json_object_get_string(v ? v : g), msg, sizeof(msg)))
		return jerr(j, v ? jkey(w, where, flat) : jkey(w, wg, nested), "%s", msg);
	*out = __builtin_ctz(mask);
	return 0;
}

int j_host(struct jctx *j, json_object *o, const char *where, struct cfg_host *h)
{
	static const char *const keys[] = { "nqn", "dhchap_key", "dhchap_key_file", "dhchap_ctrl_key",
					    "dhchap_ctrl_key_file", "dhchap_hash", "dhchap_dhgroup",
					    "psk", "psk_file", "dhchap", NULL };
	static const char *const dhchap_keys[] = { "key", "ctrl_key", "hash", "dhgroup", NULL };
	json_object *v, *group;
	char w[JPATH], msg[256];
	const char *nqn, *field;
	int hash = CFG_HASH_SHA256, group_id = CFG_DHGROUP_NULL;

	if (j_type(j, o, json_type_object, where) || j_keys(j, o, where, keys) ||
	    j_get(j, o, "nqn", json_type_string, where, true, &v) || j_nqn(j, v, jkey(w, where, "nqn"), &nqn))
		return -1;
	strcpy(h->nqn, nqn);
	if (j_get(j, o, "dhchap", json_type_object, where, false, &group) ||
	    (group && j_keys(j, group, jkey(w, where, "dhchap"), dhchap_keys)))
		return -1;
	if (j_secret(j, o, group, "dhchap_key", "key", "dhchap_key_file", where, false, &h->dhchap_key) ||
	    j_secret(j, o, group, "dhchap_ctrl_key", "ctrl_key", "dhchap_ctrl_key_file", where, false,
		     &h->dhchap_ctrl_key) ||
	    j_secret(j, o, NULL, "psk", "", "psk_file", where, true, &h->psk) ||
	    j_dhchap_name(j, o, group, true, where, &hash) || j_dhchap_name(j, o, group, false, where, &group_id))
		return -1;
	h->dhchap_hash = (enum cfg_dhchap_hash)hash;
	h->dhchap_dhgroup = (enum cfg_dhgroup)group_id;
	if (cfg_host_check(h, msg, sizeof(msg), &field))
		return jerr(j, jkey(w, where, field), "%s", msg);
	return 0;
}

int nvr_config_host_from_json(struct cfg_host *h, struct json_object *o, const char *where,
			      char *err, size_t errlen)
{
	struct jctx j = { NULL, err, errlen };

	cfg_host_init(h);
	if (j_host(&j, o, where ? where : "", h)) {
		nvr_config_host_free(h);
		return -1;
	}
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
	if ((v = j_member(o, "allow_any_host"))) {
		if (j_bool(j, v, jkey(w, where, "allow_any_host"), &s->allow_any_host))
			return -1;
		*any_given = true;
	}
	if (j_get(j, o, "version", json_type_string, where, false, &v))
		return -1;
	if (v && cfg_parse_version(json_object_get_string(v), &s->version))
		return jerr(j, jkey(w, where, "version"), "must look like \"1.3\" or \"1.2.1\"");
	if ((v = j_member(o, "ieee_oui"))) {
		const char *str = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;

		/* nvmet prints it as 0x%06x */
		if (str && !strncmp(str, "0x", 2) && cfg_is_hex(str + 2, strlen(str + 2)) && str[2] &&
		    strlen(str + 2) <= 6)
			s->ieee_oui = (uint32_t)strtoul(str + 2, NULL, 16);
		else if (j_uint(j, v, jkey(w, where, "ieee_oui"), 0, 0xffffff, &u))
			return -1;
		else
			s->ieee_oui = (uint32_t)u;
	}
	if ((v = j_member(o, "cntlid_min"))) {
		if (j_uint(j, v, jkey(w, where, "cntlid_min"), 1, CFG_CNTLID_MAX, &u))
			return -1;
		s->cntlid_min = (uint16_t)u;
	}
	if ((v = j_member(o, "cntlid_max"))) {
		if (j_uint(j, v, jkey(w, where, "cntlid_max"), 1, CFG_CNTLID_MAX, &u))
			return -1;
		s->cntlid_max = (uint16_t)u;
	}
	if (s->cntlid_min > s->cntlid_max)
		return jerr(j, jkey(w, where, "cntlid_min"), "greater than cntlid_max");
	if ((v = j_member(o, "qid_max"))) {
		if (j_uint(j, v, jkey(w, where, "qid_max"), 1, 65534, &u))
			return -1;
		s->qid_max = (uint16_t)u;
	}
	return 0;
}

/* dhchap_hashes / dhchap_dhgroups: the names a host may negotiate (default all). */
static int j_subsys_mask(struct jctx *j, json_object *o, const char *key, bool hash, const char *where,
			 uint8_t *mask)
{
	json_object *arr;
	char w[JPATH], wi[JPATH], msg[256];

	if (j_get(j, o, key, json_type_array, where, false, &arr))
		return -1;
	if (!arr)
		return 0;
	jkey(w, where, key);
	if (json_object_array_length(arr) == 0)
		return jerr(j, w, "must list at least one");
	*mask = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		jidx(wi, w, i);
		if (j_type(j, v, json_type_string, wi) ||
		    (cfg_mask_add(mask, hash, json_object_get_string(v), msg, sizeof(msg)) &&
		     jerr(j, wi, "%s", msg)))
			return -1;
	}
	return 0;
}

int j_subsys(struct jctx *j, json_object *o, const char *where, const struct nvr_config *cfg,
	     struct cfg_subsys *s)
{
	static const char *const keys[] = { "nqn", "attr", "allowed_hosts", "namespaces", "passthru",
					    "dhchap_hashes", "dhchap_dhgroups", NULL };
	json_object *v, *arr;
	char w[JPATH], w2[JPATH];
	const char *nqn;
	bool any_given = false;
	long dup;

	if (j_type(j, o, json_type_object, where) || j_keys(j, o, where, keys) ||
	    j_get(j, o, "nqn", json_type_string, where, true, &v) || j_nqn(j, v, jkey(w, where, "nqn"), &nqn))
		return -1;
	if (!strcmp(nqn, CFG_DISC_NQN))
		return jerr(j, w, "'%s' is the discovery subsystem's NQN", nqn);
	dup = nvr_config_find_subsys(cfg, nqn);
	if (dup >= 0)
		return jerr(j, w, "'%s' is also subsystems[%ld]", nqn, dup);
	strcpy(s->nqn, nqn);
	if (j_member(o, "passthru"))
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
		if (nvr_config_find_host(cfg, h) < 0)
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
	if (j_subsys_mask(j, o, "dhchap_hashes", true, where, &s->dhchap_hashes) ||
	    j_subsys_mask(j, o, "dhchap_dhgroups", false, where, &s->dhchap_dhgroups))
		return -1;

	if (j_get(j, o, "namespaces", json_type_array, where, false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct cfg_ns *ns = cfg_add_ns(s);

		if (!ns)
			return jerr(j, NULL, "out of memory");
		jidx(w, jkey(w2, where, "namespaces"), i);
		if (j_ns(j, json_object_array_get_idx(arr, i), w, ns, true))
			return -1;
		for (size_t k = 0; k + 1 < s->nr_ns; k++)
			if (s->ns[k].nsid == ns->nsid)
				return jerr(j, jkey(w2, w, "nsid"), "%" PRIu32 " is also namespaces[%zu]",
					    ns->nsid, k);
	}
	return 0;
}

int nvr_config_subsys_from_json(const struct nvr_config *cfg, struct cfg_subsys *s,
				struct json_object *o, const char *where, char *err, size_t errlen)
{
	struct jctx j = { NULL, err, errlen };

	cfg_subsys_init(s);
	if (j_subsys(&j, o, where ? where : "", cfg, s)) {
		nvr_config_subsys_free(s);
		return -1;
	}
	return 0;
}

int nvr_config_subsys_from_params(const struct nvr_config *cfg, struct cfg_subsys *s, struct json_object *o,
				  const char *where, char *err, size_t errlen)
{
	struct jctx j = { NULL, err, errlen };
	json_object *v, *attr;
	char w[JPATH];
	const char *nqn;
	bool any_given;
	long dup;
	int ret;

	where = where ? where : "";
	cfg_subsys_init(s);
	if (j_type(&j, o, json_type_object, where) || j_get(&j, o, "nqn", json_type_string, where, true, &v) ||
	    j_nqn(&j, v, jkey(w, where, "nqn"), &nqn))
		return -1;
	if (!strcmp(nqn, CFG_DISC_NQN))
		return jerr(&j, w, "'%s' is the discovery subsystem's NQN", nqn);
	dup = nvr_config_find_subsys(cfg, nqn);
	if (dup >= 0)
		return jerr(&j, w, "'%s' is also subsystems[%ld]", nqn, dup);
	strcpy(s->nqn, nqn);
	/* the attributes sit flat next to the NQN: read them as the "attr" object they are */
	attr = json_object_new_object();
	if (!attr)
		return jerr(&j, NULL, "out of memory");
	json_object_object_foreach(o, key, val)
		if (strcmp(key, "nqn"))
			json_object_object_add(attr, key, json_object_get(val));
	ret = j_subsys_attr(&j, attr, where, s, &any_given);
	json_object_put(attr);
	if (ret)
		return -1;
	if (!any_given)
		s->allow_any_host = false; /* the control plane lets nobody in unless told */
	return 0;
}
