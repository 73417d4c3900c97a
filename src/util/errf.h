/* SPDX-License-Identifier: MIT */
#ifndef NVR_UTIL_ERRF_H
#define NVR_UTIL_ERRF_H

#include <stddef.h>

/*
 * Formats a one-line message into err (errlen bytes; nothing if err is NULL or errlen 0) and
 * returns rc, so that a refusal is one statement: return nvr_errf(err, errlen, -EINVAL, ...).
 */
int nvr_errf(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
