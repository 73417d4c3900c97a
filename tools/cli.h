/* SPDX-License-Identifier: MIT */
/* Shared pieces of the nvring CLI: option tables, connecting, status and output helpers. */
#ifndef NVRING_TOOLS_CLI_H
#define NVRING_TOOLS_CLI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nvring/nvring.h"

/* Exit codes */
#define CLI_EXIT_OK 0
#define CLI_EXIT_NVME 1  /* the command completed with an NVMe error status */
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_ERR 3   /* transport, timeout or local error */

enum cli_type { CLI_FLAG, CLI_STR, CLI_U64, CLI_U32 };

struct cli_opt {
	const char *lname;
	int sname; /* 0: long only; a command's short letter wins over the common one */
	enum cli_type type;
	void *ptr;
	const char *help;
};

/* Options every command takes (connection and output). */
struct cli_common {
	const char *transport, *traddr, *trsvcid, *nqn, *hostnqn, *hostid, *output;
	const char *dhchap_secret, *dhchap_ctrl_secret;
	bool hdgst, ddgst, disable_sqflow, verbose;
	uint32_t timeout_ms, nr_io_queues, queue_size, kato_ms;
	bool json;
	/* TLS (cli_tls.c) */
	bool tls;
	const char *tls_mode, *psk, *psk_file, *psk_identity, *psk_variant;
	uint32_t psk_identity_version;
	char psk_buf[128]; /* the key read from psk_file */
};

/* Parse argv with the command's options plus the common ones. Returns 0, or CLI_EXIT_USAGE after
 * printing help. *rest / *nrest get the remaining positional arguments. */
int cli_parse(int argc, char **argv, const char *cmd, const char *desc, const struct cli_opt *opts,
	      struct cli_common *common, char ***rest, int *nrest);

/* TLS options into o (reads --psk-file). Returns 0 or prints why not and returns -EINVAL. */
int cli_tls_opts(struct cli_common *c, struct nvr_connect_opts *o);
/* A hint for a connect failure that TLS explains (NULL if none). */
const char *cli_tls_hint(const struct cli_common *c, int err);

/* Connect per the common options; prints the error and returns NULL on failure. */
struct nvr_ctrl *cli_connect(struct cli_common *c, unsigned nr_io_queues);

/* Shut the controller down (CC.SHN) and free it; warns on stderr if that fails. */
void cli_disconnect(struct nvr_ctrl *ctrl);

/* Report a helper's result: 0 ok, >0 NVMe status (printed by name), <0 errno. Returns exit code. */
int cli_report(const struct cli_common *c, const char *what, int ret, int csi);
void cli_status_json(struct json_object *o, int ret, int csi);
void cli_print_json(struct json_object *o);

/* Data helpers */
int cli_read_input(const char *path, void *buf, size_t len, size_t *got); /* NULL or "-": stdin */
int cli_write_output(const char *path, const void *buf, size_t len);     /* NULL or "-": stdout */
void cli_hexdump(FILE *f, const void *buf, size_t len);
uint32_t cli_lba_size(struct nvr_ctrl *ctrl, uint32_t nsid, uint64_t *nsze);
int cli_parse_u64(const char *s, uint64_t *v);

/* Subcommands */
int cmd_discover(int argc, char **argv);
int cmd_id_ctrl(int argc, char **argv);
int cmd_id_ns(int argc, char **argv);
int cmd_list_ns(int argc, char **argv);
int cmd_get_log(int argc, char **argv);
int cmd_get_feature(int argc, char **argv);
int cmd_set_feature(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_flush(int argc, char **argv);
int cmd_write_zeroes(int argc, char **argv);
int cmd_dsm(int argc, char **argv);
int cmd_io_passthru(int argc, char **argv);
int cmd_admin_passthru(int argc, char **argv);
int cmd_kv(int argc, char **argv);
int cmd_perf(int argc, char **argv);
int cmd_tls_key(int argc, char **argv);
int cmd_tls_key_gen(int argc, char **argv);
int cmd_rpc(int argc, char **argv);

#endif
