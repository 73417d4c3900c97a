/* SPDX-License-Identifier: MIT */
/*
 * nvringd's control plane: JSON-RPC 2.0 on a Unix socket, served by one control thread that
 * calls the method handlers (they may block: they never run on a worker). A method is one
 * function and one row in a table given to rpc_server_start(). See docs/rpc.md.
 *
 *	static int ns_resize(struct rpc_call *c, void *ctx)
 *	{
 *		struct rpc_params *p = rpc_call_params(c);
 *		const char *nqn;
 *		uint64_t nsid, size;
 *
 *		if (rpc_param_str(p, "nqn", &nqn) || rpc_param_uint(p, "nsid", 1, 0xfffffffe, &nsid) ||
 *		    rpc_param_size(p, "size", &size) || rpc_params_done(p))
 *			return -EINVAL;               // the accessor set "params.nsid: ..." already
 *		...
 *		json_object_object_add(rpc_result_object(c), "size", json_object_new_uint64(size));
 *		return 0;
 *	}
 */
#ifndef NVRING_RPC_RPC_H
#define NVRING_RPC_RPC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Error codes: JSON-RPC 2.0's, the server's (-32000..-32099) and the methods' (1000..1999).
 * They are part of the interface: never renumber one. */
enum rpc_err {
	RPC_ERR_PARSE = -32700,            /* not JSON: the connection is closed after the answer */
	RPC_ERR_INVALID_REQUEST = -32600,  /* JSON, but not a request (or larger than the limit) */
	RPC_ERR_METHOD_NOT_FOUND = -32601,
	RPC_ERR_INVALID_PARAMS = -32602,
	RPC_ERR_INTERNAL = -32603,
	RPC_ERR_SERVER_BUSY = -32000,      /* too many clients */
	RPC_ERR_ACCESS = -32001,           /* the peer's uid may not use the socket */
	RPC_ERR_TIMEOUT = -32002,          /* a request not complete within the time limit */

	RPC_ERR_FAILED = 1000,             /* the operation failed; the message says why */
	RPC_ERR_NOT_FOUND = 1001,          /* "subsystem 'nqn...' not found" */
	RPC_ERR_EXISTS = 1002,
	RPC_ERR_BUSY = 1003,               /* in use; may succeed later */
	RPC_ERR_STATE = 1004,              /* not allowed in the object's current state */
	RPC_ERR_UNSUPPORTED = 1005,
	RPC_ERR_LIMIT = 1006,              /* a configured or built-in limit is reached */
	RPC_ERR_IO = 1007,                 /* opening or using a backing store failed */
	RPC_ERR_PERMISSION = 1008,         /* e.g. a read-only object */
};

struct rpc_call; /* one request while its handler runs */

/* A handler: read params, do the work, fill the result (none: the result is true). Returns 0,
 * or a negative value after setting an error (an accessor or rpc_error did). A handler that
 * fails without setting an error answers RPC_ERR_INTERNAL. */
typedef int (*rpc_method_fn)(struct rpc_call *call, void *ctx);

struct rpc_method {
	const char *name;    /* NULL ends a table */
	rpc_method_fn fn;
	const char *help;    /* one line, shown by rpc_get_methods / nvring rpc --list */
	const char *params;  /* one line, e.g. "nqn, nsid?, size (number or \"4G\")"; NULL: none */
};

/* ---- the server ---- */

#define RPC_DEFAULT_SOCKET "/run/nvringd.sock"

struct rpc_server_opts {
	const char *path;               /* NULL or "none": no server (start succeeds, *out = NULL) */
	const struct rpc_method *methods; /* ends with a NULL name; not copied; rpc_get_methods is added */
	void *ctx;                      /* passed to every handler */
	unsigned max_clients;           /* 0: 16 */
	size_t max_request;             /* bytes of one request (or batch); 0: 1 MiB */
	unsigned request_timeout_ms;    /* a started request must be complete within; 0: 5000 */
	unsigned idle_timeout_ms;       /* a connection with nothing pending is closed after; 0: 300000 */
	bool allow_uid_set;             /* false: root and geteuid() may connect */
	uid_t allow_uid;                /* else: root and this uid */
};

struct rpc_server;

/* Bind the socket (mode 0600; a stale socket nobody listens on is replaced, one somebody listens
 * on refuses the start) and start the control thread. Returns 0 or a negative errno with a
 * message naming the path in err. */
