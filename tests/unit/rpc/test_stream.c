/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: framing and dispatch without a socket. Bytes go into rpc_stream_feed in pieces of
 * every size; the responses must be the same bytes whatever the pieces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_priv.h"
#include "tap.h"

static int m_echo(struct rpc_call *c, void *ctx)
{
	(void)ctx;
	rpc_result_set(c, json_object_get(rpc_params_json(rpc_call_params(c))));
	return 0;
}

static int m_add(struct rpc_call *c, void *ctx)
{
	struct rpc_params *p = rpc_call_params(c);
	int64_t a, b;

	(void)ctx;
	if (rpc_param_int(p, "a", -1000, 1000, &a) || rpc_param_int(p, "b", -1000, 1000, &b) || rpc_params_done(p))
		return -EINVAL;
	rpc_result_set(c, json_object_new_int64(a + b));
	return 0;
}

static int m_nothing(struct rpc_call *c, void *ctx)
{
	(void)c;
	(*(int *)ctx)++;
	return 0;
}

static int m_crash(struct rpc_call *c, void *ctx)
{
	(void)c;
	(void)ctx;
	return -EIO;
}

static int m_missing(struct rpc_call *c, void *ctx)
{
	(void)ctx;
	return rpc_error(c, RPC_ERR_NOT_FOUND, "subsystem '%s' not found", "nqn.x");
}

static int calls;
static const struct rpc_method methods[] = {
	{ "echo", m_echo, "return the params", "any" },
	{ "add", m_add, "a + b", "a, b" },
	{ "nothing", m_nothing, "count calls", NULL },
	{ "crash", m_crash, NULL, NULL },
	{ "missing", m_missing, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct rpc_registry reg = { methods, &calls };

struct fed {
	char *out;     /* responses, NUL-terminated */
	int ret;       /* the last rpc_stream_feed result */
	size_t used;   /* input bytes consumed */
};

/* Feed in, piece bytes at a time (0: all at once), with no backpressure. */
static struct fed feed(const char *in, size_t len, size_t piece, size_t max_request)
{
	struct rpc_stream s;
	struct rpc_buf out = { 0 };
	struct fed f = { 0 };
	size_t off = 0;

	rpc_stream_init(&s, &reg, max_request ? max_request : 1u << 20);
	while (off < len && f.ret == RPC_STREAM_OK) {
		size_t n = piece && piece < len - off ? piece : len - off, used = 0;

		f.ret = rpc_stream_feed(&s, in + off, n, &used, &out, 1u << 30);
		if (f.ret == RPC_STREAM_OK && used != n)
			tap_diag("feed used %zu of %zu", used, n);
		off += used;
	}
	rpc_buf_append(&out, "", 1);
	f.out = strdup(out.data + out.off);
	f.used = off;
	rpc_buf_free(&out);
	rpc_stream_fini(&s);
	return f;
}

/* in answered by exactly want, whatever the pieces. */
static void exchange(const char *in, const char *want, const char *what)
{
	static const size_t pieces[] = { 0, 1, 2, 3, 7, 64 };
	bool same = true;
	struct fed f = feed(in, strlen(in), 0, 0);

	if (!tap_ok(!strcmp(f.out, want) && f.ret == RPC_STREAM_OK, "%s", what))
		tap_diag("got '%s' (ret %d)\n#   want '%s'", f.out, f.ret, want);
	free(f.out);
	for (size_t i = 1; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		f = feed(in, strlen(in), pieces[i], 0);
		same &= !strcmp(f.out, want);
		free(f.out);
	}
	tap_ok(same, "%s: the same in pieces of 1, 2, 3, 7, 64 bytes", what);
}

#define ERR(id, code, msg) "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"error\":{\"code\":" #code ",\"message\":\"" msg "\"}}\n"
#define RES(id, res) "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"result\":" res "}\n"

static void test_requests(void)
{
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":{\"a\":[1,\"x\"],\"b\":{\"c\":null}}}",
		 RES("1", "{\"a\":[1,\"x\"],\"b\":{\"c\":null}}"), "echo");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"add\",\"params\":{\"a\":2,\"b\":3}}",
		 RES("\"abc\"", "5"), "a string id is echoed");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"add\",\"params\":{\"a\":2,\"b\":3}}",
		 RES("null", "5"), "id null is answered with id null");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":2.5,\"method\":\"add\",\"params\":{\"a\":2,\"b\":3}}",
		 RES("2.5", "5"), "a fractional id is echoed as sent");
	exchange("{\"method\":\"add\",\"params\":{\"b\":1,\"a\":1},\"id\":7,\"jsonrpc\":\"2.0\"}",
		 RES("7", "2"), "members in any order");
	exchange(" \n\t{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":{\"a\":1,\"b\":1}}\r\n"
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"add\",\"params\":{\"a\":2,\"b\":2}}"
		 "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"add\",\"params\":{\"a\":3,\"b\":3}}\n\n",
		 RES("1", "2") RES("2", "4") RES("3", "6"), "pipelined requests answered in order");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nothing\"}", RES("1", "true"),
		 "no params, no result: true");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nothing\",\"params\":[]}", RES("1", "true"),
		 "empty positional params are no params");

	calls = 0;
	exchange("{\"jsonrpc\":\"2.0\",\"method\":\"nothing\"}{\"jsonrpc\":\"2.0\",\"method\":\"nosuch\"}"
		 "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":\"x\"}}", "",
		 "notifications get no response, not even errors");
	tap_eq(calls, 6, "the notification ran (once per feeding)");
}

