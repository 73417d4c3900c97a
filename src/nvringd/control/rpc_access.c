/* SPDX-License-Identifier: MIT */
/* RPC methods: listeners, hosts and keys, connected controllers, I/O counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"
#include "rpc_int.h"

/* ---- listeners ---- */

int rpcm_listener_add(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	struct rpc_array subs;
	struct cfg_port cp;
	struct ctl_err e;
	const char *addr;
	uint64_t portid;
	bool disc, given;
	int ret = 0;

	given = rpc_param_has(p, "subsystems");
	if (rpc_param_str(p, "addr", &addr) || rpc_param_uint_opt(p, "portid", 1, 65535, 0, &portid) ||
	    rpc_param_array_opt(p, "subsystems", &subs) || rpc_param_bool_opt(p, "discovery_only", false, &disc) ||
	    rpc_params_done(p))
		return -EINVAL;
	memset(&cp, 0, sizeof(cp));
	cp.inline_data_size = -1;
	cp.max_queue_size = -1;
	cp.portid = (uint16_t)portid;
	if (nvr_parse_addr(addr, cp.addr, sizeof(cp.addr), &cp.port, &cp.family))
		return rpc_error(call, RPC_ERR_INVALID_PARAMS,
				 "params.addr: '%s' is not ADDR:PORT or [IPV6]:PORT with a numeric address", addr);
	if (disc && given && subs.len)
		return rpc_error(call, RPC_ERR_INVALID_PARAMS, "params.subsystems: a discovery_only listener exports none");
	pthread_mutex_lock(&c->lock);
	/* no list: every subsystem, the ones created later too (as -l does) */
	cp.all_subsys = !disc && !given;
	for (size_t i = 0; i < subs.len; i++) {
		const char *nqn;
		size_t *idx;
		long si;

		if (rpc_array_str(&subs, i, &nqn)) {
			ret = -EINVAL;
			goto out;
		}
		si = nvr_config_find_subsys(c->cfg, nqn);
		if (si < 0) {
			ret = rpc_error(call, RPC_ERR_NOT_FOUND, "params.subsystems[%zu]: subsystem '%s' not found", i, nqn);
			goto out;
		}
		idx = realloc(cp.subsys, (cp.nr_subsys + 1) * sizeof(*idx));
		if (!idx) {
			ret = rpc_error(call, RPC_ERR_INTERNAL, "out of memory");
			goto out;
		}
		cp.subsys = idx;
		cp.subsys[cp.nr_subsys++] = (size_t)si;
	}
	if (ctl_port_add(c, &cp, &e))
		ret = rpc_ctl_error(call, &e);
	else {
		const struct cfg_port *n = &c->cfg->ports[c->cfg->nr_ports - 1];
		char buf[96];

		snprintf(buf, sizeof(buf), "%s%s%s:%u", n->family == AF_INET6 ? "[" : "", n->addr,
			 n->family == AF_INET6 ? "]" : "", n->port);
		json_object_object_add(rpc_result_object(call), "portid", json_object_new_int64(n->portid));
		json_object_object_add(rpc_result_object(call), "addr", json_object_new_string(buf));
	}
out:
	pthread_mutex_unlock(&c->lock);
	nvr_config_port_free(&cp);
	return ret;
}

int rpcm_listener_remove(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	struct ctl_err e;
	const char *addr;
	int ret;

	if (rpc_param_str(p, "addr", &addr) || rpc_params_done(p))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	ret = ctl_port_remove(c, addr, &e);
	pthread_mutex_unlock(&c->lock);
	return ret ? rpc_ctl_error(call, &e) : 0;
}

/* ---- hosts ---- */

int rpcm_host_add(struct rpc_call *call, void *ctx)
{
	static const char *const keys[] = { "dhchap_key", "dhchap_key_file", "dhchap_ctrl_key", "dhchap_ctrl_key_file",
					    "dhchap_hash", "dhchap_dhgroup", "psk", "psk_file", NULL };
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	const char *nqn, *host;
	bool has_keys = false;
	struct cfg_host h;
	struct ctl_err e;
	json_object *o;
	char err[512];
	int ret;

	if (rpc_param_str(p, "nqn", &nqn) || rpc_nqn_param(p, "host", &host))
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		return rpc_error(call, RPC_ERR_INTERNAL, "out of memory");
	json_object_object_add(o, "nqn", json_object_new_string(host));
	for (size_t i = 0; keys[i]; i++) {
		const char *v;

		if (rpc_param_str_opt(p, keys[i], NULL, &v)) {
			json_object_put(o);
			return -EINVAL;
		}
		if (v) {
			json_object_object_add(o, keys[i], json_object_new_string(v));
			has_keys |= !strncmp(keys[i], "dhchap_key", 10) || !strncmp(keys[i], "dhchap_ctrl_key", 15) ||
				    !strncmp(keys[i], "psk", 3);
		}
	}
	if (rpc_params_done(p)) {
		json_object_put(o);
		return -EINVAL;
	}
	ret = nvr_config_host_from_json(&h, o, "params", err, sizeof(err));
	json_object_put(o);
	if (ret)
		return rpc_error(call, RPC_ERR_INVALID_PARAMS, "%s", err);
	pthread_mutex_lock(&c->lock);
	ret = ctl_host_add(c, nqn, &h, has_keys, &e);
	pthread_mutex_unlock(&c->lock);
	nvr_config_host_free(&h);
	return ret ? rpc_ctl_error(call, &e) : 0;
}

