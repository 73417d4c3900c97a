/* SPDX-License-Identifier: MIT */
/* Helpers shared by the backend implementations; not for the target. */
#ifndef NVRING_BACKEND_BE_PRIV_H
#define NVRING_BACKEND_BE_PRIV_H

#include <stdio.h>

#include "backend.h"

/* 0 when io fits the namespace geometry, else the negative errno to complete it with. */
int be_io_validate(const struct backend *be, const struct be_io *io);

/* Size/LBA checks common to every open: 0 or -EINVAL with a reason in err. */
int be_lba_shift(unsigned lba_size, unsigned *shift);

#define be_err(err, errlen, ...)                                                              \
	do {                                                                                  \
		if ((err) && (errlen))                                                        \
			snprintf((err), (errlen), __VA_ARGS__);                               \
	} while (0)

#endif
