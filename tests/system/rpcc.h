/* SPDX-License-Identifier: MIT */
/*
 * Calling nvringd's control socket from system tests: one connection per call through the
 * real JSON-RPC client (src/rpc/client.c), results as json-c objects, errors as code and
 * message to compare byte for byte.
 */
#ifndef NVRING_TESTS_RPCC_H
#define NVRING_TESTS_RPCC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define RC_TIMEOUT_MS 30000

struct rc_reply {
	int code;            /* 0: a result; else the error's code (or -1: no answer, msg says why) */
	char msg[1024];
	json_object *result; /* owned; NULL on error */
};

/* A per-test socket path: /tmp/nvring-TAG-PID.sock (removed first). */
const char *rc_socket_path(const char *tag);
/* Call method with params given as printf-formatted JSON (NULL: none). */
void rc_call(const char *sock, struct rc_reply *r, const char *method, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void rc_free(struct rc_reply *r);
/* The result (owned by the caller), or NULL after a TAP diagnostic. */
json_object *rc_ok(const char *sock, const char *method, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Does the call fail with exactly this code and message? (a diagnostic says what came instead) */
bool rc_fails(const char *sock, int code, const char *msg, const char *method, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The configuration the daemon reports (config_get), as a string to compare; caller frees. */
char *rc_config(const char *sock);

/* Members by path: "a.b[2].c". NULL if absent. */
json_object *rc_get(json_object *o, const char *path);
int64_t rc_int(json_object *o, const char *path);    /* -1 if absent */
const char *rc_str(json_object *o, const char *path); /* "" if absent */

#endif
