/* SPDX-License-Identifier: MIT */
/*
 * kv-uring DEV [KEYS [QD]]: NVMe Key Value Store and Retrieve through io_uring NVMe
 * passthrough (IORING_OP_URING_CMD, NVME_URING_CMD_IO on the generic char device
 * /dev/ngXnY, ring with SQE128|CQE32), run in the interop guest against nvringd.
 *
 * Stores KEYS (default 10000) 16-byte keys with values of 1..8192 bytes derived from the key,
 * QD (default 64) commands in flight, then retrieves them all (QD in flight, 8 KiB buffers)
 * and checks every value byte, the CQE result (big_cqe[0] = the value size) and that nothing
 * past the value was written into the buffer. Prints counts and elapsed times; exit status 0
 * only if every command succeeded and every value matched.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/nvme_ioctl.h>
#include <liburing.h>

#define KV_OPC_STORE 0x01
#define KV_OPC_RETRIEVE 0x02
#define KEY_LEN 16
#define VAL_MAX 8192
#define PAD_BYTE 0xa5
#define MAX_QD 256

struct slot {
	uint32_t idx;  /* key index */
	uint8_t *buf;  /* VAL_MAX bytes, page aligned (mapped by the kernel, not bounced) */
	int busy;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static void make_key(uint32_t i, uint8_t key[KEY_LEN])
{
	char s[KEY_LEN + 1];

	snprintf(s, sizeof(s), "kvuring-%08" PRIu32, i);
	memcpy(key, s, KEY_LEN);
}

static uint32_t value_size(uint32_t i)
{
	return 1 + (uint32_t)(mix(i + 1) % VAL_MAX);
}

