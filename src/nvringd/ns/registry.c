/* SPDX-License-Identifier: MIT */
#include "registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ana_subsys.h"
#include "core/queue.h"
#include "ctrl.h"
#include "log.h"
#include "target.h"
#include "worker.h"

/* Acknowledgements a control thread waits for: one per worker. */
struct reg_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned left;
};

struct reg_msg {
	struct worker_msg msg;
	struct reg_wait *wait;
	struct nvr_ns *drain; /* removal: this worker's references must reach 0 first */
};

static void reg_ack(struct reg_wait *wait)
{
	pthread_mutex_lock(&wait->lock);
	if (--wait->left == 0)
		pthread_cond_signal(&wait->cond);
	pthread_mutex_unlock(&wait->lock);
}

struct nvr_ns *ns_get(struct nvr_subsys *s, uint32_t nsid, struct worker *w)
{
	struct nvr_ns *ns = subsys_find_ns(s, nsid);

	if (ns)
		ns->refs[w->id].n++;
	return ns;
}

void ns_ref(struct nvr_ns *ns, struct worker *w)
{
	ns->refs[w->id].n++;
}

void ns_put(struct nvr_ns *ns, struct worker *w)
{
	struct ns_wref *r = &ns->refs[w->id];

	if (--r->n == 0 && r->drain) {
		r->drain = false;
		reg_ack(ns->drain_wait);
	}
}

int registry_ns_init(struct target *tgt, struct nvr_ns *ns)
{
	unsigned n = tgt->nr_workers ? tgt->nr_workers : 1;

	ns->tgt = tgt;
	if (posix_memalign((void **)&ns->refs, 64, n * sizeof(*ns->refs)))
		return -ENOMEM;
	memset(ns->refs, 0, n * sizeof(*ns->refs));
	if (posix_memalign((void **)&ns->stats, 64, n * sizeof(*ns->stats))) {
		free(ns->refs);
		ns->refs = NULL;
		ns->stats = NULL;
		return -ENOMEM;
	}
	memset(ns->stats, 0, n * sizeof(*ns->stats));
	return 0;
}

/* Runs on each worker: it holds no table pointer from before the publish any more. */
static void reg_msg_run(struct worker *w, struct worker_msg *m)
{
	struct reg_msg *rm = container_of(m, struct reg_msg, msg);
	struct nvr_ns *ns = rm->drain;

	if (ns && ns->refs[w->id].n) {
		ns->refs[w->id].drain = true; /* ns_put acknowledges */
		return;
	}
	reg_ack(rm->wait);
}

/* Post to every worker and wait for each one's acknowledgement. */
static void reg_quiesce(struct target *tgt, struct nvr_ns *drain)
{
	struct reg_wait wait = { .left = tgt->nr_workers };
	struct reg_msg *msgs;

	if (!atomic_load(&tgt->workers_running) || !tgt->nr_workers)
		return; /* start-up or stop: nobody reads the tables concurrently */
	msgs = calloc(tgt->nr_workers, sizeof(*msgs));
	if (!msgs) {
		log_err("registry: out of memory for a grace period; retrying");
		while (!(msgs = calloc(tgt->nr_workers, sizeof(*msgs))))
			;
	}
	pthread_mutex_init(&wait.lock, NULL);
	pthread_cond_init(&wait.cond, NULL);
	if (drain)
		drain->drain_wait = &wait;
	for (unsigned i = 0; i < tgt->nr_workers; i++) {
		msgs[i].msg.fn = reg_msg_run;
		msgs[i].wait = &wait;
		msgs[i].drain = drain;
		worker_post(&tgt->workers[i], &msgs[i].msg);
	}
	pthread_mutex_lock(&wait.lock);
	while (wait.left)
		pthread_cond_wait(&wait.cond, &wait.lock);
	pthread_mutex_unlock(&wait.lock);
	pthread_cond_destroy(&wait.cond);
	pthread_mutex_destroy(&wait.lock);
	free(msgs);
}

void registry_sync(struct target *tgt)
{
	reg_quiesce(tgt, NULL);
}

/* A copy of the table with `add` inserted in order, or without `drop`; NULL on OOM. */
static struct ns_table *reg_table_edit(const struct ns_table *old, struct nvr_ns *add, const struct nvr_ns *drop)
{
	unsigned nr = old ? old->nr : 0, n = 0;
	struct ns_table *t = malloc(sizeof(*t) + (nr + 1) * sizeof(t->ns[0]));

