/* SPDX-License-Identifier: MIT */
/*
 * NVMe persistent reservations of one namespace (NVMe Base 2.0 section 8.19, NVM Command Set
 * Reservation Register/Acquire/Release/Report), as pure functions over a plain struct:
 * no I/O, no locks, no allocation, no clock. Every command entry point takes the raw CDW10/CDW11
 * and the command's data and returns the exact NVMe status ((SCT << 8) | SC, DNR 0x4000).
 *
 * Host identity is the 16-byte extended Host Identifier of the controller that carries the
 * command (NVMe-oF Connect HOSTID): registrations belong to the host, so every controller of
 * that host shares them. The caller maps events on hosts to its controllers with resv_fanout().
 *
 * Threading: the struct is plain data (memcpy makes a snapshot). Commands that mutate it must be
 * serialized by the caller (e.g. a mutex per namespace; reservation commands are rare), and
 * resv_check() on the I/O path reads either under that lock or from a published copy.
 * Nothing here blocks except resv_save_file() / resv_load_file() (file I/O, fsync).
 */
#ifndef NVRING_NVRINGD_RESV_H
#define NVRING_NVRINGD_RESV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RESV_HOSTID_LEN 16
/* Registrants per namespace. Register beyond this fails with Internal Error (no DNR). */
#define RESV_MAX_REGISTRANTS 64

/* Data transferred by the reservation commands (host to controller). */
#define RESV_REGISTER_DATA_LEN 16 /* CRKEY, NRKEY */
#define RESV_ACQUIRE_DATA_LEN 16  /* CRKEY, PRKEY */
#define RESV_RELEASE_DATA_LEN 8   /* CRKEY */

/* Asynchronous event for a new Reservation Notification log entry (type 6, info 0, log 0x80). */
#define RESV_AEN_RESULT 0x00800006u

struct resv_registrant {
	uint8_t hostid[RESV_HOSTID_LEN];
	uint64_t rkey;
};

struct resv {
	uint32_t nsid;        /* written into notification log entries */
	bool ptpl_capable;    /* RESCAP bit 0: the caller keeps a state file for this namespace */
	bool ptpl;            /* PTPLS: Persist Through Power Loss state */
	uint8_t notify_mask;  /* Set Features 0x82: NVME_FEAT_RESV_NOTIFY_* bits that are masked */
	uint8_t rtype;        /* current reservation type (enum nvme_resv_rtype), 0 = none */
	int holder;           /* index into regs of the holder (WE, EA, registrants-only types), else -1 */
	uint32_t gen;         /* Reservation Status GEN */
	unsigned nregs;       /* registrants in regs[0..nregs), in registration order */
	struct resv_registrant regs[RESV_MAX_REGISTRANTS];
};

/* One host affected by a command: a notification to post (0 = none or masked) and/or an abort. */
struct resv_event {
	uint8_t hostid[RESV_HOSTID_LEN];
	uint8_t rnlpt;        /* enum nvme_resv_notify_rnlpt, after the namespace's mask */
	bool abort;           /* Preempt and Abort: abort this host's commands on the namespace */
};

struct resv_outcome {
	/* The persistent state changed and PTPL is (or just was) on: save it (resv_serialize). */
	bool save;
	unsigned nevents;     /* at most one event per host, never for the issuing host */
	struct resv_event events[RESV_MAX_REGISTRANTS];
};

/* Empty state: no registrants, no reservation, PTPL off, nothing masked. */
void resv_init(struct resv *rs, uint32_t nsid, bool ptpl_capable);

/*
 * Reservation Register (0x0D): RREGA register / unregister / replace, IEKEY, CPTPL.
 * Reservation Acquire (0x11): RACQA acquire / preempt / preempt-and-abort, RTYPE.
 * Reservation Release (0x15): RRELA release / clear, RTYPE.
 * `data`/`len` is the command's data (at least the *_DATA_LEN above, else Data SGL Length
 * Invalid). `out` is always filled (no events, save false on failure).
 */
uint16_t resv_register(struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN], uint32_t cdw10,
		       const void *data, size_t len, struct resv_outcome *out);
uint16_t resv_acquire(struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN], uint32_t cdw10,
		      const void *data, size_t len, struct resv_outcome *out);
uint16_t resv_release(struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN], uint32_t cdw10,
		      const void *data, size_t len, struct resv_outcome *out);

/*
 * Reservation Report (0x0E): the transfer length the host asked for, (NUMD + 1) * 4 bytes; the
 * caller bounds it by the SGL length and MDTS before allocating.
 */
uint64_t resv_report_len(uint32_t cdw10);
/*
 * Fill buf[0..len) with the Reservation Status Extended Data Structure (CDW11 bit 0 EDS = 1),
 * truncated to len and zero-padded past its end; REGCTL counts every registrant. One Registered
 * Controller entry per registrant host with CNTLID FFFFh (dynamic controller model). EDS = 0 asks
 * for 64-bit host identifiers, which NVMe-oF hosts do not have: Host Identifier Inconsistent
 * Format.
 */
uint16_t resv_report(const struct resv *rs, uint32_t cdw11, void *buf, size_t len);

