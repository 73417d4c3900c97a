/* SPDX-License-Identifier: MIT */
#include "bufpool.h"

#include <stdlib.h>

#define BUFPOOL_MIN_SHIFT 12 /* 4 KiB */
#define BUFPOOL_MAX_SHIFT 26 /* 64 MiB */
#define BUFPOOL_CLASSES (BUFPOOL_MAX_SHIFT - BUFPOOL_MIN_SHIFT + 1)
#define BUFPOOL_KEEP_BYTES (32u << 20) /* in all classes: beyond this, buffers go back to malloc */

struct free_buf {
	struct free_buf *next;
};

struct bufpool {
	struct free_buf *free[BUFPOOL_CLASSES];
	uint64_t kept;
};

struct bufpool *bufpool_create(void)
{
	return calloc(1, sizeof(struct bufpool));
}

void bufpool_destroy(struct bufpool *bp)
{
	if (!bp)
		return;
	for (int i = 0; i < BUFPOOL_CLASSES; i++) {
		while (bp->free[i]) {
			struct free_buf *b = bp->free[i];

			bp->free[i] = b->next;
			free(b);
		}
	}
	free(bp);
}

static int bufpool_class(uint32_t len)
{
	int shift = BUFPOOL_MIN_SHIFT;

	while (shift <= BUFPOOL_MAX_SHIFT && (1u << shift) < len)
		shift++;
	return shift > BUFPOOL_MAX_SHIFT ? -1 : shift - BUFPOOL_MIN_SHIFT;
}

void *bufpool_get(struct bufpool *bp, uint32_t len, uint32_t *size)
{
	int cls = bufpool_class(len ? len : 1);
	struct free_buf *b;
	void *p;

	if (cls < 0)
		return NULL;
	*size = 1u << (cls + BUFPOOL_MIN_SHIFT);
	b = bp->free[cls];
	if (b) {
		bp->free[cls] = b->next;
		bp->kept -= *size;
		return b;
	}
	if (posix_memalign(&p, 4096, *size))
		return NULL;
	return p;
}

void bufpool_put(struct bufpool *bp, void *buf, uint32_t size)
{
	int cls = bufpool_class(size);
	struct free_buf *b = buf;

	if (cls < 0 || bp->kept + size > BUFPOOL_KEEP_BYTES) {
		free(buf);
		return;
	}
	b->next = bp->free[cls];
	bp->free[cls] = b;
	bp->kept += size;
}

uint32_t bufpool_class_size(uint32_t len)
{
	int cls = bufpool_class(len ? len : 1);

	return cls < 0 ? 0 : 1u << (cls + BUFPOOL_MIN_SHIFT);
}
