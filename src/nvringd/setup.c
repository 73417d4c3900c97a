/* SPDX-License-Identifier: MIT */
/* Build the running target (ports, subsystems, namespaces) from a validated configuration. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "kv_iter.h"
#include "kvstore/kvstore.h"
#include "log.h"
#include "passthru.h"
#include "req.h"
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

/* Default size of an in-memory KV store given without size= */
#define KV_MEM_DEFAULT_SIZE (1ull << 30)

static int setup_kv_ns(struct target *tgt, struct nvr_ns *ns, const struct cfg_ns *cn, char *why, size_t len)
{
	struct kvs_config kc = { .path = cn->path, .capacity = cn->size };
	struct kvs **engines;
	struct kvs *kv;

	for (size_t i = 0; i < cn->nr_opts; i++) {
		int ret = kvs_config_opt(&kc, cn->opts[i].key, cn->opts[i].val, why, len);

		/* options of the namespace itself (nsid, uuid, kvssd-compat, ...) are not the engine's */
		if (ret && ret != -ENOENT)
			return -1;
	}
	if (!kc.path && !kc.capacity)
		kc.capacity = KV_MEM_DEFAULT_SIZE;
	if (kc.max_value > NVR_MDTS_BYTES) {
		snprintf(why, len, "max_value %u is above the largest transfer (%u bytes)", kc.max_value,
			 NVR_MDTS_BYTES);
		return -1;
	}
	engines = realloc(tgt->kv_engines, (tgt->nr_kv_engines + 1) * sizeof(*engines));
	if (!engines) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	tgt->kv_engines = engines;
	if (kvs_open(&kv, &kc, why, len))
		return -1;
	tgt->kv_engines[tgt->nr_kv_engines++] = kv;
	ns->kv = kv;
	ns->kv_iters = kv_iters_create();
	if (!ns->kv_iters) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	ns->readonly = cn->readonly;
	ns->kvssd_compat = cn->kvssd_compat;
	/* reported as Identify VWC: hosts then send a Flush to make stores durable */
	ns->be.geom.volatile_cache = kc.volatile_cache;
	if (ns->kvssd_compat) {
		/* an NVM namespace as NVMeVirt presents one: a read-only block view reading zeroes,
		 * the data itself reached through the vendor KV opcodes */
		ns->csi = NVR_CSI_NVM;
		ns->lba_shift = 9;
		ns->nlba = kvs_capacity(kv) >> 9;
	} else {
		ns->csi = NVR_CSI_KV;
	}
	return 0;
}

static int setup_ns(struct target *tgt, struct nvr_ns *ns, const struct cfg_subsys *cs, const struct cfg_ns *cn,
		    char *err, size_t errlen)
{
	struct be_spec spec;
	char why[256] = "";
	int ret;

	ns->nsid = cn->nsid;
	memcpy(ns->uuid, cn->uuid, sizeof(ns->uuid));
	memcpy(ns->nguid, cn->nguid, sizeof(ns->nguid));
	memcpy(ns->eui64, cn->nguid, sizeof(ns->eui64));
	if (!strcmp(cn->kind, "kv"))
		ret = setup_kv_ns(tgt, ns, cn, why, sizeof(why));
	else if (!strcmp(cn->kind, "passthru"))
		ret = passthru_ns_open(ns, cn, why, sizeof(why));
	else if (!strcmp(cn->kind, "mem") || !strcmp(cn->kind, "file")) {
		nvr_config_ns_to_be_spec(cn, &spec);
		ret = !strcmp(cn->kind, "mem") ? be_mem_open(&ns->be, &spec, why, sizeof(why)) :
						 be_file_open(&ns->be, &spec, why, sizeof(why));
		if (!ret) {
			ns->csi = NVR_CSI_NVM;
			ns->lba_shift = ns->be.geom.lba_shift;
			ns->nlba = ns->be.geom.size >> ns->lba_shift;
			ns->readonly = cn->readonly || ns->be.geom.readonly;
		}
	} else {
		snprintf(why, sizeof(why), "'%s' namespaces are not supported by this build", cn->kind);
		ret = -1;
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s namespace %u: %s", cs->nqn, cn->nsid, why);
		return -1;
	}
	if (ns->pt)
		tgt->big_sqe = true;
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

	*out = s;
	if (!s)
		goto oom;
	snprintf(s->nqn, sizeof(s->nqn), "%s", cs->nqn);
	snprintf(s->serial, sizeof(s->serial), "%s", cs->serial);
	snprintf(s->model, sizeof(s->model), "%s", cs->model[0] ? cs->model : "nvring");
	s->allow_any_host = cs->allow_any_host;
	s->hosts = calloc(cs->nr_allowed_hosts + 1, sizeof(*s->hosts));
	s->ns = calloc(cs->nr_ns + 1, sizeof(*s->ns));
	s->ports = calloc(tgt->nr_ports + 1, sizeof(*s->ports));
	if (!s->hosts || !s->ns || !s->ports)
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
		s->ns[s->nr_ns] = ns;
		if (setup_ns(tgt, ns, cs, &cs->ns[i], err, errlen) < 0) {
			s->ns[s->nr_ns] = NULL;
			free(ns);
			return -1;
		}
		s->nr_ns++;
		if (ns->nsid > s->max_nsid)
			s->max_nsid = ns->nsid;
	}
	qsort(s->ns, s->nr_ns, sizeof(*s->ns), ns_cmp);
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
	tgt->next_cntlid = 1;
	atomic_init(&tgt->genctr, 1);
	tgt->poll = cfg->poll;
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

		for (unsigned n = 0; n < s->nr_ns; n++) {
			struct nvr_ns *ns = s->ns[n];

			if (ns->kv && kvs_sync(ns->kv) < 0)
				log_err("%s namespace %u: KV store sync failed", s->nqn, ns->nsid);
			else if (!ns->kv && !ns->pt && ns->be.ops && ns->be.ops->flush_sync &&
				 ns->be.ops->flush_sync(&ns->be) < 0)
				log_err("%s namespace %u: flush failed", s->nqn, ns->nsid);
		}
	}
}

void target_teardown(struct target *tgt)
{
	for (unsigned i = 0; i < tgt->nr_subsys; i++) {
		struct nvr_subsys *s = tgt->subsys[i];

		if (!s)
			continue;
		for (unsigned n = 0; n < s->nr_ns; n++) {
			struct nvr_ns *ns = s->ns[n];

			kv_iters_destroy(ns->kv_iters);
			if (ns->kv)
				kvs_close(ns->kv);
			else if (ns->pt)
				passthru_ns_close(ns);
			else if (ns->be.ops && ns->be.ops->close)
				ns->be.ops->close(&ns->be);
			free(ns);
		}
		for (unsigned h = 0; h < s->nr_hosts; h++)
			free(s->hosts[h]);
		free(s->hosts);
		free(s->ns);
		free(s->ports);
		free(s);
	}
	free(tgt->subsys);
	free(tgt->ports);
	free(tgt->kv_engines);
	pthread_mutex_destroy(&tgt->lock);
}
