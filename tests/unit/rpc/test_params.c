/* SPDX-License-Identifier: MIT */
/* Unit tests: the params accessors, their exact messages, and the errno-to-code table. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/size_str.h"
#include "rpc/rpc_priv.h"
#include "tap.h"

static struct rpc_call call;
static json_object *params;

/* A fresh call on params given as JSON text. */
static struct rpc_params *with(const char *json)
{
	rpc_call_fini(&call);
	json_object_put(params);
	params = json_tokener_parse(json);
	if (!params)
		tap_diag("bad test JSON: %s", json);
	rpc_call_init(&call, "m", params);
	return rpc_call_params(&call);
}

/* The call failed with RPC_ERR_INVALID_PARAMS and exactly msg. */
static void failed(int ret, const char *msg, const char *what)
{
	if (!tap_ok(ret == -EINVAL && call.err_code == RPC_ERR_INVALID_PARAMS && !strcmp(call.err_msg, msg),
		    "%s: %s", what, msg))
		tap_diag("ret %d code %d msg '%s'", ret, call.err_code, call.err_msg);
}

static void test_str(void)
{
	struct rpc_params *p;
	const char *s = NULL;

	p = with("{\"nqn\":\"nqn.x\"}");
	tap_ok(!rpc_param_str(p, "nqn", &s) && !strcmp(s, "nqn.x") && !call.err_code, "str: present");
	failed(rpc_param_str(with("{}"), "nqn", &s), "params.nqn: required", "str: absent");
	failed(rpc_param_str(with("{\"nqn\":1}"), "nqn", &s), "params.nqn: expected a string", "str: a number");
	failed(rpc_param_str(with("{\"nqn\":null}"), "nqn", &s), "params.nqn: expected a string", "str: null");
	failed(rpc_param_str(with("{\"nqn\":[\"a\"]}"), "nqn", &s), "params.nqn: expected a string", "str: an array");
	failed(rpc_param_str(with("{\"nqn\":\"a\\u0000b\"}"), "nqn", &s), "params.nqn: contains a NUL character",
	       "str: escaped NUL");
	p = with("{\"x\":null}");
	tap_ok(!rpc_param_str_opt(p, "nqn", "dflt", &s) && !strcmp(s, "dflt"), "str_opt: absent gives the default");
	tap_ok(!rpc_param_str_opt(p, "x", "dflt", &s) && !strcmp(s, "dflt"), "str_opt: null gives the default");
	failed(rpc_param_str_opt(with("{\"nqn\":true}"), "nqn", "d", &s), "params.nqn: expected a string",
	       "str_opt: a boolean");
	p = with("{\"a\":\"x\",\"b\":null}");
	tap_ok(rpc_param_has(p, "a") && !rpc_param_has(p, "b") && !rpc_param_has(p, "c"), "has: present, null, absent");
}

