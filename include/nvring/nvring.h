/* SPDX-License-Identifier: MIT */
/*
 * libnvring: a userspace NVMe/TCP host (initiator) on io_uring.
 *
 * Model: a controller (struct nvr_ctrl) owns an admin queue and N I/O queues; each queue is one
 * TCP connection driven by its own io_uring. Commands are submitted asynchronously with an
 * explicit data direction and a completion callback; nothing touches the socket until the
 * queue is polled, so many submissions go out in one sendmsg and one io_uring_enter.
 * A queue is single-threaded: use each queue from one thread at a time.
 *
 * Errors: functions return 0 / a count, or a negative errno (transport, timeout, protocol).
 * NVMe status travels separately in struct nvr_cpl.status, never mixed with errno.
 * The library prints nothing.
 */
#ifndef NVRING_NVRING_H
#define NVRING_NVRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NVR_DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"

struct nvr_ctrl;
struct nvr_queue;

/* Data direction of a command. Always given by the caller: vendor opcodes (e.g. Samsung KV
 * 0x90 retrieve) do not follow the NVMe opcode bits 1:0 convention. */
enum nvr_dir {
	NVR_DIR_NONE = 0,
	NVR_DIR_H2C = 1, /* host to controller (write) */
	NVR_DIR_C2H = 2, /* controller to host (read) */
};

/* A 64-byte submission queue entry as the NVMe spec lays it out (little-endian). CID, PSDT and
 * DPTR are owned by the library: whatever the caller puts there is replaced. */
