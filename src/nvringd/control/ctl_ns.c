/* SPDX-License-Identifier: MIT */
/*
 * ns_add / ns_remove / ns_resize: the configuration entry and the running namespace change
 * together. The registry publishes, drains and tells the hosts (Namespace Attribute Changed,
 * Changed Namespace List).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "ctl_int.h"
#include "log.h"
#include "ns/registry.h"
#include "rpc/rpc.h"
#include "setup.h"
#include "target.h"

/* The config's messages: a clash with what exists, or a bad value. */
static int ctl_cfg_code(const char *msg)
{
	return strstr(msg, "is also") || strstr(msg, "has the same") ? RPC_ERR_EXISTS : RPC_ERR_INVALID_PARAMS;
}

int ctl_ns_add(struct ctl *c, const char *nqn, struct cfg_ns *cn, uint32_t *nsid, struct ctl_err *e)
{
	struct target *tgt = c->tgt;
	long si = ctl_subsys_find(c, nqn, e);
	struct cfg_subsys *cs;
	struct nvr_subsys *s;
	struct nvr_ns *ns;
	char err[512];
	size_t k;
	int ret;

	if (si < 0)
		return -1;
	s = tgt->subsys[si];
	if (cn->nsid > s->max_nsid)
		return ctl_fail(e, RPC_ERR_INVALID_PARAMS, "params.nsid: %" PRIu32 " is above the highest NSID of '%s' (%" PRIu32 ")",
				cn->nsid, nqn, s->max_nsid);
	if (nvr_config_add_ns(c->cfg, (size_t)si, cn, "params", err, sizeof(err)))
		return ctl_fail(e, ctl_cfg_code(err), "%s", err);
	cs = &c->cfg->subsys[si];
	k = cs->nr_ns - 1;
	*nsid = cs->ns[k].nsid;
	if (*nsid > s->max_nsid) {
		ctl_cfg_remove_ns(c->cfg, (size_t)si, k);
		return ctl_fail(e, RPC_ERR_LIMIT, "'%s' has no free NSID up to %" PRIu32, nqn, s->max_nsid);
	}
	if (!cs->ns[k].enabled)
		return 0; /* kept in the configuration only, as nvmet's disabled namespaces */
	ret = target_ns_open(tgt, cs, &cs->ns[k], &ns, err, sizeof(err));
	if (ret < 0) {
		ctl_cfg_remove_ns(c->cfg, (size_t)si, k);
		return ctl_fail(e, ret == -EOPNOTSUPP ? RPC_ERR_UNSUPPORTED : ret == -EINVAL ? RPC_ERR_INVALID_PARAMS
											: RPC_ERR_IO, "%s", err);
	}
	ret = registry_ns_add(tgt, s, ns);
	if (ret < 0) {
		ns_destroy(ns);
		ctl_cfg_remove_ns(c->cfg, (size_t)si, k);
		return ctl_fail(e, RPC_ERR_INTERNAL, "namespace %" PRIu32 " of '%s': %s", *nsid, nqn, strerror(-ret));
	}
	log_info("control: %s namespace %" PRIu32 " added (%s)", nqn, *nsid, cs->ns[k].kind);
	return 0;
}

int ctl_ns_remove(struct ctl *c, const char *nqn, uint32_t nsid, struct ctl_err *e)
{
	struct target *tgt = c->tgt;
	long si = ctl_subsys_find(c, nqn, e), k;
	struct nvr_subsys *s;
	struct nvr_ns *ns;

	if (si < 0 || (k = ctl_ns_find(c, (size_t)si, nsid, e)) < 0)
		return -1;
	s = tgt->subsys[si];
	ns = subsys_find_ns(s, nsid);
	if (ns && ns->ops->poll)
		return ctl_fail(e, RPC_ERR_UNSUPPORTED,
				"namespace %" PRIu32 " of '%s' runs background work on the workers (%s): "
				"it goes only with a restart", nsid, nqn, ns->ops->kind);
	/* commands in flight on it complete first; later ones get Invalid Namespace */
	if (ns)
		registry_ns_remove(tgt, s, nsid);
	ctl_cfg_remove_ns(c->cfg, (size_t)si, (size_t)k);
	log_info("control: %s namespace %" PRIu32 " removed", nqn, nsid);
	return 0;
}

int ctl_ns_resize(struct ctl *c, const char *nqn, uint32_t nsid, uint64_t bytes, struct ctl_err *e)
{
	struct target *tgt = c->tgt;
	long si = ctl_subsys_find(c, nqn, e), k;
	struct nvr_subsys *s;
	struct nvr_ns *ns;
	char err[512] = "";
	int ret;

	if (si < 0 || (k = ctl_ns_find(c, (size_t)si, nsid, e)) < 0)
		return -1;
	s = tgt->subsys[si];
	ns = subsys_find_ns(s, nsid);
	if (!ns)
		return ctl_fail(e, RPC_ERR_STATE, "namespace %" PRIu32 " of '%s' is disabled", nsid, nqn);
	if (!ns->ops->resize)
		return ctl_fail(e, RPC_ERR_UNSUPPORTED, "namespace %" PRIu32 " of '%s' (%s) cannot be resized", nsid, nqn,
				c->cfg->subsys[si].ns[k].kind);
	ret = ns->ops->resize(ns, bytes, err, sizeof(err));
	if (ret < 0)
		return ctl_fail(e, ret == -EINVAL || ret == -ERANGE ? RPC_ERR_INVALID_PARAMS : rpc_errno_code(ret),
				"namespace %" PRIu32 " of '%s': %s", nsid, nqn, err[0] ? err : strerror(-ret));
	c->cfg->subsys[si].ns[k].size = bytes;
	registry_ns_changed(tgt, s, nsid);
	log_info("control: %s namespace %" PRIu32 " resized to %" PRIu64 " bytes", nqn, nsid, bytes);
	return 0;
}