static void test_int(void)
{
	struct rpc_params *p;
	int64_t i = 0;
	uint64_t u = 0;

	p = with("{\"nsid\":5,\"lo\":-9223372036854775808,\"hi\":9223372036854775807}");
	tap_ok(!rpc_param_int(p, "nsid", 1, 10, &i) && i == 5, "int: in range");
	tap_ok(!rpc_param_int(p, "lo", INT64_MIN, INT64_MAX, &i) && i == INT64_MIN, "int: INT64_MIN");
	tap_ok(!rpc_param_int(p, "hi", INT64_MIN, INT64_MAX, &i) && i == INT64_MAX, "int: INT64_MAX");
	failed(rpc_param_int(with("{\"nsid\":0}"), "nsid", 1, 10, &i), "params.nsid: 0 is out of range (1..10)",
	       "int: below");
	failed(rpc_param_int(with("{\"nsid\":11}"), "nsid", 1, 10, &i), "params.nsid: 11 is out of range (1..10)",
	       "int: above");
	failed(rpc_param_int(with("{\"nsid\":-3}"), "nsid", -2, 2, &i), "params.nsid: -3 is out of range (-2..2)",
	       "int: negative below");
	failed(rpc_param_int(with("{\"nsid\":9223372036854775808}"), "nsid", INT64_MIN, INT64_MAX, &i),
	       "params.nsid: 9223372036854775808 is out of range (-9223372036854775808..9223372036854775807)",
	       "int: above INT64_MAX");
	failed(rpc_param_int(with("{\"nsid\":1.5}"), "nsid", 1, 10, &i), "params.nsid: expected an integer", "int: 1.5");
	failed(rpc_param_int(with("{\"nsid\":1.0}"), "nsid", 1, 10, &i), "params.nsid: expected an integer", "int: 1.0");
	failed(rpc_param_int(with("{\"nsid\":\"5\"}"), "nsid", 1, 10, &i), "params.nsid: expected an integer",
	       "int: a string");
	failed(rpc_param_int(with("{\"nsid\":true}"), "nsid", 1, 10, &i), "params.nsid: expected an integer",
	       "int: a boolean");
	failed(rpc_param_int(with("{}"), "nsid", 1, 10, &i), "params.nsid: required", "int: absent");
	p = with("{}");
	tap_ok(!rpc_param_int_opt(p, "nsid", 1, 10, 7, &i) && i == 7, "int_opt: default");
	failed(rpc_param_int_opt(with("{\"nsid\":12}"), "nsid", 1, 10, 7, &i), "params.nsid: 12 is out of range (1..10)",
	       "int_opt: present, out of range");

	p = with("{\"n\":18446744073709551615,\"z\":0}");
	tap_ok(!rpc_param_uint(p, "n", 0, UINT64_MAX, &u) && u == UINT64_MAX, "uint: UINT64_MAX");
	tap_ok(!rpc_param_uint(p, "z", 0, 1, &u) && u == 0, "uint: 0");
	failed(rpc_param_uint(with("{\"n\":-1}"), "n", 0, 100, &u), "params.n: -1 is out of range (0..100)", "uint: -1");
	failed(rpc_param_uint(with("{\"n\":4294967295}"), "n", 1, 4294967294, &u),
	       "params.n: 4294967295 is out of range (1..4294967294)", "uint: nsid 0xffffffff");
	failed(rpc_param_uint(with("{\"n\":\"1\"}"), "n", 0, 100, &u), "params.n: expected an integer", "uint: a string");
	tap_ok(!rpc_param_uint_opt(with("{\"n\":null}"), "n", 0, 100, 42, &u) && u == 42, "uint_opt: null gives the default");
}

static void test_bool(void)
{
	bool b = false;

	tap_ok(!rpc_param_bool(with("{\"ro\":true}"), "ro", &b) && b, "bool: true");
	tap_ok(!rpc_param_bool(with("{\"ro\":false}"), "ro", &b) && !b, "bool: false");
	failed(rpc_param_bool(with("{\"ro\":1}"), "ro", &b), "params.ro: expected a boolean", "bool: 1");
	failed(rpc_param_bool(with("{\"ro\":\"true\"}"), "ro", &b), "params.ro: expected a boolean", "bool: \"true\"");
	tap_ok(!rpc_param_bool_opt(with("{}"), "ro", true, &b) && b, "bool_opt: default");
}

