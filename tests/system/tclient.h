/* SPDX-License-Identifier: MIT */
/*
 * tclient: a small raw NVMe/TCP host for system tests of nvringd.
 * Blocking sockets with receive/send timeouts so a silent target fails a test instead of
 * hanging it. It can also misbehave on purpose (bad digests, wrong ttag/offset, raw bytes).
 * Errors are negative errno; NVMe statuses are returned as libnvme-style values
 * (SCT << 8 | SC, DNR 0x4000), see nvme_status_from_wire().
 */
#ifndef NVRING_TESTS_TCLIENT_H
#define NVRING_TESTS_TCLIENT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec/nvme_cmd.h"
#include "spec/nvme_tcp.h"

#define TC_SUBNQN "nqn.2026-11.io.nvring:default"
#define TC_DISCNQN "nqn.2014-08.org.nvmexpress.discovery"
#define TC_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6e0c5a2e-0000-4000-8000-00000000c0de"
#define TC_MAX_CID 1024
#define TC_TIMEOUT_MS 5000
#define TC_ICD_IO 8192   /* contract: 8 KiB in-capsule data on I/O queues */
#define TC_ICD_ADMIN 8192
#define TC_MDTS_BYTES (1024 * 1024)

/* Subsystem NQN used by tc_connect_args_default (TC_SUBNQN, or $TC_TARGET_NQN). */
extern const char *tc_subnqn;
/*
 * An already running target given by $TC_TARGET_PORT (and $TC_TARGET_NQN): lets the
 * transport tests check tclient itself against the Linux kernel target. 0 if unset.
 */
int tc_external_port(void);

/* ---- the daemon under test ---- */
struct tc_daemon {
	pid_t pid;
	int errfd;          /* read end of the daemon's stderr+stdout */
	int ports[8];       /* one per "listening on" line, in order */
	int nports;
	bool ready;
	int exit_status;    /* after tc_daemon_stop: exit code, or -signal */
	/* collected log, filled by a reader thread */
	void *priv;
};

/* -l 127.0.0.1:0 --ns mem:64M --ns mem:16M,bs=4096 -t 2 -v: nsid 1 (512 B LBAs), nsid 2 (4 KiB) */
extern const char *const tc_default_args[];
#define TC_NS1_BLOCKS (64u * 1024 * 1024 / 512)
#define TC_NS2_BLOCKS (16u * 1024 * 1024 / 4096)

/* Path of nvringd from $NVRINGD, or NULL if it is not an executable file. */
const char *tc_daemon_path(void);
/* Start nvringd with args (NULL-terminated, without argv[0]); wait for "ready". */
int tc_daemon_start(struct tc_daemon *d, const char *const *args);
/*
 * SIGTERM, wait up to timeout_ms; returns the exit code (0 = graceful), or negative.
 * Frees the collected log (its tail is printed as diagnostics when the exit was not 0).
 */
int tc_daemon_stop(struct tc_daemon *d, int timeout_ms);
/* Copy of the daemon output collected so far (caller frees). */
char *tc_daemon_log(struct tc_daemon *d);
/* Number of open fds of the daemon (from /proc), or negative errno. */
int tc_daemon_nfds(struct tc_daemon *d);
/* Print the tail of the daemon log as TAP diagnostics. */
void tc_daemon_dump(struct tc_daemon *d, size_t tail);

/* ---- a received PDU ---- */
struct tc_pdu {
	uint8_t *raw;       /* the whole PDU, plen bytes */
	uint32_t plen;
	struct nvme_tcp_hdr hdr;
	uint8_t *data;      /* data section (pdo .. pdo+datalen) or NULL */
	uint32_t datalen;
	int hdgst;          /* -1 absent, 0 bad, 1 good */
	int ddgst;          /* -1 absent, 0 bad, 1 good */
};
void tc_pdu_free(struct tc_pdu *p);

