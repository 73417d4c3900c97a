/* SPDX-License-Identifier: MIT */
/* What the RPC method files share: error reporting, params helpers, the handlers. */
#ifndef NVRING_NVRINGD_CONTROL_RPC_INT_H
#define NVRING_NVRINGD_CONTROL_RPC_INT_H

#include "rpc/rpc.h"

struct ctl_err;

#define NSID_MAX 0xfffffffeu

/* The error a control function set, as the answer. */
int rpc_ctl_error(struct rpc_call *call, const struct ctl_err *e);
/* A copy of the params without `drop` keys (NULL-terminated): the config readers take the rest. */
json_object *rpc_params_without(struct rpc_params *p, const char *const *drop);
/* A required NQN param, checked. */
int rpc_nqn_param(struct rpc_params *p, const char *key, const char **out);

int rpcm_version(struct rpc_call *call, void *ctx);
int rpcm_config_get(struct rpc_call *call, void *ctx);
int rpcm_save_config(struct rpc_call *call, void *ctx);
int rpcm_subsystem_create(struct rpc_call *call, void *ctx);
int rpcm_subsystem_delete(struct rpc_call *call, void *ctx);
int rpcm_subsystem_list(struct rpc_call *call, void *ctx);
int rpcm_ns_add(struct rpc_call *call, void *ctx);
int rpcm_ns_remove(struct rpc_call *call, void *ctx);
int rpcm_ns_resize(struct rpc_call *call, void *ctx);
int rpcm_ns_list(struct rpc_call *call, void *ctx);
int rpcm_listener_add(struct rpc_call *call, void *ctx);
int rpcm_listener_remove(struct rpc_call *call, void *ctx);
int rpcm_host_add(struct rpc_call *call, void *ctx);
int rpcm_host_remove(struct rpc_call *call, void *ctx);
int rpcm_host_set_keys(struct rpc_call *call, void *ctx);
int rpcm_controllers(struct rpc_call *call, void *ctx);
int rpcm_stats(struct rpc_call *call, void *ctx);

#endif
