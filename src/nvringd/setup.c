/* SPDX-License-Identifier: MIT */
/* Build the running target (ports, subsystems, namespaces) from a validated configuration. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "listener.h"
#include "log.h"
#include "setup.h"
#include "target.h"

static int setup_port(struct nvr_port *p, const struct cfg_port *cp, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->portid = cp->portid;
	p->family = cp->family;
	p->discovery_only = cp->discovery_only;
	snprintf(p->traddr, sizeof(p->traddr), "%s", cp->addr);
	snprintf(p->trsvcid, sizeof(p->trsvcid), "%u", cp->port);
	if (cp->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)&p->sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cp->port);
		if (inet_pton(AF_INET6, cp->addr, &s6->sin6_addr) != 1)
			goto bad;
	} else {
		struct sockaddr_in *s4 = (void *)&p->sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(cp->port);
		if (inet_pton(AF_INET, cp->addr, &s4->sin_addr) != 1)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad address '%s'", cp->addr);
	return -1;
}

static int setup_ns(struct target *tgt, struct nvr_ns *ns, const struct cfg_subsys *cs, const struct cfg_ns *cn,
		    char *err, size_t errlen)
{
	char why[256] = "";

	if (ns_open(tgt, ns, cn, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s namespace %u: %s", cs->nqn, cn->nsid, why);
		return -1;
	}
	if (ns->big_sqe)
		tgt->big_sqe = true;
	if (ns->ops->poll) {
		struct nvr_ns **p = realloc(tgt->pollers, (tgt->nr_pollers + 1) * sizeof(*p));

		if (!p) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		tgt->pollers = p;
		tgt->pollers[tgt->nr_pollers++] = ns;
	}
	return 0;
}

/* Defaults a careful admin would accept (README "Limits and hardening"). */
static void setup_limits(struct nvr_limits *l, const struct nvr_config *cfg)
{
	(void)cfg;
	l->max_conns = 16384;
	l->max_conns_per_host = 1024;
	l->max_inflight = 1ull << 30;
	l->max_inflight_per_conn = 32ull << 20;
	l->icreq_timeout_ms = 10000;
	l->connect_timeout_ms = 10000;
	l->pdu_timeout_ms = 10000;
}

static int ns_cmp(const void *a, const void *b)
{
	const struct nvr_ns *x = *(struct nvr_ns *const *)a, *y = *(struct nvr_ns *const *)b;

	return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

static struct nvr_subsys *setup_discovery_subsys(void)
{
	struct nvr_subsys *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->nqn, sizeof(s->nqn), "%s", NVR_DISC_NQN);
	snprintf(s->serial, sizeof(s->serial), "nvring-discovery");
	snprintf(s->model, sizeof(s->model), "nvring discovery controller");
	s->discovery = true;
	s->allow_any_host = true;
	return s;
}

