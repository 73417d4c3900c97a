/* SPDX-License-Identifier: MIT */
/* tclient: raw NVMe/TCP test host and nvringd process control (see tclient.h). */
#include "tclient.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spec/crc32c.h"
#include "tap.h"

/* ------------------------------------------------------------------ daemon */

struct tc_daemon_log {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *buf;
	size_t len, cap;
	bool eof;
};

const char *const tc_default_args[] = { "-l", "127.0.0.1:0", "--ns", "mem:64M", "--ns",
					  "mem:16M,bs=4096", "-t", "2", "-v", NULL };

const char *tc_subnqn = TC_SUBNQN;

int tc_external_port(void)
{
	const char *p = getenv("TC_TARGET_PORT"), *n = getenv("TC_TARGET_NQN");

	if (!p || !*p)
		return 0;
	if (n && *n)
		tc_subnqn = n;
	return atoi(p);
}

uint64_t tc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *tc_daemon_path(void)
{
	const char *p = getenv("NVRINGD");

	if (!p || !*p || access(p, X_OK) != 0)
		return NULL;
	return p;
}

/* Drains the daemon's output so a verbose daemon never blocks on a full pipe. */
static void *tc_daemon_reader(void *arg)
{
	struct tc_daemon *d = arg;
	struct tc_daemon_log *lg = d->priv;
	char chunk[4096];

	for (;;) {
		ssize_t n = read(d->errfd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		pthread_mutex_lock(&lg->lock);
		if (n <= 0) {
			lg->eof = true;
			pthread_cond_broadcast(&lg->cond);
			pthread_mutex_unlock(&lg->lock);
			break;
		}
		if (lg->len + (size_t)n + 1 > lg->cap) {
			size_t cap = (lg->cap ? lg->cap * 2 : 65536) + (size_t)n;
			char *nb = realloc(lg->buf, cap);

			if (!nb) {
				pthread_mutex_unlock(&lg->lock);
				continue; /* drop output rather than stall the daemon */
			}
			lg->buf = nb;
			lg->cap = cap;
		}
		memcpy(lg->buf + lg->len, chunk, (size_t)n);
		lg->len += (size_t)n;
		lg->buf[lg->len] = '\0';
		pthread_cond_broadcast(&lg->cond);
		pthread_mutex_unlock(&lg->lock);
	}
	return NULL;
}

static void tc_daemon_parse_ports(struct tc_daemon *d, const char *log)
{
	const char *key = "listening on ";
	const char *p = log;

	d->nports = 0;
	while ((p = strstr(p, key)) != NULL && d->nports < 8) {
		const char *eol = strchr(p, '\n');
		const char *colon = NULL;

		p += strlen(key);
		for (const char *q = p; *q && (!eol || q < eol); q++)
			if (*q == ':')
				colon = q;
		if (colon)
			d->ports[d->nports++] = atoi(colon + 1);
	}
}

int tc_daemon_start(struct tc_daemon *d, const char *const *args)
{
	const char *path = tc_daemon_path();
	struct tc_daemon_log *lg;
	int pfd[2];
	const char *argv[64];
	bool rpc_given = false;
	int argc = 0;
	struct timespec deadline;
	int ret = 0;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	if (!path)
		return -ENOENT;
	argv[argc++] = path;
	for (int i = 0; args && args[i] && argc < 61; i++) {
		argv[argc++] = args[i];
		rpc_given |= !strcmp(args[i], "--rpc-socket") || !strncmp(args[i], "--rpc-socket=", 13);
	}
	/* parallel daemons must not meet on the default /run/nvringd.sock */
	if (!rpc_given) {
		argv[argc++] = "--rpc-socket";
		argv[argc++] = "none";
	}
	argv[argc] = NULL;

	lg = calloc(1, sizeof(*lg));
	if (!lg)
		return -ENOMEM;
	pthread_mutex_init(&lg->lock, NULL);
	pthread_cond_init(&lg->cond, NULL);
	d->priv = lg;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	d->pid = fork();
	if (d->pid < 0) {
		ret = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return ret;
	}
	if (d->pid == 0) {
		/* the daemon must not outlive a crashed test */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	d->errfd = pfd[0];
	if (pthread_create(&lg->thread, NULL, tc_daemon_reader, d) != 0)
		return -EAGAIN;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&lg->lock);
	while (!(lg->buf && strstr(lg->buf, "nvringd: ready")) && !lg->eof) {
		if (pthread_cond_timedwait(&lg->cond, &lg->lock, &deadline) == ETIMEDOUT)
			break;
	}
	if (lg->buf && strstr(lg->buf, "nvringd: ready")) {
		d->ready = true;
		tc_daemon_parse_ports(d, lg->buf);
	}
	pthread_mutex_unlock(&lg->lock);
	if (!d->ready || d->nports == 0) {
		tc_daemon_dump(d, 2000);
		return -ETIMEDOUT;
	}
	return 0;
}

int tc_daemon_stop(struct tc_daemon *d, int timeout_ms)
{
	struct tc_daemon_log *lg = d->priv;
	uint64_t end = tc_now_ms() + (uint64_t)timeout_ms;
	int st = 0, ret;
	pid_t r = 0;

	if (d->pid <= 0)
		return -ESRCH;
	kill(d->pid, SIGTERM);
	while (tc_now_ms() < end) {
		r = waitpid(d->pid, &st, WNOHANG);
		if (r != 0)
			break;
		usleep(2000); /* polling a child with a deadline */
	}
	if (r == 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, &st, 0);
		ret = -ETIMEDOUT;
	} else if (WIFEXITED(st)) {
		ret = WEXITSTATUS(st);
	} else {
		ret = WIFSIGNALED(st) ? -WTERMSIG(st) : -EIO;
	}
	d->exit_status = ret;
	d->pid = -1;
	if (lg) {
		pthread_join(lg->thread, NULL);
		close(d->errfd);
		if (ret != 0)
			tc_daemon_dump(d, 3000);
		pthread_mutex_destroy(&lg->lock);
		pthread_cond_destroy(&lg->cond);
		free(lg->buf);
		free(lg);
		d->priv = NULL;
	}
	return ret;
}

