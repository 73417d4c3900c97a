/* SPDX-License-Identifier: MIT */
/*
 * rpc_testd: the RPC server library with a small demo method table, for the tests over real
 * sockets (test_rpc_server, test_cli.sh, test_metrics_curl.sh). Prints "metrics PORT" (with
 * --metrics) and "ready", then serves until SIGTERM/SIGINT or EOF on stdin, then prints
 * "stopped". A start failure prints the library's message and exits 2.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "rpc/metrics.h"
#include "rpc/rpc.h"

enum { M_ECHO, M_ADD, M_FAIL, M_ERRNO, M_TYPED, M_BIG, M_WAIT, M_COUNT };
static atomic_uint_fast64_t calls[M_COUNT];
static const char *const call_names[M_COUNT] = { "echo", "add", "fail", "errno", "typed", "big", "wait" };

static int m_echo(struct rpc_call *c, void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&calls[M_ECHO], 1);
	rpc_result_set(c, json_object_get(rpc_params_json(rpc_call_params(c))));
	return 0;
}

static int m_add(struct rpc_call *c, void *ctx)
{
	struct rpc_params *p = rpc_call_params(c);
	int64_t a, b, sum;

	(void)ctx;
	atomic_fetch_add(&calls[M_ADD], 1);
	if (rpc_param_int(p, "a", INT64_MIN, INT64_MAX, &a) || rpc_param_int(p, "b", INT64_MIN, INT64_MAX, &b) ||
	    rpc_params_done(p))
		return -EINVAL;
	if (__builtin_add_overflow(a, b, &sum))
		return rpc_error(c, RPC_ERR_LIMIT, "a + b does not fit in 64 bits");
	rpc_result_set(c, json_object_new_int64(sum));
	return 0;
}

static int m_fail(struct rpc_call *c, void *ctx)
{
	struct rpc_params *p = rpc_call_params(c);
	const char *nqn;
	int64_t code;

	(void)ctx;
	atomic_fetch_add(&calls[M_FAIL], 1);
	if (rpc_param_int_opt(p, "code", 1000, 1999, RPC_ERR_NOT_FOUND, &code) ||
	    rpc_param_str_opt(p, "nqn", "nqn.2026-11.io.nvring:x", &nqn) || rpc_params_done(p))
		return -EINVAL;
	return rpc_error(c, (int)code, "subsystem '%s' not found", nqn);
}

static int m_errno(struct rpc_call *c, void *ctx)
{
	struct rpc_params *p = rpc_call_params(c);
	int64_t e;

	(void)ctx;
	atomic_fetch_add(&calls[M_ERRNO], 1);
	if (rpc_param_int(p, "errno", 1, 133, &e) || rpc_params_done(p))
		return -EINVAL;
	return rpc_error_errno(c, (int)-e, "open '%s'", "/dev/nvme9n9");
}

/* Every accessor once; the result shows what each read. */
static int m_typed(struct rpc_call *c, void *ctx)
{
	struct rpc_params *p = rpc_call_params(c), opts;
	struct rpc_array list;
	const char *name;
	uint64_t count, size;
	int64_t depth;
	bool flag;
	json_object *r, *l;

	(void)ctx;
	atomic_fetch_add(&calls[M_TYPED], 1);
	if (rpc_param_str(p, "name", &name) || rpc_param_uint_opt(p, "count", 1, 100, 1, &count) ||
	    rpc_param_bool_opt(p, "flag", false, &flag) || rpc_param_size_opt(p, "size", 0, &size) ||
	    rpc_param_object_opt(p, "opts", &opts) || rpc_param_int_opt(&opts, "depth", -5, 5, 0, &depth) ||
	    rpc_params_done(&opts) || rpc_param_array_opt(p, "list", &list))
		return -EINVAL;
	l = json_object_new_array();
	for (size_t i = 0; i < list.len; i++) {
		const char *s;

		if (rpc_array_str(&list, i, &s)) {
			json_object_put(l);
			return -EINVAL;
		}
		json_object_array_add(l, json_object_new_string(s));
	}
	if (rpc_params_done(p)) {
		json_object_put(l);
		return -EINVAL;
	}
	r = rpc_result_object(c);
	json_object_object_add(r, "name", json_object_new_string(name));
	json_object_object_add(r, "count", json_object_new_uint64(count));
	json_object_object_add(r, "flag", json_object_new_boolean(flag));
	json_object_object_add(r, "size", json_object_new_uint64(size));
	json_object_object_add(r, "depth", json_object_new_int64(depth));
	json_object_object_add(r, "list", l);
	return 0;
}

