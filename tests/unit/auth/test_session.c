/* SPDX-License-Identifier: MIT */
/* Controller and host sessions against each other in-process: every hash x group x direction,
 * the strongest common choice, wrong keys on either side, replays, out-of-order and malformed
 * messages with their reason codes and NVMe statuses, re-authentication, deadlines, and the
 * deferred DH step run on another thread. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "auth/dhchap_ctrl.h"
#include "auth/dhchap_host.h"
#include "auth/dhchap_msg.h"
#include "tap.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
#define SUBNQN "nqn.2026-11.io.nvring:auth-test"
#define SEC 1000000000ull

static struct dhchap_key hkey = { .hash = 1, .len = 32 }, ckey = { .hash = 3, .len = 64 },
			 other = { .hash = 0, .len = 48 };
static uint8_t msg[4096], last_reply[4096];
static size_t last_reply_len;

static struct dhchap_ctrl_cfg ccfg(void)
{
	return (struct dhchap_ctrl_cfg){ .host_key = &hkey, .ctrl_key = &ckey, .hostnqn = HOSTNQN, .subnqn = SUBNQN };
}

static struct dhchap_host_cfg hcfg(void)
{
	return (struct dhchap_host_cfg){ .host_key = &hkey, .hostnqn = HOSTNQN, .subnqn = SUBNQN, .tid = 0x77 };
}

static void *work_thread(void *arg)
{
	return (void *)(intptr_t)dhchap_ctrl_work(arg);
}

/* Drive both sessions until the host is done or failed. Returns the first unexpected NVMe status
 * (0 if none). Deferred steps run on a second thread. */
static int run(struct dhchap_ctrl *c, struct dhchap_host *h, uint64_t now)
{
	size_t len;

	while (dhchap_host_state(h) == DHCHAP_HOST_SEND || dhchap_host_state(h) == DHCHAP_HOST_RECV) {
		int st;

		if (dhchap_host_state(h) == DHCHAP_HOST_SEND) {
			if (dhchap_host_next(h, msg, sizeof(msg), &len))
				return -1;
			if (msg[0] == 1 && msg[1] == 2) {
				memcpy(last_reply, msg, len);
				last_reply_len = len;
			}
			st = dhchap_ctrl_send(c, msg, len, now);
			if (st == DHCHAP_CTRL_DEFER) {
				pthread_t t;
				void *r;

				if (dhchap_ctrl_recv(c, msg, sizeof(msg), &len, now) != DHCHAP_SC_SEQUENCE)
					return -2; /* must refuse while the work is outstanding */
				pthread_create(&t, NULL, work_thread, c);
				pthread_join(t, &r);
				st = (int)(intptr_t)r;
			}
		} else {
			st = dhchap_ctrl_recv(c, msg, sizeof(msg), &len, now);
			if (!st)
				dhchap_host_recv(h, msg, len);
		}
		if (st)
			return st;
	}
	return 0;
}

static void test_matrix(bool defer)
{
	for (uint8_t hash = 1; hash <= 3; hash++)
		for (uint8_t dh = 0; dh <= 5; dh++)
			for (int bidi = 0; bidi < 2; bidi++) {
				struct dhchap_ctrl_cfg cc = ccfg();
				struct dhchap_host_cfg hc = hcfg();
				struct dhchap_ctrl *c;
				struct dhchap_host *h;
				int st;

				cc.hashes = (uint8_t)(1u << hash);
				cc.dhgroups = (uint8_t)(1u << dh);
				cc.defer_dh = defer;
				hc.ctrl_key = bidi ? &ckey : NULL;
				c = dhchap_ctrl_new(&cc, 0);
				h = dhchap_host_new(&hc);
				st = run(c, h, 1);
				tap_ok(!st && dhchap_host_state(h) == DHCHAP_HOST_DONE &&
					       dhchap_ctrl_state(c) == DHCHAP_CTRL_AUTHENTICATED &&
					       dhchap_ctrl_hash(c) == hash && dhchap_ctrl_dhgroup(c) == dh &&
					       dhchap_host_hash(h) == hash && dhchap_host_dhgroup(h) == dh &&
					       dhchap_ctrl_bidirectional(c) == bidi && dhchap_ctrl_deadline(c) == 0,
				       "%s%s %s %s: authenticated (st %x, host %s)", defer ? "deferred " : "",
				       dhchap_hash_name(hash), dhchap_dh_name(dh), bidi ? "bidirectional" : "host only",
				       st, dhchap_host_error(h));
				dhchap_host_free(h);
				dhchap_ctrl_free(c);
			}
}