char *tc_daemon_log(struct tc_daemon *d)
{
	struct tc_daemon_log *lg = d->priv;
	char *s;

	if (!lg)
		return strdup("");
	pthread_mutex_lock(&lg->lock);
	s = strdup(lg->buf ? lg->buf : "");
	pthread_mutex_unlock(&lg->lock);
	return s;
}

void tc_daemon_dump(struct tc_daemon *d, size_t tail)
{
	char *s = tc_daemon_log(d);
	char *p, *line;
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	p = n > tail ? s + n - tail : s;
	for (line = strtok(p, "\n"); line; line = strtok(NULL, "\n"))
		tap_diag("nvringd: | %s", line);
	free(s);
}

int tc_daemon_nfds(struct tc_daemon *d)
{
	char path[64];
	DIR *dir;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)d->pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* ------------------------------------------------------------------ socket */

int tc_open(struct tc_conn *c, int port)
{
	return tc_open_addr(c, "127.0.0.1", port);
}

int tc_open_addr(struct tc_conn *c, const char *addr, int port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	bool v6 = strchr(addr, ':') != NULL;
	struct timeval tv = { .tv_sec = TC_TIMEOUT_MS / 1000, .tv_usec = 0 };
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->next_cid = 1;
	if (v6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return -EINVAL;
	} else {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return -EINVAL;
	}
	c->fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&ss, v6 ? sizeof(*s6) : sizeof(*s4)) < 0) {
		int e = -errno;

		close(c->fd);
		c->fd = -1;
		return e;
	}
	return 0;
}

void tc_close(struct tc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->batch);
	c->batch = NULL;
	c->batch_len = c->batch_cap = 0;
}

static int tc_send_raw(struct tc_conn *c, const void *buf, size_t len);

int tc_send(struct tc_conn *c, const void *buf, size_t len)
{
	if (c->batching) {
		if (c->batch_len + len > c->batch_cap) {
			size_t cap = (c->batch_cap + len) * 2;
			uint8_t *nb = realloc(c->batch, cap);

			if (!nb)
				return -ENOMEM;
			c->batch = nb;
			c->batch_cap = cap;
		}
		memcpy(c->batch + c->batch_len, buf, len);
		c->batch_len += len;
		return 0;
	}
	return tc_send_raw(c, buf, len);
}

int tc_flush(struct tc_conn *c)
{
	int r = tc_send_raw(c, c->batch, c->batch_len);

	c->batch_len = 0;
	c->batching = false;
	return r;
}

