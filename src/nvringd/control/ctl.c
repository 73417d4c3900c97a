/* SPDX-License-Identifier: MIT */
/* Starting and stopping the control plane; lookups and helpers its operations share. */
#include "ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_int.h"

#include "ana_subsys.h"
#include "ctrl.h"
#include "log.h"
#include "rpc/metrics.h"
#include "rpc/rpc.h"
#include "rpc_methods.h"
#include "target.h"
#include "topo.h"

#define CTL_POLL_MS 2          /* teardown progress is checked this often */
#define CTL_REKILL_MS 1000     /* a teardown that could not be posted (no memory) is retried */

static struct ctl ctl_state;
static bool ctl_started;

int ctl_fail(struct ctl_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

long ctl_subsys_find(struct ctl *c, const char *nqn, struct ctl_err *e)
{
	long si = nvr_config_find_subsys(c->cfg, nqn);

	if (si < 0)
		ctl_fail(e, RPC_ERR_NOT_FOUND, "subsystem '%s' not found", nqn);
	return si;
}

long ctl_ns_find(struct ctl *c, size_t si, uint32_t nsid, struct ctl_err *e)
{
	const struct cfg_subsys *cs = &c->cfg->subsys[si];

	for (size_t k = 0; k < cs->nr_ns; k++)
		if (cs->ns[k].nsid == nsid)
			return (long)k;
	ctl_fail(e, RPC_ERR_NOT_FOUND, "namespace %u of '%s' not found", nsid, cs->nqn);
	return -1;
}

long ctl_port_find(struct ctl *c, const char *addr, const char *what, struct ctl_err *e)
{
	char a[NVR_CFG_ADDR_SIZE];
	uint16_t port;
	int family;

	if (nvr_parse_addr(addr, a, sizeof(a), &port, &family))
		return ctl_fail(e, RPC_ERR_INVALID_PARAMS, "%s: '%s' is not ADDR:PORT or [IPV6]:PORT (numeric)", what,
				addr);
	for (size_t i = 0; i < c->cfg->nr_ports; i++) {
		const struct cfg_port *p = &c->cfg->ports[i];

		if (p->family == family && p->port == port && !strcmp(p->addr, a))
			return (long)i;
	}
	return ctl_fail(e, RPC_ERR_NOT_FOUND, "no listener on %s", addr);
}

int ctl_publish_topo(struct ctl *c, const struct nvr_subsys *skip_s, const struct nvr_port *skip_p,
		     struct ctl_err *e)
{
	struct nvr_topo *t = topo_build(c->tgt);

	if (!t)
		return ctl_fail(e, RPC_ERR_INTERNAL, "out of memory");
	/* leaving out what is being removed: new hosts cannot reach it from now on */
	for (unsigned i = 0; skip_s && i < t->nr_subsys; i++)
		if (t->subsys[i].s == skip_s) {
			free(t->subsys[i].ports);
			memmove(&t->subsys[i], &t->subsys[i + 1], (t->nr_subsys - i - 1) * sizeof(t->subsys[0]));
			t->nr_subsys--;
			break;
		}
	for (unsigned i = 0; skip_p && i < t->nr_ports; i++)
		if (t->ports[i] == skip_p) {
			memmove(&t->ports[i], &t->ports[i + 1], (t->nr_ports - i - 1) * sizeof(t->ports[0]));
			t->nr_ports--;
			break;
		}
	for (unsigned i = 0; skip_p && i < t->nr_subsys; i++) {
		struct topo_subsys *ts = &t->subsys[i];

		for (unsigned k = 0; k < ts->nr_ports; k++)
			if (ts->ports[k] == skip_p) {
				memmove(&ts->ports[k], &ts->ports[k + 1], (ts->nr_ports - k - 1) * sizeof(ts->ports[0]));
				ts->nr_ports--;
				break;
			}
	}
	/* ports that start exporting a subsystem enter its ANA model with their configured states */
	for (unsigned i = 0; i < c->tgt->nr_subsys; i++) {
		char err[256];

		if (ana_subsys_sync_ports(c->tgt->subsys[i], c->cfg, i, err, sizeof(err)) < 0) {
			topo_free(t);
			return ctl_fail(e, RPC_ERR_LIMIT, "%s", err);
		}
	}
	topo_publish(c->tgt, t);
	return 0;
}

static void ctl_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void ctl_kill_ctrls(struct ctl *c, bool (*match)(const struct nvr_ctrl *ctrl, const void *arg), const void *arg,
		    const struct nvr_subsys *wait_freed)
{
	struct target *tgt = c->tgt;

	for (unsigned waited = 0;; waited += CTL_POLL_MS) {
		unsigned left = 0;

		pthread_mutex_lock(&tgt->lock);
		for (unsigned id = 1; id <= NVR_MAX_CNTLID; id++) {
			struct nvr_ctrl *ctrl = tgt->ctrls[id];

			if (!ctrl || !match(ctrl, arg))
				continue;
			left++;
			if (waited % CTL_REKILL_MS == 0)
				ctrl_kill_locked(ctrl);
		}
		pthread_mutex_unlock(&tgt->lock);
		if (!left && (!wait_freed || !atomic_load_explicit(&((struct nvr_subsys *)wait_freed)->nr_ctrls,
								   memory_order_acquire)))
			return;
		if (waited && waited % 5000 == 0)
			log_info("control: waiting for %u controller%s to go", left, left == 1 ? "" : "s");
		ctl_sleep_ms(CTL_POLL_MS);
	}
}

int ctl_start(struct target *tgt, char *err, size_t errlen)
{
	struct ctl *c = &ctl_state;
	struct rpc_server_opts o = { 0 };
	int ret;

	memset(c, 0, sizeof(*c));
	c->tgt = tgt;
	c->cfg = tgt->cfg;
	pthread_mutex_init(&c->lock, NULL);
	ctl_started = true;
	for (size_t pi = 0; pi < c->cfg->nr_ports; pi++)
		if (ctl_cfg_port_list_all(c->cfg, pi)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	if (c->cfg->metrics.enabled && ctl_metrics_start(c, err, errlen) < 0)
		return -1;
	o.path = c->cfg->rpc_socket;
	o.methods = rpc_nvringd_methods;
	o.ctx = c;
	ret = rpc_server_start(&o, &c->rpc, err, errlen);
	if (ret < 0)
		return -1;
	if (c->rpc)
		log_info("control socket %s", c->cfg->rpc_socket);
	return 0;
}

void ctl_stop(void)
{
	struct ctl *c = &ctl_state;

	if (!ctl_started)
		return;
	rpc_server_stop(c->rpc);
	metrics_server_stop(c->metrics);
	c->rpc = NULL;
	c->metrics = NULL;
	pthread_mutex_destroy(&c->lock);
	ctl_started = false;
}
