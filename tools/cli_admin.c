/* SPDX-License-Identifier: MIT */
/* nvring admin subcommands: discover, id-ctrl, id-ns, list-ns, get-log, get-feature, set-feature. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "cli.h"
#include "spec/nvme_kv.h"

struct admin_field {
	const char *name;
	uint64_t value;
};

static void admin_str(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = 0;
	while (len && (dst[len - 1] == ' ' || !dst[len - 1]))
		dst[--len] = 0;
}

/* Print name/value pairs nvme-cli style, or add them to a JSON object. */
static void admin_fields(struct json_object *j, const struct admin_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (j)
			json_object_object_add(j, f[i].name, json_object_new_int64((int64_t)f[i].value));
		else
			printf("%-10s: %#" PRIx64 "\n", f[i].name, f[i].value);
	}
}

static void admin_strfield(struct json_object *j, const char *name, const char *v)
{
	if (j)
		json_object_object_add(j, name, json_object_new_string(v));
	else
		printf("%-10s: %s\n", name, v);
}

/* Names for discovery entry fields; values come from the network, so look them up with bounds. */
static const char *disc_trtype(uint8_t t)
{
	return t == 1 ? "rdma" : t == 2 ? "fc" : t == 3 ? "tcp" : t == 254 ? "loop" : "unknown";
}

static const char *disc_subtype(uint8_t t)
{
	return t == 1 ? "referral" : t == 2 ? "nvme subsystem" : t == 3 ? "current discovery subsystem" : "unknown";
}

int cmd_discover(int argc, char **argv)
{
	struct cli_common c = { 0 };
	struct cli_opt opts[] = { { NULL, 0, 0, NULL, NULL } };
	struct nvr_disc_entry *e = NULL;
	struct nvr_ctrl *ctrl;
	unsigned nr = 0;
	uint64_t gen = 0;
	int ret;

	ret = cli_parse(argc, argv, "discover", "Connect to a discovery controller and print its log.", opts, &c,
			NULL, NULL);
	if (ret)
		return ret;
	ctrl = cli_connect(&c, 0);
	if (!ctrl)
		return CLI_EXIT_ERR;
	ret = nvr_discover(nvr_ctrl_admin_queue(ctrl), &e, &nr, &gen);
	if (ret) {
		cli_disconnect(ctrl);
		return cli_report(&c, "discover", ret, 0);
	}
	if (c.json) {
		struct json_object *j = json_object_new_object(), *a = json_object_new_array();

		json_object_object_add(j, "genctr", json_object_new_int64((int64_t)gen));
		json_object_object_add(j, "numrec", json_object_new_int((int)nr));
		for (unsigned i = 0; i < nr; i++) {
			struct json_object *r = json_object_new_object();

			json_object_object_add(r, "trtype", json_object_new_string(disc_trtype(e[i].trtype)));
			json_object_object_add(r, "adrfam", json_object_new_string(e[i].adrfam == 2 ? "ipv6" : "ipv4"));
			json_object_object_add(r, "subtype", json_object_new_string(disc_subtype(e[i].subtype)));
			json_object_object_add(r, "treq", json_object_new_int(e[i].treq));
			json_object_object_add(r, "portid", json_object_new_int(e[i].portid));
			json_object_object_add(r, "trsvcid", json_object_new_string(e[i].trsvcid));
			json_object_object_add(r, "subnqn", json_object_new_string(e[i].subnqn));
			json_object_object_add(r, "traddr", json_object_new_string(e[i].traddr));
			json_object_array_add(a, r);
		}
		json_object_object_add(j, "records", a);
		cli_print_json(j);
	} else {
		printf("\nDiscovery Log Number of Records %u, Generation counter %" PRIu64 "\n", nr, gen);
		for (unsigned i = 0; i < nr; i++) {
			printf("=====Discovery Log Entry %u======\n", i);
			printf("trtype:  %s\n", disc_trtype(e[i].trtype));
			printf("adrfam:  %s\n", e[i].adrfam == 2 ? "ipv6" : "ipv4");
			printf("subtype: %s\n", disc_subtype(e[i].subtype));
			printf("treq:    %#x\n", e[i].treq);
			printf("portid:  %u\n", e[i].portid);
			printf("trsvcid: %s\n", e[i].trsvcid);
			printf("subnqn:  %s\n", e[i].subnqn);
			printf("traddr:  %s\n", e[i].traddr);
		}
	}
	free(e);
	cli_disconnect(ctrl);
	return CLI_EXIT_OK;
}

