/* SPDX-License-Identifier: MIT */
/*
 * fuzz_kvs_recover: a KV store file from a hostile source, opened with kvs_open.
 *
 * Input: a whole store file (it starts with the superblock magic), or else a recipe applied to
 * a valid store built once at start (byte 0 picks it, the rest are its arguments):
 *   0: flip bytes: (u32 offset, u8 xor) pairs      1: cut the file at a u32, then flip
 *   2: overwrite at a u32 offset with the rest     3: zero a range (u32 offset, u16 length)
 * The file is opened (recovery); an error must come with a message. Opened, the oracle:
 *   - every key List reports exists and retrieves (its stored size, bytes we can compare later);
 *   - a store of a new key and a delete of a listed one succeed (or fail with an NVMe status);
 *   - the engine drains (GC of the recovered state finishes) within a deadline;
 *   - reopened, it holds exactly what the first open reported, plus the new key, minus the
 *     deleted one, byte for byte.
 * A violation aborts. The file lives in a private directory under $TMPDIR (or /tmp); file size
 * is limited (RLIMIT_FSIZE) so a superblock claiming terabytes fails cleanly instead of
 * filling the disk.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kvstore/kvs_format.h"
#include "kvstore/kvstore.h"

#define FUZZ_SEG 8192u
#define FUZZ_CAP (4096u + 6 * FUZZ_SEG) /* the built-in valid store */
#define FUZZ_MAXV 2048u
#define FUZZ_FSIZE (64u << 20)
#define FUZZ_KEYS 64                    /* keys compared across the reopen */
#define FUZZ_VBUF (64u << 10)

static char g_dir[64], g_path[96];
static struct io_uring g_ring;
static struct executor g_ex;
static uint8_t *g_valid;
static size_t g_valid_len;

struct fkey {
	uint8_t len;
	uint8_t key[KVS_KEY_MAX];
	uint32_t size;   /* value size reported */
	uint32_t have;   /* bytes of it kept in val */
	uint8_t *val;
};

struct fio {
	struct kvs_io io;
	int done;
};

static void fio_done(struct kvs_io *io)
{
	((struct fio *)io->ctx)->done++;
}

/* Run completions until *flag is set, or (flag NULL) the engine is idle; abort on a hang. */
static void pump(struct kvs *kv, const int *flag)
{
	for (int idle = 0, spins = 0;; spins++) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000 * 1000 };
		int n = (int)executor_drain(&g_ex);

		bool done = flag ? *flag : kvs_idle(kv);

		if (done) {
			if (flag || ++idle >= 2)
				return;
		} else {
			idle = 0;
		}
		kvs_poll(kv, &g_ex);
		io_uring_submit(&g_ring);
		/* idle: look once more (what poll started) without waiting */
		if (!n && !done && io_uring_wait_cqe_timeout(&g_ring, &cqe, &ts) == -ETIME && spins > 200) {
			fprintf(stderr, "fuzz_kvs_recover: no progress for 10 s\n");
			abort();
		}
		while (io_uring_peek_cqe(&g_ring, &cqe) == 0) {
			struct io_uring_cqe c = *cqe;
			struct ring_op *op = io_uring_cqe_get_data(cqe);

			io_uring_cqe_seen(&g_ring, cqe);
			op->complete(op, &c);
			spins = 0;
		}
	}
}

static uint16_t run(struct kvs *kv, enum kvs_op op, const uint8_t *key, unsigned klen, void *buf,
		    uint32_t len, uint32_t *vsize)
{
	struct fio f;

	memset(&f, 0, sizeof(f));
	f.io.op = op;
	f.io.key_len = (uint8_t)klen;
	if (klen)
		memcpy(f.io.key, key, klen);
	f.io.buf = buf;
	f.io.len = len;
	f.io.done = fio_done;
	f.io.ctx = &f;
	kvs_submit(kv, &g_ex, &f.io);
	pump(kv, &f.done);
	if (f.done != 1)
		abort();
	if (vsize)
		*vsize = f.io.value_size;
	return f.io.status;
}

