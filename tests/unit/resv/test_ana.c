/* SPDX-License-Identifier: MIT */
/*
 * ANA: configuration checks, per-port group states, the log page 0x0C bytes (with and without
 * RGO, truncated), path statuses, ANA Change transitions driven by a clock passed in, the
 * change hook (which ports need an ANA Change AEN), the control-plane entry and Identify fields.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <nvme/types.h>

#include "nvringd/ana.h"
#include "tap.h"

#define S_INACCESSIBLE 0x0302
#define S_PERSISTENT_LOSS 0x0301
#define S_TRANSITION 0x0303
#define SEC 1000000000ull

struct hook_rec {
	unsigned n;
	uint16_t ports[64];
};

static void hook(void *arg, uint16_t portid)
{
	struct hook_rec *r = arg;

	if (r->n < 64)
		r->ports[r->n] = portid;
	r->n++;
}

static uint32_t le32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static struct ana a;
static struct hook_rec rec;

/* Ports 10 and 20; groups 1..3; NSIDs 1, 3, 5 in group 1, NSID 2 in group 3, group 2 empty. */
static void setup(void)
{
	memset(&rec, 0, sizeof(rec));
	ana_init(&a, 3, 10, hook, &rec);
	ana_add_port(&a, 10);
	ana_add_port(&a, 20);
	ana_ns_set_group(&a, 5, 1);
	ana_ns_set_group(&a, 1, 1);
	ana_ns_set_group(&a, 2, 3);
	ana_ns_set_group(&a, 3, 1);
	rec.n = 0;
}

static void test_config(void)
{
	struct ana b;

	tap_eq(ana_init(&b, 0, 10, NULL, NULL), -EINVAL, "0 groups");
	tap_eq(ana_init(&b, ANA_MAX_GROUPS + 1, 10, NULL, NULL), -EINVAL, "too many groups");
	tap_eq(ana_init(&b, 1, 0, NULL, NULL), -EINVAL, "ANATT 0");
	tap_eq(ana_init(&b, 1, 256, NULL, NULL), -EINVAL, "ANATT 256 does not fit the byte");
	tap_eq(ana_init(&b, ANA_MAX_GROUPS, 255, NULL, NULL), 0, "largest configuration");
	for (unsigned i = 0; i < ANA_MAX_PORTS; i++)
		ana_add_port(&b, (uint16_t)i);
	tap_eq(ana_add_port(&b, 3), -EEXIST, "port twice");
	tap_eq(ana_add_port(&b, 999), -ENOSPC, "one port too many");
	tap_eq(ana_port_index(&b, 15), 15, "port index");
	tap_eq(ana_port_index(&b, 999), -1, "unknown port index");

	setup();
	tap_eq(ana_ns_set_group(&a, 0, 1), -EINVAL, "NSID 0");
	tap_eq(ana_ns_set_group(&a, ANA_MAX_NSID + 1, 1), -EINVAL, "NSID past the maximum");
	tap_eq(ana_ns_set_group(&a, 4, 4), -EINVAL, "group 4 of 3");
	tap_eq(rec.n, 0, "refused changes call no hook");
	tap_ok(ana_ns_group(&a, 3) == 1 && ana_ns_group(&a, 2) == 3 && ana_ns_group(&a, 4) == 0 &&
		       ana_ns_group(&a, 0) == 0 && ana_ns_group(&a, 99999) == 0, "groups read back");
	uint64_t c10 = a.ports[0].chgcnt, g1 = a.ports[0].grp[0].chgcnt, g3 = a.ports[0].grp[2].chgcnt;
	tap_eq(ana_ns_set_group(&a, 3, 3), 0, "move NSID 3 to group 3");
	tap_ok(rec.n == 2 && rec.ports[0] == 10 && rec.ports[1] == 20, "both ports' logs changed");
	tap_ok(a.ports[0].chgcnt == c10 + 1 && a.ports[0].grp[0].chgcnt == g1 + 1 && a.ports[0].grp[2].chgcnt == g3 + 1,
	       "log CHGCNT and both groups' CHGCNT + 1");
	rec.n = 0;
	tap_eq(ana_ns_set_group(&a, 3, 3), 0, "same group again");
	tap_eq(rec.n, 0, "no change, no hook");
}

