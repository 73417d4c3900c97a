/* SPDX-License-Identifier: MIT */
/* Little-endian field readers at raw byte offsets: the tests check the wire layout, not structs. */
#ifndef NVRING_TESTS_TARGET_BYTES_H
#define NVRING_TESTS_TARGET_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t le_at(const void *buf, size_t off, size_t n)
{
	const uint8_t *p = (const uint8_t *)buf + off;
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}
#define u8_at(b, o) le_at(b, o, 1)
#define u16_at(b, o) le_at(b, o, 2)
#define u32_at(b, o) le_at(b, o, 4)
#define u64_at(b, o) le_at(b, o, 8)

static inline bool all_zero(const void *buf, size_t off, size_t n)
{
	const uint8_t *p = (const uint8_t *)buf + off;

	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* `s` followed by `pad` up to `width` bytes. */
static inline bool padded_eq(const void *buf, size_t off, size_t width, const char *s, char pad)
{
	const char *p = (const char *)buf + off;
	size_t n = strlen(s);

	if (n > width || memcmp(p, s, n))
		return false;
	for (size_t i = n; i < width; i++)
		if (p[i] != pad)
			return false;
	return true;
}

#endif
