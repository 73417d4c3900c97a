/* SPDX-License-Identifier: MIT */
/* libnvring against the scripted fake target: data paths, digests, and misbehaving peers. TAP. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_target.h"
#include "nvring/nvring.h"
#include "spec/nvme_cmd.h"
#include "spec/nvme_tcp.h"

static int t_num, t_fail;

static void ok(int cond, const char *fmt, const char *detail)
{
	t_num++;
	if (!cond)
		t_fail++;
	printf("%sok %d - %s", cond ? "" : "not ", t_num, fmt);
	if (detail && *detail)
		printf(" (%s)", detail);
	printf("\n");
	fflush(stdout);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 9));
}

static struct nvr_ctrl *connect_to(struct ft *ft, bool hd, bool dd, bool nosqflow, int *err)
{
	struct nvr_connect_opts o;
	struct nvr_ctrl *c = NULL;

	nvr_connect_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = ft_port(ft);
	o.subnqn = "nqn.2026-01.io.nvring:fake";
	o.hdgst = hd;
	o.ddgst = dd;
	o.disable_sqflow = nosqflow;
	o.nr_io_queues = 2;
	o.timeout_ms = 500;
	*err = nvr_ctrl_connect(&o, &c, NULL);
	return c;
}

/* write then read back len bytes at slba; 1 if equal */
static int roundtrip(struct nvr_queue *q, uint64_t slba, uint32_t len, unsigned seed, char *why, size_t whylen)
{
	uint8_t *w = malloc(len), *r = malloc(len);
	int ret, good = 0;

	fill(w, len, seed);
	memset(r, 0xee, len);
	ret = nvr_write(q, 1, slba, len / 512, w, len);
	if (ret) {
		snprintf(why, whylen, "write %d", ret);
		goto out;
	}
	ret = nvr_read(q, 1, slba, len / 512, r, len);
	if (ret) {
		snprintf(why, whylen, "read %d", ret);
		goto out;
	}
	good = !memcmp(w, r, len);
	if (!good)
		snprintf(why, whylen, "data differs");
out:
	free(w);
	free(r);
	return good;
}

struct async_ctx {
	unsigned done, bad;
};

static void async_cb(void *arg, const struct nvr_cpl *cpl)
{
	struct async_ctx *a = arg;

	a->done++;
	if (cpl->err || cpl->status)
		a->bad++;
}

static void test_async(struct nvr_queue *q, const char *name)
{
	enum { N = 64, BS = 4096 };
	uint8_t *w = malloc(N * BS), *r = malloc(N * BS);
	struct async_ctx a = { 0 };
	unsigned submitted = 0;
	char why[64] = "";

	fill(w, N * BS, 99);
	memset(r, 0, N * BS);
	for (unsigned i = 0; i < N; i++) {
		struct nvme_sqe sqe;

		nvr_sqe_rw(&sqe, true, 1, 1000 + i * 8, 8);
		while (nvr_submit(q, &sqe, NVR_DIR_H2C, w + i * BS, BS, async_cb, &a) == -EBUSY)
			nvr_queue_wait(q, 1, 2000); /* queue full: make room */
		submitted++;
	}
	while (a.done < submitted && nvr_queue_wait(q, 1, 2000) > 0)
		;
	for (unsigned i = 0; i < N; i++) {
		struct nvme_sqe sqe;

		nvr_sqe_rw(&sqe, false, 1, 1000 + i * 8, 8);
		while (nvr_submit(q, &sqe, NVR_DIR_C2H, r + i * BS, BS, async_cb, &a) == -EBUSY)
			nvr_queue_wait(q, 1, 2000);
		submitted++;
	}
	while (a.done < submitted && nvr_queue_wait(q, 1, 2000) > 0)
		;
	snprintf(why, sizeof(why), "submitted %u done %u bad %u", submitted, a.done, a.bad);
	ok(submitted == 2 * N && a.done == 2 * N && !a.bad && !memcmp(w, r, N * BS), name, why);
	free(w);
	free(r);
}

