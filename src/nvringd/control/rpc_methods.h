/* SPDX-License-Identifier: MIT */
/* nvringd's JSON-RPC method table (docs/rpc.md). */
#ifndef NVRING_NVRINGD_CONTROL_RPC_METHODS_H
#define NVRING_NVRINGD_CONTROL_RPC_METHODS_H

#include "rpc/rpc.h"

/* Rows of the table; ctx is the struct ctl. */
extern const struct rpc_method rpc_nvringd_methods[];

#endif