int cmd_id_ctrl(int argc, char **argv)
{
	struct cli_common c = { 0 };
	bool raw = false;
	struct cli_opt opts[] = { { "raw-binary", 'b', CLI_FLAG, &raw, "print the 4096 bytes raw" },
				  { NULL, 0, 0, NULL, NULL } };
	const struct nvme_id_ctrl *id;
	struct nvr_ctrl *ctrl;
	struct json_object *j = NULL;
	char sn[21], mn[41], fr[9], subnqn[257];
	int ret;

	ret = cli_parse(argc, argv, "id-ctrl", "Identify Controller (read at connect).", opts, &c, NULL, NULL);
	if (ret)
		return ret;
	ctrl = cli_connect(&c, 0);
	if (!ctrl)
		return CLI_EXIT_ERR;
	id = nvr_ctrl_id(ctrl);
	if (raw || (c.output && !strcmp(c.output, "binary"))) {
		ret = cli_write_output(NULL, id, 4096);
		cli_disconnect(ctrl);
		return ret ? CLI_EXIT_ERR : CLI_EXIT_OK;
	}
	admin_str(sn, id->sn, 20);
	admin_str(mn, id->mn, 40);
	admin_str(fr, id->fr, 8);
	admin_str(subnqn, id->subnqn, 256);
	if (c.json)
		j = json_object_new_object();
	else
		printf("NVME Identify Controller:\n");
	admin_fields(j, (struct admin_field[]){ { "vid", id->vid }, { "ssvid", id->ssvid } }, 2);
	admin_strfield(j, "sn", sn);
	admin_strfield(j, "mn", mn);
	admin_strfield(j, "fr", fr);
	{
		const struct admin_field f[] = {
			{ "rab", id->rab }, { "cmic", id->cmic }, { "mdts", id->mdts }, { "cntlid", id->cntlid },
			{ "ver", id->ver }, { "oaes", id->oaes }, { "ctratt", id->ctratt }, { "cntrltype", id->cntrltype },
			{ "oacs", id->oacs }, { "acl", id->acl }, { "aerl", id->aerl }, { "lpa", id->lpa },
			{ "elpe", id->elpe }, { "kas", id->kas }, { "sqes", id->sqes }, { "cqes", id->cqes },
			{ "maxcmd", id->maxcmd }, { "nn", id->nn }, { "oncs", id->oncs }, { "fuses", id->fuses },
			{ "vwc", id->vwc }, { "sgls", id->sgls }, { "ioccsz", id->ioccsz }, { "iorcsz", id->iorcsz },
			{ "icdoff", id->icdoff }, { "fcatt", id->fcatt }, { "msdbd", id->msdbd }, { "ofcs", id->ofcs },
		};
		admin_fields(j, f, sizeof(f) / sizeof(f[0]));
	}
	admin_strfield(j, "subnqn", subnqn);
	if (j)
		cli_print_json(j);
	cli_disconnect(ctrl);
	return CLI_EXIT_OK;
}

int cmd_id_ns(int argc, char **argv)
{
	struct cli_common c = { 0 };
	uint32_t nsid = 1, csi = 0;
	bool raw = false;
	struct cli_opt opts[] = { { "namespace-id", 'n', CLI_U32, &nsid, "namespace (1)" },
				  { "csi", 0, CLI_U32, &csi, "command set: 0 NVM (CNS 0), 1 KV (CNS 5)" },
				  { "raw-binary", 'b', CLI_FLAG, &raw, "print the 4096 bytes raw" },
				  { NULL, 0, 0, NULL, NULL } };
	union {
		struct nvme_id_ns nvm;
		struct nvme_kv_id_ns kv;
	} id;
	struct nvr_ctrl *ctrl;
	int ret;

	ret = cli_parse(argc, argv, "id-ns", "Identify Namespace.", opts, &c, NULL, NULL);
	if (ret)
		return ret;
	ctrl = cli_connect(&c, 0);
	if (!ctrl)
		return CLI_EXIT_ERR;
	ret = nvr_identify(nvr_ctrl_admin_queue(ctrl), csi ? NVME_IDENTIFY_CNS_CSI_NS : NVME_IDENTIFY_CNS_NS,
			   (uint8_t)csi, nsid, 0, &id);
	cli_disconnect(ctrl);
	if (ret)
		return cli_report(&c, "id-ns", ret, 0);
	if (raw || (c.output && !strcmp(c.output, "binary")))
		return cli_write_output(NULL, &id, sizeof(id)) ? CLI_EXIT_ERR : CLI_EXIT_OK;
	if (csi == 1) {
		/* KV layout: NSZE/NUSE in bytes, then the KV formats */
		const struct admin_field f[] = { { "nsze", id.kv.nsze }, { "nuse", id.kv.nuse },
						 { "kvkml", id.kv.kvf[0].kvkml }, { "kvvml", id.kv.kvf[0].kvvml } };
		struct json_object *j = c.json ? json_object_new_object() : NULL;

		if (!j)
			printf("NVME Identify Namespace %u (Key Value):\n", nsid);
		admin_fields(j, f, sizeof(f) / sizeof(f[0]));
		if (j)
			cli_print_json(j);
		return CLI_EXIT_OK;
	}
	{
		unsigned fmt = (id.nvm.flbas & 0xf) | ((id.nvm.flbas >> 1) & 0x30);
		const struct admin_field f[] = {
			{ "nsze", id.nvm.nsze },   { "ncap", id.nvm.ncap },   { "nuse", id.nvm.nuse },
			{ "nsfeat", id.nvm.nsfeat }, { "nlbaf", id.nvm.nlbaf }, { "flbas", id.nvm.flbas },
			{ "mc", id.nvm.mc },       { "dpc", id.nvm.dpc },     { "nmic", id.nvm.nmic },
			{ "nows", id.nvm.nows },   { "lbads", fmt < 64 ? id.nvm.lbaf[fmt].ds : 0 },
		};
		struct json_object *j = c.json ? json_object_new_object() : NULL;

		if (!j)
			printf("NVME Identify Namespace %u:\n", nsid);
		admin_fields(j, f, sizeof(f) / sizeof(f[0]));
		if (j)
			cli_print_json(j);
		else
			for (unsigned i = 0; i <= id.nvm.nlbaf && i < 64; i++)
				printf("lbaf %2u : ms:%-3u lbads:%-2u rp:%#x %s\n", i, id.nvm.lbaf[i].ms,
				       id.nvm.lbaf[i].ds, id.nvm.lbaf[i].rp, i == fmt ? "(in use)" : "");
	}
	return CLI_EXIT_OK;
}