static void test_log(void)
{
	uint8_t buf[256];
	ssize_t len;

	setup();
	memset(buf, 0xee, sizeof(buf));
	len = ana_log_build(&a, 10, false, buf, sizeof(buf));
	tap_eq(len, 16 + 32 + 12 + 32 + 4, "two groups, four NSIDs: 96 bytes");
	tap_eq(le64_at(buf), a.ports[0].chgcnt, "header CHGCNT at 0");
	tap_ok(buf[8] == 2 && buf[9] == 0, "NGRPS 2 (group 2 holds nothing)");
	bool zero = true;
	for (int i = 10; i < 16; i++)
		zero = zero && !buf[i];
	tap_ok(zero, "header reserved bytes zero");
	tap_ok(le32_at(buf + 16) == 1 && le32_at(buf + 20) == 3, "descriptor 1: ANAGRPID 1, NNSIDS 3");
	tap_eq(le64_at(buf + 24), a.ports[0].grp[0].chgcnt, "descriptor 1: CHGCNT");
	tap_eq(buf[32], NVME_ANA_STATE_OPTIMIZED, "descriptor 1: optimized");
	zero = true;
	for (int i = 33; i < 48; i++)
		zero = zero && !buf[i];
	tap_ok(zero, "descriptor 1: reserved bytes zero");
	tap_ok(le32_at(buf + 48) == 1 && le32_at(buf + 52) == 3 && le32_at(buf + 56) == 5,
	       "descriptor 1: NSIDs 1, 3, 5 ascending (registered as 5, 1, 3)");
	tap_ok(le32_at(buf + 60) == 3 && le32_at(buf + 64) == 1 && buf[76] == 1 && le32_at(buf + 92) == 2,
	       "descriptor 2 at 60: group 3, one NSID: 2");
	tap_eq(buf[96], 0xee, "nothing written past the log");

	memset(buf, 0xee, sizeof(buf));
	len = ana_log_build(&a, 10, true, buf, sizeof(buf));
	tap_eq(len, 16 + 2 * 32, "RGO: 80 bytes");
	tap_ok(buf[8] == 2 && le32_at(buf + 16) == 1 && le32_at(buf + 20) == 0 && le32_at(buf + 48) == 3 &&
		       le32_at(buf + 52) == 0 && buf[80] == 0xee, "RGO: descriptors back to back, NNSIDS 0");

	memset(buf, 0xee, sizeof(buf));
	len = ana_log_build(&a, 10, false, buf, 50);
	tap_ok(len == 96 && le32_at(buf + 16) == 1 && buf[48] == 1 && buf[49] == 0 && buf[50] == 0xee,
	       "cap 50: full length returned, 50 bytes written");
	tap_eq(ana_log_build(&a, 30, false, buf, sizeof(buf)), -ENOENT, "unknown port");
	tap_eq(ana_log_max_len(&a, 1024), 16 + 3 * 32 + 4096, "host buffer: header + NANAGRPID desc + MNAN NSIDs");

	/* an empty subsystem: just the header */
	struct ana e;
	ana_init(&e, 2, 5, NULL, NULL);
	ana_add_port(&e, 1);
	tap_eq(ana_log_build(&e, 1, false, buf, sizeof(buf)), 16, "no namespaces: 16-byte header");
	tap_ok(buf[8] == 0 && le64_at(buf) == 0, "NGRPS 0, CHGCNT 0");
}

