/* SPDX-License-Identifier: MIT */
/*
 * One parsed JSON-RPC 2.0 request (or batch) to its response: validate the envelope, find the
 * method, run it, wrap its result or error. Also the built-in rpc_get_methods.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rpc/rpc_priv.h"

#define RPC_BUILTIN_METHODS "rpc_get_methods"

/* Drop a trailing partial UTF-8 sequence (after a cut), so that the message stays valid UTF-8. */
static void rpc_utf8_trim(char *s, size_t len)
{
	size_t i = len, cont = 0;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		cont++;
	}
	if (i > 0 && ((unsigned char)s[i - 1] & 0x80)) {
		unsigned char lead = (unsigned char)s[i - 1];
		size_t need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : 1;

		if (cont < need)
			s[i - 1] = '\0';
	}
}

const char *rpc_quote(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	if (n <= RPC_QUOTE_MAX && n < size) {
		memcpy(buf, s, n + 1);
		return buf;
	}
	n = RPC_QUOTE_MAX < size - 4 ? RPC_QUOTE_MAX : size - 4;
	memcpy(buf, s, n);
	buf[n] = '\0';
	rpc_utf8_trim(buf, n);
	strcat(buf, "...");
	return buf;
}

static void rpc_verror(struct rpc_call *call, int code, const char *fmt, va_list ap)
{
	int n;

	if (call->err_code)
		return;
	call->err_code = code;
	n = vsnprintf(call->err_msg, sizeof(call->err_msg), fmt, ap);
	if (n >= (int)sizeof(call->err_msg))
		rpc_utf8_trim(call->err_msg, sizeof(call->err_msg) - 1);
}

int rpc_error(struct rpc_call *call, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rpc_verror(call, code, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int rpc_errno_code(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOENT: case ENODEV: case ENXIO: return RPC_ERR_NOT_FOUND;
	case EEXIST: case EADDRINUSE: return RPC_ERR_EXISTS;
	case EBUSY: case EAGAIN: return RPC_ERR_BUSY;
	case EINVAL: case ERANGE: case ENAMETOOLONG: return RPC_ERR_INVALID_PARAMS;
	case ENOTSUP: case ENOSYS: case EPROTONOSUPPORT: return RPC_ERR_UNSUPPORTED;
	case ENOSPC: case EMFILE: case ENFILE: case E2BIG: return RPC_ERR_LIMIT;
	case EIO: case ENOTBLK: case EISDIR: case ENOTDIR: return RPC_ERR_IO;
	case EACCES: case EPERM: case EROFS: return RPC_ERR_PERMISSION;
	case EALREADY: case EINPROGRESS: return RPC_ERR_STATE;
	case ENOMEM: return RPC_ERR_INTERNAL;
	default: return RPC_ERR_FAILED;
	}
}

int rpc_error_errno(struct rpc_call *call, int err, const char *fmt, ...)
{
	char msg[RPC_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rpc_error(call, rpc_errno_code(err), "%s: %s", msg, strerror(err < 0 ? -err : err));
	return err < 0 ? err : -err;
}

json_object *rpc_result_object(struct rpc_call *call)
{
	if (!json_object_is_type(call->result, json_type_object))
		rpc_result_set(call, json_object_new_object());
	return call->result;
}

json_object *rpc_result_array(struct rpc_call *call)
{
	if (!json_object_is_type(call->result, json_type_array))
		rpc_result_set(call, json_object_new_array());
	return call->result;
}

void rpc_result_set(struct rpc_call *call, json_object *result)
{
	json_object_put(call->result);
	call->result = result;
}

void rpc_call_init(struct rpc_call *call, const char *method, json_object *params)
{
	memset(call, 0, sizeof(*call));
	call->method = method;
	call->params = params;
	call->top.call = call;
	call->top.obj = params;
	strcpy(call->top.path, "params");
}

void rpc_call_fini(struct rpc_call *call)
{
	json_object_put(call->result);
	call->result = NULL;
}

struct rpc_params *rpc_call_params(struct rpc_call *call)
{
	return &call->top;
}

const char *rpc_call_method(const struct rpc_call *call)
{
	return call->method;
}

static void rpc_describe(json_object *list, const struct rpc_method *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(m->name));
	json_object_object_add(o, "description", json_object_new_string(m->help ? m->help : ""));
	json_object_object_add(o, "params", json_object_new_string(m->params ? m->params : ""));
	json_object_array_add(list, o);
}

static const struct rpc_method rpc_builtin;

static int rpc_get_methods(struct rpc_call *call, void *ctx)
{
	const struct rpc_registry *reg = ctx;
	json_object *list;

	if (rpc_params_done(rpc_call_params(call)))
		return -EINVAL;
	list = rpc_result_array(call);
	for (const struct rpc_method *m = reg->methods; m && m->name; m++)
		rpc_describe(list, m);
	rpc_describe(list, &rpc_builtin);
	return 0;
}

static const struct rpc_method rpc_builtin = {
	RPC_BUILTIN_METHODS, rpc_get_methods, "list the methods with their params", NULL,
};

int rpc_registry_check(const struct rpc_method *methods, char *err, size_t errlen)
{
	for (const struct rpc_method *m = methods; m && m->name; m++) {
		if (!*m->name || !m->fn) {
			snprintf(err, errlen, "rpc: method '%s' has no %s", m->name, *m->name ? "handler" : "name");
			return -EINVAL;
		}
		if (!strcmp(m->name, RPC_BUILTIN_METHODS)) {
			snprintf(err, errlen, "rpc: method '%s' is built in", m->name);
			return -EINVAL;
		}
		for (const struct rpc_method *o = methods; o < m; o++)
			if (!strcmp(o->name, m->name)) {
				snprintf(err, errlen, "rpc: method '%s' is defined twice", m->name);
				return -EINVAL;
			}
	}
	return 0;
}

static const struct rpc_method *rpc_find(const struct rpc_registry *reg, json_object *name)
{
	const char *s = json_object_get_string(name);
	size_t len = (size_t)json_object_get_string_len(name);

	if (strlen(s) != len) /* an escaped NUL never names a method */
		return NULL;
	if (!strcmp(s, rpc_builtin.name))
		return &rpc_builtin;
	for (const struct rpc_method *m = reg->methods; m && m->name; m++)
		if (!strcmp(s, m->name))
			return m;
	return NULL;
}

/* {"jsonrpc":"2.0","id":ID,<key>:val}; takes val, borrows id (NULL: null). */
static json_object *rpc_response(json_object *id, const char *key, json_object *val)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(r, "id", json_object_get(id));
	json_object_object_add(r, key, val);
	return r;
}

