/* SPDX-License-Identifier: MIT */
#include "crc32c.h"

#include <isa-l/crc.h>

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	/* crc32_iscsi takes and returns the raw (non-inverted) register. */
	return crc32_iscsi((unsigned char *)buf, (int)len, crc);
}

uint32_t crc32c(const void *buf, size_t len)
{
	return crc32c_final(crc32c_update(NVR_CRC32C_SEED, buf, len));
}

uint32_t crc32c_iov(const struct iovec *iov, int iovcnt, size_t off, size_t len)
{
	uint32_t crc = NVR_CRC32C_SEED;

	for (int i = 0; i < iovcnt && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t n = iov[i].iov_len - off;
		if (n > len)
			n = len;
		crc = crc32c_update(crc, (const char *)iov[i].iov_base + off, n);
		len -= n;
		off = 0;
	}
	return crc32c_final(crc);
}
