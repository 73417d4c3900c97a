/* SPDX-License-Identifier: MIT */
/* Wire helpers: CRC32C digests (ISA-L), CQE status encoding, PDU layouts; the request buffer pool. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "spec/crc32c.h"
#include "spec/nvme_cmd.h"
#include "spec/nvme_tcp.h"
#include "tap.h"
#include "bufpool.h"

static void test_crc32c(void)
{
	static const uint8_t zeros[32], ones[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t inc[32], buf[4096];
	struct iovec iov[3];

	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	/* RFC 3720 B.4 test vectors, and the classic check value */
	tap_ok(crc32c("123456789", 9) == 0xe3069283, "crc32c(\"123456789\") = 0xe3069283");
	tap_ok(crc32c(zeros, 32) == 0x8a9136aa, "crc32c(32 x 0x00) = 0x8a9136aa (RFC 3720)");
	tap_ok(crc32c(ones, 32) == 0x62a8ab43, "crc32c(32 x 0xff) = 0x62a8ab43 (RFC 3720)");
	tap_ok(crc32c(inc, 32) == 0x46dd794e, "crc32c(0..31) = 0x46dd794e (RFC 3720)");

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	iov[0] = (struct iovec){buf, 100};
	iov[1] = (struct iovec){buf + 100, 1000};
	iov[2] = (struct iovec){buf + 1100, sizeof(buf) - 1100};
	tap_ok(crc32c_iov(iov, 3, 0, sizeof(buf)) == crc32c(buf, sizeof(buf)), "crc32c over iovecs = one-shot");
	tap_ok(crc32c_iov(iov, 3, 50, 2000) == crc32c(buf + 50, 2000), "crc32c over an iovec window");
}

static void test_status(void)
{
	int ok = 1;

	for (unsigned sct = 0; sct < 8; sct++)
		for (unsigned sc = 0; sc < 256; sc++)
			for (unsigned f = 0; f < 4; f++) {
				uint16_t st = NVME_STATUS(sct, sc) | (f & 1 ? NVME_STATUS_DNR : 0) |
					      (f & 2 ? NVME_STATUS_MORE : 0);
				uint16_t w = nvme_status_to_wire(st);

				ok &= nvme_status_from_wire(w) == st && !(w & 1);
			}
	tap_ok(ok, "status <-> CQE wire field round trip, phase bit clear");
	/* Connect Invalid Host with DNR: SC 0x84 at bits 8:1, SCT 1 at 11:9, DNR bit 15 */
	tap_ok(nvme_status_to_wire(NVME_STATUS(1, 0x84) | NVME_STATUS_DNR) == (0x84 << 1 | 1 << 9 | 1 << 15),
	      "Connect Invalid Host|DNR encodes as 0x8308");
	tap_ok(NVMF_IPO_IATTR_DATA(16) == 0x10010 && NVMF_IPO_IATTR_SQE(44) == 44,
	      "IATTR bit 16 + IPO byte offset (Linux IPO_IATTR_CONNECT_*)");
}

static void test_layouts(void)
{
	struct nvme_tcp_term_pdu t;
	uint8_t raw[24];

	memset(&t, 0, sizeof(t));
	t.fes = 0x0102;
	t.fei = 0x0a0b0c0d;
	memcpy(raw, &t, sizeof(raw));
	tap_ok(raw[8] == 0x02 && raw[9] == 0x01 && raw[10] == 0x0d && raw[13] == 0x0a,
	      "TermReq FES at byte 8, FEI at byte 10 (little-endian)");
	tap_ok(sizeof(struct nvme_tcp_cmd_pdu) == 72 && sizeof(struct nvme_tcp_rsp_pdu) == 24 &&
	      sizeof(struct nvme_tcp_data_pdu) == 24 && sizeof(struct nvme_tcp_r2t_pdu) == 24,
	      "capsule 72, response/data/R2T 24 bytes");
}

static void test_bufpool(void)
{
	struct bufpool *bp = bufpool_create();
	uint32_t s1, s2, s3;
	void *a, *b, *c;

	a = bufpool_get(bp, 1, &s1);
	b = bufpool_get(bp, 4097, &s2);
	tap_ok(a && b && s1 == 4096 && s2 == 8192, "size classes round up to powers of two from 4 KiB");
	tap_ok(((uintptr_t)a & 4095) == 0 && ((uintptr_t)b & 4095) == 0, "buffers are 4 KiB aligned (O_DIRECT)");
	memset(b, 0xa5, s2);
	bufpool_put(bp, b, s2);
	c = bufpool_get(bp, 5000, &s3);
	tap_ok(c == b && s3 == 8192, "a returned buffer is reused for its class");
	tap_ok(bufpool_get(bp, (1u << 26) + 1, &s3) == NULL, "requests above 64 MiB are refused");
	bufpool_put(bp, a, s1);
	bufpool_put(bp, c, s3);
	bufpool_destroy(bp);
}

int main(void)
{
	test_crc32c();
	test_status();
	test_layouts();
	test_bufpool();
	return tap_done();
}