static json_object *rpc_error_for(json_object *id, int code, const char *msg)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	return rpc_response(id, "error", e);
}

json_object *rpc_error_response(int code, const char *msg)
{
	return rpc_error_for(NULL, code, msg);
}

static bool rpc_id_valid(json_object *id)
{
	switch (json_object_get_type(id)) {
	case json_type_null: case json_type_int: case json_type_double: case json_type_string:
		return true;
	default:
		return false;
	}
}

static json_object *rpc_run(const struct rpc_registry *reg, const struct rpc_method *m,
			    json_object *params, json_object *id)
{
	struct rpc_call call;
	json_object *resp;
	int ret;

	rpc_call_init(&call, m->name, params);
	ret = m->fn(&call, m == &rpc_builtin ? (void *)reg : reg->ctx);
	if (ret && !call.err_code)
		rpc_error(&call, RPC_ERR_INTERNAL, "method '%s' failed (%d)", m->name, ret);
	if (call.err_code) {
		resp = rpc_error_for(id, call.err_code, call.err_msg);
	} else {
		resp = rpc_response(id, "result", call.result ? call.result : json_object_new_boolean(1));
		call.result = NULL;
	}
	rpc_call_fini(&call);
	return resp;
}

static json_object *rpc_dispatch_one(const struct rpc_registry *reg, json_object *req)
{
	json_object *id = NULL, *ver, *method, *params = NULL, *resp, *empty = NULL;
	const struct rpc_method *m;
	bool has_id;
	char msg[RPC_MSG_MAX], q[RPC_QUOTE_MAX + 4];

	if (!json_object_is_type(req, json_type_object))
		return rpc_error_for(NULL, RPC_ERR_INVALID_REQUEST, "invalid request: expected an object");
	has_id = json_object_object_get_ex(req, "id", &id);
	if (has_id && !rpc_id_valid(id))
		return rpc_error_for(NULL, RPC_ERR_INVALID_REQUEST,
				     "invalid request: id must be a string, a number or null");
	if (!json_object_object_get_ex(req, "jsonrpc", &ver) || !json_object_is_type(ver, json_type_string) ||
	    strcmp(json_object_get_string(ver), "2.0"))
		return rpc_error_for(id, RPC_ERR_INVALID_REQUEST, "invalid request: jsonrpc must be \"2.0\"");
	if (!json_object_object_get_ex(req, "method", &method) || !json_object_is_type(method, json_type_string))
		return rpc_error_for(id, RPC_ERR_INVALID_REQUEST, "invalid request: method must be a string");
	json_object_object_get_ex(req, "params", &params);
	if (params && !json_object_is_type(params, json_type_object) && !json_object_is_type(params, json_type_array))
		return rpc_error_for(id, RPC_ERR_INVALID_REQUEST,
				     "invalid request: params must be an object or an array");

	m = rpc_find(reg, method);
	if (!m) {
		snprintf(msg, sizeof(msg), "unknown method '%s'", rpc_quote(json_object_get_string(method), q, sizeof(q)));
		resp = rpc_error_for(id, RPC_ERR_METHOD_NOT_FOUND, msg);
	} else if (json_object_is_type(params, json_type_array) && json_object_array_length(params)) {
		resp = rpc_error_for(id, RPC_ERR_INVALID_PARAMS, "params: expected an object (named parameters)");
	} else {
		if (!json_object_is_type(params, json_type_object))
			params = empty = json_object_new_object();
		resp = rpc_run(reg, m, params, id);
		json_object_put(empty);
	}
	if (!has_id) { /* a notification: never answered, not even its errors */
		json_object_put(resp);
		return NULL;
	}
	return resp;
}

json_object *rpc_dispatch(const struct rpc_registry *reg, json_object *req)
{
	json_object *out;
	size_t n;

	if (!json_object_is_type(req, json_type_array))
		return rpc_dispatch_one(reg, req);
	n = json_object_array_length(req);
	if (!n)
		return rpc_error_for(NULL, RPC_ERR_INVALID_REQUEST, "invalid request: empty batch");
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *r = rpc_dispatch_one(reg, json_object_array_get_idx(req, i));

		if (r)
			json_object_array_add(out, r);
	}
	if (!json_object_array_length(out)) { /* only notifications */
		json_object_put(out);
		return NULL;
	}
	return out;
}