/* Big H2CData PDUs: one sendmsg carries megabytes, so the target answers early commands while the
 * sendmsg is still running (responses and R2Ts for requests the host has not seen sent yet). */
static void test_big_batches(bool dd)
{
	enum { N = 24, BS = 256 * 1024 };
	struct ft_opts fo = { .mode = FT_GOOD, .maxh2cdata = 1 << 20, .c2h_chunk = 1 << 20 };
	struct ft *ft = ft_start(&fo);
	uint8_t *w = malloc((size_t)N * BS), *r = calloc(N, BS);
	struct async_ctx a = { 0 };
	struct nvr_ctrl *c;
	struct nvr_queue *q;
	char why[96];
	int err;

	c = connect_to(ft, false, dd, false, &err);
	if (!c) {
		ok(0, "big batches: connect", NULL);
		goto out;
	}
	q = nvr_ctrl_io_queue(c, 0);
	fill(w, (size_t)N * BS, 42);
	for (int round = 0; round < 4; round++) {
		for (unsigned i = 0; i < N; i++) {
			struct nvme_sqe sqe;

			nvr_sqe_rw(&sqe, true, 1, (uint64_t)i * (BS / 512), BS / 512);
			nvr_submit(q, &sqe, NVR_DIR_H2C, w + (size_t)i * BS, BS, async_cb, &a);
		}
		while (a.done < (unsigned)(round + 1) * 2 * N - N && nvr_queue_wait(q, 1, 5000) > 0)
			;
		for (unsigned i = 0; i < N; i++) {
			struct nvme_sqe sqe;

			nvr_sqe_rw(&sqe, false, 1, (uint64_t)i * (BS / 512), BS / 512);
			nvr_submit(q, &sqe, NVR_DIR_C2H, r + (size_t)i * BS, BS, async_cb, &a);
		}
		while (a.done < (unsigned)(round + 1) * 2 * N && nvr_queue_wait(q, 1, 5000) > 0)
			;
	}
	snprintf(why, sizeof(why), "done %u bad %u queue error %d", a.done, a.bad, nvr_queue_error(q, NULL));
	ok(a.done == 4 * 2 * N && !a.bad && !memcmp(w, r, (size_t)N * BS),
	   dd ? "24 x 256 KiB writes in 1 MiB H2CData PDUs, early answers, data digest"
	      : "24 x 256 KiB writes in 1 MiB H2CData PDUs, early answers during the sendmsg", why);
	nvr_ctrl_disconnect(c);
out:
	ft_stop(ft);
	free(w);
	free(r);
}