static void test_size(void)
{
	static const struct { const char *json; uint64_t v; } good[] = {
		{ "4096", 4096 }, { "0", 0 }, { "\"512\"", 512 }, { "\"4K\"", 4096 }, { "\"4k\"", 4096 },
		{ "\"1M\"", 1u << 20 }, { "\"2G\"", 2ull << 30 }, { "\"1t\"", 1ull << 40 },
		{ "\"16777215T\"", 16777215ull << 40 }, { "18446744073709551615", UINT64_MAX },
	};
	static const struct { const char *json, *msg; } bad[] = {
		{ "\"\"", "params.size: '' is not a size (digits and K, M, G or T)" },
		{ "\"4KB\"", "params.size: '4KB' is not a size (digits and K, M, G or T)" },
		{ "\"-1\"", "params.size: '-1' is not a size (digits and K, M, G or T)" },
		{ "\" 4K\"", "params.size: ' 4K' is not a size (digits and K, M, G or T)" },
		{ "\"1.5G\"", "params.size: '1.5G' is not a size (digits and K, M, G or T)" },
		{ "\"K\"", "params.size: 'K' is not a size (digits and K, M, G or T)" },
		{ "\"16777216T\"", "params.size: '16777216T' is too large" },
		{ "\"18446744073709551616\"", "params.size: '18446744073709551616' is too large" },
		{ "-1", "params.size: -1 is out of range (0..18446744073709551615)" },
		{ "1.5", "params.size: expected a size (an integer or a string such as \"4G\")" },
		{ "true", "params.size: expected a size (an integer or a string such as \"4G\")" },
		{ "null", "params.size: expected a size (an integer or a string such as \"4G\")" },
	};
	/* The daemon's flag parser and this one must take the same spellings. */
	static const char *const both[] = {
		"0", "1", "4K", "4k", "1M", "3g", "7T", "9t", "", "K", "4KB", "4 K", "-1", "+1", "1.5G", "0x10",
		"18446744073709551615", "18446744073709551616", "16777215T", "16777216T", "1P", "12b",
	};
	char json[128];
	uint64_t v = 0, w = 0;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(json, sizeof(json), "{\"size\":%s}", good[i].json);
		tap_ok(!rpc_param_size(with(json), "size", &v) && v == good[i].v, "size %s = %" PRIu64, good[i].json, good[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"size\":%s}", bad[i].json);
		failed(rpc_param_size(with(json), "size", &v), bad[i].msg, "size");
	}
	for (size_t i = 0; i < sizeof(both) / sizeof(both[0]); i++) {
		int a, b;

		snprintf(json, sizeof(json), "{\"size\":\"%s\"}", both[i]);
		a = rpc_param_size(with(json), "size", &v);
		b = nvr_parse_size(both[i], &w);
		tap_ok((a == 0) == (b == 0) && (a || v == w), "size '%s' as nvr_parse_size: %s", both[i], b ? "refused" : "same value");
	}
	tap_ok(!rpc_param_size_opt(with("{}"), "size", 1234, &v) && v == 1234, "size_opt: default");
}

static void test_object(void)
{
	struct rpc_params *p, ns, ns2;
	const char *s;
	uint64_t v;
	int64_t d;

	p = with("{\"ns\":{\"kind\":\"mem\",\"size\":\"1G\",\"sze\":1}}");
	tap_ok(!rpc_param_object(p, "ns", &ns) && !strcmp(ns.path, "params.ns"), "object: present, path params.ns");
	tap_ok(!rpc_param_str(&ns, "kind", &s) && !rpc_param_size(&ns, "size", &v) && v == 1u << 30, "object: members");
	failed(rpc_params_done(&ns), "params.ns: unknown key 'sze'", "object: unknown key named with its path");
	tap_ok(!rpc_params_done(p), "object: the outer object has no unknown key");

	p = with("{\"ns\":{\"size\":\"1X\"}}");
	rpc_param_object(p, "ns", &ns);
	failed(rpc_param_size(&ns, "size", &v), "params.ns.size: '1X' is not a size (digits and K, M, G or T)",
	       "object: nested path in a message");
	p = with("{\"ns\":{\"opts\":{\"depth\":9}}}");
	rpc_param_object(p, "ns", &ns);
	rpc_param_object(&ns, "opts", &ns2);
	failed(rpc_param_int(&ns2, "depth", 0, 3, &d), "params.ns.opts.depth: 9 is out of range (0..3)", "object: two levels");

	failed(rpc_param_object(with("{\"ns\":[]}"), "ns", &ns), "params.ns: expected an object", "object: an array");
	failed(rpc_param_object(with("{}"), "ns", &ns), "params.ns: required", "object: absent");
	p = with("{}");
	tap_ok(!rpc_param_object_opt(p, "ns", &ns) && !ns.obj && !rpc_params_json(&ns), "object_opt: absent");
	tap_ok(!rpc_param_uint_opt(&ns, "size", 0, 10, 3, &v) && v == 3 && !rpc_params_done(&ns),
	       "object_opt: defaults inside an absent object");
	failed(rpc_param_str(&ns, "kind", &s), "params.ns.kind: required", "object_opt: required inside an absent object");
	failed(rpc_param_object_opt(with("{\"ns\":5}"), "ns", &ns), "params.ns: expected an object", "object_opt: a number");
}

