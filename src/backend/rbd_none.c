/* SPDX-License-Identifier: MIT */
/* Built without librbd: rbd namespaces are refused with a message that says why. */
#include <errno.h>

#include "be_priv.h"

int be_rbd_open(struct backend *be, const struct be_rbd_spec *spec, char *err, size_t errlen)
{
	(void)be;
	(void)spec;
	be_err(err, errlen, "rbd: nvring was built without librbd (install librbd-dev and "
	       "reconfigure with -Drbd=enabled)");
	return -EOPNOTSUPP;
}

int be_rbd_resize(struct backend *be, uint64_t bytes, char *err, size_t errlen)
{
	(void)be;
	(void)bytes;
	be_err(err, errlen, "rbd: nvring was built without librbd");
	return -EOPNOTSUPP;
}