static void test_good(bool hd, bool dd, bool nosqflow, const char *tag)
{
	struct ft_opts fo = { .mode = FT_GOOD, .c2h_success = true };
	struct ft *ft = ft_start(&fo);
	struct nvr_ctrl *c;
	struct nvr_queue *q;
	char name[128], why[64] = "";
	int err;

	c = connect_to(ft, hd, dd, nosqflow, &err);
	snprintf(why, sizeof(why), "err %d", err);
	snprintf(name, sizeof(name), "%s: connect, 2 I/O queues, cntlid 1", tag);
	ok(c && nvr_ctrl_nr_io_queues(c) == 2 && nvr_ctrl_cntlid(c) == 1, name, why);
	if (!c) {
		ft_stop(ft);
		return;
	}
	q = nvr_ctrl_io_queue(c, 0);
	snprintf(name, sizeof(name), "%s: 512 B in-capsule write, read back", tag);
	ok(roundtrip(q, 0, 512, 1, why, sizeof(why)), name, why);
	snprintf(name, sizeof(name), "%s: 64 KiB write by R2T in 4 KiB H2CData, read in 16 KiB C2HData", tag);
	ok(roundtrip(nvr_ctrl_io_queue(c, 1), 100, 65536, 2, why, sizeof(why)), name, why);
	snprintf(name, sizeof(name), "%s: 1 MiB write and read (direct receive path)", tag);
	ok(roundtrip(q, 4096, 1 << 20, 3, why, sizeof(why)), name, why);
	snprintf(name, sizeof(name), "%s: 64 async writes then 64 async reads in flight", tag);
	test_async(q, name);
	{
		uint8_t b[512];
		int ret = nvr_read(q, 1, 1ull << 40, 1, b, sizeof(b));

		snprintf(why, sizeof(why), "ret 0x%x", ret);
		snprintf(name, sizeof(name), "%s: read past the end gives LBA Out of Range with DNR", tag);
		ok(ret > 0 && nvr_status_sc((uint16_t)ret) == 0x80 && nvr_status_sct((uint16_t)ret) == 0 &&
			   nvr_status_dnr((uint16_t)ret) && !strcmp(nvr_status_str((uint16_t)ret, 0), "LBA Out of Range"),
		   name, why);
	}
	{
		struct nvme_sqe sqe = { .opcode = 0xc3, .nsid = 1 };
		struct nvr_cpl cpl;
		int ret = nvr_exec(q, &sqe, NVR_DIR_NONE, NULL, 0, &cpl);

		snprintf(why, sizeof(why), "ret 0x%x", ret);
		snprintf(name, sizeof(name), "%s: vendor opcode passthrough gets Invalid Command Opcode", tag);
		ok(ret == (NVME_STATUS(0, 1) | NVME_STATUS_DNR) && cpl.err == 0, name, why);
	}
	err = nvr_ctrl_disconnect(c);
	snprintf(why, sizeof(why), "err %d", err);
	snprintf(name, sizeof(name), "%s: disconnect with CC.SHN completes", tag);
	ok(err == 0, name, why);
	ft_stop(ft);
}

static void test_ddgst_error(void)
{
	struct ft_opts fo = { .mode = FT_BAD_DDGST_READ };
	struct ft *ft = ft_start(&fo);
	struct nvr_ctrl *c;
	char why[64];
	int err;

	c = connect_to(ft, true, true, false, &err);
	ok(c != NULL, "data digest: connect with digests", NULL);
	if (c) {
		uint8_t b[4096];
		int ret = nvr_read(nvr_ctrl_io_queue(c, 0), 1, 0, 8, b, sizeof(b));
		int ret2 = nvr_flush(nvr_ctrl_io_queue(c, 0), 1);

		snprintf(why, sizeof(why), "read 0x%x flush %d", ret, ret2);
		ok(ret == NVME_STATUS(0, 0x04) && ret2 == 0,
		   "data digest mismatch fails that read with Data Transfer Error, queue lives on", why);
		nvr_ctrl_disconnect(c);
	}
	ft_stop(ft);
}

static void test_close_on_read(void)
{
	struct ft_opts fo = { .mode = FT_CLOSE_ON_READ };
	struct ft *ft = ft_start(&fo);
	struct nvr_ctrl *c;
	char why[64];
	int err;

	c = connect_to(ft, false, false, false, &err);
	if (c) {
		uint8_t b[4096];
		struct nvr_queue *q = nvr_ctrl_io_queue(c, 0);
		int ret = nvr_read(q, 1, 0, 8, b, sizeof(b));
		int ret2 = nvr_flush(q, 1);

		snprintf(why, sizeof(why), "read %d then %d, queue error %d", ret, ret2, nvr_queue_error(q, NULL));
		ok(ret == -ECONNRESET && ret2 == -ECONNRESET && nvr_queue_error(q, NULL) == -ECONNRESET,
		   "peer closing mid-I/O fails the command and the queue with ECONNRESET", why);
		nvr_ctrl_disconnect(c);
	} else {
		ok(0, "peer closing mid-I/O", "connect failed");
	}
	ft_stop(ft);
}