static void test_states(void)
{
	uint8_t buf[128];

	setup();
	tap_eq(ana_set_state(&a, 20, 1, NVME_ANA_STATE_INACCESSIBLE, 0), 0, "port 20 group 1 inaccessible");
	tap_ok(rec.n == 1 && rec.ports[0] == 20, "hook: port 20 only");
	ana_log_build(&a, 10, false, buf, sizeof(buf));
	tap_eq(buf[32], NVME_ANA_STATE_OPTIMIZED, "port 10 still optimized");
	ana_log_build(&a, 20, false, buf, sizeof(buf));
	tap_eq(buf[32], NVME_ANA_STATE_INACCESSIBLE, "port 20 log says inaccessible");
	tap_ok(le64_at(buf) == a.ports[1].chgcnt && a.ports[1].chgcnt == a.ports[0].chgcnt + 1,
	       "port 20 log CHGCNT one ahead of port 10's");
	tap_eq(ana_io_status(&a, 10, 1), 0, "I/O to NSID 1 via port 10: fine");
	tap_eq(ana_io_status(&a, 20, 1), S_INACCESSIBLE, "via port 20: Asymmetric Access Inaccessible");
	tap_eq(ana_io_status(&a, 20, 1) & 0x4000, 0, "no DNR: the host retries another path");
	tap_eq(ana_io_status(&a, 20, 2), 0, "NSID 2 (group 3) via port 20: fine");
	tap_eq(ana_io_status(&a, 20, 4), 0, "NSID 4 in no group: not ANA's business");
	tap_eq(ana_io_status(&a, 30, 1), 0, "unknown port: not ANA's business");
	tap_eq(ana_io_status_at(&a, 1, 1), S_INACCESSIBLE, "by port index");
	tap_eq(ana_io_status_at(&a, 7, 1), 0, "port index out of range");
	rec.n = 0;
	tap_eq(ana_set_state(&a, 20, 1, NVME_ANA_STATE_INACCESSIBLE, 0), 0, "same state again");
	tap_eq(rec.n, 0, "no change, no hook");
	ana_set_state(&a, 20, 1, NVME_ANA_STATE_PERSISTENT_LOSS, 0);
	tap_eq(ana_io_status(&a, 20, 3), S_PERSISTENT_LOSS, "persistent loss");
	ana_set_state(&a, 20, 1, NVME_ANA_STATE_NONOPTIMIZED, 0);
	tap_eq(ana_io_status(&a, 20, 5), 0, "non-optimized serves I/O");
	tap_eq(ana_set_state(&a, 30, 1, NVME_ANA_STATE_OPTIMIZED, 0), -ENOENT, "unknown port");
	tap_eq(ana_set_state(&a, 10, 0, NVME_ANA_STATE_OPTIMIZED, 0), -EINVAL, "group 0");
	tap_eq(ana_set_state(&a, 10, 4, NVME_ANA_STATE_OPTIMIZED, 0), -EINVAL, "group 4 of 3");
	tap_eq(ana_set_state(&a, 10, 1, 0, 0), -EINVAL, "state 0");
	tap_eq(ana_set_state(&a, 10, 1, 5, 0), -EINVAL, "state 5");
	tap_eq(ana_status_of(NVME_ANA_STATE_CHANGE), S_TRANSITION, "change: Asymmetric Access Transition");
	tap_eq(ana_status_of(NVME_ANA_STATE_OPTIMIZED), 0, "optimized: 0");
}