static void test_choice_and_keys(void)
{
	struct dhchap_ctrl_cfg cc = ccfg();
	struct dhchap_host_cfg hc = hcfg();
	struct dhchap_ctrl *c = dhchap_ctrl_new(&cc, 0);
	struct dhchap_host *h = dhchap_host_new(&hc);

	tap_ok(!run(c, h, 0) && dhchap_ctrl_hash(c) == 3 && dhchap_ctrl_dhgroup(c) == 5,
	       "strongest common pair: SHA-512 / ffdhe8192");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	hc.hashes = 0x06; /* SHA-256, SHA-384 */
	hc.dhgroups = 0x07;
	c = dhchap_ctrl_new(&cc, 0);
	h = dhchap_host_new(&hc);
	tap_ok(!run(c, h, 0) && dhchap_ctrl_hash(c) == 2 && dhchap_ctrl_dhgroup(c) == 2,
	       "host offers up to SHA-384 / ffdhe3072: those are chosen");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	/* wrong host key: the controller answers Failure1 (failed), the host reports -EACCES */
	hc = hcfg();
	hc.host_key = &other;
	c = dhchap_ctrl_new(&cc, 0);
	h = dhchap_host_new(&hc);
	tap_eq(run(c, h, 0), 0, "wrong host key: every command completes with success");
	tap_ok(dhchap_host_state(h) == DHCHAP_HOST_FAILED && dhchap_host_result(h) == -EACCES &&
		       dhchap_host_fail_reason(h) == DHCHAP_FAIL_FAILED && strstr(dhchap_host_error(h), "wrong host key"),
	       "wrong host key: host FAILED -EACCES: %s", dhchap_host_error(h));
	tap_ok(dhchap_ctrl_state(c) == DHCHAP_CTRL_FAILED && !dhchap_ctrl_failure_pending(c) &&
		       dhchap_ctrl_fail_reason(c) == DHCHAP_FAIL_FAILED,
	       "wrong host key: controller FAILED, Failure1 delivered");
	tap_eq(dhchap_ctrl_send(c, last_reply, last_reply_len, 0), DHCHAP_SC_SEQUENCE, "dead session: Send refused");
	tap_eq(dhchap_ctrl_recv(c, msg, 4096, &last_reply_len, 0), DHCHAP_SC_SEQUENCE, "dead session: Receive refused");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	/* wrong controller key: the host refuses with Failure2 */
	hc = hcfg();
	hc.ctrl_key = &other;
	c = dhchap_ctrl_new(&cc, 0);
	h = dhchap_host_new(&hc);
	tap_eq(run(c, h, 0), 0, "wrong controller key: commands complete");
	tap_ok(dhchap_host_state(h) == DHCHAP_HOST_FAILED && dhchap_host_result(h) == -EKEYREJECTED &&
		       strstr(dhchap_host_error(h), "R2 did not verify"),
	       "wrong controller key: host refuses: %s", dhchap_host_error(h));
	tap_ok(dhchap_ctrl_state(c) == DHCHAP_CTRL_FAILED && !dhchap_ctrl_failure_pending(c) &&
		       dhchap_ctrl_fail_reason(c) == DHCHAP_FAIL_FAILED,
	       "wrong controller key: controller got Failure2 and is FAILED");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	/* the host wants controller authentication, the controller has no key */
	cc.ctrl_key = NULL;
	hc = hcfg();
	hc.ctrl_key = &ckey;
	c = dhchap_ctrl_new(&cc, 0);
	h = dhchap_host_new(&hc);
	run(c, h, 0);
	tap_ok(dhchap_host_result(h) == -EACCES && dhchap_ctrl_fail_reason(c) == DHCHAP_FAIL_FAILED,
	       "bidirectional asked, no controller key: Failure1 failed");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	cc = ccfg();
	cc.hashes = 1u << 3;
	hc = hcfg();
	hc.hashes = 1u << 1;
	c = dhchap_ctrl_new(&cc, 0);
	h = dhchap_host_new(&hc);
	run(c, h, 0);
	tap_ok(dhchap_host_result(h) == -EACCES && dhchap_host_fail_reason(h) == DHCHAP_FAIL_HASH_UNUSABLE,
	       "no common hash: Failure1 hash not usable");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);
	cc = ccfg();
	cc.dhgroups = 1u << 0;
	hc = hcfg();
	hc.dhgroups = 1u << 5;
	c = dhchap_ctrl_new(&cc, 0);
	h = dhchap_host_new(&hc);
	run(c, h, 0);
	tap_ok(dhchap_host_result(h) == -EACCES && dhchap_host_fail_reason(h) == DHCHAP_FAIL_DHGROUP_UNUSABLE,
	       "no common group: Failure1 DH group not usable");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	cc = ccfg();
	cc.subnqn = NULL;
	errno = 0;
	tap_ok(!dhchap_ctrl_new(&cc, 0) && errno == EINVAL, "controller session needs the subsystem NQN");
	hc = hcfg();
	hc.host_key = NULL;
	tap_ok(!dhchap_host_new(&hc) && errno == EINVAL, "host session needs a key");
}

