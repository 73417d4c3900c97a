/* SPDX-License-Identifier: MIT */
/*
 * A namespace's persistent-reservation state in the daemon (the rules are resv.h's).
 *
 * Serialisation: one mutex per namespace. A host's queues sit on several workers, so the
 * reservation commands of one namespace arrive on several threads; they are rare and each is a
 * few microseconds of pure computation, so a lock is simpler and cheaper than routing them to an
 * owner worker (which would also need a cross-thread hop for every conflict check). The I/O
 * path takes the lock only while a reservation is held: `rtype` mirrors rs.rtype, and with no
 * reservation no command can conflict.
 *
 * Persistence: with PTPL on, every change is written to PATH.resv (PATH: the namespace's file)
 * on the offload thread, in the order of the changes (one thread, FIFO, queued under the lock),
 * and the command completes once the file is durable. RAM namespaces have no state file: PTPL
 * is not offered (RESCAP bit 0 clear, Set Features 0x83 and CPTPL refused).
 */
#ifndef NVRING_NVRINGD_RESV_NS_H
#define NVRING_NVRINGD_RESV_NS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "offload.h"
#include "resv.h"

struct executor;
struct nvr_ns;

struct resv_ns {
	pthread_mutex_t lock;
	struct resv rs;        /* under lock */
	_Atomic uint8_t rtype; /* rs.rtype, written under lock, read by the I/O path without it */
	char *path;            /* the state file; NULL: no persistence */
};

/* A write of the state file, queued by resv_ns_save_locked; `done` runs on ex's thread. */
struct resv_save {
	struct offload_job job;
	struct resv snap;
	const char *path;
	int rc;
	char err[256];
	void (*done)(struct resv_save *sv);
};

/*
 * Give ns a reservation state. backing_path: the namespace's file (NULL: RAM, not persistent);
 * a block device gets no state file either (/dev is no place for it). Loads PATH.resv if it
 * exists: a corrupt one refuses the namespace (-EINVAL, err says why). Blocks.
 */
int resv_ns_open(struct nvr_ns *ns, const char *backing_path, char *err, size_t errlen);
void resv_ns_close(struct nvr_ns *ns);

/* I/O path: 0, or Reservation Conflict for a command of this host on ns. */
uint16_t resv_ns_io_check(struct nvr_ns *ns, const uint8_t hostid[RESV_HOSTID_LEN], bool admin, uint8_t opcode);

/* After a change, under rn->lock: publish rtype; with out->save and a state file, queue the
 * write (true: sv->done will run on ex's thread). */
bool resv_ns_changed_locked(struct resv_ns *rn, const struct resv_outcome *out, struct resv_save *sv,
			    struct executor *ex);

#endif