static void test_transitions(void)
{
	uint8_t buf[128];
	struct ana_state_info info[8];
	uint64_t t0 = 1000 * SEC, c;

	setup();
	tap_eq(ana_next_deadline(&a), UINT64_MAX, "no transition pending");
	tap_eq(ana_transition(&a, 10, 1, NVME_ANA_STATE_NONOPTIMIZED, 11 * SEC, t0), -ERANGE, "longer than ANATT");
	tap_eq(ana_transition(&a, 10, 1, NVME_ANA_STATE_CHANGE, SEC, t0), -EINVAL, "a transition to change");
	tap_eq(ana_transition(&a, 10, 9, NVME_ANA_STATE_OPTIMIZED, SEC, t0), -EINVAL, "group 9");
	tap_eq(ana_transition(&a, 99, 1, NVME_ANA_STATE_OPTIMIZED, SEC, t0), -ENOENT, "port 99");
	c = a.ports[0].grp[0].chgcnt;
	tap_eq(ana_transition(&a, 10, 1, NVME_ANA_STATE_NONOPTIMIZED, 2 * SEC, t0), 0, "2 s to non-optimized");
	tap_ok(rec.n == 1 && rec.ports[0] == 10 && a.ports[0].grp[0].chgcnt == c + 1, "entering change: hook, CHGCNT");
	ana_log_build(&a, 10, false, buf, sizeof(buf));
	tap_eq(buf[32], NVME_ANA_STATE_CHANGE, "log: ANA change");
	tap_eq(ana_io_status(&a, 10, 1), S_TRANSITION, "I/O: Asymmetric Access Transition");
	tap_eq(ana_next_deadline(&a), t0 + 2 * SEC, "deadline");
	tap_eq(ana_get_states(&a, t0 + SEC / 2, info, 8), 6, "2 ports x 3 groups");
	tap_ok(info[0].portid == 10 && info[0].grpid == 1 && info[0].state == NVME_ANA_STATE_CHANGE &&
		       info[0].target == NVME_ANA_STATE_NONOPTIMIZED && info[0].remaining_ns == 3 * SEC / 2 &&
		       info[0].nnsids == 3, "get_states: port 10 group 1 changing, 1.5 s left, 3 NSIDs");
	tap_ok(info[1].grpid == 2 && info[1].nnsids == 0 && info[2].nnsids == 1 && info[3].portid == 20 &&
		       info[3].state == NVME_ANA_STATE_OPTIMIZED && info[3].remaining_ns == 0, "the other entries");
	tap_eq(ana_get_states(&a, t0, info, 2), 6, "truncated output still counts all");
	tap_eq(ana_advance(&a, t0 + 2 * SEC - 1), 0, "1 ns early: nothing");
	tap_eq(ana_advance(&a, t0 + 2 * SEC), 1, "at the deadline: committed");
	tap_ok(rec.n == 2 && rec.ports[1] == 10 && a.ports[0].grp[0].chgcnt == c + 2, "leaving change: hook, CHGCNT");
	ana_log_build(&a, 10, false, buf, sizeof(buf));
	tap_eq(buf[32], NVME_ANA_STATE_NONOPTIMIZED, "log: non-optimized");
	tap_eq(ana_next_deadline(&a), UINT64_MAX, "nothing pending");
	tap_eq(ana_advance(&a, t0 + 100 * SEC), 0, "advancing again commits nothing");

	/* re-targeting during change, and cancelling */
	ana_transition(&a, 20, 3, NVME_ANA_STATE_INACCESSIBLE, 5 * SEC, t0);
	rec.n = 0;
	tap_eq(ana_transition(&a, 20, 3, NVME_ANA_STATE_OPTIMIZED, SEC, t0 + SEC), 0, "re-target while changing");
	tap_ok(rec.n == 0 && ana_next_deadline(&a) == t0 + 2 * SEC, "log unchanged, new deadline");
	tap_eq(ana_set_state(&a, 20, 3, NVME_ANA_STATE_PERSISTENT_LOSS, t0 + SEC), 0, "set a state mid-transition");
	tap_ok(rec.n == 1 && ana_next_deadline(&a) == UINT64_MAX && ana_io_status(&a, 20, 2) == S_PERSISTENT_LOSS,
	       "transition cancelled");
	tap_eq(ana_transition(&a, 20, 3, NVME_ANA_STATE_OPTIMIZED, 0, t0), 0, "duration 0");
	tap_eq(ana_io_status(&a, 20, 2), 0, "applied at once");

	/* "change" alone: a flap back to the current state after ANATT */
	tap_eq(ana_set_state(&a, 20, 3, NVME_ANA_STATE_CHANGE, t0), 0, "set change");
	tap_ok(ana_io_status(&a, 20, 2) == S_TRANSITION && ana_next_deadline(&a) == t0 + 10 * SEC, "ANATT from now");
	tap_eq(ana_set_state(&a, 20, 3, NVME_ANA_STATE_CHANGE, t0 + 5 * SEC), 0, "set change again");
	tap_eq(ana_next_deadline(&a), t0 + 10 * SEC, "deadline not pushed out");
	ana_advance(&a, t0 + 10 * SEC);
	tap_eq(ana_io_status(&a, 20, 2), 0, "back to optimized");
}