int cmd_list_ns(int argc, char **argv)
{
	struct cli_common c = { 0 };
	uint32_t start = 0, list[1024];
	struct cli_opt opts[] = { { "namespace-id", 'n', CLI_U32, &start, "list IDs greater than this" },
				  { NULL, 0, 0, NULL, NULL } };
	struct nvr_ctrl *ctrl;
	int ret;

	ret = cli_parse(argc, argv, "list-ns", "Active namespace ID list (Identify CNS 0x02).", opts, &c, NULL, NULL);
	if (ret)
		return ret;
	ctrl = cli_connect(&c, 0);
	if (!ctrl)
		return CLI_EXIT_ERR;
	ret = nvr_identify(nvr_ctrl_admin_queue(ctrl), NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 0, start, 0, list);
	cli_disconnect(ctrl);
	if (ret)
		return cli_report(&c, "list-ns", ret, 0);
	if (c.json) {
		struct json_object *j = json_object_new_object(), *a = json_object_new_array();

		for (unsigned i = 0; i < 1024 && list[i]; i++)
			json_object_array_add(a, json_object_new_int64(list[i]));
		json_object_object_add(j, "nsid_list", a);
		cli_print_json(j);
	} else {
		for (unsigned i = 0; i < 1024 && list[i]; i++)
			printf("[%4u]:%#x\n", i, list[i]);
	}
	return CLI_EXIT_OK;
}

int cmd_get_log(int argc, char **argv)
{
	struct cli_common c = { 0 };
	uint32_t lid = 0, len = 0, nsid = 0xffffffff, lsp = 0;
	uint64_t lpo = 0;
	bool raw = false;
	struct cli_opt opts[] = { { "log-id", 'i', CLI_U32, &lid, "log page identifier" },
				  { "log-len", 'l', CLI_U32, &len, "bytes to read (multiple of 4)" },
				  { "namespace-id", 'n', CLI_U32, &nsid, "namespace (0xffffffff)" },
				  { "lsp", 's', CLI_U32, &lsp, "log specific field" },
				  { "lpo", 'O', CLI_U64, &lpo, "log page offset" },
				  { "raw-binary", 'b', CLI_FLAG, &raw, "raw output" },
				  { NULL, 0, 0, NULL, NULL } };
	struct nvr_ctrl *ctrl;
	uint8_t *buf;
	int ret;

	ret = cli_parse(argc, argv, "get-log", "Get Log Page.", opts, &c, NULL, NULL);
	if (ret)
		return ret;
	if (!len || len % 4 || lid > 0xff) {
		fprintf(stderr, "nvring get-log: --log-id and --log-len (multiple of 4) are required\n");
		return CLI_EXIT_USAGE;
	}
	ctrl = cli_connect(&c, 0);
	if (!ctrl)
		return CLI_EXIT_ERR;
	buf = calloc(1, len);
	ret = buf ? nvr_get_log(nvr_ctrl_admin_queue(ctrl), (uint8_t)lid, nsid, (uint8_t)lsp, lpo, buf, len) : -ENOMEM;
	cli_disconnect(ctrl);
	if (!ret) {
		if (raw || (c.output && !strcmp(c.output, "binary"))) {
			ret = cli_write_output(NULL, buf, len);
		} else if (c.json) {
			struct json_object *j = json_object_new_object();
			char *hex = malloc(len * 2 + 1);

			for (uint32_t i = 0; i < len; i++)
				sprintf(hex + i * 2, "%02x", buf[i]);
			json_object_object_add(j, "log_id", json_object_new_int((int)lid));
			json_object_object_add(j, "data", json_object_new_string(hex));
			cli_print_json(j);
			free(hex);
		} else {
			printf("Device log page %#x, %u bytes:\n", lid, len);
			cli_hexdump(stdout, buf, len);
		}
	}
	free(buf);
	return cli_report(&c, "get-log", ret, 0);
}

