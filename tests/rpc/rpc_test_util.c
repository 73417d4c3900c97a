/* SPDX-License-Identifier: MIT */
/* Helpers of the RPC tests over real sockets (see rpc_test_util.h). */
#include "rpc_test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool tu_wait_readable(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t left = deadline - tu_now_ms();

	return left > 0 && poll(&p, 1, (int)left) == 1;
}

/* One line of the child's stdout into line (without '\n'); false on EOF or timeout. */
static bool testd_line(struct testd *t, char *line, size_t cap, int64_t deadline)
{
	for (;;) {
		char *nl = memchr(t->outbuf, '\n', t->outlen);
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - t->outbuf);

			snprintf(line, cap, "%.*s", (int)l, t->outbuf);
			memmove(t->outbuf, nl + 1, t->outlen - l - 1);
			t->outlen -= l + 1;
			return true;
		}
		if (t->outlen == sizeof(t->outbuf) || !tu_wait_readable(t->out, deadline))
			return false;
		n = read(t->out, t->outbuf + t->outlen, sizeof(t->outbuf) - t->outlen);
		if (n <= 0)
			return false;
		t->outlen += (size_t)n;
	}
}

/* The child's stdout reaches EOF when it exits (nothing else holds the pipe): wait for that,
 * with a deadline, then reap it. */
static int testd_reap(struct testd *t, int timeout_ms)
{
	int64_t deadline = tu_now_ms() + timeout_ms;
	char b[256];
	int st;

	for (;;) {
		if (!tu_wait_readable(t->out, deadline))
			return -1;
		if (read(t->out, b, sizeof(b)) <= 0)
			break;
	}
	if (waitpid(t->pid, &st, 0) != t->pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void testd_close(struct testd *t)
{
	if (t->in >= 0)
		close(t->in);
	close(t->out);
	close(t->err);
	t->in = t->out = t->err = -1;
	t->pid = 0;
}

int testd_start(struct testd *t, const char *exe, const char *const args[], char *errbuf, size_t errlen)
{
	int in[2], out[2], err[2];
	char line[256];
	int64_t deadline = tu_now_ms() + 10000;
	size_t n = 0;

	memset(t, 0, sizeof(*t));
	t->metrics_port = -1;
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -1;
	t->pid = fork();
	if (t->pid == 0) {
		const char *argv[32] = { exe };
		int i = 1;

		for (; args && args[i - 1] && i < 31; i++)
			argv[i] = args[i - 1];
		argv[i] = NULL;
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	t->in = in[1];
	t->out = out[0];
	t->err = err[0];
	while (testd_line(t, line, sizeof(line), deadline)) {
		if (!strncmp(line, "metrics ", 8))
			t->metrics_port = atoi(line + 8);
		else if (!strcmp(line, "ready"))
			return 0;
	}
	/* It did not start: its status and what it said. */
	int st = testd_reap(t, 10000);

	if (errbuf) {
		while (n + 1 < errlen) {
			ssize_t r = read(t->err, errbuf + n, errlen - n - 1);

			if (r <= 0)
				break;
			n += (size_t)r;
		}
		errbuf[n] = '\0';
		if (n && errbuf[n - 1] == '\n')
			errbuf[n - 1] = '\0';
	}
	testd_close(t);
	return st == 0 ? -1 : st;
}

int testd_stop(struct testd *t)
{
	char line[256];
	bool stopped = false;
	int st;

	close(t->in);
	t->in = -1;
	while (testd_line(t, line, sizeof(line), tu_now_ms() + 10000))
		stopped |= !strcmp(line, "stopped");
	st = testd_reap(t, 10000);
	if (st < 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
	}
	testd_close(t);
	return st < 0 ? -1 : !stopped ? -2 : st;
}

void testd_kill(struct testd *t)
{
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	testd_close(t);
}

int tu_unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int tu_tcp_connect(const char *ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

bool tu_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

size_t tu_read_lines(int fd, char *buf, size_t cap, int lines, int timeout_ms, bool *eof)
{
	int64_t deadline = tu_now_ms() + timeout_ms;
	size_t len = 0;
	int seen = 0;

	*eof = false;
	while (seen < lines && len + 1 < cap && tu_wait_readable(fd, deadline)) {
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);

		if (n <= 0) {
			*eof = true;
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			seen += buf[len + (size_t)i] == '\n';
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

long long tu_drain_to_eof(int fd, int timeout_ms)
{
	int64_t deadline = tu_now_ms() + timeout_ms;
	long long total = 0;
	char b[65536];

	while (tu_wait_readable(fd, deadline)) {
		ssize_t n = recv(fd, b, sizeof(b), 0);

		if (n <= 0)
			return total;
		total += n;
	}
	return -1;
}