static void make_value(uint32_t i, uint8_t *v, uint32_t n)
{
	uint64_t s = mix(i ^ 0x5eed5eedULL);

	for (uint32_t k = 0; k < n; k++) {
		if ((k & 7) == 0)
			s = mix(s + k);
		v[k] = (uint8_t)(s >> (8 * (k & 7)));
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int prep(struct io_uring *ring, int fd, uint32_t nsid, uint8_t opcode, struct slot *sl,
		uint32_t slot_no)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct nvme_uring_cmd *cmd;
	uint8_t key[KEY_LEN];
	uint32_t kdw[4];
	uint32_t len;

	if (!sqe)
		return -EBUSY;
	make_key(sl->idx, key);
	memcpy(kdw, key, KEY_LEN);
	if (opcode == KV_OPC_STORE) {
		len = value_size(sl->idx);
		make_value(sl->idx, sl->buf, len);
	} else {
		len = VAL_MAX;
		memset(sl->buf, PAD_BYTE, VAL_MAX);
	}

	memset(sqe, 0, 2 * sizeof(*sqe)); /* SQE128: the command area runs into the second half */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = NVME_URING_CMD_IO;
	sqe->user_data = slot_no;
	cmd = (struct nvme_uring_cmd *)sqe->cmd;
	cmd->opcode = opcode;
	cmd->nsid = nsid;
	cmd->cdw2 = kdw[0];  /* key bytes 0-7 */
	cmd->cdw3 = kdw[1];
	cmd->cdw14 = kdw[2]; /* key bytes 8-15 */
	cmd->cdw15 = kdw[3];
	cmd->addr = (uint64_t)(uintptr_t)sl->buf;
	cmd->data_len = len;
	cmd->cdw10 = len;     /* Store: value size; Retrieve: host buffer size */
	cmd->cdw11 = KEY_LEN; /* bits 7:0 key length, no options */
	sl->busy = 1;
	return 0;
}

/* Checks one completion; returns the number of errors (0 or 1). */
static int check_cqe(struct io_uring_cqe *cqe, uint8_t opcode, struct slot *sl, uint8_t *expect)
{
	const char *what = opcode == KV_OPC_STORE ? "store" : "retrieve";
	uint32_t want = value_size(sl->idx);

	if (cqe->res != 0) {
		if (cqe->res < 0)
			fprintf(stderr, "%s key %" PRIu32 ": %s\n", what, sl->idx, strerror(-cqe->res));
		else
			fprintf(stderr, "%s key %" PRIu32 ": NVMe status 0x%x\n", what, sl->idx,
				(unsigned)cqe->res);
		return 1;
	}
	if (opcode == KV_OPC_STORE)
		return 0;
	if (cqe->big_cqe[0] != want) {
		fprintf(stderr, "retrieve key %" PRIu32 ": result %" PRIu64 ", value size %" PRIu32 "\n",
			sl->idx, (uint64_t)cqe->big_cqe[0], want);
		return 1;
	}
	make_value(sl->idx, expect, want);
	if (memcmp(sl->buf, expect, want)) {
		uint32_t k = 0;

		while (sl->buf[k] == expect[k])
			k++;
		fprintf(stderr, "retrieve key %" PRIu32 ": value differs at byte %" PRIu32 " of %" PRIu32
			" (0x%02x, expected 0x%02x)\n", sl->idx, k, want, sl->buf[k], expect[k]);
		return 1;
	}
	for (uint32_t k = want; k < VAL_MAX; k++) {
		if (sl->buf[k] != PAD_BYTE) {
			fprintf(stderr, "retrieve key %" PRIu32 ": byte %" PRIu32
				" past the %" PRIu32 "-byte value was written\n", sl->idx, k, want);
			return 1;
		}
	}
	return 0;
}

/* Runs opcode over keys 0..n-1 with qd commands in flight; returns the error count. */
static long run(struct io_uring *ring, int fd, uint32_t nsid, uint8_t opcode, struct slot *slots,
		uint32_t qd, uint32_t n, uint64_t *bytes)
{
	uint8_t *expect = malloc(VAL_MAX);
	uint32_t next = 0, done = 0;
	long errors = 0;

	if (!expect)
		return -1;
	*bytes = 0;
	while (done < n) {
		for (uint32_t s = 0; s < qd && next < n; s++) {
			if (slots[s].busy)
				continue;
			slots[s].idx = next++;
			if (prep(ring, fd, nsid, opcode, &slots[s], s)) {
				fprintf(stderr, "no free SQE\n");
				free(expect);
				return -1;
			}
		}
		int ret = io_uring_submit_and_wait(ring, 1);

		if (ret < 0) {
			fprintf(stderr, "io_uring_submit_and_wait: %s\n", strerror(-ret));
			free(expect);
			return -1;
		}
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		io_uring_for_each_cqe(ring, head, cqe) {
			struct slot *sl = &slots[cqe->user_data];

			errors += check_cqe(cqe, opcode, sl, expect);
			if (cqe->res == 0)
				*bytes += value_size(sl->idx);
			sl->busy = 0;
			done++;
			seen++;
		}
		io_uring_cq_advance(ring, seen);
		if (errors > 20) {
			fprintf(stderr, "too many errors, stopping\n");
			break;
		}
	}
	free(expect);
	return errors;
}

int main(int argc, char **argv)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 };
	struct slot slots[MAX_QD];
	struct io_uring ring;
	uint32_t n = 10000, qd = 64;
	uint64_t sbytes, rbytes;
	long serr, rerr;
	double t0, t1, t2;
	int fd, nsid, ret;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s /dev/ngXnY [KEYS [QD]]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		n = (uint32_t)strtoul(argv[2], NULL, 0);
	if (argc > 3)
		qd = (uint32_t)strtoul(argv[3], NULL, 0);
	if (qd < 1 || qd > MAX_QD || n < 1) {
		fprintf(stderr, "KEYS >= 1, 1 <= QD <= %d\n", MAX_QD);
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	nsid = ioctl(fd, NVME_IOCTL_ID);
	if (nsid <= 0) {
		fprintf(stderr, "%s: NVME_IOCTL_ID: %s\n", argv[1], strerror(errno));
		return 1;
	}
	ret = io_uring_queue_init_params(qd, &ring, &p);
	if (ret < 0) {
		fprintf(stderr, "io_uring_queue_init_params(SQE128|CQE32): %s\n", strerror(-ret));
		return 1;
	}
	memset(slots, 0, sizeof(slots));
	for (uint32_t s = 0; s < qd; s++) {
		if (posix_memalign((void **)&slots[s].buf, 4096, VAL_MAX)) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
	}

	t0 = now();
	serr = run(&ring, fd, (uint32_t)nsid, KV_OPC_STORE, slots, qd, n, &sbytes);
	t1 = now();
	printf("stored %" PRIu32 " keys (%" PRIu64 " value bytes), %ld errors, QD %" PRIu32
	       ", %.2f s, %.0f stores/s\n", n, sbytes, serr, qd, t1 - t0, n / (t1 - t0));
	if (serr) {
		io_uring_queue_exit(&ring);
		return 1;
	}
	rerr = run(&ring, fd, (uint32_t)nsid, KV_OPC_RETRIEVE, slots, qd, n, &rbytes);
	t2 = now();
	printf("retrieved %" PRIu32 " keys (%" PRIu64 " value bytes checked), %ld errors, QD %" PRIu32
	       ", %.2f s, %.0f retrieves/s\n", n, rbytes, rerr, qd, t2 - t1, n / (t2 - t1));
	io_uring_queue_exit(&ring);
	for (uint32_t s = 0; s < qd; s++)
		free(slots[s].buf);
	close(fd);
	return rerr || rbytes != sbytes ? 1 : 0;
}
