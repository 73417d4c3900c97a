/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP producer for the system tests: one "ok N - name" line per test function,
 * diagnostics as "# ..." lines, plan "1..N" at the end, exit status non-zero on failure.
 */
#ifndef NVRING_TESTS_TAP_H
#define NVRING_TESTS_TAP_H

#include <stdbool.h>

/* Record one assertion inside the running test; returns cond so callers can bail out. */
bool tap_check(bool cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run fn as test `name` and print its TAP line. */
void tap_run(const char *name, void (*fn)(void));
/* Report a test as skipped (counts as passing). */
void tap_skip(const char *name, const char *reason);
/* Print the plan; the return value is the process exit code. */
int tap_finish(void);
/* Whole program skipped (e.g. nvringd not built): prints "1..0 # SKIP reason". */
int tap_skip_all(const char *reason);

#define CHECK(cond) tap_check(!!(cond), __FILE__, __LINE__, "%s", #cond)
#define CHECK_EQ(got, exp) ({ \
	long long _g = (long long)(got), _e = (long long)(exp); \
	tap_check(_g == _e, __FILE__, __LINE__, "%s == %s (got %#llx, expected %#llx)", \
		  #got, #exp, _g, _e); })
/* Stop the current test function when a precondition fails. */
#define REQUIRE(cond) do { if (!CHECK(cond)) return; } while (0)
#define REQUIRE_EQ(got, exp) do { if (!CHECK_EQ(got, exp)) return; } while (0)

#endif
