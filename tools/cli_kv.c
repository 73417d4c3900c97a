/* SPDX-License-Identifier: MIT */
/* nvring kv store|retrieve|delete|exist|list: the NVMe Key Value command set (CSI 1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spec/nvme_kv.h"

#define KV_DEFAULT_BUF (1u << 20)

struct kv_args {
	struct cli_common c;
	uint32_t nsid, buflen;
	const char *key, *key_hex, *value, *value_file, *data;
	bool must_exist, must_not_exist;
	uint8_t k[NVME_KV_KEY_MAX];
	unsigned klen;
};

static int kv_parse_key(struct kv_args *a, bool required)
{
	if (a->key && a->key_hex)
		return -EINVAL;
	if (a->key) {
		a->klen = (unsigned)strlen(a->key);
		if (a->klen < NVME_KV_KEY_MIN || a->klen > NVME_KV_KEY_MAX)
			return -EINVAL;
		memcpy(a->k, a->key, a->klen);
		return 0;
	}
	if (a->key_hex) {
		const char *s = a->key_hex;
		size_t n;

		if (!strncmp(s, "0x", 2))
			s += 2;
		n = strlen(s);
		if (!n || n % 2 || n / 2 > NVME_KV_KEY_MAX)
			return -EINVAL;
		for (size_t i = 0; i < n / 2; i++) {
			unsigned v;

			if (sscanf(s + 2 * i, "%2x", &v) != 1)
				return -EINVAL;
			a->k[i] = (uint8_t)v;
		}
		a->klen = (unsigned)(n / 2);
		return 0;
	}
	return required ? -EINVAL : 0;
}

static void kv_key_str(const uint8_t *k, unsigned len, char *out)
{
	bool text = len > 0;

	for (unsigned i = 0; i < len; i++)
		if (k[i] < 0x20 || k[i] >= 0x7f)
			text = false;
	if (text) {
		memcpy(out, k, len);
		out[len] = 0;
		return;
	}
	strcpy(out, "0x");
	for (unsigned i = 0; i < len; i++)
		sprintf(out + 2 + 2 * i, "%02x", k[i]);
}

/* KV List data: u32 count, then {u16 length, key bytes, pad to 4} per key. */
static int kv_print_list(const struct kv_args *a, const uint8_t *buf, uint32_t len)
{
	uint32_t count, off = 4;
	struct json_object *j = NULL, *arr = NULL;
	char ks[40];

	if (len < 4)
		return -EPROTO;
	memcpy(&count, buf, 4);
	if (a->c.json) {
		j = json_object_new_object();
		arr = json_object_new_array();
	} else {
		printf("KV List: %u keys\n", count);
	}
	for (uint32_t i = 0; i < count; i++) {
		uint16_t kl;

		if (off + 2 > len)
			break;
		memcpy(&kl, buf + off, 2);
		if (kl > NVME_KV_KEY_MAX || off + 2 + kl > len)
			break;
		kv_key_str(buf + off + 2, kl, ks);
		if (arr)
			json_object_array_add(arr, json_object_new_string(ks));
		else
			printf("%s\n", ks);
		off += (2u + kl + 3u) & ~3u;
	}
	if (j) {
		json_object_object_add(j, "count", json_object_new_int64(count));
		json_object_object_add(j, "keys", arr);
		cli_print_json(j);
	}
	return 0;
}

