/* SPDX-License-Identifier: MIT */
/*
 * The control plane's state across a restart and what it exports: a target changed by RPC,
 * saved with save_config and started again from the file (-c) reports the same config_get;
 * the metrics endpoint serves the same counters as stats; removing the only namespace while
 * a host writes lets the writes in flight finish, then the rest get Invalid Namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpcc.h"
#include "tap.h"
#include "tclient.h"

#define ST_INVALID_NS 0x400b
#define SUB_B "nqn.2026-11.io.nvring:cfg-b"
#define SUB_D "nqn.2026-11.io.nvring:cfg-d"
#define HOST2 "nqn.2014-08.org.nvmexpress:uuid:6e0c5a2e-0000-4000-8000-0000000000c2"
#define KEY1 "DHHC-1:00:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:"

static struct tc_daemon D;
static const char *SOCK;
static char DIR_[64];

static bool rc_done(const char *method, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool rc_done(const char *method, const char *fmt, ...)
{
	char params[1024];
	struct rc_reply r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(params, sizeof(params), fmt, ap);
	va_end(ap);
	rc_call(SOCK, &r, method, "%s", params);
	if (r.code)
		tap_diag("%s %s: %d %s", method, params, r.code, r.msg);
	rc_free(&r);
	return r.code == 0;
}

/* ---------------------------------------------------------------- save, restart */

static void t_save_restart(void)
{
	char *before, *after, path[128], img[128];
	const char *args[] = { "-c", path, "--rpc-socket", SOCK, NULL };
	json_object *l;
	int port;

	snprintf(path, sizeof(path), "%s/saved.json", DIR_);
	snprintf(img, sizeof(img), "%s/b1.img", DIR_);
	REQUIRE(rc_done("subsystem_create", "{\"nqn\":\"%s\",\"serial\":\"SN-CFG-B\",\"model\":\"saved\"}", SUB_B));
	REQUIRE(rc_done("ns_add", "{\"nqn\":\"%s\",\"spec\":\"file:%s,size=8M,bs=4096\"}", SUB_B, img));
	REQUIRE(rc_done("ns_add", "{\"nqn\":\"%s\",\"spec\":\"mem:16M\",\"nsid\":5}", TC_SUBNQN));
	REQUIRE(rc_done("ns_resize", "{\"nqn\":\"%s\",\"nsid\":1,\"size\":\"12M\"}", SUB_B));
	REQUIRE(rc_done("host_add", "{\"nqn\":\"%s\",\"host\":\"%s\",\"dhchap_key\":\"%s\"}", SUB_B, HOST2, KEY1));
	l = rc_ok(SOCK, "listener_add", "{\"addr\":\"127.0.0.1:0\",\"subsystems\":[\"%s\"]}", SUB_B);
	REQUIRE(l);
	port = atoi(strchr(rc_str(l, "addr"), ':') + 1);
	json_object_put(l);
	before = rc_config(SOCK);
	l = rc_ok(SOCK, "save_config", "{\"path\":\"%s\"}", path);
	CHECK(l && !strcmp(rc_str(l, "path"), path));
	json_object_put(l);
	CHECK(access(path, R_OK) == 0);
	REQUIRE_EQ(tc_daemon_stop(&D, 10000), 0);

	REQUIRE_EQ(tc_daemon_start(&D, args), 0);
	after = rc_config(SOCK);
	CHECK(!strcmp(before, after));
	if (strcmp(before, after))
		tap_diag("before: %s\n# after:  %s", before, after);
	CHECK_EQ(D.nports, 2);
	CHECK(D.ports[1] == port); /* the port the kernel chose is in the file */
	l = rc_ok(SOCK, "ns_list", "{\"nqn\":\"%s\"}", SUB_B);
	CHECK(l && rc_int(l, "[0].size") == 12 << 20 && rc_int(l, "[0].lba_size") == 4096);
	json_object_put(l);
	free(before);
	free(after);
	unlink(img);
}

/* ---------------------------------------------------------------- metrics */

static char *http_get(int port, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 5 };
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap), req[128];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	if (!buf || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || write(fd, req, strlen(req)) < 0) {
		close(fd);
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	close(fd);
	return buf;
}

