/* SPDX-License-Identifier: MIT */
/*
 * Hand-built subsystems, namespaces (opened by the real kinds: RAM and in-memory KV),
 * controllers and requests on a fixture queue whose transport records the completion instead
 * of sending it: the command handlers and the request core run as in the daemon, without a
 * socket or a ring.
 */
#ifndef NVRING_TESTS_NVRINGD_FIXTURE_H
#define NVRING_TESTS_NVRINGD_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/queue.h"
#include "core/req.h"
#include "ctrl.h"
#include "ns/ns.h"
#include "subsys.h"
#include "target.h"
#include "worker.h"

/* What the last completion carried. */
struct fx_completion {
	int count;
	struct req *req;
	uint16_t status;
	uint32_t dw0, dw1;
};
extern struct fx_completion fx_done;
/* The fixture worker's clock (what req_now_ms reads). */
extern struct worker fx_worker;
#define fx_now_ms (fx_worker.now_ms)

/* Zeroed memory owned by the fixture (never NULL); everything fx_* built is freed by fx_free_all. */
void *fx_alloc(size_t size);
void fx_free_all(void);

/* A RAM namespace of nlba blocks of 1 << lba_shift bytes. */
struct nvr_ns *fx_ns_nvm(uint32_t nsid, unsigned lba_shift, uint64_t nlba);
/* An in-memory KV namespace of `capacity` bytes taking values up to max_value. */
struct nvr_ns *fx_ns_kv(uint32_t nsid, uint64_t capacity, uint32_t max_value);
/* A subsystem with the given namespaces (sorted here by nsid). */
struct nvr_subsys *fx_subsys(const char *nqn, uint32_t max_nsid, struct nvr_ns **ns, unsigned nr_ns);
struct nvr_ctrl *fx_ctrl(struct nvr_subsys *s, uint16_t cntlid);

/* A request on an admin queue of `ctrl`, with a host transfer length of data_len. */
struct req *fx_req(struct nvr_ctrl *ctrl, uint8_t opcode, uint32_t data_len);
/* The same on I/O queue qid (0: admin) reached through port (NULL: none): for req_init. */
struct req *fx_req_on(struct nvr_ctrl *ctrl, uint16_t qid, struct nvr_port *port, uint8_t opcode, uint32_t data_len);
/* The fixture's target (its controller table is empty: notifications reach nobody). */
struct target *fx_target(void);
void fx_req_free(struct req *req);

#endif