static int kv_run(struct kv_args *a, const char *sub, struct nvr_queue *q)
{
	uint8_t opts = (a->must_exist ? NVME_KV_STORE_OPT_MUST_EXIST : 0) |
		       (a->must_not_exist ? NVME_KV_STORE_OPT_MUST_NOT_EXIST : 0);
	uint32_t vsize = 0;
	uint8_t *buf = NULL;
	size_t got = 0;
	char ks[40];
	int ret;

	kv_key_str(a->k, a->klen, ks);
	if (!strcmp(sub, "store")) {
		if (a->value) {
			got = strlen(a->value);
			ret = nvr_kv_store(q, a->nsid, a->k, a->klen, opts, a->value, (uint32_t)got);
		} else {
			buf = malloc(a->buflen);
			if (!buf)
				return -ENOMEM;
			ret = cli_read_input(a->value_file, buf, a->buflen, &got);
			if (!ret)
				ret = nvr_kv_store(q, a->nsid, a->k, a->klen, opts, buf, (uint32_t)got);
		}
		if (!ret && !a->c.json)
			printf("KV Store: key %s, %zu bytes\n", ks, got);
		if (!ret && a->c.json) {
			struct json_object *j = json_object_new_object();

			json_object_object_add(j, "key", json_object_new_string(ks));
			json_object_object_add(j, "value_size", json_object_new_int64((int64_t)got));
			cli_print_json(j);
		}
	} else if (!strcmp(sub, "retrieve")) {
		buf = malloc(a->buflen);
		if (!buf)
			return -ENOMEM;
		ret = nvr_kv_retrieve(q, a->nsid, a->k, a->klen, buf, a->buflen, &vsize);
		if (!ret) {
			uint32_t n = vsize < a->buflen ? vsize : a->buflen;
			bool to_stdout = !a->data || !strcmp(a->data, "-");

			if (a->c.json) {
				struct json_object *j = json_object_new_object();

				if (!to_stdout)
					ret = cli_write_output(a->data, buf, n);
				json_object_object_add(j, "key", json_object_new_string(ks));
				json_object_object_add(j, "value_size", json_object_new_int64(vsize));
				json_object_object_add(j, "bytes_returned", json_object_new_int64(n));
				if (to_stdout) {
					char *hex = malloc((size_t)n * 2 + 1);

					for (uint32_t i = 0; i < n; i++)
						sprintf(hex + 2 * i, "%02x", buf[i]);
					hex[2 * (size_t)n] = 0;
					json_object_object_add(j, "value", json_object_new_string(hex));
					free(hex);
				}
				cli_print_json(j);
			} else {
				ret = cli_write_output(a->data, buf, n);
				/* the value may be on stdout: the size goes to stderr then */
				fprintf(to_stdout ? stderr : stdout, "KV Retrieve: key %s, value size %u, %u bytes returned\n",
					ks, vsize, n);
			}
		}
	} else if (!strcmp(sub, "delete")) {
		ret = nvr_kv_delete(q, a->nsid, a->k, a->klen);
		if (!ret)
			a->c.json ? printf("{ \"key\": \"%s\", \"deleted\": true }\n", ks) : printf("KV Delete: key %s\n", ks);
	} else if (!strcmp(sub, "exist")) {
		ret = nvr_kv_exist(q, a->nsid, a->k, a->klen);
		if (!ret)
			a->c.json ? printf("{ \"key\": \"%s\", \"exists\": true }\n", ks) : printf("KV Exist: key %s exists\n", ks);
	} else {
		buf = calloc(1, a->buflen);
		if (!buf)
			return -ENOMEM;
		ret = nvr_kv_list(q, a->nsid, a->k, a->klen, buf, a->buflen);
		if (!ret)
			ret = kv_print_list(a, buf, a->buflen);
	}
	free(buf);
	return ret;
}

int cmd_kv(int argc, char **argv)
{
	struct kv_args a = { .nsid = 1, .buflen = KV_DEFAULT_BUF };
	struct cli_opt opts[] = {
		{ "namespace-id", 'n', CLI_U32, &a.nsid, "namespace (1)" },
		{ "key", 'k', CLI_STR, &a.key, "key as text (1-16 bytes)" },
		{ "key-hex", 'K', CLI_STR, &a.key_hex, "key as hex bytes" },
		{ "value", 'V', CLI_STR, &a.value, "store: value as text" },
		{ "value-file", 'f', CLI_STR, &a.value_file, "store: value file (default stdin)" },
		{ "data", 'd', CLI_STR, &a.data, "retrieve: output file (default stdout)" },
		{ "buffer-size", 'l', CLI_U32, &a.buflen, "retrieve/list/store-from-file buffer (1 MiB)" },
		{ "must-exist", 0, CLI_FLAG, &a.must_exist, "store: only if the key exists" },
		{ "must-not-exist", 0, CLI_FLAG, &a.must_not_exist, "store: only if the key does not exist" },
		{ NULL, 0, 0, NULL, NULL },
	};
	static const char *subs[] = { "store", "retrieve", "delete", "exist", "list" };
	struct nvr_ctrl *ctrl;
	const char *sub = argc > 1 ? argv[1] : "";
	char name[32];
	bool known = false;
	int ret;

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		known |= !strcmp(sub, subs[i]);
	if (!known) {
		fprintf(stderr, "usage: nvring kv store|retrieve|delete|exist|list [options]  (-h for options)\n");
		return CLI_EXIT_USAGE;
	}
	snprintf(name, sizeof(name), "kv %s", sub);
	ret = cli_parse(argc - 1, argv + 1, name, "Key Value command set.", opts, &a.c, NULL, NULL);
	if (ret)
		return ret;
	if (kv_parse_key(&a, strcmp(sub, "list") != 0) || !a.buflen) {
		fprintf(stderr, "nvring %s: give one --key (1-16 characters) or --key-hex (1-16 bytes)\n", name);
		return CLI_EXIT_USAGE;
	}
	ctrl = cli_connect(&a.c, 1);
	if (!ctrl)
		return CLI_EXIT_ERR;
	ret = kv_run(&a, sub, nvr_ctrl_io_queue(ctrl, 0));
	cli_disconnect(ctrl);
	return cli_report(&a.c, name, ret, 1);
}
