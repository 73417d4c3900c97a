/* SPDX-License-Identifier: MIT */
/*
 * Typed access to a request's params. Every failure sets RPC_ERR_INVALID_PARAMS with a message
 * that starts with the item's path ("params.ns.size: ..."), so a script's author sees which
 * item was wrong. A JSON null counts as absent for the optional accessors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rpc/rpc_priv.h"
#include "util/size_str.h"

#define RPC_PARAMS_MAX_KEYS 64 /* the width of rpc_params.seen */

static int pv_fail(struct rpc_call *c, const char *path, const char *what)
{
	return rpc_error(c, RPC_ERR_INVALID_PARAMS, "%s: %s", path, what);
}

/* The value as JSON text, shortened, for "... is out of range" messages. */
static const char *pv_text(json_object *v, char *buf, size_t size)
{
	return rpc_quote(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), buf, size);
}

static int pv_str(struct rpc_call *c, const char *path, json_object *v, const char **out)
{
	if (!json_object_is_type(v, json_type_string))
		return pv_fail(c, path, "expected a string");
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return pv_fail(c, path, "contains a NUL character");
	*out = json_object_get_string(v);
	return 0;
}

/* An integer as sign + magnitude: json-c keeps values above INT64_MAX as uint64. */
static int pv_integer(struct rpc_call *c, const char *path, json_object *v, bool *neg, uint64_t *mag)
{
	int64_t s;

	if (!json_object_is_type(v, json_type_int))
		return pv_fail(c, path, "expected an integer");
	s = json_object_get_int64(v);
	*neg = s < 0;
	if (s == INT64_MAX)
		*mag = json_object_get_uint64(v);
	else
		*mag = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
	return 0;
}

static int pv_range_fail(struct rpc_call *c, const char *path, json_object *v, const char *min, const char *max)
{
	char t[RPC_QUOTE_MAX + 4];

	return rpc_error(c, RPC_ERR_INVALID_PARAMS, "%s: %s is out of range (%s..%s)", path,
			 pv_text(v, t, sizeof(t)), min, max);
}

static int pv_int(struct rpc_call *c, const char *path, json_object *v, int64_t min, int64_t max, int64_t *out)
{
	char lo[24], hi[24];
	uint64_t mag = 0;
	bool neg = false;
	int64_t x;

	if (pv_integer(c, path, v, &neg, &mag))
		return -EINVAL;
	x = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	if ((!neg && mag > (uint64_t)INT64_MAX) || x < min || x > max) {
		snprintf(lo, sizeof(lo), "%" PRId64, min);
		snprintf(hi, sizeof(hi), "%" PRId64, max);
		return pv_range_fail(c, path, v, lo, hi);
	}
	*out = x;
	return 0;
}

static int pv_uint(struct rpc_call *c, const char *path, json_object *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char lo[24], hi[24];
	uint64_t mag = 0;
	bool neg = false;

	if (pv_integer(c, path, v, &neg, &mag))
		return -EINVAL;
	if (neg || mag < min || mag > max) {
		snprintf(lo, sizeof(lo), "%" PRIu64, min);
		snprintf(hi, sizeof(hi), "%" PRIu64, max);
		return pv_range_fail(c, path, v, lo, hi);
	}
	*out = mag;
	return 0;
}

static int pv_size(struct rpc_call *c, const char *path, json_object *v, uint64_t *out)
{
	char t[RPC_QUOTE_MAX + 4];
	const char *s = "";
	int ret;

	if (json_object_is_type(v, json_type_int))
		return pv_uint(c, path, v, 0, UINT64_MAX, out);
	if (!json_object_is_type(v, json_type_string))
		return pv_fail(c, path, "expected a size (an integer or a string such as \"4G\")");
	if (pv_str(c, path, v, &s))
		return -EINVAL;
	ret = nvr_parse_size(s, out);
	if (ret)
		return rpc_error(c, RPC_ERR_INVALID_PARAMS, "%s: '%s' is %s", path, rpc_quote(s, t, sizeof(t)),
				 ret == -ERANGE ? "too large" : "not a size (digits and K, M, G or T)");
	return 0;
}

