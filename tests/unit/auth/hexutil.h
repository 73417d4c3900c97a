/* SPDX-License-Identifier: MIT */
/* Hex helpers for the auth unit tests. */
#ifndef NVRING_TESTS_UNIT_AUTH_HEXUTIL_H
#define NVRING_TESTS_UNIT_AUTH_HEXUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Decode hex into out; returns the byte count. */
static inline size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	while (s[0] && s[1] && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

#endif
