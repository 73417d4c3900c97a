/* SPDX-License-Identifier: MIT */
/*
 * libnvring over TLS against whatever target the arguments name, as TAP: connect (all queues
 * through TLS), Identify Controller, writes and reads back of 4 KiB (in-capsule or R2T),
 * 128 KiB and 1 MiB, then 64 x 4 KiB at queue depth 32 (many PDUs per record batch).
 * With --expect ERR the connect must fail with exactly that errno (and nothing else runs).
 *
 *   tls_hostcheck -a ADDR -s PORT -n NQN --psk KEY [-q HOSTNQN] [--psk-identity ID]
 *                 [--psk-identity-version 0|1] [--psk-variant V] [--tls-mode auto|user|kernel]
 *                 [--mode user|kernel] [--expect ECONNRESET|ENOKEY|...] [--nsid N] [--timeout MS]
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvring/nvring.h"
#include "tap.h"

static const struct {
	const char *name;
	int err;
} errs[] = {
	{ "ECONNRESET", ECONNRESET }, { "ENOKEY", ENOKEY }, { "EKEYREJECTED", EKEYREJECTED },
	{ "EPROTONOSUPPORT", EPROTONOSUPPORT }, { "ETIMEDOUT", ETIMEDOUT }, { "ENOENT", ENOENT },
	{ "EPROTO", EPROTO }, { "ECONNABORTED", ECONNABORTED }, { "EINVAL", EINVAL },
};

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
}

struct slot {
	int done;
	struct nvr_cpl cpl;
};

static void on_cpl(void *arg, const struct nvr_cpl *cpl)
{
	struct slot *s = arg;

	s->cpl = *cpl;
	s->done = 1;
}

/* n commands of len bytes each, qd at a time; returns the number that failed. */
static int batch(struct nvr_queue *q, uint32_t nsid, bool write, uint8_t *buf, uint32_t len, int n, int qd)
{
	struct slot *s = calloc((size_t)n, sizeof(*s));
	int next = 0, done = 0, bad = 0;

	while (done < n) {
		while (next < n && next - done < qd) {
			struct nvr_sqe sqe;
			uint32_t nlb = len / 512;

			nvr_sqe_rw(&sqe, write, nsid, (uint64_t)next * nlb, nlb);
			if (nvr_submit(q, &sqe, write ? NVR_DIR_H2C : NVR_DIR_C2H, buf + (size_t)next * len, len, on_cpl,
				       &s[next]))
				break;
			next++;
		}
		if (nvr_queue_wait(q, 1, -1) < 0)
			break;
		done = 0;
		for (int i = 0; i < next; i++)
			done += s[i].done;
	}
	for (int i = 0; i < n; i++) {
		bool failed = !s[i].done || s[i].cpl.err || s[i].cpl.status;

		if (failed && !bad)
			tap_diag("first failed command %d: %s, err %d, status 0x%x", i, s[i].done ? "done" : "not done",
				 s[i].cpl.err, s[i].cpl.status);
		bad += failed;
	}
	free(s);
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "psk", required_argument, NULL, 'k' }, { "psk-identity", required_argument, NULL, 'i' },
		{ "psk-identity-version", required_argument, NULL, 'v' }, { "psk-variant", required_argument, NULL, 'V' },
		{ "tls-mode", required_argument, NULL, 'm' }, { "mode", required_argument, NULL, 'M' },
		{ "expect", required_argument, NULL, 'e' }, { "nsid", required_argument, NULL, 'N' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct nvr_connect_opts o;
	struct nvr_ctrl *ctrl = NULL;
	const char *want_mode = NULL, *expect = NULL;
	uint32_t nsid = 1;
	uint16_t st = 0;
	int c, ret, want_err = 0;

	nvr_connect_opts_init(&o);
	o.tls = NVR_TLS_AUTO;
	o.nr_io_queues = 1;
	o.timeout_ms = 5000;
	while ((c = getopt_long(argc, argv, "a:s:n:q:", lo, NULL)) != -1) {
		switch (c) {
		case 'a': o.traddr = optarg; break;
		case 's': o.trsvcid = optarg; break;
		case 'n': o.subnqn = optarg; break;
		case 'q': o.hostnqn = optarg; break;
		case 'k': o.psk = optarg; break;
		case 'i': o.psk_identity = optarg; break;
		case 'v': o.psk_identity_version = (unsigned)atoi(optarg); break;
		case 'V': o.psk_variant = optarg; break;
		case 'm':
			o.tls = !strcmp(optarg, "off") ? NVR_TLS_OFF : !strcmp(optarg, "user") ? NVR_TLS_USERSPACE
				: !strcmp(optarg, "kernel") ? NVR_TLS_KERNEL : NVR_TLS_AUTO;
			break;
		case 'M': want_mode = optarg; break;
		case 'e': expect = optarg; break;
		case 'N': nsid = (uint32_t)atoi(optarg); break;
		case 't': o.timeout_ms = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: see the header of tls_hostcheck.c\n");
			return 2;
		}
	}
	if (expect) {
		for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
			if (!strcmp(errs[i].name, expect))
				want_err = errs[i].err;
		if (!want_err) {
			fprintf(stderr, "tls_hostcheck: unknown --expect %s\n", expect);
			return 2;
		}
	}
	{
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		ret = nvr_ctrl_connect(&o, &ctrl, &st);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		tap_diag("connect: %s after %ld ms", ret ? strerror(-ret) : "ok",
			 (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	}
	if (want_err) {
		tap_eq(-ret, want_err, "connect refused with %s", expect);
		if (!ret)
			nvr_ctrl_disconnect(ctrl);
		return tap_done();
	}
	if (!tap_ok(ret == 0, "connect over TLS (%s, status 0x%x)", strerror(-ret), st))
		return tap_done();
	{
		enum nvr_tls_mode m = nvr_queue_tls(nvr_ctrl_admin_queue(ctrl));
		enum nvr_tls_mode mi = nvr_queue_tls(nvr_ctrl_io_queue(ctrl, 0));
		const char *name = m == NVR_TLS_KERNEL ? "kernel" : m == NVR_TLS_USERSPACE ? "user" : "off";

		tap_ok(m == mi && m != NVR_TLS_OFF, "admin and I/O queue both on TLS (%s)", name);
		if (want_mode)
			tap_ok(!strcmp(want_mode, name), "records made by: %s (want %s)", name, want_mode);
	}
	{
		const uint8_t *id = nvr_ctrl_id(ctrl);

		tap_ok(id[24] > ' ', "Identify Controller read at connect (model \"%.40s\")", (const char *)id + 24);
	}
	{
		static const uint32_t sizes[] = { 4096, 128 * 1024, 1024 * 1024 };
		struct nvr_queue *q = nvr_ctrl_io_queue(ctrl, 0);

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint32_t len = sizes[i];
			uint8_t *w = malloc(len), *r = malloc(len);

			fill(w, len, (uint32_t)i + 1);
			memset(r, 0, len);
			tap_eq(batch(q, nsid, true, w, len, 1, 1), 0, "write %u bytes", len);
			tap_eq(batch(q, nsid, false, r, len, 1, 1), 0, "read %u bytes", len);
			tap_ok(!memcmp(w, r, len), "%u bytes read back intact", len);
			free(w);
			free(r);
		}
		{
			uint8_t *w = malloc(64 * 4096), *r = calloc(64, 4096);

			fill(w, 64 * 4096, 77);
			tap_eq(batch(q, nsid, true, w, 4096, 64, 32), 0, "64 x 4 KiB writes at QD 32");
			tap_eq(batch(q, nsid, false, r, 4096, 64, 32), 0, "64 x 4 KiB reads at QD 32");
			tap_ok(!memcmp(w, r, 64 * 4096), "all 64 blocks intact");
			free(w);
			free(r);
		}
	}
	tap_eq(nvr_ctrl_disconnect(ctrl), 0, "disconnect (CC.SHN, close_notify)");
	return tap_done();
}