int rpcm_host_remove(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	const char *nqn, *host;
	struct ctl_err e;
	int ret;

	if (rpc_param_str(p, "nqn", &nqn) || rpc_param_str(p, "host", &host) || rpc_params_done(p))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	ret = ctl_host_remove(c, nqn, host, &e);
	pthread_mutex_unlock(&c->lock);
	return ret ? rpc_ctl_error(call, &e) : 0;
}

/* A new key: absent (NULL, unchanged), "" (none) or a DHHC-1 secret. */
static int rpc_secret(struct rpc_params *p, const char *key, struct cfg_secret *sec, bool *given)
{
	const char *v;

	memset(sec, 0, sizeof(*sec));
	if (rpc_param_str_opt(p, key, NULL, &v))
		return -EINVAL;
	*given = v != NULL;
	if (!v || !*v)
		return 0;
	if (!nvr_config_dhchap_key_valid(v))
		return rpc_error(p->call, RPC_ERR_INVALID_PARAMS,
				 "params.%s: must be a DH-HMAC-CHAP secret (DHHC-1:XX:BASE64:) or \"\" for none", key);
	sec->value = strdup(v);
	if (!sec->value)
		return rpc_error(p->call, RPC_ERR_INTERNAL, "out of memory");
	return 0;
}

static void rpc_secret_free(struct cfg_secret *s)
{
	if (s->value)
		memset(s->value, 0, strlen(s->value));
	free(s->value);
	free(s->file);
}

int rpcm_host_set_keys(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct cfg_secret key = { 0 }, ckey = { 0 };
	struct ctl *c = ctx;
	const char *nqn, *host;
	bool has_key = false, has_ckey = false;
	struct ctl_err e;
	int ret = -EINVAL;

	if (rpc_param_str(p, "nqn", &nqn) || rpc_param_str(p, "host", &host) ||
	    rpc_secret(p, "dhchap_key", &key, &has_key) || rpc_secret(p, "dhchap_ctrl_key", &ckey, &has_ckey) ||
	    rpc_params_done(p))
		goto out;
	if (!has_key && !has_ckey) {
		ret = rpc_error(call, RPC_ERR_INVALID_PARAMS, "params: needs dhchap_key or dhchap_ctrl_key");
		goto out;
	}
	pthread_mutex_lock(&c->lock);
	ret = ctl_host_set_keys(c, nqn, host, has_key ? &key : NULL, has_ckey ? &ckey : NULL, &e);
	pthread_mutex_unlock(&c->lock);
	if (ret)
		ret = rpc_ctl_error(call, &e);
out:
	rpc_secret_free(&key);
	rpc_secret_free(&ckey);
	return ret;
}

/* ---- what is connected, what it did ---- */

int rpcm_controllers(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	struct ctl_err e;
	const char *nqn;
	json_object *r;

	if (rpc_param_str_opt(p, "nqn", NULL, &nqn) || rpc_params_done(p))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	if (nqn && strcmp(nqn, "nqn.2014-08.org.nvmexpress.discovery") && ctl_subsys_find(c, nqn, &e) < 0) {
		pthread_mutex_unlock(&c->lock);
		return rpc_ctl_error(call, &e);
	}
	r = ctl_info_controllers(c, nqn);
	pthread_mutex_unlock(&c->lock);
	rpc_result_set(call, r);
	return 0;
}

int rpcm_stats(struct rpc_call *call, void *ctx)
{
	struct rpc_params *p = rpc_call_params(call);
	struct ctl *c = ctx;
	struct ctl_err e;
	const char *nqn;
	uint64_t nsid;
	json_object *r;

	if (rpc_param_str_opt(p, "nqn", NULL, &nqn) || rpc_param_uint_opt(p, "nsid", 1, NSID_MAX, 0, &nsid) ||
	    rpc_params_done(p))
		return -EINVAL;
	if (nsid && !nqn)
		return rpc_error(call, RPC_ERR_INVALID_PARAMS, "params.nsid: needs params.nqn");
	pthread_mutex_lock(&c->lock);
	r = ctl_info_stats(c, nqn, (uint32_t)nsid, &e);
	pthread_mutex_unlock(&c->lock);
	if (!r)
		return rpc_ctl_error(call, &e);
	rpc_result_set(call, r);
	return 0;
}

