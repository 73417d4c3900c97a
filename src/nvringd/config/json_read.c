/* SPDX-License-Identifier: MIT */
/*
 * The JSON config (nvmetcli save format + nvring extensions): the document, its "nvring"
 * settings, and loading it into a model that replaces the topology only when all of it is good.
 */
#include "json_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int j_setting(struct jctx *j, const struct cfg_setting *st, json_object *v, const char *where,
		     struct nvr_config *cfg)
{
	char msg[256], num[24], lo[24], hi[24];
	uint64_t u;

	switch (st->type) {
	case CS_UINT:
		if (j_uint(j, v, where, st->min, st->max, &u))
			return -1;
		snprintf(num, sizeof(num), "%" PRIu64, u);
		return cfg_setting_parse(st, cfg, num, msg, sizeof(msg)) ? jerr(j, where, "%s", msg) : 0;
	case CS_SIZE:
		if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
			snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(v));
		else if (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) < 24)
			snprintf(num, sizeof(num), "%s", json_object_get_string(v));
		else
			num[0] = '\0';
		if (cfg_setting_parse(st, cfg, num, msg, sizeof(msg)))
			return jerr(j, where, "must be a size %s..%s (a number of bytes, or a string with a "
				    "K/M/G/T suffix)", cfg_fmt_size(lo, st->min), cfg_fmt_size(hi, st->max));
		return 0;
	case CS_PATH:
	case CS_ADDR:
		if (j_type(j, v, json_type_string, where))
			return -1;
		if (cfg_setting_parse(st, cfg, json_object_get_string(v), msg, sizeof(msg)))
			return jerr(j, where, "%s", msg);
		return 0;
	}
	return 0;
}

static int j_nvring(struct jctx *j, json_object *root, struct nvr_config *cfg, unsigned *given)
{
	const char *keys[CFG_MAX_KEYS] = { "threads", "verbose", "poll" };
	size_t nk = 3;
	json_object *o, *v;
	char w[JPATH];
	uint64_t u;

	for (size_t i = 0; i < cfg_nr_settings && nk + 1 < CFG_MAX_KEYS; i++)
		if (strcmp(cfg_settings[i].json, "threads"))
			keys[nk++] = cfg_settings[i].json;
	if (j_get(j, root, "nvring", json_type_object, "", false, &o))
		return -1;
	if (!o)
		return 0;
	if (j_keys(j, o, "nvring", keys))
		return -1;
	for (size_t i = 0; i < cfg_nr_settings; i++) {
		if (!(v = j_member(o, cfg_settings[i].json)))
			continue;
		if (j_setting(j, &cfg_settings[i], v, jkey(w, "nvring", cfg_settings[i].json), cfg))
			return -1;
		*given |= 1u << i;
	}
	if ((v = j_member(o, "verbose"))) {
		if (j_uint(j, v, jkey(w, "nvring", "verbose"), 0, CFG_MAX_VERBOSE, &u))
			return -1;
		cfg->verbose = (unsigned)u;
	}
	if ((v = j_member(o, "poll")) && j_bool(j, v, jkey(w, "nvring", "poll"), &cfg->poll))
		return -1;
	return 0;
}

static int j_hosts(struct jctx *j, json_object *root, struct nvr_config *cfg)
{
	json_object *arr;
	char w[JPATH], w2[JPATH];

	if (j_get(j, root, "hosts", json_type_array, "", false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct cfg_host h;

		cfg_host_init(&h);
		jidx(w, "hosts", i);
		if (j_host(j, json_object_array_get_idx(arr, i), w, &h))
			goto fail;
		if (nvr_config_find_host(cfg, h.nqn) >= 0) {
			jerr(j, jkey(w2, w, "nqn"), "'%s' is listed twice", h.nqn);
			goto fail;
		}
		if (!cfg_add_host(cfg)) {
			jerr(j, NULL, "out of memory");
			goto fail;
		}
		cfg->hosts[cfg->nr_hosts - 1] = h;
		continue;
fail:
		nvr_config_host_free(&h);
		return -1;
	}
	return 0;
}

static int j_root(struct jctx *j, json_object *root, struct nvr_config *cfg, unsigned *given)
{
	static const char *const keys[] = { "hosts", "ports", "subsystems", "nvring", NULL };
	json_object *arr;
	char w[JPATH];

	if (j_type(j, root, json_type_object, "") || j_keys(j, root, "", keys) || j_hosts(j, root, cfg) ||
	    j_nvring(j, root, cfg, given))
		return -1;
	/* Subsystems before ports: ports refer to them by NQN. Each item is read on its own and
	 * appended, so that it is checked against the ones before it. */
	if (j_get(j, root, "subsystems", json_type_array, "", false, &arr))
		return -1;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct cfg_subsys s;

		cfg_subsys_init(&s);
		if (j_subsys(j, json_object_array_get_idx(arr, i), jidx(w, "subsystems", i), cfg, &s) ||
		    (!cfg_add_subsys(cfg) && jerr(j, NULL, "out of memory"))) {
			nvr_config_subsys_free(&s);
			return -1;
		}
		cfg->subsys[cfg->nr_subsys - 1] = s;
	}
	if (j_get(j, root, "ports", json_type_array, "", true, &arr))
		return -1;
	if (json_object_array_length(arr) == 0)
		return jerr(j, "ports", "empty: nothing to listen on");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct cfg_port p;

		cfg_port_init(&p);
		if (j_port(j, json_object_array_get_idx(arr, i), jidx(w, "ports", i), cfg, &p) ||
		    (!cfg_add_port(cfg) && jerr(j, NULL, "out of memory"))) {
			nvr_config_port_free(&p);
			return -1;
		}
		cfg->ports[cfg->nr_ports - 1] = p;
	}
	return 0;
}

/* The settings a file may override start as they are in cfg. */
static int cfg_copy_settings(struct nvr_config *dst, const struct nvr_config *src)
{
	for (size_t i = 0; i < cfg_nr_settings; i++)
		if (cfg_setting_copy(&cfg_settings[i], dst, src))
			return -ENOMEM;
	dst->verbose = src->verbose;
	dst->poll = src->poll;
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
	unsigned given = 0;
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
	if (cfg_copy_settings(&tmp, cfg)) {
		jerr(&j, NULL, "out of memory");
		goto out;
	}
	if (j_root(&j, root, &tmp, &given))
		goto out;
	if (cfg_finalize(&tmp, msg, sizeof(msg)) || cfg_settings_check(&tmp, false, given, msg, sizeof(msg))) {
		jerr(&j, NULL, "%s", msg);
		goto out;
	}
	/* Success: the file's topology and settings replace cfg's; config_file stays. */
	tmp.config_file = cfg->config_file;
	cfg->config_file = NULL;
	nvr_config_free(cfg);
	*cfg = tmp;
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

	/* O_NONBLOCK: -c on a FIFO must fail below (not a regular file), not hang in open */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
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
