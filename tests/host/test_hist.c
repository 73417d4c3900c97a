/* SPDX-License-Identifier: MIT */
/* nvring perf's log-linear histogram: bucket math and quantiles against exact answers. TAP. */
#include <stdio.h>
#include <stdlib.h>

#include "../../tools/hist.h"

static int t_num, t_fail;

static void ok(int cond, const char *name, double a, double b)
{
	t_num++;
	t_fail += !cond;
	printf("%sok %d - %s (got %.0f, want %.0f)\n", cond ? "" : "not ", t_num, name, a, b);
}

static int near(uint64_t got, uint64_t want)
{
	double d = (double)got - (double)want;

	return (d < 0 ? -d : d) <= want * 0.032 + 1;
}

int main(void)
{
	static struct hist h, h2;
	int mono = 1;

	hist_init(&h);
	for (uint64_t v = 1; v <= 100000; v++) /* uniform 1..100000: quantile q is ~q*100000 */
		hist_add(&h, v);
	ok(near(hist_quantile(&h, 0.5), 50000), "p50 of uniform 1..100000 within 3.2%", hist_quantile(&h, 0.5), 50000);
	ok(near(hist_quantile(&h, 0.99), 99000), "p99 within 3.2%", hist_quantile(&h, 0.99), 99000);
	ok(near(hist_quantile(&h, 0.999), 99900), "p99.9 within 3.2%", hist_quantile(&h, 0.999), 99900);
	ok(h.max == 100000 && h.min == 1 && h.count == 100000, "min, max, count exact", (double)h.max, 100000);
	ok(hist_quantile(&h, 1.0) == h.max, "p100 is the max", hist_quantile(&h, 1.0), 100000);
	for (uint64_t v = 1; v < (1ull << 40); v = v * 3 / 2 + 1)
		if (hist_index(v) > hist_index(v * 3 / 2 + 1))
			mono = 0;
	ok(mono, "bucket index grows with the value", mono, 1);
	ok(hist_index(1ull << 62) == HIST_BUCKETS - 1, "huge values land in the last bucket", hist_index(1ull << 62),
	   HIST_BUCKETS - 1);
	hist_init(&h2);
	for (int i = 0; i < 990; i++)
		hist_add(&h2, 10000); /* 10 us */
	for (int i = 0; i < 10; i++)
		hist_add(&h2, 5000000); /* 5 ms tail */
	hist_merge(&h, &h2);
	ok(near(hist_quantile(&h2, 0.5), 10000) && near(hist_quantile(&h2, 0.995), 5000000),
	   "bimodal: p50 at the mode, p99.5 in the tail", hist_quantile(&h2, 0.995), 5000000);
	ok(h.count == 101000 && h.max == 5000000, "merge adds counts and keeps max", (double)h.count, 101000);
	printf("1..%d\n", t_num);
	return t_fail ? 1 : 0;
}