/* ---- one command ---- */
struct tc_cmd {
	struct nvme_sqe sqe;
	const void *wbuf;   /* host→controller data */
	uint32_t wlen;
	bool incapsule;     /* send wbuf inside the capsule instead of waiting for R2T */
	void *rbuf;         /* controller→host data */
	uint32_t rlen;
	/* knobs for misbehaving on purpose */
	bool raw_sqe;       /* do not touch cid/flags/SGL: send sqe exactly as given */
	uint32_t h2c_split; /* max bytes per H2CData PDU (0: maxh2cdata) */
	int ttag_delta;     /* added to the R2T ttag in our H2CData */
	int cccid_delta;    /* added to the CID in our H2CData */
	int datao_delta;    /* added to datao of the first H2CData */
	uint32_t datal_extra; /* extra bytes appended to the last H2CData of an R2T */
	bool bad_ddgst;     /* corrupt data digest on the data we send */
	bool bad_hdgst;     /* corrupt header digest of the capsule */
	bool no_last;       /* omit DATA_LAST on H2CData */
	bool defer_r2t;     /* record R2Ts (r2t_*) and let the test send H2CData via tc_h2c */
	/* results */
	bool done;
	bool got_rsp;       /* a CapsuleResp arrived */
	bool c2h_success;   /* completed by C2HData SUCCESS */
	struct nvme_cqe cqe;
	uint16_t status;    /* libnvme encoding */
	int n_c2h, n_r2t, n_h2c;
	uint32_t c2h_bytes, r2t_bytes;
	uint16_t r2t_ttag;  /* last R2T received */
	uint32_t r2t_off, r2t_len;
	uint8_t last_c2h_flags;
	int digest_errs;    /* bad digests seen on PDUs of this command */
};

/* ---- a connection (one NVMe/TCP queue) ---- */
struct tc_conn {
	int fd;
	bool hdgst, ddgst;  /* negotiated */
	uint32_t maxh2cdata;
	uint8_t cpda;
	uint16_t qid;
	uint16_t cntlid;
	uint16_t sqsize;
	bool sqflow_disabled;
	uint16_t next_cid;
	uint16_t last_sqhd;
	struct tc_cmd *inflight[TC_MAX_CID];
	int proto_errs;     /* malformed/unexpected PDUs from the target */
	char proto_msg[256];
	bool got_term;      /* a C2HTermReq arrived */
	uint16_t term_fes;
	uint32_t term_fei;
	uint8_t term_data[NVME_TCP_TERM_MAX_DATA];
	uint32_t term_datalen;
	uint32_t term_plen;
	uint8_t term_hlen;
	bool closed;        /* peer closed the connection */
	/* send shaping for robustness tests */
	uint32_t send_chunk; /* >0: at most this many bytes per send() (dribble) */
	bool batching;      /* tc_send appends to batch until tc_flush (coalesce PDUs) */
	uint8_t *batch;
	size_t batch_len, batch_cap;
};

/* TCP connect to 127.0.0.1:port with timeouts (no ICReq). */
int tc_open(struct tc_conn *c, int port);
/* Same to a literal IPv4 or IPv6 address ("::1"). */
int tc_open_addr(struct tc_conn *c, const char *addr, int port);
void tc_close(struct tc_conn *c);
int tc_send(struct tc_conn *c, const void *buf, size_t len);
/* Send what accumulated while c->batching was set, in one send() where the kernel allows. */
int tc_flush(struct tc_conn *c);
/* Read exactly len bytes; -ECONNRESET on EOF, -ETIMEDOUT on timeout. */
int tc_recv_exact(struct tc_conn *c, void *buf, size_t len);
/* Wait until the peer closes (EOF/RST) within timeout_ms: 0 closed, -ETIMEDOUT, or
 * -EPROTO if data came instead. */
int tc_wait_closed(struct tc_conn *c, int timeout_ms);

/* The ICReq tc_icreq_raw sends (MAXR2T 0), for tests that send or compare it themselves. */
void tc_icreq_pdu(struct nvme_tcp_icreq_pdu *req, uint16_t pfv, uint8_t hpda, uint8_t digest);
/* Send ICReq with the given digest bits/pfv/hpda; store and return ICResp fields. */
int tc_icreq_raw(struct tc_conn *c, uint16_t pfv, uint8_t hpda, uint8_t digest,
		 struct nvme_tcp_icresp_pdu *resp);
int tc_icreq(struct tc_conn *c, uint8_t digest, struct nvme_tcp_icresp_pdu *resp);

