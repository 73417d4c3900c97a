/* SPDX-License-Identifier: MIT */
/* Subsystems, their namespaces and the ports they are exported on: fixed at start, read-only after. */
#ifndef NVRING_TARGET_SUBSYS_H
#define NVRING_TARGET_SUBSYS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"

#define NVR_NQN_MAX 256
#define NVR_DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define NVR_MAX_NSID 1024

enum nvr_ns_csi {
	NVR_CSI_NVM = 0,
	NVR_CSI_KV = 1,
};

struct nvr_passthru;
struct kv_iters;

struct nvr_ns {
	uint32_t nsid;
	enum nvr_ns_csi csi;
	bool readonly;
	bool kvssd_compat;   /* KV store presented as an NVM namespace taking the vendor KV opcodes */
	struct backend be;   /* NVM namespaces */
	void *kv;            /* KV and kvssd-compat namespaces: the engine instance (src/kvstore) */
	struct kv_iters *kv_iters; /* their vendor iterators (kv_iter.c) */
	struct nvr_passthru *pt; /* passthrough namespaces: the drive (src/nvringd/passthru.c) */
	unsigned lba_shift;  /* NVM: 9 or 12 */
	uint64_t nlba;       /* NVM: size in logical blocks */
	uint8_t uuid[16];
	uint8_t nguid[16];
	uint8_t eui64[8];
};

struct nvr_port {
	uint16_t portid;
	int family;          /* AF_INET / AF_INET6 */
	char traddr[64];     /* as printed in the discovery log */
	char trsvcid[32];
	struct sockaddr_storage sa;
	bool discovery_only; /* e.g. 8009 */
};

struct nvr_subsys {
	char nqn[NVR_NQN_MAX];
	char serial[21];
	char model[41];
	bool discovery;      /* the well-known discovery subsystem */
	bool allow_any_host;
	char **hosts;        /* allowed host NQNs */
	unsigned nr_hosts;
	struct nvr_ns **ns;  /* sorted by nsid */
	unsigned nr_ns;
	uint32_t max_nsid;   /* NN */
	struct nvr_port **ports; /* ports this subsystem is exported on */
	unsigned nr_ports;
};

struct nvr_ns *subsys_find_ns(const struct nvr_subsys *s, uint32_t nsid);
bool subsys_host_allowed(const struct nvr_subsys *s, const char *hostnqn);

#endif
