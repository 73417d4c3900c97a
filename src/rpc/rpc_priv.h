/* SPDX-License-Identifier: MIT */
/* Inside the RPC library: the call, the method registry, the byte stream of one connection. */
#ifndef NVRING_RPC_PRIV_H
#define NVRING_RPC_PRIV_H

#include <json-c/json.h>

#include "rpc/rpc.h"

#define RPC_MSG_MAX 1024      /* one error message */
#define RPC_QUOTE_MAX 64      /* bytes of a client's string quoted in a message */

struct rpc_call {
	const char *method;
	json_object *params;  /* an object; an empty one when the request had none */
	json_object *result;
	int err_code;         /* 0: no error set */
	char err_msg[RPC_MSG_MAX];
	struct rpc_params top;
};

struct rpc_registry {
	const struct rpc_method *methods; /* NULL-name terminated */
	void *ctx;
};

/* Check a method table (names present, unique, not the built-in's; a handler each). */
int rpc_registry_check(const struct rpc_method *methods, char *err, size_t errlen);

/* Prepare a call on params (an object, borrowed) and release it. */
void rpc_call_init(struct rpc_call *call, const char *method, json_object *params);
void rpc_call_fini(struct rpc_call *call);

/* Copy s into buf (at most RPC_QUOTE_MAX bytes, cut at a UTF-8 boundary, "..." if cut). */
const char *rpc_quote(const char *s, char *buf, size_t size);

/* One parsed request value (an object or a batch array): the response to send, or NULL
 * (notifications get none). */
json_object *rpc_dispatch(const struct rpc_registry *reg, json_object *req);
/* An error response with id null. */
json_object *rpc_error_response(int code, const char *msg);

/* Bytes waiting to be sent. */
struct rpc_buf {
	char *data;
	size_t len, off, cap;
};

int rpc_buf_append(struct rpc_buf *b, const char *data, size_t len);
void rpc_buf_free(struct rpc_buf *b);
static inline size_t rpc_buf_pending(const struct rpc_buf *b) { return b->len - b->off; }
/* Append v serialized and a newline; puts v. */
int rpc_buf_put_json(struct rpc_buf *b, json_object *v);

/* Framing: a connection's bytes are a sequence of JSON values (whitespace between them). */
struct rpc_stream {
	const struct rpc_registry *reg;
	struct json_tokener *tok;
	size_t max_request;
	size_t value_len;       /* bytes of the value being parsed */
	bool in_value;          /* a value has started and is not complete */
	uint64_t values_started;
};

enum { RPC_STREAM_OK = 0, RPC_STREAM_CLOSE = 1 };

int rpc_stream_init(struct rpc_stream *s, const struct rpc_registry *reg, size_t max_request);
void rpc_stream_fini(struct rpc_stream *s);
/*
 * Consume bytes: every complete request is answered into out, in order, while out holds less
 * than out_limit pending bytes (*used says how far it got; the rest is to be fed again).
 * Returns RPC_STREAM_OK, or RPC_STREAM_CLOSE after appending the final error (not JSON, too
 * large): the connection sends out and closes. -ENOMEM if out cannot grow.
 */
int rpc_stream_feed(struct rpc_stream *s, const char *buf, size_t len, size_t *used,
		    struct rpc_buf *out, size_t out_limit);

#endif
