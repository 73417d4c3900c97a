/* SPDX-License-Identifier: MIT */
/*
 * The RPC server over a real Unix socket: rpc_testd (argv[1]) is started as a child and driven
 * by raw clients. Every answer is compared byte by byte; waits are for an event with a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rpc_test_util.h"
#include "tap.h"

#define TIMEOUT_MS 300   /* --request-timeout-ms of the server under test */
#define IDLE_MS 2000     /* --idle-timeout-ms */
#define MAX_REQ 65536    /* --max-request */
#define MAX_CLIENTS 16

#define ERR(id, code, msg) "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"error\":{\"code\":" #code ",\"message\":\"" msg "\"}}\n"
#define RES(id, res) "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"result\":" res "}\n"
#define REQ(id, method, params) "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"method\":\"" method "\",\"params\":" params "}"

static const char *exe;
static char dir[64], sock[128];
static struct testd srv;

static int lines_in(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Send req on fd, expect exactly want back (and then EOF if closes). */
static void exchange_on(int fd, const char *req, const char *want, bool closes, const char *what)
{
	static char got[1 << 20];
	bool eof;

	tu_send(fd, req, strlen(req));
	tu_read_lines(fd, got, sizeof(got), lines_in(want), 5000, &eof);
	if (!tap_ok(!strcmp(got, want), "%s", what))
		tap_diag("got  '%s'\n#   want '%s'", got, want);
	if (closes)
		tap_ok(tu_drain_to_eof(fd, 5000) == 0, "%s: then the connection is closed", what);
}

static void exchange(const char *req, const char *want, bool closes, const char *what)
{
	int fd = tu_unix_connect(sock);

	exchange_on(fd, req, want, closes, what);
	close(fd);
}

static void test_start(void)
{
	struct stat st = { 0 };

	tap_ok(!stat(sock, &st) && S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0600, "the socket exists, mode 0600 (%o)",
	       st.st_mode & 07777);
	tap_ok(fcntl(srv.in, F_GETFD) >= 0, "rpc_testd runs");
}

static void test_methods(void)
{
	exchange(REQ("1", "add", "{\"a\":2,\"b\":40}"), RES("1", "42"), false, "add");
	exchange(REQ("\"x\"", "echo", "{\"k\":[true,null,\"\\u00e9\\n\\\"\"]}"), RES("\"x\"", "{\"k\":[true,null,\"é\\n\\\"\"]}"),
		 false, "echo (escapes, UTF-8)");
	exchange(REQ("2", "typed", "{\"name\":\"n\",\"count\":3,\"flag\":true,\"size\":\"4K\",\"opts\":{\"depth\":-2},\"list\":[\"a\",\"b\"]}"),
		 RES("2", "{\"name\":\"n\",\"count\":3,\"flag\":true,\"size\":4096,\"depth\":-2,\"list\":[\"a\",\"b\"]}"),
		 false, "typed: every accessor");
	exchange(REQ("3", "typed", "{\"name\":\"n\"}"),
		 RES("3", "{\"name\":\"n\",\"count\":1,\"flag\":false,\"size\":0,\"depth\":0,\"list\":[]}"), false,
		 "typed: the defaults");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"wait\",\"params\":{\"ms\":0}}", RES("4", "true"), false,
		 "a method with no result answers true");
}

