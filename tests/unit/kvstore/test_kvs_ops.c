/* SPDX-License-Identifier: MIT */
/* KV operations, options, statuses, value sizes, List format and order; RAM and file logs. */
#include "spec/crc32c.h"
#include "kvs_test.h"
#include "kvstore/kvs_format.h"

#define MiB (1u << 20)

static void test_basic(struct kvs *kv, struct executor *ex, const char *m)
{
	uint8_t val[100], out[200];
	uint32_t vs = 0;

	t_fill(val, sizeof(val), 1, 0);
	tap_ok(t_store(kv, ex, "k1", 2, val, sizeof(val), 0) == 0, "%s: store", m);
	memset(out, 0xee, sizeof(out));
	tap_ok(t_retrieve(kv, ex, "k1", 2, out, sizeof(out), &vs) == 0 && vs == 100 &&
		     !memcmp(out, val, 100) && out[100] == 0xee,
	     "%s: retrieve returns the bytes and the value size, nothing past them", m);
	memset(out, 0xee, sizeof(out));
	tap_ok(t_retrieve(kv, ex, "k1", 2, out, 10, &vs) == 0 && vs == 100 && !memcmp(out, val, 10) &&
		     out[10] == 0xee,
	     "%s: retrieve into a smaller buffer is partial and reports the full size", m);
	tap_ok(t_simple(kv, ex, KVS_OP_EXIST, "k1", 2) == 0, "%s: exist", m);
	tap_ok(t_simple(kv, ex, KVS_OP_EXIST, "k2", 2) == ST(0x87), "%s: exist absent -> 0x87", m);
	tap_ok(t_retrieve(kv, ex, "k2", 2, out, sizeof(out), NULL) == ST(0x87),
	     "%s: retrieve absent -> 0x87", m);
	tap_ok(t_simple(kv, ex, KVS_OP_EXIST, "k", 1) == ST(0x87) &&
		     t_simple(kv, ex, KVS_OP_EXIST, "k1\0", 3) == ST(0x87),
	     "%s: keys differing only in length are different keys", m);

	/* options */
	tap_ok(t_store(kv, ex, "k1", 2, val, 5, KVS_STORE_MUST_NOT_EXIST) == ST(0x89),
	     "%s: store must-not-exist on a present key -> 0x89", m);
	tap_ok(t_store(kv, ex, "k2", 2, val, 5, KVS_STORE_MUST_EXIST) == ST(0x87),
	     "%s: store must-exist on an absent key -> 0x87", m);
	tap_ok(t_simple(kv, ex, KVS_OP_EXIST, "k2", 2) == ST(0x87), "%s: failed store left no key", m);
	tap_ok(t_store(kv, ex, "k1", 2, "abc", 3, KVS_STORE_MUST_EXIST) == 0 &&
		     t_retrieve(kv, ex, "k1", 2, out, sizeof(out), &vs) == 0 && vs == 3 &&
		     !memcmp(out, "abc", 3),
	     "%s: store must-exist overwrites", m);
	tap_ok(t_store(kv, ex, "k2", 2, "xy", 2, KVS_STORE_MUST_NOT_EXIST) == 0 &&
		     t_retrieve(kv, ex, "k2", 2, out, sizeof(out), &vs) == 0 && vs == 2,
	     "%s: store must-not-exist creates", m);

	/* delete */
	tap_ok(t_simple(kv, ex, KVS_OP_DELETE, "k2", 2) == 0, "%s: delete", m);
	tap_ok(t_retrieve(kv, ex, "k2", 2, out, sizeof(out), NULL) == ST(0x87) &&
		     t_simple(kv, ex, KVS_OP_EXIST, "k2", 2) == ST(0x87),
	     "%s: deleted key is gone", m);
	tap_ok(t_simple(kv, ex, KVS_OP_DELETE, "k2", 2) == ST(0x87), "%s: delete absent -> 0x87", m);
	tap_ok(t_store(kv, ex, "k2", 2, "new", 3, KVS_STORE_MUST_NOT_EXIST) == 0 &&
		     t_retrieve(kv, ex, "k2", 2, out, sizeof(out), &vs) == 0 && vs == 3 &&
		     !memcmp(out, "new", 3),
	     "%s: a deleted key can be stored again", m);

	/* sizes */
	tap_ok(t_store(kv, ex, "", 0, val, 4, 0) == ST(0x86) &&
		     t_store(kv, ex, "0123456789abcdefg", 17, val, 4, 0) == ST(0x86),
	     "%s: store key size 0 or 17 -> 0x86", m);
	tap_ok(t_retrieve(kv, ex, "", 0, out, 4, NULL) == ST(0x86) &&
		     t_simple(kv, ex, KVS_OP_DELETE, "", 0) == ST(0x86) &&
		     t_simple(kv, ex, KVS_OP_EXIST, "0123456789abcdefg", 17) == ST(0x86),
	     "%s: retrieve/delete/exist bad key size -> 0x86", m);
	tap_ok(t_store(kv, ex, "0123456789abcdef", 16, "v", 1, 0) == 0 &&
		     t_simple(kv, ex, KVS_OP_EXIST, "0123456789abcdef", 16) == 0,
	     "%s: 16-byte key", m);
	tap_ok(t_store(kv, ex, "big", 3, NULL, kvs_max_value(kv) + 1, 0) == ST(0x85),
	     "%s: value above the maximum -> 0x85", m);
	tap_ok(t_store(kv, ex, "empty", 5, NULL, 0, 0) == 0 &&
		     t_retrieve(kv, ex, "empty", 5, out, sizeof(out), &vs) == 0 && vs == 0,
	     "%s: empty value", m);
	tap_ok(t_simple(kv, ex, KVS_OP_FLUSH, NULL, 0) == 0, "%s: flush", m);
}

