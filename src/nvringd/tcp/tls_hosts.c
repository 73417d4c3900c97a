/* SPDX-License-Identifier: MIT */
/*
 * Which TLS PSK an identity gets: the identity names the host and the subsystem (TP 8011
 * "NVMe0R0h <hostnqn> <subnqn>", TP 8018 "NVMe1R0h ... <digest>"); the host must be allowed on
 * that subsystem with a configured PSK, from which the TLS PSK is derived as the host does
 * (src/tls/psk.c: RFC 8446 for version 0 identities, the digest picks RFC or compat for version 1).
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "stream_tls.h"
#include "target.h"
#include "tls/psk.h"

int tls_host_psk(void *arg, const char *identity, size_t len, uint8_t psk[TLS_PSK_MAX])
{
	struct target *tgt = arg;
	struct tls_identity id;
	const struct nvr_subsys *s;
	const struct nvr_host *h;
	enum tls_psk_variant used;
	int ret;

	if (tls_identity_parse(identity, len, &id) < 0)
		return -ENOKEY;
	s = target_find_subsys(tgt, id.subnqn);
	h = s ? subsys_host_find(s, id.hostnqn) : NULL;
	if (!h || !h->psk) {
		log_info("TLS: no PSK for host %s on %s", id.hostnqn, id.subnqn);
		return -ENOKEY;
	}
	ret = tls_psk_for_target(h->psk, &id, TLS_PSK_RFC8446, psk, &used);
	if (ret < 0)
		log_info("TLS: host %s offered an identity its PSK does not give (%s)", id.hostnqn, strerror(-ret));
	return ret;
}