static void test_errors(void)
{
	exchange(REQ("1", "ns_ad", "{}"), ERR("1", -32601, "unknown method 'ns_ad'"), false, "unknown method");
	exchange(REQ("1", "add", "{\"a\":1,\"b\":\"2\"}"), ERR("1", -32602, "params.b: expected an integer"), false,
		 "wrong type");
	exchange(REQ("1", "add", "{\"a\":1}"), ERR("1", -32602, "params.b: required"), false, "missing param");
	exchange(REQ("1", "add", "{\"a\":1,\"b\":2,\"nsid\":3}"), ERR("1", -32602, "params: unknown key 'nsid'"), false,
		 "unknown key");
	exchange(REQ("1", "typed", "{\"name\":\"n\",\"count\":0}"), ERR("1", -32602, "params.count: 0 is out of range (1..100)"),
		 false, "out of range");
	exchange(REQ("1", "typed", "{\"name\":\"n\",\"size\":\"4Q\"}"),
		 ERR("1", -32602, "params.size: '4Q' is not a size (digits and K, M, G or T)"), false, "bad size");
	exchange(REQ("1", "typed", "{\"name\":\"n\",\"opts\":{\"depht\":1}}"), ERR("1", -32602, "params.opts: unknown key 'depht'"),
		 false, "unknown nested key");
	exchange(REQ("1", "typed", "{\"name\":\"n\",\"list\":[\"a\",2]}"), ERR("1", -32602, "params.list[1]: expected a string"),
		 false, "array element");
	exchange(REQ("1", "fail", "{\"nqn\":\"nqn.2026-11.io.nvring:a\"}"),
		 ERR("1", 1001, "subsystem 'nqn.2026-11.io.nvring:a' not found"), false, "application error");
	exchange(REQ("1", "fail", "{\"code\":1003}"), ERR("1", 1003, "subsystem 'nqn.2026-11.io.nvring:x' not found"), false,
		 "application error, another code");
	exchange(REQ("1", "errno", "{\"errno\":2}"), ERR("1", 1001, "open '/dev/nvme9n9': No such file or directory"), false,
		 "errno: ENOENT");
	exchange(REQ("1", "errno", "{\"errno\":16}"), ERR("1", 1003, "open '/dev/nvme9n9': Device or resource busy"), false,
		 "errno: EBUSY");
	exchange(REQ("1", "add", "{\"a\":9223372036854775807,\"b\":1}"), ERR("1", 1006, "a + b does not fit in 64 bits"), false,
		 "add overflows");
	exchange("{\"jsonrpc\":\"2.0\",\"method\":7,\"id\":1}", ERR("1", -32600, "invalid request: method must be a string"),
		 false, "invalid request");
	exchange("[]", ERR("null", -32600, "invalid request: empty batch"), false, "empty batch");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":{\"a\":}}",
		 ERR("null", -32700, "parse error at byte 53: unexpected character"), true, "malformed JSON");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":{\"a\":\"\xc3\x28\"}}",
		 ERR("null", -32700, "parse error at byte 56: invalid utf-8 string"), true, "invalid UTF-8");
	exchange("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":{\"a\":Infinity}}",
		 ERR("null", -32700, "parse error: NaN and Infinity are not JSON"), true, "Infinity");
	exchange("[" REQ("1", "add", "{\"a\":1,\"b\":1}") "," "{\"jsonrpc\":\"2.0\",\"method\":\"add\"}" ","
		 REQ("2", "nope", "{}") "]",
		 "[" "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":2},"
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32601,\"message\":\"unknown method 'nope'\"}}]\n", false,
		 "batch");
}

/* A request of total bytes: big with 0 bytes and a pad member to reach the size. */
static char *sized_request(size_t total)
{
	const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"big\",\"params\":{\"bytes\":0},\"pad\":\"";
	size_t hl = strlen(head);
	char *req = malloc(total + 1);

	memcpy(req, head, hl);
	memset(req + hl, 'p', total - hl - 2);
	memcpy(req + total - 2, "\"}", 3);
	return req;
}

static void test_size_limit(void)
{
	char *req = sized_request(MAX_REQ), want[256];

	exchange(req, RES("1", "\"\""), false, "a request of exactly --max-request bytes (the pad member is ignored)");
	free(req);
	req = sized_request(MAX_REQ + 1);
	snprintf(want, sizeof(want), ERR("null", -32600, "invalid request: larger than %d bytes"), MAX_REQ);
	exchange(req, want, true, "one byte more: invalid request, closed");
	free(req);
}

