/* SPDX-License-Identifier: MIT */
/* TAP output for the system tests (see tap.h). */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>

static int tap_count;
static int tap_failed_tests;
static bool tap_cur_failed;

bool tap_check(bool cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return true;
	tap_cur_failed = true;
	printf("# %s:%d: check failed: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return false;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void tap_run(const char *name, void (*fn)(void))
{
	tap_cur_failed = false;
	fn();
	tap_count++;
	if (tap_cur_failed)
		tap_failed_tests++;
	printf("%sok %d - %s\n", tap_cur_failed ? "not " : "", tap_count, name);
	fflush(stdout);
}

void tap_skip(const char *name, const char *reason)
{
	tap_count++;
	printf("ok %d - %s # SKIP %s\n", tap_count, name, reason);
	fflush(stdout);
}

int tap_finish(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failed_tests ? 1 : 0;
}

int tap_skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	fflush(stdout);
	return 0;
}