/* Run a handshake up to (not including) the Reply; returns the controller in WAIT_REPLY. */
static struct dhchap_ctrl *to_reply(struct dhchap_host **hp, bool bidi, uint8_t dh)
{
	struct dhchap_ctrl_cfg cc = ccfg();
	struct dhchap_host_cfg hc = hcfg();
	struct dhchap_ctrl *c;
	size_t len;

	cc.dhgroups = (uint8_t)(1u << dh);
	hc.ctrl_key = bidi ? &ckey : NULL;
	c = dhchap_ctrl_new(&cc, 0);
	*hp = dhchap_host_new(&hc);
	dhchap_host_next(*hp, msg, sizeof(msg), &len);
	dhchap_ctrl_send(c, msg, len, 0);
	dhchap_ctrl_recv(c, msg, sizeof(msg), &len, 0);
	dhchap_host_recv(*hp, msg, len);
	return c;
}

static uint8_t failure1_of(struct dhchap_ctrl *c, uint16_t *tid)
{
	struct dhchap_failure f = { 0 };
	size_t len;

	if (dhchap_ctrl_recv(c, msg, sizeof(msg), &len, 0) ||
	    dhchap_failure_decode(DHCHAP_ID_FAILURE1, msg, len, &f))
		return 0xff;
	if (tid)
		*tid = f.tid;
	return f.rce;
}