static void test_timeouts(void)
{
	int fd = tu_unix_connect(sock);
	int64_t t0 = tu_now_ms(), dt;
	char got[512];
	bool eof;
	long long left;

	tu_send(fd, "{\"jsonrpc\":\"2.0\",", 17);
	tu_read_lines(fd, got, sizeof(got), 1, 5000, &eof);
	dt = tu_now_ms() - t0;
	tap_ok(!strcmp(got, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32002,\"message\":\"request incomplete after 300 ms\"}}\n"),
	       "half a request: timeout error");
	tap_ok(dt >= TIMEOUT_MS && dt < 3000, "after the timeout (%lld ms)", (long long)dt);
	tap_ok(tu_drain_to_eof(fd, 5000) == 0, "half a request: then closed");
	close(fd);

	/* Pieces that keep coming do not restart the clock: it runs from the request's first byte. */
	fd = tu_unix_connect(sock);
	t0 = tu_now_ms();
	tu_send(fd, "{", 1);
	for (int i = 0; i < 20; i++) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
		if (!tu_send(fd, " ", 1))
			break;
	}
	left = tu_drain_to_eof(fd, 5000);
	dt = tu_now_ms() - t0;
	tap_ok(left > 0 && dt >= TIMEOUT_MS && dt < 1500, "a request that trickles in is cut %lld ms after it began", (long long)dt);
	close(fd);

	/* An idle connection stays open past the request timeout, is closed after the idle timeout. */
	fd = tu_unix_connect(sock);
	t0 = tu_now_ms();
	tu_read_lines(fd, got, sizeof(got), 1, TIMEOUT_MS * 3, &eof);
	tap_ok(!eof && !*got, "idle for 3 request timeouts: still open");
	exchange_on(fd, REQ("1", "add", "{\"a\":1,\"b\":1}"), RES("1", "2"), false, "and it still answers");
	t0 = tu_now_ms();
	left = tu_drain_to_eof(fd, IDLE_MS * 3);
	dt = tu_now_ms() - t0;
	tap_ok(left == 0 && dt >= IDLE_MS - 50 && dt < IDLE_MS * 3, "closed after the idle timeout (%lld ms)", (long long)dt);
	close(fd);
}

