/* SPDX-License-Identifier: MIT */
/*
 * Our key code and computations from the command line, for the agreement test with nvme-cli
 * and for measuring the DH cost per group:
 *   check KEY                 -> "hash H len L secret HEX", or the refusal on stderr, exit 1
 *   format HASH HEXSECRET     -> the key string
 *   transform KEY NQN         -> HEX of the transformed key
 *   bench [N]                 -> per group: key generation and shared secret, milliseconds
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/dhchap_crypto.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int bench(int n)
{
	static uint8_t pub[1024], peer[1024], ks[1024];

	for (uint8_t g = 1; g <= 5; g++) {
		size_t len = (size_t)dhchap_dh_len(g);
		double gen = 0, der = 0, gmax = 0, dmax = 0;
		struct dhchap_dh *other;

		if (dhchap_dh_generate(g, &other) || dhchap_dh_public(other, peer, len))
			return 1;
		for (int i = 0; i < n; i++) {
			struct dhchap_dh *dh;
			double t0 = now_ms(), t1, t2;

			if (dhchap_dh_generate(g, &dh) || dhchap_dh_public(dh, pub, len))
				return 1;
			t1 = now_ms();
			if (dhchap_dh_derive(dh, peer, len, ks, len))
				return 1;
			t2 = now_ms();
			gen += t1 - t0;
			der += t2 - t1;
			gmax = t1 - t0 > gmax ? t1 - t0 : gmax;
			dmax = t2 - t1 > dmax ? t2 - t1 : dmax;
			dhchap_dh_free(dh);
		}
		dhchap_dh_free(other);
		printf("%-9s keygen avg %6.2f ms max %6.2f ms   shared secret avg %6.2f ms max %6.2f ms\n",
		       dhchap_dh_name(g), gen / n, gmax, der / n, dmax);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct dhchap_key k;
	const char *why;
	char buf[DHCHAP_KEY_STR_MAX];
	uint8_t out[64];
	size_t n;

	if (argc >= 3 && !strcmp(argv[1], "check")) {
		if (dhchap_key_parse(argv[2], &k, &why)) {
			fprintf(stderr, "refused: %s\n", why);
			return 1;
		}
		printf("hash %u len %u secret ", k.hash, k.len);
		for (unsigned i = 0; i < k.len; i++)
			printf("%02x", k.secret[i]);
		printf("\n");
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "format")) {
		const char *h = argv[3];

		k.hash = (uint8_t)atoi(argv[2]);
		k.len = 0;
		while (k.len < 64 && h[0] && h[1] && sscanf(h, "%2hhx", &k.secret[k.len]) == 1) {
			k.len++;
			h += 2;
		}
		if (dhchap_key_format(&k, buf, sizeof(buf)) < 0) {
			fprintf(stderr, "refused: bad hash or length\n");
			return 1;
		}
		printf("%s\n", buf);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "transform")) {
		if (dhchap_key_parse(argv[2], &k, &why) || dhchap_transform(&k, argv[3], out, &n)) {
			fprintf(stderr, "refused\n");
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			printf("%02x", out[i]);
		printf("\n");
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return bench(argc >= 3 ? atoi(argv[2]) : 20);
	fprintf(stderr, "usage: dhchap_keytool check KEY | format HASH HEX | transform KEY NQN | bench [N]\n");
	return 2;
}