static int pv_bool(struct rpc_call *c, const char *path, json_object *v, bool *out)
{
	if (!json_object_is_type(v, json_type_boolean))
		return pv_fail(c, path, "expected a boolean");
	*out = json_object_get_boolean(v);
	return 0;
}

/* An item's path for messages; a path longer than RPC_PATH_MAX is cut (it stays readable). */
static void pv_path(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pv_path(char *dst, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, RPC_PATH_MAX, fmt, ap);
	va_end(ap);
}

static void pv_join(char *dst, const char *path, const char *key)
{
	pv_path(dst, "%s.%s", path, key);
}

static int pv_object(struct rpc_call *c, const char *path, json_object *v, struct rpc_params *sub)
{
	if (!json_object_is_type(v, json_type_object))
		return pv_fail(c, path, "expected an object");
	sub->call = c;
	sub->obj = v;
	sub->seen = 0;
	pv_path(sub->path, "%s", path);
	return 0;
}

/* The value of key, marking it read; NULL when absent. */
static json_object *pk_get(struct rpc_params *p, const char *key, bool *present)
{
	unsigned i = 0;

	*present = false;
	if (!p->obj)
		return NULL;
	json_object_object_foreach(p->obj, k, v) {
		if (!strcmp(k, key)) {
			if (i < RPC_PARAMS_MAX_KEYS)
				p->seen |= 1ull << i;
			*present = true;
			return v;
		}
		i++;
	}
	return NULL;
}

/* Optional: the value, or NULL when absent or null. */
static json_object *pk_want(struct rpc_params *p, const char *key, char *path)
{
	bool present;

	pv_join(path, p->path, key);
	return pk_get(p, key, &present);
}

json_object *rpc_params_json(struct rpc_params *p)
{
	return p->obj;
}

bool rpc_param_has(struct rpc_params *p, const char *key)
{
	json_object *v;

	if (!p->obj || !json_object_object_get_ex(p->obj, key, &v))
		return false;
	return v != NULL;
}

#define RPC_REQUIRED(p, key, conv, ...)                                         \
	do {                                                                    \
		char path_[RPC_PATH_MAX];                                       \
		bool present_;                                                  \
		json_object *v_ = pk_get(p, key, &present_);                    \
		pv_join(path_, (p)->path, key);                                 \
		if (!present_)                                                  \
			return pv_fail((p)->call, path_, "required");           \
		return conv((p)->call, path_, v_, __VA_ARGS__);                 \
	} while (0)

#define RPC_OPTIONAL(p, key, def, out, conv, ...)                               \
	do {                                                                    \
		char path_[RPC_PATH_MAX];                                       \
		json_object *v_ = pk_want(p, key, path_);                       \
		if (!v_) {                                                      \
			*(out) = (def);                                         \
			return 0;                                               \
		}                                                               \
		return conv((p)->call, path_, v_, __VA_ARGS__);                 \
	} while (0)

int rpc_param_str(struct rpc_params *p, const char *key, const char **out)
{
	RPC_REQUIRED(p, key, pv_str, out);
}

int rpc_param_str_opt(struct rpc_params *p, const char *key, const char *def, const char **out)
{
	RPC_OPTIONAL(p, key, def, out, pv_str, out);
}

int rpc_param_int(struct rpc_params *p, const char *key, int64_t min, int64_t max, int64_t *out)
{
	RPC_REQUIRED(p, key, pv_int, min, max, out);
}

int rpc_param_int_opt(struct rpc_params *p, const char *key, int64_t min, int64_t max, int64_t def, int64_t *out)
{
	RPC_OPTIONAL(p, key, def, out, pv_int, min, max, out);
}

int rpc_param_uint(struct rpc_params *p, const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	RPC_REQUIRED(p, key, pv_uint, min, max, out);
}

int rpc_param_uint_opt(struct rpc_params *p, const char *key, uint64_t min, uint64_t max, uint64_t def, uint64_t *out)
{
	RPC_OPTIONAL(p, key, def, out, pv_uint, min, max, out);
}

int rpc_param_bool(struct rpc_params *p, const char *key, bool *out)
{
	RPC_REQUIRED(p, key, pv_bool, out);
}

int rpc_param_bool_opt(struct rpc_params *p, const char *key, bool def, bool *out)
{
	RPC_OPTIONAL(p, key, def, out, pv_bool, out);
}