/* Which column of the spec's "Command Behavior in the Presence of a Reservation" a command is in. */
enum resv_class {
	RESV_CLASS_OTHER = 0, /* never conflicts (Identify, Get Log Page, reservation commands...) */
	RESV_CLASS_READ,      /* read command group */
	RESV_CLASS_WRITE,     /* write command group */
};
/*
 * Classify a command that names this namespace. csi: 0 NVM, 1 KV (ignored for admin commands).
 * The Samsung KV-SSD opcodes of kvssd-compat NVM namespaces are classified (retrieve, exist,
 * iterator open/read: reads; store, append, batch, delete: writes); other vendor-specific
 * opcodes (0x80-0xFF) count as writes unless their direction bits say controller-to-host.
 */
enum resv_class resv_classify(uint8_t csi, bool admin, uint8_t opcode);
/* 0, or Reservation Conflict (with DNR) for the commands the current reservation forbids this host. */
uint16_t resv_check(const struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN], enum resv_class cls);
/* True if the host is a registrant / holds the reservation (for WEAR/EAAR: any registrant). */
bool resv_is_registrant(const struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN]);
bool resv_is_holder(const struct resv *rs, const uint8_t hostid[RESV_HOSTID_LEN]);

/*
 * Set/Get Features for one namespace (NSID = FFFFFFFFh: the caller applies Set to every
 * namespace and fails Get with Invalid Field). Reservation Notification Mask (FID 0x82), CDW11
 * bits 1 REGPRE, 2 RESREL, 3 RESPRE. Reservation Persistence (FID 0x83), CDW11 bit 0 PTPL.
 * Reserved bits set, or PTPL on a namespace without a state file: Invalid Field.
 */
uint16_t resv_set_notify_mask(struct resv *rs, uint32_t cdw11);
uint32_t resv_get_notify_mask(const struct resv *rs);
uint16_t resv_set_persistence(struct resv *rs, uint32_t cdw11, struct resv_outcome *out);
uint32_t resv_get_persistence(const struct resv *rs);

/* Identify Namespace RESCAP (byte 31): all six types, IEKEY as of 1.3, PTPL if capable. */
uint8_t resv_rescap(const struct resv *rs);

/* A controller of the subsystem that has the namespace attached. */
struct resv_ctrl {
	uint16_t cntlid;
	uint8_t hostid[RESV_HOSTID_LEN];
};
/*
 * Call fn once per controller of an affected host: rnlpt is the notification to post to that
 * controller's log (0: none), abort asks to abort its outstanding commands on the namespace.
 */
typedef void (*resv_fanout_fn)(void *arg, uint16_t cntlid, uint8_t rnlpt, bool abort);
void resv_fanout(const struct resv_outcome *out, const struct resv_ctrl *ctrls, size_t nctrls,
		 resv_fanout_fn fn, void *arg);

/*
 * Reservation Notification log (LID 0x80) of one controller. LPC counts every notification
 * since the controller was created/reset (0 is skipped on wrap: it means "empty"). When the
 * queue is full, a new notification is not stored but raises the newest stored entry's LPC, so
 * the host sees the gap. After each post the caller raises RESV_AEN_RESULT on the controller.
 */
#define RESV_LOG_CAP 64
struct resv_log {
	uint64_t counter;
	unsigned head, count;
	struct {
		uint64_t lpc;
		uint32_t nsid;
		uint8_t rnlpt;
	} entries[RESV_LOG_CAP];
};
void resv_log_init(struct resv_log *log);
/* Queue one notification; false if the queue was full (only LPC advanced). */
bool resv_log_post(struct resv_log *log, uint8_t rnlpt, uint32_t nsid);
/* Get Log Page 0x80: write the 64-byte page for the oldest entry and drop it; all zeros if none. */
void resv_log_read(struct resv_log *log, void *page64);
unsigned resv_log_pending(const struct resv_log *log);

/*
 * Persistence (resv_persist.c). The state file holds GEN, PTPLS, the reservation and the
 * registrants (not the notification mask), with a CRC32C; layout in resv_persist.c.
 * resv_serialize/resv_deserialize do no I/O: a caller that must not block writes the bytes
 * itself (write temp file, fsync, rename over the old file, fsync the directory).
 */
#define RESV_FILE_MAX (24 + RESV_MAX_REGISTRANTS * 24 + 4)
/* Bytes written, or -ENOSPC if cap < the state's size (RESV_FILE_MAX always suffices). */
ssize_t resv_serialize(const struct resv *rs, void *buf, size_t cap);
/* Replace rs's persistent part with buf's; -EINVAL and a message in err on any inconsistency. */
int resv_deserialize(struct resv *rs, const void *buf, size_t len, char *err, size_t errlen);
/* BLOCKS: atomic replace of `path` (path.tmp, fsync, rename, fsync directory). 0 or -errno. */
int resv_save_file(const struct resv *rs, const char *path, char *err, size_t errlen);
/*
 * BLOCKS: load `path` into rs at namespace open. A missing file leaves rs as it is and returns 0;
 * a corrupt one returns -EINVAL (refuse to open the namespace), I/O errors -errno; err says why.
 */
int resv_load_file(struct resv *rs, const char *path, char *err, size_t errlen);

#endif
