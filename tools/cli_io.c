/* SPDX-License-Identifier: MIT */
/* nvring I/O subcommands: read, write, flush, write-zeroes, dsm, io-passthru, admin-passthru. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spec/nvme_cmd.h"

struct rw_args {
	struct cli_common c;
	uint32_t nsid;
	uint64_t slba;
	uint32_t nlb0; /* 0's based, like nvme-cli's --block-count */
	uint64_t size;
	const char *data;
};

static int io_rw(int argc, char **argv, bool write)
{
	struct rw_args a = { .nsid = 1 };
	struct cli_opt opts[] = {
		{ "namespace-id", 'n', CLI_U32, &a.nsid, "namespace (1)" },
		{ "start-block", 's', CLI_U64, &a.slba, "first LBA" },
		{ "block-count", 'c', CLI_U32, &a.nlb0, "number of blocks, 0's based (0 = one block)" },
		{ "data-size", 'z', CLI_U64, &a.size, "bytes (default: blocks x LBA size)" },
		{ "data", 'd', CLI_STR, &a.data, write ? "input file (default stdin)" : "output file (default stdout)" },
		{ NULL, 0, 0, NULL, NULL },
	};
	const char *name = write ? "write" : "read";
	uint64_t nlb = (uint64_t)a.nlb0 + 1, len, done = 0;
	struct nvr_ctrl *ctrl;
	struct nvr_queue *q;
	uint32_t lbas, max;
	uint8_t *buf;
	int ret;

	ret = cli_parse(argc, argv, name, write ? "Write blocks from a file or stdin." : "Read blocks to a file or stdout.",
			opts, &a.c, NULL, NULL);
	if (ret)
		return ret;
	nlb = (uint64_t)a.nlb0 + 1;
	ctrl = cli_connect(&a.c, 1);
	if (!ctrl)
		return CLI_EXIT_ERR;
	q = nvr_ctrl_io_queue(ctrl, 0);
	lbas = cli_lba_size(ctrl, a.nsid, NULL);
	if (!lbas || !q) {
		fprintf(stderr, "nvring %s: cannot read the LBA size of namespace %u\n", name, a.nsid);
		cli_disconnect(ctrl);
		return CLI_EXIT_ERR;
	}
	len = nlb * lbas;
	if (a.size && a.size < len) {
		fprintf(stderr, "nvring %s: --data-size %" PRIu64 " is less than %" PRIu64 " blocks of %u\n", name, a.size,
			nlb, lbas);
		cli_disconnect(ctrl);
		return CLI_EXIT_USAGE;
	}
	buf = len <= (1u << 30) ? calloc(1, len) : NULL;
	if (!buf) {
		cli_disconnect(ctrl);
		return cli_report(&a.c, name, -ENOMEM, 0);
	}
	if (write) {
		size_t got;

		ret = cli_read_input(a.data, buf, len, &got);
		if (ret) {
			fprintf(stderr, "nvring write: cannot read %s: %s\n", a.data, strerror(-ret));
			goto out;
		}
	}
	/* split at the controller's MDTS */
	max = nvr_ctrl_max_xfer(ctrl);
	if (!max || max > (1u << 24))
		max = 1u << 24;
	max -= max % lbas;
	while (!ret && done < len) {
		uint32_t n = len - done < max ? (uint32_t)(len - done) : max;
		uint64_t lba = a.slba + done / lbas;

		ret = write ? nvr_write(q, a.nsid, lba, n / lbas, buf + done, n)
			    : nvr_read(q, a.nsid, lba, n / lbas, buf + done, n);
		done += n;
	}
	if (!ret && a.c.json) {
		/* scripts get a summary; read data without --data travels as hex */
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "command", json_object_new_string(name));
		json_object_object_add(j, "start_block", json_object_new_int64((int64_t)a.slba));
		json_object_object_add(j, "blocks", json_object_new_int64((int64_t)nlb));
		json_object_object_add(j, "bytes", json_object_new_int64((int64_t)len));
		if (!write && a.data)
			ret = cli_write_output(a.data, buf, len);
		if (!write && !a.data) {
			char *hex = malloc(len * 2 + 1);

			for (uint64_t i = 0; hex && i < len; i++)
				sprintf(hex + i * 2, "%02x", buf[i]);
			if (hex)
				hex[len * 2] = 0;
			json_object_object_add(j, "data", json_object_new_string(hex ? hex : ""));
			free(hex);
		}
		cli_print_json(j);
		goto out;
	}
	if (!ret && !write) {
		ret = cli_write_output(a.data, buf, len);
		if (ret)
			fprintf(stderr, "nvring read: cannot write output: %s\n", strerror(-ret));
	}
	if (!ret && (a.data || write))
		fprintf(stderr, "%s: Success\n", name);
