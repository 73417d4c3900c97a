/* SPDX-License-Identifier: MIT */
/*
 * Reservation state through power loss: a small file next to the namespace, replaced
 * atomically, checked strictly when loaded. Little-endian layout:
 *
 *   0  magic "NVRRESV\0"       8  version u16 (1)   10 PTPLS u8   11 RTYPE u8
 *   12 GEN u32                  16 NREGS u16         18 holder index u8 (FFh: none / all)
 *   19 reserved (0) u8          20 reserved (0) u32
 *   24 NREGS x { host id [16], key u64 }            then CRC32C u32 of every byte before it
 *
 * With PTPLS 0 the file records the power-on state: no registrants, no reservation.
 */
#include "resv.h"
#include "util/errf.h"

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvme/types.h>

#include "spec/crc32c.h"

#define RESV_FILE_MAGIC "NVRRESV"
#define RESV_FILE_VERSION 1
#define RESV_NO_HOLDER 0xff

struct resv_file_hdr {
	char magic[8];
	uint16_t version;
	uint8_t ptpl;
	uint8_t rtype;
	uint32_t gen;
	uint16_t nregs;
	uint8_t holder;
	uint8_t rsvd19;
	uint32_t rsvd20;
} __attribute__((packed));

struct resv_file_reg {
	uint8_t hostid[RESV_HOSTID_LEN];
	uint64_t rkey;
} __attribute__((packed));

static_assert(sizeof(struct resv_file_hdr) == 24, "state file header");
static_assert(sizeof(struct resv_file_reg) == 24, "state file registrant");
static_assert(RESV_FILE_MAX == sizeof(struct resv_file_hdr) + RESV_MAX_REGISTRANTS * sizeof(struct resv_file_reg) + 4,
	      "RESV_FILE_MAX");
static_assert(RESV_MAX_REGISTRANTS < RESV_NO_HOLDER, "holder index fits a byte");

ssize_t resv_serialize(const struct resv *rs, void *buf, size_t cap)
{
	unsigned n = rs->ptpl ? rs->nregs : 0;
	size_t len = sizeof(struct resv_file_hdr) + n * sizeof(struct resv_file_reg) + 4;
	struct resv_file_hdr h;
	uint8_t *p = buf;
	uint32_t crc;

	if (cap < len)
		return -ENOSPC;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, RESV_FILE_MAGIC, sizeof(RESV_FILE_MAGIC));
	h.version = htole16(RESV_FILE_VERSION);
	h.ptpl = rs->ptpl;
	h.rtype = rs->ptpl ? rs->rtype : 0;
	h.gen = htole32(rs->gen);
	h.nregs = htole16((uint16_t)n);
	h.holder = rs->ptpl && rs->holder >= 0 ? (uint8_t)rs->holder : RESV_NO_HOLDER;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	for (unsigned i = 0; i < n; i++) {
		struct resv_file_reg r;

		memcpy(r.hostid, rs->regs[i].hostid, RESV_HOSTID_LEN);
		r.rkey = htole64(rs->regs[i].rkey);
		memcpy(p, &r, sizeof(r));
		p += sizeof(r);
	}
	crc = htole32(crc32c(buf, (size_t)(p - (uint8_t *)buf)));
	memcpy(p, &crc, sizeof(crc));
	return (ssize_t)len;
}

