/* SPDX-License-Identifier: MIT */
/* Build the running target (ports, subsystems, namespaces) from a validated configuration. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/dhchap.h"
#include "auth/dhchap_key.h"
#include "config/config.h"
#include "listener.h"
#include "log.h"
#include "setup.h"
#include "target.h"
#include "tls/psk.h"

static int setup_port(struct nvr_port *p, const struct cfg_port *cp, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->portid = cp->portid;
	p->family = cp->family;
	p->discovery_only = cp->discovery_only;
	p->treq = cp->treq == CFG_TREQ_REQUIRED ? 1 : cp->treq == CFG_TREQ_NOT_REQUIRED ? 2 : 0;
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
	l->max_conns = cfg->max_connections;
	l->max_conns_per_host = cfg->max_connections_per_host;
	l->max_inflight = cfg->max_inflight_bytes;
	l->max_inflight_per_conn = cfg->max_inflight_bytes_per_conn;
	l->icreq_timeout_ms = cfg->icreq_timeout_ms;
	l->connect_timeout_ms = cfg->connect_timeout_ms;
	l->pdu_timeout_ms = cfg->pdu_timeout_ms;
	l->listen_backlog = cfg->listen_backlog;
}

/* A DHHC-1 key of a host, checked here (CRC, length): the message names the host. */
static int setup_key(const struct cfg_secret *sec, struct dhchap_key **out, const char *what, const char *hostnqn,
		     char *err, size_t errlen)
{
	const char *why = NULL;

	*out = NULL;
	if (!sec->value)
		return 0;
	*out = calloc(1, sizeof(**out));
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (dhchap_key_parse(sec->value, *out, &why) < 0) {
		snprintf(err, errlen, "host %s: %s%s%s: %s", hostnqn, what, sec->file ? " in " : "",
			 sec->file ? sec->file : "", why ? why : "invalid");
		return -1;
	}
	return 0;
}

/* The entry of an allowed host: its NQN and, from the hosts list, its keys. */
static int setup_host(struct nvr_host *h, const struct nvr_config *cfg, const char *nqn, char *err, size_t errlen)
{
	long i = nvr_config_find_host(cfg, nqn);
	const struct cfg_host *ch = i >= 0 ? &cfg->hosts[i] : NULL;

	snprintf(h->nqn, sizeof(h->nqn), "%s", nqn);
	if (!ch)
		return 0;
	if (setup_key(&ch->dhchap_key, &h->dhchap_key, "dhchap_key", nqn, err, errlen) ||
	    setup_key(&ch->dhchap_ctrl_key, &h->dhchap_ctrl_key, "dhchap_ctrl_key", nqn, err, errlen))
		return -1;
	if (ch->psk.value) {
		char why[160];

		h->psk = calloc(1, sizeof(*h->psk));
		if (!h->psk || tls_key_parse(ch->psk.value, h->psk, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "host %s: psk%s%s: %s", nqn, ch->psk.file ? " in " : "",
				 ch->psk.file ? ch->psk.file : "", h->psk ? why : "out of memory");
			return -1;
		}
	}
	if (h->dhchap_ctrl_key && !h->dhchap_key) {
		snprintf(err, errlen, "host %s: a dhchap_ctrl_key needs a dhchap_key (the host authenticates first)", nqn);
		return -1;
	}
	return 0;
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
	struct host_table *ht = NULL;
	struct ns_table *t = NULL;

	*out = s;
	if (!s)
		goto oom;
	snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
	snprintf(s->serial, sizeof(s->serial), "%s", cs->serial);
	snprintf(s->model, sizeof(s->model), "%s", cs->model[0] ? cs->model : "nvring");
	s->allow_any_host = cs->allow_any_host;
	ht = calloc(1, sizeof(*ht) + (cs->nr_allowed_hosts + 1) * sizeof(ht->host[0]));
	atomic_init(&s->hosts, ht);
	t = calloc(1, sizeof(*t) + (cs->nr_ns + 1) * sizeof(t->ns[0]));
	atomic_init(&s->ns_table, t);
	s->ports = calloc(tgt->nr_ports + 1, sizeof(*s->ports));
	if (!ht || !t || !s->ports)
		goto oom;
	s->dhchap_hashes = cs->dhchap_hashes ? cs->dhchap_hashes : DHCHAP_HASHES_ALL;
	s->dhchap_dhgroups = cs->dhchap_dhgroups ? cs->dhchap_dhgroups : DHCHAP_DHGROUPS_ALL;
	for (size_t i = 0; i < cs->nr_allowed_hosts; i++) {
		struct nvr_host *h = calloc(1, sizeof(*h));

		if (!h)
			goto oom;
		ht->host[ht->nr++] = h;
		if (setup_host(h, cfg, cs->allowed_hosts[i], err, errlen) < 0)
			return -1;
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

void host_free(struct nvr_host *h)
{
	if (!h)
		return;
	if (h->dhchap_key)
		dhchap_key_clear(h->dhchap_key);
	if (h->dhchap_ctrl_key)
		dhchap_key_clear(h->dhchap_ctrl_key);
	free(h->dhchap_key);
	free(h->dhchap_ctrl_key);
	if (h->psk)
		OPENSSL_cleanse(h->psk, sizeof(*h->psk));
	free(h->psk);
	free(h);
}

void host_table_free(struct host_table *t)
{
	for (unsigned i = 0; t && i < t->nr; i++)
		host_free(t->host[i]);
	free(t);
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
		host_table_free(atomic_load(&s->hosts));
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
