/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

int nvr_verbose;

void nvr_log(int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level > nvr_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write per line so lines from several workers do not interleave */
	fprintf(stderr, "nvringd: %s\n", line);
}
