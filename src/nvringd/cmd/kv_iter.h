/* SPDX-License-Identifier: MIT */
/* KV-SSD vendor iterators (0xB1 open/close, 0xB2 read) over a KV namespace's keys. */
#ifndef NVRING_NVRINGD_CMD_KV_ITER_H
#define NVRING_NVRINGD_CMD_KV_ITER_H

#include "core/req.h"

struct kv_iters;

struct kv_iters *kv_iters_create(void);
void kv_iters_destroy(struct kv_iters *it);
/* Execute an iterator request or read on a KV or kvssd-compat namespace. */
void kv_iter_execute(struct req *req);

#endif