/* The value of the sample that starts with `series` ("name{labels}"), or -1. */
static long long sample(const char *text, const char *series)
{
	const char *p = text;
	size_t n = strlen(series);

	while ((p = strstr(p, series))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return atoll(p + n + 1);
		p += n;
	}
	return -1;
}

static void t_metrics(void)
{
	char *log = tc_daemon_log(&D), *text, series[512];
	const char *m = log ? strstr(log, "metrics on 127.0.0.1:") : NULL;
	struct tc_conn a, q;
	uint8_t buf[4096];
	json_object *s;
	int mport;

	REQUIRE(m);
	mport = atoi(m + strlen("metrics on 127.0.0.1:"));
	free(log);
	REQUIRE_EQ(tc_admin_session(&a, D.ports[0], 0, 0, TC_SUBNQN), 0);
	REQUIRE_EQ(tc_io_session(&q, D.ports[0], 0, a.cntlid, 1, 31, 0), 0);
	tc_fill(buf, sizeof(buf), 5);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(tc_rw(&q, 0x01, 1, (uint64_t)i * 8, 8, buf, sizeof(buf), false), 0);
	CHECK_EQ(tc_rw(&q, 0x02, 1, 0, 8, buf, sizeof(buf), false), 0);
	s = rc_ok(SOCK, "stats", "{\"nqn\":\"%s\",\"nsid\":1}", TC_SUBNQN);
	text = http_get(mport, "/metrics");
	REQUIRE(s && text);
	CHECK(strstr(text, "HTTP/1.") && strstr(text, "text/plain; version=0.0.4"));
	snprintf(series, sizeof(series), "nvring_namespace_commands_total{nqn=\"%s\",nsid=\"1\",op=\"write\"}", TC_SUBNQN);
	CHECK_EQ(sample(text, series), rc_int(s, "namespaces[0].write.commands"));
	snprintf(series, sizeof(series), "nvring_namespace_bytes_total{nqn=\"%s\",nsid=\"1\",op=\"read\"}", TC_SUBNQN);
	CHECK_EQ(sample(text, series), rc_int(s, "namespaces[0].read.bytes"));
	snprintf(series, sizeof(series), "nvring_namespace_latency_seconds_count{nqn=\"%s\",nsid=\"1\"}", TC_SUBNQN);
	CHECK_EQ(sample(text, series), rc_int(s, "namespaces[0].read.commands") + rc_int(s, "namespaces[0].write.commands") +
						rc_int(s, "namespaces[0].other.commands"));
	snprintf(series, sizeof(series), "nvring_controller_commands_total{nqn=\"%s\",cntlid=\"%u\",hostnqn=\"%s\",op=\"write\"}",
		 TC_SUBNQN, a.cntlid, TC_HOSTNQN);
	CHECK_EQ(sample(text, series), 5);
	CHECK(sample(text, "nvring_controllers") >= 1);
	snprintf(series, sizeof(series), "nvring_namespace_size_bytes{nqn=\"%s\",nsid=\"1\"}", TC_SUBNQN);
	CHECK_EQ(sample(text, series), 64 << 20);
	free(text);
	json_object_put(s);
	tc_close(&q);
	tc_close(&a);
}

/* ---------------------------------------------------------------- the last namespace under writes */

#define QD 8
#define MAX_CMDS 200000

struct writer {
	struct tc_conn q;
	uint16_t *status;   /* by submission order */
	atomic_uint issued;
	atomic_bool stop;
	atomic_uint invalid_streak;
	atomic_int err;
};

static void *write_loop(void *arg)
{
	struct writer *w = arg;
	static uint8_t buf[QD][4096];
	struct tc_cmd cmd[QD];

	for (unsigned n = 0; n + QD <= MAX_CMDS && atomic_load(&w->invalid_streak) < 64 && !atomic_load(&w->stop);) {
		for (unsigned i = 0; i < QD; i++) {
			tc_rw_cmd(&cmd[i], 0x01, 1, (n + i) % 2048 * 8, 8, buf[i], sizeof(buf[i]));
			if (tc_submit(&w->q, &cmd[i]) < 0) {
				atomic_store(&w->err, -EIO);
				return NULL;
			}
		}
		for (unsigned i = 0; i < QD; i++) {
			if (tc_wait(&w->q, &cmd[i]) < 0) {
				atomic_store(&w->err, -EIO);
				return NULL;
			}
			w->status[n + i] = cmd[i].status;
			atomic_store(&w->invalid_streak, cmd[i].status == ST_INVALID_NS ? atomic_load(&w->invalid_streak) + 1 : 0);
		}
		n += QD;
		atomic_store(&w->issued, n);
	}
	return NULL;
}

