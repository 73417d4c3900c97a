/* SPDX-License-Identifier: MIT */
/*
 * The model back to JSON in the -c format (save_config, config_get). A plain file namespace
 * is written as nvmetcli writes one; other kinds, limits and secrets with nvring's
 * extensions. Everything that loading reads is written, so load(write(cfg)) == cfg.
 */
#include "json_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* json-c returns NULL when out of memory; one flag instead of a check per call. */
struct jw {
	bool failed;
};

static json_object *jw_chk(struct jw *w, json_object *v)
{
	if (!v)
		w->failed = true;
	return v;
}

static void jw_add(struct jw *w, json_object *o, const char *key, json_object *v)
{
	if (!o || !v || json_object_object_add(o, key, v)) {
		json_object_put(v);
		w->failed = true;
	}
}

static void jw_push(struct jw *w, json_object *arr, json_object *v)
{
	if (!arr || !v || json_object_array_add(arr, v)) {
		json_object_put(v);
		w->failed = true;
	}
}

static void jw_str(struct jw *w, json_object *o, const char *key, const char *s)
{
	if (s)
		jw_add(w, o, key, jw_chk(w, json_object_new_string(s)));
}

static void jw_int(struct jw *w, json_object *o, const char *key, int64_t v)
{
	jw_add(w, o, key, jw_chk(w, json_object_new_int64(v)));
}

/* Bytes as a number, or a decimal string beyond what a JSON integer here holds. */
static void jw_u64(struct jw *w, json_object *o, const char *key, uint64_t v)
{
	char num[24];

	if (v <= INT64_MAX) {
		jw_int(w, o, key, (int64_t)v);
		return;
	}
	snprintf(num, sizeof(num), "%" PRIu64, v);
	jw_str(w, o, key, num);
}

static void jw_true(struct jw *w, json_object *o, const char *key, bool on)
{
	if (on)
		jw_add(w, o, key, jw_chk(w, json_object_new_boolean(true)));
}