/* The target goes quiet or gives up during I/O: the command and the queue fail, the admin queue lives. */
static void test_io_failures(void)
{
	struct ft_opts fo = { .mode = FT_SILENT_READ };
	struct ft *ft = ft_start(&fo);
	struct nvr_ctrl *c;
	uint8_t b[4096];
	uint16_t fes = 0;
	char why[96];
	int err;

	c = connect_to(ft, false, false, false, &err);
	if (c) {
		struct nvr_queue *q = nvr_ctrl_io_queue(c, 0);
		uint64_t t0 = now_ms(), dt;
		int ret = nvr_read(q, 1, 0, 8, b, sizeof(b));

		dt = now_ms() - t0;
		err = nvr_ctrl_disconnect(c);
		snprintf(why, sizeof(why), "read %d after %llu ms, disconnect %d", ret, (unsigned long long)dt, err);
		ok(ret == -ETIMEDOUT && dt >= 400 && dt < 2000 && err == 0,
		   "target never answers a read: ETIMEDOUT after the 500 ms timeout, clean disconnect", why);
	} else {
		ok(0, "silent read: connect", NULL);
	}
	ft_stop(ft);

	fo.mode = FT_TERM_ON_READ;
	ft = ft_start(&fo);
	c = connect_to(ft, false, false, false, &err);
	if (c) {
		struct nvr_queue *q = nvr_ctrl_io_queue(c, 0);
		int ret = nvr_read(q, 1, 0, 8, b, sizeof(b));
		int qerr = nvr_queue_error(q, &fes);

		snprintf(why, sizeof(why), "read %d, queue error %d, FES %u", ret, qerr, fes);
		ok(ret == -ECONNABORTED && qerr == -ECONNABORTED && fes == NVME_TCP_FES_DATA_OUT_OF_RANGE,
		   "C2HTermReq during I/O: ECONNABORTED, FES 0x04 exposed by nvr_queue_error", why);
		nvr_ctrl_disconnect(c);
	} else {
		ok(0, "term on read: connect", NULL);
	}
	ft_stop(ft);
}

/* Random but plausible PDUs must end in an error, never a crash or a hang (ASan build checks memory). */
static void test_garbage(void)
{
	unsigned bad = 0, slow = 0;
	char why[96];

	for (uint32_t seed = 1; seed <= 150; seed++) {
		struct ft_opts fo = { .mode = FT_GARBAGE, .seed = seed };
		struct ft *ft = ft_start(&fo);
		uint64_t t0 = now_ms();
		struct nvr_ctrl *c;
		int err;

		c = connect_to(ft, seed % 2, seed % 3 == 0, false, &err);
		if (c || err >= 0)
			bad++;
		if (now_ms() - t0 > 2000)
			slow++;
		if (c)
			nvr_ctrl_disconnect(c);
		ft_stop(ft);
	}
	snprintf(why, sizeof(why), "%u accepted, %u slower than 2 s", bad, slow);
	ok(!bad && !slow, "150 seeded garbage PDU streams: each fails cleanly and promptly", why);
}