static void test_bad_messages(void)
{
	struct dhchap_host *h;
	struct dhchap_ctrl *c;
	uint8_t reply[2048];
	size_t len, rlen;
	uint16_t tid = 0;

	c = to_reply(&h, false, 1);
	dhchap_host_next(h, reply, sizeof(reply), &rlen);
	reply[4] ^= 1;
	tap_eq(dhchap_ctrl_send(c, reply, rlen, 0), 0, "Reply with a wrong T_ID completes with success");
	tap_ok(dhchap_ctrl_state(c) == DHCHAP_CTRL_FAILED && dhchap_ctrl_failure_pending(c), "and fails the session");
	tap_eq(failure1_of(c, &tid), DHCHAP_FAIL_INCORRECT_PAYLOAD, "wrong T_ID: Failure1 incorrect payload");
	tap_eq(tid, 0x77, "Failure1 carries the transaction's T_ID");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	struct {
		const char *what;
		size_t len_delta;
		int off, val;
		uint8_t reason;
	} bad[] = {
		{ "truncated Reply", (size_t)-1, -1, 0, DHCHAP_FAIL_INCORRECT_PAYLOAD },
		{ "oversized Reply", 1, -1, 0, DHCHAP_FAIL_INCORRECT_PAYLOAD },
		{ "Reply HL 48 for SHA-512", 0, 6, 48, DHCHAP_FAIL_INCORRECT_PAYLOAD },
		{ "Reply DHVLEN disagreeing", 0, 10, 0xff, DHCHAP_FAIL_INCORRECT_PAYLOAD },
		{ "Reply CVALID 3", 0, 8, 3, DHCHAP_FAIL_INCORRECT_PAYLOAD },
		{ "Reply with a corrupt R1", 0, 16, -1, DHCHAP_FAIL_FAILED },
		{ "Reply with a wrong type", 0, 0, 0, DHCHAP_FAIL_INCORRECT_MESSAGE },
		{ "Reply with an unknown id", 0, 1, 9, DHCHAP_FAIL_INCORRECT_MESSAGE },
		{ "Reply DH value 1", 0, -2, 0, DHCHAP_FAIL_DHGROUP_UNUSABLE },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = to_reply(&h, false, 1);
		dhchap_host_next(h, reply, sizeof(reply), &rlen);
		if (bad[i].off == -2) { /* host public value := 1 */
			memset(reply + 16 + 2 * 64, 0, 256);
			reply[16 + 2 * 64 + 255] = 1;
		} else if (bad[i].off >= 0) {
			reply[bad[i].off] = bad[i].val < 0 ? (uint8_t)(reply[bad[i].off] ^ 0x80) : (uint8_t)bad[i].val;
		}
		tap_eq(dhchap_ctrl_send(c, reply, rlen + bad[i].len_delta, 0), 0, "%s: Send completes", bad[i].what);
		tap_eq(failure1_of(c, NULL), bad[i].reason, "%s: Failure1 reason %u", bad[i].what, bad[i].reason);
		dhchap_host_free(h);
		dhchap_ctrl_free(c);
	}

	/* replays */
	c = to_reply(&h, true, 2);
	dhchap_host_next(h, reply, sizeof(reply), &rlen);
	tap_eq(dhchap_ctrl_send(c, reply, rlen, 0), 0, "bidirectional Reply accepted");
	tap_eq(dhchap_ctrl_recv(c, msg, sizeof(msg), &len, 0), 0, "Success1 with R2 read");
	tap_eq(dhchap_ctrl_send(c, reply, rlen, 0), 0, "replayed Reply while Success2 awaited: completes");
	tap_eq(failure1_of(c, NULL), DHCHAP_FAIL_INCORRECT_MESSAGE, "replayed Reply: Failure1 incorrect message");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	c = to_reply(&h, false, 0);
	dhchap_host_next(h, reply, sizeof(reply), &rlen);
	dhchap_ctrl_send(c, reply, rlen, 0);
	tap_eq(dhchap_ctrl_send(c, reply, rlen, 0), 0, "Reply sent twice before Success1");
	tap_eq(failure1_of(c, NULL), DHCHAP_FAIL_INCORRECT_MESSAGE, "second Reply: incorrect message");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	c = to_reply(&h, false, 0);
	dhchap_host_next(h, reply, sizeof(reply), &rlen);
	dhchap_ctrl_send(c, reply, rlen, 0);
	dhchap_ctrl_recv(c, msg, sizeof(msg), &len, 0);
	tap_eq(dhchap_ctrl_state(c), DHCHAP_CTRL_AUTHENTICATED, "authenticated");
	tap_eq(dhchap_ctrl_send(c, reply, rlen, 0), DHCHAP_SC_SEQUENCE, "replayed Reply on an authenticated queue");
	tap_eq(dhchap_ctrl_recv(c, msg, sizeof(msg), &len, 0), DHCHAP_SC_SEQUENCE, "Receive with nothing to say");
	tap_eq(dhchap_ctrl_state(c), DHCHAP_CTRL_AUTHENTICATED, "still authenticated");
	{ /* a new transaction (new C1, S1) with the old Reply (same T_ID): R1 does not match */
		struct dhchap_host_cfg hc = hcfg();
		struct dhchap_host *h2 = dhchap_host_new(&hc);

		dhchap_host_next(h2, msg, sizeof(msg), &len);
		tap_eq(dhchap_ctrl_send(c, msg, len, 0), 0, "re-authentication Negotiate");
		tap_eq(dhchap_ctrl_state(c), DHCHAP_CTRL_AUTHENTICATED, "commands keep flowing during re-authentication");
		dhchap_ctrl_recv(c, msg, sizeof(msg), &len, 0);
		tap_eq(dhchap_ctrl_send(c, reply, rlen, 0), 0, "old Reply replayed into the new transaction");
		tap_eq(dhchap_ctrl_state(c), DHCHAP_CTRL_FAILED, "failed re-authentication gates the queue");
		tap_eq(failure1_of(c, NULL), DHCHAP_FAIL_FAILED, "replay across transactions: Failure1 failed");
		dhchap_host_free(h2);
	}
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	c = to_reply(&h, false, 0);
	dhchap_host_next(h, reply, sizeof(reply), &rlen);
	dhchap_ctrl_send(c, reply, rlen, 0);
	dhchap_ctrl_recv(c, msg, sizeof(msg), &len, 0);
	{
		struct dhchap_failure f2 = { .tid = 0x77, .rc = 1, .rce = DHCHAP_FAIL_HASH_UNUSABLE };

		dhchap_failure_encode(DHCHAP_ID_FAILURE2, &f2, msg, sizeof(msg));
	}
	tap_ok(dhchap_ctrl_send(c, msg, 8, 0) == 0 && dhchap_ctrl_state(c) == DHCHAP_CTRL_FAILED &&
		       dhchap_ctrl_fail_reason(c) == DHCHAP_FAIL_HASH_UNUSABLE,
	       "Failure2 after a host-only Success1: FAILED with the host's reason");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	/* order and size of Receive / Send */
	{
		struct dhchap_ctrl_cfg cc = ccfg();
		struct dhchap_host_cfg hc = hcfg();

		c = dhchap_ctrl_new(&cc, 0);
		tap_eq(failure1_of(c, NULL), DHCHAP_FAIL_INCORRECT_MESSAGE, "Receive before Negotiate: incorrect message");
		dhchap_ctrl_free(c);

		c = dhchap_ctrl_new(&cc, 0);
		h = dhchap_host_new(&hc);
		dhchap_host_next(h, msg, sizeof(msg), &len);
		dhchap_ctrl_send(c, msg, len, 0);
		tap_eq(dhchap_ctrl_recv(c, msg, 7, &len, 0), DHCHAP_SC_INVALID_FIELD, "AL 7: Invalid Field");
		tap_ok(dhchap_ctrl_state(c) == DHCHAP_CTRL_FAILED && !dhchap_ctrl_failure_pending(c), "AL 7 kills it");
		dhchap_host_free(h);
		dhchap_ctrl_free(c);

		c = dhchap_ctrl_new(&cc, 0);
		h = dhchap_host_new(&hc);
		dhchap_host_next(h, msg, sizeof(msg), &len);
		dhchap_ctrl_send(c, msg, len, 0);
		tap_eq(dhchap_ctrl_recv(c, msg, 100, &len, 0), 0, "AL 100 for a 1104-byte Challenge");
		tap_ok(len == 8 && msg[1] == DHCHAP_ID_FAILURE1 && msg[7] == DHCHAP_FAIL_INCORRECT_PAYLOAD,
		       "gets Failure1 incorrect payload");
		dhchap_host_free(h);
		dhchap_ctrl_free(c);

		c = dhchap_ctrl_new(&cc, 0);
		h = dhchap_host_new(&hc);
		dhchap_host_next(h, msg, sizeof(msg), &len);
		msg[6] = 1; /* SC_C: concatenation */
		dhchap_ctrl_send(c, msg, len, 0);
		tap_eq(failure1_of(c, NULL), DHCHAP_FAIL_CONCAT_MISMATCH, "SC_C 1: concatenation mismatch");
		dhchap_ctrl_free(c);

		c = dhchap_ctrl_new(&cc, 0);
		tap_eq(dhchap_ctrl_send(c, msg, 3, 0), 0, "3-byte message");
		tap_eq(failure1_of(c, NULL), DHCHAP_FAIL_INCORRECT_PAYLOAD, "3 bytes: incorrect payload");
		dhchap_ctrl_free(c);

		c = dhchap_ctrl_new(&cc, 0);
		memset(msg, 0, 16);
		msg[0] = 1;
		msg[1] = 4;
		tap_eq(dhchap_ctrl_send(c, msg, 16, 0), 0, "Success2 before anything");
		tap_eq(failure1_of(c, NULL), DHCHAP_FAIL_INCORRECT_MESSAGE, "Success2 first: incorrect message");
		dhchap_ctrl_free(c);
		dhchap_host_free(h);
	}
}

