/* SPDX-License-Identifier: MIT */
/*
 * A namespace and its kind. Every kind (mem and file block devices, passthrough drives, KV
 * stores, RBD images and KV on RADOS) implements struct nvr_ns_ops; nothing outside a
 * kind's own file asks which kind a namespace is.
 *
 * Lifetime: a namespace is published in its subsystem's table (registry.h). A command takes
 * a reference in req_init (ns_get) and drops it when the request is released (ns_put); the
 * references are per worker, so taking one touches no shared cache line. Removal unpublishes,
 * waits until every worker has passed a quiescent point and dropped its last reference, then
 * closes the namespace.
 */
#ifndef NVRING_NVRINGD_NS_NS_H
#define NVRING_NVRINGD_NS_NS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "kvstore/kvstore.h"
#include "stats.h"

struct cfg_ns;
struct nvme_id_ns;
struct reg_wait;
struct req;
struct resv_ns;
struct target;
struct worker;

enum nvr_ns_csi {
	NVR_CSI_NVM = 0,
	NVR_CSI_KV = 1,
};

struct nvr_ns;

/* An asynchronous flush of one namespace (shutdown notification, broadcast Flush). */
struct ns_flush {
	union {
		struct be_io io;
		struct kvs_io kv;
	};
	void (*done)(struct ns_flush *f, bool ok);
};

struct nvr_ns_ops {
	const char *kind;
	/* The kind stores data and takes the reservation commands with nvringd's own state
	 * (resv_ns.h); false: a passthrough drive answers them itself. */
	bool reservations;
	/* Data direction of an I/O opcode (enum req_dir; 3 bidirectional: refused). */
	int (*io_dir)(const struct nvr_ns *ns, uint8_t opcode);
	/* Set req->execute (and req->aux_need, req->zero_copy) and run the checks that need no
	 * data: 0 or the status the command completes with. */
	uint16_t (*parse)(struct req *req);
	/* Identify Namespace (CNS 00h) of a namespace whose CSI is NVM. */
	void (*identify_nvm)(const struct nvr_ns *ns, struct nvme_id_ns *id);
	/* I/O command set specific Identify Namespace (CNS 05h) for the namespace's CSI. */
	void (*identify_csi)(const struct nvr_ns *ns, void *buf);
	/* The I/O commands it executes (Identify Controller ONCS bits). */
	uint16_t (*oncs)(const struct nvr_ns *ns);
	/* Largest transfer as Identify MDTS (4 KiB units); NULL: no limit of its own. */
	uint8_t (*mdts)(const struct nvr_ns *ns);
	/* Make written data durable on ex; f->done exactly once (maybe inline). NULL: nothing to flush. */
	void (*flush)(struct nvr_ns *ns, struct executor *ex, struct ns_flush *f);
	/* Synchronous flush at stop (may block). */
	int (*flush_sync)(struct nvr_ns *ns);
	/* Grow or shrink to `bytes` while I/O runs; NULL: this kind cannot. */
	int (*resize)(struct nvr_ns *ns, uint64_t bytes, char *err, size_t errlen);
	/* Event-loop hook (KV garbage collection); NULL: none. */
	void (*poll)(struct nvr_ns *ns, struct executor *ex);
	/* No internal I/O in flight (safe to stop the workers). */
	bool (*idle)(const struct nvr_ns *ns);
	/* Release everything (may block: control thread or stop). */
	void (*close)(struct nvr_ns *ns);
	/* A request whose data the kind lent (req->zero_copy) is released: give it back. NULL:
	 * nothing to give back (RAM blocks stay where they are). */
	void (*release)(struct req *req);
};

/* One worker's references, on a cache line of its own. */
struct ns_wref {
	uint64_t n;
	bool drain;          /* removal waits for this worker's count to reach 0 */
	char pad[64 - sizeof(uint64_t) - sizeof(bool)];
};

/* One worker's I/O counters of a namespace, on cache lines of their own. */
union ns_wstats {
	struct io_stats st;
	char lines[5 * 64];
};
_Static_assert(sizeof(struct io_stats) <= sizeof(union ns_wstats), "ns_wstats too small");

struct nvr_ns {
	const struct nvr_ns_ops *ops;
	void *priv;           /* the kind's state */
	uint32_t nsid;
	enum nvr_ns_csi csi;
	bool readonly;
	bool vwc;             /* volatile write cache: Flush needed for durability */
	unsigned lba_shift;   /* NVM: 9 or 12 */
	_Atomic uint64_t nlba; /* NVM: size in logical blocks (resize changes it) */
	uint8_t uuid[16];
	uint8_t nguid[16];
	uint8_t eui64[8];
	uint32_t anagrpid;    /* ANA group (config ana_grpid, default 1); fixed while published */
	struct resv_ns *resv; /* reservations kept here (kinds with ops->reservations), or NULL */
	bool big_sqe;         /* needs SQE128|CQE32 rings (passthrough): only at start */

	/* registry */
	struct target *tgt;
	struct ns_wref *refs; /* [nr_workers] */
	union ns_wstats *stats; /* [nr_workers] */
	struct reg_wait *drain_wait; /* removal in progress: acknowledged by ns_put */
};

/* Open a namespace of the kind cn->kind into ns (blocking: start-up or control thread). */
int ns_open(struct target *tgt, struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen);
/* Close and free (after removal drained it, or at stop). */
void ns_destroy(struct nvr_ns *ns);

static inline uint64_t ns_nlba(const struct nvr_ns *ns)
{
	return atomic_load_explicit(&ns->nlba, memory_order_relaxed);
}

/* The kinds (each in its own file). */
int ns_block_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen);
int ns_kv_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen);
int ns_passthru_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen);
int ns_rbd_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen);
int ns_kv_rados_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen);

/* RAM namespaces: the address of byte `offset`, for zero-copy sends; NULL for other kinds. */
void *ns_mem_ptr(const struct nvr_ns *ns, uint64_t offset);

#endif
