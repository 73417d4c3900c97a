/* SPDX-License-Identifier: MIT */
/*
 * Settings that are not topology (threads, limits, timeouts, control plane): one table read
 * by the flag parser, the JSON "nvring" object, the printer and the writer, so that a new
 * setting is one line here.
 */
#include "cfg_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CFG_MAX_TIMEOUT_MS 3600000u   /* an hour: more is a mistake */
#define CFG_MIN_INFLIGHT (1ull << 20) /* the largest single transfer (MDTS) must fit */
#define CFG_MAX_INFLIGHT (1ull << 40)
#define CFG_MAX_CONNS (1u << 20)

#define OFF(f) offsetof(struct nvr_config, f)

const struct cfg_setting cfg_settings[] = {
	{ "--threads", "-t", "threads", CS_UINT, OFF(threads), 1, CFG_MAX_THREADS },
	{ "--max-connections", NULL, "max_connections", CS_UINT, OFF(max_connections), 1, CFG_MAX_CONNS },
	{ "--max-connections-per-host", NULL, "max_connections_per_host", CS_UINT,
	  OFF(max_connections_per_host), 1, CFG_MAX_CONNS },
	{ "--max-inflight-bytes", NULL, "max_inflight_bytes", CS_SIZE, OFF(max_inflight_bytes),
	  CFG_MIN_INFLIGHT, CFG_MAX_INFLIGHT },
	{ "--max-inflight-bytes-per-conn", NULL, "max_inflight_bytes_per_conn", CS_SIZE,
	  OFF(max_inflight_bytes_per_conn), CFG_MIN_INFLIGHT, CFG_MAX_INFLIGHT },
	{ "--icreq-timeout", NULL, "icreq_timeout", CS_UINT, OFF(icreq_timeout_ms), 0, CFG_MAX_TIMEOUT_MS },
	{ "--connect-timeout", NULL, "connect_timeout", CS_UINT, OFF(connect_timeout_ms), 0, CFG_MAX_TIMEOUT_MS },
	{ "--pdu-timeout", NULL, "pdu_timeout", CS_UINT, OFF(pdu_timeout_ms), 0, CFG_MAX_TIMEOUT_MS },
	{ "--listen-backlog", NULL, "listen_backlog", CS_UINT, OFF(listen_backlog), 1, 65535 },
	{ "--rpc-socket", NULL, "rpc_socket", CS_PATH, OFF(rpc_socket), 0, 0 },
	{ "--metrics", NULL, "metrics", CS_ADDR, OFF(metrics), 0, 0 },
};
const size_t cfg_nr_settings = sizeof(cfg_settings) / sizeof(cfg_settings[0]);

#define FIELD(cfg, st, type) ((type *)((char *)(cfg) + (st)->off))
#define CFIELD(cfg, st, type) ((const type *)((const char *)(cfg) + (st)->off))

unsigned cfg_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > CFG_MAX_THREADS ? CFG_MAX_THREADS : (unsigned)n;
}

/* What the kernel would cap listen(2)'s backlog to anyway. */
unsigned cfg_default_backlog(void)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
	unsigned v = 0;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v < 1 ? 4096 : v > 65535 ? 65535 : v; /* 4096: Linux's default since 5.4 */
}

int cfg_setting_parse(const struct cfg_setting *st, struct nvr_config *cfg, const char *val,
		      char *msg, size_t msglen)
{
	char lo[24], hi[24];
	uint64_t v;

	switch (st->type) {
	case CS_UINT:
		if (cfg_parse_uint(val, st->max, &v) || v < st->min)
			return cfg_err(msg, msglen, "must be a number %" PRIu64 "..%" PRIu64, st->min, st->max);
		*FIELD(cfg, st, unsigned) = (unsigned)v;
		return 0;
	case CS_SIZE:
		if (nvr_parse_size(val, &v) || v < st->min || v > st->max)
			return cfg_err(msg, msglen, "must be a size %s..%s (bytes, or with a K/M/G/T suffix)",
				       cfg_fmt_size(lo, st->min), cfg_fmt_size(hi, st->max));
		*FIELD(cfg, st, uint64_t) = v;
		return 0;
	case CS_PATH: {
		char *path;

		if (cfg_parse_socket_path(val, &path, msg, msglen))
			return -1;
		free(*FIELD(cfg, st, char *));
		*FIELD(cfg, st, char *) = path;
		return 0;
	}
	case CS_ADDR: {
		struct cfg_metrics *m = FIELD(cfg, st, struct cfg_metrics);
		struct cfg_metrics n = { .enabled = true };

		if (!strcmp(val, "none")) {
			memset(m, 0, sizeof(*m));
			return 0;
		}
		if (nvr_parse_addr(val, n.addr, sizeof(n.addr), &n.port, &n.family))
			return cfg_err(msg, msglen, "expected ADDR:PORT or [IPV6]:PORT with a numeric address, "
				       "or \"none\"");
		*m = n;
		return 0;
	}
	}
	return 0;
}