static void test_deadline_reauth(void)
{
	struct dhchap_ctrl_cfg cc = ccfg();
	struct dhchap_host_cfg hc = hcfg();
	struct dhchap_ctrl *c;
	struct dhchap_host *h;
	size_t len;

	cc.timeout_ms = 5000;
	c = dhchap_ctrl_new(&cc, 100 * SEC);
	tap_eq(dhchap_ctrl_deadline(c), 105 * SEC, "deadline for the Negotiate: Connect + timeout");
	h = dhchap_host_new(&hc);
	dhchap_host_next(h, msg, sizeof(msg), &len);
	dhchap_ctrl_send(c, msg, len, 103 * SEC);
	tap_eq(dhchap_ctrl_deadline(c), 108 * SEC, "deadline moves with each message");
	dhchap_ctrl_expire(c);
	tap_ok(dhchap_ctrl_state(c) == DHCHAP_CTRL_FAILED && !dhchap_ctrl_failure_pending(c) &&
		       dhchap_ctrl_deadline(c) == 0,
	       "expired: FAILED, nothing pending");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);

	cc.timeout_ms = 0;
	c = dhchap_ctrl_new(&cc, 0);
	tap_eq(dhchap_ctrl_deadline(c), 120 * SEC, "default timeout 120 s");
	h = dhchap_host_new(&hc);
	tap_eq(run(c, h, 1), 0, "authenticate");
	dhchap_host_free(h);
	for (int i = 0; i < 3; i++) {
		hc.tid = (uint16_t)(100 + i);
		hc.ctrl_key = i == 1 ? &ckey : NULL;
		h = dhchap_host_new(&hc);
		tap_ok(!run(c, h, 2) && dhchap_host_state(h) == DHCHAP_HOST_DONE &&
			       dhchap_ctrl_state(c) == DHCHAP_CTRL_AUTHENTICATED,
		       "re-authentication %d", i + 1);
		dhchap_host_free(h);
	}
	hc.host_key = &other;
	h = dhchap_host_new(&hc);
	run(c, h, 3);
	tap_ok(dhchap_ctrl_state(c) == DHCHAP_CTRL_FAILED && dhchap_host_result(h) == -EACCES,
	       "re-authentication with a wrong key fails the queue");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);
}