static void test_kv(void)
{
	struct ft_opts fo = { .mode = FT_GOOD };
	struct ft *ft = ft_start(&fo);
	struct nvr_ctrl *c;
	struct nvr_queue *q;
	uint8_t key16[16], big[65536], back[65536], sqe[64];
	uint32_t vsize = 0;
	char buf[64] = "", why[96];
	int err, r1, r2, r3;

	for (int i = 0; i < 16; i++)
		key16[i] = (uint8_t)(0xf0 + i);
	/* KV command set layout: key bytes 0-7 at SQE bytes 8-15 (CDW2-3), 8-15 at 56-63 (CDW14-15),
	 * KL in CDW11 bits 7:0, options in bits 15:8, value size in CDW10 */
	nvr_sqe_kv(sqe, 0x01, 2, key16, 16, NVR_KV_STORE_MUST_NOT_EXIST, 1234);
	ok(sqe[0] == 0x01 && !memcmp(sqe + 8, key16, 8) && !memcmp(sqe + 56, key16 + 8, 8) && sqe[44] == 16 &&
		   sqe[45] == 2 && sqe[40] == (1234 & 0xff) && sqe[41] == (1234 >> 8) && sqe[4] == 2,
	   "KV SQE layout: key in CDW2-3/14-15, KL and options in CDW11, size in CDW10", NULL);
	ok(nvr_sqe_kv(sqe, 0x01, 2, key16, 17, 0, 0) == -EINVAL, "KV key of 17 bytes is refused locally", NULL);

	c = connect_to(ft, false, false, false, &err);
	if (!c) {
		ok(0, "KV: connect", NULL);
		ft_stop(ft);
		return;
	}
	q = nvr_ctrl_io_queue(c, 0);
	r1 = nvr_kv_store(q, 2, "hello", 5, 0, "world", 5);
	r2 = nvr_kv_retrieve(q, 2, "hello", 5, buf, sizeof(buf), &vsize);
	snprintf(why, sizeof(why), "store %d retrieve %d size %u value %.5s", r1, r2, vsize, buf);
	ok(!r1 && !r2 && vsize == 5 && !memcmp(buf, "world", 5), "KV store then retrieve (in-capsule)", why);
	memset(buf, 0, sizeof(buf));
	r2 = nvr_kv_retrieve(q, 2, "hello", 5, buf, 2, &vsize);
	snprintf(why, sizeof(why), "retrieve %d size %u value %.5s", r2, vsize, buf);
	ok(!r2 && vsize == 5 && !memcmp(buf, "wo\0", 3), "KV retrieve into a 2-byte buffer: 2 bytes, DW0 = 5", why);
	fill(big, sizeof(big), 5);
	r1 = nvr_kv_store(q, 2, key16, 16, 0, big, sizeof(big));
	r2 = nvr_kv_retrieve(q, 2, key16, 16, back, sizeof(back), &vsize);
	snprintf(why, sizeof(why), "store %d retrieve %d size %u", r1, r2, vsize);
	ok(!r1 && !r2 && vsize == sizeof(big) && !memcmp(big, back, sizeof(big)), "KV 64 KiB value by R2T, 16-byte key", why);
	r1 = nvr_kv_store(q, 2, "hello", 5, NVR_KV_STORE_MUST_NOT_EXIST, "x", 1);
	r2 = nvr_kv_store(q, 2, "nope", 4, NVR_KV_STORE_MUST_EXIST, "x", 1);
	r3 = nvr_kv_exist(q, 2, "nope", 4);
	snprintf(why, sizeof(why), "0x%x 0x%x 0x%x", r1, r2, r3);
	ok((r1 & 0x7ff) == 0x89 && (r2 & 0x7ff) == 0x87 && (r3 & 0x7ff) == 0x87 &&
		   !strcmp(nvr_status_str((uint16_t)r2, 1), "KV Key Does Not Exist"),
	   "KV options: must-not-exist gives 0x89, must-exist and exist of a missing key give 0x87", why);
	r1 = nvr_kv_exist(q, 2, "hello", 5);
	r2 = nvr_kv_delete(q, 2, "hello", 5);
	r3 = nvr_kv_exist(q, 2, "hello", 5);
	snprintf(why, sizeof(why), "%d %d 0x%x", r1, r2, r3);
	ok(!r1 && !r2 && (r3 & 0x7ff) == 0x87, "KV exist, delete, then exist gives 0x87", why);
	nvr_ctrl_disconnect(c);
	ft_stop(ft);
}

