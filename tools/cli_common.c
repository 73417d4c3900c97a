/* SPDX-License-Identifier: MIT */
/* nvring CLI plumbing: getopt tables merged from command + common options, connect, reporting. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvme/types.h>

#include "cli.h"

#define CLI_MAX_OPTS 64

static const struct cli_opt *cli_common_opts(struct cli_common *c)
{
	static struct cli_opt o[32];
	struct cli_opt t[] = {
		{ "transport", 't', CLI_STR, &c->transport, "transport type (tcp)" },
		{ "traddr", 'a', CLI_STR, &c->traddr, "target address" },
		{ "trsvcid", 's', CLI_STR, &c->trsvcid, "target port (4420; 8009 for discovery)" },
		{ "nqn", 'n', CLI_STR, &c->nqn, "subsystem NQN" },
		{ "hostnqn", 'q', CLI_STR, &c->hostnqn, "host NQN" },
		{ "hostid", 'I', CLI_STR, &c->hostid, "host identifier (UUID)" },
		{ "hdr-digest", 'g', CLI_FLAG, &c->hdgst, "enable header digest" },
		{ "data-digest", 'G', CLI_FLAG, &c->ddgst, "enable data digest" },
		{ "disable-sqflow", 0, CLI_FLAG, &c->disable_sqflow, "disable SQ flow control" },
		{ "output-format", 'o', CLI_STR, &c->output, "normal|json|binary" },
		{ "conn-timeout", 0, CLI_U32, &c->timeout_ms, "connect/command timeout in ms (10000)" },
		{ "nr-io-queues", 0, CLI_U32, &c->nr_io_queues, "I/O queues to create" },
		{ "queue-size", 0, CLI_U32, &c->queue_size, "I/O queue size" },
		{ "keep-alive-tmo", 0, CLI_U32, &c->kato_ms, "keep-alive timeout in ms (0: none)" },
		{ "dhchap-secret", 'S', CLI_STR, &c->dhchap_secret, "DH-HMAC-CHAP host key DHHC-1:XX:...:" },
		{ "dhchap-ctrl-secret", 'C', CLI_STR, &c->dhchap_ctrl_secret,
		  "DH-HMAC-CHAP controller key (authenticate the controller too)" },
		{ "verbose", 'v', CLI_FLAG, &c->verbose, "verbose" },
		{ "tls", 0, CLI_FLAG, &c->tls, "TLS 1.3 with a PSK (needs --psk or --psk-file)" },
		{ "psk", 0, CLI_STR, &c->psk, "configured PSK NVMeTLSkey-1:XX:...:" },
		{ "psk-file", 0, CLI_STR, &c->psk_file, "file holding the configured PSK" },
		{ "psk-identity", 0, CLI_STR, &c->psk_identity, "offer this PSK identity (default: derived)" },
		{ "psk-identity-version", 0, CLI_U32, &c->psk_identity_version, "derived identity: 0 NVMe0R (default) or 1 NVMe1R" },
		{ "psk-variant", 0, CLI_STR, &c->psk_variant, "derivation: rfc (default), compat (libnvme 1.7-1.15), legacy" },
		{ "tls-mode", 0, CLI_STR, &c->tls_mode, "auto (kernel TLS if present), user or kernel" },
		{ NULL, 0, 0, NULL, NULL },
	};

	memcpy(o, t, sizeof(t));
	return o;
}

int cli_parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno)
		return -errno;
	switch (*end) {
	case 'k': case 'K': x <<= 10; end++; break;
	case 'm': case 'M': x <<= 20; end++; break;
	case 'g': case 'G': x <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return -EINVAL;
	*v = x;
	return 0;
}

static void cli_usage(const char *cmd, const char *desc, const struct cli_opt *const tabs[2],
		      const bool *short_ok)
{
	fprintf(stderr, "usage: nvring %s [options]\n%s\n\noptions:\n", cmd, desc);
	for (int t = 0, k = 0; t < 2; t++)
		for (const struct cli_opt *o = tabs[t]; o && o->lname; o++, k++) {
			char s[8] = "    ";

			if (o->sname && short_ok[k])
				snprintf(s, sizeof(s), "-%c, ", o->sname);
			fprintf(stderr, "  %s--%-18s %s%s\n", s, o->lname,
				o->type == CLI_FLAG ? "" : "<val> ", o->help);
		}
}

int cli_parse(int argc, char **argv, const char *cmd, const char *desc, const struct cli_opt *opts,
	      struct cli_common *common, char ***rest, int *nrest)
{
	const struct cli_opt *tabs[2] = { opts, cli_common_opts(common) };
	const struct cli_opt *all[CLI_MAX_OPTS];
	struct option lo[CLI_MAX_OPTS + 1];
	bool short_ok[CLI_MAX_OPTS], used[128] = { false };
	char so[CLI_MAX_OPTS * 2 + 2] = "h";
	int n = 0, c;

	used['h'] = true;
	for (int t = 0; t < 2; t++)
		for (const struct cli_opt *o = tabs[t]; o && o->lname && n < CLI_MAX_OPTS; o++, n++) {
			all[n] = o;
			short_ok[n] = o->sname > 0 && o->sname < 128 && !used[o->sname];
			lo[n].name = o->lname;
			lo[n].has_arg = o->type == CLI_FLAG ? no_argument : required_argument;
			lo[n].flag = NULL;
			lo[n].val = short_ok[n] ? o->sname : 256 + n;
			if (short_ok[n]) {
				size_t l = strlen(so);

				used[o->sname] = true;
				so[l] = (char)o->sname;
				so[l + 1] = 0;
				if (o->type != CLI_FLAG)
					strcat(so, ":");
			}
		}
	memset(&lo[n], 0, sizeof(lo[n]));
	lo[n].name = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct cli_opt *o = NULL;
		uint64_t v;

		if (c == 'h' || c == '?') {
			cli_usage(cmd, desc, tabs, short_ok);
			return CLI_EXIT_USAGE;
		}
		for (int i = 0; i < n; i++)
			if (lo[i].val == c)
				o = all[i];
		if (!o)
			continue;
		switch (o->type) {
		case CLI_FLAG:
			*(bool *)o->ptr = true;
			break;
		case CLI_STR:
			*(const char **)o->ptr = optarg;
			break;
		case CLI_U64:
		case CLI_U32:
			if (cli_parse_u64(optarg, &v) || (o->type == CLI_U32 && v > UINT32_MAX)) {
				fprintf(stderr, "nvring %s: bad number for --%s: %s\n", cmd, o->lname, optarg);
				return CLI_EXIT_USAGE;
			}
			if (o->type == CLI_U64)
				*(uint64_t *)o->ptr = v;
			else
				*(uint32_t *)o->ptr = (uint32_t)v;
			break;
		}
	}
	if (common->output) {
		if (!strcmp(common->output, "json")) {
			common->json = true;
		} else if (strcmp(common->output, "normal") && strcmp(common->output, "binary")) {
			fprintf(stderr, "nvring %s: unknown output format %s\n", cmd, common->output);
			return CLI_EXIT_USAGE;
		}
	}
	if (rest) {
		*rest = argv + optind;
		*nrest = argc - optind;
	} else if (optind < argc) {
		fprintf(stderr, "nvring %s: unexpected argument %s\n", cmd, argv[optind]);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static int cli_parse_uuid(const char *s, uint8_t out[16])
{
	unsigned n = 0;

	for (; *s; s++) {
		unsigned v;

		if (*s == '-')
			continue;
		if (n == 32 || sscanf((char[]){ *s, 0 }, "%1x", &v) != 1)
			return -EINVAL;
		out[n / 2] = (uint8_t)(n % 2 ? out[n / 2] | v : v << 4);
		n++;
	}
	return n == 32 ? 0 : -EINVAL;
}

struct nvr_ctrl *cli_connect(struct cli_common *c, unsigned nr_io_queues)
{
	struct nvr_connect_opts o;
	struct nvr_ctrl *ctrl = NULL;
	char err[256] = "";
	uint16_t st = 0;
	int ret;

	if (c->transport && strcmp(c->transport, "tcp")) {
		fprintf(stderr, "nvring: only the tcp transport is supported\n");
		return NULL;
	}
	if (!c->traddr) {
		fprintf(stderr, "nvring: --traddr (-a) is required\n");
		return NULL;
	}
	nvr_connect_opts_init(&o);
	o.traddr = c->traddr;
	o.trsvcid = c->trsvcid;
	o.subnqn = c->nqn;
	o.hostnqn = c->hostnqn;
	o.hdgst = c->hdgst;
	o.ddgst = c->ddgst;
	o.disable_sqflow = c->disable_sqflow;
	o.nr_io_queues = c->nr_io_queues ? c->nr_io_queues : nr_io_queues;
	if (c->queue_size)
		o.queue_size = c->queue_size;
	if (c->timeout_ms)
		o.timeout_ms = (int)c->timeout_ms;
	o.kato_ms = c->kato_ms;
	o.dhchap_secret = c->dhchap_secret;
	o.dhchap_ctrl_secret = c->dhchap_ctrl_secret;
	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	if (c->hostid && cli_parse_uuid(c->hostid, o.hostid)) {
		fprintf(stderr, "nvring: bad --hostid %s\n", c->hostid);
		return NULL;
	}
	if (cli_tls_opts(c, &o))
		return NULL;
	ret = nvr_ctrl_connect(&o, &ctrl, &st);
	if (ret && err[0] && cli_tls_hint(c, ret)) { /* TLS: errno, what it means, the detail */
		fprintf(stderr, "nvring: connect to %s:%s failed: %s: %s (%s)\n", c->traddr,
			o.trsvcid ? o.trsvcid : "default", strerror(-ret), cli_tls_hint(c, ret), err);
		return NULL;
	}
	if (ret && err[0]) { /* authentication, TLS: the library names what failed */
		fprintf(stderr, "nvring: connect to %s:%s failed: %s\n", c->traddr, o.trsvcid ? o.trsvcid : "default",
			err);
		return NULL;
	}
	if (ret == -EREMOTEIO) {
		fprintf(stderr, "nvring: connect to %s:%s failed: NVMe status: %s (0x%x)\n", c->traddr,
			o.trsvcid ? o.trsvcid : "default", nvr_status_str(st, NVR_STATUS_FABRICS), st & 0x7ff);
		return NULL;
	}
	if (ret) {
		const char *hint = cli_tls_hint(c, ret);

		fprintf(stderr, "nvring: connect to %s:%s failed: %s%s%s\n", c->traddr, o.trsvcid ? o.trsvcid : "default",
			strerror(-ret), hint ? ": " : "", hint ? hint : "");
		return NULL;
	}
	if (c->verbose && o.tls)
		fprintf(stderr, "nvring: TLS records %s\n",
			nvr_queue_tls(nvr_ctrl_admin_queue(ctrl)) == NVR_TLS_KERNEL ? "in the kernel (kTLS)" : "in userspace");
	return ctrl;
}