/* A misbehaving controller seen from the host: the host answers with Failure2. */
static void test_host_side(void)
{
	struct dhchap_ctrl_cfg cc = ccfg();
	struct dhchap_host_cfg hc = hcfg();
	struct dhchap_ctrl *c;
	struct dhchap_host *h;
	struct dhchap_failure f;
	uint8_t chal[2048];
	size_t len, clen;

	struct {
		const char *what;
		int off, val;
		uint8_t hashes;
		uint8_t reason;
	} bad[] = {
		{ "Challenge with a wrong T_ID", 4, 0x78, 0, DHCHAP_FAIL_INCORRECT_PAYLOAD },
		{ "Challenge with a hash not offered", -1, 0, 0x04, DHCHAP_FAIL_HASH_UNUSABLE },
		{ "Challenge with HL 32 for SHA-512", 6, 32, 0, DHCHAP_FAIL_HASH_UNUSABLE },
		{ "Challenge of the wrong kind", 1, 3, 0, DHCHAP_FAIL_INCORRECT_MESSAGE },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cc = ccfg();
		cc.dhgroups = 1u << 1;
		hc = hcfg();
		c = dhchap_ctrl_new(&cc, 0);
		h = dhchap_host_new(&hc);
		dhchap_host_next(h, msg, sizeof(msg), &len);
		dhchap_ctrl_send(c, msg, len, 0);
		dhchap_ctrl_recv(c, chal, sizeof(chal), &clen, 0);
		if (bad[i].off >= 0)
			chal[bad[i].off] = (uint8_t)bad[i].val;
		dhchap_host_free(h);
		hc.hashes = bad[i].hashes;
		h = dhchap_host_new(&hc);
		dhchap_host_next(h, msg, sizeof(msg), &len);
		dhchap_host_recv(h, chal, clen);
		tap_ok(dhchap_host_state(h) == DHCHAP_HOST_SEND && !dhchap_host_next(h, msg, sizeof(msg), &len) &&
			       !dhchap_failure_decode(DHCHAP_ID_FAILURE2, msg, len, &f) && f.rce == bad[i].reason &&
			       dhchap_host_state(h) == DHCHAP_HOST_FAILED && dhchap_host_result(h) == -EPROTO,
		       "%s: host sends Failure2 reason %u (%s)", bad[i].what, bad[i].reason, dhchap_host_error(h));
		tap_eq(dhchap_ctrl_send(c, msg, len, 0), 0, "%s: controller takes the Failure2", bad[i].what);
		tap_ok(dhchap_ctrl_state(c) == DHCHAP_CTRL_FAILED && dhchap_ctrl_fail_reason(c) == bad[i].reason,
		       "%s: controller FAILED with the host's reason", bad[i].what);
		dhchap_host_free(h);
		dhchap_ctrl_free(c);
	}

	/* Success1 without R2 although the host asked for it */
	cc = ccfg();
	hc = hcfg();
	hc.ctrl_key = &ckey;
	cc.dhgroups = 1;
	c = dhchap_ctrl_new(&cc, 0);
	h = dhchap_host_new(&hc);
	for (int i = 0; i < 4; i++) {
		if (dhchap_host_state(h) == DHCHAP_HOST_SEND) {
			dhchap_host_next(h, msg, sizeof(msg), &len);
			dhchap_ctrl_send(c, msg, len, 0);
		} else {
			dhchap_ctrl_recv(c, msg, sizeof(msg), &len, 0);
			if (msg[1] == DHCHAP_ID_SUCCESS1) {
				msg[8] = 0;
				len = 16;
			}
			dhchap_host_recv(h, msg, len);
		}
	}
	tap_ok(dhchap_host_state(h) == DHCHAP_HOST_SEND && dhchap_host_result(h) == -EKEYREJECTED,
	       "Success1 without R2: host refuses (%s)", dhchap_host_error(h));
	tap_eq(dhchap_host_recv(h, msg, len), -EINVAL, "host_recv in the wrong state");
	dhchap_host_free(h);
	dhchap_ctrl_free(c);
	h = dhchap_host_new(&hc);
	tap_eq(dhchap_host_recv(h, msg, len), -EINVAL, "host_recv before Negotiate");
	dhchap_host_next(h, msg, sizeof(msg), &len);
	tap_eq(dhchap_host_next(h, msg, sizeof(msg), &len), -EINVAL, "host_next while a Receive is due");
	dhchap_host_free(h);
}