static void test_by_name(void)
{
	char err[160];

	setup();
	for (int s = 1; s <= 15; s++) {
		const char *n = ana_state_name((uint8_t)s);

		if (n)
			tap_eq(ana_state_from_name(n), s, "name %s round trip", n);
	}
	tap_ok(ana_state_name(0) == NULL && ana_state_name(5) == NULL, "no names for non-states");
	tap_eq(ana_state_from_name("Optimized"), -EINVAL, "names are exact");
	tap_eq(ana_state_from_name(NULL), -EINVAL, "NULL name");
	tap_eq(ana_set_state_by_name(&a, 20, 1, "non-optimized", 0, 0, err, sizeof(err)), 0, "by name");
	tap_eq(a.ports[1].grp[0].state, NVME_ANA_STATE_NONOPTIMIZED, "applied");
	tap_eq(ana_set_state_by_name(&a, 20, 1, "optimised", 0, 0, err, sizeof(err)), -EINVAL, "misspelt state");
	tap_ok(strstr(err, "\"optimised\"") && strstr(err, "persistent-loss"), "message: %s", err);
	tap_eq(ana_set_state_by_name(&a, 21, 1, "optimized", 0, 0, err, sizeof(err)), -ENOENT, "bad port");
	tap_ok(strstr(err, "port 21") != NULL, "message: %s", err);
	tap_eq(ana_set_state_by_name(&a, 20, 7, "optimized", 0, 0, err, sizeof(err)), -EINVAL, "bad group");
	tap_ok(strstr(err, "group 7") && strstr(err, "1..3"), "message: %s", err);
	tap_eq(ana_set_state_by_name(&a, 20, 1, "optimized", 10001, 0, err, sizeof(err)), -ERANGE, "too slow");
	tap_ok(strstr(err, "10001 ms") && strstr(err, "ANATT"), "message: %s", err);
	tap_eq(ana_set_state_by_name(&a, 20, 1, "change", 500, 0, err, sizeof(err)), -EINVAL, "change with a duration");
	tap_eq(ana_set_state_by_name(&a, 20, 1, "optimized", 500, 7, err, sizeof(err)), 0, "optimized in 500 ms");
	tap_ok(a.ports[1].grp[0].state == NVME_ANA_STATE_CHANGE && ana_next_deadline(&a) == 7 + 500000000ull,
	       "through change, deadline 500 ms out");
	tap_eq(ana_set_state_by_name(&a, 20, 2, "change", 0, 0, err, sizeof(err)), 0, "change alone");
}

static void test_identify(void)
{
	struct nvme_id_ctrl id;
	struct nvme_id_ns ns;
	uint8_t *b = (uint8_t *)&id, *n = (uint8_t *)&ns;

	setup();
	memset(&id, 0, sizeof(id));
	id.nn = htole32(1024);
	id.oaes = htole32(1u << 8);
	ana_id_ctrl(&a, &id);
	tap_eq(b[76], 0x0b, "CMIC: multi-port, multi-controller, ANA reporting");
	tap_eq(b[342], 10, "ANATT 10 s at byte 342");
	tap_eq(b[343], 0x1f, "ANACAP at 343: all five states, ANAGRPID may change");
	tap_ok(le32_at(b + 344) == 3 && le32_at(b + 348) == 3, "ANAGRPMAX (344) = NANAGRPID (348) = 3");
	tap_eq(le32_at(b + 92), (1u << 8) | (1u << 11), "OAES gains ANA Change, keeps what it had");
	tap_eq(le32_at(b + 540), 1024, "MNAN = NN when zero");
	id.mnan = htole32(16);
	ana_id_ctrl(&a, &id);
	tap_eq(le32_at(b + 540), 16, "MNAN kept when set");
	memset(&ns, 0, sizeof(ns));
	ana_id_ns(&a, 2, &ns);
	tap_ok(le32_at(n + 92) == 3 && n[30] == 1, "NSID 2: ANAGRPID 3, NMIC shared");
	ana_id_ns(&a, 4, &ns);
	tap_eq(le32_at(n + 92), 0, "NSID 4: ANAGRPID 0");
}

int main(void)
{
	test_config();
	test_log();
	test_states();
	test_transitions();
	test_by_name();
	test_identify();
	return tap_done();
}
