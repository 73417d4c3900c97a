/* SPDX-License-Identifier: MIT */
#include "rpcc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpc/rpc_client.h"
#include "tap.h"

const char *rc_socket_path(const char *tag)
{
	static char path[108];

	snprintf(path, sizeof(path), "/tmp/nvring-%s-%d.sock", tag, (int)getpid());
	unlink(path);
	return path;
}

static void rc_vcall(const char *sock, struct rc_reply *r, const char *method, const char *fmt, va_list ap)
{
	struct rpc_client *cl = NULL;
	json_object *params = NULL;
	struct rpc_reply rep;
	char *text = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	r->code = -1;
	if (fmt && vasprintf(&text, fmt, ap) < 0) {
		snprintf(r->msg, sizeof(r->msg), "out of memory");
		return;
	}
	if (text && !(params = json_tokener_parse(text))) {
		snprintf(r->msg, sizeof(r->msg), "test bug: params are not JSON: %s", text);
		free(text);
		return;
	}
	free(text);
	ret = rpc_client_open(sock, RC_TIMEOUT_MS, &cl);
	if (ret < 0) {
		snprintf(r->msg, sizeof(r->msg), "connect %s: %s", sock, strerror(-ret));
		json_object_put(params);
		return;
	}
	ret = rpc_client_call(cl, method, params, RC_TIMEOUT_MS, &rep);
	json_object_put(params);
	rpc_client_close(cl);
	if (ret < 0) {
		snprintf(r->msg, sizeof(r->msg), "%s: no answer: %s", method, strerror(-ret));
		return;
	}
	r->code = rep.code;
	if (rep.code)
		snprintf(r->msg, sizeof(r->msg), "%s", rep.message ? rep.message : "");
	else
		r->result = json_object_get(rep.result);
	rpc_reply_free(&rep);
}

void rc_call(const char *sock, struct rc_reply *r, const char *method, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc_vcall(sock, r, method, fmt, ap);
	va_end(ap);
}

void rc_free(struct rc_reply *r)
{
	json_object_put(r->result);
	r->result = NULL;
}

json_object *rc_ok(const char *sock, const char *method, const char *fmt, ...)
{
	struct rc_reply r;
	va_list ap;

	va_start(ap, fmt);
	rc_vcall(sock, &r, method, fmt, ap);
	va_end(ap);
	if (r.code) {
		tap_diag("%s: error %d: %s", method, r.code, r.msg);
		return NULL;
	}
	return r.result;
}

bool rc_fails(const char *sock, int code, const char *msg, const char *method, const char *fmt, ...)
{
	struct rc_reply r;
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	rc_vcall(sock, &r, method, fmt, ap);
	va_end(ap);
	ok = r.code == code && !strcmp(r.msg, msg);
	if (!ok)
		tap_diag("%s: expected %d '%s', got %d '%s'", method, code, msg, r.code,
			 r.code ? r.msg : json_object_to_json_string(r.result));
	rc_free(&r);
	return ok;
}

char *rc_config(const char *sock)
{
	json_object *cfg = rc_ok(sock, "config_get", NULL);
	char *s;

	if (!cfg)
		return strdup("(config_get failed)");
	s = strdup(json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN));
	json_object_put(cfg);
	return s;
}

json_object *rc_get(json_object *o, const char *path)
{
	char key[128];

	while (o && *path) {
		size_t n = strcspn(path, ".[");

		if (n) {
			snprintf(key, sizeof(key), "%.*s", (int)n, path);
			if (!json_object_object_get_ex(o, key, &o))
				return NULL;
			path += n;
		} else if (*path == '[') {
			char *end;
			long i = strtol(path + 1, &end, 10);

			if (*end != ']' || !json_object_is_type(o, json_type_array) ||
			    i < 0 || (size_t)i >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, (size_t)i);
			path = end + 1;
		}
		if (*path == '.')
			path++;
	}
	return o;
}

int64_t rc_int(json_object *o, const char *path)
{
	json_object *v = rc_get(o, path);

	return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		       ? json_object_get_int64(v)
		       : -1;
}

const char *rc_str(json_object *o, const char *path)
{
	json_object *v = rc_get(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}
