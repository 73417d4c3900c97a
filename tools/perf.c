/* SPDX-License-Identifier: MIT */
/*
 * nvring perf: closed-loop load generator. Each thread owns some I/O queues; each queue keeps QD
 * slots in flight, and a completion callback resubmits its slot at once, so submissions batch
 * into the next poll. All buffers and slots are allocated up front: nothing is malloc'd per I/O.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hist.h"
#include "spec/nvme_cmd.h"
#include "spec/nvme_kv.h"

struct perf_cfg {
	uint32_t qd, seconds, queues, threads, nsid, read_pct, keys, seed, key_size;
	uint64_t bs, vsize;
	const char *pattern;
	bool random, verify, busy_poll, kv, json;
	uint32_t lba_size;
	uint64_t ns_blocks;
};

struct perf_q;

struct perf_slot {
	struct perf_q *pq;
	uint8_t *buf;
	uint64_t t0;
	uint64_t unit; /* I/O unit (bs) index within the namespace, or key index */
	bool write;
	bool strict; /* verify: the unit was written before this read was sent */
};

struct perf_thread;

struct perf_q {
	struct perf_thread *t;
	struct nvr_queue *q;
	struct perf_slot *slots;
	uint64_t lo, hi, cursor; /* unit range owned by this queue */
	uint64_t *written;       /* verify: one bit per unit */
	uint64_t rng;
	unsigned inflight;
};

struct perf_thread {
	pthread_t tid;
	const struct perf_cfg *cfg;
	struct perf_q *qs;
	unsigned nq;
	struct hist hist;
	uint64_t ios, bytes, reads, writes, errors, verify_fail, misses;
	int first_err;
	uint8_t *tmp; /* verify scratch: one block or value */
	_Atomic uint64_t pub_ios, pub_bytes, pub_lat;
	uint64_t lat_sum;
};

static atomic_bool perf_stop;