out:
	free(buf);
	cli_disconnect(ctrl);
	return cli_report(&a.c, name, ret, 0);
}

int cmd_read(int argc, char **argv)
{
	return io_rw(argc, argv, false);
}

int cmd_write(int argc, char **argv)
{
	return io_rw(argc, argv, true);
}

int cmd_flush(int argc, char **argv)
{
	struct cli_common c = { 0 };
	uint32_t nsid = 1;
	struct cli_opt opts[] = { { "namespace-id", 'n', CLI_U32, &nsid, "namespace (1)" }, { NULL, 0, 0, NULL, NULL } };
	struct nvr_ctrl *ctrl;
	int ret;

	ret = cli_parse(argc, argv, "flush", "Flush volatile write cache.", opts, &c, NULL, NULL);
	if (ret)
		return ret;
	ctrl = cli_connect(&c, 1);
	if (!ctrl)
		return CLI_EXIT_ERR;
	ret = nvr_flush(nvr_ctrl_io_queue(ctrl, 0), nsid);
	cli_disconnect(ctrl);
	if (!ret && !c.json)
		printf("NVMe Flush: success\n");
	return cli_report(&c, "flush", ret, 0);
}

int cmd_write_zeroes(int argc, char **argv)
{
	struct cli_common c = { 0 };
	uint32_t nsid = 1, nlb0 = 0;
	uint64_t slba = 0;
	struct cli_opt opts[] = { { "namespace-id", 'n', CLI_U32, &nsid, "namespace (1)" },
				  { "start-block", 's', CLI_U64, &slba, "first LBA" },
				  { "block-count", 'c', CLI_U32, &nlb0, "number of blocks, 0's based" },
				  { NULL, 0, 0, NULL, NULL } };
	struct nvr_ctrl *ctrl;
	int ret;

	ret = cli_parse(argc, argv, "write-zeroes", "Write Zeroes.", opts, &c, NULL, NULL);
	if (ret)
		return ret;
	if (nlb0 > 0xffff) {
		fprintf(stderr, "nvring write-zeroes: --block-count is at most 65535\n");
		return CLI_EXIT_USAGE;
	}
	ctrl = cli_connect(&c, 1);
	if (!ctrl)
		return CLI_EXIT_ERR;
	ret = nvr_write_zeroes(nvr_ctrl_io_queue(ctrl, 0), nsid, slba, nlb0 + 1);
	cli_disconnect(ctrl);
	if (!ret && !c.json)
		printf("NVMe Write Zeroes: success\n");
	return cli_report(&c, "write-zeroes", ret, 0);
}

/* "1,2,3" into at most max numbers; returns the count or -EINVAL */
static int io_list(const char *s, uint64_t *v, int max)
{
	int n = 0;

	while (s && *s) {
		char tmp[32];
		size_t l = strcspn(s, ",");

		if (n == max || l == 0 || l >= sizeof(tmp))
			return -EINVAL;
		memcpy(tmp, s, l);
		tmp[l] = 0;
		if (cli_parse_u64(tmp, &v[n++]))
			return -EINVAL;
		s += l + (s[l] == ',');
	}
	return n;
}

