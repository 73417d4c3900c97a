/* SPDX-License-Identifier: MIT */
/*
 * I/O counters per namespace (one set per worker) and per queue (summed per controller).
 * Each set has one writer, the worker the commands complete on, which updates it with relaxed
 * atomic loads and stores (plain moves on x86: no locked instruction, no shared cache line);
 * readers on other threads (control plane, metrics, SMART on an admin worker) load them
 * relaxed and sum. Counters only grow.
 */
#ifndef NVRING_NVRINGD_STATS_H
#define NVRING_NVRINGD_STATS_H

#include <stdatomic.h>
#include <stdint.h>

struct nvr_ctrl;
struct nvr_ns;
struct req;

/* Latency histogram: bucket i counts commands that took at most 2^i microseconds (i < LAST);
 * the last bucket everything slower than 2^(STATS_LAT_BUCKETS - 2) us (about 16.8 s). */
#define STATS_LAT_BUCKETS 26

enum stats_kind { STATS_READ, STATS_WRITE, STATS_OTHER, STATS_NR_KINDS };

struct io_stats {
	_Atomic uint64_t cmds[STATS_NR_KINDS];
	_Atomic uint64_t bytes[STATS_NR_KINDS]; /* data moved by successful commands */
	_Atomic uint64_t errors;       /* completed with a status other than success */
	_Atomic uint64_t media_errors; /* of those: the backend failed (media, internal error) */
	_Atomic uint64_t lat_sum_ns;
	_Atomic uint64_t lat[STATS_LAT_BUCKETS];
};

/* A plain sum of counter sets, for reporting. */
struct io_totals {
	uint64_t cmds[STATS_NR_KINDS];
	uint64_t bytes[STATS_NR_KINDS];
	uint64_t errors, media_errors, lat_sum_ns;
	uint64_t lat[STATS_LAT_BUCKETS];
};

/* CLOCK_MONOTONIC nanoseconds (vDSO: no system call). */
uint64_t stats_now_ns(void);
/* Upper bound of bucket i in microseconds (the last bucket has none: 0). */
uint64_t stats_bucket_us(unsigned i);

/*
 * The queue's worker: an I/O command completed with status (req_complete); its latency is
 * counted when its response leaves, stats_io_sent.
 */
void stats_io_done(struct req *req, uint16_t status);
/*
 * The transport handed the response of a completed I/O command to the wire (or dropped it) at
 * now_ns: the latency histogram counts from the worker pass that received the capsule to
 * here. A transport reads the clock once per gathered send, not once per command.
 */
void stats_io_sent(struct req *req, uint64_t now_ns);

/* Any thread: add a counter set (relaxed loads) / a sum into sum. */
void stats_sum(struct io_totals *sum, const struct io_stats *s);
void stats_sum_totals(struct io_totals *sum, const struct io_totals *t);
/* A namespace's counters, all workers. */
void stats_ns(const struct nvr_ns *ns, struct io_totals *sum);
/* A controller's counters: its live I/O queues and those gone before (takes tgt->lock). */
void stats_ctrl(struct nvr_ctrl *ctrl, struct io_totals *sum);
void stats_ctrl_locked(const struct nvr_ctrl *ctrl, struct io_totals *sum); /* tgt->lock held */

#endif