static void test_value_sizes(struct kvs *kv, struct executor *ex, const char *m)
{
	static const uint32_t sizes[] = { 1, 3, 7, 8, 9, 511, 4096, 4097, 65536, 300000, MiB - 1, MiB };
	size_t n = sizeof(sizes) / sizeof(sizes[0]);
	uint8_t *val = malloc(MiB), *out = malloc(MiB + 64);
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		char key[8];

		snprintf(key, sizeof(key), "sz%zu", i);
		t_fill(val, sizes[i], (uint32_t)i, 7);
		if (t_store(kv, ex, key, (unsigned)strlen(key), val, sizes[i], 0))
			bad++;
	}
	tap_ok(!bad, "%s: store values of 1 B .. 1 MiB", m);
	bad = 0;
	for (size_t i = 0; i < n; i++) {
		char key[8];
		uint32_t vs = 0;

		snprintf(key, sizeof(key), "sz%zu", i);
		t_fill(val, sizes[i], (uint32_t)i, 7);
		memset(out, 0, sizes[i]);
		if (t_retrieve(kv, ex, key, (unsigned)strlen(key), out, MiB + 64, &vs) || vs != sizes[i] ||
		    memcmp(out, val, sizes[i]))
			bad++;
	}
	tap_ok(!bad, "%s: retrieve values of 1 B .. 1 MiB byte for byte", m);
	free(val);
	free(out);
}

/* Parse a List buffer into keys; checks the padding is zero. Returns count or -1. */
static int parse_list(const uint8_t *buf, uint32_t len, char keys[][17], int max)
{
	uint32_t count, pos = 4;

	if (len < 4)
		return -1;
	memcpy(&count, buf, 4);
	for (uint32_t i = 0; i < count; i++) {
		uint16_t kl;
		uint32_t el;

		if ((int)i >= max || pos + 2 > len)
			return -1;
		memcpy(&kl, buf + pos, 2);
		el = (2 + kl + 3) & ~3u;
		if (kl < 1 || kl > 16 || pos + el > len)
			return -1;
		memcpy(keys[i], buf + pos + 2, kl);
		keys[i][kl] = 0;
		for (uint32_t p = pos + 2 + kl; p < pos + el; p++)
			if (buf[p])
				return -1;
		pos += el;
	}
	return pos == len ? (int)count : -1;
}

static uint16_t t_list(struct kvs *kv, struct executor *ex, const char *start, void *buf,
		       uint32_t len, uint32_t *written)
{
	struct t_io t;
	uint16_t st;

	t_io_prep(&t, KVS_OP_LIST, start, start ? (unsigned)strlen(start) : 0, buf, len, 0);
	st = t_run(kv, ex, &t);
	*written = t.io.value_size;
	return st;
}

