/* SPDX-License-Identifier: MIT */
/* Minimal TAP output: `ok N - name` per check, the plan at the end, non-zero exit on failure. */
#ifndef NVRING_TESTS_TARGET_TAP_H
#define NVRING_TESTS_TARGET_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	return cond;
}

/* Equality with the values shown on failure. */
#define tap_eq(got, want, ...)                                                                 \
	do {                                                                                   \
		unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want); \
		if (!tap_ok(g_ == w_, __VA_ARGS__))                                            \
			printf("#   got 0x%llx, want 0x%llx\n", g_, w_);                       \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