void cli_disconnect(struct nvr_ctrl *ctrl)
{
	int ret = nvr_ctrl_disconnect(ctrl);

	/* the command's result stands; a failed shutdown is only worth a warning */
	if (ret)
		fprintf(stderr, "nvring: warning: controller shutdown: %s\n", strerror(-ret));
}

void cli_status_json(struct json_object *o, int ret, int csi)
{
	if (ret < 0) {
		json_object_object_add(o, "error", json_object_new_string(strerror(-ret)));
		json_object_object_add(o, "errno", json_object_new_int(-ret));
		return;
	}
	json_object_object_add(o, "status", json_object_new_int(ret & 0x7ff));
	json_object_object_add(o, "status_name", json_object_new_string(nvr_status_str((uint16_t)ret, csi)));
	json_object_object_add(o, "sct", json_object_new_int((int)nvr_status_sct((uint16_t)ret)));
	json_object_object_add(o, "sc", json_object_new_int((int)nvr_status_sc((uint16_t)ret)));
	json_object_object_add(o, "dnr", json_object_new_boolean(nvr_status_dnr((uint16_t)ret)));
}

void cli_print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int cli_report(const struct cli_common *c, const char *what, int ret, int csi)
{
	if (!ret)
		return CLI_EXIT_OK;
	if (c && c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "command", json_object_new_string(what));
		cli_status_json(o, ret, csi);
		cli_print_json(o);
	} else if (ret > 0) {
		fprintf(stderr, "%s: NVMe status: %s (0x%02x), SCT 0x%x%s\n", what, nvr_status_str((uint16_t)ret, csi),
			nvr_status_sc((uint16_t)ret), nvr_status_sct((uint16_t)ret),
			nvr_status_dnr((uint16_t)ret) ? ", DNR" : "");
	} else {
		fprintf(stderr, "%s: %s\n", what, strerror(-ret));
	}
	return ret > 0 ? CLI_EXIT_NVME : CLI_EXIT_ERR;
}

