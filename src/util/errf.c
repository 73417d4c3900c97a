/* SPDX-License-Identifier: MIT */
/* The error-message helper every library that explains a refusal shares. */
#include "util/errf.h"

#include <stdarg.h>
#include <stdio.h>

int nvr_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}