/* Receive one PDU, checking digests per negotiated settings. */
int tc_recv_pdu(struct tc_conn *c, struct tc_pdu *p);
/* Expect a C2HTermReq followed by close; fills c->term_* and returns 0. */
int tc_expect_term(struct tc_conn *c);

/* Commands */
void tc_cmd_init(struct tc_cmd *cmd, uint8_t opcode, uint32_t nsid);
int tc_submit(struct tc_conn *c, struct tc_cmd *cmd);
/* Process one incoming PDU (completions, R2T, data). */
int tc_poll(struct tc_conn *c);
int tc_wait(struct tc_conn *c, struct tc_cmd *cmd);
/* Wait until cmd has an R2T recorded (defer_r2t) or is done. */
int tc_wait_r2t(struct tc_conn *c, struct tc_cmd *cmd);
/* Send one H2CData PDU with cmd's data [off, off+len) for its last R2T. */
int tc_h2c(struct tc_conn *c, struct tc_cmd *cmd, uint32_t off, uint32_t len, bool last);
/* Submit and wait: returns the NVMe status (>= 0) or negative errno. */
int tc_exec(struct tc_conn *c, struct tc_cmd *cmd);
/*
 * Submit cmds[0..n) back to back (in one send() when c->batching), then wait for each:
 * 0 when all completed with status 0, else the first negative errno or status.
 */
int tc_exec_all(struct tc_conn *c, struct tc_cmd *cmds, int n);

/* Fabrics */
struct tc_connect_args {
	uint16_t recfmt, qid, sqsize, cntlid;
	uint8_t cattr;
	uint32_t kato;
	const char *subnqn, *hostnqn;
	const uint8_t *hostid; /* 16 bytes; NULL: tclient's own */
};
void tc_connect_args_default(struct tc_connect_args *a, uint16_t qid, uint16_t cntlid);
/* Returns status; *cqe gets the full response. Sets c->cntlid/qid on success. */
int tc_fabrics_connect(struct tc_conn *c, const struct tc_connect_args *a, struct nvme_cqe *cqe);
int tc_prop_get(struct tc_conn *c, uint32_t off, bool eight, uint64_t *val);
int tc_prop_set(struct tc_conn *c, uint32_t off, bool eight, uint64_t val);
/* CC.EN=1 (IOSQES 6, IOCQES 4, CSS from arg) and wait for CSTS.RDY. */
int tc_enable(struct tc_conn *c, uint32_t css);
/* Wait for (CSTS & mask) == want with timeout. */
int tc_wait_csts(struct tc_conn *c, uint32_t mask, uint32_t want, int timeout_ms);

/* Admin helpers: return status or negative errno */
int tc_identify(struct tc_conn *c, uint8_t cns, uint32_t nsid, uint8_t csi, void *buf4k);
int tc_get_log(struct tc_conn *c, uint8_t lid, uint32_t nsid, uint64_t off, void *buf,
	       uint32_t len);
int tc_get_features(struct tc_conn *c, uint8_t fid, uint32_t cdw11, uint32_t *dw0);
int tc_set_features(struct tc_conn *c, uint8_t fid, uint32_t cdw11, uint32_t *dw0);
int tc_keep_alive(struct tc_conn *c);

/* Session helpers: TCP + ICReq + Connect (+ enable for admin). Return 0 or error. */
int tc_admin_session(struct tc_conn *c, int port, uint8_t digest, uint32_t kato,
		     const char *subnqn);
int tc_io_session(struct tc_conn *c, int port, uint8_t digest, uint16_t cntlid, uint16_t qid,
		  uint16_t sqsize, uint8_t cattr);

/* NVM I/O: opcode 0x01 write / 0x02 read / 0x05 compare; len bytes for nlb blocks. */
int tc_rw(struct tc_conn *c, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb,
	  void *buf, uint32_t len, bool incapsule);
/* The same command prepared in cmd (not in-capsule) for a test to adjust and submit itself. */
void tc_rw_cmd(struct tc_cmd *cmd, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb,
	       void *buf, uint32_t len);

/* Deterministic pattern fill for data checks. */
void tc_fill(void *buf, size_t len, uint32_t seed);
/* Offset of the first differing byte, or -1 if equal. */
long tc_memdiff(const void *a, const void *b, size_t len);
uint64_t tc_now_ms(void);

#endif
