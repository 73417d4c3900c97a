/* SPDX-License-Identifier: MIT */
/* nvring TLS: the --tls/--psk options of every connecting command, gen-tls-key, check-tls-key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli.h"
#include "tls/psk.h"

static int cli_tls_read_key(struct cli_common *c)
{
	FILE *f = fopen(c->psk_file, "re");
	size_t n;

	if (!f) {
		fprintf(stderr, "nvring: --psk-file %s: %s\n", c->psk_file, strerror(errno));
		return -EINVAL;
	}
	n = fread(c->psk_buf, 1, sizeof(c->psk_buf) - 1, f);
	fclose(f);
	c->psk_buf[n] = 0;
	c->psk_buf[strcspn(c->psk_buf, "\r\n")] = 0; /* the first line */
	c->psk = c->psk_buf;
	return 0;
}

int cli_tls_opts(struct cli_common *c, struct nvr_connect_opts *o)
{
	struct tls_key key;
	char err[200];

	if (c->tls_mode) {
		if (!strcmp(c->tls_mode, "auto"))
			o->tls = NVR_TLS_AUTO;
		else if (!strcmp(c->tls_mode, "user"))
			o->tls = NVR_TLS_USERSPACE;
		else if (!strcmp(c->tls_mode, "kernel"))
			o->tls = NVR_TLS_KERNEL;
		else {
			fprintf(stderr, "nvring: --tls-mode %s: expected auto, user or kernel\n", c->tls_mode);
			return -EINVAL;
		}
	} else if (c->tls) {
		o->tls = NVR_TLS_AUTO;
	}
	if (!o->tls) {
		if (c->psk || c->psk_file || c->psk_identity || c->psk_variant)
			fprintf(stderr, "nvring: warning: PSK options without --tls are ignored\n");
		return 0;
	}
	if (c->psk && c->psk_file) {
		fprintf(stderr, "nvring: --psk and --psk-file: give one\n");
		return -EINVAL;
	}
	if (c->psk_file && cli_tls_read_key(c))
		return -EINVAL;
	if (!c->psk) {
		fprintf(stderr, "nvring: --tls needs --psk KEY or --psk-file PATH\n");
		return -EINVAL;
	}
	if (tls_key_parse(c->psk, &key, err, sizeof(err))) {
		fprintf(stderr, "nvring: bad PSK: %s\n", err);
		return -EINVAL;
	}
	OPENSSL_cleanse(&key, sizeof(key));
	if (c->psk_variant && tls_psk_variant_parse(c->psk_variant) < 0) {
		fprintf(stderr, "nvring: --psk-variant %s: expected rfc, compat or legacy\n", c->psk_variant);
		return -EINVAL;
	}
	if (c->psk_identity_version > 1 ||
	    (c->psk_identity_version == 1 && c->psk_variant && !strcmp(c->psk_variant, "legacy"))) {
		fprintf(stderr, "nvring: --psk-identity-version is 0 or 1 (legacy derivations know only 0)\n");
		return -EINVAL;
	}
	if (c->psk_identity) {
		struct tls_identity id;

		if (tls_identity_parse(c->psk_identity, strlen(c->psk_identity), &id) || id.kind != 'R') {
			fprintf(stderr, "nvring: --psk-identity: expected \"NVMe0R0h <hostnqn> <subnqn>\" or "
				"\"NVMe1R0h <hostnqn> <subnqn> <digest>\"\n");
			return -EINVAL;
		}
	}
	o->psk = c->psk;
	o->psk_identity = c->psk_identity;
	o->psk_identity_version = c->psk_identity_version;
	o->psk_variant = c->psk_variant;
	return 0;
}

const char *cli_tls_hint(const struct cli_common *c, int err)
{
	bool tls = c->tls || c->tls_mode;

	switch (err) {
	case -EPROTONOSUPPORT:
		return tls ? "the target answered in plaintext (not a TLS port?)"
			   : "the target answered with TLS (use --tls with --psk)";
	case -ENOKEY:
		return tls ? "the target has no PSK for our identity (host NQN, subsystem NQN, hash)" : NULL;
	case -EKEYREJECTED:
		return tls ? "the target's PSK differs (another key, or another derivation: --psk-variant)" : NULL;
	case -ENOENT:
		return tls ? "no kernel TLS here (modprobe tls), try --tls-mode auto" : NULL;
	default:
		return NULL;
	}
}