static void test_errors(void)
{
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ns_ad\"}", ERR("1", -32601, "unknown method 'ns_ad'"),
		 "unknown method");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\\u0000x\"}",
		 ERR("1", -32601, "unknown method 'echo'"), "a method name with an escaped NUL is not found");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":{\"a\":1,\"b\":\"2\"}}",
		 ERR("1", -32602, "params.b: expected an integer"), "invalid params");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":{\"a\":1,\"b\":2,\"c\":3}}",
		 ERR("1", -32602, "params: unknown key 'c'"), "unknown key");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":[1,2]}",
		 ERR("1", -32602, "params: expected an object (named parameters)"), "positional params");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"missing\"}",
		 ERR("1", 1001, "subsystem 'nqn.x' not found"), "application error");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"crash\"}",
		 ERR("1", -32603, "method 'crash' failed (-5)"), "a handler failing without a message: internal error");
	exchange("{\"id\":1,\"method\":\"add\"}", ERR("1", -32600, "invalid request: jsonrpc must be \\\"2.0\\\""),
		 "no jsonrpc member");
	exchange("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"add\"}",
		 ERR("1", -32600, "invalid request: jsonrpc must be \\\"2.0\\\""), "jsonrpc 1.0");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", ERR("1", -32600, "invalid request: method must be a string"),
		 "method a number");
	exchange("{\"jsonrpc\":\"2.0\",\"method\":5}", ERR("null", -32600, "invalid request: method must be a string"),
		 "an invalid request without id is answered (id null)");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":\"a\"}",
		 ERR("1", -32600, "invalid request: params must be an object or an array"), "params a string");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"add\"}",
		 ERR("null", -32600, "invalid request: id must be a string, a number or null"), "id an object");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"add\"}",
		 ERR("null", -32600, "invalid request: id must be a string, a number or null"), "id a boolean");
	exchange("\"hello\" ", ERR("null", -32600, "invalid request: expected an object"), "a string");
	exchange("42 ", ERR("null", -32600, "invalid request: expected an object"), "a number");
	exchange("null ", ERR("null", -32600, "invalid request: expected an object"), "null");
	exchange("[]", ERR("null", -32600, "invalid request: empty batch"), "an empty batch");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ns_ad\"}{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"add\",\"params\":{\"a\":1,\"b\":1}}",
		 ERR("1", -32601, "unknown method 'ns_ad'") RES("2", "2"), "the connection goes on after an error");
}

static void test_batch(void)
{
	exchange("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":{\"a\":1,\"b\":2}},"
		 "{\"jsonrpc\":\"2.0\",\"method\":\"nothing\"},"
		 "1,"
		 "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"nope\"}]",
		 "[" "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":3},"
		 "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"invalid request: expected an object\"}},"
		 "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32601,\"message\":\"unknown method 'nope'\"}}" "]\n",
		 "batch: answers in order, the notification left out");
	exchange("[{\"jsonrpc\":\"2.0\",\"method\":\"nothing\"},{\"jsonrpc\":\"2.0\",\"method\":\"nothing\"}]", "",
		 "batch of notifications: no response at all");
	exchange("[[]]", "[" "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"invalid request: expected an object\"}}" "]\n",
		 "a batch inside a batch is an invalid request");
}