static void test_list(struct kvs *kv, struct executor *ex, const char *m)
{
	/* Inserted shuffled; expected order: memcmp, then shorter first. */
	static const char *ins[] = { "b", "ab", "a", "abc", "ba", "zzzzzzzzzzzzzzzz", "A", "b0", "aa" };
	static const char *sorted[] = { "A", "a", "aa", "ab", "abc", "b", "b0", "ba", "zzzzzzzzzzzzzzzz" };
	uint8_t buf[512];
	char keys[32][17];
	uint32_t w = 0;
	int n, ok;

	for (size_t i = 0; i < 9; i++)
		t_store(kv, ex, ins[i], (unsigned)strlen(ins[i]), "v", 1, 0);
	t_store(kv, ex, "gone", 4, "v", 1, 0);
	t_simple(kv, ex, KVS_OP_DELETE, "gone", 4);

	memset(buf, 0xaa, sizeof(buf));
	ok = t_list(kv, ex, NULL, buf, sizeof(buf), &w) == 0;
	n = parse_list(buf, w, keys, 32);
	for (int i = 0; ok && i < 9; i++)
		ok = n == 9 && !strcmp(keys[i], sorted[i]);
	tap_ok(ok, "%s: list all: 9 keys in key order, deleted key absent, zero padding", m);
	/* exact bytes of the first entries: count, {1,'A',0,0}, {1,'a',0,0}, {2,'a','a'} */
	tap_ok(buf[0] == 9 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0 && buf[4] == 1 && buf[5] == 0 &&
		     buf[6] == 'A' && buf[7] == 0 && buf[8] == 1 && buf[10] == 'a' && buf[12] == 2 &&
		     buf[14] == 'a' && buf[15] == 'a' && buf[16] == 2 && buf[20] == 3 && buf[25] == 0,
	     "%s: list wire bytes: u32 count, u16 length, key, pad to 4", m);

	ok = t_list(kv, ex, "ab", buf, sizeof(buf), &w) == 0;
	n = parse_list(buf, w, keys, 32);
	tap_ok(ok && n == 6 && !strcmp(keys[0], "ab") && !strcmp(keys[5], "zzzzzzzzzzzzzzzz"),
	     "%s: list from a start key returns keys >= it", m);
	ok = t_list(kv, ex, "abd", buf, sizeof(buf), &w) == 0;
	n = parse_list(buf, w, keys, 32);
	tap_ok(ok && n == 4 && !strcmp(keys[0], "b"), "%s: list from a key that is absent", m);

	/* 4 + 4 + 4 + 4 (A, a, aa) + 8 (ab: 2+2 -> 4; abc 2+3 -> 8) : buffer of 17 fits 3 */
	memset(buf, 0xaa, sizeof(buf));
	ok = t_list(kv, ex, NULL, buf, 17, &w) == 0;
	n = parse_list(buf, w, keys, 32);
	tap_ok(ok && n == 3 && w == 16 && buf[16] == 0xaa && !strcmp(keys[2], "aa"),
	     "%s: list truncates to whole entries that fit", m);
	ok = t_list(kv, ex, NULL, buf, 3, &w) == 0;
	tap_ok(ok && w == 0, "%s: list into a buffer below 4 bytes writes nothing", m);
	ok = t_list(kv, ex, "zzzzzzzzzzzzzzzz~", buf, sizeof(buf), &w) == ST(0x86);
	tap_ok(ok, "%s: list start key of 17 bytes -> 0x86", m);
	ok = t_list(kv, ex, "zzzzzzzzzzzzzzzz", buf, sizeof(buf), &w) == 0;
	n = parse_list(buf, w, keys, 32);
	tap_ok(ok && n == 1, "%s: list from the last key", m);
	for (size_t i = 0; i < 9; i++)
		t_simple(kv, ex, KVS_OP_DELETE, ins[i], (unsigned)strlen(ins[i]));
}

static void test_usage(struct kvs *kv, struct executor *ex, const char *m)
{
	uint8_t val[4096];
	uint64_t u0 = kvs_used(kv), u1, u2;

	t_fill(val, sizeof(val), 9, 9);
	t_store(kv, ex, "use", 3, val, sizeof(val), 0);
	u1 = kvs_used(kv);
	t_simple(kv, ex, KVS_OP_DELETE, "use", 3);
	u2 = kvs_used(kv);
	tap_ok(u1 >= u0 + 4096 && u2 < u1 && kvs_capacity(kv) > u1, "%s: NUSE follows stores and deletes",
	     m);
}

