/* SPDX-License-Identifier: MIT */
/* Backend errno → NVMe status, in one table-like switch so the target never guesses. */
#include <errno.h>
#include <nvme/types.h>

#include "backend.h"
#include "spec/nvme_cmd.h"

#define ST(sct, sc) NVME_STATUS(NVME_SCT_##sct, NVME_SC_##sc)

uint16_t be_errno_to_status(int err, enum be_op op)
{
	if (err >= 0)
		return 0;

	switch (-err) {
	case EIO:
		/* Media errors may be transient (a retry can succeed): no DNR. */
		if (op == BE_READ)
			return ST(MEDIA, READ_ERROR);
		if (op == BE_WRITE)
			return ST(MEDIA, WRITE_FAULT);
		return ST(GENERIC, INTERNAL);
	case ETIMEDOUT:
		/* the storage behind the namespace (a Ceph cluster) did not answer: it may come
		 * back, so the host should retry (no DNR) */
		return ST(GENERIC, NS_NOT_READY);
	case ENOSPC:
	case EDQUOT:
		return ST(GENERIC, CAP_EXCEEDED) | NVME_STATUS_DNR;
	case EOPNOTSUPP:
		/* READ/WRITE exist, so a field (e.g. FUA) asked for something unsupported. */
		if (op == BE_READ || op == BE_WRITE)
			return ST(GENERIC, INVALID_FIELD) | NVME_STATUS_DNR;
		return ST(GENERIC, INVALID_OPCODE) | NVME_STATUS_DNR;
	case EROFS:
	case EPERM:
	case EACCES:
		return ST(GENERIC, NS_WRITE_PROTECTED) | NVME_STATUS_DNR;
	case EINVAL:
		return ST(GENERIC, INVALID_FIELD) | NVME_STATUS_DNR;
	case ERANGE:
		return ST(GENERIC, LBA_RANGE) | NVME_STATUS_DNR;
	default:
		return ST(GENERIC, INTERNAL);
	}
}