	if (!t)
		return NULL;
	for (unsigned i = 0; i < nr; i++) {
		struct nvr_ns *ns = old->ns[i];

		if (ns == drop)
			continue;
		if (add && add->nsid < ns->nsid) {
			t->ns[n++] = add;
			add = NULL;
		}
		t->ns[n++] = ns;
	}
	if (add)
		t->ns[n++] = add;
	t->nr = n;
	return t;
}

int registry_ns_add(struct target *tgt, struct nvr_subsys *s, struct nvr_ns *ns)
{
	struct ns_table *t, *old;
	char why[128];

	pthread_mutex_lock(&tgt->registry_lock);
	old = atomic_load(&s->ns_table);
	if (ns_table_find(old, ns->nsid)) {
		pthread_mutex_unlock(&tgt->registry_lock);
		return -EEXIST;
	}
	t = reg_table_edit(old, ns, NULL);
	if (!t) {
		pthread_mutex_unlock(&tgt->registry_lock);
		return -ENOMEM;
	}
	/* in its ANA group's log before hosts hear of it (-EINVAL: an NSID the log cannot list) */
	if (s->ana && ana_subsys_ns_set(s->ana, ns->nsid, ns->anagrpid, why, sizeof(why)) < 0) {
		pthread_mutex_unlock(&tgt->registry_lock);
		free(t);
		log_err("%s namespace %u: %s", s->nqn, ns->nsid, why);
		return -EINVAL;
	}
	atomic_store_explicit(&s->ns_table, t, memory_order_release);
	reg_quiesce(tgt, NULL);
	free(old);
	pthread_mutex_unlock(&tgt->registry_lock);
	registry_ns_changed(tgt, s, ns->nsid);
	return 0;
}

int registry_ns_remove(struct target *tgt, struct nvr_subsys *s, uint32_t nsid)
{
	struct ns_table *t, *old;
	struct nvr_ns *ns;

	pthread_mutex_lock(&tgt->registry_lock);
	old = atomic_load(&s->ns_table);
	ns = ns_table_find(old, nsid);
	if (!ns) {
		pthread_mutex_unlock(&tgt->registry_lock);
		return -ENOENT;
	}
	t = reg_table_edit(old, NULL, ns);
	if (!t) {
		pthread_mutex_unlock(&tgt->registry_lock);
		return -ENOMEM;
	}
	atomic_store_explicit(&s->ns_table, t, memory_order_release);
	if (s->ana)
		ana_subsys_ns_set(s->ana, nsid, 0, NULL, 0);
	/* the grace period and the drain in one round: commands in flight complete first */
	reg_quiesce(tgt, ns);
	free(old);
	pthread_mutex_unlock(&tgt->registry_lock);
	ns_destroy(ns);
	registry_ns_changed(tgt, s, nsid);
	return 0;
}

/* ---- telling hosts -------------------------------------------------------------------- */

struct ns_changed_msg {
	struct worker_msg msg;
	struct nvr_ctrl *ctrl;
	uint32_t nsid;
};

static void ns_changed_run(struct worker *w, struct worker_msg *m)
{
	struct ns_changed_msg *cm = container_of(m, struct ns_changed_msg, msg);

	(void)w;
	if (!atomic_load(&cm->ctrl->dead))
		ctrl_ns_changed(cm->ctrl, cm->nsid);
	ctrl_put(cm->ctrl);
	free(cm);
}

void registry_ns_changed(struct target *tgt, struct nvr_subsys *s, uint32_t nsid)
{
	pthread_mutex_lock(&tgt->lock);
	for (unsigned id = 1; id <= NVR_MAX_CNTLID; id++) {
		struct nvr_ctrl *ctrl = tgt->ctrls[id];
		struct ns_changed_msg *cm;

		if (!ctrl || ctrl->subsys != s || atomic_load(&ctrl->dead) || !ctrl->queues[0])
			continue;
		cm = calloc(1, sizeof(*cm));
		if (!cm)
			continue; /* the host still sees the change at its next scan */
		cm->msg.fn = ns_changed_run;
		cm->ctrl = ctrl;
		cm->nsid = nsid;
		atomic_fetch_add(&ctrl->refs, 1);
		/* the controller's event state lives on its admin queue's worker */
		worker_post(ctrl->queues[0]->w, &cm->msg);
	}
	pthread_mutex_unlock(&tgt->lock);
}
