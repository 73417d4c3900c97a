/* SPDX-License-Identifier: MIT */
/* The NVM command set on block namespaces (mem, file, and later RBD): parse and execute. */
#ifndef NVRING_NVRINGD_CMD_NVM_H
#define NVRING_NVRINGD_CMD_NVM_H

#include <stdint.h>

#include "core/req.h"

/* req_init's kind hook for block namespaces: execute function, buffers, checks. */
uint16_t nvm_parse(struct req *req);
void nvm_execute(struct req *req);
/* SLBA/NLB of a Read/Write-shaped command checked against req->ns: 0 or LBA Out of Range. */
uint16_t nvm_lba_range(struct req *req, uint64_t *slba, uint32_t *nlb);
/* bytes within MDTS and equal to the host's transfer length: 0 or a status. */
uint16_t nvm_check_transfer(struct req *req, uint64_t bytes);

#endif