int cfg_setting_copy(const struct cfg_setting *st, struct nvr_config *dst, const struct nvr_config *src)
{
	switch (st->type) {
	case CS_UINT: *FIELD(dst, st, unsigned) = *CFIELD(src, st, unsigned); break;
	case CS_SIZE: *FIELD(dst, st, uint64_t) = *CFIELD(src, st, uint64_t); break;
	case CS_ADDR: *FIELD(dst, st, struct cfg_metrics) = *CFIELD(src, st, struct cfg_metrics); break;
	case CS_PATH: return cfg_dup(FIELD(dst, st, char *), *CFIELD(src, st, char *));
	}
	return 0;
}

const char *cfg_setting_fmt(const struct cfg_setting *st, const struct nvr_config *cfg, char *buf,
			    size_t len)
{
	char sz[24];

	switch (st->type) {
	case CS_UINT:
		snprintf(buf, len, "%u", *CFIELD(cfg, st, unsigned));
		break;
	case CS_SIZE:
		snprintf(buf, len, "%s", cfg_fmt_size(sz, *CFIELD(cfg, st, uint64_t)));
		break;
	case CS_PATH: {
		const char *p = *CFIELD(cfg, st, char *);

		snprintf(buf, len, "%s", p ? p : "none");
		break;
	}
	case CS_ADDR: {
		const struct cfg_metrics *m = CFIELD(cfg, st, struct cfg_metrics);
		bool v6 = m->family == AF_INET6;

		if (m->enabled)
			snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", m->addr, v6 ? "]" : "", m->port);
		else
			snprintf(buf, len, "none");
		break;
	}
	}
	return buf;
}

static const struct cfg_setting *cfg_setting_find(const char *json)
{
	for (size_t i = 0; i < cfg_nr_settings; i++)
		if (!strcmp(cfg_settings[i].json, json))
			return &cfg_settings[i];
	return NULL;
}

static const char *cfg_setting_name(const char *json, bool flag_names, char *buf, size_t len)
{
	const struct cfg_setting *st = cfg_setting_find(json);

	snprintf(buf, len, "%s%s", flag_names ? "" : "nvring.", flag_names ? st->flag : st->json);
	return buf;
}

unsigned cfg_setting_bit(const char *json)
{
	return 1u << (cfg_setting_find(json) - cfg_settings);
}

int cfg_settings_check(struct nvr_config *cfg, bool flag_names, unsigned given, char *err, size_t errlen)
{
	char a[64], b[64], sa[24], sb[24];

	/* a default above a lowered global limit follows it */
	if (!(given & cfg_setting_bit("max_connections_per_host")) &&
	    cfg->max_connections_per_host > cfg->max_connections)
		cfg->max_connections_per_host = cfg->max_connections;
	if (!(given & cfg_setting_bit("max_inflight_bytes_per_conn")) &&
	    cfg->max_inflight_bytes_per_conn > cfg->max_inflight_bytes)
		cfg->max_inflight_bytes_per_conn = cfg->max_inflight_bytes;
	if (cfg->max_connections_per_host > cfg->max_connections)
		return cfg_err(err, errlen, "%s %u is more than %s (%u)",
			       cfg_setting_name("max_connections_per_host", flag_names, a, sizeof(a)),
			       cfg->max_connections_per_host,
			       cfg_setting_name("max_connections", flag_names, b, sizeof(b)), cfg->max_connections);
	if (cfg->max_inflight_bytes_per_conn > cfg->max_inflight_bytes)
		return cfg_err(err, errlen, "%s %s is more than %s (%s)",
			       cfg_setting_name("max_inflight_bytes_per_conn", flag_names, a, sizeof(a)),
			       cfg_fmt_size(sa, cfg->max_inflight_bytes_per_conn),
			       cfg_setting_name("max_inflight_bytes", flag_names, b, sizeof(b)),
			       cfg_fmt_size(sb, cfg->max_inflight_bytes));
	if (cfg->metrics.enabled) {
		struct cfg_port m;
		bool same;
		long dup;

		cfg_port_init(&m);
		m.family = cfg->metrics.family;
		m.port = cfg->metrics.port;
		strcpy(m.addr, cfg->metrics.addr);
		dup = cfg_port_clash(cfg->ports, cfg->nr_ports, &m, &same);
		if (dup >= 0) {
			char where[32];

			if (flag_names)
				snprintf(where, sizeof(where), "a listener (-l)");
			else
				snprintf(where, sizeof(where), "ports[%ld]", dup);
			return cfg_err(err, errlen, "%s %s %s %s",
				       cfg_setting_name("metrics", flag_names, a, sizeof(a)),
				       cfg_setting_fmt(cfg_setting_find("metrics"), cfg, b, sizeof(b)),
				       same ? "is also" : "overlaps (wildcard address) with", where);
		}
	}
	return 0;
}