struct nvr_sqe {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t dptr[2];
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

/* Completion of one command. err != 0: the command did not complete on the wire (negative
 * errno: -ETIMEDOUT, -ECONNRESET, -EPROTO, ...). err == 0: status is the NVMe status as
 * (SCT << 8) | SC plus NVR_STATUS_DNR / NVR_STATUS_MORE, 0 on success. */
struct nvr_cpl {
	int err;
	uint16_t status;
	uint32_t dw0;
	uint32_t dw1;
	uint32_t xfer_len; /* data bytes moved (C2H: bytes received) */
};

#define NVR_STATUS_DNR 0x4000
#define NVR_STATUS_MORE 0x2000
static inline unsigned nvr_status_sct(uint16_t st) { return (st >> 8) & 0x7; }
static inline unsigned nvr_status_sc(uint16_t st) { return st & 0xff; }
static inline bool nvr_status_dnr(uint16_t st) { return (st & NVR_STATUS_DNR) != 0; }

/* Name of an NVMe status (SCT/SC; DNR/More ignored), e.g. "LBA Out of Range" for 0x080.
 * Codes 0x80-0xBF mean different things per command kind, so say what the command was:
 * csi 0 NVM (or admin), 1 Key Value, NVR_STATUS_FABRICS for fabrics commands (Connect...).
 * Returns a static string; unknown codes give "Unknown". */
#define NVR_STATUS_FABRICS (-1)
const char *nvr_status_str(uint16_t status, int csi);

typedef void (*nvr_cb)(void *arg, const struct nvr_cpl *cpl);

/* NVMe/TCP TLS (TP 8011): TLS 1.3 with a pre-shared key around every queue's connection. */
enum nvr_tls_mode {
	NVR_TLS_OFF = 0,
	NVR_TLS_AUTO,      /* kernel TLS after the handshake when the kernel has it, else userspace */
	NVR_TLS_USERSPACE, /* records always encrypted in this process (OpenSSL) */
	NVR_TLS_KERNEL,    /* kernel TLS or fail (-ENOENT: no tls module) */
};

struct nvr_connect_opts {
	const char *traddr;  /* IPv4/IPv6 address or host name */
	const char *trsvcid; /* port; default "4420" ("8009" for discovery NQN) */
	const char *subnqn;  /* default NVR_DISC_NQN */
	const char *hostnqn; /* default derived from hostid */
	uint8_t hostid[16];  /* all-zero: derived from /etc/machine-id or random */
	bool hdgst;          /* request header digest */
	bool ddgst;          /* request data digest */
	bool disable_sqflow; /* Connect CATTR bit 2: allows C2HData SUCCESS, SQHD 0xFFFF */
	unsigned nr_io_queues;
	unsigned queue_size; /* I/O queue entries incl. the one kept empty; default 128 */
	unsigned kato_ms;    /* keep-alive timeout; 0 = none (see nvr_ctrl_keep_alive) */
	int timeout_ms;      /* connect and per-queue no-progress timeout; default 10000 */
	/* TLS: with tls != NVR_TLS_OFF, psk is required. The identity offered is derived
	 * ("NVMe<v>R<hh> <hostnqn> <subnqn>[ <digest>]") unless psk_identity gives one. */
	enum nvr_tls_mode tls;
	const char *psk;               /* configured PSK, interchange format "NVMeTLSkey-1:XX:...:" */
	const char *psk_identity;      /* NULL: derived */
	unsigned psk_identity_version; /* 0 (what Linux and SPDK look up) or 1 (TP 8018, with digest) */
	const char *psk_variant;       /* derivation: NULL/"rfc", "compat" (libnvme 1.7-1.15), "legacy" */
	/* NVMe in-band authentication (DH-HMAC-CHAP), secrets as "DHHC-1:XX:<base64>:" (nvme
	 * gen-dhchap-key). Every queue authenticates after its Connect when the controller asks
	 * (Connect DW0 ATR) and a host secret is given; with a controller secret the controller
	 * must prove its key too (bidirectional), and a queue whose controller does not ask for
	 * authentication authenticates anyway. Failures: -EACCES (the controller refused the host
	 * key, or asks for authentication and no secret was given), -EKEYREJECTED (the controller's
	 * response did not verify: the host sent AUTH_Failure2), -EPROTO (bad message), -EINVAL (a
	 * malformed secret), -ENOTSUP (secure channel concatenation required). */
	const char *dhchap_secret;
	const char *dhchap_ctrl_secret;
	/* Optional: on a failed connect, a message naming what failed (authentication, secrets). */
	char *errbuf;
	size_t errbuf_len;
};

/* Fill defaults. */
void nvr_connect_opts_init(struct nvr_connect_opts *opts);
/* TLS failures of nvr_ctrl_connect (besides -ETIMEDOUT, -ECONNRESET):
 *   -EPROTONOSUPPORT  TLS asked for but the target answered in plaintext, or plaintext asked
 *                     for but the target answered with TLS
 *   -ENOKEY           the target knows no PSK for the identity offered
 *   -EKEYREJECTED     the target's PSK differs (other key or other derivation)
 *   -ENOENT           NVR_TLS_KERNEL without kernel TLS
 *   -EINVAL           bad psk / psk_identity / psk_variant */

/* TCP connect + ICReq/ICResp + Connect on the admin queue, enable the controller (CC.EN,
 * wait CSTS.RDY), Identify Controller, then Set Features Number of Queues and connect
 * opts->nr_io_queues I/O queues. On an NVMe error during bring-up returns -EREMOTEIO and,
 * if status != NULL, stores the status there. */
int nvr_ctrl_connect(const struct nvr_connect_opts *opts, struct nvr_ctrl **out, uint16_t *status);

/* Normal shutdown (CC.SHN, wait CSTS.SHST complete, bounded by the timeout), close every queue,
 * free. Returns 0 or the first error seen while shutting down; the controller is freed anyway. */
int nvr_ctrl_disconnect(struct nvr_ctrl *ctrl);

struct nvr_queue *nvr_ctrl_admin_queue(struct nvr_ctrl *ctrl);
struct nvr_queue *nvr_ctrl_io_queue(struct nvr_ctrl *ctrl, unsigned idx); /* 0-based */
unsigned nvr_ctrl_nr_io_queues(const struct nvr_ctrl *ctrl);
/* Identify Controller data (4096 bytes, struct nvme_id_ctrl of <nvme/types.h>), read at connect. */
const void *nvr_ctrl_id(const struct nvr_ctrl *ctrl);
uint16_t nvr_ctrl_cntlid(const struct nvr_ctrl *ctrl);
uint64_t nvr_ctrl_cap(const struct nvr_ctrl *ctrl);
/* Largest transfer of one command in bytes (from MDTS; 0 = no limit reported). */
uint32_t nvr_ctrl_max_xfer(const struct nvr_ctrl *ctrl);
/* Send Keep Alive on the admin queue if half of KATO elapsed since the last one. Cheap to call often. */
int nvr_ctrl_keep_alive(struct nvr_ctrl *ctrl);

/* ---- asynchronous core ---- */

/* Queue a command. sqe: a 64-byte SQE (struct nvr_sqe; CID, PSDT and the SGL are filled by
 * the library). buf/len: data for dir (len 0 with NVR_DIR_NONE). The buffer must stay valid until
 * cb runs. Small writes go in-capsule when the controller allows (IOCCSZ), the rest by R2T.
 * Returns 0, -EBUSY (queue full: poll and retry), -EINVAL, or the queue's fatal error. */
int nvr_submit(struct nvr_queue *q, const void *sqe, enum nvr_dir dir, void *buf, uint32_t len,
	       nvr_cb cb, void *cb_arg);

/* Send what is queued and process whatever completed, without blocking. Returns the number of
 * callbacks run, or the queue's fatal error (callbacks of failed commands have run). */
int nvr_queue_poll(struct nvr_queue *q);

/* Like nvr_queue_poll but blocks until at least min_cpl callbacks ran, the queue idles, or
 * timeout_ms passes (-1: the queue timeout). A queue with commands outstanding and no progress
 * for its timeout fails with -ETIMEDOUT. Returns callbacks run or negative errno. */
int nvr_queue_wait(struct nvr_queue *q, unsigned min_cpl, int timeout_ms);

unsigned nvr_queue_depth(const struct nvr_queue *q);       /* max commands in flight */
unsigned nvr_queue_outstanding(const struct nvr_queue *q);
uint16_t nvr_queue_qid(const struct nvr_queue *q);
/* 0 while healthy, else the negative errno that failed it. For a C2HTermReq, *fes gets its FES. */
int nvr_queue_error(const struct nvr_queue *q, uint16_t *fes);
/* How the queue's bytes travel: NVR_TLS_OFF (plaintext), NVR_TLS_USERSPACE or NVR_TLS_KERNEL. */
enum nvr_tls_mode nvr_queue_tls(const struct nvr_queue *q);

/* ---- synchronous helpers: submit one command and wait. Return 0 on success, a positive NVMe
 * status (as in nvr_cpl.status) on NVMe error, or a negative errno. cpl may be NULL. ---- */
int nvr_exec(struct nvr_queue *q, const void *sqe, enum nvr_dir dir, void *buf, uint32_t len,
	     struct nvr_cpl *cpl);

int nvr_identify(struct nvr_queue *admin, uint8_t cns, uint8_t csi, uint32_t nsid, uint16_t cntid,
		 void *buf4k);
int nvr_get_log(struct nvr_queue *admin, uint8_t lid, uint32_t nsid, uint8_t lsp, uint64_t offset,
		void *buf, uint32_t len);
int nvr_get_features(struct nvr_queue *admin, uint8_t fid, uint8_t sel, uint32_t nsid, uint32_t cdw11,
		     void *buf, uint32_t len, uint32_t *result);
int nvr_set_features(struct nvr_queue *admin, uint8_t fid, uint32_t nsid, uint32_t cdw11, uint32_t cdw12,
		     bool save, void *buf, uint32_t len, uint32_t *result);
int nvr_prop_get(struct nvr_queue *admin, uint32_t offset, bool eight, uint64_t *value);
int nvr_prop_set(struct nvr_queue *admin, uint32_t offset, bool eight, uint64_t value);

/* NVM command set. nlb is the number of blocks (1-based); buf holds nlb * block size bytes. */
void nvr_sqe_rw(void *sqe, bool write, uint32_t nsid, uint64_t slba, uint32_t nlb);
int nvr_read(struct nvr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf, uint32_t len);
int nvr_write(struct nvr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb, const void *buf, uint32_t len);
int nvr_flush(struct nvr_queue *q, uint32_t nsid);
int nvr_write_zeroes(struct nvr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb);
/* Dataset Management deallocate: ranges is an array of 16-byte DSM ranges (cattr, nlb, slba). */
int nvr_dsm(struct nvr_queue *q, uint32_t nsid, uint32_t attr, void *ranges, uint32_t nr_ranges);

/* Key Value command set (CSI 1). Keys are 1..16 bytes. */
#define NVR_KV_STORE_MUST_EXIST 0x01
#define NVR_KV_STORE_MUST_NOT_EXIST 0x02
/* Build a KV SQE: opcode, key in CDW2-3/14-15, KL and options in CDW11, size in CDW10. */
int nvr_sqe_kv(void *sqe, uint8_t opcode, uint32_t nsid, const void *key, unsigned klen, uint8_t opts,
	       uint32_t size);
int nvr_kv_store(struct nvr_queue *q, uint32_t nsid, const void *key, unsigned klen, uint8_t opts,
		 const void *val, uint32_t vlen);
/* *vsize gets the full stored value size (CQE DW0), which may exceed len. */
int nvr_kv_retrieve(struct nvr_queue *q, uint32_t nsid, const void *key, unsigned klen, void *buf,
		    uint32_t len, uint32_t *vsize);
int nvr_kv_delete(struct nvr_queue *q, uint32_t nsid, const void *key, unsigned klen);
int nvr_kv_exist(struct nvr_queue *q, uint32_t nsid, const void *key, unsigned klen);
int nvr_kv_list(struct nvr_queue *q, uint32_t nsid, const void *key, unsigned klen, void *buf, uint32_t len);

/* ---- discovery ---- */
struct nvr_disc_entry {
	uint8_t trtype, adrfam, subtype, treq;
	uint16_t portid, cntlid, asqsz;
	char trsvcid[33];
	char traddr[257];
	char subnqn[257];
};
/* Read the whole discovery log (LID 0x70, re-reading while GENCTR changes). On success *entries is
 * a malloc'd array the caller frees, *nr its length. */
int nvr_discover(struct nvr_queue *admin, struct nvr_disc_entry **entries, unsigned *nr, uint64_t *genctr);

#ifdef __cplusplus
}
#endif
#endif
