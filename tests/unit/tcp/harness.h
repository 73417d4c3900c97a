/* SPDX-License-Identifier: MIT */
/*
 * A whole nvringd target in the test process, with NVMe/TCP queues over an in-memory stream
 * instead of sockets: the test (or fuzz target) feeds bytes in, in pieces of its choosing, and
 * reads what the target sent. The real parser, request core, command sets and namespaces run,
 * on a real worker ring. No socket, no thread.
 */
#ifndef NVRING_TESTS_TCP_HARNESS_H
#define NVRING_TESTS_TCP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct th_conn;

/* Build the target from nvringd command-line arguments (no listener is opened). 0 or -1. */
int th_init(const char *const *args);
void th_fini(void);

/* A new queue pair as if a host had connected. */
struct th_conn *th_connect(void);
/* Give the target bytes (delivered in pieces of at most `chunk` bytes; 0 = all at once),
 * then run it until it has nothing more to do. */
void th_feed(struct th_conn *c, const void *buf, size_t len, size_t chunk);
/* The peer hangs up (end of stream). */
void th_hangup(struct th_conn *c);
/* Run the target until idle (completions, sends, closes). */
void th_run(void);
/* Bytes the target has sent so far on c (and not yet taken); take removes n of them. */
const uint8_t *th_out(struct th_conn *c, size_t *len);
void th_take(struct th_conn *c, size_t n);
/* The target closed the queue (it is freed once idle; c stays valid until th_drop). */
bool th_closed(const struct th_conn *c);
void th_drop(struct th_conn *c);
/* Let time pass on the worker's clock and run its periodic checks (timeouts). */
void th_advance(uint64_t ms);
struct target *th_target(void);

#endif