static uint64_t perf_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t perf_rand(uint64_t *s)
{
	uint64_t x = *s; /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* ---- verify pattern: every block (or KV value) starts with {unit id, seed}, then words derived from both ---- */

static void perf_fill(uint8_t *p, uint64_t len, uint64_t id, uint64_t seed)
{
	uint64_t *w = (uint64_t *)p, n = len / 8;

	w[0] = id;
	w[1] = seed;
	for (uint64_t i = 2; i < n; i++)
		w[i] = (id * 0x9E3779B97F4A7C15ull) ^ (seed + i * 0xBF58476D1CE4E5B9ull);
}

/* Only blocks whose write completed before the read was sent are checked (strict): anything else
 * may hold data from before this run, like fio's verify. */
static bool perf_check(const uint8_t *p, uint64_t len, uint64_t id, uint64_t seed, bool strict, uint8_t *tmp)
{
	if (!strict)
		return true;
	perf_fill(tmp, len, id, seed);
	return !memcmp(p, tmp, len);
}

/* ---- submission ---- */

static void perf_cb(void *arg, const struct nvr_cpl *cpl);

static int perf_submit(struct perf_slot *s)
{
	struct perf_q *pq = s->pq;
	const struct perf_cfg *cfg = pq->t->cfg;
	struct nvme_sqe sqe;
	uint64_t span = pq->hi - pq->lo;
	uint32_t len;
	enum nvr_dir dir;

	s->write = (perf_rand(&pq->rng) % 100) >= cfg->read_pct;
	if (cfg->random) {
		s->unit = pq->lo + perf_rand(&pq->rng) % span;
	} else {
		s->unit = pq->cursor++;
		if (pq->cursor >= pq->hi)
			pq->cursor = pq->lo;
	}
	s->strict = cfg->verify && !s->write && (pq->written[s->unit / 64] >> (s->unit % 64) & 1);
	if (cfg->kv) {
		uint64_t key[2] = { s->unit, 0 }; /* the key index, zero-padded to key_size */

		len = (uint32_t)cfg->vsize;
		if (s->write && cfg->verify)
			perf_fill(s->buf, len, s->unit, cfg->seed);
		nvr_sqe_kv(&sqe, s->write ? NVME_KV_OPC_STORE : NVME_KV_OPC_RETRIEVE, cfg->nsid, key, cfg->key_size, 0,
			   len);
	} else {
		uint32_t nlb = (uint32_t)(cfg->bs / cfg->lba_size);

		len = (uint32_t)cfg->bs;
		if (s->write && cfg->verify)
			for (uint32_t b = 0; b < nlb; b++)
				perf_fill(s->buf + (uint64_t)b * cfg->lba_size, cfg->lba_size, s->unit * nlb + b, cfg->seed);
		nvr_sqe_rw(&sqe, s->write, cfg->nsid, s->unit * nlb, nlb);
	}
	dir = s->write ? NVR_DIR_H2C : NVR_DIR_C2H;
	s->t0 = perf_now();
	return nvr_submit(pq->q, &sqe, dir, s->buf, len, perf_cb, s);
}

/* Report the first few mismatches: what was expected and what the block carried. */
static void perf_verify_fail(struct perf_thread *t, uint64_t id, const uint8_t *p, bool strict)
{
	uint64_t got_id, got_seed;

	if (t->verify_fail++ >= 5)
		return;
	memcpy(&got_id, p, 8);
	memcpy(&got_seed, p + 8, 8);
	fprintf(stderr, "verify: %s %" PRIu64 "%s: block carries id %" PRIu64 " seed %" PRIu64 " (want seed %u)\n",
		t->cfg->kv ? "key" : "LBA", id, strict ? " (written before this read)" : "", got_id, got_seed,
		t->cfg->seed);
}

static void perf_verify_read(struct perf_slot *s, const struct nvr_cpl *cpl)
{
	struct perf_thread *t = s->pq->t;
	const struct perf_cfg *cfg = t->cfg;
	uint8_t *tmp = t->tmp;

	if (cfg->kv) {
		if ((s->strict && cpl->dw0 != cfg->vsize) || !perf_check(s->buf, cfg->vsize, s->unit, cfg->seed, s->strict, tmp))
			perf_verify_fail(t, s->unit, s->buf, s->strict);
		return;
	}
	for (uint32_t b = 0; b < cfg->bs / cfg->lba_size; b++) {
		uint64_t lba = s->unit * (cfg->bs / cfg->lba_size) + b;

		if (!perf_check(s->buf + (uint64_t)b * cfg->lba_size, cfg->lba_size, lba, cfg->seed, s->strict, tmp))
			perf_verify_fail(t, lba, s->buf + (uint64_t)b * cfg->lba_size, s->strict);
	}
}

static void perf_cb(void *arg, const struct nvr_cpl *cpl)
{
	struct perf_slot *s = arg;
	struct perf_q *pq = s->pq;
	struct perf_thread *t = pq->t;
	const struct perf_cfg *cfg = t->cfg;
	uint64_t lat = perf_now() - s->t0;

	pq->inflight--;
	if (cpl->err || (cpl->status && !(cfg->kv && !s->write && !s->strict &&
					  (cpl->status & 0x7ff) == NVME_SC_KV_KEY_NOT_EXIST))) {
		t->errors++;
		if (!t->first_err)
			t->first_err = cpl->err ? cpl->err : cpl->status;
		return; /* the slot retires: errors do not feed the loop */
	}
	if (cpl->status) {
		t->misses++; /* KV retrieve of a key this run has not stored yet */
	} else if (s->write) {
		t->writes++;
		if (cfg->verify)
			pq->written[s->unit / 64] |= 1ull << (s->unit % 64);
	} else {
		t->reads++;
		if (cfg->verify)
			perf_verify_read(s, cpl);
	}
	t->ios++;
	t->bytes += cfg->kv ? cfg->vsize : cfg->bs;
	t->lat_sum += lat;
	hist_add(&t->hist, lat);
	if (atomic_load_explicit(&perf_stop, memory_order_relaxed))
		return;
	if (perf_submit(s) == 0)
		pq->inflight++;
}

static void *perf_thread_main(void *arg)
{
	struct perf_thread *t = arg;
	bool busy = t->cfg->busy_poll || t->nq > 1;

	for (unsigned i = 0; i < t->nq; i++)
		for (unsigned j = 0; j < t->cfg->qd; j++) {
			if (perf_submit(&t->qs[i].slots[j]))
				break;
			t->qs[i].inflight++;
		}
	for (;;) {
		unsigned inflight = 0;

		for (unsigned i = 0; i < t->nq; i++) {
			struct perf_q *pq = &t->qs[i];
			int ret = busy ? nvr_queue_poll(pq->q) : nvr_queue_wait(pq->q, 1, 100);

			if (ret < 0 && !t->first_err)
				t->first_err = ret;
			inflight += pq->inflight;
		}
		atomic_store_explicit(&t->pub_ios, t->ios, memory_order_relaxed);
		atomic_store_explicit(&t->pub_bytes, t->bytes, memory_order_relaxed);
		atomic_store_explicit(&t->pub_lat, t->lat_sum, memory_order_relaxed);
		if (!inflight)
			break; /* stopped (or every slot failed) and drained */
	}
	return NULL;
}

static void perf_sigint(int sig)
{
	(void)sig;
	atomic_store(&perf_stop, true);
}

static int perf_parse_pattern(struct perf_cfg *cfg, bool have_m)
{
	static const struct { const char *name; bool random; int read; } pat[] = {
		{ "read", false, 100 }, { "write", false, 0 }, { "randread", true, 100 },
		{ "randwrite", true, 0 }, { "rw", false, -1 }, { "randrw", true, -1 },
	};

	for (size_t i = 0; i < sizeof(pat) / sizeof(pat[0]); i++)
		if (!strcmp(cfg->pattern, pat[i].name)) {
			cfg->random = pat[i].random;
			if (pat[i].read >= 0)
				cfg->read_pct = (uint32_t)pat[i].read;
			else if (!have_m)
				cfg->read_pct = 50;
			return cfg->read_pct <= 100 ? 0 : -EINVAL;
		}
	return -EINVAL;
}

static void perf_report(const struct perf_cfg *cfg, struct perf_thread *th, double secs, bool json)
{
	struct hist h;
	uint64_t ios = 0, bytes = 0, reads = 0, writes = 0, errors = 0, vfail = 0, misses = 0;
	double iops, mibs, avg;

	hist_init(&h);
	for (unsigned i = 0; i < cfg->threads; i++) {
		hist_merge(&h, &th[i].hist);
		ios += th[i].ios;
		bytes += th[i].bytes;
		reads += th[i].reads;
		writes += th[i].writes;
		errors += th[i].errors;
		vfail += th[i].verify_fail;
		misses += th[i].misses;
	}
	iops = ios / secs;
	mibs = bytes / secs / (1024.0 * 1024.0);
	avg = h.count ? (double)h.sum / (double)h.count / 1000.0 : 0;
	if (json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "pattern", json_object_new_string(cfg->kv ? "kv" : cfg->pattern));
		json_object_object_add(j, "io_size", json_object_new_int64((int64_t)(cfg->kv ? cfg->vsize : cfg->bs)));
		json_object_object_add(j, "qd", json_object_new_int((int)cfg->qd));
		json_object_object_add(j, "queues", json_object_new_int((int)cfg->queues));
		json_object_object_add(j, "threads", json_object_new_int((int)cfg->threads));
		json_object_object_add(j, "seconds", json_object_new_double(secs));
		json_object_object_add(j, "ios", json_object_new_int64((int64_t)ios));
		json_object_object_add(j, "reads", json_object_new_int64((int64_t)reads));
		json_object_object_add(j, "writes", json_object_new_int64((int64_t)writes));
		json_object_object_add(j, "iops", json_object_new_double(iops));
		json_object_object_add(j, "mib_per_s", json_object_new_double(mibs));
		json_object_object_add(j, "lat_avg_us", json_object_new_double(avg));
		json_object_object_add(j, "lat_p50_us", json_object_new_double(hist_quantile(&h, 0.50) / 1000.0));
		json_object_object_add(j, "lat_p99_us", json_object_new_double(hist_quantile(&h, 0.99) / 1000.0));
		json_object_object_add(j, "lat_p999_us", json_object_new_double(hist_quantile(&h, 0.999) / 1000.0));
		json_object_object_add(j, "lat_max_us", json_object_new_double(h.max / 1000.0));
		json_object_object_add(j, "errors", json_object_new_int64((int64_t)errors));
		json_object_object_add(j, "kv_misses", json_object_new_int64((int64_t)misses));
		json_object_object_add(j, "verify", json_object_new_boolean(cfg->verify));
		json_object_object_add(j, "verify_failures", json_object_new_int64((int64_t)vfail));
		cli_print_json(j);
		return;
	}
	printf("%s %s qd=%u queues=%u threads=%u: %.0f IOPS, %.2f MiB/s (%" PRIu64 " reads, %" PRIu64 " writes%s)\n",
	       cfg->kv ? "kv" : cfg->pattern, cfg->kv ? "" : "", cfg->qd, cfg->queues, cfg->threads, iops, mibs, reads,
	       writes, cfg->kv ? ", KV store/retrieve" : "");
	printf("latency us: avg %.1f, p50 %.1f, p99 %.1f, p99.9 %.1f, max %.1f\n", avg,
	       hist_quantile(&h, 0.50) / 1000.0, hist_quantile(&h, 0.99) / 1000.0, hist_quantile(&h, 0.999) / 1000.0,
	       h.max / 1000.0);
	printf("errors %" PRIu64 "%s", errors, cfg->kv ? "" : "\n");
	if (cfg->kv)
		printf(", kv misses %" PRIu64 "\n", misses);
	if (cfg->verify)
		printf("verify: %" PRIu64 " failures\n", vfail);
}

