/* SPDX-License-Identifier: MIT */
/* Opening a store: configuration, the backing file/device or RAM, format, state, teardown. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../spec/crc32c.h"
#include "util/errf.h"
#include "kvs_priv.h"
#include "kvs_recover.h"

#define KVS_DEF_SEG_SIZE (4u << 20)
#define KVS_DEF_MAX_VALUE (1u << 20)
#define KVS_DEF_GC_THRESHOLD 50u
#define KVS_MIN_SEGS (KVS_GC_RESERVE + 3)
#define KVS_MAX_SEGS (1u << 22)       /* 16 TiB in 4 MiB segments */
#define KVS_MAX_SEG_SIZE (1u << 30)

static bool kvs_is_mem(const char *path)
{
	return !path || !strcmp(path, "kv:mem") || !strcmp(path, "mem");
}

static uint32_t kvs_sb_crc(const struct kvs_sb *sb)
{
	struct kvs_sb c = *sb;

	c.crc = 0;
	return crc32c(&c, sizeof(c));
}

/*
 * A regular file gets every block of its segments written (zeroes) once: a store's fdatasync
 * then only writes data, it never has to commit the allocation of a block (or the conversion
 * of a preallocated one) to the file system's journal, which costs about as much again.
 */
static int kvs_zero_fill(struct kvs_log *log)
{
	size_t chunk = 1u << 20;
	void *z = calloc(1, chunk);
	int ret = 0;

	if (!z)
		return -ENOMEM;
	for (uint64_t off = log->seg_base; off < log->dev_size && !ret; off += chunk)
		ret = kvs_log_pwrite(log, z, off + chunk <= log->dev_size ? chunk : log->dev_size - off, off);
	free(z);
	return ret;
}

/* Write a fresh superblock (into *out too) and invalidate every segment header (stale ones
 * would revive). */
static int kvs_format(struct kvs_log *log, bool zero_fill, struct kvs_sb *out)
{
	struct kvs_sb sb = { 0 };
	static const struct kvs_seg_hdr zero;
	int ret;

	sb.magic = KVS_SB_MAGIC;
	sb.version = KVS_VERSION;
	sb.capacity = log->dev_size;
	sb.seg_base = log->seg_base;
	sb.seg_size = log->seg_size;
	sb.nsegs = log->nsegs;
	sb.crc = kvs_sb_crc(&sb);
	*out = sb;
	if (kvs_log_is_mem(log))
		return kvs_log_pwrite(log, &sb, sizeof(sb), 0); /* fresh anonymous memory is zero */
	if (zero_fill) {
		ret = kvs_zero_fill(log);
		if (ret)
			return ret;
	}
	for (uint32_t i = 0; i < log->nsegs && !zero_fill; i++) {
		ret = kvs_log_pwrite(log, &zero, sizeof(zero), kvs_log_seg_off(log, i));
		if (ret)
			return ret;
	}
	ret = kvs_log_pwrite(log, &sb, sizeof(sb), 0);
	return ret ? ret : kvs_log_fdatasync(log);
}

static int kvs_geometry(struct kvs *kv, uint64_t capacity, uint32_t seg_size, char *err, size_t errlen)
{
	uint64_t nsegs;

	if (seg_size < 4096 || seg_size % 4096 || seg_size > KVS_MAX_SEG_SIZE)
		return nvr_errf(err, errlen, -EINVAL,
			       "segment size %u: must be a multiple of 4096, at most 1 GiB", seg_size);
	if (kvs_rec_len(KVS_KEY_MAX, kv->max_value) > seg_size - KVS_SEG_HDR_LEN)
		return nvr_errf(err, errlen, -EINVAL, "max value %u does not fit a %u-byte segment",
			       kv->max_value, seg_size);
	kv->log.dev_size = capacity;
	kv->log.seg_base = KVS_SB_LEN;
	kv->log.seg_size = seg_size;
	nsegs = capacity > KVS_SB_LEN ? (capacity - KVS_SB_LEN) / seg_size : 0;
	if (nsegs < KVS_MIN_SEGS)
		return nvr_errf(err, errlen, -EINVAL, "capacity %llu holds %llu segments, need %u",
			       (unsigned long long)capacity, (unsigned long long)nsegs, KVS_MIN_SEGS);
	/* the segment table and recovery's scan are sized by it */
	if (nsegs > KVS_MAX_SEGS)
		return nvr_errf(err, errlen, -EINVAL, "capacity %llu holds %llu segments, at most %u",
			       (unsigned long long)capacity, (unsigned long long)nsegs, KVS_MAX_SEGS);
	kv->log.nsegs = (uint32_t)nsegs;
	return 0;
}