static void test_array(void)
{
	struct rpc_params *p, h;
	struct rpc_array a;
	const char *s;
	int64_t i;
	uint64_t u;

	p = with("{\"hosts\":[\"nqn.a\",7,{\"nqn\":\"b\"},-4]}");
	tap_ok(!rpc_param_array(p, "hosts", &a) && a.len == 4, "array: present, length");
	tap_ok(!rpc_array_str(&a, 0, &s) && !strcmp(s, "nqn.a"), "array: string element");
	failed(rpc_array_str(&a, 1, &s), "params.hosts[1]: expected a string", "array: element index in the message");
	tap_ok(!rpc_array_object(&a, 2, &h) && !strcmp(h.path, "params.hosts[2]"), "array: object element");
	with("{\"hosts\":[{\"x\":1}]}");
	rpc_param_array(rpc_call_params(&call), "hosts", &a);
	rpc_array_object(&a, 0, &h);
	failed(rpc_param_str(&h, "nqn", &s), "params.hosts[0].nqn: required", "array: path through an element");
	p = with("{\"l\":[3,-4]}");
	rpc_param_array(p, "l", &a);
	tap_ok(!rpc_array_int(&a, 1, -5, 5, &i) && i == -4, "array: int element");
	failed(rpc_array_uint(&a, 1, 0, 5, &u), "params.l[1]: -4 is out of range (0..5)", "array: uint element");
	rpc_param_array(with("{\"l\":[3,-4]}"), "l", &a);
	failed(rpc_array_str(&a, 2, &s), "params.l[2]: required", "array: index past the end");
	failed(rpc_param_array(with("{\"l\":{}}"), "l", &a), "params.l: expected an array", "array: an object");
	tap_ok(!rpc_param_array_opt(with("{}"), "l", &a) && a.len == 0, "array_opt: absent is empty");
}