static void jw_uuid(struct jw *w, json_object *o, const char *key, const uint8_t u[16])
{
	char s[37];
	size_t n = 0;

	for (int i = 0; i < 16; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", u[i]);
	jw_str(w, o, key, s);
}

static void jw_secret(struct jw *w, json_object *o, const char *key, const char *file_key,
		      const struct cfg_secret *s)
{
	if (s->file)
		jw_str(w, o, file_key, s->file); /* the key stays in its file */
	else
		jw_str(w, o, key, s->value);
}

static json_object *jw_host(struct jw *w, const struct cfg_host *h)
{
	json_object *o = jw_chk(w, json_object_new_object());

	jw_str(w, o, "nqn", h->nqn);
	jw_secret(w, o, "dhchap_key", "dhchap_key_file", &h->dhchap_key);
	jw_secret(w, o, "dhchap_ctrl_key", "dhchap_ctrl_key_file", &h->dhchap_ctrl_key);
	if (h->dhchap_hash != CFG_HASH_SHA256)
		jw_str(w, o, "dhchap_hash", nvr_config_hash_name(h->dhchap_hash));
	if (h->dhchap_dhgroup != CFG_DHGROUP_NULL)
		jw_str(w, o, "dhchap_dhgroup", nvr_config_dhgroup_name(h->dhchap_dhgroup));
	jw_secret(w, o, "psk", "psk_file", &h->psk);
	return o;
}

static json_object *jw_addr(struct jw *w, int family, const char *addr, uint16_t port, enum cfg_treq treq,
			    enum cfg_tsas tsas)
{
	static const char *const treqs[] = { "not specified", "required", "not required" };
	json_object *o = jw_chk(w, json_object_new_object());
	char num[8];

	snprintf(num, sizeof(num), "%u", port);
	jw_str(w, o, "adrfam", family == AF_INET6 ? "ipv6" : "ipv4");
	jw_str(w, o, "traddr", addr);
	jw_str(w, o, "trsvcid", num);
	jw_str(w, o, "trtype", "tcp");
	jw_str(w, o, "treq", treqs[treq]);
	jw_str(w, o, "tsas", tsas == CFG_TSAS_TLS13 ? "tls1.3" : "none");
	return o;
}

static json_object *jw_port(struct jw *w, const struct nvr_config *cfg, const struct cfg_port *p)
{
	json_object *o = jw_chk(w, json_object_new_object()), *arr, *param, *g, *ana, *r, *addr;

	jw_int(w, o, "portid", p->portid);
	jw_add(w, o, "addr", jw_addr(w, p->family, p->addr, p->port, p->treq, p->tsas));
	if (p->inline_data_size >= 0 || p->max_queue_size >= 0) {
		param = jw_chk(w, json_object_new_object());
		if (p->inline_data_size >= 0)
			jw_int(w, param, "inline_data_size", p->inline_data_size);
		if (p->max_queue_size >= 0)
			jw_int(w, param, "max_queue_size", p->max_queue_size);
		jw_add(w, o, "param", param);
	}
	arr = jw_chk(w, json_object_new_array());
	for (size_t i = 0; i < p->nr_ana_groups; i++) {
		g = jw_chk(w, json_object_new_object());
		ana = jw_chk(w, json_object_new_object());
		jw_int(w, g, "grpid", p->ana_groups[i].grpid);
		jw_str(w, ana, "state", nvr_config_ana_state_name(p->ana_groups[i].state));
		jw_add(w, g, "ana", ana);
		jw_push(w, arr, g);
	}
	jw_add(w, o, "ana_groups", arr);
	arr = jw_chk(w, json_object_new_array());
	for (size_t i = 0; i < p->nr_referrals; i++) {
		const struct cfg_referral *ref = &p->referrals[i];

		r = jw_chk(w, json_object_new_object());
		jw_str(w, r, "name", ref->name);
		jw_int(w, r, "enable", ref->enabled);
		addr = jw_addr(w, ref->family, ref->addr, ref->port, ref->treq, ref->tsas);
		jw_int(w, addr, "portid", ref->portid);
		jw_add(w, r, "addr", addr);
		jw_push(w, arr, r);
	}
	jw_add(w, o, "referrals", arr);
	arr = jw_chk(w, json_object_new_array());
	for (size_t si = 0; si < cfg->nr_subsys; si++)
		if (nvr_config_port_has_subsys(p, si))
			jw_push(w, arr, jw_chk(w, json_object_new_string(cfg->subsys[si].nqn)));
	jw_add(w, o, "subsystems", arr);
	return o;
}

/* A file path that reads as a --ns spec ("mem:1G") needs its kind spelled out. */
static bool jw_path_ambiguous(const char *path)
{
	const char *colon = strchr(path, ':');

	return colon && ns_kind_find(path, (size_t)(colon - path));
}

static json_object *jw_device(struct jw *w, const struct cfg_ns *ns)
{
	json_object *d = jw_chk(w, json_object_new_object());
	bool file = !strcmp(ns->kind, "file");

	if (!file || jw_path_ambiguous(ns->path))
		jw_str(w, d, "backend", ns->kind);
	if (ns->path)
		jw_str(w, d, "path", ns->path);
	else if (!strcmp(ns->kind, "kv"))
		jw_str(w, d, "path", "mem");
	if (ns->size)
		jw_u64(w, d, "size", ns->size);
	if (ns->lba_size)
		jw_int(w, d, "lba_size", ns->lba_size);
	jw_true(w, d, "buffered", ns->buffered);
	jw_true(w, d, "readonly", ns->readonly);
	jw_true(w, d, "kvssd_compat", ns->kvssd_compat);
	jw_true(w, d, "all_opcodes", ns->all_opcodes);
	jw_true(w, d, "volatile_cache", ns->vwc);
	if (ns->kv_segment_size)
		jw_int(w, d, "segment_size", ns->kv_segment_size);
	if (ns->kv_max_value)
		jw_int(w, d, "max_value", ns->kv_max_value);
	if (ns->kv_gc_threshold)
		jw_int(w, d, "gc_threshold", ns->kv_gc_threshold);
	jw_true(w, d, "format", ns->kv_format);
	jw_str(w, d, "pool", ns->pool);
	jw_str(w, d, "image", ns->image);
	jw_str(w, d, "rados_namespace", ns->rados_ns);
	jw_str(w, d, "conf", ns->ceph_conf);
	jw_str(w, d, "id", ns->ceph_id);
	jw_str(w, d, "cluster", ns->ceph_cluster);
	if (ns->ceph_connect_timeout)
		jw_int(w, d, "connect_timeout", ns->ceph_connect_timeout);
	if (ns->ceph_op_timeout)
		jw_int(w, d, "op_timeout", ns->ceph_op_timeout);
	if (ns->kv_shards)
		jw_int(w, d, "shards", ns->kv_shards);
	jw_uuid(w, d, "uuid", ns->uuid);
	jw_uuid(w, d, "nguid", ns->nguid);
	return d;
}

static json_object *jw_mask(struct jw *w, uint8_t mask, bool hash)
{
	json_object *arr = jw_chk(w, json_object_new_array());

	for (int i = 0; i < 8; i++)
		if (mask & (1u << i))
			jw_push(w, arr, jw_chk(w, json_object_new_string(hash ? nvr_config_hash_name((enum cfg_dhchap_hash)i)
									  : nvr_config_dhgroup_name((enum cfg_dhgroup)i))));
	return arr;
}

static json_object *jw_subsys(struct jw *w, const struct cfg_subsys *s)
{
	json_object *o = jw_chk(w, json_object_new_object()), *attr = jw_chk(w, json_object_new_object());
	json_object *arr;
	char num[24];

	jw_str(w, o, "nqn", s->nqn);
	jw_str(w, attr, "allow_any_host", s->allow_any_host ? "1" : "0");
	jw_str(w, attr, "serial", s->serial);
	jw_str(w, attr, "model", s->model);
	if (s->firmware[0])
		jw_str(w, attr, "firmware", s->firmware);
	if (s->version) {
		snprintf(num, sizeof(num), "%u.%u", s->version >> 16, (s->version >> 8) & 0xff);
		if (s->version & 0xff)
			snprintf(num + strlen(num), sizeof(num) - strlen(num), ".%u", s->version & 0xff);
		jw_str(w, attr, "version", num);
	}
	if (s->ieee_oui) {
		snprintf(num, sizeof(num), "0x%06x", s->ieee_oui);
		jw_str(w, attr, "ieee_oui", num);
	}
	snprintf(num, sizeof(num), "%u", s->cntlid_min);
	jw_str(w, attr, "cntlid_min", num);
	snprintf(num, sizeof(num), "%u", s->cntlid_max);
	jw_str(w, attr, "cntlid_max", num);
	if (s->qid_max) {
		snprintf(num, sizeof(num), "%u", s->qid_max);
		jw_str(w, attr, "qid_max", num);
	}
	jw_add(w, o, "attr", attr);
	arr = jw_chk(w, json_object_new_array());
	for (size_t i = 0; i < s->nr_allowed_hosts; i++)
		jw_push(w, arr, jw_chk(w, json_object_new_string(s->allowed_hosts[i])));
	jw_add(w, o, "allowed_hosts", arr);
	if (s->dhchap_hashes != CFG_DHCHAP_HASHES_ALL)
		jw_add(w, o, "dhchap_hashes", jw_mask(w, s->dhchap_hashes, true));
	if (s->dhchap_dhgroups != CFG_DHCHAP_DHGROUPS_ALL)
		jw_add(w, o, "dhchap_dhgroups", jw_mask(w, s->dhchap_dhgroups, false));
	arr = jw_chk(w, json_object_new_array());
	for (size_t i = 0; i < s->nr_ns; i++) {
		json_object *n = jw_chk(w, json_object_new_object());

		jw_int(w, n, "nsid", s->ns[i].nsid);
		jw_int(w, n, "enable", s->ns[i].enabled);
		jw_int(w, n, "ana_grpid", s->ns[i].ana_grpid);
		jw_add(w, n, "device", jw_device(w, &s->ns[i]));
		jw_push(w, arr, n);
	}
	jw_add(w, o, "namespaces", arr);
	return o;
}

static json_object *jw_nvring(struct jw *w, const struct nvr_config *cfg)
{
	json_object *o = jw_chk(w, json_object_new_object());
	char buf[128];

	for (size_t i = 0; i < cfg_nr_settings; i++) {
		const struct cfg_setting *st = &cfg_settings[i];
		const char *v = cfg_setting_fmt(st, cfg, buf, sizeof(buf));

		if (st->type == CS_UINT)
			jw_int(w, o, st->json, *(const unsigned *)((const char *)cfg + st->off));
		else if (st->type == CS_SIZE)
			jw_u64(w, o, st->json, *(const uint64_t *)((const char *)cfg + st->off));
		else
			jw_str(w, o, st->json, v);
		if (i == 0) { /* after threads, as the reader lists them */
			jw_int(w, o, "verbose", cfg->verbose);
			jw_add(w, o, "poll", jw_chk(w, json_object_new_boolean(cfg->poll)));
		}
	}
	return o;
}

struct json_object *nvr_config_to_json(const struct nvr_config *cfg)
{
	struct jw w = { false };
	json_object *root = jw_chk(&w, json_object_new_object()), *arr;

	arr = jw_chk(&w, json_object_new_array());
	for (size_t i = 0; i < cfg->nr_hosts; i++)
		jw_push(&w, arr, jw_host(&w, &cfg->hosts[i]));
	jw_add(&w, root, "hosts", arr);
	arr = jw_chk(&w, json_object_new_array());
	for (size_t i = 0; i < cfg->nr_ports; i++)
		jw_push(&w, arr, jw_port(&w, cfg, &cfg->ports[i]));
	jw_add(&w, root, "ports", arr);
	arr = jw_chk(&w, json_object_new_array());
	for (size_t i = 0; i < cfg->nr_subsys; i++)
		jw_push(&w, arr, jw_subsys(&w, &cfg->subsys[i]));
	jw_add(&w, root, "subsystems", arr);
	jw_add(&w, root, "nvring", jw_nvring(&w, cfg));
	if (w.failed) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

char *nvr_config_to_json_string(const struct nvr_config *cfg)
{
	json_object *root = nvr_config_to_json(cfg);
	const char *s;
	char *out = NULL;

	if (!root)
		return NULL;
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s && asprintf(&out, "%s\n", s) < 0)
		out = NULL;
	json_object_put(root);
	return out;
}

int nvr_config_save(const struct nvr_config *cfg, const char *path, char *err, size_t errlen)
{
	char *text = nvr_config_to_json_string(cfg), *tmp = NULL;
	size_t len, done = 0;
	int fd = -1, ret = -1;
	bool created = false;

	if (!text || asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		cfg_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	/* 0600: the file may hold DH-HMAC-CHAP and TLS keys */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		cfg_err(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	created = true;
	len = strlen(text);
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cfg_err(err, errlen, "%s: %s", tmp, n < 0 ? strerror(errno) : "short write");
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) || close(fd)) {
		fd = -1;
		cfg_err(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path)) {
		cfg_err(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret && created)
		unlink(tmp);
	free(tmp);
	free(text);
	return ret;
}
