/* SPDX-License-Identifier: MIT */
/* Stable identifiers derived from names, so that serials, UUIDs and NGUIDs survive restarts. */
#include "cfg_int.h"

#include <inttypes.h>
#include <stdio.h>

static uint64_t cfg_fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t cfg_fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

/* 16 bytes from (domain, nqn, nsid); two independently seeded FNV-1a lanes, each finalised. */
static void cfg_hash128(const char *domain, const char *nqn, uint32_t nsid, uint8_t out[16])
{
	char num[16];
	uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;

	snprintf(num, sizeof(num), "/%" PRIu32, nsid);
	a = cfg_fnv1a(cfg_fnv1a(cfg_fnv1a(a, domain), nqn), num);
	b = cfg_fnv1a(cfg_fnv1a(cfg_fnv1a(b, num), nqn), domain);
	a = cfg_fmix64(a);
	b = cfg_fmix64(b ^ a);
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)(a >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(b >> (56 - 8 * i));
	}
}

bool cfg_is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

void cfg_gen_serial(const char *nqn, char serial[21])
{
	uint8_t h[16];

	cfg_hash128("serial", nqn, 0, h);
	for (int i = 0; i < 10; i++)
		snprintf(serial + 2 * i, 3, "%02x", h[i]);
}

/* Only the identifiers not given (all-zero is how nvmetcli saves "none"). */
void cfg_gen_ns_ids(const char *nqn, struct cfg_ns *ns)
{
	if (cfg_is_zero(ns->uuid, 16)) {
		cfg_hash128("uuid", nqn, ns->nsid, ns->uuid);
		ns->uuid[6] = (uint8_t)((ns->uuid[6] & 0x0f) | 0x80); /* RFC 9562 version 8 */
		ns->uuid[8] = (uint8_t)((ns->uuid[8] & 0x3f) | 0x80); /* variant 10 */
	}
	if (cfg_is_zero(ns->nguid, 16))
		cfg_hash128("nguid", nqn, ns->nsid, ns->nguid);
}
