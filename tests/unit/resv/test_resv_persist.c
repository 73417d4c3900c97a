/* SPDX-License-Identifier: MIT */
/*
 * Reservation state through power loss: serialize/deserialize round trips, the file layout
 * byte by byte, atomic save and load through a real directory, and refusal of every kind of
 * corrupt file (each single-byte change, each truncation, consistent-CRC semantic errors).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvringd/resv.h"
#include "spec/crc32c.h"
#include "tap.h"

static uint8_t hid[3][16];
static char dir[64];

static void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static void cmd(struct resv *rs, int h, int op, uint32_t cdw10, uint64_t k1, uint64_t k2)
{
	struct resv_outcome o;
	uint8_t d[16];
	uint16_t st;

	put_le64(d, k1);
	put_le64(d + 8, k2);
	st = op == 0 ? resv_register(rs, hid[h], cdw10, d, 16, &o) : resv_acquire(rs, hid[h], cdw10, d, 16, &o);
	if (st)
		tap_diag("setup command failed: 0x%x", st);
}

/* A, B, C registered (A with PTPL on), A holds Write Exclusive - Registrants Only. */
static void populated(struct resv *rs)
{
	resv_init(rs, 5, true);
	cmd(rs, 0, 0, 3u << 30, 0, 0xa1);
	cmd(rs, 1, 0, 0, 0, 0xb2);
	cmd(rs, 2, 0, 0, 0, 0xc3);
	cmd(rs, 0, 1, 3u << 8, 0xa1, 0); /* acquire WERO */
}

static bool same_state(const struct resv *a, const struct resv *b)
{
	if (a->ptpl != b->ptpl || a->rtype != b->rtype || a->holder != b->holder || a->gen != b->gen ||
	    a->nregs != b->nregs)
		return false;
	for (unsigned i = 0; i < a->nregs; i++)
		if (memcmp(a->regs[i].hostid, b->regs[i].hostid, 16) || a->regs[i].rkey != b->regs[i].rkey)
			return false;
	return true;
}

/* Rewrite the trailing CRC so a semantic error gets past the checksum. */
static void fix_crc(uint8_t *buf, size_t len)
{
	uint32_t crc = htole32(crc32c(buf, len - 4));

	memcpy(buf + len - 4, &crc, 4);
}

static void test_layout_and_roundtrip(void)
{
	struct resv rs, back;
	uint8_t buf[RESV_FILE_MAX];
	char err[256];
	ssize_t len;

	populated(&rs);
	len = resv_serialize(&rs, buf, sizeof(buf));
	tap_eq(len, 24 + 3 * 24 + 4, "three registrants: 100 bytes");
	tap_ok(memcmp(buf, "NVRRESV\0", 8) == 0, "magic");
	tap_ok(buf[8] == 1 && buf[9] == 0, "version 1");
	tap_ok(buf[10] == 1 && buf[11] == 3, "PTPLS 1, RTYPE 3");
	tap_eq(le32toh(*(uint32_t *)(buf + 12)), rs.gen, "GEN");
	tap_ok(buf[16] == 3 && buf[17] == 0 && buf[18] == 0, "NREGS 3, holder index 0");
	tap_ok(memcmp(buf + 24, hid[0], 16) == 0 && buf[40] == 0xa1 && buf[41] == 0, "registrant 0: A, key a1");
	tap_ok(memcmp(buf + 72, hid[2], 16) == 0 && buf[88] == 0xc3, "registrant 2: C, key c3");
	tap_eq(le32toh(*(uint32_t *)(buf + 96)), crc32c(buf, 96), "CRC32C of the rest at the end");
	tap_eq(resv_serialize(&rs, buf, (size_t)len - 1), -ENOSPC, "one byte short: -ENOSPC");

	resv_init(&back, 5, true);
	back.notify_mask = 0x2;
	tap_eq(resv_deserialize(&back, buf, (size_t)len, err, sizeof(err)), 0, "deserialize");
	tap_ok(same_state(&rs, &back), "same registrants, keys, holder, type, GEN, PTPL");
	tap_ok(back.nsid == 5 && back.ptpl_capable && back.notify_mask == 0x2, "namespace fields untouched");

	/* PTPL off: the file records the power-on state */
	cmd(&rs, 1, 0, 2u << 30, 0, 0xb2); /* CPTPL 10b */
	len = resv_serialize(&rs, buf, sizeof(buf));
	tap_eq(len, 28, "PTPL off: header and CRC only");
	resv_init(&back, 5, true);
	tap_eq(resv_deserialize(&back, buf, (size_t)len, err, sizeof(err)), 0, "deserialize the PTPL-off state");
	tap_ok(!back.ptpl && back.nregs == 0 && back.rtype == 0 && back.holder == -1 && back.gen == rs.gen,
	       "loads as empty, PTPL off, GEN kept");

	/* all-registrants type: no holder index */
	populated(&rs);
	cmd(&rs, 0, 1, (1u << 0) | (5u << 8), 0xa1, 0xa1); /* A preempts itself into WEAR */
	len = resv_serialize(&rs, buf, sizeof(buf));
	tap_ok(buf[11] == 5 && buf[18] == 0xff, "WEAR: holder byte FFh");
	resv_init(&back, 5, true);
	tap_eq(resv_deserialize(&back, buf, (size_t)len, err, sizeof(err)), 0, "WEAR round trip");
	tap_ok(same_state(&rs, &back) && back.holder == -1, "WEAR state equal");
}

