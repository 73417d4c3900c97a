/* SPDX-License-Identifier: MIT */
/* JSON-RPC client on a Unix socket: send one request, read its one response, with a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rpc/rpc_client.h"

#define RPC_CLIENT_CHUNK 65536

struct rpc_client {
	int fd;
	int64_t next_id;
	struct json_tokener *tok;
	char buf[RPC_CLIENT_CHUNK]; /* received bytes not yet parsed */
	size_t len;
};

static int64_t rc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rc_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left = deadline - rc_now_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n ? 0 : -ETIMEDOUT;
}

int rpc_client_open(const char *path, unsigned timeout_ms, struct rpc_client **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	struct rpc_client *c;
	int ret;

	*out = NULL;
	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->next_id = 1;
	c->tok = json_tokener_new();
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!c->tok || c->fd < 0) {
		ret = c->tok ? -errno : -ENOMEM;
		goto fail;
	}
	/* A Unix connect waits for room in the listener's backlog for up to SO_SNDTIMEO. */
	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		goto fail;
	}
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK)) {
		ret = -errno;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	rpc_client_close(c);
	return ret;
}

void rpc_client_close(struct rpc_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->tok)
		json_tokener_free(c->tok);
	free(c);
}

static int rc_send_all(int fd, const char *p, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		int ret;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return errno == EPIPE ? -ECONNRESET : -errno;
		if ((ret = rc_wait(fd, POLLOUT, deadline)))
			return ret;
	}
	return 0;
}

/* The next JSON value from the socket. */
static int rc_read_value(struct rpc_client *c, int64_t deadline, json_object **out)
{
	size_t total = 0;

	for (;;) {
		if (c->len) {
			json_object *v = json_tokener_parse_ex(c->tok, c->buf, (int)c->len);
			enum json_tokener_error jerr = json_tokener_get_error(c->tok);

			if (jerr == json_tokener_success) {
				size_t end = json_tokener_get_parse_end(c->tok);

				memmove(c->buf, c->buf + end, c->len - end);
				c->len -= end;
				json_tokener_reset(c->tok);
				*out = v;
				return 0;
			}
			if (jerr != json_tokener_continue)
				return -EPROTO;
			total += c->len;
			c->len = 0;
			if (total > RPC_CLIENT_MAX_RESPONSE)
				return -EMSGSIZE;
		}
		ssize_t n = recv(c->fd, c->buf, sizeof(c->buf), 0);

		if (n > 0) {
			c->len = (size_t)n;
		} else if (n == 0) {
			return -ECONNRESET;
		} else if (errno == EAGAIN || errno == EINTR) {
			int ret = rc_wait(c->fd, POLLIN, deadline);

			if (ret)
				return ret;
		} else {
			return -errno;
		}
	}
}

static int rc_check_reply(json_object *resp, int64_t id, struct rpc_reply *reply)
{
	json_object *ver, *rid, *err, *code, *msg;

	if (!json_object_is_type(resp, json_type_object) || !json_object_object_get_ex(resp, "jsonrpc", &ver) ||
	    strcmp(json_object_get_string(ver), "2.0") || !json_object_object_get_ex(resp, "id", &rid))
		return -EPROTO;
	if (rid && !(json_object_is_type(rid, json_type_int) && json_object_get_int64(rid) == id))
		return -EPROTO;
	if (json_object_object_get_ex(resp, "result", &reply->result)) {
		if (!reply->result) /* a JSON null result */
			reply->result = NULL;
		return rid ? 0 : -EPROTO;
	}
	if (!json_object_object_get_ex(resp, "error", &err) ||
	    !json_object_object_get_ex(err, "code", &code) || !json_object_is_type(code, json_type_int) ||
	    !json_object_object_get_ex(err, "message", &msg) || !json_object_is_type(msg, json_type_string))
		return -EPROTO;
	reply->code = json_object_get_int(code);
	reply->message = json_object_get_string(msg);
	return reply->code ? 0 : -EPROTO;
}

int rpc_client_call(struct rpc_client *c, const char *method, json_object *params, unsigned timeout_ms,
		    struct rpc_reply *reply)
{
	int64_t deadline = rc_now_ms() + timeout_ms, id = c->next_id++;
	json_object *req = json_object_new_object();
	const char *text;
	size_t len;
	int ret;

	memset(reply, 0, sizeof(*reply));
	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "id", json_object_new_int64(id));
	json_object_object_add(req, "method", json_object_new_string(method));
	if (params)
		json_object_object_add(req, "params", json_object_get(params));
	text = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	ret = text ? rc_send_all(c->fd, text, len, deadline) : -ENOMEM;
	if (!ret)
		ret = rc_send_all(c->fd, "\n", 1, deadline);
	json_object_put(req);
	if (!ret)
		ret = rc_read_value(c, deadline, &reply->response);
	if (!ret)
		ret = rc_check_reply(reply->response, id, reply);
	if (ret)
		rpc_reply_free(reply);
	return ret;
}

void rpc_reply_free(struct rpc_reply *reply)
{
	json_object_put(reply->response);
	memset(reply, 0, sizeof(*reply));
}