static int tc_send_raw(struct tc_conn *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		size_t chunk = c->send_chunk && c->send_chunk < len ? c->send_chunk : len;
		ssize_t n = send(c->fd, p, chunk, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET) {
				/* the peer closed: same outcome as reading EOF */
				c->closed = true;
				return -ECONNRESET;
			}
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tc_recv_exact(struct tc_conn *c, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(c->fd, p, len, 0);

		if (n == 0) {
			c->closed = true;
			return -ECONNRESET;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				c->closed = true;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tc_wait_closed(struct tc_conn *c, int timeout_ms)
{
	uint64_t end = tc_now_ms() + (uint64_t)timeout_ms;
	uint8_t b;

	for (;;) {
		int left = (int)(end - tc_now_ms());
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int r;

		if ((int64_t)(end - tc_now_ms()) <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, left);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		r = (int)recv(c->fd, &b, 1, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			c->closed = true;
			return 0;
		}
		if (r > 0)
			return -EPROTO;
	}
}

/* ------------------------------------------------------------------ PDUs */

void tc_pdu_free(struct tc_pdu *p)
{
	free(p->raw);
	p->raw = NULL;
}

static void tc_proto_err(struct tc_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tc_proto_err(struct tc_conn *c, const char *fmt, ...)
{
	va_list ap;

	c->proto_errs++;
	va_start(ap, fmt);
	vsnprintf(c->proto_msg, sizeof(c->proto_msg), fmt, ap);
	va_end(ap);
	tap_diag("target protocol error: %s", c->proto_msg);
}

static void tc_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t tc_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int tc_recv_pdu(struct tc_conn *c, struct tc_pdu *p)
{
	uint8_t ch[8];
	bool digestible;
	uint32_t dend;
	int r;

	memset(p, 0, sizeof(*p));
	r = tc_recv_exact(c, ch, sizeof(ch));
	if (r < 0)
		return r;
	memcpy(&p->hdr, ch, sizeof(ch));
	p->plen = p->hdr.plen;
	if (p->plen < 8 || p->plen > (16u << 20) || p->hdr.hlen > p->plen) {
		tc_proto_err(c, "PDU type %#x: bad hlen %u / plen %u", p->hdr.type, p->hdr.hlen, p->plen);
		return -EPROTO;
	}
	p->raw = malloc(p->plen);
	if (!p->raw)
		return -ENOMEM;
	memcpy(p->raw, ch, sizeof(ch));
	r = tc_recv_exact(c, p->raw + 8, p->plen - 8);
	if (r < 0) {
		tc_pdu_free(p);
		return r;
	}
	p->hdgst = p->ddgst = -1;
	/* NVMe/TCP 1.0 3.6.2: ICResp and TermReq never carry digests */
	digestible = p->hdr.type == NVME_TCP_RSP || p->hdr.type == NVME_TCP_C2H_DATA ||
		     p->hdr.type == NVME_TCP_R2T;
	if (digestible && (!!(p->hdr.flags & NVME_TCP_F_HDGST) != c->hdgst))
		tc_proto_err(c, "PDU type %#x: HDGST flag %d but negotiated %d", p->hdr.type,
			     !!(p->hdr.flags & NVME_TCP_F_HDGST), c->hdgst);
	if (digestible && (p->hdr.flags & NVME_TCP_F_HDGST)) {
		if (p->plen < (uint32_t)p->hdr.hlen + 4) {
			tc_proto_err(c, "PDU type %#x: no room for header digest", p->hdr.type);
			tc_pdu_free(p);
			return -EPROTO;
		}
		p->hdgst = crc32c(p->raw, p->hdr.hlen) == tc_get_le32(p->raw + p->hdr.hlen);
		if (!p->hdgst)
			tc_proto_err(c, "PDU type %#x: bad header digest", p->hdr.type);
	}
	if (p->hdr.pdo) {
		dend = p->plen;
		if (p->hdr.type == NVME_TCP_C2H_DATA && (p->hdr.flags & NVME_TCP_F_DDGST)) {
			if (dend < (uint32_t)p->hdr.pdo + 4) {
				tc_proto_err(c, "C2HData: no room for data digest");
				tc_pdu_free(p);
				return -EPROTO;
			}
			dend -= 4;
		}
		if (p->hdr.pdo > dend) {
			tc_proto_err(c, "PDU type %#x: pdo %u beyond plen %u", p->hdr.type, p->hdr.pdo,
				     p->plen);
			tc_pdu_free(p);
			return -EPROTO;
		}
		p->data = p->raw + p->hdr.pdo;
		p->datalen = dend - p->hdr.pdo;
		if (p->hdr.type == NVME_TCP_C2H_DATA && (p->hdr.flags & NVME_TCP_F_DDGST)) {
			p->ddgst = crc32c(p->data, p->datalen) == tc_get_le32(p->raw + dend);
			if (!p->ddgst)
				tc_proto_err(c, "C2HData: bad data digest");
		}
	}
	if (p->hdr.type == NVME_TCP_C2H_DATA && (!!(p->hdr.flags & NVME_TCP_F_DDGST)) != c->ddgst)
		tc_proto_err(c, "C2HData: DDGST flag %d but negotiated %d",
			     !!(p->hdr.flags & NVME_TCP_F_DDGST), c->ddgst);
	return 0;
}

/* Keep a C2HTermReq's FES, FEI and error data in c->term_* for the test to check. */
static void tc_record_term(struct tc_conn *c, const struct tc_pdu *p)
{
	struct nvme_tcp_term_pdu t = { 0 };
	uint32_t hl = p->plen < sizeof(t) ? p->plen : sizeof(t);

	memcpy(&t, p->raw, hl);
	c->got_term = true;
	c->term_fes = t.fes;
	c->term_fei = t.fei;
	c->term_hlen = p->hdr.hlen;
	c->term_plen = p->plen;
	c->term_datalen = p->plen - hl;
	if (c->term_datalen > sizeof(c->term_data))
		c->term_datalen = sizeof(c->term_data);
	memcpy(c->term_data, p->raw + hl, c->term_datalen);
}

void tc_icreq_pdu(struct nvme_tcp_icreq_pdu *req, uint16_t pfv, uint8_t hpda, uint8_t digest)
{
	*req = (struct nvme_tcp_icreq_pdu){ 0 };
	req->hdr.type = NVME_TCP_ICREQ;
	req->hdr.hlen = sizeof(*req);
	req->hdr.plen = sizeof(*req);
	req->pfv = pfv;
	req->hpda = hpda;
	req->digest = digest;
}

int tc_icreq_raw(struct tc_conn *c, uint16_t pfv, uint8_t hpda, uint8_t digest,
		 struct nvme_tcp_icresp_pdu *resp)
{
	struct nvme_tcp_icreq_pdu req;
	struct tc_pdu p;
	int r;

	tc_icreq_pdu(&req, pfv, hpda, digest);
	r = tc_send(c, &req, sizeof(req));
	if (r < 0)
		return r;
	r = tc_recv_pdu(c, &p);
	if (r < 0)
		return r;
	if (p.hdr.type == NVME_TCP_C2H_TERM) {
		/* keep the TermReq for the caller (tests of bad ICReq) */
		tc_record_term(c, &p);
		tc_pdu_free(&p);
		return -EPROTO;
	}
	if (p.hdr.type != NVME_TCP_ICRESP || p.plen != sizeof(*resp)) {
		tc_proto_err(c, "expected ICResp, got type %#x plen %u", p.hdr.type, p.plen);
		tc_pdu_free(&p);
		return -EPROTO;
	}
	if (resp)
		memcpy(resp, p.raw, sizeof(*resp));
	{
		struct nvme_tcp_icresp_pdu ir;

		memcpy(&ir, p.raw, sizeof(ir));
		c->hdgst = ir.digest & NVME_TCP_HDR_DIGEST_ENABLE;
		c->ddgst = ir.digest & NVME_TCP_DATA_DIGEST_ENABLE;
		c->maxh2cdata = ir.maxh2cdata;
		c->cpda = ir.cpda;
	}
	tc_pdu_free(&p);
	return 0;
}

int tc_icreq(struct tc_conn *c, uint8_t digest, struct nvme_tcp_icresp_pdu *resp)
{
	return tc_icreq_raw(c, 0, 0, digest, resp);
}

int tc_expect_term(struct tc_conn *c)
{
	struct tc_pdu p;
	int r;

	for (;;) {
		r = tc_recv_pdu(c, &p);
		if (r < 0)
			return r;
		if (p.hdr.type == NVME_TCP_C2H_TERM)
			break;
		/* completions of earlier commands may legitimately precede the TermReq */
		tc_pdu_free(&p);
	}
	tc_record_term(c, &p);
	tc_pdu_free(&p);
	return 0;
}

/* ------------------------------------------------------------------ commands */

void tc_cmd_init(struct tc_cmd *cmd, uint8_t opcode, uint32_t nsid)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->sqe.opcode = opcode;
	cmd->sqe.nsid = nsid;
}

static uint32_t tc_pad_to(uint32_t off, uint8_t pda)
{
	uint32_t a = ((uint32_t)pda + 1) * 4;

	return (off + a - 1) / a * a;
}

int tc_submit(struct tc_conn *c, struct tc_cmd *cmd)
{
	bool icd = cmd->wbuf && cmd->wlen && cmd->incapsule;
	uint32_t hd = c->hdgst ? 4 : 0, dd = (c->ddgst && icd) ? 4 : 0;
	uint32_t pdo = icd ? tc_pad_to(72 + hd, c->cpda) : 0;
	uint32_t plen = icd ? pdo + cmd->wlen + dd : 72 + hd;
	uint16_t cid;
	uint8_t *buf;
	struct nvme_tcp_hdr h = { 0 };
	int r;

	cmd->done = cmd->got_rsp = cmd->c2h_success = false;
	cmd->n_c2h = cmd->n_r2t = cmd->n_h2c = 0;
	cmd->c2h_bytes = cmd->r2t_bytes = 0;
	cmd->digest_errs = 0;
	if (!cmd->raw_sqe) {
		for (int tries = 0; tries < TC_MAX_CID; tries++) {
			cid = c->next_cid++ % TC_MAX_CID;
			if (!c->inflight[cid])
				break;
		}
		cmd->sqe.cid = cid;
		cmd->sqe.flags = (uint8_t)((cmd->sqe.flags & ~0xc0) | NVME_CMD_PSDT_SGL);
		memset(&cmd->sqe.sgl, 0, sizeof(cmd->sqe.sgl));
		if (icd) {
			cmd->sqe.sgl.type = NVME_SGL_TYPE_ICD;
			cmd->sqe.sgl.length = cmd->wlen;
		} else {
			cmd->sqe.sgl.type = NVME_SGL_TYPE_TRANSPORT;
			cmd->sqe.sgl.length = cmd->wbuf ? cmd->wlen : cmd->rlen;
		}
	}
	c->inflight[cmd->sqe.cid % TC_MAX_CID] = cmd;

	buf = calloc(1, plen);
	if (!buf)
		return -ENOMEM;
	h.type = NVME_TCP_CMD;
	h.flags = (uint8_t)((hd ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0));
	h.hlen = 72;
	h.pdo = (uint8_t)pdo;
	h.plen = plen;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + 8, &cmd->sqe, sizeof(cmd->sqe));
	if (hd)
		tc_put_le32(buf + 72, crc32c(buf, 72) ^ (cmd->bad_hdgst ? 0x1u : 0));
	if (icd) {
		memcpy(buf + pdo, cmd->wbuf, cmd->wlen);
		if (dd)
			tc_put_le32(buf + pdo + cmd->wlen,
				    crc32c(cmd->wbuf, cmd->wlen) ^ (cmd->bad_ddgst ? 0x80u : 0));
	}
	r = tc_send(c, buf, plen);
	free(buf);
	return r;
}

static struct tc_cmd *tc_lookup(struct tc_conn *c, uint16_t cid)
{
	struct tc_cmd *cmd = c->inflight[cid % TC_MAX_CID];

	return cmd && cmd->sqe.cid == cid ? cmd : NULL;
}

static void tc_complete(struct tc_conn *c, struct tc_cmd *cmd)
{
	cmd->done = true;
	c->inflight[cmd->sqe.cid % TC_MAX_CID] = NULL;
}

/* Answer one R2T with H2CData PDUs of at most h2c_split bytes each. */
static int tc_send_h2c(struct tc_conn *c, struct tc_cmd *cmd, uint16_t ttag, uint32_t off,
		       uint32_t len)
{
	uint32_t split = cmd->h2c_split ? cmd->h2c_split : c->maxh2cdata;
	uint32_t hd = c->hdgst ? 4 : 0, dd = c->ddgst ? 4 : 0;
	uint32_t pdo = tc_pad_to(24 + hd, c->cpda);
	uint32_t done = 0;
	bool first = true;

	if (!split)
		split = 4096;
	while (done < len || (len == 0 && first)) {
		uint32_t n = len - done < split ? len - done : split;
		bool last = done + n == len;
		uint32_t extra = last ? cmd->datal_extra : 0;
		uint32_t plen = pdo + n + extra + dd;
		struct nvme_tcp_data_pdu d = { 0 };
		uint8_t *buf = calloc(1, plen);
		int r;

		if (!buf)
			return -ENOMEM;
		d.hdr.type = NVME_TCP_H2C_DATA;
		d.hdr.flags = (uint8_t)((hd ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0) |
					((last && !cmd->no_last) ? NVME_TCP_F_DATA_LAST : 0));
		d.hdr.hlen = 24;
		d.hdr.pdo = (uint8_t)pdo;
		d.hdr.plen = plen;
		d.cccid = (uint16_t)(cmd->sqe.cid + cmd->cccid_delta);
		d.ttag = (uint16_t)(ttag + cmd->ttag_delta);
		d.datao = off + done + (uint32_t)(first ? cmd->datao_delta : 0);
		d.datal = n + extra;
		memcpy(buf, &d, sizeof(d));
		if (hd)
			tc_put_le32(buf + 24, crc32c(buf, 24));
		if (cmd->wbuf && off + done + n <= cmd->wlen)
			memcpy(buf + pdo, (const uint8_t *)cmd->wbuf + off + done, n);
		if (dd)
			tc_put_le32(buf + pdo + n + extra,
				    crc32c(buf + pdo, n + extra) ^ (cmd->bad_ddgst ? 0x80u : 0));
		r = tc_send(c, buf, plen);
		free(buf);
		if (r < 0)
			return r;
		cmd->n_h2c++;
		done += n;
		first = false;
		if (len == 0)
			break;
	}
	return 0;
}

int tc_poll(struct tc_conn *c)
{
	uint32_t hd = c->hdgst ? 4 : 0;
	struct tc_pdu p;
	struct tc_cmd *cmd;
	int r = tc_recv_pdu(c, &p);

	if (r < 0)
		return r;
	switch (p.hdr.type) {
	case NVME_TCP_RSP: {
		struct nvme_cqe cqe;

		if (p.hdr.hlen != 24 || p.hdr.pdo != 0 || p.plen != 24 + hd) {
			tc_proto_err(c, "CapsuleResp hlen %u pdo %u plen %u", p.hdr.hlen, p.hdr.pdo,
				     p.plen);
			r = -EPROTO;
			break;
		}
		memcpy(&cqe, p.raw + 8, sizeof(cqe));
		cmd = tc_lookup(c, cqe.cid);
		if (!cmd) {
			tc_proto_err(c, "CapsuleResp for unknown cid %u (status %#x)", cqe.cid,
				     cqe.status);
			break;
		}
		if (cqe.sqid != c->qid)
			tc_proto_err(c, "CapsuleResp cid %u: sqid %u on queue %u", cqe.cid, cqe.sqid,
				     c->qid);
		cmd->cqe = cqe;
		cmd->status = nvme_status_from_wire(cqe.status);
		cmd->got_rsp = true;
		c->last_sqhd = cqe.sqhd;
		tc_complete(c, cmd);
		break;
	}
	case NVME_TCP_C2H_DATA: {
		struct nvme_tcp_data_pdu d;

		memcpy(&d, p.raw, sizeof(d) <= p.plen ? sizeof(d) : p.plen);
		if (p.hdr.hlen != 24 || p.hdr.pdo != tc_pad_to(24 + hd, 0) || p.datalen != d.datal) {
			tc_proto_err(c, "C2HData hlen %u pdo %u datal %u (data section %u)",
				     p.hdr.hlen, p.hdr.pdo, d.datal, p.datalen);
			r = -EPROTO;
			break;
		}
		cmd = tc_lookup(c, d.cccid);
		if (!cmd) {
			tc_proto_err(c, "C2HData for unknown cid %u", d.cccid);
			break;
		}
		if ((uint64_t)d.datao + d.datal > cmd->rlen || !cmd->rbuf) {
			tc_proto_err(c, "C2HData cid %u: datao %u + datal %u beyond %u", d.cccid,
				     d.datao, d.datal, cmd->rlen);
			break;
		}
		if (p.hdgst == 0 || p.ddgst == 0)
			cmd->digest_errs++;
		memcpy((uint8_t *)cmd->rbuf + d.datao, p.data, d.datal);
		cmd->n_c2h++;
		cmd->c2h_bytes += d.datal;
		cmd->last_c2h_flags = p.hdr.flags;
		if (p.hdr.flags & NVME_TCP_F_DATA_SUCCESS) {
			if (!(p.hdr.flags & NVME_TCP_F_DATA_LAST))
				tc_proto_err(c, "C2HData cid %u: SUCCESS without LAST", d.cccid);
			if (!c->sqflow_disabled)
				tc_proto_err(c, "C2HData cid %u: SUCCESS with SQ flow control on",
					     d.cccid);
			cmd->c2h_success = true;
			cmd->status = 0;
			memset(&cmd->cqe, 0, sizeof(cmd->cqe));
			cmd->cqe.cid = d.cccid;
			tc_complete(c, cmd);
		}
		break;
	}
	case NVME_TCP_R2T: {
		struct nvme_tcp_r2t_pdu t;

		memcpy(&t, p.raw, sizeof(t) <= p.plen ? sizeof(t) : p.plen);
		if (p.hdr.hlen != 24 || p.hdr.pdo != 0 || p.plen != 24 + hd) {
			tc_proto_err(c, "R2T hlen %u pdo %u plen %u", p.hdr.hlen, p.hdr.pdo, p.plen);
			r = -EPROTO;
			break;
		}
		cmd = tc_lookup(c, t.cccid);
		if (!cmd) {
			tc_proto_err(c, "R2T for unknown cid %u", t.cccid);
			break;
		}
		if ((uint64_t)t.r2to + t.r2tl > cmd->wlen || t.r2tl == 0) {
			tc_proto_err(c, "R2T cid %u: r2to %u r2tl %u beyond %u", t.cccid, t.r2to, t.r2tl,
				     cmd->wlen);
			break;
		}
		cmd->n_r2t++;
		cmd->r2t_bytes += t.r2tl;
		cmd->r2t_ttag = t.ttag;
		cmd->r2t_off = t.r2to;
		cmd->r2t_len = t.r2tl;
		if (!cmd->defer_r2t)
			r = tc_send_h2c(c, cmd, t.ttag, t.r2to, t.r2tl);
		break;
	}
	case NVME_TCP_C2H_TERM:
		tc_record_term(c, &p);
		tap_diag("C2HTermReq: fes %#x fei %#x plen %u", c->term_fes, c->term_fei, p.plen);
		r = -EPROTO;
		break;
	default:
		tc_proto_err(c, "unexpected PDU type %#x", p.hdr.type);
		r = -EPROTO;
		break;
	}
	tc_pdu_free(&p);
	return r;
}

int tc_wait(struct tc_conn *c, struct tc_cmd *cmd)
{
	while (!cmd->done) {
		int r = tc_poll(c);

		if (r < 0)
			return r;
	}
	return 0;
}

int tc_wait_r2t(struct tc_conn *c, struct tc_cmd *cmd)
{
	int seen = cmd->n_r2t;

	while (!cmd->done && cmd->n_r2t == seen) {
		int r = tc_poll(c);

		if (r < 0)
			return r;
	}
	return 0;
}

int tc_h2c(struct tc_conn *c, struct tc_cmd *cmd, uint32_t off, uint32_t len, bool last)
{
	uint32_t hd = c->hdgst ? 4 : 0, dd = c->ddgst ? 4 : 0;
	uint32_t pdo = tc_pad_to(24 + hd, c->cpda);
	uint32_t plen = pdo + len + dd;
	struct nvme_tcp_data_pdu d = { 0 };
	uint8_t *buf;
	int r;

	if (!cmd->wbuf || (uint64_t)off + len > cmd->wlen)
		return -EINVAL;
	buf = calloc(1, plen);
	if (!buf)
		return -ENOMEM;
	d.hdr.type = NVME_TCP_H2C_DATA;
	d.hdr.flags = (uint8_t)((hd ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0) |
				(last ? NVME_TCP_F_DATA_LAST : 0));
	d.hdr.hlen = 24;
	d.hdr.pdo = (uint8_t)pdo;
	d.hdr.plen = plen;
	d.cccid = cmd->sqe.cid;
	d.ttag = cmd->r2t_ttag;
	d.datao = off;
	d.datal = len;
	memcpy(buf, &d, sizeof(d));
	if (hd)
		tc_put_le32(buf + 24, crc32c(buf, 24));
	memcpy(buf + pdo, (const uint8_t *)cmd->wbuf + off, len);
	if (dd)
		tc_put_le32(buf + pdo + len, crc32c(buf + pdo, len));
	r = tc_send(c, buf, plen);
	free(buf);
	if (r == 0)
		cmd->n_h2c++;
	return r;
}

int tc_exec(struct tc_conn *c, struct tc_cmd *cmd)
{
	int r = tc_submit(c, cmd);

	if (r < 0)
		return r;
	r = tc_wait(c, cmd);
	if (r < 0)
		return r;
	return cmd->status;
}

int tc_exec_all(struct tc_conn *c, struct tc_cmd *cmds, int n)
{
	int r = 0;

	for (int i = 0; i < n && r == 0; i++)
		r = tc_submit(c, &cmds[i]);
	if (r == 0 && c->batching)
		r = tc_flush(c);
	for (int i = 0; i < n && r == 0; i++) {
		r = tc_wait(c, &cmds[i]);
		if (r == 0)
			r = cmds[i].status;
		if (r != 0)
			tap_diag("command %d of %d: %d (status %#x, r2t %d, h2c %d)", i, n, r,
				 cmds[i].status, cmds[i].n_r2t, cmds[i].n_h2c);
	}
	return r;
}

/* ------------------------------------------------------------------ fabrics */

void tc_connect_args_default(struct tc_connect_args *a, uint16_t qid, uint16_t cntlid)
{
	memset(a, 0, sizeof(*a));
	a->qid = qid;
	a->sqsize = qid ? 127 : 31;
	a->cntlid = cntlid;
	a->kato = qid ? 0 : 30000;
	a->subnqn = tc_subnqn;
	a->hostnqn = TC_HOSTNQN;
}

int tc_fabrics_connect(struct tc_conn *c, const struct tc_connect_args *a, struct nvme_cqe *cqe)
{
	struct tc_cmd cmd;
	struct nvmf_connect_sqe *s = (struct nvmf_connect_sqe *)&cmd.sqe;
	static const uint8_t hostid[16] = { 0x6e, 0x0c, 0x5a, 0x2e, 0, 0, 0x40, 0, 0x80, 0, 0, 0,
					    0, 0, 0xc0, 0xde };
	uint8_t data[NVMF_CONNECT_DATA_LEN] = { 0 };
	int r;

	tc_cmd_init(&cmd, NVME_FABRICS_OPCODE, 0);
	s->fctype = 0x01;
	s->recfmt = a->recfmt;
	s->qid = a->qid;
	s->sqsize = a->sqsize;
	s->cattr = a->cattr;
	s->kato = a->kato;
	memcpy(data, a->hostid ? a->hostid : hostid, sizeof(hostid));
	memcpy(data + 16, &a->cntlid, 2);
	strncpy((char *)data + 256, a->subnqn ? a->subnqn : "", 255);
	strncpy((char *)data + 512, a->hostnqn ? a->hostnqn : "", 255);
	cmd.wbuf = data;
	cmd.wlen = sizeof(data);
	cmd.incapsule = true;
	c->qid = a->qid;
	r = tc_exec(c, &cmd);
	if (cqe)
		*cqe = cmd.cqe;
	if (r == 0) {
		c->sqsize = a->sqsize;
		c->sqflow_disabled = a->cattr & NVMF_CONNECT_DISABLE_SQFLOW;
		if (a->qid == 0)
			c->cntlid = (uint16_t)cmd.cqe.dw0;
		else
			c->cntlid = a->cntlid;
	}
	return r;
}

int tc_prop_get(struct tc_conn *c, uint32_t off, bool eight, uint64_t *val)
{
	struct tc_cmd cmd;
	struct nvmf_property_sqe *s = (struct nvmf_property_sqe *)&cmd.sqe;
	int r;

	tc_cmd_init(&cmd, NVME_FABRICS_OPCODE, 0);
	s->fctype = 0x04;
	s->attrib = eight ? 1 : 0;
	s->offset = off;
	r = tc_exec(c, &cmd);
	if (r == 0 && val)
		*val = cmd.cqe.dw0 | (eight ? (uint64_t)cmd.cqe.dw1 << 32 : 0);
	return r;
}

int tc_prop_set(struct tc_conn *c, uint32_t off, bool eight, uint64_t val)
{
	struct tc_cmd cmd;
	struct nvmf_property_sqe *s = (struct nvmf_property_sqe *)&cmd.sqe;

	tc_cmd_init(&cmd, NVME_FABRICS_OPCODE, 0);
	s->fctype = 0x00;
	s->attrib = eight ? 1 : 0;
	s->offset = off;
	s->value = val;
	return tc_exec(c, &cmd);
}

int tc_wait_csts(struct tc_conn *c, uint32_t mask, uint32_t want, int timeout_ms)
{
	uint64_t end = tc_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint64_t v = 0;
		int r = tc_prop_get(c, 0x1c, false, &v);

		if (r != 0)
			return r < 0 ? r : -EIO;
		if (((uint32_t)v & mask) == want)
			return 0;
		if (tc_now_ms() > end)
			return -ETIMEDOUT;
		usleep(1000); /* polling a register with a deadline */
	}
}

int tc_enable(struct tc_conn *c, uint32_t css)
{
	uint32_t cc = 1u | (css & 7) << 4 | 6u << 16 | 4u << 20;
	int r = tc_prop_set(c, 0x14, false, cc);

	if (r != 0)
		return r < 0 ? r : -EIO;
	return tc_wait_csts(c, 1, 1, 5000);
}

int tc_identify(struct tc_conn *c, uint8_t cns, uint32_t nsid, uint8_t csi, void *buf4k)
{
	struct tc_cmd cmd;

	tc_cmd_init(&cmd, 0x06, nsid);
	cmd.sqe.cdw10 = cns;
	cmd.sqe.cdw11 = (uint32_t)csi << 24;
	cmd.rbuf = buf4k;
	cmd.rlen = 4096;
	return tc_exec(c, &cmd);
}

int tc_get_log(struct tc_conn *c, uint8_t lid, uint32_t nsid, uint64_t off, void *buf, uint32_t len)
{
	struct tc_cmd cmd;
	uint32_t numd = len / 4 - 1;

	tc_cmd_init(&cmd, 0x02, nsid);
	cmd.sqe.cdw10 = lid | (numd & 0xffff) << 16;
	cmd.sqe.cdw11 = numd >> 16;
	cmd.sqe.cdw12 = (uint32_t)off;
	cmd.sqe.cdw13 = (uint32_t)(off >> 32);
	cmd.rbuf = buf;
	cmd.rlen = len;
	return tc_exec(c, &cmd);
}

int tc_get_features(struct tc_conn *c, uint8_t fid, uint32_t cdw11, uint32_t *dw0)
{
	struct tc_cmd cmd;
	int r;

	tc_cmd_init(&cmd, 0x0a, 0);
	cmd.sqe.cdw10 = fid;
	cmd.sqe.cdw11 = cdw11;
	r = tc_exec(c, &cmd);
	if (dw0)
		*dw0 = cmd.cqe.dw0;
	return r;
}

int tc_set_features(struct tc_conn *c, uint8_t fid, uint32_t cdw11, uint32_t *dw0)
{
	struct tc_cmd cmd;
	int r;

	tc_cmd_init(&cmd, 0x09, 0);
	cmd.sqe.cdw10 = fid;
	cmd.sqe.cdw11 = cdw11;
	r = tc_exec(c, &cmd);
	if (dw0)
		*dw0 = cmd.cqe.dw0;
	return r;
}

int tc_keep_alive(struct tc_conn *c)
{
	struct tc_cmd cmd;

	tc_cmd_init(&cmd, 0x18, 0);
	return tc_exec(c, &cmd);
}

int tc_admin_session(struct tc_conn *c, int port, uint8_t digest, uint32_t kato, const char *subnqn)
{
	struct tc_connect_args a;
	int r = tc_open(c, port);

	if (r < 0)
		return r;
	r = tc_icreq(c, digest, NULL);
	if (r < 0)
		return r;
	tc_connect_args_default(&a, 0, 0xffff);
	a.kato = kato;
	if (subnqn)
		a.subnqn = subnqn;
	r = tc_fabrics_connect(c, &a, NULL);
	if (r != 0)
		return r < 0 ? r : -EIO;
	return tc_enable(c, 0);
}

int tc_io_session(struct tc_conn *c, int port, uint8_t digest, uint16_t cntlid, uint16_t qid,
		  uint16_t sqsize, uint8_t cattr)
{
	struct tc_connect_args a;
	int r = tc_open(c, port);

	if (r < 0)
		return r;
	r = tc_icreq(c, digest, NULL);
	if (r < 0)
		return r;
	tc_connect_args_default(&a, qid, cntlid);
	a.sqsize = sqsize;
	a.cattr = cattr;
	r = tc_fabrics_connect(c, &a, NULL);
	return r > 0 ? -EIO : r;
}

void tc_rw_cmd(struct tc_cmd *cmd, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb,
	       void *buf, uint32_t len)
{
	tc_cmd_init(cmd, opcode, nsid);
	cmd->sqe.cdw10 = (uint32_t)slba;
	cmd->sqe.cdw11 = (uint32_t)(slba >> 32);
	cmd->sqe.cdw12 = nlb - 1;
	if (opcode & 1) {
		cmd->wbuf = buf;
		cmd->wlen = len;
	} else {
		cmd->rbuf = buf;
		cmd->rlen = len;
	}
}

int tc_rw(struct tc_conn *c, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb,
	  void *buf, uint32_t len, bool incapsule)
{
	struct tc_cmd cmd;

	tc_rw_cmd(&cmd, opcode, nsid, slba, nlb, buf, len);
	cmd.incapsule = incapsule; /* only writes carry data in the capsule */
	return tc_exec(c, &cmd);
}

/* ------------------------------------------------------------------ data */

void tc_fill(void *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 0x9e3779b9u;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

long tc_memdiff(const void *a, const void *b, size_t len)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < len; i++)
		if (x[i] != y[i])
			return (long)i;
	return -1;
}