static int kvs_open_dev(struct kvs *kv, const struct kvs_config *cfg, uint64_t *seq, char *err,
			size_t errlen)
{
	struct stat st;
	uint64_t dev_size;
	struct kvs_sb sb;
	char why[160];
	ssize_t n;
	int ret;

	kv->log.fd = open(cfg->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (kv->log.fd < 0)
		return nvr_errf(err, errlen, -errno, "%s: %s", cfg->path, strerror(errno));
	if (fstat(kv->log.fd, &st))
		return nvr_errf(err, errlen, -errno, "%s: %s", cfg->path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(kv->log.fd, BLKGETSIZE64, &dev_size))
			return nvr_errf(err, errlen, -errno, "%s: size: %s", cfg->path, strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		dev_size = (uint64_t)st.st_size;
	} else {
		return nvr_errf(err, errlen, -EINVAL, "%s: not a file or block device", cfg->path);
	}

	memset(&sb, 0, sizeof(sb));
	n = pread(kv->log.fd, &sb, sizeof(sb), 0);
	if (n < 0)
		return nvr_errf(err, errlen, -errno, "%s: %s", cfg->path, strerror(errno));
	/* Only an empty (or zeroed) file is formatted unasked: anything else may be data. */
	if (!cfg->format && sb.magic != KVS_SB_MAGIC) {
		uint8_t blk[KVS_SB_LEN];

		n = pread(kv->log.fd, blk, sizeof(blk), 0);
		if (n < 0)
			return nvr_errf(err, errlen, -errno, "%s: %s", cfg->path, strerror(errno));
		for (ssize_t i = 0; i < n; i++)
			if (blk[i])
				return nvr_errf(err, errlen, -EUCLEAN,
					       "%s: not a kvstore log (no superblock); the 'format' option "
					       "initializes it, discarding its content", cfg->path);
	}
	if (!cfg->format && sb.magic == KVS_SB_MAGIC) {
		if (sb.version != KVS_VERSION || sb.crc != kvs_sb_crc(&sb) || sb.seg_base != KVS_SB_LEN)
			return nvr_errf(err, errlen, -EUCLEAN, "%s: corrupt or unknown superblock", cfg->path);
		ret = kvs_geometry(kv, sb.capacity, sb.seg_size, why, sizeof(why));
		if (ret)
			return nvr_errf(err, errlen, -EUCLEAN, "%s: superblock: %s", cfg->path, why);
		if (sb.nsegs != kv->log.nsegs)
			return nvr_errf(err, errlen, -EUCLEAN, "%s: superblock geometry mismatch", cfg->path);
		/* A cut-short file reads as zeroes past its end, which recovery treats as empty. */
		if (S_ISREG(st.st_mode) && dev_size < sb.capacity && ftruncate(kv->log.fd, (off_t)sb.capacity))
			return nvr_errf(err, errlen, -errno, "%s: extend: %s", cfg->path, strerror(errno));
		if (S_ISBLK(st.st_mode) && dev_size < sb.capacity)
			return nvr_errf(err, errlen, -EUCLEAN, "%s: device smaller than the log", cfg->path);
		kv->sb = sb;
		return kvs_recover(kv, seq, err, errlen);
	}

	if (cfg->capacity)
		dev_size = S_ISBLK(st.st_mode) && cfg->capacity > dev_size ? dev_size : cfg->capacity;
	ret = kvs_geometry(kv, dev_size, cfg->segment_size ? cfg->segment_size : KVS_DEF_SEG_SIZE,
			   why, sizeof(why));
	if (ret)
		return nvr_errf(err, errlen, ret, "%s: %s", cfg->path, why);
	if (S_ISREG(st.st_mode) && ftruncate(kv->log.fd, (off_t)kv->log.dev_size))
		return nvr_errf(err, errlen, -errno, "%s: size: %s", cfg->path, strerror(errno));
	ret = kvs_format(&kv->log, S_ISREG(st.st_mode), &kv->sb);
	if (ret)
		return nvr_errf(err, errlen, ret, "%s: format: %s", cfg->path, strerror(-ret));
	return kvs_recover(kv, seq, err, errlen);
}

static int kvs_open_mem(struct kvs *kv, const struct kvs_config *cfg, uint64_t *seq, char *err,
			size_t errlen)
{
	int ret;

	kv->log.fd = -1;
	ret = kvs_geometry(kv, cfg->capacity, cfg->segment_size ? cfg->segment_size : KVS_DEF_SEG_SIZE,
			   err, errlen);
	if (ret)
		return ret;
	/* Faulted in as it is first written, like a RAM namespace. Populating it here, or huge
	 * pages, would spare the first lap of stores a fault per page, at the price of all the
	 * memory at once and (measured) ~0.75 s per GiB at open, ~3.7 s with huge pages. */
	kv->log.mem = mmap(NULL, kv->log.dev_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	if (kv->log.mem == MAP_FAILED) {
		kv->log.mem = NULL;
		return nvr_errf(err, errlen, -ENOMEM, "kv:mem: cannot map %llu bytes",
			       (unsigned long long)kv->log.dev_size);
	}
	kvs_format(&kv->log, false, &kv->sb);
	return kvs_recover(kv, seq, err, errlen);
}


/* seqs are taken in ranges recorded in the superblock before use */
#define KVS_SEQ_RESERVE (1ull << 40)

static uint64_t kvs_random32(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	return r;
}

static int kvs_sb_write(struct kvs *kv, const struct kvs_sb *sb)
{
	int ret = kvs_log_pwrite(&kv->log, sb, sizeof(*sb), 0);

	return ret ? ret : kvs_log_fdatasync(&kv->log);
}

/*
 * Where this open's sequence numbers start. Not simply after the highest seq recovery found:
 * records that never became valid (a torn first batch of a segment, whose header did not
 * make it) or that GC's freeing hid may carry higher ones, and a segment opened with one of
 * their epochs would revive them. So every seq and epoch ever used is kept below a floor in the
 * superblock, raised (and synced) before it is reached; a random step on top keeps a file made
 * by someone else from planting records with the epoch we would pick.
 */
static int kvs_seq_start(struct kvs *kv, uint64_t *seq, char *err, size_t errlen)
{
	uint64_t base = *seq > kv->sb.seq_floor ? *seq : kv->sb.seq_floor;
	struct kvs_sb sb = kv->sb;
	int ret;

	if (base > UINT64_MAX / 2)
		return nvr_errf(err, errlen, -EUCLEAN, "sequence numbers exhausted (%llu)",
			       (unsigned long long)base);
	*seq = base + kvs_random32() + 1;
	sb.seq_floor = *seq + KVS_SEQ_RESERVE;
	sb.crc = kvs_sb_crc(&sb);
	ret = kvs_sb_write(kv, &sb);
	if (ret)
		return nvr_errf(err, errlen, ret, "superblock: %s", strerror(-ret));
	kv->sb = sb;
	return 0;
}

static void kvs_seq_recorded(struct kvs_log_io *lio, struct executor *ex, int res)
{
	struct kvs *kv = container_of(lio, struct kvs, sb_io);

	(void)ex;
	if (res == 0) {
		kv->sb = kv->sb_next;
		atomic_store(&kv->commit.seq_bump_at, kv->sb.seq_floor - KVS_SEQ_RESERVE / 2);
	} else {
		/* try again a while later: half a reserve of seqs is left */
		atomic_store(&kv->commit.seq_bump_at, atomic_load(&kv->commit.seq) + (1u << 20));
	}
	atomic_store(&kv->commit.seq_bumping, false);
}

/* Half the reserved range is used: record the next one, asynchronously, on sh's executor. */
static void kvs_seq_low(struct kvs_commit *c, struct kvs_shard *sh)
{
	struct kvs *kv = container_of(c, struct kvs, commit);

	kv->sb_next = kv->sb;
	kv->sb_next.seq_floor = kv->sb.seq_floor + KVS_SEQ_RESERVE;
	kv->sb_next.crc = kvs_sb_crc(&kv->sb_next);
	kv->sb_iov = (struct iovec){ &kv->sb_next, sizeof(kv->sb_next) };
	kv->sb_io.iov = &kv->sb_iov;
	kv->sb_io.niov = 1;
	kv->sb_io.len = sizeof(kv->sb_next);
	kv->sb_io.off = 0;
	kv->sb_io.sync = true;
	kv->sb_io.done = kvs_seq_recorded;
	kvs_log_append(&kv->log, sh->ex, &kv->sb_io);
}

/* A shard waits for a free segment: compaction runs on that shard's executor. */
static void kvs_space_needed(struct kvs_commit *c, struct kvs_shard *sh)
{
	kvs_gc_kick(container_of(c, struct kvs, commit), sh);
}

int kvs_open(struct kvs **out, const struct kvs_config *cfg, char *err, size_t errlen)
{
	struct kvs *kv = calloc(1, sizeof(*kv));
	uint32_t payload, thr;
	uint64_t seq = 0;
	int ret;

	*out = NULL;
	if (!kv)
		return nvr_errf(err, errlen, -ENOMEM, "out of memory");
	kv->log.fd = -1;
	kv->max_value = cfg->max_value ? cfg->max_value : KVS_DEF_MAX_VALUE;
	thr = cfg->gc_threshold ? cfg->gc_threshold : KVS_DEF_GC_THRESHOLD;
	if (thr > 99) {
		ret = nvr_errf(err, errlen, -EINVAL, "gc threshold %u%%: must be below 100", thr);
		goto fail;
	}
	ret = kvs_is_mem(cfg->path) ? kvs_open_mem(kv, cfg, &seq, err, errlen) :
				      kvs_open_dev(kv, cfg, &seq, err, errlen);
	if (ret)
		goto fail;
	ret = kvs_gc_init(kv);
	if (ret) {
		nvr_errf(err, errlen, ret, "out of memory");
		goto fail;
	}
	if (!kvs_log_is_mem(&kv->log)) {
		ret = kvs_seq_start(kv, &seq, err, errlen);
		if (ret)
			goto fail;
	}
	kvs_commit_init(&kv->commit, &kv->log, &kv->segs, seq, cfg->volatile_cache);
	kv->commit.space_needed = kvs_space_needed;
	kv->commit.seq_low = kvs_seq_low;
	if (!kvs_log_is_mem(&kv->log))
		atomic_store(&kv->commit.seq_bump_at, kv->sb.seq_floor - KVS_SEQ_RESERVE / 2);
	payload = kv->log.seg_size - KVS_SEG_HDR_LEN;
	kv->segs.gc_live_thr = (uint32_t)((uint64_t)payload * thr / 100);
	/* Keep 1/8 of the non-reserved space as slack: sealed-segment tails and GC headroom. */
	kv->live_limit = (uint64_t)(kv->log.nsegs - KVS_GC_RESERVE - 1) * payload / 8 * 7;
	/* what a shard counts before publishing: the admission error stays small against the
	 * slack above, for any number of shards */
	kv->used_chunk = (int64_t)(kv->live_limit / 1024);
	if (kv->used_chunk > (1 << 20))
		kv->used_chunk = 1 << 20;
	kvs_segs_mark_dirty(&kv->segs, true);
	*out = kv;
	return 0;
fail:
	kvs_close(kv);
	return ret;
}

void kvs_close(struct kvs *kv)
{
	if (!kv)
		return;
	if (kv->segs.segs && kv->gc.buf && !kvs_idle(kv))
		fprintf(stderr, "kvstore: closed with I/O in flight\n");
	if (kv->log.fd >= 0) {
		kvs_log_fdatasync(&kv->log);
		close(kv->log.fd);
	}
	if (kv->log.mem)
		munmap(kv->log.mem, kv->log.dev_size);
	kvs_gc_fini(kv);
	if (kv->commit.log)
		kvs_commit_fini(&kv->commit);
	kvs_idx_fini(&kv->idx);
	kvs_segs_fini(&kv->segs);
	free(kv);
}

int kvs_sync(struct kvs *kv)
{
	return kvs_log_fdatasync(&kv->log);
}

bool kvs_idle(struct kvs *kv)
{
	return kvs_commit_idle(&kv->commit) && !kvs_gc_busy(kv);
}

uint64_t kvs_capacity(const struct kvs *kv)
{
	return kv->live_limit;
}

uint64_t kvs_used(const struct kvs *kv)
{
	struct kvs *k = (struct kvs *)kv;
	unsigned n = atomic_load_explicit(&k->commit.nshards, memory_order_acquire);
	int64_t v = atomic_load(&k->used);

	for (unsigned i = 0; i < n; i++)
		v += atomic_load_explicit(&k->commit.shards[i]->used_local, memory_order_relaxed);
	return v > 0 ? (uint64_t)v : 0;
}

uint32_t kvs_max_value(const struct kvs *kv)
{
	return kv->max_value;
}

void kvs_get_stats(struct kvs *kv, struct kvs_stats *st)
{
	memset(st, 0, sizeof(*st));
	kvs_commit_stats(&kv->commit, &st->stores, &st->batches, &st->syncs);
	st->syncs += atomic_load(&kv->gc.st_syncs);
	st->gc_moved = atomic_load(&kv->gc.st_moved);
	st->gc_freed = atomic_load(&kv->segs.st_freed);
	st->keys = atomic_load(&kv->idx.keys);
	st->nsegs = kv->log.nsegs;
	st->segment_size = kv->log.seg_size;
	st->free_segs = kvs_segs_free_count(&kv->segs);
}
