/* SPDX-License-Identifier: MIT */
/* A JSON-RPC 2.0 client for nvringd's control socket (nvring rpc, tests). One call at a time. */
#ifndef NVRING_RPC_CLIENT_H
#define NVRING_RPC_CLIENT_H

#include <json-c/json.h>

#define RPC_CLIENT_MAX_RESPONSE (64u << 20)

struct rpc_client;

struct rpc_reply {
	json_object *response; /* the whole response, owned */
	json_object *result;   /* on success (borrowed from response), else NULL */
	int code;              /* on an error response: its code (0 on success) */
	const char *message;   /* on an error response: its message (borrowed) */
};

/* Connect within timeout_ms. Returns 0 or a negative errno (-ENOENT, -ECONNREFUSED, -EACCES,
 * -ETIMEDOUT, -ENAMETOOLONG). */
int rpc_client_open(const char *path, unsigned timeout_ms, struct rpc_client **out);
void rpc_client_close(struct rpc_client *c);

/*
 * Call method with params (an object or NULL, borrowed) and wait up to timeout_ms for the
 * answer. Returns 0 with *reply filled (a result or an error response: a server-level error
 * with id null counts as the answer), or -ETIMEDOUT, -ECONNRESET (closed before answering),
 * -EPROTO (not a JSON-RPC response to this call), -EMSGSIZE (larger than
 * RPC_CLIENT_MAX_RESPONSE), or another negative errno.
 */
int rpc_client_call(struct rpc_client *c, const char *method, json_object *params, unsigned timeout_ms,
		    struct rpc_reply *reply);
void rpc_reply_free(struct rpc_reply *reply);

#endif
