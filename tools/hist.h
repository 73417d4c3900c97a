/* SPDX-License-Identifier: MIT */
/* Log-linear latency histogram: 32 linear buckets per power of two (error < 3.2%), no sorting. */
#ifndef NVRING_TOOLS_HIST_H
#define NVRING_TOOLS_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_EXP 42 /* 2^42 ns ~ 73 min: anything above lands in the last bucket */
#define HIST_BUCKETS ((HIST_MAX_EXP - HIST_SUB_BITS + 2) * HIST_SUB)

struct hist {
	uint64_t count, sum, min, max;
	uint64_t b[HIST_BUCKETS];
};

void hist_init(struct hist *h);
static inline unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	if (e > HIST_MAX_EXP)
		return HIST_BUCKETS - 1;
	return (e - HIST_SUB_BITS + 1) * HIST_SUB + (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}
static inline void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	if (v < h->min)
		h->min = v;
}
void hist_merge(struct hist *dst, const struct hist *src);
/* Value at quantile q (0..1): the middle of the bucket holding it, clamped to [min, max]. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