static int feature_common(int argc, char **argv, bool set)
{
	struct cli_common c = { 0 };
	uint32_t fid = 0, sel = 0, nsid = 0, cdw11 = 0, cdw12 = 0, len = 0, result = 0;
	const char *data = NULL;
	bool save = false, raw = false;
	struct cli_opt gopts[] = { { "feature-id", 'f', CLI_U32, &fid, "feature identifier" },
				   { "sel", 's', CLI_U32, &sel, "0 current, 1 default, 2 saved, 3 capabilities" },
				   { "namespace-id", 'n', CLI_U32, &nsid, "namespace" },
				   { "cdw11", 'c', CLI_U32, &cdw11, "dword 11" },
				   { "data-len", 'l', CLI_U32, &len, "data buffer length" },
				   { "raw-binary", 'b', CLI_FLAG, &raw, "raw data output" },
				   { NULL, 0, 0, NULL, NULL } };
	struct cli_opt sopts[] = { { "feature-id", 'f', CLI_U32, &fid, "feature identifier" },
				   { "value", 'V', CLI_U32, &cdw11, "new value (dword 11)" },
				   { "cdw12", 'c', CLI_U32, &cdw12, "dword 12" },
				   { "namespace-id", 'n', CLI_U32, &nsid, "namespace" },
				   { "data-len", 'l', CLI_U32, &len, "data buffer length" },
				   { "data", 'd', CLI_STR, &data, "data file (with --data-len)" },
				   { "save", 'S', CLI_FLAG, &save, "persist across power cycles" },
				   { NULL, 0, 0, NULL, NULL } };
	const char *name = set ? "set-feature" : "get-feature";
	struct nvr_ctrl *ctrl;
	uint8_t *buf = NULL;
	int ret;

	ret = cli_parse(argc, argv, name, set ? "Set Features." : "Get Features.", set ? sopts : gopts, &c, NULL, NULL);
	if (ret)
		return ret;
	if (!fid || fid > 0xff) {
		fprintf(stderr, "nvring %s: --feature-id is required\n", name);
		return CLI_EXIT_USAGE;
	}
	if (len) {
		size_t got;

		buf = calloc(1, len);
		if (!buf)
			return CLI_EXIT_ERR;
		if (set && data && cli_read_input(data, buf, len, &got)) {
			fprintf(stderr, "nvring %s: cannot read %s\n", name, data);
			free(buf);
			return CLI_EXIT_ERR;
		}
	}
	ctrl = cli_connect(&c, 0);
	if (!ctrl) {
		free(buf);
		return CLI_EXIT_ERR;
	}
	if (set)
		ret = nvr_set_features(nvr_ctrl_admin_queue(ctrl), (uint8_t)fid, nsid, cdw11, cdw12, save, buf, len,
				       &result);
	else
		ret = nvr_get_features(nvr_ctrl_admin_queue(ctrl), (uint8_t)fid, (uint8_t)sel, nsid, cdw11, buf, len,
				       &result);
	cli_disconnect(ctrl);
	if (!ret) {
		if (c.json) {
			struct json_object *j = json_object_new_object();

			json_object_object_add(j, "feature_id", json_object_new_int((int)fid));
			json_object_object_add(j, "result", json_object_new_int64(result));
			cli_print_json(j);
		} else {
			printf("%s:%#04x, %s value:%#010x\n", name, fid, set ? "set" : "Current", result);
			if (!set && len) {
				if (raw)
					cli_write_output(NULL, buf, len);
				else
					cli_hexdump(stdout, buf, len);
			}
		}
	}
	free(buf);
	return cli_report(&c, name, ret, 0);
}

int cmd_get_feature(int argc, char **argv)
{
	return feature_common(argc, argv, false);
}

int cmd_set_feature(int argc, char **argv)
{
	return feature_common(argc, argv, true);
}