int cli_read_input(const char *path, void *buf, size_t len, size_t *got)
{
	int fd = (!path || !strcmp(path, "-")) ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = read(fd, (uint8_t *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*got = off;
	return 0;
}

int cli_write_output(const char *path, const void *buf, size_t len)
{
	int fd = (!path || !strcmp(path, "-")) ? STDOUT_FILENO
					       : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, (const uint8_t *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (fd != STDOUT_FILENO)
		close(fd);
	return off == len ? 0 : -EIO;
}

void cli_hexdump(FILE *f, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i += 16) {
		fprintf(f, "%04zx:", i);
		for (size_t j = i; j < i + 16; j++)
			j < len ? fprintf(f, " %02x", p[j]) : fprintf(f, "   ");
		fprintf(f, "  \"");
		for (size_t j = i; j < i + 16 && j < len; j++)
			fputc(p[j] >= 0x20 && p[j] < 0x7f ? p[j] : '.', f);
		fprintf(f, "\"\n");
	}
}

/* LBA data size of the namespace's current format (Identify Namespace FLBAS). 0 on error. */
uint32_t cli_lba_size(struct nvr_ctrl *ctrl, uint32_t nsid, uint64_t *nsze)
{
	struct nvme_id_ns ns;
	unsigned fmt;

	if (nvr_identify(nvr_ctrl_admin_queue(ctrl), NVME_IDENTIFY_CNS_NS, 0, nsid, 0, &ns))
		return 0;
	fmt = (ns.flbas & 0xf) | ((ns.flbas >> 1) & 0x30);
	if (fmt > 63 || ns.lbaf[fmt].ds < 9 || ns.lbaf[fmt].ds > 24)
		return 0;
	if (nsze)
		*nsze = ns.nsze;
	return 1u << ns.lbaf[fmt].ds;
}
