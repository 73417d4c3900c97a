/* SPDX-License-Identifier: MIT */
/* Key-Value command set: served once KV namespaces are wired to src/kvstore (issue 5). */
#include "ctrl.h"
#include "req.h"

void kv_execute(struct req *req)
{
	req_complete_status(req, NVME_STATUS(0, 0x01) | NVME_STATUS_DNR);
}