int cmd_dsm(int argc, char **argv)
{
	struct cli_common c = { 0 };
	uint32_t nsid = 1, attr = 0;
	const char *slbs = NULL, *blocks = NULL, *cattrs = NULL;
	bool ad = false, idr = false, idw = false;
	struct cli_opt opts[] = { { "namespace-id", 'n', CLI_U32, &nsid, "namespace (1)" },
				  { "slbs", 0, CLI_STR, &slbs, "comma-separated starting LBAs" },
				  { "blocks", 0, CLI_STR, &blocks, "comma-separated lengths in blocks" },
				  { "ctx-attrs", 0, CLI_STR, &cattrs, "comma-separated context attributes" },
				  { "ad", 'd', CLI_FLAG, &ad, "attribute: deallocate" },
				  { "idr", 0, CLI_FLAG, &idr, "attribute: integral dataset for read" },
				  { "idw", 0, CLI_FLAG, &idw, "attribute: integral dataset for write" },
				  { NULL, 0, 0, NULL, NULL } };
	uint64_t sl[256], bl[256], ca[256] = { 0 };
	struct { uint32_t cattr, nlb; uint64_t slba; } __attribute__((packed)) r[256];
	struct nvr_ctrl *ctrl;
	int ret, n, nb, nc = 0;

	ret = cli_parse(argc, argv, "dsm", "Dataset Management.", opts, &c, NULL, NULL);
	if (ret)
		return ret;
	n = io_list(slbs, sl, 256);
	nb = io_list(blocks, bl, 256);
	if (cattrs)
		nc = io_list(cattrs, ca, 256);
	if (n <= 0 || nb != n || nc < 0 || (cattrs && nc != n)) {
		fprintf(stderr, "nvring dsm: --slbs and --blocks need the same number of entries (1-256)\n");
		return CLI_EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		r[i].cattr = (uint32_t)ca[i];
		r[i].nlb = (uint32_t)bl[i];
		r[i].slba = sl[i];
	}
	attr = (idr ? 1u : 0) | (idw ? 2u : 0) | (ad ? 4u : 0);
	ctrl = cli_connect(&c, 1);
	if (!ctrl)
		return CLI_EXIT_ERR;
	ret = nvr_dsm(nvr_ctrl_io_queue(ctrl, 0), nsid, attr, r, (uint32_t)n);
	cli_disconnect(ctrl);
	if (!ret && !c.json)
		printf("NVMe DSM: success\n");
	return cli_report(&c, "dsm", ret, 0);
}

/* ---- passthru ---- */