int cmd_perf(int argc, char **argv)
{
	struct cli_common c = { 0 };
	struct perf_cfg cfg = { .qd = 32, .seconds = 10, .queues = 1, .threads = 1, .nsid = 1, .bs = 4096,
				.keys = 100000, .vsize = 4096, .key_size = 8, .pattern = "randread" };
	bool have_m = false, json = false;
	uint32_t m = 0;
	struct cli_opt opts[] = {
		{ "queue-depth", 'q', CLI_U32, &cfg.qd, "commands in flight per queue (32)" },
		{ "io-size", 'o', CLI_U64, &cfg.bs, "I/O size, e.g. 4k (4096)" },
		{ "pattern", 'w', CLI_STR, &cfg.pattern, "read|write|randread|randwrite|rw|randrw" },
		{ "rwmixread", 'M', CLI_U32, &m, "read percentage for rw/randrw (50)" },
		{ "time", 't', CLI_U32, &cfg.seconds, "seconds (10)" },
		{ "queues", 0, CLI_U32, &cfg.queues, "I/O queues (1)" },
		{ "threads", 0, CLI_U32, &cfg.threads, "threads; queues are spread over them (1)" },
		{ "namespace-id", 'n', CLI_U32, &cfg.nsid, "namespace (1)" },
		{ "ns", 0, CLI_U32, &cfg.nsid, "the same (older spelling)" },
		{ "verify", 0, CLI_FLAG, &cfg.verify, "stamp LBA+seed in every block written, check reads" },
		{ "seed", 0, CLI_U32, &cfg.seed, "verify seed (default: time)" },
		{ "busy-poll", 0, CLI_FLAG, &cfg.busy_poll, "poll without sleeping in the kernel" },
		{ "kv", 0, CLI_FLAG, &cfg.kv, "KV mode: store (write) / retrieve (read) of --keys keys" },
		{ "keys", 0, CLI_U32, &cfg.keys, "KV key count (100000)" },
		{ "value-size", 0, CLI_U64, &cfg.vsize, "KV value size (4096)" },
		{ "key-size", 0, CLI_U32, &cfg.key_size, "KV key size in bytes, 8-16 (8)" },
		{ "json", 0, CLI_FLAG, &json, "JSON result" },
		{ NULL, 0, 0, NULL, NULL },
	};
	struct perf_thread *th = NULL;
	struct perf_q *pqs = NULL;
	struct nvr_ctrl *ctrl;
	uint64_t units, t0, last, last_ios = 0, last_lat = 0, last_bytes = 0;
	int ret, rc = CLI_EXIT_OK;

	ret = cli_parse(argc, argv, "perf", "Measure IOPS, bandwidth and latency.", opts, &c, NULL, NULL);
	if (ret)
		return ret;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-M") || !strncmp(argv[i], "--rwmixread", 11))
			have_m = true;
	if (have_m)
		cfg.read_pct = m;
	/* KV mode reads the pattern as retrieve (read) / store (write) of random or sequential keys */
	if (perf_parse_pattern(&cfg, have_m)) {
		fprintf(stderr, "nvring perf: bad -w pattern %s or -M %u\n", cfg.pattern, m);
		return CLI_EXIT_USAGE;
	}
	if (!cfg.qd || !cfg.queues || !cfg.threads || cfg.threads > cfg.queues || !cfg.bs || cfg.bs > (64u << 20) ||
	    (cfg.kv && (!cfg.keys || cfg.vsize < 16 || cfg.vsize % 8 || cfg.vsize > (64u << 20) || cfg.key_size < 8 ||
			cfg.key_size > 16))) {
		fprintf(stderr, "nvring perf: need qd, queues >= threads >= 1, size > 0; KV value size >= 16, multiple of 8;"
				" key size 8-16\n");
		return CLI_EXIT_USAGE;
	}
	if (!cfg.seed)
		cfg.seed = (uint32_t)time(NULL);
	cfg.json = json || c.json;
	c.nr_io_queues = cfg.queues;
	if (!c.queue_size)
		c.queue_size = cfg.qd + 1;
	ctrl = cli_connect(&c, cfg.queues);
	if (!ctrl)
		return CLI_EXIT_ERR;
	if (nvr_ctrl_nr_io_queues(ctrl) < cfg.queues) {
		fprintf(stderr, "nvring perf: controller gave %u I/O queues, %u asked\n", nvr_ctrl_nr_io_queues(ctrl),
			cfg.queues);
		cli_disconnect(ctrl);
		return CLI_EXIT_ERR;
	}
	if (nvr_queue_depth(nvr_ctrl_io_queue(ctrl, 0)) < cfg.qd) {
		/* MQES/MAXCMD limit, and one SQ slot stays empty under SQ flow control */
		cfg.qd = nvr_queue_depth(nvr_ctrl_io_queue(ctrl, 0));
		fprintf(stderr, "nvring perf: queue depth limited to %u by the controller\n", cfg.qd);
	}
	if (nvr_ctrl_max_xfer(ctrl) && (cfg.kv ? cfg.vsize : cfg.bs) > nvr_ctrl_max_xfer(ctrl)) {
		fprintf(stderr, "nvring perf: I/O size above the controller's MDTS limit of %u bytes\n",
			nvr_ctrl_max_xfer(ctrl));
		cli_disconnect(ctrl);
		return CLI_EXIT_USAGE;
	}
	if (cfg.kv) {
		units = cfg.keys;
	} else {
		cfg.lba_size = cli_lba_size(ctrl, cfg.nsid, &cfg.ns_blocks);
		if (!cfg.lba_size || cfg.bs % cfg.lba_size || cfg.bs % 8) {
			fprintf(stderr, "nvring perf: I/O size must be a multiple of the LBA size (%u)\n", cfg.lba_size);
			cli_disconnect(ctrl);
			return CLI_EXIT_USAGE;
		}
		units = cfg.ns_blocks / (cfg.bs / cfg.lba_size);
	}
	if (units < cfg.queues) {
		fprintf(stderr, "nvring perf: namespace too small\n");
		cli_disconnect(ctrl);
		return CLI_EXIT_USAGE;
	}
	th = calloc(cfg.threads, sizeof(*th));
	pqs = calloc(cfg.queues, sizeof(*pqs));
	if (!th || !pqs)
		goto nomem;
	for (unsigned i = 0; i < cfg.threads; i++) {
		th[i].cfg = &cfg;
		hist_init(&th[i].hist);
		th[i].tmp = malloc(cfg.kv ? cfg.vsize : cfg.lba_size);
		if (!th[i].tmp)
			goto nomem;
	}
	/* queue i goes to thread i % threads; a thread's queues are contiguous in pqs */
	for (unsigned k = 0, n = 0; k < cfg.threads; k++) {
		th[k].qs = &pqs[n];
		for (unsigned i = k; i < cfg.queues; i += cfg.threads, n++) {
			pqs[n].t = &th[k];
			pqs[n].q = nvr_ctrl_io_queue(ctrl, i);
			th[k].nq++;
		}
	}
	for (unsigned i = 0; i < cfg.queues; i++) {
		struct perf_q *pq = &pqs[i];
		uint64_t sz = cfg.kv ? cfg.vsize : cfg.bs;

		pq->lo = units * i / cfg.queues;
		pq->hi = units * (i + 1) / cfg.queues;
		pq->cursor = pq->lo;
		pq->rng = 0x9E3779B97F4A7C15ull * (i + 1) ^ cfg.seed;
		pq->written = calloc(units / 64 + 1, 8);
		pq->slots = calloc(cfg.qd, sizeof(*pq->slots));
		if (!pq->written || !pq->slots)
			goto nomem;
		for (unsigned j = 0; j < cfg.qd; j++) {
			pq->slots[j].pq = pq;
			if (posix_memalign((void **)&pq->slots[j].buf, 4096, sz))
				goto nomem;
			memset(pq->slots[j].buf, 0, sz);
		}
	}
	signal(SIGINT, perf_sigint);
	atomic_store(&perf_stop, false);
	t0 = last = perf_now();
	for (unsigned i = 0; i < cfg.threads; i++)
		pthread_create(&th[i].tid, NULL, perf_thread_main, &th[i]);
	while (!atomic_load(&perf_stop)) {
		uint64_t now, ios = 0, lat = 0, bytes = 0;

		usleep(100000);
		/* the admin queue belongs to this thread: keep the controller alive when KATO is set */
		if (nvr_ctrl_keep_alive(ctrl) && !cfg.json)
			fprintf(stderr, "nvring perf: keep-alive failed\n");
		now = perf_now();
		if (now - t0 >= (uint64_t)cfg.seconds * 1000000000ull)
			atomic_store(&perf_stop, true);
		if (now - last < 1000000000ull)
			continue;
		for (unsigned i = 0; i < cfg.threads; i++) {
			ios += atomic_load_explicit(&th[i].pub_ios, memory_order_relaxed);
			bytes += atomic_load_explicit(&th[i].pub_bytes, memory_order_relaxed);
			lat += atomic_load_explicit(&th[i].pub_lat, memory_order_relaxed);
		}
		if (!cfg.json)
			fprintf(stderr, "[%3.0fs] %10.0f IOPS, %9.2f MiB/s, avg %8.1f us\n", (now - t0) / 1e9,
				(ios - last_ios) / ((now - last) / 1e9),
				(double)(bytes - last_bytes) / ((now - last) / 1e9) / (1024.0 * 1024.0),
				ios > last_ios ? (lat - last_lat) / 1000.0 / (double)(ios - last_ios) : 0.0);
		last = now;
		last_ios = ios;
		last_lat = lat;
		last_bytes = bytes;
	}
	for (unsigned i = 0; i < cfg.threads; i++)
		pthread_join(th[i].tid, NULL);
	perf_report(&cfg, th, (perf_now() - t0) / 1e9, cfg.json);
	for (unsigned i = 0; i < cfg.threads; i++) {
		if (th[i].errors || th[i].verify_fail)
			rc = th[i].first_err > 0 || th[i].verify_fail ? CLI_EXIT_NVME : CLI_EXIT_ERR;
		if (th[i].first_err && !cfg.json) {
			if (th[i].first_err > 0)
				fprintf(stderr, "perf: first error: NVMe status %s (0x%02x)\n",
					nvr_status_str((uint16_t)th[i].first_err, cfg.kv), th[i].first_err & 0xff);
			else
				fprintf(stderr, "perf: first error: %s\n", strerror(-th[i].first_err));
		}
	}
	goto out;
nomem:
	fprintf(stderr, "nvring perf: out of memory\n");
	rc = CLI_EXIT_ERR;
out:
	if (pqs)
		for (unsigned i = 0; i < cfg.queues; i++) {
			if (pqs[i].slots)
				for (unsigned j = 0; j < cfg.qd; j++)
					free(pqs[i].slots[j].buf);
			free(pqs[i].slots);
			free(pqs[i].written);
		}
	free(pqs);
	if (th)
		for (unsigned i = 0; i < cfg.threads; i++)
			free(th[i].tmp);
	free(th);
	cli_disconnect(ctrl);
	return rc;
}
