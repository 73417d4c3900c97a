/* SPDX-License-Identifier: MIT */
/* DH-HMAC-CHAP key strings: parse, format, every refusal with its message, CRC-32. */
#include <errno.h>
#include <string.h>

#include "auth/dhchap.h"
#include "auth/dhchap_key.h"
#include "tap.h"

/* nvme-cli 2.3: gen-dhchap-key --secret 0011..eeff0011..eeff --hmac 1 --nqn nqn.host */
#define NVME_CLI_KEY "DHHC-1:01:U0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2tB:"

static void parse_fails(const char *s, const char *want_why, const char *what)
{
	struct dhchap_key k;
	const char *why = NULL;
	int ret = dhchap_key_parse(s, &k, &why);

	tap_ok(ret == -EINVAL && why && strstr(why, want_why), "refused: %s (%s)", what, why ? why : "-");
	tap_eq(k.len, 0, "refused key %s leaves no secret", what);
}

int main(void)
{
	struct dhchap_key k, k2;
	char buf[DHCHAP_KEY_STR_MAX], s[160];
	const char *why;
	int n;

	/* the research file's CRC example: ASCII "00112233445566778899aabbccddeeff" -> 0x90482470 */
	tap_eq(dhchap_crc32("00112233445566778899aabbccddeeff", 32), 0x90482470, "IEEE CRC-32 (ISA-L) matches zlib");
	tap_eq(dhchap_crc32("", 0), 0, "CRC-32 of nothing");

	tap_ok(dhchap_key_parse(NVME_CLI_KEY, &k, &why) == 0, "nvme-cli key parses");
	tap_eq(k.hash, 1, "hash id 01");
	tap_eq(k.len, 32, "32-byte secret");
	tap_eq(k.secret[0], 0x53, "first secret byte");
	tap_eq(k.secret[31], 0x5b, "last secret byte");
	n = dhchap_key_format(&k, buf, sizeof(buf));
	tap_ok(n == (int)strlen(NVME_CLI_KEY) && !strcmp(buf, NVME_CLI_KEY), "formats back to the same string");
	/* without the closing ':' (the kernel accepts that too) */
	snprintf(s, sizeof(s), "%.*s", (int)strlen(NVME_CLI_KEY) - 1, NVME_CLI_KEY);
	tap_ok(dhchap_key_parse(s, &k2, NULL) == 0 && !memcmp(k.secret, k2.secret, 32), "closing ':' optional");

	for (unsigned len = 32; len <= 64; len += 16)
		for (uint8_t h = 0; h <= 3; h++) {
			struct dhchap_key a = { .hash = h, .len = (uint8_t)len }, b;

			for (unsigned i = 0; i < len; i++)
				a.secret[i] = (uint8_t)(i * 37 + h + len);
			n = dhchap_key_format(&a, buf, sizeof(buf));
			tap_ok(n > 0 && strlen(buf) == (size_t)n && buf[n - 1] == ':', "format %u bytes hash %u: %s", len, h,
			       buf);
			tap_ok(dhchap_key_parse(buf, &b, NULL) == 0 && b.hash == h && b.len == len &&
				       !memcmp(a.secret, b.secret, len),
			       "round trip %u bytes hash %u", len, h);
		}
	tap_eq(dhchap_key_format(&(struct dhchap_key){ .hash = 0, .len = 40 }, buf, sizeof(buf)), -EINVAL,
	       "format refuses 40 bytes");
	tap_eq(dhchap_key_format(&(struct dhchap_key){ .hash = 4, .len = 32 }, buf, sizeof(buf)), -EINVAL,
	       "format refuses hash 4");
	tap_eq(dhchap_key_format(&k, buf, 20), -ENOSPC, "format: small buffer");

	parse_fails("DHHC-2:01:U0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2tB:", "DHHC-1", "prefix");
	parse_fails("", "DHHC-1", "empty");
	parse_fails("DHHC-1:1:U0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2tB:", "two digits", "one-digit hash");
	parse_fails("DHHC-1:04:U0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2tB:", "unknown hash", "hash 04");
	parse_fails("DHHC-1:01:U0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2tC:", "CRC", "last base64 char changed");
	parse_fails("DHHC-1:01:V0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2tB:", "CRC", "first secret bit flipped");
	parse_fails("DHHC-1:01:U0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2t:", "length", "one char short");
	parse_fails("DHHC-1:01:U0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2tBAAAA:", "length", "40-byte secret");
	parse_fails("DHHC-1:01:U0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2t!:", "base64", "bad base64 char");
	parse_fails("DHHC-1:01:U0BkIm8uQhuEN2lM7kJ9zfdyXNpE=WQzRwMjNYMgdFvGs2tB:", "base64", "'=' in the middle");
	parse_fails("DHHC-1:01:U0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2tB:x", "after", "trailing text");
	parse_fails("DHHC-1:01:U0BkIm8uQhuEN2lM7kJ9zfdyXNpEWWQzRwMjNYMgdFvGs2tB::", "after", "two colons");
	parse_fails("DHHC-1:01:U0BkIm8uQhuEN2lM7kJ9 fdyXNpEWWQzRwMjNYMgdFvGs2tB:", "base64", "space inside");
	/* a 48-byte key's string ends in "==": change the padding bits of the last data char */
	{
		struct dhchap_key a = { .hash = 2, .len = 48 };

		memset(a.secret, 0x5a, 48);
		n = dhchap_key_format(&a, buf, sizeof(buf));
		tap_ok(n > 3 && buf[n - 2] == '=' && buf[n - 3] == '=', "48-byte key has two padding chars");
		buf[n - 4] = buf[n - 4] == 'A' ? 'B' : (char)(buf[n - 4] ^ 1);
		parse_fails(buf, "base64", "non-zero padding bits");
	}
	tap_eq(dhchap_key_parse(NULL, &k, &why), -EINVAL, "NULL string");
	dhchap_key_clear(&k);
	tap_ok(k.len == 0 && k.secret[0] == 0 && k.secret[31] == 0, "clear zeroes the key");
	return tap_done();
}