static void test_cmd_check(void)
{
	struct dhchap_auth_sqe s = { .opcode = 0x7f, .fctype = DHCHAP_FCTYPE_SEND, .spsp0 = 1, .spsp1 = 1,
				     .secp = 0xE9, .len = 72 };

	tap_eq(dhchap_cmd_check(&s, 72), 0, "Send TL 72 with 72 bytes");
	tap_eq(dhchap_cmd_check(&s, 71), DHCHAP_SC_INVALID_FIELD, "TL != data length");
	s.secp = 0xEA;
	tap_eq(dhchap_cmd_check(&s, 72), DHCHAP_SC_INVALID_FIELD, "SECP EAh");
	s.secp = 0xE9;
	s.spsp0 = 2;
	tap_eq(dhchap_cmd_check(&s, 72), DHCHAP_SC_INVALID_FIELD, "SPSP0 2");
	s.spsp0 = 1;
	s.spsp1 = 0;
	tap_eq(dhchap_cmd_check(&s, 72), DHCHAP_SC_INVALID_FIELD, "SPSP1 0");
	s.spsp1 = 1;
	s.len = 0;
	tap_eq(dhchap_cmd_check(&s, 0), DHCHAP_SC_INVALID_FIELD, "TL 0");
	s.len = 8192;
	tap_eq(dhchap_cmd_check(&s, 8192), DHCHAP_SC_INVALID_FIELD, "TL above DHCHAP_SEND_MAX");
	s.fctype = DHCHAP_FCTYPE_RECV;
	tap_eq(dhchap_cmd_check(&s, 8192), 0, "Receive AL 8192");
	s.fctype = 0x01;
	tap_eq(dhchap_cmd_check(&s, 8192), DHCHAP_SC_INVALID_FIELD, "not an auth command");
}

