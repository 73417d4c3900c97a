/* SPDX-License-Identifier: MIT */
/*
 * The metrics endpoint over real TCP: HTTP requests written by hand on a raw socket, the
 * response's status, headers and body checked, and the body parsed back by a small reader of
 * the exposition format (label escapes must round-trip). Also its limits and start errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/metrics.h"
#include "rpc_test_util.h"
#include "tap.h"

#define ODD_VALUE "quote\" backslash\\ newline\n \xc3\xa9 {a=\"b\"}"

static atomic_int scrapes, broken;

static void collect(struct metrics_writer *w, void *ctx)
{
	static const double bounds[] = { 0.5, 1, 2.5 };
	static const uint64_t counts[] = { 1, 2, 3, 4 };

	(void)ctx;
	atomic_fetch_add(&scrapes, 1);
	if (atomic_load(&broken)) {
		metrics_family(w, "bad-name", METRICS_COUNTER, NULL);
		return;
	}
	metrics_family(w, "t_scrapes_total", METRICS_COUNTER, "scrapes so far");
	metrics_counter(w, NULL, (uint64_t)atomic_load(&scrapes));
	metrics_family(w, "t_odd", METRICS_GAUGE, "help with \\ and\nnewline");
	metrics_gauge(w, METRICS_LABELS({ "v", ODD_VALUE }, { "n", "2" }), -0.25);
	metrics_family(w, "t_lat_seconds", METRICS_HISTOGRAM, "latency");
	metrics_histogram(w, METRICS_LABELS({ "op", "write" }), bounds, counts, 3, 7.5);
}

struct http {
	int status;
	char headers[2048];
	char *body;
	size_t body_len;
	bool closed; /* the server closed without any response */
};

static void http_free(struct http *h)
{
	free(h->body);
	h->body = NULL;
}

/* Send req on a new connection, read the whole response (Connection: close). */
static bool http_do(int port, const char *req, struct http *h)
{
	static char buf[1 << 20];
	int fd = tu_tcp_connect("127.0.0.1", port);
	size_t len = 0;
	char *end;
	bool eof = false;

	memset(h, 0, sizeof(*h));
	if (fd < 0 || !tu_send(fd, req, strlen(req)))
		return false;
	while (!eof && len + 1 < sizeof(buf)) {
		size_t n = tu_read_lines(fd, buf + len, sizeof(buf) - len, 1 << 30, 5000, &eof);

		if (!n && !eof)
			break; /* no more within 5 s */
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	if (!len) {
		h->closed = true;
		return true;
	}
	end = strstr(buf, "\r\n\r\n");
	if (!end || sscanf(buf, "HTTP/1.%*d %d", &h->status) != 1)
		return false;
	snprintf(h->headers, sizeof(h->headers), "%.*s", (int)(end - buf), buf);
	h->body_len = len - (size_t)(end + 4 - buf);
	h->body = malloc(h->body_len + 1);
	memcpy(h->body, end + 4, h->body_len + 1);
	return true;
}

/* The value of header name (case-insensitive), or NULL. */
static const char *http_header(const struct http *h, const char *name, char *out, size_t cap)
{
	char key[64];
	const char *p = h->headers;

	snprintf(key, sizeof(key), "\r\n%s:", name);
	for (; (p = strcasestr(p, key)); p += strlen(key)) {
		const char *v = p + strlen(key), *e = strstr(v, "\r\n");

		while (*v == ' ')
			v++;
		snprintf(out, cap, "%.*s", (int)(e ? (size_t)(e - v) : strlen(v)), v);
		return out;
	}
	return NULL;
}

/* ---- a reader of the exposition format, independent of the writer ---- */

struct sample {
	char name[64];
	char labels[4][2][128]; /* name, unescaped value */
	int nlabels;
	char value[40];
};

static bool is_name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
	       (!first && c >= '0' && c <= '9');
}

/* One sample line; false if it breaks the grammar. */
static bool parse_sample(const char *line, struct sample *s)
{
	const char *p = line;
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	while (is_name_char(*p, n == 0, true) && n + 1 < sizeof(s->name))
		s->name[n++] = *p++;
	if (!n)
		return false;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			char *ln = s->labels[s->nlabels][0], *lv = s->labels[s->nlabels][1];
			size_t k = 0, v = 0;

			if (s->nlabels == 4)
				return false;
			while (is_name_char(*p, k == 0, false) && k + 1 < 128)
				ln[k++] = *p++;
			if (!k || *p++ != '=' || *p++ != '"')
				return false;
			while (*p != '"') {
				char c = *p++;

				if (!c || c == '\n')
					return false;
				if (c == '\\') {
					c = *p++;
					if (c == 'n')
						c = '\n';
					else if (c != '\\' && c != '"')
						return false;
				}
				if (v + 1 < 128)
					lv[v++] = c;
			}
			p++;
			s->nlabels++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return false;
		}
		p++;
	}
	if (*p++ != ' ')
		return false;
	snprintf(s->value, sizeof(s->value), "%s", p);
	if (!strcmp(p, "NaN") || !strcmp(p, "+Inf") || !strcmp(p, "-Inf"))
		return true;
	char *end;
	strtod(p, &end);
	return end != p && !*end;
}

