/* SPDX-License-Identifier: MIT */
/* CRC32C (Castagnoli) as NVMe/TCP digests use it: seed ~0, final xor ~0. ISA-L does the work. */
#ifndef NVRING_SPEC_CRC32C_H
#define NVRING_SPEC_CRC32C_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Running CRC: start with NVR_CRC32C_SEED, feed crc32c_update, finish with crc32c_final. */
#define NVR_CRC32C_SEED 0xffffffffu
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);
static inline uint32_t crc32c_final(uint32_t crc) { return ~crc; }
/* One-shot digest of a buffer, as placed on the wire (little-endian u32). */
uint32_t crc32c(const void *buf, size_t len);
/* Digest over [off, off+len) of an iovec array. */
uint32_t crc32c_iov(const struct iovec *iov, int iovcnt, size_t off, size_t len);

#endif
