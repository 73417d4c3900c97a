/* SPDX-License-Identifier: MIT */
/* Passthrough namespaces (issue 4): not yet served. */
#include <stdio.h>

#include "passthru.h"

int passthru_ns_open(struct nvr_ns *ns, const struct cfg_ns *cn, char *err, size_t errlen)
{
	(void)ns;
	snprintf(err, errlen, "'%s' namespaces are not supported by this build", cn->kind);
	return -1;
}

void passthru_ns_close(struct nvr_ns *ns)
{
	(void)ns;
}

int passthru_opcode_dir(const struct nvr_ns *ns, uint8_t opcode)
{
	(void)ns;
	return opcode & 3;
}

void passthru_execute(struct req *req)
{
	req_complete_status(req, NVME_STATUS(0, 0x01) | NVME_STATUS_DNR);
}
