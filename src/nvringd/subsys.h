/* SPDX-License-Identifier: MIT */
/*
 * Subsystems, their namespaces and the ports they are exported on. A subsystem's namespace
 * table is a published snapshot (ns/registry.h) that changes while I/O runs; the rest of a
 * subsystem is set at start.
 */
#ifndef NVRING_NVRINGD_SUBSYS_H
#define NVRING_NVRINGD_SUBSYS_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ns/ns.h"

struct dhchap_key;
struct tls_key;

#define NVR_NQN_MAX 256
#define NVR_DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define NVR_MAX_NSID 1024

/* An immutable, sorted (by nsid) array of a subsystem's namespaces. */
struct ns_table {
	unsigned nr;
	struct nvr_ns *ns[];
};

/* A host allowed on a subsystem, with what it must prove (NULL keys: nothing). */
struct nvr_host {
	char nqn[NVR_NQN_MAX];
	struct tls_key *psk;                /* TLS: the configured PSK (interchange form parsed) */
	struct dhchap_key *dhchap_key;      /* DH-HMAC-CHAP: the host's secret */
	struct dhchap_key *dhchap_ctrl_key; /* and ours, for bidirectional authentication */
};

/* An immutable list of hosts, replaced as a whole when it changes (like ns_table). */
struct host_table {
	unsigned nr;
	struct nvr_host *host[];
};

struct nvr_port {
	uint16_t portid;
	int family;          /* AF_INET / AF_INET6 */
	char traddr[64];     /* as printed in the discovery log */
	char trsvcid[32];
	struct sockaddr_storage sa;
	bool discovery_only; /* e.g. 8009 */
	uint8_t treq;        /* secure channel (discovery TREQ bits 1:0): 0 none, 1 TLS required,
			      * 2 TLS not required (a host may use it) */
};

struct nvr_subsys {
	char nqn[NVR_NQN_MAX];
	char serial[21];
	char model[41];
	bool discovery;      /* the well-known discovery subsystem */
	bool allow_any_host;
	_Atomic(struct host_table *) hosts; /* allowed hosts; published like ns_table */
	uint8_t dhchap_hashes;   /* hash IDs allowed for DH-HMAC-CHAP (bit n = ID n) */
	uint8_t dhchap_dhgroups; /* DH groups allowed */
	_Atomic(struct ns_table *) ns_table; /* published: read with subsys_ns_table() */
	uint32_t max_nsid;   /* NN */
	struct nvr_port **ports; /* ports this subsystem is exported on */
	unsigned nr_ports;
};

/*
 * The current namespace table. On a worker it may be used only until the handler returns to
 * the event loop (tables are freed after every worker has passed through its loop); keep a
 * namespace longer only with a reference (ns_get/ns_ref).
 */
static inline const struct ns_table *subsys_ns_table(const struct nvr_subsys *s)
{
	return atomic_load_explicit(&((struct nvr_subsys *)s)->ns_table, memory_order_acquire);
}

/* Binary search in a table: the namespace or NULL. */
struct nvr_ns *ns_table_find(const struct ns_table *t, uint32_t nsid);
static inline struct nvr_ns *subsys_find_ns(const struct nvr_subsys *s, uint32_t nsid)
{
	return ns_table_find(subsys_ns_table(s), nsid);
}
bool subsys_host_allowed(const struct nvr_subsys *s, const char *hostnqn);
/* The host's entry (keys), or NULL; transient use on a worker, as for tables. */
const struct nvr_host *subsys_host_find(const struct nvr_subsys *s, const char *hostnqn);

#endif
