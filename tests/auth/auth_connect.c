/* SPDX-License-Identifier: MIT */
/*
 * libnvring connect with DH-HMAC-CHAP, timed: auth_connect ADDR PORT SUBNQN HOSTNQN KEY CTRLKEY|- NR_IO REPS
 * Prints "ok avg A min B max C ms" (nvr_ctrl_connect, i.e. TCP + Connect + authentication of
 * every queue + enable + Identify), or "error ERRNO: message" and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvring/nvring.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct nvr_connect_opts o;
	double sum = 0, mn = 1e9, mx = 0;
	char err[256];
	int reps;

	if (argc != 9) {
		fprintf(stderr, "usage: auth_connect ADDR PORT SUBNQN HOSTNQN KEY CTRLKEY|- NR_IO REPS\n");
		return 2;
	}
	reps = atoi(argv[8]);
	for (int i = 0; i < reps; i++) {
		struct nvr_ctrl *ctrl;
		uint16_t st = 0;
		double t0;
		int ret;

		nvr_connect_opts_init(&o);
		o.traddr = argv[1];
		o.trsvcid = argv[2];
		o.subnqn = argv[3];
		o.hostnqn = argv[4];
		o.dhchap_secret = strcmp(argv[5], "-") ? argv[5] : NULL;
		o.dhchap_ctrl_secret = strcmp(argv[6], "-") ? argv[6] : NULL;
		o.nr_io_queues = (unsigned)atoi(argv[7]);
		o.errbuf = err;
		o.errbuf_len = sizeof(err);
		t0 = now_ms();
		ret = nvr_ctrl_connect(&o, &ctrl, &st);
		if (ret) {
			printf("error %s: %s (status 0x%x)\n", strerrorname_np(-ret), err[0] ? err : strerror(-ret), st);
			return 1;
		}
		t0 = now_ms() - t0;
		sum += t0;
		mn = t0 < mn ? t0 : mn;
		mx = t0 > mx ? t0 : mx;
		if (nvr_ctrl_nr_io_queues(ctrl) != o.nr_io_queues) {
			printf("error: %u I/O queues, %u asked\n", nvr_ctrl_nr_io_queues(ctrl), o.nr_io_queues);
			return 1;
		}
		for (unsigned q = 0; q < o.nr_io_queues; q++) {
			ret = nvr_flush(nvr_ctrl_io_queue(ctrl, q), 1);
			if (ret) {
				printf("error: Flush on I/O queue %u: %d\n", q + 1, ret);
				return 1;
			}
		}
		nvr_ctrl_disconnect(ctrl);
	}
	printf("ok avg %.2f min %.2f max %.2f ms\n", sum / reps, mn, mx);
	return 0;
}
