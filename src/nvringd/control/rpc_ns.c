/* SPDX-License-Identifier: MIT */
/* RPC methods: subsystem_create/_delete/_list, ns_add/_remove/_resize/_list. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"
#include "rpc_int.h"

/* ---- subsystems ---- */

int rpcm_subsystem_create(struct rpc_call *call, void *ctx)
{
	static const char *const drop[] = { "listeners", NULL };
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	struct cfg_subsys cs;
	struct rpc_array ls;
	struct ctl_err e;
	json_object *o;
	size_t *ports;
	size_t nr = 0;
	char err[512];
	bool given;
	int ret;

	given = rpc_param_has(p, "listeners");
	if (rpc_param_array_opt(p, "listeners", &ls))
		return -EINVAL;
	o = rpc_params_without(p, drop);
	if (!o)
		return rpc_error(call, RPC_ERR_INTERNAL, "out of memory");
	pthread_mutex_lock(&c->lock);
	ret = nvr_config_subsys_from_params(c->cfg, &cs, o, "params", err, sizeof(err));
	json_object_put(o);
	if (ret) {
		pthread_mutex_unlock(&c->lock);
		return rpc_error(call, strstr(err, "is also") ? RPC_ERR_EXISTS : RPC_ERR_INVALID_PARAMS, "%s", err);
	}
	ports = calloc(c->cfg->nr_ports + ls.len + 1, sizeof(*ports));
	if (!ports) {
		ret = rpc_error(call, RPC_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (given) {
		for (size_t i = 0; i < ls.len; i++) {
			const char *addr;
			char what[48];
			long pi;

			snprintf(what, sizeof(what), "params.listeners[%zu]", i);
			if (rpc_array_str(&ls, i, &addr)) {
				ret = -EINVAL;
				goto out;
			}
			pi = ctl_port_find(c, addr, what, &e);
			if (pi < 0) {
				if (e.code == RPC_ERR_NOT_FOUND)
					snprintf(e.msg, sizeof(e.msg), "%s: no listener on %s", what, addr);
				ret = rpc_ctl_error(call, &e);
				goto out;
			}
			ports[nr++] = (size_t)pi;
		}
	} else {
		/* by default on every port that serves I/O */
		for (size_t pi = 0; pi < c->cfg->nr_ports; pi++)
			if (!c->cfg->ports[pi].discovery_only)
				ports[nr++] = pi;
	}
	ret = ctl_subsys_create(c, &cs, ports, nr, &e);
	if (ret)
		ret = rpc_ctl_error(call, &e);
	else {
		const struct cfg_subsys *n = &c->cfg->subsys[c->cfg->nr_subsys - 1];

		json_object_object_add(rpc_result_object(call), "nqn", json_object_new_string(n->nqn));
		json_object_object_add(rpc_result_object(call), "serial", json_object_new_string(n->serial));
	}
out:
	pthread_mutex_unlock(&c->lock);
	free(ports);
	nvr_config_subsys_free(&cs);
	return ret;
}

int rpcm_subsystem_delete(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	struct ctl_err e;
	const char *nqn;
	int ret;

	if (rpc_param_str(p, "nqn", &nqn) || rpc_params_done(p))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	ret = ctl_subsys_delete(c, nqn, &e);
	pthread_mutex_unlock(&c->lock);
	return ret ? rpc_ctl_error(call, &e) : 0;
}

int rpcm_subsystem_list(struct rpc_call *call, void *ctx)
{
	struct ctl *c = ctx;
	json_object *r;

	if (rpc_params_done(rpc_call_params(call)))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	r = ctl_info_subsystems(c);
	pthread_mutex_unlock(&c->lock);
	rpc_result_set(call, r);
	return 0;
}

/* ---- namespaces ---- */

/* {nqn, spec, nsid?} in the --ns grammar, or {nqn, device: {...}, nsid?, ...} as in a config file. */
static int rpc_ns_parse(struct rpc_params *p, struct cfg_ns *cn)
{
	static const char *const drop[] = { "nqn", NULL };
	char err[512];
	json_object *o;
	int ret;

	memset(cn, 0, sizeof(*cn));
	if (rpc_param_has(p, "spec")) {
		const char *spec;
		uint64_t nsid;

		if (rpc_param_has(p, "device"))
			return rpc_error(p->call, RPC_ERR_INVALID_PARAMS, "params: give spec or device, not both");
		if (rpc_param_str(p, "spec", &spec) || rpc_param_uint_opt(p, "nsid", 1, NSID_MAX, 0, &nsid) ||
		    rpc_params_done(p))
			return -EINVAL;
		if (nvr_config_parse_ns_spec(cn, spec, err, sizeof(err)))
			return rpc_error(p->call, RPC_ERR_INVALID_PARAMS, "params.spec: %s", err);
		if (nsid && cn->nsid && cn->nsid != nsid) {
			nvr_config_ns_free(cn);
			return rpc_error(p->call, RPC_ERR_INVALID_PARAMS, "params.nsid: %" PRIu64 " but the spec says nsid=%" PRIu32,
					 nsid, cn->nsid);
		}
		if (nsid)
			cn->nsid = (uint32_t)nsid;
		return 0;
	}
	if (!rpc_param_has(p, "device"))
		return rpc_error(p->call, RPC_ERR_INVALID_PARAMS, "params: needs spec (as --ns takes it) or device");
	o = rpc_params_without(p, drop);
	if (!o)
		return rpc_error(p->call, RPC_ERR_INTERNAL, "out of memory");
	ret = nvr_config_ns_from_json(cn, o, "params", err, sizeof(err));
	json_object_put(o);
	if (ret)
		return rpc_error(p->call, RPC_ERR_INVALID_PARAMS, "%s", err);
	return 0;
}

int rpcm_ns_add(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	struct cfg_ns cn;
	struct ctl_err e;
	const char *nqn;
	uint32_t nsid = 0;
	int ret;

	if (rpc_param_str(p, "nqn", &nqn) || rpc_ns_parse(p, &cn))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	ret = ctl_ns_add(c, nqn, &cn, &nsid, &e);
	pthread_mutex_unlock(&c->lock);
	nvr_config_ns_free(&cn);
	if (ret)
		return rpc_ctl_error(call, &e);
	json_object_object_add(rpc_result_object(call), "nsid", json_object_new_int64(nsid));
	return 0;
}

static int rpc_nqn_nsid(struct rpc_params *p, const char **nqn, uint32_t *nsid)
{
	uint64_t v;

	if (rpc_param_str(p, "nqn", nqn) || rpc_param_uint(p, "nsid", 1, NSID_MAX, &v))
		return -EINVAL;
	*nsid = (uint32_t)v;
	return 0;
}

int rpcm_ns_remove(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	struct ctl_err e;
	const char *nqn;
	uint32_t nsid;
	int ret;

	if (rpc_nqn_nsid(p, &nqn, &nsid) || rpc_params_done(p))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	ret = ctl_ns_remove(c, nqn, nsid, &e);
	pthread_mutex_unlock(&c->lock);
	return ret ? rpc_ctl_error(call, &e) : 0;
}

int rpcm_ns_resize(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	struct ctl_err e;
	const char *nqn;
	uint64_t size;
	uint32_t nsid;
	int ret;

	if (rpc_nqn_nsid(p, &nqn, &nsid) || rpc_param_size(p, "size", &size) || rpc_params_done(p))
		return -EINVAL;
	if (!size)
		return rpc_error(call, RPC_ERR_INVALID_PARAMS, "params.size: must be more than 0");
	pthread_mutex_lock(&c->lock);
	ret = ctl_ns_resize(c, nqn, nsid, size, &e);
	pthread_mutex_unlock(&c->lock);
	if (ret)
		return rpc_ctl_error(call, &e);
	json_object_object_add(rpc_result_object(call), "size", json_object_new_uint64(size));
	return 0;
}

int rpcm_ns_list(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	struct ctl_err e;
	const char *nqn;
	json_object *r;

	if (rpc_param_str(p, "nqn", &nqn) || rpc_params_done(p))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	r = ctl_info_namespaces(c, nqn, &e);
	pthread_mutex_unlock(&c->lock);
	if (!r)
		return rpc_ctl_error(call, &e);
	rpc_result_set(call, r);
	return 0;
}