static void t_remove_last_ns_while_writing(void)
{
	static struct writer w;
	struct tc_conn a;
	pthread_t th;
	unsigned n, first_invalid = 0, ok_after = 0, other = 0;
	uint8_t id[4096];
	const char *saved = tc_subnqn;

	REQUIRE(rc_done("subsystem_create", "{\"nqn\":\"%s\",\"allow_any_host\":true}", SUB_D));
	REQUIRE(rc_done("ns_add", "{\"nqn\":\"%s\",\"spec\":\"mem:8M\"}", SUB_D));
	w.status = calloc(MAX_CMDS, sizeof(*w.status));
	REQUIRE(w.status);
	REQUIRE_EQ(tc_admin_session(&a, D.ports[0], 0, 0, SUB_D), 0);
	tc_subnqn = SUB_D;
	n = (unsigned)tc_io_session(&w.q, D.ports[0], 0, a.cntlid, 1, 31, 0);
	tc_subnqn = saved;
	REQUIRE_EQ(n, 0);
	REQUIRE_EQ(pthread_create(&th, NULL, write_loop, &w), 0);
	for (uint64_t end = tc_now_ms() + 10000; atomic_load(&w.issued) < 400 && tc_now_ms() < end;)
		usleep(1000);
	CHECK(rc_done("ns_remove", "{\"nqn\":\"%s\",\"nsid\":1}", SUB_D));
	for (uint64_t end = tc_now_ms() + 20000; atomic_load(&w.invalid_streak) < 64 && !atomic_load(&w.err) &&
					 tc_now_ms() < end;)
		usleep(1000);
	atomic_store(&w.stop, true);
	pthread_join(th, NULL);
	CHECK_EQ(atomic_load(&w.err), 0);
	n = atomic_load(&w.issued);
	/* in submission order: successes, then Invalid Namespace, nothing else */
	for (unsigned i = 0; i < n; i++) {
		if (w.status[i] == ST_INVALID_NS && !first_invalid)
			first_invalid = i + 1;
		else if (w.status[i] == 0 && first_invalid)
			ok_after++;
		else if (w.status[i] != 0 && w.status[i] != ST_INVALID_NS)
			other++;
	}
	tap_diag("%u writes: %u succeeded before the removal took effect", n, first_invalid ? first_invalid - 1 : n);
	CHECK(first_invalid > 400);
	CHECK_EQ(ok_after, 0);
	CHECK_EQ(other, 0);
	/* the queue and the controller are still there: the subsystem just has no namespace */
	CHECK_EQ(tc_identify(&a, 0x02, 0, 0, id), 0);
	CHECK(id[0] == 0 && id[1] == 0 && id[2] == 0 && id[3] == 0);
	tc_close(&w.q);
	tc_close(&a);
	free(w.status);
	CHECK(rc_done("subsystem_delete", "{\"nqn\":\"%s\"}", SUB_D));
}

static void t_stop(void)
{
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", "mem:64M", "-t", "2", "-v", "--metrics", "127.0.0.1:0",
			       "--rpc-socket", NULL, NULL };

	if (!tc_daemon_path())
		return tap_skip_all("nvringd not built ($NVRINGD)");
	snprintf(DIR_, sizeof(DIR_), "/tmp/nvring-cfg-%d", (int)getpid());
	if (mkdir(DIR_, 0700) && errno != EEXIST)
		return tap_skip_all("cannot make a temporary directory");
	SOCK = rc_socket_path("cfg");
	args[10] = SOCK;
	if (tc_daemon_start(&D, args) < 0)
		return tap_skip_all("nvringd did not start");
	tap_run("metrics: the counters stats reports, in the Prometheus text format", t_metrics);
	tap_run("removing the last namespace while a host writes", t_remove_last_ns_while_writing);
	tap_run("save_config, restart with -c: the same config_get", t_save_restart);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/saved.json", DIR_);
		unlink(path);
		rmdir(DIR_);
	}
	return tap_finish();
}