static void test_done(void)
{
	char json[4096], want[256];
	struct rpc_params *p;
	int64_t v;

	p = with("{\"a\":1,\"zz\":2,\"yy\":3}");
	rpc_param_int(p, "a", 0, 9, &v);
	failed(rpc_params_done(p), "params: unknown key 'zz'", "done: the first unknown key");
	p = with("{\"a\":1,\"zz\":2}");
	rpc_param_int(p, "zz", 0, 9, &v);
	rpc_param_int(p, "a", 0, 9, &v);
	tap_ok(!rpc_params_done(p) && !call.err_code, "done: every key read");
	p = with("{\"a\":1}");
	rpc_param_int_opt(p, "b", 0, 9, 0, &v);
	failed(rpc_params_done(p), "params: unknown key 'a'", "done: reading an absent key marks nothing");
	tap_ok(!rpc_params_done(with("{}")), "done: empty");

	/* A client's long key is quoted shortened, cut at a character boundary. */
	strcpy(json, "{\"");
	for (int i = 0; i < 31; i++)
		strcat(json, "\xc3\xa9"); /* é: 62 bytes */
	strcat(json, "abc\":1}");
	p = with(json);
	strcpy(want, "params: unknown key '");
	for (int i = 0; i < 31; i++)
		strcat(want, "\xc3\xa9");
	strcat(want, "ab...'");
	failed(rpc_params_done(p), want, "done: a long key is cut to 64 bytes");
	strcpy(json, "{\"");
	for (int i = 0; i < 32; i++)
		strcat(json, "\xe2\x82\xac"); /* €: 96 bytes; 64 falls inside the 22nd */
	strcat(json, "\":1}");
	p = with(json);
	strcpy(want, "params: unknown key '");
	for (int i = 0; i < 21; i++)
		strcat(want, "\xe2\x82\xac");
	strcat(want, "...'");
	failed(rpc_params_done(p), want, "done: a cut never splits a UTF-8 sequence");

	strcpy(json, "{");
	for (int i = 0; i < 65; i++)
		snprintf(json + strlen(json), sizeof(json) - strlen(json), "%s\"k%d\":%d", i ? "," : "", i, i);
	strcat(json, "}");
	p = with(json);
	for (int i = 0; i < 65; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%d", i);
		rpc_param_int(p, k, 0, 100, &v);
	}
	failed(rpc_params_done(p), "params: more than 64 keys", "done: at most 64 keys");
}

static void test_errors(void)
{
	static const struct { int err, code; } map[] = {
		{ -ENOENT, RPC_ERR_NOT_FOUND }, { -ENODEV, RPC_ERR_NOT_FOUND }, { -EEXIST, RPC_ERR_EXISTS },
		{ -EBUSY, RPC_ERR_BUSY }, { -EINVAL, RPC_ERR_INVALID_PARAMS }, { -ENOTSUP, RPC_ERR_UNSUPPORTED },
		{ -ENOSPC, RPC_ERR_LIMIT }, { -EIO, RPC_ERR_IO }, { -EROFS, RPC_ERR_PERMISSION },
		{ -EACCES, RPC_ERR_PERMISSION }, { -EALREADY, RPC_ERR_STATE }, { -ENOMEM, RPC_ERR_INTERNAL },
		{ -ETIMEDOUT, RPC_ERR_FAILED }, { EEXIST, RPC_ERR_EXISTS },
	};
	struct rpc_params *p;
	int64_t v;
	const char *s;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		tap_eq(rpc_errno_code(map[i].err), map[i].code, "errno %d is code %d", map[i].err, map[i].code);
	with("{}");
	tap_eq(rpc_error_errno(&call, -ENOENT, "open '%s'", "/x"), -ENOENT, "error_errno returns the errno");
	tap_ok(call.err_code == RPC_ERR_NOT_FOUND && !strcmp(call.err_msg, "open '/x': No such file or directory"),
	       "error_errno: code and message with strerror");
	with("{}");
	rpc_error(&call, RPC_ERR_NOT_FOUND, "subsystem '%s' not found", "nqn.a");
	rpc_error(&call, RPC_ERR_BUSY, "second");
	tap_ok(call.err_code == RPC_ERR_NOT_FOUND && !strcmp(call.err_msg, "subsystem 'nqn.a' not found"),
	       "error: the first one set wins");
	p = with("{\"a\":\"x\",\"b\":\"y\"}");
	rpc_param_int(p, "a", 0, 1, &v);
	rpc_param_str(p, "c", &s);
	tap_ok(!strcmp(call.err_msg, "params.a: expected an integer"), "params: the first failing accessor names the item");

	json_object *r = rpc_result_object(&call);
	tap_ok(r && r == rpc_result_object(&call), "result_object: created once");
	tap_ok(json_object_is_type(rpc_result_array(&call), json_type_array), "result_array replaces an object result");
}

int main(void)
{
	test_str();
	test_int();
	test_bool();
	test_size();
	test_object();
	test_array();
	test_done();
	test_errors();
	rpc_call_fini(&call);
	json_object_put(params);
	return tap_done();
}
