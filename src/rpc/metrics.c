/* SPDX-License-Identifier: MIT */
/*
 * The metrics endpoint: libmicrohttpd with its own polling thread serves GET (and HEAD)
 * /metrics from the collect callback. We bind the socket ourselves so that a start failure
 * says why ("Address already in use"); MHD bounds the connections and their idle time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/metrics.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_PATH "/metrics"

struct metrics_server {
	struct MHD_Daemon *mhd;
	metrics_collect_fn collect;
	void *ctx;
	uint16_t port;
};

/* "A.B.C.D:PORT" or "[IPv6]:PORT", numeric only. */
static int metrics_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port;
	char *end;
	unsigned long p;
	size_t hl;
	bool v6 = s[0] == '[';

	if (v6) {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		memcpy(host, s + 1, hl < sizeof(host) ? hl : 0);
		port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
		memcpy(host, s, hl < sizeof(host) ? hl : 0);
		port = colon + 1;
	}
	if (!hl || hl >= sizeof(host) || *port < '0' || *port > '9')
		return -EINVAL;
	host[hl] = '\0';
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || *end || p > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
	}
	return 0;
}

static enum MHD_Result metrics_reply(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
				     enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result metrics_text(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	return metrics_reply(conn, status, (char *)msg, strlen(msg), MHD_RESPMEM_PERSISTENT, "text/plain; charset=utf-8");
}

static enum MHD_Result metrics_answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				      const char *version, const char *upload_data, size_t *upload_data_size,
				      void **req_state)
{
	static int headers_seen;
	struct metrics_server *srv = cls;
	char err[256], *text;
	size_t len;
	int ret;

	(void)version;
	(void)upload_data;
	if (!*req_state) { /* first call: headers only; answer once the request is complete */
		*req_state = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size) { /* a body nobody asked for: discard it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return metrics_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET\n");
	if (strcmp(url, METRICS_PATH))
		return metrics_text(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at " METRICS_PATH "\n");
	ret = metrics_render(srv->collect, srv->ctx, &text, &len, err, sizeof(err));
	if (ret) {
		size_t n = strlen(err);

		text = malloc(n + 2);
		if (!text)
			return MHD_NO;
		memcpy(text, err, n);
		memcpy(text + n, "\n", 2);
		return metrics_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text, n + 1, MHD_RESPMEM_MUST_FREE,
				     "text/plain; charset=utf-8");
	}
	return metrics_reply(conn, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE, METRICS_CONTENT_TYPE);
}

/* MHD's messages would go to stderr from its thread; failures reach the client as statuses. */
static void metrics_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

int metrics_server_start(const struct metrics_server_opts *opts, struct metrics_server **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct metrics_server *srv;
	sigset_t all, old;
	int fd, one = 1;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;

	*out = NULL;
	if (!opts->listen || metrics_parse_listen(opts->listen, &ss, &len)) {
		snprintf(err, errlen, "metrics: '%s' is not ADDR:PORT (numeric IPv4, or [IPv6])",
			 opts->listen ? opts->listen : "");
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16) || getsockname(fd, (struct sockaddr *)&ss, &len)) {
		int ret = -errno;

		snprintf(err, errlen, "metrics %s: %s", opts->listen, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		close(fd);
		snprintf(err, errlen, "metrics %s: out of memory", opts->listen);
		return -ENOMEM;
	}
	srv->collect = opts->collect;
	srv->ctx = opts->ctx;
	srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Signals stay with the daemon's main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, metrics_answer, srv,
				    MHD_OPTION_EXTERNAL_LOGGER, metrics_mhd_log, NULL,
				    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(opts->max_clients ? opts->max_clients : 8),
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(opts->timeout_s ? opts->timeout_s : 10),
				    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
				    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!srv->mhd) { /* fd is not closed: whether MHD already did is not documented */
		free(srv);
		snprintf(err, errlen, "metrics %s: the HTTP server did not start", opts->listen);
		return -EIO;
	}
	*out = srv;
	return 0;
}

uint16_t metrics_server_port(const struct metrics_server *srv)
{
	return srv->port;
}

void metrics_server_stop(struct metrics_server *srv)
{
	if (!srv)
		return;
	/* MHD_stop_daemon closes the listen socket it was given. */
	MHD_stop_daemon(srv->mhd);
	free(srv);
}
