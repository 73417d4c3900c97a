/* SPDX-License-Identifier: MIT */
/* Typed access to JSON members, each error naming its location. */
#include "json_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

int jerr(struct jctx *j, const char *where, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!j->name)
		return cfg_err(j->err, j->errlen, "%s%s%s", where ? where : "", where && *where ? ": " : "",
			       msg);
	if (where && *where)
		return cfg_err(j->err, j->errlen, "%s: %s: %s", j->name, where, msg);
	return cfg_err(j->err, j->errlen, "%s: %s", j->name, msg);
}

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

const char *jkey(char buf[JPATH], const char *base, const char *key)
{
	return jcat(buf, base, *base ? "." : "", key);
}

const char *jidx(char buf[JPATH], const char *base, size_t i)
{
	char num[24];

	snprintf(num, sizeof(num), "[%zu]", i);
	return jcat(buf, base, num, "");
}

int j_keys(struct jctx *j, json_object *o, const char *where, const char *const *allowed)
{
	json_object_object_foreach(o, key, val) {
		size_t i;
		char w[JPATH], list[512] = "";

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

int j_type(struct jctx *j, json_object *v, json_type t, const char *where)
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

json_object *j_member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

int j_get(struct jctx *j, json_object *o, const char *key, json_type t, const char *where,
	  bool required, json_object **out)
{
	char w[JPATH];

	*out = j_member(o, key);
	if (!*out)
		return required ? jerr(j, jkey(w, where, key), "missing") : 0;
	return j_type(j, *out, t, jkey(w, where, key));
}

int j_uint(struct jctx *j, json_object *v, const char *where, uint64_t min, uint64_t max, uint64_t *out)
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

int j_bool(struct jctx *j, json_object *v, const char *where, bool *out)
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

int j_unsupported(struct jctx *j, json_object *o, const char *key, const char *where, const char *what)
{
	json_object *v = j_member(o, key);
	char w[JPATH];
	bool on = false;

	if (!v)
		return 0;
	if (j_bool(j, v, jkey(w, where, key), &on))
		return -1;
	return on ? jerr(j, w, "%s is not supported", what) : 0;
}

int j_ascii(struct jctx *j, json_object *o, const char *key, const char *where, char *dst, size_t size)
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

int j_nqn(struct jctx *j, json_object *v, const char *where, const char **out)
{
	char msg[256];

	if (j_type(j, v, json_type_string, where))
		return -1;
	*out = json_object_get_string(v);
	if (cfg_nqn_check(*out, msg, sizeof(msg)))
		return jerr(j, where, "'%s': %s", *out, msg);
	return 0;
}