static void run_all(const struct kvs_config *cfg, const char *m)
{
	struct kvs *kv;
	struct t_ring ring;
	char err[256];
	int r = kvs_open(&kv, cfg, err, sizeof(err));

	tap_ok(r == 0, "%s: open (%s)", m, r ? err : "ok");
	if (r)
		return;
	t_ring_init(&ring, 64);
	test_list(kv, &ring.ex, m); /* first: it expects exactly its own keys */
	test_basic(kv, &ring.ex, m);
	test_value_sizes(kv, &ring.ex, m);
	test_usage(kv, &ring.ex, m);
	tap_ok(t_drain(kv, &ring.ex) == 0, "%s: engine drains", m);
	t_ring_exit(&ring);
	kvs_close(kv);
}

/*
 * Records that do not pack a segment (three 16 KiB values per 64 KiB segment leave a quarter
 * of each unused): when the store fills up, a store must fail with 0x81 at once, and GC must
 * not compact the same data forever trying to make room it cannot make (the engine goes idle).
 */
static void test_capacity_frag(const char *path, const char *m)
{
	struct kvs_config cfg = { .path = path, .capacity = 4096 + 15 * 65536, .segment_size = 65536,
				  .max_value = 16384, .format = true };
	static uint8_t val[16384];
	struct kvs *kv;
	struct t_ring ring;
	char err[256];
	uint16_t st = 0;
	unsigned n;

	if (kvs_open(&kv, &cfg, err, sizeof(err))) {
		tap_ok(0, "%s: open: %s", m, err);
		return;
	}
	t_ring_init(&ring, 64);
	for (n = 0; n < 200; n++) {
		char key[16];

		snprintf(key, sizeof(key), "f%u", n);
		st = t_store(kv, &ring.ex, key, (unsigned)strlen(key), val, sizeof(val), 0);
		if (st)
			break;
	}
	tap_ok(st == ST(0x81) && n >= 30, "%s: 16 KiB values in 64 KiB segments fill the store, then 0x81 "
	     "(after %u stores, status %#x)", m, n, st);
	tap_ok(t_drain(kv, &ring.ex) == 0 && kvs_idle(kv), "%s: and the engine goes idle", m);
	tap_ok(t_store(kv, &ring.ex, "more", 4, val, sizeof(val), 0) == ST(0x81), "%s: a second try is 0x81 too", m);
	for (unsigned i = 0; i < n; i += 3) {
		char key[16];

		snprintf(key, sizeof(key), "f%u", i);
		t_simple(kv, &ring.ex, KVS_OP_DELETE, key, (unsigned)strlen(key));
	}
	t_drain(kv, &ring.ex);
	st = t_store(kv, &ring.ex, "again", 5, val, sizeof(val), 0);
	tap_ok(st == 0, "%s: after deleting a third, a store fits again (status %#x)", m, st);
	t_drain(kv, &ring.ex);
	kvs_close(kv);
	t_ring_exit(&ring);
}

static void test_capacity(const char *path, const char *m)
{
	struct kvs_config cfg = { .path = path, .capacity = 4096 + 8 * 65536, .segment_size = 65536,
				  .max_value = 8192, .format = true };
	struct kvs *kv;
	struct t_ring ring;
	char err[256];
	uint8_t val[4000];
	uint16_t st = 0;
	unsigned n = 0;

	if (kvs_open(&kv, &cfg, err, sizeof(err))) {
		tap_ok(0, "%s: open small store: %s", m, err);
		return;
	}
	t_ring_init(&ring, 64);
	for (n = 0; n < 1000; n++) {
		char key[16];

		snprintf(key, sizeof(key), "c%u", n);
		t_fill(val, sizeof(val), n, 0);
		st = t_store(kv, &ring.ex, key, (unsigned)strlen(key), val, sizeof(val), 0);
		if (st)
			break;
	}
	tap_ok(st == ST(0x81) && n > 50 && (uint64_t)n * sizeof(val) <= kvs_capacity(kv),
	     "%s: unique keys fill the store, then 0x81 (after %u stores)", m, n);
	/* delete half, GC makes room, stores succeed again */
	for (unsigned i = 0; i < n; i += 2) {
		char key[16];

		snprintf(key, sizeof(key), "c%u", i);
		t_simple(kv, &ring.ex, KVS_OP_DELETE, key, (unsigned)strlen(key));
	}
	t_drain(kv, &ring.ex);
	st = t_store(kv, &ring.ex, "again", 5, val, sizeof(val), 0);
	tap_ok(st == 0, "%s: after deletes a store fits again (status %#x)", m, st);
	{
		char key[16];
		uint8_t out[4000];
		int bad = 0;

		for (unsigned i = 1; i < n; i += 2) {
			snprintf(key, sizeof(key), "c%u", i);
			t_fill(val, sizeof(val), i, 0);
			if (t_retrieve(kv, &ring.ex, key, (unsigned)strlen(key), out, sizeof(out), NULL) ||
			    memcmp(out, val, sizeof(val)))
				bad++;
		}
		tap_ok(!bad, "%s: surviving keys intact after GC (%d bad)", m, bad);
	}
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	kvs_close(kv);
}

