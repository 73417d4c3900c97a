/* SPDX-License-Identifier: MIT */
/*
 * The controller session (src/auth/dhchap_ctrl.c) on stdin/stdout, one command per line, for
 * the Python oracle (dhchap_oracle.py) to drive message by message:
 *   send HEX      Authentication Send          -> "status S[ deferred]"
 *   recv AL       Authentication Receive       -> "status S HEX|-"
 *   state         -> "state N|A|F pending 0|1 reason R hash H dh G bidi 0|1 deadline D"
 *   now NS        set the clock the session sees -> "ok"
 *   expire        dhchap_ctrl_expire            -> "ok"
 *   reset         a fresh session (a new queue) -> "ok"
 * S is the NVMe status in hex. With --defer the DH steps run on a second thread, as nvringd
 * would run them off its worker.
 * Options: --host-key K [--ctrl-key K] --hostnqn N --subnqn N [--hashes a,b] [--dhgroups a,b]
 *          [--timeout-ms T] [--defer]
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/dhchap_ctrl.h"

static struct dhchap_key host_key, ctrl_key;
static struct dhchap_ctrl_cfg cfg;
static struct dhchap_ctrl *sess;
static uint64_t now_ns;

static int parse_list(const char *s, int (*lookup)(const char *), uint8_t *mask)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	*mask = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int id = lookup(tok);

		if (id < 0) {
			fprintf(stderr, "dhchap_ctrl_pipe: unknown name %s\n", tok);
			return -1;
		}
		*mask |= (uint8_t)(1u << id);
	}
	return 0;
}

static void *work_thread(void *arg)
{
	return (void *)(intptr_t)dhchap_ctrl_work(arg);
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (n < cap && s[0] && s[1] && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void cmd_send(const char *hex)
{
	static uint8_t buf[DHCHAP_SEND_MAX + 64];
	size_t len = unhex(hex, buf, sizeof(buf));
	int st = dhchap_ctrl_send(sess, buf, len, now_ns);

	if (st == DHCHAP_CTRL_DEFER) {
		pthread_t t;
		void *r;

		pthread_create(&t, NULL, work_thread, sess);
		pthread_join(t, &r);
		printf("status %x deferred\n", (unsigned)(intptr_t)r);
		return;
	}
	printf("status %x\n", (unsigned)st);
}

static void cmd_recv(size_t al)
{
	static uint8_t buf[8192];
	size_t len = 0;
	int st;

	if (al > sizeof(buf))
		al = sizeof(buf);
	st = dhchap_ctrl_recv(sess, buf, al, &len, now_ns);
	printf("status %x ", (unsigned)st);
	if (!len)
		printf("-");
	for (size_t i = 0; i < len; i++)
		printf("%02x", buf[i]);
	printf("\n");
}

static void cmd_state(void)
{
	static const char st[] = { 'N', 'A', 'F' };

	printf("state %c pending %d reason %u hash %u dh %u bidi %d deadline %llu\n", st[dhchap_ctrl_state(sess)],
	       dhchap_ctrl_failure_pending(sess), dhchap_ctrl_fail_reason(sess), dhchap_ctrl_hash(sess),
	       dhchap_ctrl_dhgroup(sess), dhchap_ctrl_bidirectional(sess),
	       (unsigned long long)dhchap_ctrl_deadline(sess));
}

static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host-key", required_argument, NULL, 'k' }, { "ctrl-key", required_argument, NULL, 'c' },
		{ "hostnqn", required_argument, NULL, 'q' },  { "subnqn", required_argument, NULL, 'n' },
		{ "hashes", required_argument, NULL, 'H' },   { "dhgroups", required_argument, NULL, 'D' },
		{ "timeout-ms", required_argument, NULL, 't' }, { "defer", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'k':
		case 'c':
			if (dhchap_key_parse(optarg, c == 'k' ? &host_key : &ctrl_key, &why)) {
				fprintf(stderr, "dhchap_ctrl_pipe: bad key: %s\n", why);
				return -1;
			}
			if (c == 'k')
				cfg.host_key = &host_key;
			else
				cfg.ctrl_key = &ctrl_key;
			break;
		case 'q':
			cfg.hostnqn = optarg;
			break;
		case 'n':
			cfg.subnqn = optarg;
			break;
		case 'H':
			if (parse_list(optarg, dhchap_hash_id, &cfg.hashes))
				return -1;
			break;
		case 'D':
			if (parse_list(optarg, dhchap_dh_id, &cfg.dhgroups))
				return -1;
			break;
		case 't':
			cfg.timeout_ms = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			cfg.defer_dh = true;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char line[2 * (DHCHAP_SEND_MAX + 64) + 64];

	if (parse_args(argc, argv))
		return 2;
	sess = dhchap_ctrl_new(&cfg, now_ns);
	if (!sess) {
		fprintf(stderr, "dhchap_ctrl_pipe: session: %s\n", strerror(errno));
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!strncmp(line, "send ", 5)) {
			cmd_send(line + 5);
		} else if (!strncmp(line, "recv ", 5)) {
			cmd_recv(strtoul(line + 5, NULL, 0));
		} else if (!strcmp(line, "state")) {
			cmd_state();
		} else if (!strncmp(line, "now ", 4)) {
			now_ns = strtoull(line + 4, NULL, 0);
			printf("ok\n");
		} else if (!strcmp(line, "expire")) {
			dhchap_ctrl_expire(sess);
			printf("ok\n");
		} else if (!strcmp(line, "reset")) {
			dhchap_ctrl_free(sess);
			sess = dhchap_ctrl_new(&cfg, now_ns);
			printf(sess ? "ok\n" : "error\n");
			if (!sess)
				return 1;
		} else if (!strcmp(line, "quit")) {
			break;
		} else {
			printf("error unknown command\n");
		}
	}
	dhchap_ctrl_free(sess);
	dhchap_key_clear(&host_key);
	dhchap_key_clear(&ctrl_key);
	return 0;
}
