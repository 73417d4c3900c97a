/* SPDX-License-Identifier: MIT */
/*
 * Hand-built subsystems, namespaces, controllers and requests for the admin/identify/discovery
 * tests, plus stand-ins for what those files call outside themselves (req_complete, the clock,
 * the KV engine's size queries: Identify's NSZE/NUSE are asserted for values a real engine would
 * only reach by storing records).
 */
#ifndef NVRING_TESTS_TARGET_FIXTURE_H
#define NVRING_TESTS_TARGET_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "nvringd/conn.h"
#include "nvringd/ctrl.h"
#include "nvringd/req.h"
#include "nvringd/subsys.h"
#include "nvringd/target.h"

/* What the last req_complete() got. */
struct fx_completion {
	int count;
	struct req *req;
	uint16_t status;
	uint32_t dw0, dw1;
};
extern struct fx_completion fx_done;
extern uint64_t fx_now_ms;

/* KV engine stand-in: the fixture's KV namespaces point ns->kv at one of these. */
struct kvs {
	uint64_t capacity, used;
	uint32_t max_value;
};

/* Zeroed memory owned by the fixture (never NULL); everything fx_* built is freed by fx_free_all. */
void *fx_alloc(size_t size);
void fx_free_all(void);

struct nvr_ns *fx_ns_nvm(uint32_t nsid, unsigned lba_shift, uint64_t nlba);
struct nvr_ns *fx_ns_kv(uint32_t nsid, uint64_t capacity, uint64_t used, uint32_t max_value);
/* A subsystem with the given namespaces (sorted here by nsid). */
struct nvr_subsys *fx_subsys(const char *nqn, uint32_t max_nsid, struct nvr_ns **ns, unsigned nr_ns);
struct nvr_ctrl *fx_ctrl(struct nvr_subsys *s, uint16_t cntlid);

/* A request on an admin queue of `ctrl`, with a host transfer length of data_len. */
struct req *fx_req(struct nvr_ctrl *ctrl, uint8_t opcode, uint32_t data_len);
void fx_req_free(struct req *req);

#endif