/* Volatile cache: stores complete without a sync; a flush issues exactly one. */
static void test_vwc(const char *path)
{
	struct kvs_config cfg = { .path = path, .capacity = 64 * MiB, .format = true,
				  .volatile_cache = true };
	struct kvs_stats a, b, c;
	struct kvs *kv;
	struct t_ring ring;
	char err[256];
	int bad = 0;

	if (kvs_open(&kv, &cfg, err, sizeof(err))) {
		tap_ok(0, "vwc: open: %s", err);
		return;
	}
	t_ring_init(&ring, 64);
	t_drain(kv, &ring.ex);
	kvs_get_stats(kv, &a);
	for (int i = 0; i < 20; i++) {
		char key[8];

		snprintf(key, sizeof(key), "v%d", i);
		bad += t_store(kv, &ring.ex, key, (unsigned)strlen(key), "data", 4, 0) != 0;
	}
	kvs_get_stats(kv, &b);
	tap_ok(!bad && b.stores == a.stores + 20 && b.syncs == a.syncs,
	     "vwc: 20 stores complete with no sync (%llu)", (unsigned long long)(b.syncs - a.syncs));
	tap_ok(t_simple(kv, &ring.ex, KVS_OP_FLUSH, NULL, 0) == 0, "vwc: flush succeeds");
	kvs_get_stats(kv, &c);
	tap_ok(c.syncs == b.syncs + 1, "vwc: flush issued one sync");
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	kvs_close(kv);

	cfg.volatile_cache = false;
	if (kvs_open(&kv, &cfg, err, sizeof(err)))
		return;
	t_ring_init(&ring, 64);
	kvs_get_stats(kv, &a);
	tap_ok(t_store(kv, &ring.ex, "w", 1, "x", 1, 0) == 0 && (kvs_get_stats(kv, &b), b.syncs == a.syncs + 1),
	     "write-through: a lone store is synced before it completes");
	tap_ok(t_simple(kv, &ring.ex, KVS_OP_FLUSH, NULL, 0) == 0 && (kvs_get_stats(kv, &c), c.syncs == b.syncs),
	     "write-through: flush needs no extra sync");
	t_drain(kv, &ring.ex);
	t_ring_exit(&ring);
	kvs_close(kv);
}

/* Write a superblock with this geometry (and a valid CRC) over path, then open it. */
static int sb_geometry_refused(const char *path, uint32_t seg_size, uint64_t capacity, char *err)
{
	struct kvs_config cfg = { .path = path, .max_value = 1024 };
	struct kvs_sb sb = { 0 };
	struct kvs *kv = NULL;
	FILE *f;
	int ret;

	sb.magic = KVS_SB_MAGIC;
	sb.version = KVS_VERSION;
	sb.capacity = capacity;
	sb.seg_base = KVS_SB_LEN;
	sb.seg_size = seg_size;
	sb.nsegs = (uint32_t)((capacity - KVS_SB_LEN) / seg_size);
	sb.crc = crc32c(&sb, sizeof(sb));
	f = fopen(path, "r+b");
	if (!f || fwrite(&sb, sizeof(sb), 1, f) != 1)
		return -EIO;
	fclose(f);
	err[0] = '\0';
	ret = kvs_open(&kv, &cfg, err, 256);
	if (kv)
		kvs_close(kv);
	return kv ? 1 : ret;
}

