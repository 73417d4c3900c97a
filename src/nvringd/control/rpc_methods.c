/* SPDX-License-Identifier: MIT */
/*
 * The JSON-RPC methods: each reads and checks its params (messages name the item, "params.nsid"),
 * then calls one control function under the control lock and reports its result or error.
 * This file: the table, the target-wide methods and the shared helpers; rpc_ns.c: subsystems
 * and namespaces; rpc_access.c: listeners, hosts, controllers and counters.
 */
#include "rpc_methods.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "control/ana_ctl.h"
#include "ctl_int.h"
#include "rpc_int.h"

#ifndef NVRING_VERSION
#define NVRING_VERSION "unknown"
#endif

int rpc_ctl_error(struct rpc_call *call, const struct ctl_err *e)
{
	return rpc_error(call, e->code ? e->code : RPC_ERR_FAILED, "%s", e->msg);
}

/* A copy of the params without `drop` keys (the config readers take the rest). */
json_object *rpc_params_without(struct rpc_params *p, const char *const *drop)
{
	json_object *o = json_object_new_object(), *in = rpc_params_json(p);

	if (!o || !in)
		return o;
	json_object_object_foreach(in, key, val) {
		bool skip = false;

		for (size_t i = 0; drop[i] && !skip; i++)
			skip = !strcmp(key, drop[i]);
		if (!skip)
			json_object_object_add(o, key, json_object_get(val));
	}
	return o;
}

int rpc_nqn_param(struct rpc_params *p, const char *key, const char **out)
{
	if (rpc_param_str(p, key, out))
		return -EINVAL;
	if (!nvr_nqn_valid(*out))
		return rpc_error(p->call, RPC_ERR_INVALID_PARAMS, "params.%s: '%s' is not a valid NQN", key, *out);
	return 0;
}

/* ---- target ---- */

int rpcm_version(struct rpc_call *call, void *ctx)
{
	json_object *r;

	(void)ctx;
	if (rpc_params_done(rpc_call_params(call)))
		return -EINVAL;
	r = rpc_result_object(call);
	json_object_object_add(r, "name", json_object_new_string("nvringd"));
	json_object_object_add(r, "version", json_object_new_string(NVRING_VERSION));
	return 0;
}

int rpcm_config_get(struct rpc_call *call, void *ctx)
{
	struct ctl *c = ctx;
	json_object *cfg;

	if (rpc_params_done(rpc_call_params(call)))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	cfg = nvr_config_to_json(c->cfg);
	pthread_mutex_unlock(&c->lock);
	if (!cfg)
		return rpc_error(call, RPC_ERR_INTERNAL, "out of memory");
	rpc_result_set(call, cfg);
	return 0;
}

int rpcm_save_config(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	const char *path;
	char err[512];
	int ret;

	if (rpc_param_str(p, "path", &path) || rpc_params_done(p))
		return -EINVAL;
	if (!*path)
		return rpc_error(call, RPC_ERR_INVALID_PARAMS, "params.path: empty");
	pthread_mutex_lock(&c->lock);
	ret = nvr_config_save(c->cfg, path, err, sizeof(err));
	pthread_mutex_unlock(&c->lock);
	if (ret)
		return rpc_error(call, RPC_ERR_IO, "%s", err);
	json_object_object_add(rpc_result_object(call), "path", json_object_new_string(path));
	return 0;
}

/* ANA bodies live in control/ana_ctl.c; the lock is the control plane's. */
static int rpcm_ana_set_state(struct rpc_call *call, void *ctx)
{
	struct ctl *c = ctx;
	int r;

	pthread_mutex_lock(&c->lock);
	r = ana_rpc_set_state(call, c->tgt, c->cfg);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int rpcm_ana_get(struct rpc_call *call, void *ctx)
{
	struct ctl *c = ctx;
	int r;

	pthread_mutex_lock(&c->lock);
	r = ana_rpc_get(call, c->tgt);
	pthread_mutex_unlock(&c->lock);
	return r;
}

const struct rpc_method rpc_nvringd_methods[] = {
	{ "version", rpcm_version, "nvringd's name and version", NULL },
	{ "config_get", rpcm_config_get, "the running configuration, in the -c file format", NULL },
	{ "save_config", rpcm_save_config, "write the running configuration to a file (atomically)", "path" },
	{ "subsystem_create", rpcm_subsystem_create, "create an NVM subsystem",
	  "nqn, serial?, model?, allow_any_host? (false), listeners? ([\"ADDR:PORT\"], default: all I/O listeners), "
	  "firmware?, version?, ieee_oui?, cntlid_min?, cntlid_max?, qid_max?" },
	{ "subsystem_delete", rpcm_subsystem_delete, "delete a subsystem (its hosts are disconnected)", "nqn" },
	{ "subsystem_list", rpcm_subsystem_list, "the subsystems with their hosts, namespaces and listeners", NULL },
	{ "ns_add", rpcm_ns_add, "add a namespace; returns its nsid",
	  "nqn, spec (as --ns takes it) | device ({...} as in a config file), nsid?, ..." },
	{ "ns_remove", rpcm_ns_remove, "remove a namespace (commands in flight complete first)", "nqn, nsid" },
	{ "ns_resize", rpcm_ns_resize, "change a namespace's size (mem and file)", "nqn, nsid, size (number or \"4G\")" },
	{ "ns_list", rpcm_ns_list, "the namespaces of a subsystem", "nqn" },
	{ "listener_add", rpcm_listener_add, "listen on another address",
	  "addr (\"ADDR:PORT\"), portid?, subsystems? ([nqn], default: all), discovery_only?" },
	{ "listener_remove", rpcm_listener_remove, "stop listening (hosts connected through it are disconnected)", "addr" },
	{ "host_add", rpcm_host_add, "allow a host into a subsystem",
	  "nqn, host, dhchap_key?, dhchap_ctrl_key?, dhchap_key_file?, dhchap_ctrl_key_file?, dhchap_hash?, dhchap_dhgroup?, "
	  "psk?, psk_file?" },
	{ "host_remove", rpcm_host_remove, "disallow a host (its controllers are torn down)", "nqn, host" },
	{ "host_set_keys", rpcm_host_set_keys, "new DH-HMAC-CHAP keys for a host (\"\" removes one)",
	  "nqn, host, dhchap_key?, dhchap_ctrl_key?" },
	{ "controllers", rpcm_controllers, "connected hosts: controllers and their queues", "nqn?" },
	{ "stats", rpcm_stats, "I/O counters per namespace and per controller", "nqn?, nsid?" },
	{ "ana_set_state", rpcm_ana_set_state, "set an ANA group's state as seen through a listener",
	  "addr (\"ADDR:PORT\") | portid, grpid, state (optimized, non-optimized, inaccessible, persistent-loss, "
	  "change), transition_ms?, nqn? (default: every subsystem on the listener)" },
	{ "ana_get", rpcm_ana_get, "ANA state of every (subsystem, listener, group) holding namespaces", "nqn?, grpid?" },
	{ NULL, NULL, NULL, NULL },
};