static const char *label(const struct sample *s, const char *name)
{
	for (int i = 0; i < s->nlabels; i++)
		if (!strcmp(s->labels[i][0], name))
			return s->labels[i][1];
	return NULL;
}

static void test_scrape(int port)
{
	struct http h;
	char v[128], *text, *line, *save;
	int samples = 0, helps = 0, types = 0, bad = 0;
	bool odd_ok = false, count_ok = false, inf_ok = false;

	tap_ok(http_do(port, "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &h) && h.status == 200,
	       "GET /metrics: 200");
	tap_ok(http_header(&h, "Content-Type", v, sizeof(v)) && !strcmp(v, "text/plain; version=0.0.4; charset=utf-8"),
	       "Content-Type: text/plain; version=0.0.4 (%s)", http_header(&h, "Content-Type", v, sizeof(v)) ? v : "none");
	tap_ok(http_header(&h, "Content-Length", v, sizeof(v)) && (size_t)atol(v) == h.body_len,
	       "Content-Length matches the body (%zu)", h.body_len);
	tap_ok(h.body_len && h.body[h.body_len - 1] == '\n', "the body ends with a newline");
	text = strdup(h.body ? h.body : "");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct sample s;

		if (!strncmp(line, "# HELP ", 7)) {
			helps++;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			types++;
			continue;
		}
		if (!parse_sample(line, &s)) {
			tap_diag("bad line: %s", line);
			bad++;
			continue;
		}
		samples++;
		if (!strcmp(s.name, "t_odd"))
			odd_ok = label(&s, "v") && !strcmp(label(&s, "v"), ODD_VALUE) && !strcmp(s.value, "-0.25");
		if (!strcmp(s.name, "t_lat_seconds_count"))
			count_ok = !strcmp(s.value, "10") && !strcmp(label(&s, "op"), "write");
		if (!strcmp(s.name, "t_lat_seconds_bucket") && !strcmp(label(&s, "le"), "+Inf"))
			inf_ok = !strcmp(s.value, "10");
	}
	free(text);
	tap_ok(!bad && samples == 8 && helps == 3 && types == 3, "every line parses: %d samples, %d HELP, %d TYPE", samples,
	       helps, types);
	tap_ok(odd_ok, "a label value with quote, backslash, newline, UTF-8 reads back as written");
	tap_ok(count_ok && inf_ok, "histogram: _count and the +Inf bucket agree (10)");
	tap_ok(strstr(h.body, "# HELP t_odd help with \\\\ and\\nnewline\n") != NULL, "HELP text escaped");
	http_free(&h);

	int before = atomic_load(&scrapes);
	http_do(port, "GET /metrics HTTP/1.0\r\n\r\n", &h);
	snprintf(v, sizeof(v), "t_scrapes_total %d\n", before + 1);
	tap_ok(h.status == 200 && strstr(h.body, v), "each scrape runs the callback (HTTP/1.0 too)");
	http_free(&h);

	tap_ok(http_do(port, "HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &h) && h.status == 200 &&
	       h.body_len == 0, "HEAD: 200, no body");
	http_free(&h);
	tap_ok(http_do(port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &h) && h.status == 404 &&
	       !strcmp(h.body, "not found: the metrics are at /metrics\n"), "GET /: 404");
	http_free(&h);
	tap_ok(http_do(port, "POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc", &h) &&
	       h.status == 405 && http_header(&h, "Allow", v, sizeof(v)) && !strcmp(v, "GET, HEAD"),
	       "POST: 405 with Allow: GET, HEAD");
	http_free(&h);
	bool done = http_do(port, "GARBAGE\r\n\r\n", &h);
	tap_ok(done && (h.closed || h.status == 400), "not HTTP: 400 or closed (%d)", h.status);
	http_free(&h);

	atomic_store(&broken, 1);
	tap_ok(http_do(port, "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &h) && h.status == 500 &&
	       !strcmp(h.body, "'bad-name' is not a metric name\n"), "a collect callback that misuses the writer: 500 and why");
	atomic_store(&broken, 0);
	http_free(&h);
}

static void test_limits(void)
{
	struct metrics_server_opts o = { .listen = "127.0.0.1:0", .collect = collect, .max_clients = 2, .timeout_s = 2 };
	struct metrics_server *ms;
	char err[256], got[512];
	int a, b, c, port;
	bool eof;
	int64_t t0;
	struct http h;

	if (!tap_ok(metrics_server_start(&o, &ms, err, sizeof(err)) == 0, "a server with 2 connections, 2 s timeout"))
		return;
	port = metrics_server_port(ms);
	a = tu_tcp_connect("127.0.0.1", port);
	b = tu_tcp_connect("127.0.0.1", port);
	t0 = tu_now_ms();
	/* Both idle. A third client is not served while they hold the slots (MHD either closes it
	 * or leaves it queued). */
	c = tu_tcp_connect("127.0.0.1", port);
	tu_send(c, "GET /metrics HTTP/1.0\r\n\r\n", 25);
	tu_read_lines(c, got, sizeof(got), 1, 500, &eof);
	tap_ok(strncmp(got, "HTTP/1.1 200", 12) != 0, "a third connection is not served while two are open");
	close(c);
	tap_ok(tu_drain_to_eof(a, 6000) == 0 && tu_drain_to_eof(b, 6000) == 0, "idle connections are closed by the server");
	tap_ok(tu_now_ms() - t0 >= 1000 && tu_now_ms() - t0 < 6000, "after about the timeout (%lld ms)", (long long)(tu_now_ms() - t0));
	close(a);
	close(b);
	tap_ok(http_do(port, "GET /metrics HTTP/1.0\r\n\r\n", &h) && h.status == 200, "then a client is served");
	http_free(&h);
	metrics_server_stop(ms);

	/* The listening socket is closed by stop: the port can be bound again. */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	tap_ok(!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(fd, 1), "after stop the port is free");
	close(fd);
}

static void test_start_errors(void)
{
	static const char *const bad[] = { "localhost:9100", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "[::1]9100",
					   "[::1:9100", "1.2.3:80", ":9100", "127.0.0.1:-1", "127.0.0.1:80x" };
	struct metrics_server_opts o = { .collect = collect };
	struct metrics_server *ms;
	char err[256], want[256];
	int fd, port;
	socklen_t len = sizeof(struct sockaddr_in);
	struct sockaddr_in sa = { .sin_family = AF_INET };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.listen = bad[i];
		snprintf(want, sizeof(want), "metrics: '%s' is not ADDR:PORT (numeric IPv4, or [IPv6])", bad[i]);
		tap_ok(metrics_server_start(&o, &ms, err, sizeof(err)) == -EINVAL && !strcmp(err, want) && !ms,
		       "refused: %s", bad[i]);
	}
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	listen(fd, 1);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	snprintf(want, sizeof(want), "127.0.0.1:%d", port);
	o.listen = want;
	tap_ok(metrics_server_start(&o, &ms, err, sizeof(err)) == -EADDRINUSE && strstr(err, "Address already in use"),
	       "a port in use: '%s'", err);
	close(fd);

	o.listen = "[::1]:0";
	int ret = metrics_server_start(&o, &ms, err, sizeof(err));
	if (ret == -EADDRNOTAVAIL || ret == -EAFNOSUPPORT) {
		tap_skip("no IPv6 loopback", "IPv6 [::1]");
	} else {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(metrics_server_port(ms)) };
		char got[64];
		bool eof;

		inet_pton(AF_INET6, "::1", &s6.sin6_addr);
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		tap_ok(ret == 0 && !connect(fd, (struct sockaddr *)&s6, sizeof(s6)) &&
		       tu_send(fd, "GET /metrics HTTP/1.0\r\n\r\n", 25) &&
		       tu_read_lines(fd, got, sizeof(got), 1, 5000, &eof) && !strncmp(got, "HTTP/1.1 200", 12),
		       "IPv6 [::1]: served");
		close(fd);
		metrics_server_stop(ms);
	}
}

int main(void)
{
	struct metrics_server_opts o = { .listen = "127.0.0.1:0", .collect = collect };
	struct metrics_server *ms;
	char err[256] = "ok";

	if (!tap_ok(metrics_server_start(&o, &ms, err, sizeof(err)) == 0, "start on 127.0.0.1:0 (%s)", err))
		return tap_done();
	tap_ok(metrics_server_port(ms) > 0, "a port was chosen (%u)", metrics_server_port(ms));
	test_scrape(metrics_server_port(ms));
	metrics_server_stop(ms);
	test_limits();
	test_start_errors();
	return tap_done();
}
