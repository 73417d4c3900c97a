/* SPDX-License-Identifier: MIT */
/*
 * In-band authentication (DH-HMAC-CHAP, NVMe base spec 2.0 §8.13) on a queue: Connect starts
 * it for hosts configured with a key, Authentication Send/Receive carry it (src/auth does the
 * protocol), every other command waits for it (Authentication Required), and a half-done
 * exchange times out.
 */
#ifndef NVRING_NVRINGD_CMD_AUTH_H
#define NVRING_NVRINGD_CMD_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/req.h"

struct nvr_host;
struct nvr_queue;

/* Connect: start authentication if the host has a key; the CQE DW0 bits to add (ATR). */
uint32_t auth_connect(struct req *req, const struct nvr_host *host);
/* Fabrics Authentication Send (05h) / Receive (06h). */
void auth_send(struct req *req);
void auth_receive(struct req *req);
/* Commands other than authentication wait for it: 0 or Authentication Required. */
uint16_t auth_gate(const struct req *req);
/* Periodic: the queue must go (a timed-out or failed exchange). */
bool auth_expired(struct nvr_queue *q, uint64_t now_ms);
/* The queue is freed. */
void auth_queue_free(struct nvr_queue *q);

#endif
