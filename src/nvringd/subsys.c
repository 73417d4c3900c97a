/* SPDX-License-Identifier: MIT */
/* Lookups in a subsystem: a namespace by NSID (ns[] is sorted by setup) and the host allow list. */
#include <string.h>

#include "subsys.h"

struct nvr_ns *subsys_find_ns(const struct nvr_subsys *s, uint32_t nsid)
{
	unsigned lo = 0, hi = s->nr_ns;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (s->ns[mid]->nsid == nsid)
			return s->ns[mid];
		if (s->ns[mid]->nsid < nsid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool subsys_host_allowed(const struct nvr_subsys *s, const char *hostnqn)
{
	if (s->allow_any_host)
		return true;
	for (unsigned i = 0; i < s->nr_hosts; i++)
		if (!strcmp(s->hosts[i], hostnqn))
			return true;
	return false;
}