int rpc_server_start(const struct rpc_server_opts *opts, struct rpc_server **out, char *err, size_t errlen);
/* Close every connection, join the thread, remove the socket. NULL is a no-op. */
void rpc_server_stop(struct rpc_server *srv);

/* ---- inside a handler: params ---- */

#define RPC_PATH_MAX 96

/* A JSON object being read, with its path for messages ("params", "params.ns", "params.hosts[2]").
 * Accessors return 0, or -EINVAL after setting RPC_ERR_INVALID_PARAMS with a message naming the
 * item ("params.nsid: expected an integer"); an absent optional item gives the default. */
struct rpc_params {
	struct rpc_call *call;
	json_object *obj;      /* NULL: an optional object that was not given */
	char path[RPC_PATH_MAX];
	uint64_t seen;         /* bit i: the i-th key was read (rpc_params_done) */
};

/* An array param: its elements are read with rpc_array_*(a, i, ...). */
struct rpc_array {
	struct rpc_call *call;
	json_object *arr;      /* NULL: an optional array that was not given */
	size_t len;
	char path[RPC_PATH_MAX];
};

struct rpc_params *rpc_call_params(struct rpc_call *call);
/* The object itself (borrowed; NULL for an absent optional object), e.g. to pass it on whole. */
json_object *rpc_params_json(struct rpc_params *p);
const char *rpc_call_method(const struct rpc_call *call);

bool rpc_param_has(struct rpc_params *p, const char *key);
int rpc_param_str(struct rpc_params *p, const char *key, const char **out);
int rpc_param_str_opt(struct rpc_params *p, const char *key, const char *def, const char **out);
int rpc_param_int(struct rpc_params *p, const char *key, int64_t min, int64_t max, int64_t *out);
int rpc_param_int_opt(struct rpc_params *p, const char *key, int64_t min, int64_t max, int64_t def, int64_t *out);
int rpc_param_uint(struct rpc_params *p, const char *key, uint64_t min, uint64_t max, uint64_t *out);
int rpc_param_uint_opt(struct rpc_params *p, const char *key, uint64_t min, uint64_t max, uint64_t def, uint64_t *out);
int rpc_param_bool(struct rpc_params *p, const char *key, bool *out);
int rpc_param_bool_opt(struct rpc_params *p, const char *key, bool def, bool *out);
/* A size in bytes: a non-negative integer, or a string "512", "4K", "1M", "2G", "1T" (binary). */
int rpc_param_size(struct rpc_params *p, const char *key, uint64_t *out);
int rpc_param_size_opt(struct rpc_params *p, const char *key, uint64_t def, uint64_t *out);
int rpc_param_object(struct rpc_params *p, const char *key, struct rpc_params *sub);
int rpc_param_object_opt(struct rpc_params *p, const char *key, struct rpc_params *sub); /* absent: sub->obj NULL */
int rpc_param_array(struct rpc_params *p, const char *key, struct rpc_array *a);
int rpc_param_array_opt(struct rpc_params *p, const char *key, struct rpc_array *a);   /* absent: len 0 */
/* Any JSON value, unchecked (for what the accessors do not cover); the value is borrowed. */
int rpc_param_json(struct rpc_params *p, const char *key, json_object **out);
/* The first key no accessor read fails: "params: unknown key 'nisd'". */
int rpc_params_done(struct rpc_params *p);

int rpc_array_str(struct rpc_array *a, size_t i, const char **out);
int rpc_array_int(struct rpc_array *a, size_t i, int64_t min, int64_t max, int64_t *out);
int rpc_array_uint(struct rpc_array *a, size_t i, uint64_t min, uint64_t max, uint64_t *out);
int rpc_array_object(struct rpc_array *a, size_t i, struct rpc_params *sub);

/* ---- inside a handler: result and errors ---- */

/* The result as an object / an array to fill (created on first use, the same one after). */
json_object *rpc_result_object(struct rpc_call *call);
json_object *rpc_result_array(struct rpc_call *call);
/* Any value as the result (ownership passes to the call; replaces an earlier result). */
void rpc_result_set(struct rpc_call *call, json_object *result);

/* Set the error (the first one set wins) and return -EINVAL, for `return rpc_error(...)`. */
int rpc_error(struct rpc_call *call, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with the code chosen for a negative errno and ": strerror" appended; returns err. */
int rpc_error_errno(struct rpc_call *call, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The code rpc_error_errno uses for a negative errno (-ENOENT: RPC_ERR_NOT_FOUND, ...). */
int rpc_errno_code(int err);

#endif
