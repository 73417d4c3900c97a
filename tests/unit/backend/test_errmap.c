/* SPDX-License-Identifier: MIT */
/* be_errno_to_status: every mapping, written as literal (SCT << 8 | SC | DNR) values. */
#include <errno.h>

#include "bt.h"

static const struct {
	int err;
	enum be_op op;
	uint16_t status;
	const char *what;
} cases[] = {
	{ 0, BE_READ, 0x0000, "success" },
	{ 5, BE_WRITE, 0x0000, "positive result is success" },
	{ -EIO, BE_READ, 0x0281, "EIO read: Unrecovered Read Error (SCT 2, SC 0x81)" },
	{ -EIO, BE_WRITE, 0x0280, "EIO write: Write Fault (SCT 2, SC 0x80)" },
	{ -EIO, BE_FLUSH, 0x0006, "EIO flush: Internal Error" },
	{ -EIO, BE_WRITE_ZEROES, 0x0006, "EIO write zeroes: Internal Error" },
	{ -EIO, BE_DISCARD, 0x0006, "EIO discard: Internal Error" },
	{ -ENOSPC, BE_WRITE, 0x4081, "ENOSPC: Capacity Exceeded + DNR" },
	{ -ENOSPC, BE_WRITE_ZEROES, 0x4081, "ENOSPC write zeroes: Capacity Exceeded + DNR" },
	{ -EDQUOT, BE_WRITE, 0x4081, "EDQUOT: Capacity Exceeded + DNR" },
	{ -EOPNOTSUPP, BE_READ, 0x4002, "EOPNOTSUPP read: Invalid Field + DNR" },
	{ -EOPNOTSUPP, BE_WRITE, 0x4002, "EOPNOTSUPP write: Invalid Field + DNR" },
	{ -EOPNOTSUPP, BE_FLUSH, 0x4001, "EOPNOTSUPP flush: Invalid Opcode + DNR" },
	{ -EOPNOTSUPP, BE_WRITE_ZEROES, 0x4001, "EOPNOTSUPP write zeroes: Invalid Opcode + DNR" },
	{ -EOPNOTSUPP, BE_DISCARD, 0x4001, "EOPNOTSUPP discard: Invalid Opcode + DNR" },
	{ -EROFS, BE_WRITE, 0x4020, "EROFS: Namespace Write Protected + DNR" },
	{ -EPERM, BE_WRITE, 0x4020, "EPERM: Namespace Write Protected + DNR" },
	{ -EACCES, BE_DISCARD, 0x4020, "EACCES: Namespace Write Protected + DNR" },
	{ -EINVAL, BE_READ, 0x4002, "EINVAL: Invalid Field + DNR" },
	{ -ERANGE, BE_READ, 0x4080, "ERANGE: LBA Out of Range + DNR" },
	{ -ENOMEM, BE_READ, 0x0006, "ENOMEM: Internal Error, retryable" },
	{ -EBADF, BE_WRITE, 0x0006, "EBADF: Internal Error" },
	{ -12345, BE_READ, 0x0006, "unknown errno: Internal Error" },
};

int main(void)
{
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t st = be_errno_to_status(cases[i].err, cases[i].op);

		tap_ok(st == cases[i].status, "%s (got 0x%04x)", cases[i].what, st);
	}
	return tap_done();
}
