/* SPDX-License-Identifier: MIT */
/* Value parsers: numbers, sizes, addresses, UUIDs, NQNs, names, secrets. Nothing here allocates
 * except cfg_read_secret and cfg_parse_socket_path. */
#include "cfg_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* v = v * 10 + digit, or -ERANGE on overflow. */
static int cfg_mul10_add(uint64_t *v, char digit)
{
	uint64_t d = (uint64_t)(digit - '0');

	if (*v > UINT64_MAX / 10 || (*v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
		return -ERANGE;
	*v = *v * 10 + d;
	return 0;
}

/* Decimal only, no sign, no junk; max bounds the value. */
int cfg_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		if (cfg_mul10_add(&v, *s))
			return -ERANGE;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int cfg_parse_bool(const char *s, bool *out)
{
	if (!s || !strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

const char *cfg_fmt_size(char *buf, uint64_t v)
{
	static const char *const units[] = { "", "K", "M", "G", "T" };
	unsigned u = 0;

	while (v && u < 4 && !(v & 1023)) {
		v >>= 10;
		u++;
	}
	/* (a "%.1s" of a pointer into a string here crashed gcc 12's -fsanitize=address -O0 build) */
	snprintf(buf, 24, "%" PRIu64 "%s", v, units[u]);
	return buf;
}

int cfg_parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (cfg_parse_uint(s, 65535, &v))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/*
 * A numeric address of the given family; returns the family or -EINVAL. canon (if not NULL,
 * NVR_CFG_ADDR_SIZE bytes) gets the canonical spelling, so "0::1" and "::1" compare equal.
 */
int cfg_parse_ip(const char *s, int family, char *canon)
{
	struct in6_addr a;

	if (inet_pton(family, s, &a) != 1)
		return -EINVAL;
	if (canon && !inet_ntop(family, &a, canon, NVR_CFG_ADDR_SIZE))
		return -EINVAL;
	return family;
}

int nvr_parse_addr(const char *s, char *addr, size_t addrlen, uint16_t *port, int *family)
{
	char host[NVR_CFG_ADDR_SIZE], canon[NVR_CFG_ADDR_SIZE];
	const char *end, *colon;
	bool bracketed;
	size_t len;
	int fam;

	if (!s)
		return -EINVAL;
	bracketed = *s == '[';
	if (bracketed) {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		len = (size_t)(end - s - 1);
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon) /* bare IPv6 needs brackets */
			return -EINVAL;
		len = (size_t)(colon - s);
	}
	if (len == 0 || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	fam = cfg_parse_ip(host, bracketed ? AF_INET6 : AF_INET, canon);
	if (fam < 0 || cfg_parse_port(colon + 1, port))
		return -EINVAL;
	if (strlen(canon) >= addrlen)
		return -EINVAL;
	strcpy(addr, canon);
	*family = fam;
	return 0;
}

bool cfg_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Canonical 8-4-4-4-12 form, or 32 hex digits without dashes. */
int cfg_parse_uuid(const char *s, uint8_t out[16])
{
	char hex[33];
	size_t n = 0;

	if (!s)
		return -EINVAL;
	if (strlen(s) == 36) {
		for (size_t i = 0; i < 36; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;

			if (dash != (s[i] == '-'))
				return -EINVAL;
			if (!dash)
				hex[n++] = s[i];
		}
	} else if (strlen(s) == 32) {
		memcpy(hex, s, 32);
		n = 32;
	} else {
		return -EINVAL;
	}
	if (!cfg_is_hex(hex, n))
		return -EINVAL;
	for (size_t i = 0; i < 16; i++) {
		char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		out[i] = (uint8_t)strtoul(b, NULL, 16);
	}
	return 0;
}

bool nvr_nqn_valid(const char *nqn)
{
	size_t len = strlen(nqn);
	const char *p;

	if (len >= NVR_CFG_NQN_SIZE || strncmp(nqn, "nqn.", 4))
		return false;
	for (p = nqn; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	/* "nqn.2014-08.org.nvmexpress:uuid:" + a UUID in 8-4-4-4-12 form */
	if (!strncmp(nqn, CFG_UUID_NQN_PREFIX, strlen(CFG_UUID_NQN_PREFIX))) {
		uint8_t u[16];

		return !cfg_parse_uuid(nqn + strlen(CFG_UUID_NQN_PREFIX), u) &&
		       strlen(nqn + strlen(CFG_UUID_NQN_PREFIX)) == 36;
	}
	/* "nqn.yyyy-mm." + a reverse domain name (at least one character) */
	p = nqn + 4;
	for (int i = 0; i < 7; i++) {
		bool ok = i == 4 ? p[i] == '-' : isdigit((unsigned char)p[i]);

		if (!ok)
			return false;
	}
	if (p[5] > '1' || (p[5] == '1' && p[6] > '2') || (p[5] == '0' && p[6] == '0'))
		return false;
	return p[7] == '.' && p[8] && p[8] != ':' && p[8] != '.';
}

int cfg_nqn_check(const char *nqn, char *msg, size_t msglen)
{
	if (!nvr_nqn_valid(nqn))
		return cfg_err(msg, msglen, "not a valid NQN (want nqn.yyyy-mm.reverse.domain[:name] "
			       "or " CFG_UUID_NQN_PREFIX "UUID, at most 223 bytes)");
	return 0;
}

/* "1.3", "1.2.1", "2.0" -> the Identify VER encoding. */
int cfg_parse_version(const char *s, uint32_t *out)
{
	unsigned maj, min, ter = 0;
	int n = 0;

	if (sscanf(s, "%u.%u%n", &maj, &min, &n) == 2 && !s[n])
		goto ok;
	if (sscanf(s, "%u.%u.%u%n", &maj, &min, &ter, &n) == 3 && !s[n])
		goto ok;
	return -EINVAL;
ok:
	if (!isdigit((unsigned char)s[0]) || maj > 0xffff || min > 0xff || ter > 0xff)
		return -EINVAL;
	*out = maj << 16 | min << 8 | ter;
	return 0;
}

bool cfg_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CFG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || *s == '/' || *s == ',')
			return false;
	return true;
}

/* "PREFIX" + two hex digits + ":" + base64 of at least one character, ending in ":" (the
 * interchange forms of TP 8006 and TP 8011 both look like this). The contents are the auth
 * and TLS code's to check. */
static bool cfg_key_shape(const char *s, const char *prefix)
{
	size_t n = strlen(prefix), len;

	if (strncmp(s, prefix, n))
		return false;
	s += n;
	if (!cfg_is_hex(s, 2) || s[2] != ':')
		return false;
	s += 3;
	len = strlen(s);
	if (len < 2 || s[len - 1] != ':')
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/' && s[i] != '=')
			return false;
	return true;
}

bool cfg_dhchap_key_valid(const char *s)
{
	return cfg_key_shape(s, "DHHC-1:");
}

bool cfg_psk_valid(const char *s)
{
	return cfg_key_shape(s, "NVMeTLSkey-1:");
}

int cfg_read_secret(const char *path, char **out, char *msg, size_t msglen)
{
	struct stat st;
	char buf[CFG_MAX_SECRET + 2];
	ssize_t n;
	size_t got = 0;
	int fd;

	*out = NULL;
	if (!*path)
		return cfg_err(msg, msglen, "needs a file name");
	/* O_NONBLOCK: a FIFO must not hang start-up; only regular files are read */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return cfg_err(msg, msglen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CFG_MAX_SECRET) {
		close(fd);
		return cfg_err(msg, msglen, "%s: not a regular file of at most %u bytes", path,
			       CFG_MAX_SECRET);
	}
	while (got <= CFG_MAX_SECRET && (n = read(fd, buf + got, CFG_MAX_SECRET + 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got > CFG_MAX_SECRET)
		return cfg_err(msg, msglen, "%s: larger than %u bytes", path, CFG_MAX_SECRET);
	if (got && buf[got - 1] == '\n')
		got--;
	if (got && buf[got - 1] == '\r')
		got--;
	buf[got] = '\0';
	if (memchr(buf, '\0', got) || memchr(buf, '\n', got))
		return cfg_err(msg, msglen, "%s: must hold one line", path);
	if (!got)
		return cfg_err(msg, msglen, "%s: empty", path);
	*out = strdup(buf);
	memset(buf, 0, sizeof(buf)); /* no copy of the key left on the stack */
	return *out ? 0 : cfg_err(msg, msglen, "out of memory");
}

void cfg_secret_free(struct cfg_secret *s)
{
	if (s->value)
		memset(s->value, 0, strlen(s->value));
	free(s->value);
	free(s->file);
	s->value = s->file = NULL;
}

static const char *const cfg_hash_names[] = {
	[CFG_HASH_SHA256] = "hmac(sha256)", [CFG_HASH_SHA384] = "hmac(sha384)",
	[CFG_HASH_SHA512] = "hmac(sha512)",
};
static const char *const cfg_dhgroup_names[] = {
	[CFG_DHGROUP_NULL] = "null", [CFG_DHGROUP_FFDHE2048] = "ffdhe2048",
	[CFG_DHGROUP_FFDHE3072] = "ffdhe3072", [CFG_DHGROUP_FFDHE4096] = "ffdhe4096",
	[CFG_DHGROUP_FFDHE6144] = "ffdhe6144", [CFG_DHGROUP_FFDHE8192] = "ffdhe8192",
};
static const char *const cfg_ana_names[] = {
	[CFG_ANA_OPTIMIZED] = "optimized", [CFG_ANA_NON_OPTIMIZED] = "non-optimized",
	[CFG_ANA_INACCESSIBLE] = "inaccessible", [CFG_ANA_PERSISTENT_LOSS] = "persistent-loss",
	[CFG_ANA_CHANGE] = "change",
};

#define CFG_NAMES(a) (sizeof(a) / sizeof((a)[0]))

static int cfg_name_id(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], name))
			return (int)i;
	return -1;
}

int cfg_hash_id(const char *name)
{
	return cfg_name_id(cfg_hash_names, CFG_NAMES(cfg_hash_names), name);
}

int cfg_dhgroup_id(const char *name)
{
	return cfg_name_id(cfg_dhgroup_names, CFG_NAMES(cfg_dhgroup_names), name);
}

int cfg_ana_state_id(const char *name)
{
	return cfg_name_id(cfg_ana_names, CFG_NAMES(cfg_ana_names), name);
}

const char *nvr_config_hash_name(enum cfg_dhchap_hash id)
{
	return (unsigned)id < CFG_NAMES(cfg_hash_names) ? cfg_hash_names[id] : NULL;
}

const char *nvr_config_dhgroup_name(enum cfg_dhgroup id)
{
	return (unsigned)id < CFG_NAMES(cfg_dhgroup_names) ? cfg_dhgroup_names[id] : NULL;
}

const char *nvr_config_ana_state_name(enum cfg_ana_state state)
{
	return (unsigned)state < CFG_NAMES(cfg_ana_names) ? cfg_ana_names[state] : NULL;
}

int cfg_parse_socket_path(const char *s, char **out, char *msg, size_t msglen)
{
	*out = NULL;
	if (!strcmp(s, "none"))
		return 0;
	if (!*s)
		return cfg_err(msg, msglen, "must be a path or \"none\"");
	if (strlen(s) > CFG_SUN_PATH_MAX)
		return cfg_err(msg, msglen, "longer than %d bytes (the limit of a Unix socket path)",
			       CFG_SUN_PATH_MAX);
	*out = strdup(s);
	return *out ? 0 : cfg_err(msg, msglen, "out of memory");
}

int cfg_mask_add(uint8_t *mask, bool hash, const char *name, char *msg, size_t msglen)
{
	int id = hash ? cfg_hash_id(name) : cfg_dhgroup_id(name);

	if (id < 0)
		return cfg_err(msg, msglen, "'%s' is not a %s (%s)", name, hash ? "hash" : "DH group",
			       hash ? "hmac(sha256), hmac(sha384), hmac(sha512)"
				    : "null, ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144, ffdhe8192");
	if (*mask & (1u << id))
		return cfg_err(msg, msglen, "'%s' is listed twice", name);
	*mask |= (uint8_t)(1u << id);
	return 0;
}
