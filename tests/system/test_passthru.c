/* SPDX-License-Identifier: MIT */
/*
 * Passthrough namespaces on a machine without an NVMe drive: what is not an NVMe generic
 * char device is refused at start with exit status 2 and a message naming the problem.
 * (Serving a real drive is tested in a QEMU guest: tests/interop/guest/passthru.sh.)
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "tclient.h"

static char out[4096];

/* Run nvringd with one namespace; its exit status (-1 if it did not exit within 10 s), stderr in out. */
static int run_ns(const char *spec)
{
	const char *bin = tc_daemon_path();
	int p[2], status;
	size_t n = 0;
	pid_t pid;
	time_t end = time(NULL) + 10;

	out[0] = 0;
	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		execl(bin, bin, "-l", "127.0.0.1:0", "--ns", spec, "-t", "1", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (time(NULL) < end) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		r = read(p[0], out + n, sizeof(out) - 1 - n);
		if (r <= 0)
			break; /* EOF: the daemon has exited (or closed its output) */
		n += (size_t)r;
		out[n] = 0;
	}
	close(p[0]);
	for (int i = 0; i < 50; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(100 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void t_dev_null(void)
{
	CHECK_EQ(run_ns("passthru:/dev/null"), 2);
	if (!CHECK(strstr(out, "/dev/null is not an NVMe namespace char device")))
		tap_diag("output: %s", out);
}

static void t_regular_file(void)
{
	char path[] = "/tmp/nvring-pt-XXXXXX", spec[64];
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "passthru:%s", path);
	CHECK_EQ(run_ns(spec), 2);
	if (!CHECK(strstr(out, "not a character device") && strstr(out, "/dev/ngXnY")))
		tap_diag("output: %s", out);
	unlink(path);
}

static void t_missing(void)
{
	CHECK_EQ(run_ns("passthru:/dev/ng-nvring-missing"), 2);
	if (!CHECK(strstr(out, "/dev/ng-nvring-missing: No such file or directory")))
		tap_diag("output: %s", out);
}

static void t_block_device(void)
{
	/* a loop device node stands for any block device: not opened as a drive */
	if (access("/dev/loop0", F_OK) != 0) {
		tap_diag("no /dev/loop0");
		return;
	}
	CHECK_EQ(run_ns("passthru:/dev/loop0"), 2);
	if (!CHECK(strstr(out, "a block device") && strstr(out, "file:")))
		tap_diag("output: %s", out);
}

int main(void)
{
	if (access(tc_daemon_path(), X_OK) != 0)
		return tap_skip_all("nvringd not built");
	tap_run("passthru:/dev/null refused: exit 2, not an NVMe namespace char device", t_dev_null);
	tap_run("passthru:<regular file> refused: exit 2, not a character device", t_regular_file);
	tap_run("passthru:<missing path> refused: exit 2, the path and the errno", t_missing);
	if (access("/dev/loop0", F_OK) == 0)
		tap_run("passthru:<block device> refused: exit 2, use file: for it", t_block_device);
	else
		tap_skip("passthru:<block device> refused", "no /dev/loop0");
	return tap_finish();
}