static int passthru(int argc, char **argv, bool admin)
{
	struct cli_common c = { 0 };
	uint32_t opcode = 0, flags = 0, nsid = 0, len = 0, csi = 0;
	uint32_t cdw[16] = { 0 };
	const char *input = NULL;
	bool rd = false, wr = false, raw = false, show = false, dry = false, have_opc = false;
	struct cli_opt opts[] = {
		{ "opcode", 'o', CLI_U32, &opcode, "opcode (required)" },
		{ "flags", 'f', CLI_U32, &flags, "command flags byte (PSDT is set by the transport)" },
		{ "namespace-id", 'n', CLI_U32, &nsid, "namespace" },
		{ "cdw2", '2', CLI_U32, &cdw[2], "dword 2" },
		{ "cdw3", '3', CLI_U32, &cdw[3], "dword 3" },
		{ "cdw10", '4', CLI_U32, &cdw[10], "dword 10" },
		{ "cdw11", '5', CLI_U32, &cdw[11], "dword 11" },
		{ "cdw12", '6', CLI_U32, &cdw[12], "dword 12" },
		{ "cdw13", '7', CLI_U32, &cdw[13], "dword 13" },
		{ "cdw14", '8', CLI_U32, &cdw[14], "dword 14" },
		{ "cdw15", '9', CLI_U32, &cdw[15], "dword 15" },
		{ "data-len", 'l', CLI_U32, &len, "data length in bytes" },
		{ "read", 'r', CLI_FLAG, &rd, "data controller to host" },
		{ "write", 'w', CLI_FLAG, &wr, "data host to controller" },
		{ "input-file", 'i', CLI_STR, &input, "write data file (default stdin)" },
		{ "raw-binary", 'b', CLI_FLAG, &raw, "print read data raw" },
		{ "show-command", 0, CLI_FLAG, &show, "print the command" },
		{ "dry-run", 'd', CLI_FLAG, &dry, "show the command, do not send it" },
		{ "csi", 0, CLI_U32, &csi, "command set for status names (0 NVM, 1 KV)" },
		{ NULL, 0, 0, NULL, NULL },
	};
	const char *name = admin ? "admin-passthru" : "io-passthru";
	struct nvme_sqe sqe = { 0 };
	struct nvr_cpl cpl = { 0 };
	enum nvr_dir dir = NVR_DIR_NONE;
	struct nvr_ctrl *ctrl = NULL;
	uint8_t *buf = NULL;
	int ret;

	ret = cli_parse(argc, argv, name, admin ? "Send any admin command." : "Send any I/O command.", opts, &c, NULL,
			NULL);
	if (ret)
		return ret;
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--opcode", 8) || !strncmp(argv[i], "-o", 2))
			have_opc = true;
	if (!have_opc || opcode > 0xff || flags > 0xff || (rd && wr)) {
		fprintf(stderr, "nvring %s: --opcode is required (0-0xff); -r and -w exclude each other\n", name);
		return CLI_EXIT_USAGE;
	}
	/* direction: explicit, else opcode bits 1:0 as nvme-cli does */
	if (len)
		dir = rd ? NVR_DIR_C2H : wr ? NVR_DIR_H2C : (opcode & 1) ? NVR_DIR_H2C : (opcode & 2) ? NVR_DIR_C2H : NVR_DIR_NONE;
	if (len && dir == NVR_DIR_NONE) {
		fprintf(stderr, "nvring %s: give -r or -w for the data direction\n", name);
		return CLI_EXIT_USAGE;
	}
	sqe.opcode = (uint8_t)opcode;
	sqe.flags = (uint8_t)flags;
	sqe.nsid = nsid;
	sqe.cdw2 = cdw[2];
	sqe.cdw3 = cdw[3];
	sqe.cdw10 = cdw[10];
	sqe.cdw11 = cdw[11];
	sqe.cdw12 = cdw[12];
	sqe.cdw13 = cdw[13];
	sqe.cdw14 = cdw[14];
	sqe.cdw15 = cdw[15];
	if (show || dry) {
		printf("opcode       : %#04x\nflags        : %#04x\nnsid         : %#010x\ncdw2         : %#010x\n"
		       "cdw3         : %#010x\ndata_len     : %#010x\ncdw10        : %#010x\ncdw11        : %#010x\n"
		       "cdw12        : %#010x\ncdw13        : %#010x\ncdw14        : %#010x\ncdw15        : %#010x\n"
		       "direction    : %s\n",
		       opcode, flags, nsid, cdw[2], cdw[3], len, cdw[10], cdw[11], cdw[12], cdw[13], cdw[14], cdw[15],
		       dir == NVR_DIR_C2H ? "read" : dir == NVR_DIR_H2C ? "write" : "none");
		if (dry)
			return CLI_EXIT_OK;
	}
	if (len) {
		buf = calloc(1, len);
		if (!buf)
			return CLI_EXIT_ERR;
		if (dir == NVR_DIR_H2C) {
			size_t got;

			ret = cli_read_input(input, buf, len, &got);
			if (ret) {
				fprintf(stderr, "nvring %s: cannot read %s\n", name, input ? input : "stdin");
				free(buf);
				return CLI_EXIT_ERR;
			}
		}
	}
	ctrl = cli_connect(&c, admin ? 0 : 1);
	if (!ctrl) {
		free(buf);
		return CLI_EXIT_ERR;
	}
	ret = nvr_exec(admin ? nvr_ctrl_admin_queue(ctrl) : nvr_ctrl_io_queue(ctrl, 0), &sqe, dir, buf, len, &cpl);
	cli_disconnect(ctrl);
	if (c.json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "command", json_object_new_string(name));
		json_object_object_add(j, "result", json_object_new_int64(cpl.dw0));
		json_object_object_add(j, "result_dw1", json_object_new_int64(cpl.dw1));
		cli_status_json(j, ret, (int)csi);
		if (!ret && dir == NVR_DIR_C2H) {
			char *hex = malloc(len * 2 + 1);

			for (uint32_t i = 0; i < len; i++)
				sprintf(hex + i * 2, "%02x", buf[i]);
			hex[len * 2] = 0;
			json_object_object_add(j, "data", json_object_new_string(hex));
			free(hex);
		}
		cli_print_json(j);
		free(buf);
		return ret > 0 ? CLI_EXIT_NVME : ret < 0 ? CLI_EXIT_ERR : CLI_EXIT_OK;
	}
	if (!ret) {
		fprintf(raw ? stderr : stdout, "NVMe command result:%08x\n", cpl.dw0);
		if (dir == NVR_DIR_C2H) {
			if (raw)
				cli_write_output(NULL, buf, len);
			else
				cli_hexdump(stdout, buf, len);
		}
	} else if (ret > 0) {
		printf("NVMe command result:%08x\n", cpl.dw0);
	}
	free(buf);
	return cli_report(NULL, name, ret, (int)csi);
}

int cmd_io_passthru(int argc, char **argv)
{
	return passthru(argc, argv, false);
}

int cmd_admin_passthru(int argc, char **argv)
{
	return passthru(argc, argv, true);
}
