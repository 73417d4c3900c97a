/* SPDX-License-Identifier: MIT */
#ifndef NVR_UTIL_SIZE_STR_H
#define NVR_UTIL_SIZE_STR_H

#include <stdint.h>

/*
 * A size as operators write it, in flags, the JSON configuration and RPC parameters alike:
 * decimal digits, then at most one of K M G T (binary multiples, any case). 0 on success;
 * -EINVAL for anything else (NULL, empty, a sign, junk), -ERANGE if it does not fit 64 bits.
 */
int nvr_parse_size(const char *s, uint64_t *out);

#endif
