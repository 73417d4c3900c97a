/* SPDX-License-Identifier: MIT */
/* A namespace's reservation state: open/load, the I/O conflict check, ordered saves (resv_ns.h). */
#include "resv_ns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "ns/ns.h"

#define RESV_NS_SUFFIX ".resv"

int resv_ns_open(struct nvr_ns *ns, const char *backing_path, char *err, size_t errlen)
{
	struct resv_ns *rn = calloc(1, sizeof(*rn));
	struct stat st;
	int ret;

	if (!rn) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&rn->lock, NULL);
	if (backing_path && !(stat(backing_path, &st) == 0 && S_ISBLK(st.st_mode))) {
		size_t n = strlen(backing_path) + sizeof(RESV_NS_SUFFIX);

		rn->path = malloc(n);
		if (!rn->path) {
			snprintf(err, errlen, "out of memory");
			pthread_mutex_destroy(&rn->lock);
			free(rn);
			return -ENOMEM;
		}
		snprintf(rn->path, n, "%s%s", backing_path, RESV_NS_SUFFIX);
	}
	resv_init(&rn->rs, ns->nsid, rn->path != NULL);
	if (rn->path) {
		ret = resv_load_file(&rn->rs, rn->path, err, errlen);
		if (ret) {
			free(rn->path);
			pthread_mutex_destroy(&rn->lock);
			free(rn);
			return ret;
		}
		if (rn->rs.ptpl)
			log_info("namespace %u: reservation state from %s (%u registrants, type %u)", ns->nsid, rn->path,
				 rn->rs.nregs, rn->rs.rtype);
	}
	atomic_init(&rn->rtype, rn->rs.rtype);
	ns->resv = rn;
	return 0;
}

void resv_ns_close(struct nvr_ns *ns)
{
	struct resv_ns *rn = ns->resv;

	if (!rn)
		return;
	pthread_mutex_destroy(&rn->lock);
	free(rn->path);
	free(rn);
	ns->resv = NULL;
}

uint16_t resv_ns_io_check(struct nvr_ns *ns, const uint8_t hostid[RESV_HOSTID_LEN], bool admin, uint8_t opcode)
{
	struct resv_ns *rn = ns->resv;
	enum resv_class cls;
	uint16_t st;

	if (!rn || !atomic_load_explicit(&rn->rtype, memory_order_acquire))
		return 0;
	cls = resv_classify(ns->csi == NVR_CSI_KV ? 1 : 0, admin, opcode);
	if (cls == RESV_CLASS_OTHER)
		return 0;
	pthread_mutex_lock(&rn->lock);
	st = resv_check(&rn->rs, hostid, cls);
	pthread_mutex_unlock(&rn->lock);
	return st;
}

static void resv_save_run(struct offload_job *job)
{
	struct resv_save *sv = container_of(job, struct resv_save, job);

	sv->rc = resv_save_file(&sv->snap, sv->path, sv->err, sizeof(sv->err));
}

static void resv_save_done(struct exec_completion *c)
{
	struct resv_save *sv = container_of(c, struct resv_save, job.done);

	if (sv->rc)
		log_err("reservation state not saved: %s", sv->err);
	sv->done(sv);
}

bool resv_ns_changed_locked(struct resv_ns *rn, const struct resv_outcome *out, struct resv_save *sv,
			    struct executor *ex)
{
	atomic_store_explicit(&rn->rtype, rn->rs.rtype, memory_order_release);
	if (!out->save || !rn->path)
		return false;
	sv->snap = rn->rs;
	sv->path = rn->path;
	sv->rc = 0;
	sv->err[0] = 0;
	sv->job.run = resv_save_run;
	sv->job.done.fn = resv_save_done;
	sv->job.ex = ex;
	/* queued under the lock: the offload thread writes the states in the order they arose */
	offload_submit(&sv->job);
	return true;
}