/* in: one value that closes the stream with exactly want. */
static void fatal(const char *in, size_t len, size_t max, const char *want, const char *what)
{
	struct fed f, g;

	len = len ? len : strlen(in);
	f = feed(in, len, 0, max);
	g = feed(in, len, 1, max);

	if (!tap_ok(f.ret == RPC_STREAM_CLOSE && !strcmp(f.out, want), "%s", what))
		tap_diag("got '%s' (ret %d)\n#   want '%s'", f.out, f.ret, want);
	tap_ok(g.ret == RPC_STREAM_CLOSE && !strcmp(g.out, want), "%s: the same fed byte by byte", what);
	free(f.out);
	free(g.out);
}

static void test_fatal(void)
{
	char deep[128], big[200], spaced[640];

	fatal("{\"a\":}", 6, 0, ERR("null", -32700, "parse error at byte 5: unexpected character"), "parse error");
	fatal("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":{\"a\":1,\"b\":1}}{\"a\" x{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"add\"}",
	      0, 0, RES("1", "2") ERR("null", -32700, "parse error at byte 5: object property name separator ':' expected"),
	      "parse error after a good request: nothing after it is read");
	fatal("{\"a\":'x'}", 9, 0, ERR("null", -32700, "parse error at byte 5: unexpected character"),
	      "single quotes are not JSON");
	fatal("{\"a\":\"\xff\"}", 9, 0, ERR("null", -32700, "parse error at byte 6: invalid utf-8 string"), "invalid UTF-8");
	fatal("{\"a\":\"x\0\"}", 10, 0, ERR("null", -32700, "parse error at byte 8: unexpected end of data"),
	      "a NUL byte");
	fatal("{\"a\":NaN}", 9, 0, ERR("null", -32700, "parse error: NaN and Infinity are not JSON"), "NaN");
	fatal("[{\"a\":-1e400}]", 14, 0, ERR("null", -32700, "parse error: NaN and Infinity are not JSON"), "1e400 overflows");
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	fatal(deep, 80, 0, ERR("null", -32700, "parse error at byte 32: nesting too deep"), "nesting deeper than 32");

	/* A request of exactly the limit is served; one byte more closes. */
	snprintf(big, sizeof(big), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":{\"s\":\"%0*d\"}}", 20, 0);
	struct fed f = feed(big, strlen(big), 0, strlen(big));
	tap_ok(f.ret == RPC_STREAM_OK && !strcmp(f.out, RES("1", "{\"s\":\"00000000000000000000\"}")),
	       "a request of exactly max_request bytes is served");
	free(f.out);
	f = feed(big, strlen(big), 5, strlen(big) - 1);
	snprintf(spaced, sizeof(spaced), ERR("null", -32600, "invalid request: larger than %zu bytes"), strlen(big) - 1);
	tap_ok(f.ret == RPC_STREAM_CLOSE && !strcmp(f.out, spaced), "one byte more: invalid request, close");
	tap_ok(f.used == strlen(big) - 1, "nothing past the limit was parsed (%zu)", f.used);
	free(f.out);
	/* Whitespace between requests does not count against the limit. */
	snprintf(spaced, sizeof(spaced), "%s%200s%s", big, "", big);
	f = feed(spaced, strlen(spaced), 0, strlen(big));
	tap_ok(f.ret == RPC_STREAM_OK && !strcmp(f.out, RES("1", "{\"s\":\"00000000000000000000\"}") RES("1", "{\"s\":\"00000000000000000000\"}")),
	       "whitespace between requests is not part of either");
	free(f.out);
}

static void test_backpressure(void)
{
	const char *two = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":{\"a\":1,\"b\":1}}"
			  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"add\",\"params\":{\"a\":2,\"b\":2}}";
	struct rpc_stream s;
	struct rpc_buf out = { 0 };
	size_t used = 0, len = strlen(two);
	int ret;

	rpc_stream_init(&s, &reg, 1u << 20);
	ret = rpc_stream_feed(&s, two, len, &used, &out, 1);
	tap_ok(ret == RPC_STREAM_OK && used == len / 2, "with a response unread, the next request waits (used %zu of %zu)",
	       used, len);
	tap_ok(rpc_buf_pending(&out) == strlen(RES("1", "2")) && !memcmp(out.data, RES("1", "2"), rpc_buf_pending(&out)),
	       "the first response is there");
	out.off = out.len; /* sent */
	tap_ok(rpc_stream_feed(&s, two + used, len - used, &used, &out, 1) == RPC_STREAM_OK && used == len / 2,
	       "once it is read, the next one is answered");
	tap_ok(rpc_buf_pending(&out) == strlen(RES("2", "4")) && !memcmp(out.data + out.off, RES("2", "4"), rpc_buf_pending(&out)),
	       "the second response");
	tap_ok(!s.in_value && s.values_started == 2, "no value pending, two started");
	tap_ok(rpc_stream_feed(&s, "  {\"jsonrpc\"", 12, &used, &out, 1u << 20) == RPC_STREAM_OK && used == 12 &&
	       s.in_value && s.values_started == 3, "a partial request is pending");
	rpc_buf_free(&out);
	rpc_stream_fini(&s);
}

static void test_methods(void)
{
	struct fed f;
	static const struct rpc_method dup[] = { { "a", m_echo, NULL, NULL }, { "a", m_add, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	static const struct rpc_method builtin[] = { { "rpc_get_methods", m_echo, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	static const struct rpc_method nofn[] = { { "x", NULL, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	static const struct rpc_method noname[] = { { "", m_echo, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	char err[128];
	const char *req = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rpc_get_methods\"}";

	f = feed(req, strlen(req), 0, 0);
	if (!tap_ok(!strcmp(f.out, RES("1", "[{\"name\":\"echo\",\"description\":\"return the params\",\"params\":\"any\"},"
				       "{\"name\":\"add\",\"description\":\"a + b\",\"params\":\"a, b\"},"
				       "{\"name\":\"nothing\",\"description\":\"count calls\",\"params\":\"\"},"
				       "{\"name\":\"crash\",\"description\":\"\",\"params\":\"\"},"
				       "{\"name\":\"missing\",\"description\":\"\",\"params\":\"\"},"
				       "{\"name\":\"rpc_get_methods\",\"description\":\"list the methods with their params\",\"params\":\"\"}]")),
	       "rpc_get_methods lists the table and itself"))
		tap_diag("%s", f.out);
	free(f.out);
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rpc_get_methods\",\"params\":{\"x\":1}}",
		 ERR("1", -32602, "params: unknown key 'x'"), "rpc_get_methods takes no params");
	tap_ok(rpc_registry_check(methods, err, sizeof(err)) == 0, "registry: the test table is fine");
	tap_ok(rpc_registry_check(dup, err, sizeof(err)) == -EINVAL && !strcmp(err, "rpc: method 'a' is defined twice"),
	       "registry: a name twice");
	tap_ok(rpc_registry_check(builtin, err, sizeof(err)) == -EINVAL && !strcmp(err, "rpc: method 'rpc_get_methods' is built in"),
	       "registry: the built-in name");
	tap_ok(rpc_registry_check(nofn, err, sizeof(err)) == -EINVAL && !strcmp(err, "rpc: method 'x' has no handler"),
	       "registry: no handler");
	tap_ok(rpc_registry_check(noname, err, sizeof(err)) == -EINVAL && !strcmp(err, "rpc: method '' has no name"),
	       "registry: an empty name");
	tap_ok(rpc_registry_check(NULL, err, sizeof(err)) == 0, "registry: no table (only the built-in)");
}

/* A long mixed sequence cut at pseudo-random places answers the same as in one piece. */
static void test_random_cuts(void)
{
	char in[8192] = "", *want;
	struct fed f;
	unsigned seed = 12345;
	bool same = true;

	for (int i = 0; i < 40; i++)
		snprintf(in + strlen(in), sizeof(in) - strlen(in),
			 i % 4 == 3 ? "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"nope\"}\n"
			 : i % 4 == 2 ? "[{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"echo\",\"params\":{\"k\":\"\\u00e9\\n\"}}]"
				      : " {\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"add\",\"params\":{\"a\":1,\"b\":2}}", i);
	f = feed(in, strlen(in), 0, 0);
	want = f.out;
	for (int round = 0; round < 50; round++) {
		struct rpc_stream s;
		struct rpc_buf out = { 0 };
		size_t off = 0, len = strlen(in);

		rpc_stream_init(&s, &reg, 1u << 20);
		while (off < len) {
			size_t n, used;

			seed = seed * 1103515245 + 12345;
			n = 1 + (seed >> 16) % 97;
			if (n > len - off)
				n = len - off;
			rpc_stream_feed(&s, in + off, n, &used, &out, 1u << 30);
			off += used;
		}
		rpc_buf_append(&out, "", 1);
		same &= !strcmp(out.data, want);
		rpc_buf_free(&out);
		rpc_stream_fini(&s);
	}
	tap_ok(same && strlen(want) > 1000, "40 requests cut at random places 50 times: the same %zu bytes", strlen(want));
	free(want);
}

int main(void)
{
	test_requests();
	test_errors();
	test_batch();
	test_fatal();
	test_backpressure();
	test_methods();
	test_random_cuts();
	return tap_done();
}