static void test_open_errors(const char *path)
{
	struct kvs_config nomem = { .path = "kv:mem" };
	struct kvs_config bigval = { .path = "kv:mem", .capacity = 64 * MiB, .segment_size = 65536,
				     .max_value = 65536 };
	struct kvs_config few = { .path = "kv:mem", .capacity = 4 * 65536, .segment_size = 65536,
				  .max_value = 1024 };
	struct kvs_config file = { .path = path, .capacity = 8 * MiB, .segment_size = 65536,
				   .max_value = 1024, .format = true };
	struct kvs *kv = NULL;
	char err[256] = "";
	FILE *f;
	uint8_t b;

	tap_ok(kvs_open(&kv, &nomem, err, sizeof(err)) == -EINVAL && !kv && *err,
	     "open kv:mem without a capacity fails (%s)", err);
	tap_ok(kvs_open(&kv, &bigval, err, sizeof(err)) == -EINVAL && !kv,
	     "open with a max value that does not fit a segment fails (%s)", err);
	tap_ok(kvs_open(&kv, &few, err, sizeof(err)) == -EINVAL && !kv,
	     "open with too few segments fails (%s)", err);
	if (kvs_open(&kv, &file, err, sizeof(err)) == 0)
		kvs_close(kv);
	/* damage the superblock's segment size: CRC no longer matches */
	f = fopen(path, "r+b");
	fseek(f, 32, SEEK_SET);
	b = (uint8_t)fgetc(f);
	fseek(f, 32, SEEK_SET);
	fputc(b ^ 1, f);
	fclose(f);
	file.format = false;
	kv = NULL;
	tap_ok(kvs_open(&kv, &file, err, sizeof(err)) == -EUCLEAN && !kv,
	     "open with a corrupt superblock fails (%s)", err);
	file.format = true;
	tap_ok(kvs_open(&kv, &file, err, sizeof(err)) == 0, "format over a corrupt superblock works");
	kvs_close(kv);
	/* well-formed superblocks (valid CRC) with a geometry beyond the limits: refused before
	 * anything is sized by them */
	tap_ok(sb_geometry_refused(path, 2u << 30, 1ull << 40, err) == -EUCLEAN && *err,
	       "a superblock with 2 GiB segments is refused (%s)", err);
	tap_ok(sb_geometry_refused(path, 4096, 4096 + (4096ull << 23), err) == -EUCLEAN && *err,
	       "a superblock with 2^23 segments is refused (%s)", err);
	tap_ok(sb_geometry_refused(path, 65536, 4096 + 65536ull * ((1ull << 32) + 6), err) == -EUCLEAN &&
		       *err,
	       "a superblock whose segment count wraps 32 bits is refused (%s)", err);
}

static void test_config_opts(void)
{
	struct kvs_config c = { 0 };
	char err[128];

	tap_ok(kvs_config_opt(&c, "size", "64M", err, sizeof(err)) == 0 && c.capacity == 64u << 20 &&
		     kvs_config_opt(&c, "segment", "1MiB", err, sizeof(err)) == 0 &&
		     c.segment_size == 1u << 20 &&
		     kvs_config_opt(&c, "max_value", "65536", err, sizeof(err)) == 0 &&
		     c.max_value == 65536 && kvs_config_opt(&c, "gc", "30", err, sizeof(err)) == 0 &&
		     c.gc_threshold == 30 && kvs_config_opt(&c, "vwc", NULL, err, sizeof(err)) == 0 &&
		     c.volatile_cache && kvs_config_opt(&c, "format", "no", err, sizeof(err)) == 0 &&
		     !c.format,
	     "config options parse");
	tap_ok(kvs_config_opt(&c, "segment", "1000", err, sizeof(err)) == -ERANGE &&
		     kvs_config_opt(&c, "gc", "100", err, sizeof(err)) == -ERANGE &&
		     kvs_config_opt(&c, "size", "12X", err, sizeof(err)) == -EINVAL &&
		     kvs_config_opt(&c, "vwc", "maybe", err, sizeof(err)) == -EINVAL &&
		     kvs_config_opt(&c, "colour", "red", err, sizeof(err)) == -ENOENT &&
		     strstr(err, "colour"),
	     "config options reject bad values and unknown keys");
}

int main(void)
{
	char *path = t_tmpfile();
	struct kvs_config mem = { .path = "kv:mem", .capacity = 64 * MiB };
	struct kvs_config file = { .path = path, .capacity = 64 * MiB, .format = true };
	struct kvs_config vfile = { .path = path, .capacity = 64 * MiB, .format = true,
				    .volatile_cache = true };

	test_config_opts();
	run_all(&mem, "mem");
	run_all(&file, "file");
	run_all(&vfile, "file+vwc");
	test_capacity("kv:mem", "mem");
	test_capacity(path, "file");
	test_capacity_frag("kv:mem", "mem");
	test_capacity_frag(path, "file");
	test_vwc(path);
	test_open_errors(path);
	unlink(path);
	free(path);
	return tap_done();
}
