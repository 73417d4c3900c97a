/* SPDX-License-Identifier: MIT */
#include "fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bufpool.h"
#include "config/config.h"
#include "worker.h"

struct fx_completion fx_done;

/* Every fixture object, freed together by fx_free_all(). */
static void **fx_objs;
static size_t fx_nr_objs;
static struct nvr_ctrl *fx_ctrls[64];
static unsigned fx_nr_ctrls;
static struct nvr_ns **fx_nss;
static unsigned fx_nr_nss;
static struct target fx_tgt = { .nr_workers = 1 };
struct worker fx_worker = { .tgt = &fx_tgt, .now_ms = 1000 };

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
	for (unsigned i = 0; i < fx_nr_nss; i++)
		ns_destroy(fx_nss[i]);
	free(fx_nss);
	fx_nss = NULL;
	for (unsigned i = 0; i < fx_nr_ctrls; i++)
	{
		/* what ctrl_put would free */
		free(fx_ctrls[i]->changed);
		free(fx_ctrls[i]->errs);
	}
	fx_nr_ctrls = 0;
	fx_nr_nss = 0;
	for (size_t i = 0; i < fx_nr_objs; i++)
		free(fx_objs[i]);
	free(fx_objs);
	fx_objs = NULL;
	fx_nr_objs = 0;
}

/* The fixture transport: the completion is recorded, nothing is sent. */
static void fx_queue_response(struct req *req)
{
	fx_done.count++;
	fx_done.req = req;
	fx_done.status = req->status;
	fx_done.dw0 = req->cqe.dw0;
	fx_done.dw1 = req->cqe.dw1;
}

static int fx_local_addr(struct nvr_queue *q, char *out, size_t len)
{
	(void)q;
	(void)out;
	(void)len;
	return -ENOTCONN; /* no socket: a wildcard listen address stays as it is */
}

/* The SGL is taken as the host sent it: req_init's transport check passes. */
static uint16_t fx_check_data(struct req *req, uint32_t icd_len)
{
	(void)req;
	(void)icd_len;
	return 0;
}

static const struct nvr_queue_ops fx_queue_ops = {
	.check_data = fx_check_data,
	.queue_response = fx_queue_response,
	.local_addr = fx_local_addr,
};

static struct nvr_ns *fx_ns_open(struct cfg_ns *cn)
{
	struct nvr_ns **nss = realloc(fx_nss, (fx_nr_nss + 1) * sizeof(*nss));
	struct nvr_ns *ns = calloc(1, sizeof(*ns));
	char err[256] = "out of memory";

	if (!ns || !nss || ns_open(&fx_tgt, ns, cn, err, sizeof(err))) {
		fprintf(stderr, "fixture: namespace %u: %s\n", cn->nsid, err);
		abort();
	}
	fx_nss = nss;
	fx_nss[fx_nr_nss++] = ns;
	return ns;
}

struct nvr_ns *fx_ns_nvm(uint32_t nsid, unsigned lba_shift, uint64_t nlba)
{
	struct cfg_ns cn = { .nsid = nsid, .enabled = true, .size = nlba << lba_shift, .lba_size = 1u << lba_shift };

	snprintf(cn.kind, sizeof(cn.kind), "mem");
	return fx_ns_open(&cn);
}

struct nvr_ns *fx_ns_kv(uint32_t nsid, uint64_t capacity, uint32_t max_value)
{
	char val[16];
	struct cfg_opt opt = { .key = "max_value", .val = val };
	struct cfg_ns cn = { .nsid = nsid, .enabled = true, .size = capacity, .opts = &opt, .nr_opts = 1 };

	snprintf(val, sizeof(val), "%u", max_value);
	snprintf(cn.kind, sizeof(cn.kind), "kv");
	return fx_ns_open(&cn);
}

static int fx_ns_cmp(const void *a, const void *b)
{
	const struct nvr_ns *x = *(struct nvr_ns *const *)a, *y = *(struct nvr_ns *const *)b;

	return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

struct nvr_subsys *fx_subsys(const char *nqn, uint32_t max_nsid, struct nvr_ns **ns, unsigned nr_ns)
{
	struct nvr_subsys *s = fx_alloc(sizeof(*s));
	struct ns_table *t = fx_alloc(sizeof(*t) + (nr_ns + 1) * sizeof(t->ns[0]));

	snprintf(s->nqn, sizeof(s->nqn), "%s", nqn);
	snprintf(s->serial, sizeof(s->serial), "%s", "SN0123");
	snprintf(s->model, sizeof(s->model), "%s", "nvring test");
	s->allow_any_host = true;
	s->max_nsid = max_nsid;
	if (nr_ns)
		memcpy(t->ns, ns, nr_ns * sizeof(*ns));
	qsort(t->ns, nr_ns, sizeof(t->ns[0]), fx_ns_cmp);
	t->nr = nr_ns;
	atomic_init(&s->ns_table, t);
	return s;
}

struct nvr_ctrl *fx_ctrl(struct nvr_subsys *s, uint16_t cntlid)
{
	struct nvr_ctrl *ctrl = fx_alloc(sizeof(*ctrl));

	if (fx_nr_ctrls == 64)
		abort();
	fx_ctrls[fx_nr_ctrls++] = ctrl;
	ctrl->cntlid = cntlid;
	ctrl->subsys = s;
	ctrl->tgt = &fx_tgt;
	ctrl->csts = 1; /* enabled and ready */
	snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", "nqn.2014-08.org.nvmexpress:uuid:host-a");
	return ctrl;
}

struct req *fx_req(struct nvr_ctrl *ctrl, uint8_t opcode, uint32_t data_len)
{
	struct nvr_queue *q = calloc(1, sizeof(*q));
	struct req *req = calloc(1, sizeof(*req));

	if (!q || !req)
		abort();
	if (!fx_worker.bufs) {
		fx_worker.bufs = bufpool_create();
		fx_worker.budget.limit = UINT64_MAX;
	}
	q->ops = &fx_queue_ops;
	q->w = &fx_worker;
	q->ctrl = ctrl;
	q->buf_limit = UINT64_MAX;
	req->q = q;
	req->ctrl = ctrl;
	req->sqe.opcode = opcode;
	req->data_len = data_len;
	req->state = REQ_EXECUTING;
	return req;
}

struct req *fx_req_on(struct nvr_ctrl *ctrl, uint16_t qid, struct nvr_port *port, uint8_t opcode, uint32_t data_len)
{
	struct req *req = fx_req(ctrl, opcode, data_len);

	req->q->qid = qid;
	req->q->port = port;
	req->q->sqsize = 127;
	req->sqe.flags = NVME_CMD_PSDT_SGL;
	req->sqe.sgl.length = data_len;
	req->state = REQ_FREE;
	return req;
}

struct target *fx_target(void)
{
	return &fx_tgt;
}

void fx_req_free(struct req *req)
{
	struct nvr_queue *q = req->q;

	req->ns = NULL; /* the tests' requests hold no reference */
	req_release(req);
	free(req);
	free(q);
}