static int m_big(struct rpc_call *c, void *ctx)
{
	struct rpc_params *p = rpc_call_params(c);
	uint64_t n;
	char *s;

	(void)ctx;
	atomic_fetch_add(&calls[M_BIG], 1);
	if (rpc_param_size(p, "bytes", &n) || rpc_params_done(p))
		return -EINVAL;
	if (n > 16u << 20)
		return rpc_error(c, RPC_ERR_LIMIT, "params.bytes: at most 16M");
	s = malloc(n + 1);
	if (!s)
		return rpc_error(c, RPC_ERR_INTERNAL, "out of memory");
	memset(s, 'x', n);
	s[n] = '\0';
	rpc_result_set(c, json_object_new_string_len(s, (int)n));
	free(s);
	return 0;
}

/* A handler that takes long (it may: it runs on the control thread). */
static int m_wait(struct rpc_call *c, void *ctx)
{
	struct rpc_params *p = rpc_call_params(c);
	uint64_t ms;
	struct timespec ts;

	(void)ctx;
	atomic_fetch_add(&calls[M_WAIT], 1);
	if (rpc_param_uint(p, "ms", 0, 10000, &ms) || rpc_params_done(p))
		return -EINVAL;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return 0;
}

static const struct rpc_method methods[] = {
	{ "echo", m_echo, "return the params", "anything" },
	{ "add", m_add, "add two integers", "a: integer, b: integer" },
	{ "fail", m_fail, "fail with an application error", "code?: 1000..1999, nqn?: string" },
	{ "errno", m_errno, "fail as an errno would", "errno: 1..133" },
	{ "typed", m_typed, "read one param of each kind",
	  "name: string, count?: 1..100, flag?: bool, size?: size, opts?: {depth?: -5..5}, list?: [string]" },
	{ "big", m_big, "return a string of the given length", "bytes: size (at most 16M)" },
	{ "wait", m_wait, "take ms milliseconds to answer", "ms: 0..10000" },
	{ NULL, NULL, NULL, NULL },
};

static void collect(struct metrics_writer *w, void *ctx)
{
	static const double bounds[] = { 0.001, 0.01, 0.1 };
	static const uint64_t counts[] = { 4, 3, 2, 1 };

	(void)ctx;
	metrics_family(w, "rpc_testd_calls_total", METRICS_COUNTER, "calls per method");
	for (int i = 0; i < M_COUNT; i++)
		metrics_counter(w, METRICS_LABELS({ "method", call_names[i] }), atomic_load(&calls[i]));
	metrics_family(w, "rpc_testd_odd_labels", METRICS_GAUGE, "label values that need escapes: \\ and\nnewline");
	metrics_gauge(w, METRICS_LABELS({ "v", "quote\" backslash\\ newline\n \xc3\xa9" }, { "empty", "" }), 1.5);
	metrics_family(w, "rpc_testd_latency_seconds", METRICS_HISTOGRAM, "a fixed histogram");
	metrics_histogram(w, METRICS_LABELS({ "op", "read" }), bounds, counts, 3, 0.25);
}

static unsigned long num(const char *s, const char *opt)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s) {
		fprintf(stderr, "rpc_testd: --%s: bad number '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' }, { "metrics", required_argument, NULL, 'm' },
		{ "max-clients", required_argument, NULL, 'c' }, { "max-request", required_argument, NULL, 'r' },
		{ "request-timeout-ms", required_argument, NULL, 't' }, { "idle-timeout-ms", required_argument, NULL, 'i' },
		{ "allow-uid", required_argument, NULL, 'u' }, { NULL, 0, NULL, 0 },
	};
	struct rpc_server_opts o = { .methods = methods };
	struct metrics_server_opts mo = { .collect = collect };
	struct rpc_server *srv;
	struct metrics_server *ms = NULL;
	struct pollfd pfd[2];
	char err[512];
	sigset_t set;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o.path = optarg; break;
		case 'm': mo.listen = optarg; break;
		case 'c': o.max_clients = (unsigned)num(optarg, "max-clients"); break;
		case 'r': o.max_request = num(optarg, "max-request"); break;
		case 't': o.request_timeout_ms = (unsigned)num(optarg, "request-timeout-ms"); break;
		case 'i': o.idle_timeout_ms = (unsigned)num(optarg, "idle-timeout-ms"); break;
		case 'u': o.allow_uid_set = true; o.allow_uid = (uid_t)num(optarg, "allow-uid"); break;
		default: return 2;
		}
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* SIGPIPE keeps its default: a client that goes away must not kill the daemon (MSG_NOSIGNAL). */
	if (rpc_server_start(&o, &srv, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (mo.listen && metrics_server_start(&mo, &ms, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		rpc_server_stop(srv);
		return 2;
	}
	if (ms)
		printf("metrics %u\n", metrics_server_port(ms));
	printf("ready\n");
	fflush(stdout);

	pfd[0] = (struct pollfd){ .fd = signalfd(-1, &set, SFD_CLOEXEC), .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	for (;;) {
		char buf[256];

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents && read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
			break;
	}
	metrics_server_stop(ms);
	rpc_server_stop(srv);
	printf("stopped\n");
	return 0;
}