static void test_pipelined(void)
{
	static char all[64 * 1024], want[64 * 1024], got[64 * 1024];
	int fd = tu_unix_connect(sock);
	size_t a = 0, w = 0;
	bool eof;

	for (int i = 0; i < 200; i++) {
		a += (size_t)snprintf(all + a, sizeof(all) - a, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"add\",\"params\":{\"a\":%d,\"b\":%d}}%s",
				      i, i, i, i % 3 ? "" : "\n");
		if (i % 10 == 5) /* a notification between them: no answer */
			a += (size_t)snprintf(all + a, sizeof(all) - a, "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":{\"a\":1,\"b\":1}}");
		w += (size_t)snprintf(want + w, sizeof(want) - w, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":%d}\n", i, 2 * i);
	}
	tu_send(fd, all, a);
	tu_read_lines(fd, got, sizeof(got), 200, 10000, &eof);
	tap_ok(!strcmp(got, want), "200 requests and 20 notifications in one write: 200 answers, in order");
	close(fd);

	/* Sent, then the write side shut: the answer still comes, then EOF. */
	fd = tu_unix_connect(sock);
	tu_send(fd, REQ("9", "add", "{\"a\":4,\"b\":5}"), strlen(REQ("9", "add", "{\"a\":4,\"b\":5}")));
	shutdown(fd, SHUT_WR);
	exchange_on(fd, "", RES("9", "9"), true, "request then shutdown(SHUT_WR)");
	close(fd);
}

static void test_many_clients(void)
{
	int fds[MAX_CLIENTS], extra;
	char req[MAX_CLIENTS][128], got[512], want[128];
	bool ok = true, eof;

	for (int i = 0; i < MAX_CLIENTS; i++) {
		fds[i] = tu_unix_connect(sock);
		snprintf(req[i], sizeof(req[i]), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"add\",\"params\":{\"a\":%d,\"b\":1000}}", i, i);
	}
	/* Every request in three pieces, the clients taking turns. */
	for (int part = 0; part < 3; part++)
		for (int i = 0; i < MAX_CLIENTS; i++) {
			size_t len = strlen(req[i]), from = len * (size_t)part / 3, to = len * (size_t)(part + 1) / 3;

			ok &= tu_send(fds[i], req[i] + from, to - from);
		}
	for (int i = MAX_CLIENTS - 1; i >= 0; i--) {
		snprintf(want, sizeof(want), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":%d}\n", i, i + 1000);
		tu_read_lines(fds[i], got, sizeof(got), 1, 5000, &eof);
		ok &= !strcmp(got, want);
	}
	tap_ok(ok, "%d clients at once, requests interleaved in pieces: each its own answer", MAX_CLIENTS);

	extra = tu_unix_connect(sock);
	tu_read_lines(extra, got, sizeof(got), 1, 5000, &eof);
	tap_ok(!strcmp(got, ERR("null", -32000, "too many clients (16)")), "client 17: too many clients");
	tap_ok(tu_drain_to_eof(extra, 5000) == 0, "client 17: closed");
	close(extra);
	close(fds[0]); /* a slot frees as soon as the server sees the close */
	extra = tu_unix_connect(sock);
	exchange_on(extra, REQ("1", "add", "{\"a\":1,\"b\":1}"), RES("1", "2"), false, "after one left, a new client is served");
	close(extra);
	for (int i = 1; i < MAX_CLIENTS; i++)
		close(fds[i]);
}

static void test_bad_clients(void)
{
	char got[256];
	bool eof;
	int x, y;
	long long n;

	/* Asks for 8 MiB, reads a little, goes away: the server must survive (no SIGPIPE). */
	x = tu_unix_connect(sock);
	tu_send(x, REQ("1", "big", "{\"bytes\":\"8M\"}"), strlen(REQ("1", "big", "{\"bytes\":\"8M\"}")));
	tu_read_lines(x, got, 64, 1, 5000, &eof);
	tap_ok(!strncmp(got, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"xxxx", 38), "a big answer starts");
	close(x);
	exchange(REQ("2", "add", "{\"a\":1,\"b\":1}"), RES("2", "2"), false, "the client went mid-answer: the server serves on");

	/* Will not read at all (SHUT_RD): the answer's send fails with EPIPE, which must not raise
	 * SIGPIPE in the server. */
	x = tu_unix_connect(sock);
	tu_send(x, REQ("1", "add", "{\"a\":1,\"b\":1}"), strlen(REQ("1", "add", "{\"a\":1,\"b\":1}")));
	shutdown(x, SHUT_RD);
	exchange(REQ("2", "add", "{\"a\":2,\"b\":2}"), RES("2", "4"), false, "a client that shut its read side: the server serves on");
	close(x);

	/* Asks for 40 x 1 MiB and never reads: others are served meanwhile; it is dropped. */
	x = tu_unix_connect(sock);
	for (int i = 0; i < 40; i++)
		tu_send(x, REQ("1", "big", "{\"bytes\":\"1M\"}"), strlen(REQ("1", "big", "{\"bytes\":\"1M\"}")));
	y = tu_unix_connect(sock);
	int64_t t0 = tu_now_ms();
	exchange_on(y, REQ("3", "add", "{\"a\":1,\"b\":2}"), RES("3", "3"), false, "a client that does not read does not block others");
	tap_ok(tu_now_ms() - t0 < 2000, "(answered in %lld ms)", (long long)(tu_now_ms() - t0));
	close(y);
	/* Not reading for 5 timeouts: its socket buffer is full and nothing moves, so it is dropped.
	 * Reading only after that, it gets what was in flight, then EOF, long before 40 MiB. */
	struct timespec pause = { 1, (TIMEOUT_MS * 5 - 1000) * 1000000L };
	nanosleep(&pause, NULL);
	n = tu_drain_to_eof(x, 10000);
	tap_ok(n >= 0 && n < 20ll << 20, "a client that stops reading is dropped (%lld bytes reached it)", n);
	close(x);

	/* A handler that takes long: a request arriving meanwhile, in two pieces, is answered after it. */
	x = tu_unix_connect(sock);
	y = tu_unix_connect(sock);
	t0 = tu_now_ms();
	tu_send(x, REQ("1", "wait", "{\"ms\":800}"), strlen(REQ("1", "wait", "{\"ms\":800}")));
	tu_send(y, "{\"jsonrpc\":\"2.0\",\"id\":5,", strlen("{\"jsonrpc\":\"2.0\",\"id\":5,"));
	struct timespec ts = { 0, 100 * 1000000L };
	nanosleep(&ts, NULL); /* pacing, not waiting for a result: the rest comes while wait runs */
	exchange_on(y, "\"method\":\"add\",\"params\":{\"a\":2,\"b\":3}}", RES("5", "5"), false,
		    "a request completed while a handler ran is not timed out");
	tap_ok(tu_now_ms() - t0 >= 700, "it was answered after the handler returned (%lld ms)", (long long)(tu_now_ms() - t0));
	tu_read_lines(x, got, sizeof(got), 1, 5000, &eof);
	tap_ok(!strcmp(got, RES("1", "true")), "the long handler's answer");
	close(x);
	close(y);
}

static void test_peer_uid(void)
{
	int pfd[2], st;
	char got[256] = "";
	pid_t pid;

	if (geteuid() != 0) {
		tap_skip("not root", "another uid is refused");
		return;
	}
	/* Open the file's mode for this test so that the credentials check is what refuses. */
	chmod(dir, 0755);
	chmod(sock, 0666);
	if (pipe(pfd))
		return;
	pid = fork();
	if (pid == 0) {
		bool eof;
		int fd;

		close(pfd[0]);
		if (setgid(65534) || setuid(65534))
			_exit(3);
		fd = tu_unix_connect(sock);
		if (fd < 0)
			_exit(4);
		tu_read_lines(fd, got, sizeof(got), 1, 5000, &eof);
		if (tu_drain_to_eof(fd, 5000) != 0)
			_exit(5);
		(void)!write(pfd[1], got, strlen(got));
		_exit(0);
	}
	close(pfd[1]);
	(void)!read(pfd[0], got, sizeof(got) - 1);
	close(pfd[0]);
	waitpid(pid, &st, 0);
	chmod(sock, 0600);
	chmod(dir, 0700);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	       !strcmp(got, ERR("null", -32001, "permission denied: uid 65534 may not use this socket")),
	       "uid 65534: permission denied, closed");
	exchange(REQ("1", "add", "{\"a\":1,\"b\":1}"), RES("1", "2"), false, "root is served");
}

