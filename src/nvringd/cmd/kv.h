/* SPDX-License-Identifier: MIT */
/* The Key Value command set (and the KV-SSD vendor opcodes) on KV namespaces. */
#ifndef NVRING_NVRINGD_CMD_KV_H
#define NVRING_NVRINGD_CMD_KV_H

#include <stdint.h>

#include "core/req.h"

/* req_init's kind hook for KV namespaces. */
uint16_t kv_parse(struct req *req);
void kv_execute(struct req *req);

#endif