int resv_deserialize(struct resv *rs, const void *buf, size_t len, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	struct resv_file_hdr h;
	struct resv next;
	uint32_t crc;
	unsigned n;
	bool all_regs;

	if (len < sizeof(h) + 4)
		return nvr_errf(err, errlen, -EINVAL, "reservation state: %zu bytes, shorter than a header", len);
	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, RESV_FILE_MAGIC, sizeof(h.magic)) != 0)
		return nvr_errf(err, errlen, -EINVAL, "reservation state: bad magic");
	if (le16toh(h.version) != RESV_FILE_VERSION)
		return nvr_errf(err, errlen, -EINVAL, "reservation state: unsupported version %u", le16toh(h.version));
	n = le16toh(h.nregs);
	if (n > RESV_MAX_REGISTRANTS)
		return nvr_errf(err, errlen, -EINVAL, "reservation state: %u registrants, more than %u", n,
			    RESV_MAX_REGISTRANTS);
	if (len != sizeof(h) + n * sizeof(struct resv_file_reg) + 4)
		return nvr_errf(err, errlen, -EINVAL, "reservation state: %zu bytes for %u registrants", len, n);
	memcpy(&crc, p + len - 4, sizeof(crc));
	if (le32toh(crc) != crc32c(p, len - 4))
		return nvr_errf(err, errlen, -EINVAL, "reservation state: checksum mismatch");
	if (h.ptpl > 1 || h.rsvd19 || h.rsvd20)
		return nvr_errf(err, errlen, -EINVAL, "reservation state: reserved bits set");
	if (!h.ptpl && (n || h.rtype || h.holder != RESV_NO_HOLDER))
		return nvr_errf(err, errlen, -EINVAL, "reservation state: registrations without PTPL");
	if (h.rtype > NVME_RESERVATION_RTYPE_EAAR)
		return nvr_errf(err, errlen, -EINVAL, "reservation state: reservation type %u", h.rtype);
	all_regs = h.rtype == NVME_RESERVATION_RTYPE_WEAR || h.rtype == NVME_RESERVATION_RTYPE_EAAR;
	if ((h.rtype && !all_regs) ? h.holder >= n : h.holder != RESV_NO_HOLDER)
		return nvr_errf(err, errlen, -EINVAL, "reservation state: holder %u for type %u and %u registrants",
			    h.holder, h.rtype, n);
	if (all_regs && n == 0)
		return nvr_errf(err, errlen, -EINVAL, "reservation state: all-registrants reservation without registrants");

	next = *rs;
	next.ptpl = h.ptpl;
	next.rtype = h.rtype;
	next.gen = le32toh(h.gen);
	next.holder = h.holder == RESV_NO_HOLDER ? -1 : h.holder;
	next.nregs = n;
	p += sizeof(h);
	for (unsigned i = 0; i < n; i++, p += sizeof(struct resv_file_reg)) {
		struct resv_file_reg r;

		memcpy(&r, p, sizeof(r));
		for (unsigned j = 0; j < i; j++)
			if (memcmp(next.regs[j].hostid, r.hostid, RESV_HOSTID_LEN) == 0)
				return nvr_errf(err, errlen, -EINVAL, "reservation state: registrant %u repeats registrant %u",
					    i, j);
		memcpy(next.regs[i].hostid, r.hostid, RESV_HOSTID_LEN);
		next.regs[i].rkey = le64toh(r.rkey);
	}
	*rs = next;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int resv_save_file(const struct resv *rs, const char *path, char *err, size_t errlen)
{
	uint8_t buf[RESV_FILE_MAX];
	char tmp[PATH_MAX];
	ssize_t len = resv_serialize(rs, buf, sizeof(buf));
	int fd, rc;

	if (len < 0)
		return nvr_errf(err, errlen, (int)len, "%s: cannot serialize reservation state", path);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return nvr_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return nvr_errf(err, errlen, -errno, "%s: %s", tmp, strerror(errno));
	rc = write_all(fd, buf, (size_t)len);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return nvr_errf(err, errlen, rc, "%s: %s", tmp, strerror(-rc));
	}
	rc = fsync_dir_of(path);
	if (rc)
		return nvr_errf(err, errlen, rc, "%s: syncing its directory: %s", path, strerror(-rc));
	return 0;
}

int resv_load_file(struct resv *rs, const char *path, char *err, size_t errlen)
{
	uint8_t buf[RESV_FILE_MAX + 1];
	size_t len = 0;
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return nvr_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return nvr_errf(err, errlen, rc, "%s: %s", path, strerror(-rc));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return nvr_errf(err, errlen, -EINVAL, "%s: not a regular file", path);
	}
	/* Read one byte more than the largest valid file so an oversized one is caught. */
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			close(fd);
			return nvr_errf(err, errlen, rc, "%s: %s", path, strerror(-rc));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > RESV_FILE_MAX)
		return nvr_errf(err, errlen, -EINVAL, "%s: larger than any reservation state", path);
	rc = resv_deserialize(rs, buf, len, err, errlen);
	if (rc && err && errlen) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "%s: %s", path, msg);
	}
	return rc;
}