static void test_ownership(void)
{
	const char *args[] = { "--socket", sock, NULL };
	char err[512], want[512], other[100];
	struct testd t2;
	struct stat st;
	int rc, fd;

	rc = testd_start(&t2, exe, args, err, sizeof(err));
	snprintf(want, sizeof(want), "rpc socket %s: in use by another process (it holds %s.lock)", sock, sock);
	tap_ok(rc == 2 && !strcmp(err, want), "a second server on the path refuses to start: '%s'", err);
	exchange(REQ("1", "add", "{\"a\":1,\"b\":1}"), RES("1", "2"), false, "the first one still serves");

	/* Killed: socket and lock file stay; the next start finds nobody listening and takes over. */
	testd_kill(&srv);
	tap_ok(!stat(sock, &st) && tu_unix_connect(sock) == -ECONNREFUSED, "killed: a stale socket is left");
	rc = testd_start(&srv, exe, (const char *[]){ "--socket", sock, "--request-timeout-ms", "300",
						      "--idle-timeout-ms", "2000", "--max-request", "65536", NULL },
			 err, sizeof(err));
	tap_ok(rc == 0, "a new server replaces the stale socket");
	exchange(REQ("1", "add", "{\"a\":1,\"b\":1}"), RES("1", "2"), false, "and serves");

	/* A socket somebody else listens on (no lock file): refused, naming the pid. */
	snprintf(other, sizeof(other), "%.60s/other.sock", dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", other);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	listen(fd, 1);
	rc = testd_start(&t2, exe, (const char *[]){ "--socket", other, NULL }, err, sizeof(err));
	snprintf(want, sizeof(want), "rpc socket %s: in use by another process (pid %d)", other, (int)getpid());
	tap_ok(rc == 2 && !strcmp(err, want), "a socket another process listens on: '%s'", err);
	tap_ok(!stat(other, &st), "its socket is left alone");
	close(fd);
	unlink(other);

	/* Not a socket: refused, left alone. */
	fd = open(other, O_CREAT | O_WRONLY, 0600);
	close(fd);
	rc = testd_start(&t2, exe, (const char *[]){ "--socket", other, NULL }, err, sizeof(err));
	snprintf(want, sizeof(want), "rpc socket %s: exists and is not a socket", other);
	tap_ok(rc == 2 && !strcmp(err, want) && !stat(other, &st) && S_ISREG(st.st_mode), "a regular file at the path: '%s'", err);
	unlink(other);

	rc = testd_start(&t2, exe, (const char *[]){ "--socket", "/nonexistent-dir/x.sock", NULL }, err, sizeof(err));
	tap_ok(rc == 2 && !strcmp(err, "rpc socket /nonexistent-dir/x.sock: lock file /nonexistent-dir/x.sock.lock: No such file or directory"),
	       "a missing directory: '%s'", err);
	char longp[200];
	memset(longp, 'a', 150);
	longp[0] = '/';
	longp[150] = '\0';
	rc = testd_start(&t2, exe, (const char *[]){ "--socket", longp, NULL }, err, sizeof(err));
	tap_ok(rc == 2 && strstr(err, "the path must have 1 to 107 bytes"), "a path too long: '%.60s...'", err);

	/* A stop removes only its own socket: one that replaced it stays. */
	rc = testd_start(&t2, exe, (const char *[]){ "--socket", other, NULL }, err, sizeof(err));
	unlink(other);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	tap_ok(rc == 0 && testd_stop(&t2) == 0 && !stat(other, &st) && S_ISSOCK(st.st_mode),
	       "stop leaves a socket that is not its own");
	close(fd);
	unlink(other);
}

int main(int argc, char **argv)
{
	char err[512];
	struct stat st;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s RPC_TESTD\n", argv[0]);
		return 2;
	}
	exe = argv[1];
	snprintf(dir, sizeof(dir), "/tmp/nvring-rpc-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(sock, sizeof(sock), "%s/nvringd.sock", dir);
	rc = testd_start(&srv, exe, (const char *[]){ "--socket", sock, "--request-timeout-ms", "300",
						      "--idle-timeout-ms", "2000", "--max-request", "65536", NULL },
			 err, sizeof(err));
	if (!tap_ok(rc == 0, "rpc_testd starts (%s)", rc ? err : "ok"))
		return tap_done();
	test_start();
	test_methods();
	test_errors();
	test_size_limit();
	test_timeouts();
	test_pipelined();
	test_many_clients();
	test_bad_clients();
	test_peer_uid();
	test_ownership();
	rc = testd_stop(&srv);
	tap_ok(rc == 0, "stops cleanly (%d)", rc);
	tap_ok(stat(sock, &st) && errno == ENOENT, "the socket is removed");
	snprintf(err, sizeof(err), "%s.lock", sock);
	tap_ok(stat(err, &st) && errno == ENOENT, "the lock file is removed");
	rmdir(dir);
	return tap_done();
}
