/* SPDX-License-Identifier: MIT */
/*
 * The JSON-RPC methods: each reads and checks its params (messages name the item, "params.nsid"),
 * then calls one control function under the control lock and reports its result or error.
 */
#include "rpc_methods.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "control/ana_ctl.h"
#include "ctl_int.h"

#ifndef NVRING_VERSION
#define NVRING_VERSION "unknown"
#endif

#define NSID_MAX 0xfffffffeu

static int rpc_ctl_error(struct rpc_call *call, const struct ctl_err *e)
{
	return rpc_error(call, e->code ? e->code : RPC_ERR_FAILED, "%s", e->msg);
}

/* A copy of the params without `drop` keys (the config readers take the rest). */
static json_object *rpc_params_without(struct rpc_params *p, const char *const *drop)
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

static int rpc_nqn_param(struct rpc_params *p, const char *key, const char **out)
{
	if (rpc_param_str(p, key, out))
		return -EINVAL;
	if (!nvr_nqn_valid(*out))
		return rpc_error(p->call, RPC_ERR_INVALID_PARAMS, "params.%s: '%s' is not a valid NQN", key, *out);
	return 0;
}

/* ---- target ---- */

static int m_version(struct rpc_call *call, void *ctx)
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

static int m_config_get(struct rpc_call *call, void *ctx)
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

static int m_save_config(struct rpc_call *call, void *ctx)
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

/* ---- subsystems ---- */

static int m_subsystem_create(struct rpc_call *call, void *ctx)
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

static int m_subsystem_delete(struct rpc_call *call, void *ctx)
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

static int m_subsystem_list(struct rpc_call *call, void *ctx)
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

static int m_ns_add(struct rpc_call *call, void *ctx)
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

static int m_ns_remove(struct rpc_call *call, void *ctx)
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

static int m_ns_resize(struct rpc_call *call, void *ctx)
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

static int m_ns_list(struct rpc_call *call, void *ctx)
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

/* ---- listeners ---- */

static int m_listener_add(struct rpc_call *call, void *ctx)
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

static int m_listener_remove(struct rpc_call *call, void *ctx)
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

static int m_host_add(struct rpc_call *call, void *ctx)
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

static int m_host_remove(struct rpc_call *call, void *ctx)
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

static int m_host_set_keys(struct rpc_call *call, void *ctx)
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

static int m_controllers(struct rpc_call *call, void *ctx)
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

static int m_stats(struct rpc_call *call, void *ctx)
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

/* ---- ANA (control/ana_ctl.c) ---- */

static int m_ana_set_state(struct rpc_call *call, void *ctx)
{
	struct ctl *c = ctx;
	int r;

	pthread_mutex_lock(&c->lock);
	r = ana_rpc_set_state(call, c->tgt, c->cfg);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int m_ana_get(struct rpc_call *call, void *ctx)
{
	struct ctl *c = ctx;
	int r;

	pthread_mutex_lock(&c->lock);
	r = ana_rpc_get(call, c->tgt);
	pthread_mutex_unlock(&c->lock);
	return r;
}

const struct rpc_method rpc_nvringd_methods[] = {
	{ "version", m_version, "nvringd's name and version", NULL },
	{ "config_get", m_config_get, "the running configuration, in the -c file format", NULL },
	{ "save_config", m_save_config, "write the running configuration to a file (atomically)", "path" },
	{ "subsystem_create", m_subsystem_create, "create an NVM subsystem",
	  "nqn, serial?, model?, allow_any_host? (false), listeners? ([\"ADDR:PORT\"], default: all I/O listeners), "
	  "firmware?, version?, ieee_oui?, cntlid_min?, cntlid_max?, qid_max?" },
	{ "subsystem_delete", m_subsystem_delete, "delete a subsystem (its hosts are disconnected)", "nqn" },
	{ "subsystem_list", m_subsystem_list, "the subsystems with their hosts, namespaces and listeners", NULL },
	{ "ns_add", m_ns_add, "add a namespace; returns its nsid",
	  "nqn, spec (as --ns takes it) | device ({...} as in a config file), nsid?, ..." },
	{ "ns_remove", m_ns_remove, "remove a namespace (commands in flight complete first)", "nqn, nsid" },
	{ "ns_resize", m_ns_resize, "change a namespace's size (mem and file)", "nqn, nsid, size (number or \"4G\")" },
	{ "ns_list", m_ns_list, "the namespaces of a subsystem", "nqn" },
	{ "listener_add", m_listener_add, "listen on another address",
	  "addr (\"ADDR:PORT\"), portid?, subsystems? ([nqn], default: all), discovery_only?" },
	{ "listener_remove", m_listener_remove, "stop listening (hosts connected through it are disconnected)", "addr" },
	{ "host_add", m_host_add, "allow a host into a subsystem",
	  "nqn, host, dhchap_key?, dhchap_ctrl_key?, dhchap_key_file?, dhchap_ctrl_key_file?, dhchap_hash?, dhchap_dhgroup?, "
	  "psk?, psk_file?" },
	{ "host_remove", m_host_remove, "disallow a host (its controllers are torn down)", "nqn, host" },
	{ "host_set_keys", m_host_set_keys, "new DH-HMAC-CHAP keys for a host (\"\" removes one)",
	  "nqn, host, dhchap_key?, dhchap_ctrl_key?" },
	{ "controllers", m_controllers, "connected hosts: controllers and their queues", "nqn?" },
	{ "stats", m_stats, "I/O counters per namespace and per controller", "nqn?, nsid?" },
	{ "ana_set_state", m_ana_set_state, "set an ANA group's state as seen through a listener",
	  "addr (\"ADDR:PORT\") | portid, grpid, state (optimized, non-optimized, inaccessible, persistent-loss, "
	  "change), transition_ms?, nqn? (default: every subsystem on the listener)" },
	{ "ana_get", m_ana_get, "ANA state of every (subsystem, listener, group) holding namespaces", "nqn?, grpid?" },
	{ NULL, NULL, NULL, NULL },
};
