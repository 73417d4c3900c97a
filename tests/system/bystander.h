/* SPDX-License-Identifier: MIT */
/*
 * A second host session that must keep working while the test abuses another connection:
 * proof that one bad peer never takes the target down for the others. Also the common start
 * of a system test program.
 */
#ifndef NVRING_TESTS_BYSTANDER_H
#define NVRING_TESTS_BYSTANDER_H

#include <stdbool.h>
#include <stdint.h>

#include "tclient.h"

struct tc_bystander {
	struct tc_conn admin, io;
	bool ok;
	uint64_t lba;   /* where its check writes and reads back (namespace 1, 8 blocks) */
	unsigned seed;
};

/* Admin + I/O queue on port; TAP checks. */
void tc_bystander_open(struct tc_bystander *b, int port);
/* Keep Alive, write, read back, compare: TAP checks. */
void tc_bystander_check(struct tc_bystander *b);
void tc_bystander_close(struct tc_bystander *b);

/*
 * Start nvringd with args for a test program: true with *port set, or false with *status the
 * exit status main() must return (everything skipped when nvringd is not built; `stop` run as
 * the failing test named `title` when it does not start).
 */
bool tc_suite_start(struct tc_daemon *d, const char *const *args, const char *title, int *port,
		    void (*stop)(void), int *status);
/* The same with tc_default_args. */
bool tc_suite_begin(struct tc_daemon *d, int *port, void (*stop)(void), int *status);

#endif
