/* SPDX-License-Identifier: MIT */
/* Opening a namespace of a configured kind, and its end. */
#include "ns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "registry.h"
#include "resv_ns.h"

struct ns_kind {
	const char *name;
	int (*open)(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen);
};

static const struct ns_kind ns_kinds[] = {
	{ "mem", ns_block_open },
	{ "file", ns_block_open },
	{ "kv", ns_kv_open },
	{ "passthru", ns_passthru_open },
	{ "rbd", ns_rbd_open },
	{ "kv-rados", ns_kv_rados_open },
};

int ns_open(struct target *tgt, struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen)
{
	const struct ns_kind *k = NULL;
	int ret;

	for (size_t i = 0; i < sizeof(ns_kinds) / sizeof(ns_kinds[0]); i++)
		if (!strcmp(ns_kinds[i].name, cn->kind))
			k = &ns_kinds[i];
	if (!k) {
		snprintf(err, errlen, "'%s' namespaces are not supported by this build", cn->kind);
		return -EOPNOTSUPP;
	}
	ns->nsid = cn->nsid;
	memcpy(ns->uuid, cn->uuid, sizeof(ns->uuid));
	memcpy(ns->nguid, cn->nguid, sizeof(ns->nguid));
	memcpy(ns->eui64, cn->nguid, sizeof(ns->eui64));
	/* every namespace is in an ANA group: a Linux host leaves one outside "ANA pending" */
	ns->anagrpid = cn->ana_grpid ? cn->ana_grpid : NVR_CFG_DEFAULT_ANA_GRPID;
	ret = registry_ns_init(tgt, ns);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	ret = k->open(ns, cn, err, errlen);
	if (!ret && ns->ops->reservations) {
		ret = resv_ns_open(ns, cn->path, err, errlen);
		if (ret)
			ns->ops->close(ns);
	}
	if (ret) {
		free(ns->refs);
		free(ns->stats);
		ns->refs = NULL;
		ns->stats = NULL;
	}
	return ret;
}

void ns_destroy(struct nvr_ns *ns)
{
	if (ns->ops && ns->ops->close)
		ns->ops->close(ns);
	resv_ns_close(ns);
	free(ns->refs);
	free(ns->stats);
	free(ns);
}
