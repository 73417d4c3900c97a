/* SPDX-License-Identifier: MIT */
/* TLS 1.3 PSK streams for NVMe/TCP queues (the server side; stream_tls.c). */
#ifndef NVRING_NVRINGD_TCP_STREAM_TLS_H
#define NVRING_NVRINGD_TCP_STREAM_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "stream.h"
#include "tls/session.h"

/* Once at start: the server context and how identities find their PSK. */
int stream_tls_init(tls_psk_lookup_fn lookup, void *arg, uint32_t handshake_ms);
void stream_tls_fini(void);
/* A TLS stream on an accepted socket: required = plaintext is refused (else it passes). */
struct stream *stream_tls_create(struct executor *ex, int fd, bool required, const char *peer);
/* The PSK identity the host authenticated with, or NULL (no TLS, or not yet). */
const char *stream_tls_identity(const struct stream *s);
/* The lookup nvringd uses (tls_hosts.c): arg is the target. */
int tls_host_psk(void *arg, const char *identity, size_t len, uint8_t psk[TLS_PSK_MAX]);

#endif
