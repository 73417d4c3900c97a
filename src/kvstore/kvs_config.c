/* SPDX-License-Identifier: MIT */
/* Engine options given as key=value strings (a namespace spec's options), into kvs_config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvstore.h"

/* "4096", "64K", "4M", "1G" (binary units). */
static int kvs_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' || *end == 'B' || *end == 'b') /* tolerate KiB / KB */
		end += end[0] == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end || (shift && v > (~0ull >> shift)))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

static int kvs_parse_bool(const char *val, bool *out)
{
	if (!val || !strcmp(val, "1") || !strcmp(val, "on") || !strcmp(val, "true") ||
	    !strcmp(val, "yes"))
		*out = true;
	else if (!strcmp(val, "0") || !strcmp(val, "off") || !strcmp(val, "false") || !strcmp(val, "no"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

int kvs_config_opt(struct kvs_config *cfg, const char *key, const char *val, char *err, size_t errlen)
{
	uint64_t v = 0;
	int ret = 0;

	if (!strcmp(key, "size") || !strcmp(key, "capacity")) {
		ret = kvs_parse_size(val, &cfg->capacity);
	} else if (!strcmp(key, "segment_size") || !strcmp(key, "segment")) {
		ret = kvs_parse_size(val, &v);
		if (!ret && (v < 4096 || v > (1u << 30) || v % 4096))
			ret = -ERANGE;
		cfg->segment_size = (uint32_t)v;
	} else if (!strcmp(key, "max_value")) {
		ret = kvs_parse_size(val, &v);
		if (!ret && (v == 0 || v > (256u << 20)))
			ret = -ERANGE;
		cfg->max_value = (uint32_t)v;
	} else if (!strcmp(key, "gc_threshold") || !strcmp(key, "gc")) {
		ret = kvs_parse_size(val, &v);
		if (!ret && (v == 0 || v > 99))
			ret = -ERANGE;
		cfg->gc_threshold = (unsigned)v;
	} else if (!strcmp(key, "volatile_cache") || !strcmp(key, "vwc")) {
		ret = kvs_parse_bool(val, &cfg->volatile_cache);
	} else if (!strcmp(key, "format")) {
		ret = kvs_parse_bool(val, &cfg->format);
	} else {
		ret = -ENOENT;
	}
	if (ret && err && errlen)
		snprintf(err, errlen, ret == -ENOENT ? "unknown kv option '%s'" :
				      "kv option %s: bad value '%s'", key, val ? val : "");
	return ret;
}