/* nvring gen-tls-key: a random configured PSK in the interchange format. */
int cmd_tls_key_gen(int argc, char **argv)
{
	struct cli_common c = { 0 };
	uint32_t hmac = 1, len = 0;
	struct cli_opt opts[] = {
		{ "hmac", 'm', CLI_U32, &hmac, "0 (none: the key is the retained PSK), 1 SHA-256, 2 SHA-384 (1)" },
		{ "key-length", 'l', CLI_U32, &len, "32 or 48 bytes (default: 48 for hmac 2, else 32)" },
		{ NULL, 0, 0, NULL, NULL },
	};
	struct tls_key k = { 0 };
	char out[TLS_KEY_STR_MAX];
	int ret = cli_parse(argc, argv, "gen-tls-key", "Generate a TLS PSK (NVMeTLSkey-1:XX:...:).", opts, &c, NULL, NULL);

	if (ret)
		return ret;
	if (!len)
		len = hmac == 2 ? 48 : 32;
	if (hmac > 2 || (len != 32 && len != 48) || (hmac == 1 && len != 32) || (hmac == 2 && len != 48)) {
		fprintf(stderr, "nvring gen-tls-key: --hmac 1 takes 32 bytes, 2 takes 48, 0 either\n");
		return CLI_EXIT_USAGE;
	}
	k.len = (uint8_t)len;
	k.transform = (uint8_t)hmac;
	if (RAND_priv_bytes(k.key, (int)len) != 1 || tls_key_format(&k, out, sizeof(out)) < 0) {
		fprintf(stderr, "nvring gen-tls-key: no random bytes\n");
		return CLI_EXIT_ERR;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	printf("%s\n", out);
	OPENSSL_cleanse(out, sizeof(out));
	return CLI_EXIT_OK;
}

/* nvring check-tls-key: validate a key; with -q/-n, the identity and TLS PSK a host derives. */
int cmd_tls_key(int argc, char **argv)
{
	struct cli_common c = { 0 };
	struct tls_key k;
	char err[200], identity[TLS_IDENTITY_MAX];
	uint8_t psk[TLS_PSK_MAX];
	int ret = cli_parse(argc, argv, "check-tls-key",
			    "Check a TLS PSK; with --hostnqn and --nqn print the PSK identity and TLS PSK (hex) a "
			    "host derives, as OpenSSL's s_server -psk/-psk_identity take them.",
			    NULL, &c, NULL, NULL);
	int variant;

	if (ret)
		return ret;
	if (c.psk_file && cli_tls_read_key(&c))
		return CLI_EXIT_USAGE;
	if (!c.psk) {
		fprintf(stderr, "nvring check-tls-key: --psk KEY or --psk-file PATH\n");
		return CLI_EXIT_USAGE;
	}
	if (tls_key_parse(c.psk, &k, err, sizeof(err))) {
		fprintf(stderr, "nvring check-tls-key: %s\n", err);
		return CLI_EXIT_ERR;
	}
	variant = c.psk_variant ? tls_psk_variant_parse(c.psk_variant) : TLS_PSK_RFC8446;
	if (variant < 0 || c.psk_identity_version > 1) {
		fprintf(stderr, "nvring check-tls-key: --psk-variant rfc|compat|legacy, --psk-identity-version 0|1\n");
		return CLI_EXIT_USAGE;
	}
	printf("key: %u bytes, hash %02u (%s), cipher suite %s\n", k.len, k.transform,
	       k.transform == 0 ? "used as the retained PSK" : k.transform == 1 ? "SHA-256" : "SHA-384",
	       tls_key_hash(&k) == TLS_HASH_SHA384 ? "TLS_AES_256_GCM_SHA384" : "TLS_AES_128_GCM_SHA256");
	if (c.hostnqn && c.nqn) {
		ret = tls_psk_for_host(&k, c.hostnqn, c.nqn, c.psk_identity_version, (enum tls_psk_variant)variant,
				       identity, psk);
		if (ret < 0) {
			fprintf(stderr, "nvring check-tls-key: cannot derive: %s\n", strerror(-ret));
			return CLI_EXIT_ERR;
		}
		printf("identity: %s\ntls-psk: ", identity);
		for (int i = 0; i < ret; i++)
			printf("%02x", psk[i]);
		printf("\nvariant: %s\n", tls_psk_variant_name((enum tls_psk_variant)variant));
		OPENSSL_cleanse(psk, sizeof(psk));
	}
	OPENSSL_cleanse(&k, sizeof(k));
	return CLI_EXIT_OK;
}
