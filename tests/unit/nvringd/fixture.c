/* SPDX-License-Identifier: MIT */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvstore/kvstore.h"
#include "nvringd/worker.h"

struct fx_completion fx_done;
uint64_t fx_now_ms = 1000;

/* Every fixture object, freed together by fx_free_all(). */
static void **fx_objs;
static size_t fx_nr_objs;

void *fx_alloc(size_t size)
{
	void *p = calloc(1, size);
	void **objs = realloc(fx_objs, (fx_nr_objs + 1) * sizeof(*objs));

	if (!p || !objs)
		abort(); /* test harness out of memory */
	fx_objs = objs;
	fx_objs[fx_nr_objs++] = p;
	return p;
}

void fx_free_all(void)
{
	for (size_t i = 0; i < fx_nr_objs; i++)
		free(fx_objs[i]);
	free(fx_objs);
	fx_objs = NULL;
	fx_nr_objs = 0;
}

void req_complete(struct req *req, uint16_t status, uint32_t dw0, uint32_t dw1)
{
	fx_done.count++;
	fx_done.req = req;
	fx_done.status = status;
	fx_done.dw0 = dw0;
	fx_done.dw1 = dw1;
	req->state = REQ_SENDING;
}

int req_alloc_buf(struct req *req, uint32_t len)
{
	void *p;

	if (req->buf_size >= len)
		return 0;
	p = realloc(req->buf, len);
	if (!p)
		return -12;
	/* poison: handlers must write every byte they return */
	memset(p, 0xa5, len);
	req->buf = p;
	req->buf_size = len;
	return 0;
}

uint64_t worker_now_ms(void)
{
	return fx_now_ms;
}

uint64_t kvs_capacity(const struct kvs *kv)
{
	return kv->capacity;
}

uint64_t kvs_used(const struct kvs *kv)
{
	return kv->used;
}

uint32_t kvs_max_value(const struct kvs *kv)
{
	return kv->max_value;
}

struct nvr_ns *fx_ns_nvm(uint32_t nsid, unsigned lba_shift, uint64_t nlba)
{
	struct nvr_ns *ns = fx_alloc(sizeof(*ns));

	ns->nsid = nsid;
	ns->csi = NVR_CSI_NVM;
	ns->lba_shift = lba_shift;
	ns->nlba = nlba;
	ns->be.geom.size = nlba << lba_shift;
	ns->be.geom.lba_shift = lba_shift;
	return ns;
}

struct nvr_ns *fx_ns_kv(uint32_t nsid, uint64_t capacity, uint64_t used, uint32_t max_value)
{
	struct nvr_ns *ns = fx_alloc(sizeof(*ns));
	struct kvs *kv = fx_alloc(sizeof(*kv));

	kv->capacity = capacity;
	kv->used = used;
	kv->max_value = max_value;
	ns->nsid = nsid;
	ns->csi = NVR_CSI_KV;
	ns->kv = kv;
	return ns;
}

static int fx_ns_cmp(const void *a, const void *b)
{
	const struct nvr_ns *x = *(struct nvr_ns *const *)a, *y = *(struct nvr_ns *const *)b;

	return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

struct nvr_subsys *fx_subsys(const char *nqn, uint32_t max_nsid, struct nvr_ns **ns, unsigned nr_ns)
{
	struct nvr_subsys *s = fx_alloc(sizeof(*s));

	snprintf(s->nqn, sizeof(s->nqn), "%s", nqn);
	snprintf(s->serial, sizeof(s->serial), "%s", "SN0123");
	snprintf(s->model, sizeof(s->model), "%s", "nvring test");
	s->allow_any_host = true;
	s->max_nsid = max_nsid;
	s->ns = fx_alloc((nr_ns ? nr_ns : 1) * sizeof(*s->ns));
	if (nr_ns)
		memcpy(s->ns, ns, nr_ns * sizeof(*ns));
	qsort(s->ns, nr_ns, sizeof(*s->ns), fx_ns_cmp);
	s->nr_ns = nr_ns;
	return s;
}

struct nvr_ctrl *fx_ctrl(struct nvr_subsys *s, uint16_t cntlid)
{
	struct nvr_ctrl *ctrl = fx_alloc(sizeof(*ctrl));

	ctrl->cntlid = cntlid;
	ctrl->subsys = s;
	ctrl->csts = 1; /* enabled and ready */
	snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", "nqn.2014-08.org.nvmexpress:uuid:host-a");
	return ctrl;
}

struct req *fx_req(struct nvr_ctrl *ctrl, uint8_t opcode, uint32_t data_len)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct req *req = calloc(1, sizeof(*req));

	c->ctrl = ctrl;
	c->fd = -1;
	req->conn = c;
	req->sqe.opcode = opcode;
	req->data_len = data_len;
	req->state = REQ_EXECUTING;
	return req;
}

void fx_req_free(struct req *req)
{
	free(req->conn);
	free(req->buf);
	free(req);
}
