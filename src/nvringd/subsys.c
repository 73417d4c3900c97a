/* SPDX-License-Identifier: MIT */
/* Lookups in a subsystem: a namespace by NSID (tables are sorted) and the host allow list. */
#include <stdlib.h>
#include <string.h>

#include "subsys.h"

struct nvr_ns *ns_table_find(const struct ns_table *t, uint32_t nsid)
{
	unsigned lo = 0, hi = t ? t->nr : 0;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (t->ns[mid]->nsid == nsid)
			return t->ns[mid];
		if (t->ns[mid]->nsid < nsid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct nvr_host *subsys_host_find(const struct nvr_subsys *s, const char *hostnqn)
{
	const struct host_table *t = atomic_load_explicit(&((struct nvr_subsys *)s)->hosts, memory_order_acquire);

	for (unsigned i = 0; t && i < t->nr; i++)
		if (!strcmp(t->host[i]->nqn, hostnqn))
			return t->host[i];
	return NULL;
}

bool subsys_host_allowed(const struct nvr_subsys *s, const char *hostnqn)
{
	return s->allow_any_host || subsys_host_find(s, hostnqn);
}

void port_put(struct nvr_port *p)
{
	if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
		free(p->referrals);
		free(p);
	}
}
