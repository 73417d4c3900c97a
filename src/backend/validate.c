/* SPDX-License-Identifier: MIT */
/* Argument checks every backend applies before touching storage. */
#include <errno.h>

#include "be_priv.h"

int be_io_validate(const struct backend *be, const struct be_io *io)
{
	uint64_t mask = (1ull << be->geom.lba_shift) - 1;
	/* a resize (control thread) may change the size while workers check against it */
	uint64_t size = __atomic_load_n(&be->geom.size, __ATOMIC_RELAXED);

	switch (io->op) {
	case BE_FLUSH:
		return 0;
	case BE_READ:
	case BE_WRITE:
		if (io->len && !io->buf)
			return -EINVAL;
		break;
	case BE_WRITE_ZEROES:
	case BE_DISCARD:
		break;
	default:
		return -EINVAL;
	}
	if ((io->offset | io->len) & mask)
		return -EINVAL;
	/* written so that offset + len cannot overflow */
	if (io->offset > size || io->len > size - io->offset)
		return -ERANGE;
	if (io->op != BE_READ && be->geom.readonly)
		return -EROFS;
	return 0;
}

int be_lba_shift(unsigned lba_size, unsigned *shift)
{
	if (lba_size == 512) {
		*shift = 9;
		return 0;
	}
	if (lba_size == 4096) {
		*shift = 12;
		return 0;
	}
	return -EINVAL;
}