static void test_corrupt(void)
{
	struct resv rs, back, before;
	uint8_t buf[RESV_FILE_MAX], bad[RESV_FILE_MAX];
	char err[256];
	size_t len;
	bool all;

	populated(&rs);
	len = (size_t)resv_serialize(&rs, buf, sizeof(buf));
	resv_init(&before, 5, true);
	cmd(&before, 1, 0, 0, 0, 0x55);

	all = true;
	for (size_t i = 0; i < len; i++) {
		memcpy(bad, buf, len);
		bad[i] ^= 0x01;
		back = before;
		if (resv_deserialize(&back, bad, len, err, sizeof(err)) != -EINVAL || !same_state(&back, &before))
			all = false;
	}
	tap_ok(all, "every single-bit change refused, state left as it was");
	all = true;
	for (size_t l = 0; l < len; l++) {
		back = before;
		if (resv_deserialize(&back, buf, l, err, sizeof(err)) != -EINVAL)
			all = false;
	}
	tap_ok(all, "every truncation refused");

	static const struct { size_t off; uint8_t val; const char *what; } cases[] = {
		{ 8, 2, "unsupported version" },
		{ 10, 2, "reserved bits" },      /* PTPLS 2 */
		{ 11, 7, "reservation type" },
		{ 18, 3, "holder 3" },           /* index past the registrants */
		{ 18, 0xff, "holder 255" },      /* WERO needs a holder */
		{ 19, 1, "reserved bits" },
		{ 20, 1, "reserved bits" },
		{ 16, 65, "more than" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		memcpy(bad, buf, len);
		bad[cases[c].off] = cases[c].val;
		fix_crc(bad, len);
		err[0] = 0;
		tap_eq(resv_deserialize(&back, bad, len, err, sizeof(err)), -EINVAL, "byte %zu = %u refused",
		       cases[c].off, cases[c].val);
		tap_ok(strstr(err, cases[c].what) != NULL, "message names it: %s", err);
	}
	memcpy(bad, buf, len);
	memcpy(bad + 48, bad + 24, 16); /* registrant 1 = registrant 0's host */
	fix_crc(bad, len);
	tap_eq(resv_deserialize(&back, bad, len, err, sizeof(err)), -EINVAL, "duplicate host id refused");
	tap_ok(strstr(err, "repeats") != NULL, "message: %s", err);
	memcpy(bad, buf, len);
	bad[10] = 0; /* PTPLS 0 with registrants */
	fix_crc(bad, len);
	tap_eq(resv_deserialize(&back, bad, len, err, sizeof(err)), -EINVAL, "registrations without PTPL refused");
	memcpy(bad, buf, 28); /* header only, claiming WEAR with no registrants */
	bad[11] = 5, bad[16] = 0, bad[18] = 0xff;
	fix_crc(bad, 28);
	tap_eq(resv_deserialize(&back, bad, 28, err, sizeof(err)), -EINVAL, "WEAR without registrants refused");
	memcpy(bad, buf, 28);
	bad[11] = 0, bad[16] = 0, bad[18] = 0;
	fix_crc(bad, 28);
	tap_eq(resv_deserialize(&back, bad, 28, err, sizeof(err)), -EINVAL, "holder without a reservation refused");
	tap_ok(same_state(&back, &before), "and none of them touched the state");
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static void write_file(const char *p, const void *b, size_t n)
{
	FILE *f = fopen(p, "wb");

	if (f) {
		fwrite(b, 1, n, f);
		fclose(f);
	}
}

static void test_files(void)
{
	struct resv rs, back;
	char path[128], tmp[140], err[256];
	uint8_t big[RESV_FILE_MAX + 8];

	snprintf(path, sizeof(path), "%s/ns1.resv", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	resv_init(&back, 5, true);
	tap_eq(resv_load_file(&back, path, err, sizeof(err)), 0, "no file: 0");
	tap_ok(back.nregs == 0 && !back.ptpl, "no file: state unchanged");

	populated(&rs);
	tap_eq(resv_save_file(&rs, path, err, sizeof(err)), 0, "save");
	tap_ok(exists(path) && !exists(tmp), "file in place, no temp file left");
	tap_eq(resv_load_file(&back, path, err, sizeof(err)), 0, "load");
	tap_ok(same_state(&rs, &back), "loaded state equals saved");

	cmd(&rs, 2, 0, 1, 0xc3, 0); /* C unregisters */
	tap_eq(resv_save_file(&rs, path, err, sizeof(err)), 0, "save over the old file");
	resv_init(&back, 5, true);
	resv_load_file(&back, path, err, sizeof(err));
	tap_ok(same_state(&rs, &back) && back.nregs == 2, "replaced: two registrants");

	/* corrupt on disk */
	FILE *f = fopen(path, "r+b");
	if (f) {
		fseek(f, 30, SEEK_SET);
		fputc(0x5a, f);
		fclose(f);
	}
	resv_init(&back, 5, true);
	err[0] = 0;
	tap_eq(resv_load_file(&back, path, err, sizeof(err)), -EINVAL, "corrupt file refused");
	tap_ok(strstr(err, path) && strstr(err, "checksum"), "message names the file and the fault: %s", err);
	tap_ok(back.nregs == 0, "state not guessed from a corrupt file");

	memset(big, 0, sizeof(big));
	write_file(path, big, sizeof(big));
	tap_eq(resv_load_file(&back, path, err, sizeof(err)), -EINVAL, "oversized file refused");
	tap_ok(strstr(err, "larger") != NULL, "message: %s", err);
	write_file(path, big, 0);
	tap_eq(resv_load_file(&back, path, err, sizeof(err)), -EINVAL, "empty file refused");

	tap_eq(resv_load_file(&back, dir, err, sizeof(err)), -EINVAL, "a directory refused");
	tap_ok(strstr(err, "regular") != NULL, "message: %s", err);
	snprintf(path, sizeof(path), "%s/no/such/dir/x.resv", dir);
	tap_eq(resv_save_file(&rs, path, err, sizeof(err)), -ENOENT, "save into a missing directory");
	tap_ok(strstr(err, "x.resv.tmp") != NULL, "message names the file: %s", err);
}

int main(void)
{
	char path[128];

	for (int h = 0; h < 3; h++)
		for (int i = 0; i < 16; i++)
			hid[h][i] = (uint8_t)(0x40 * (h + 1) + i);
	snprintf(dir, sizeof(dir), "/tmp/nvring-resv-XXXXXX");
	if (!mkdtemp(dir)) {
		tap_ok(false, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	test_layout_and_roundtrip();
	test_corrupt();
	test_files();
	snprintf(path, sizeof(path), "%s/ns1.resv", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
