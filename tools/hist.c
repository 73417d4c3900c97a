/* SPDX-License-Identifier: MIT */
/* Log-linear histogram: merging and quantiles by walking bucket counts. */
#include <string.h>

#include "hist.h"

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
	if (src->min < dst->min)
		dst->min = src->min;
}

/* Lowest value of a bucket and its width. */
static void hist_bucket(unsigned i, uint64_t *lo, uint64_t *width)
{
	unsigned e;

	if (i < HIST_SUB) {
		*lo = i;
		*width = 1;
		return;
	}
	e = i / HIST_SUB + HIST_SUB_BITS - 1;
	*width = 1ull << (e - HIST_SUB_BITS);
	*lo = (1ull << e) + (uint64_t)(i % HIST_SUB) * *width;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (q >= 1.0)
		return h->max;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			uint64_t lo, w, v;

			hist_bucket(i, &lo, &w);
			v = lo + w / 2;
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}