static void test_bad(enum ft_mode mode, bool hd, int want, const char *name)
{
	struct ft_opts fo = { .mode = mode };
	struct ft *ft = ft_start(&fo);
	uint64_t t0 = now_ms(), dt;
	struct nvr_ctrl *c;
	char why[96];
	int err, fes;

	c = connect_to(ft, hd, false, false, &err);
	dt = now_ms() - t0;
	snprintf(why, sizeof(why), "err %d (%s), %llu ms", err, strerror(-err), (unsigned long long)dt);
	ok(!c && err == want && dt < 3000, name, why);
	if (c)
		nvr_ctrl_disconnect(c);
	fes = ft_stop(ft);
	if (want == -EPROTO || want == -EBADMSG) {
		int want_fes = want == -EBADMSG ? 3 : 1;

		snprintf(why, sizeof(why), "FES %d", fes);
		ok(fes == want_fes, "  ...and the host sent an H2CTermReq with the matching FES", why);
	}
}

static void test_refused(void)
{
	struct nvr_connect_opts o;
	struct nvr_ctrl *c = NULL;
	struct ft_opts fo = { .mode = FT_GOOD };
	struct ft *ft = ft_start(&fo);
	char port[16], why[64];
	int err;

	snprintf(port, sizeof(port), "%s", ft_port(ft));
	ft_stop(ft); /* the port is now closed */
	nvr_connect_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = port;
	o.timeout_ms = 500;
	err = nvr_ctrl_connect(&o, &c, NULL);
	snprintf(why, sizeof(why), "err %d", err);
	ok(!c && err == -ECONNREFUSED, "connect to a closed port gives ECONNREFUSED", why);
}

static void test_status_names(void)
{
	ok(!strcmp(nvr_status_str(0x87, 1), "KV Key Does Not Exist"), "status name KV 0x87", NULL);
	ok(!strcmp(nvr_status_str(0x89 | NVR_STATUS_DNR, 1), "KV Key Exists"), "status name KV 0x89 with DNR", NULL);
	ok(!strcmp(nvr_status_str(0x80, 0), "LBA Out of Range"), "status name NVM 0x80", NULL);
	ok(!strcmp(nvr_status_str(0x184, NVR_STATUS_FABRICS), "Connect Invalid Host"), "status name fabrics 0x184", NULL);
	ok(!strcmp(nvr_status_str(0x182, 0), "Attempted Write to Read Only Range"), "status name NVM SCT 1 0x82", NULL);
	ok(!strcmp(nvr_status_str(0x002, 1), "Invalid Field in Command"), "status name generic with KV csi", NULL);
	ok(!strcmp(nvr_status_str(0x0ff, 0), "Unknown"), "status name unknown", NULL);
}

int main(void)
{
	test_status_names();
	test_good(false, false, false, "plain");
	test_good(true, true, false, "digests");
	test_good(false, true, true, "ddgst+sqflow off+C2H SUCCESS");
	test_big_batches(false);
	test_big_batches(true);
	test_ddgst_error();
	test_close_on_read();
	test_kv();
	test_io_failures();
	test_garbage();
	test_refused();
	test_bad(FT_SILENT_IC, false, -ETIMEDOUT, "peer never answers ICReq: ETIMEDOUT within the timeout");
	test_bad(FT_SILENT_CMD, false, -ETIMEDOUT, "peer never answers Connect: ETIMEDOUT within the timeout");
	test_bad(FT_CLOSE_MID_PDU, false, -ECONNRESET, "peer closes mid-PDU: ECONNRESET");
	test_bad(FT_TERM_REQ, false, -ECONNABORTED, "peer sends C2HTermReq: ECONNABORTED");
	test_bad(FT_BAD_HLEN, false, -EPROTO, "CapsuleResp with hlen 30: EPROTO");
	test_bad(FT_BAD_TYPE, false, -EPROTO, "PDU type 0x08: EPROTO");
	test_bad(FT_BAD_ICRESP, false, -EPROTO, "ICResp maxh2cdata 100: EPROTO");
	test_bad(FT_BAD_CID, false, -EPROTO, "CapsuleResp for an unknown CID: EPROTO");
	test_bad(FT_BAD_HDGST, true, -EBADMSG, "corrupt header digest: EBADMSG");
	printf("1..%d\n", t_num);
	return t_fail ? 1 : 0;
}