static int write_file(const uint8_t *data, size_t len)
{
	int fd = open(g_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ssize_t n = fd >= 0 ? write(fd, data, len) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static struct kvs *open_store(bool format, char *err, size_t errlen)
{
	struct kvs_config cfg = { .path = g_path, .max_value = FUZZ_MAXV, .format = format };
	struct kvs *kv = NULL;
	int ret;

	if (format) {
		cfg.capacity = FUZZ_CAP;
		cfg.segment_size = FUZZ_SEG;
	}
	err[0] = '\0';
	ret = kvs_open(&kv, &cfg, err, errlen);
	if (ret > 0 || (ret < 0 && (kv || !err[0])) || (!ret && !kv)) {
		fprintf(stderr, "fuzz_kvs_recover: kvs_open returned %d, store %p, message '%s'\n", ret,
			(void *)kv, err);
		abort();
	}
	return kv;
}

/* The valid store the recipes damage: overwrites, deletes, a few segments, GC having run. */
static void build_valid(void)
{
	char err[256];
	struct kvs *kv = open_store(true, err, sizeof(err));
	static uint8_t val[FUZZ_MAXV];
	int fd;
	off_t len;

	if (!kv) {
		fprintf(stderr, "fuzz_kvs_recover: building the valid store: %s\n", err);
		abort();
	}
	for (int i = 0; i < 120; i++) { /* 12 keys of 1..12 bytes, values of 0..1 KiB */
		uint8_t key[16];
		unsigned klen = 1 + (unsigned)(i % 12);
		uint32_t vlen = (uint32_t)(i * 131 % 1024);

		memset(key, 'a' + i % 12, sizeof(key));
		memset(val, i, sizeof(val));
		if (run(kv, KVS_OP_STORE, key, klen, val, vlen, NULL)) {
			fprintf(stderr, "fuzz_kvs_recover: building the valid store: store %d failed\n", i);
			abort();
		}
		if (i % 7 == 3 && run(kv, KVS_OP_DELETE, key, klen, NULL, 0, NULL))
			abort();
	}
	pump(kv, NULL);
	kvs_close(kv);
	fd = open(g_path, O_RDONLY);
	len = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	g_valid = len > 0 ? malloc((size_t)len) : NULL;
	if (!g_valid || pread(fd, g_valid, (size_t)len, 0) != len)
		abort();
	g_valid_len = (size_t)len;
	close(fd);
}

static void cleanup(void)
{
	unlink(g_path);
	rmdir(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct rlimit fs = { FUZZ_FSIZE, FUZZ_FSIZE };

	(void)argc;
	(void)argv;
	snprintf(g_dir, sizeof(g_dir), "%s/kvsfuzz-XXXXXX", tmp);
	if (!mkdtemp(g_dir))
		abort();
	snprintf(g_path, sizeof(g_path), "%s/store", g_dir);
	atexit(cleanup);
	/* a superblock claiming a huge capacity makes open extend the file: EFBIG, not a signal */
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &fs);
	if (io_uring_queue_init(64, &g_ring, 0) || executor_init(&g_ex, &g_ring))
		abort();
	executor_arm(&g_ex);
	build_valid();
	return 0;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The file this input stands for, in a malloc'd buffer. */
static uint8_t *make_file(const uint8_t *data, size_t size, size_t *len)
{
	static const uint8_t magic[8] = { 'N', 'K', 'R', 'V', 'S', 'S', 'B', '1' };
	uint8_t *img;
	size_t n = g_valid_len;

	if (size >= sizeof(magic) && !memcmp(data, magic, sizeof(magic))) {
		img = malloc(size ? size : 1);
		if (!img)
			abort();
		memcpy(img, data, size);
		*len = size;
		return img;
	}
	img = malloc(n);
	if (!img)
		abort();
	memcpy(img, g_valid, n);
	if (!size) {
		*len = n;
		return img;
	}
	switch (data[0] % 4) {
	case 1: /* cut, then flip */
		if (size >= 5) {
			n = rd32(data + 1) % (g_valid_len + 1);
			data += 4;
			size -= 4;
		}
		/* fall through */
	case 0:
		for (size_t i = 1; i + 5 <= size && n; i += 5)
			img[rd32(data + i) % n] ^= data[i + 4] ? data[i + 4] : 0x01;
		break;
	case 2:
		if (size >= 5) {
			size_t off = rd32(data + 1) % n, k = size - 5;

			memcpy(img + off, data + 5, k < n - off ? k : n - off);
		}
		break;
	case 3:
		for (size_t i = 1; i + 6 <= size; i += 6) {
			size_t off = rd32(data + i) % n, k = (size_t)data[i + 4] | (size_t)data[i + 5] << 8;

			memset(img + off, 0, k < n - off ? k : n - off);
		}
		break;
	}
	*len = n;
	return img;
}

/* Keys List reports (up to FUZZ_KEYS), each retrieved; *total: how many it reported, which
 * is every live key when the list fit. */
static unsigned listed_keys(struct kvs *kv, struct fkey *keys, uint64_t *total)
{
	static uint8_t out[64u << 10];
	uint32_t count, pos = 4, written = 0;
	unsigned n = 0;

	if (run(kv, KVS_OP_LIST, NULL, 0, out, sizeof(out), &written))
		abort(); /* List of the whole store cannot fail */
	if (written < 4)
		abort();
	count = rd32(out);
	*total = count;
	if (written + 4 + 20 < sizeof(out)) { /* it fit: it is every live key */
		struct kvs_stats st;

		kvs_get_stats(kv, &st);
		if (st.keys != count) {
			fprintf(stderr, "fuzz_kvs_recover: List reports %u keys, the index holds %llu\n",
				count, (unsigned long long)st.keys);
			abort();
		}
	}
	for (uint32_t i = 0; i < count; i++) {
		uint16_t kl;
		uint32_t vs = 0;
		uint16_t st;
		struct fkey *k;

		if (pos + 2 > written)
			abort();
		memcpy(&kl, out + pos, 2);
		if (kl < 1 || kl > KVS_KEY_MAX || pos + 2 + kl > written)
			abort();
		if (n == FUZZ_KEYS) {
			pos += (2 + kl + 3) & ~3u;
			continue;
		}
		k = &keys[n];
		k->len = (uint8_t)kl;
		memcpy(k->key, out + pos + 2, kl);
		pos += (2 + kl + 3) & ~3u;
		k->val = malloc(FUZZ_VBUF);
		if (!k->val)
			abort();
		/* a key List reports exists and reads back whole (recovery checked its CRC) */
		if (run(kv, KVS_OP_EXIST, k->key, k->len, NULL, 0, NULL) ||
		    (st = run(kv, KVS_OP_RETRIEVE, k->key, k->len, k->val, FUZZ_VBUF, &vs))) {
			fprintf(stderr, "fuzz_kvs_recover: listed key %u does not read back\n", i);
			abort();
		}
		k->size = vs;
		k->have = vs < FUZZ_VBUF ? vs : FUZZ_VBUF;
		n++;
	}
	return n;
}

static void check_same(struct kvs *kv, const struct fkey *k, bool present)
{
	static uint8_t buf[FUZZ_VBUF];
	uint32_t vs = 0;
	uint16_t st = run(kv, KVS_OP_RETRIEVE, k->key, k->len, buf, sizeof(buf), &vs);

	if (!present) {
		if ((st & 0xff) != 0x87) {
			fprintf(stderr, "fuzz_kvs_recover: deleted key came back (status %#x)\n", st);
			abort();
		}
		return;
	}
	if (st || vs != k->size || memcmp(buf, k->val, k->have)) {
		fprintf(stderr, "fuzz_kvs_recover: a key changed across a reopen (status %#x, size %u vs %u)\n",
			st, vs, k->size);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fkey keys[FUZZ_KEYS + 1];
	struct fkey *added = &keys[FUZZ_KEYS];
	uint64_t total = 0, total2 = 0; /* as List reported them (checked inside) */
	unsigned n, deleted = FUZZ_KEYS;
	char err[256];
	size_t len;
	uint8_t *img;
	struct kvs *kv;
	struct kvs_stats st1, st2;
	bool stored, existed;

	if (size > (1u << 20))
		return 0;
	img = make_file(data, size, &len);
	if (write_file(img, len)) {
		free(img);
		return 0;
	}
	free(img);
	kv = open_store(false, err, sizeof(err));
	if (!kv)
		return 0; /* refused, with a message */

	n = listed_keys(kv, keys, &total);
	kvs_get_stats(kv, &st1);
	/* a new key, and one listed key deleted */
	added->len = 16;
	memcpy(added->key, "fuzz-new-key-001", 16);
	added->size = added->have = 100;
	added->val = malloc(100);
	if (!added->val)
		abort();
	memset(added->val, 0xa5, 100);
	existed = run(kv, KVS_OP_EXIST, added->key, added->len, NULL, 0, NULL) == 0;
	stored = run(kv, KVS_OP_STORE, added->key, added->len, added->val, 100, NULL) == 0;
	if (n && (keys[0].len != added->len || memcmp(keys[0].key, added->key, added->len)) &&
	    run(kv, KVS_OP_DELETE, keys[0].key, keys[0].len, NULL, 0, NULL) == 0)
		deleted = 0;
	if (run(kv, KVS_OP_FLUSH, NULL, 0, NULL, 0, NULL))
		abort();
	pump(kv, NULL);
	kvs_close(kv);

	/* recovery of what we just wrote keeps exactly that */
	kv = open_store(false, err, sizeof(err));
	if (!kv) {
		fprintf(stderr, "fuzz_kvs_recover: a store that opened does not reopen: %s\n", err);
		abort();
	}
	for (unsigned i = 0; i < n; i++)
		check_same(kv, &keys[i], i != deleted);
	if (stored)
		check_same(kv, added, true);
	{
		static struct fkey tmp[FUZZ_KEYS];
		unsigned m = listed_keys(kv, tmp, &total2);

		for (unsigned i = 0; i < m; i++)
			free(tmp[i].val);
	}
	kvs_get_stats(kv, &st2);
	if (st2.keys != st1.keys + (stored && !existed) - (deleted == 0)) {
		fprintf(stderr, "fuzz_kvs_recover: %llu keys after the reopen, expected %llu\n",
			(unsigned long long)st2.keys,
			(unsigned long long)(st1.keys + (stored && !existed) - (deleted == 0)));
		abort();
	}
	pump(kv, NULL);
	kvs_close(kv);
	for (unsigned i = 0; i < n; i++)
		free(keys[i].val);
	free(added->val);
	return 0;
}