static int setup_subsys(struct target *tgt, const struct nvr_config *cfg, size_t si, struct nvr_subsys **out,
			char *err, size_t errlen)
{
	const struct cfg_subsys *cs = &cfg->subsys[si];
	struct nvr_subsys *s = calloc(1, sizeof(*s));
	struct ns_table *t = NULL;

	*out = s;
	if (!s)
		goto oom;
	snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
	snprintf(s->serial, sizeof(s->serial), "%s", cs->serial);
	snprintf(s->model, sizeof(s->model), "%s", cs->model[0] ? cs->model : "nvring");
	s->allow_any_host = cs->allow_any_host;
	s->hosts = calloc(cs->nr_allowed_hosts + 1, sizeof(*s->hosts));
	t = calloc(1, sizeof(*t) + (cs->nr_ns + 1) * sizeof(t->ns[0]));
	atomic_init(&s->ns_table, t);
	s->ports = calloc(tgt->nr_ports + 1, sizeof(*s->ports));
	if (!s->hosts || !t || !s->ports)
		goto oom;
	for (size_t i = 0; i < cs->nr_allowed_hosts; i++) {
		s->hosts[i] = strdup(cs->allowed_hosts[i]);
		if (!s->hosts[i])
			goto oom;
		s->nr_hosts++;
	}
	for (size_t i = 0; i < cs->nr_ns; i++) {
		struct nvr_ns *ns;

		if (!cs->ns[i].enabled)
			continue;
		ns = calloc(1, sizeof(*ns));
		if (!ns)
			goto oom;
		if (setup_ns(tgt, ns, cs, &cs->ns[i], err, errlen) < 0) {
			free(ns);
			return -1;
		}
		t->ns[t->nr++] = ns;
		if (ns->nsid > s->max_nsid)
			s->max_nsid = ns->nsid;
	}
	/* published before any worker runs: the registry's table, sorted by nsid */
	qsort(t->ns, t->nr, sizeof(t->ns[0]), ns_cmp);
	if (s->max_nsid < NVR_MAX_NSID)
		s->max_nsid = NVR_MAX_NSID;
	for (size_t pi = 0; pi < cfg->nr_ports; pi++)
		if (!cfg->ports[pi].discovery_only && nvr_config_port_has_subsys(&cfg->ports[pi], si))
			s->ports[s->nr_ports++] = &tgt->ports[pi];
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int target_setup(struct target *tgt, const struct nvr_config *cfg, char *err, size_t errlen)
{
	tgt->ports = calloc(cfg->nr_ports + 1, sizeof(*tgt->ports));
	tgt->subsys = calloc(cfg->nr_subsys + 1, sizeof(*tgt->subsys));
	if (!tgt->ports || !tgt->subsys) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&tgt->lock, NULL);
	pthread_mutex_init(&tgt->registry_lock, NULL);
	tgt->next_cntlid = 1;
	atomic_init(&tgt->genctr, 1);
	tgt->poll = cfg->poll;
	setup_limits(&tgt->limits, cfg);
	if (listener_limits_init(tgt) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		if (setup_port(&tgt->ports[i], &cfg->ports[i], err, errlen) < 0)
			return -1;
		tgt->nr_ports++;
	}
	tgt->subsys[0] = setup_discovery_subsys();
	if (!tgt->subsys[0]) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	tgt->nr_subsys = 1;
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		int ret = setup_subsys(tgt, cfg, i, &tgt->subsys[tgt->nr_subsys], err, errlen);

		if (tgt->subsys[tgt->nr_subsys])
			tgt->nr_subsys++;
		if (ret < 0)
			return -1;
	}
	return 0;
}

void target_flush_all(struct target *tgt)
{
	for (unsigned i = 0; i < tgt->nr_subsys; i++) {
		struct nvr_subsys *s = tgt->subsys[i];
		const struct ns_table *t = subsys_ns_table(s);

		for (unsigned n = 0; t && n < t->nr; n++) {
			struct nvr_ns *ns = t->ns[n];

			if (ns->ops->flush_sync && !ns->readonly && ns->ops->flush_sync(ns) < 0)
				log_err("%s namespace %u: flush failed", s->nqn, ns->nsid);
		}
	}
}

void target_teardown(struct target *tgt)
{
	for (unsigned i = 0; i < tgt->nr_subsys; i++) {
		struct nvr_subsys *s = tgt->subsys[i];
		struct ns_table *t;

		if (!s)
			continue;
		t = atomic_load(&s->ns_table);
		for (unsigned n = 0; t && n < t->nr; n++)
			ns_destroy(t->ns[n]);
		free(t);
		for (unsigned h = 0; h < s->nr_hosts; h++)
			free(s->hosts[h]);
		free(s->hosts);
		free(s->ports);
		free(s);
	}
	free(tgt->subsys);
	free(tgt->ports);
	free(tgt->pollers);
	listener_limits_free(tgt);
	pthread_mutex_destroy(&tgt->lock);
	pthread_mutex_destroy(&tgt->registry_lock);
}