/* Random corruption (a byte changed, the length cut or grown) of one message in either direction
 * of a handshake: nothing crashes (ASan watches), both sides end in a final state, and the host
 * is never DONE with a controller that failed before the last host message. */
static void test_mutations(void)
{
	uint32_t x = 0x9e3779b9;
	unsigned bad = 0, iters = 3000;

	for (unsigned it = 0; it < iters; it++) {
		struct dhchap_ctrl_cfg cc = ccfg();
		struct dhchap_host_cfg hc = hcfg();
		struct dhchap_ctrl *c;
		struct dhchap_host *h;
		unsigned step = 0, target_step, guard = 0;
		bool last_hit = false; /* the corrupted message was the host's last one (Success2) */

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		cc.dhgroups = (x & 7) == 0 ? 1u << 1 : 1u; /* mostly NULL group: fast */
		hc.ctrl_key = x & 8 ? &ckey : NULL;
		target_step = (x >> 4) % 5;
		c = dhchap_ctrl_new(&cc, 0);
		h = dhchap_host_new(&hc);
		while ((dhchap_host_state(h) == DHCHAP_HOST_SEND || dhchap_host_state(h) == DHCHAP_HOST_RECV) &&
		       guard++ < 16) {
			size_t len = 0;
			bool to_ctrl = dhchap_host_state(h) == DHCHAP_HOST_SEND;

			if (to_ctrl)
				dhchap_host_next(h, msg, sizeof(msg), &len);
			else if (dhchap_ctrl_recv(c, msg, sizeof(msg), &len, 0))
				break;
			if (step++ == target_step) {
				last_hit = to_ctrl && len >= 2 && msg[0] == DHCHAP_TYPE_DHCHAP && msg[1] == DHCHAP_ID_SUCCESS2;
				x ^= x << 13, x ^= x >> 17, x ^= x << 5;
				switch (x % 3) {
				case 0:
					msg[(x >> 8) % (len ? len : 1)] ^= (uint8_t)(1u << ((x >> 4) & 7));
					break;
				case 1:
					len = (x >> 8) % (len + 1);
					break;
				default:
					memset(msg + len, (int)(x >> 8), 64);
					len += 1 + (x >> 16) % 64;
					break;
				}
			}
			if (to_ctrl)
				dhchap_ctrl_send(c, msg, len, 0);
			else
				dhchap_host_recv(h, msg, len);
		}
		/* a corrupted Success2 leaves the host DONE and the controller failed: the host finds out at
		 * its next command (Authentication Required), as the protocol has no answer to Success2 */
		if (guard >= 16 || (dhchap_host_state(h) == DHCHAP_HOST_DONE && dhchap_ctrl_state(c) != DHCHAP_CTRL_AUTHENTICATED &&
				    !last_hit) ||
		    (dhchap_host_state(h) == DHCHAP_HOST_FAILED && dhchap_ctrl_state(c) == DHCHAP_CTRL_AUTHENTICATED))
			bad++;
		dhchap_host_free(h);
		dhchap_ctrl_free(c);
	}
	tap_eq(bad, 0, "%u corrupted handshakes: no crash, no loop, the two sides agree on the outcome", iters);
}

int main(void)
{
	for (int i = 0; i < 64; i++) {
		hkey.secret[i] = (uint8_t)(i + 1);
		ckey.secret[i] = (uint8_t)(0x80 + i);
		other.secret[i] = (uint8_t)(0x40 ^ i);
	}
	test_matrix(false);
	test_matrix(true);
	test_choice_and_keys();
	test_bad_messages();
	test_deadline_reauth();
	test_host_side();
	test_cmd_check();
	test_mutations();
	return tap_done();
}
