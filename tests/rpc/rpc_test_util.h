/* SPDX-License-Identifier: MIT */
/* Helpers of the RPC tests over real sockets: rpc_testd as a child, reads with deadlines. */
#ifndef NVRING_TESTS_RPC_UTIL_H
#define NVRING_TESTS_RPC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct testd {
	pid_t pid;
	int in, out, err;     /* its stdin (write end), stdout and stderr (read ends) */
	char outbuf[4096];    /* stdout read but not yet taken as lines */
	size_t outlen;
	int metrics_port;     /* from "metrics PORT", else -1 */
};

int64_t tu_now_ms(void);

/* Start rpc_testd with args (NULL-terminated) and wait for "ready" (10 s). Returns 0, or its
 * exit status (it failed to start) with its stderr in errbuf. */
int testd_start(struct testd *t, const char *exe, const char *const args[], char *errbuf, size_t errlen);
/* EOF on its stdin; waits for it to exit (10 s). Returns its exit status, -1 if it did not stop
 * (then it is killed) or -2 if it did not print "stopped". */
int testd_stop(struct testd *t);
void testd_kill(struct testd *t); /* SIGKILL and reap: leaves its socket behind */

int tu_unix_connect(const char *path);            /* fd or -errno */
int tu_tcp_connect(const char *ip, int port);     /* fd or -errno */
bool tu_send(int fd, const void *buf, size_t len);
/* Read until lines '\n' have arrived, EOF or the deadline; returns the bytes read (NUL-terminated
 * in buf), *eof tells whether the peer closed (EOF or reset). */
size_t tu_read_lines(int fd, char *buf, size_t cap, int lines, int timeout_ms, bool *eof);
/* Read and drop until EOF/reset; returns the bytes dropped, or -1 on timeout. */
long long tu_drain_to_eof(int fd, int timeout_ms);

#endif
