/* SPDX-License-Identifier: MIT */
/* Counting completed I/O commands on the data path, and summing the counters elsewhere. */
#include "stats.h"

#include <string.h>
#include <time.h>

#include "cmd/health.h"
#include "core/queue.h"
#include "core/req.h"
#include "ctrl.h"
#include "ns/ns.h"
#include "target.h"
#include "worker.h"

#define NVME_OPC_WRITE 0x01
#define NVME_OPC_READ 0x02

uint64_t stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t stats_bucket_us(unsigned i)
{
	return i + 1 < STATS_LAT_BUCKETS ? 1ull << i : 0;
}

/* One writer: a relaxed load and store, no locked read-modify-write. */
static inline void stat_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}

static unsigned stats_bucket(uint64_t ns)
{
	uint64_t us = (ns + 999) / 1000;
	unsigned b = 0;

	if (us > 1)
		b = 64 - (unsigned)__builtin_clzll(us - 1); /* smallest b with 2^b >= us */
	return b < STATS_LAT_BUCKETS - 1 ? b : STATS_LAT_BUCKETS - 1;
}

/* Reads and writes of the NVM command set by opcode (a Compare or a DSM range list moves data
 * but reads or writes nothing); other command sets by the data direction. */
static enum stats_kind stats_kind_of(const struct req *req)
{
	if (!req->ns || req->ns->csi == NVR_CSI_NVM) {
		if (req->sqe.opcode == NVME_OPC_READ)
			return STATS_READ;
		if (req->sqe.opcode == NVME_OPC_WRITE)
			return STATS_WRITE;
		return STATS_OTHER;
	}
	return req->dir == REQ_DIR_C2H ? STATS_READ : req->dir == REQ_DIR_H2C ? STATS_WRITE : STATS_OTHER;
}

/* The backend failed, as opposed to a command the host got wrong. */
static bool stats_media_error(uint16_t status)
{
	unsigned sct = (status >> 8) & 7, sc = status & 0xff;

	return sct == 2 || (sct == 0 && sc == 0x06);
}

static void stats_count(struct io_stats *s, enum stats_kind k, uint16_t status, uint32_t bytes)
{
	stat_add(&s->cmds[k], 1);
	if (status) {
		stat_add(&s->errors, 1);
		if (stats_media_error(status))
			stat_add(&s->media_errors, 1);
	} else {
		stat_add(&s->bytes[k], bytes);
	}
}

static void stats_latency(struct io_stats *s, uint64_t lat_ns)
{
	stat_add(&s->lat_sum_ns, lat_ns);
	stat_add(&s->lat[stats_bucket(lat_ns)], 1);
}

void stats_io_done(struct req *req, uint16_t status)
{
	struct nvr_queue *q = req->q;
	enum stats_kind k = stats_kind_of(req);
	uint32_t bytes = req->dir == REQ_DIR_C2H ? req->xfer_len : req->data_len;

	if (req->dir == REQ_DIR_NONE)
		bytes = 0;
	stats_count(&q->stats, k, status, bytes);
	if (req->ns)
		stats_count(&req->ns->stats[q->w->id].st, k, status, bytes);
	if (status && q->ctrl)
		health_record_error(q->ctrl, req, status);
	req->lat_pending = true;
}

void stats_io_sent(struct req *req, uint64_t now_ns)
{
	struct nvr_queue *q = req->q;
	uint64_t lat = now_ns > req->start_ns ? now_ns - req->start_ns : 0;

	req->lat_pending = false;
	stats_latency(&q->stats, lat);
	if (req->ns)
		stats_latency(&req->ns->stats[q->w->id].st, lat);
}

void stats_sum(struct io_totals *sum, const struct io_stats *s)
{
	for (unsigned k = 0; k < STATS_NR_KINDS; k++) {
		sum->cmds[k] += atomic_load_explicit(&s->cmds[k], memory_order_relaxed);
		sum->bytes[k] += atomic_load_explicit(&s->bytes[k], memory_order_relaxed);
	}
	sum->errors += atomic_load_explicit(&s->errors, memory_order_relaxed);
	sum->media_errors += atomic_load_explicit(&s->media_errors, memory_order_relaxed);
	sum->lat_sum_ns += atomic_load_explicit(&s->lat_sum_ns, memory_order_relaxed);
	for (unsigned i = 0; i < STATS_LAT_BUCKETS; i++)
		sum->lat[i] += atomic_load_explicit(&s->lat[i], memory_order_relaxed);
}

void stats_sum_totals(struct io_totals *sum, const struct io_totals *t)
{
	for (unsigned k = 0; k < STATS_NR_KINDS; k++) {
		sum->cmds[k] += t->cmds[k];
		sum->bytes[k] += t->bytes[k];
	}
	sum->errors += t->errors;
	sum->media_errors += t->media_errors;
	sum->lat_sum_ns += t->lat_sum_ns;
	for (unsigned i = 0; i < STATS_LAT_BUCKETS; i++)
		sum->lat[i] += t->lat[i];
}

void stats_ns(const struct nvr_ns *ns, struct io_totals *sum)
{
	unsigned n = ns->tgt && ns->tgt->nr_workers ? ns->tgt->nr_workers : 1;

	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; ns->stats && i < n; i++)
		stats_sum(sum, &ns->stats[i].st);
}

void stats_ctrl_locked(const struct nvr_ctrl *ctrl, struct io_totals *sum)
{
	memset(sum, 0, sizeof(*sum));
	stats_sum_totals(sum, &ctrl->stats_gone);
	for (unsigned qid = 1; qid <= NVR_MAX_IO_QUEUES; qid++)
		if (ctrl->queues[qid])
			stats_sum(sum, &ctrl->queues[qid]->stats);
}

void stats_ctrl(struct nvr_ctrl *ctrl, struct io_totals *sum)
{
	pthread_mutex_lock(&ctrl->tgt->lock);
	stats_ctrl_locked(ctrl, sum);
	pthread_mutex_unlock(&ctrl->tgt->lock);
}