int rpc_param_size(struct rpc_params *p, const char *key, uint64_t *out)
{
	RPC_REQUIRED(p, key, pv_size, out);
}

int rpc_param_size_opt(struct rpc_params *p, const char *key, uint64_t def, uint64_t *out)
{
	RPC_OPTIONAL(p, key, def, out, pv_size, out);
}

int rpc_param_object(struct rpc_params *p, const char *key, struct rpc_params *sub)
{
	RPC_REQUIRED(p, key, pv_object, sub);
}

int rpc_param_object_opt(struct rpc_params *p, const char *key, struct rpc_params *sub)
{
	char path[RPC_PATH_MAX];
	json_object *v = pk_want(p, key, path);

	if (!v) {
		sub->call = p->call;
		sub->obj = NULL;
		sub->seen = 0;
		pv_path(sub->path, "%s", path);
		return 0;
	}
	return pv_object(p->call, path, v, sub);
}

static int pv_array(struct rpc_call *c, const char *path, json_object *v, struct rpc_array *a)
{
	if (!json_object_is_type(v, json_type_array))
		return pv_fail(c, path, "expected an array");
	a->call = c;
	a->arr = v;
	a->len = json_object_array_length(v);
	pv_path(a->path, "%s", path);
	return 0;
}

int rpc_param_array(struct rpc_params *p, const char *key, struct rpc_array *a)
{
	RPC_REQUIRED(p, key, pv_array, a);
}

int rpc_param_array_opt(struct rpc_params *p, const char *key, struct rpc_array *a)
{
	char path[RPC_PATH_MAX];
	json_object *v = pk_want(p, key, path);

	if (!v) {
		a->call = p->call;
		a->arr = NULL;
		a->len = 0;
		pv_path(a->path, "%s", path);
		return 0;
	}
	return pv_array(p->call, path, v, a);
}

int rpc_param_json(struct rpc_params *p, const char *key, json_object **out)
{
	bool present;

	*out = pk_get(p, key, &present);
	return 0;
}

int rpc_params_done(struct rpc_params *p)
{
	char q[RPC_QUOTE_MAX + 4];
	unsigned i = 0;

	if (!p->obj)
		return 0;
	json_object_object_foreach(p->obj, k, v) {
		(void)v;
		if (i >= RPC_PARAMS_MAX_KEYS)
			return rpc_error(p->call, RPC_ERR_INVALID_PARAMS, "%s: more than %d keys", p->path,
					 RPC_PARAMS_MAX_KEYS);
		if (!(p->seen & (1ull << i)))
			return rpc_error(p->call, RPC_ERR_INVALID_PARAMS, "%s: unknown key '%s'", p->path,
					 rpc_quote(k, q, sizeof(q)));
		i++;
	}
	return 0;
}

/* ---- array elements ---- */

static json_object *pa_get(struct rpc_array *a, size_t i, char *path)
{
	pv_path(path, "%s[%zu]", a->path, i);
	if (i >= a->len) {
		pv_fail(a->call, path, "required");
		return NULL;
	}
	return json_object_array_get_idx(a->arr, i);
}

#define RPC_ELEMENT(a, i, conv, ...)                                            \
	do {                                                                    \
		char path_[RPC_PATH_MAX];                                       \
		json_object *v_ = pa_get(a, i, path_);                          \
		if (i >= (a)->len)                                              \
			return -EINVAL;                                         \
		return conv((a)->call, path_, v_, __VA_ARGS__);                 \
	} while (0)

int rpc_array_str(struct rpc_array *a, size_t i, const char **out)
{
	RPC_ELEMENT(a, i, pv_str, out);
}

int rpc_array_int(struct rpc_array *a, size_t i, int64_t min, int64_t max, int64_t *out)
{
	RPC_ELEMENT(a, i, pv_int, min, max, out);
}

int rpc_array_uint(struct rpc_array *a, size_t i, uint64_t min, uint64_t max, uint64_t *out)
{
	RPC_ELEMENT(a, i, pv_uint, min, max, out);
}

int rpc_array_object(struct rpc_array *a, size_t i, struct rpc_params *sub)
{
	RPC_ELEMENT(a, i, pv_object, sub);
}
