/* SPDX-License-Identifier: MIT */
/*
 * TAP output for the unit tests: one "ok N - what" line per check, "# ..." diagnostics, the plan
 * at the end and a non-zero exit status if any check failed. (The system tests' tap.h groups
 * checks into named test functions instead, so the two stay separate.)
 */
#ifndef NVRING_TESTS_UNIT_TAP_H
#define NVRING_TESTS_UNIT_TAP_H

#include <stdbool.h>
#include <stdio.h>

/* One check; returns cond so a caller can stop when a precondition fails. */
bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A check that was not run (counts as passing). */
void tap_skip(const char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan; the exit status for main. */
int tap_done(void);

/* Equality with the values shown on failure. */
#define tap_eq(got, want, ...)                                                                 \
	do {                                                                                   \
		unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want); \
		if (!tap_ok(g_ == w_, __VA_ARGS__))                                            \
			printf("#   got 0x%llx, want 0x%llx\n", g_, w_);                       \
	} while (0)

#endif
