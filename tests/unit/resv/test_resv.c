/* SPDX-License-Identifier: MIT */
/*
 * Reservations: the spec's command behaviour table for all six types and three roles, every
 * Register/Acquire/Release action with its statuses, preemption results, generation counting,
 * Report bytes, notifications (mask, fanout, log page) and the features.
 */
#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "nvringd/resv.h"
#include "tap.h"

/* Statuses as (SCT << 8) | SC | DNR 0x4000, written out from the spec's numbers. */
#define S_OK 0x0000
#define S_INVALID_FIELD 0x4002
#define S_INTERNAL 0x0006
#define S_SHORT_DATA 0x400f
#define S_HOSTID_FORMAT 0x4018
#define S_CONFLICT 0x4083

enum { WE = 1, EA, WERO, EARO, WEAR, EAAR };
enum { REGPRE = 1, RESREL = 2, RESPRE = 3 };
enum { A, B, C, D, E, NHOSTS };
static uint8_t host[NHOSTS][16];

static void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint16_t reg(struct resv *rs, int h, unsigned rrega, bool iekey, unsigned cptpl, uint64_t crkey,
		    uint64_t nrkey, struct resv_outcome *o)
{
	uint8_t d[16];

	put_le64(d, crkey);
	put_le64(d + 8, nrkey);
	return resv_register(rs, host[h], rrega | (iekey ? 8u : 0) | (cptpl << 30), d, sizeof(d), o);
}

static uint16_t acq(struct resv *rs, int h, unsigned racqa, unsigned rtype, uint64_t crkey, uint64_t prkey,
		    struct resv_outcome *o)
{
	uint8_t d[16];

	put_le64(d, crkey);
	put_le64(d + 8, prkey);
	return resv_acquire(rs, host[h], racqa | (rtype << 8), d, sizeof(d), o);
}

static uint16_t rel(struct resv *rs, int h, unsigned rrela, unsigned rtype, uint64_t crkey, struct resv_outcome *o)
{
	uint8_t d[8];

	put_le64(d, crkey);
	return resv_release(rs, host[h], rrela | (rtype << 8), d, sizeof(d), o);
}

/* The event for host h, or NULL. */
static const struct resv_event *ev(const struct resv_outcome *o, int h)
{
	for (unsigned i = 0; i < o->nevents; i++)
		if (memcmp(o->events[i].hostid, host[h], 16) == 0)
			return &o->events[i];
	return NULL;
}

static bool ev_is(const struct resv_outcome *o, int h, uint8_t rnlpt, bool abort)
{
	const struct resv_event *e = ev(o, h);

	return e && e->rnlpt == rnlpt && e->abort == abort;
}

/* Register hosts [0, n) with key 0x100 + host (or `key` for all if non-zero). */
static void setup(struct resv *rs, int n, uint64_t key)
{
	struct resv_outcome o;

	resv_init(rs, 7, true);
	for (int h = 0; h < n; h++)
		reg(rs, h, 0, false, 0, 0, key ? key : 0x100u + (unsigned)h, &o);
}

#define K(h) (0x100u + (unsigned)(h))

static void test_table(void)
{
	/* Per type: holder R W, registrant R W, non-registrant R W; 1 = conflict (spec table). */
	static const char *const table[7] = {
		[WE] = "000101", [EA] = "001111", [WERO] = "000001",
		[EARO] = "000011", [WEAR] = "000001", [EAAR] = "000011",
	};
	struct resv rs;
	struct resv_outcome o;

	setup(&rs, 2, 0); /* A, B registered; C is not */
	for (int cls = RESV_CLASS_OTHER; cls <= RESV_CLASS_WRITE; cls++)
		for (int h = A; h <= C; h++)
			tap_eq(resv_check(&rs, host[h], (enum resv_class)cls), S_OK,
			       "no reservation: host %d class %d allowed", h, cls);
	for (unsigned t = WE; t <= EAAR; t++) {
		setup(&rs, 2, 0);
		tap_eq(acq(&rs, A, 0, t, K(A), 0, &o), S_OK, "type %u: A acquires", t);
		for (int role = 0; role < 3; role++) {
			int h = role == 0 ? A : role == 1 ? B : C;

			tap_eq(resv_check(&rs, host[h], RESV_CLASS_READ),
			       table[t][role * 2] == '1' ? S_CONFLICT : S_OK, "type %u role %d: read", t, role);
			tap_eq(resv_check(&rs, host[h], RESV_CLASS_WRITE),
			       table[t][role * 2 + 1] == '1' ? S_CONFLICT : S_OK, "type %u role %d: write", t, role);
			tap_eq(resv_check(&rs, host[h], RESV_CLASS_OTHER), S_OK, "type %u role %d: other", t, role);
		}
		tap_ok(resv_is_holder(&rs, host[B]) == (t == WEAR || t == EAAR),
		       "type %u: registrant B holds only for all-registrants types", t);
		tap_ok(!resv_is_holder(&rs, host[C]) && resv_is_registrant(&rs, host[B]) &&
			       !resv_is_registrant(&rs, host[C]), "type %u: C neither registrant nor holder", t);
	}
}

static void test_classify(void)
{
	static const struct { uint8_t csi; bool admin; uint8_t opc; enum resv_class want; } cases[] = {
		{ 0, false, 0x02, RESV_CLASS_READ },  { 0, false, 0x05, RESV_CLASS_READ },
		{ 0, false, 0x0c, RESV_CLASS_READ },  { 0, false, 0x00, RESV_CLASS_WRITE },
		{ 0, false, 0x01, RESV_CLASS_WRITE }, { 0, false, 0x04, RESV_CLASS_WRITE },
		{ 0, false, 0x08, RESV_CLASS_WRITE }, { 0, false, 0x09, RESV_CLASS_WRITE },
		{ 0, false, 0x19, RESV_CLASS_WRITE }, { 0, false, 0x0d, RESV_CLASS_OTHER },
		{ 0, false, 0x0e, RESV_CLASS_OTHER }, { 0, false, 0x11, RESV_CLASS_OTHER },
		{ 0, false, 0x15, RESV_CLASS_OTHER }, { 0, false, 0x81, RESV_CLASS_WRITE },
		{ 0, false, 0x90, RESV_CLASS_READ },  { 0, false, 0xb3, RESV_CLASS_READ },
		{ 0, false, 0xa1, RESV_CLASS_WRITE }, { 0, false, 0xb2, RESV_CLASS_READ },
		{ 0, false, 0xc2, RESV_CLASS_READ },  { 0, false, 0xc0, RESV_CLASS_WRITE },
		{ 1, false, 0x01, RESV_CLASS_WRITE }, { 1, false, 0x10, RESV_CLASS_WRITE },
		{ 1, false, 0x00, RESV_CLASS_WRITE }, { 1, false, 0x02, RESV_CLASS_READ },
		{ 1, false, 0x06, RESV_CLASS_READ },  { 1, false, 0x14, RESV_CLASS_READ },
		{ 1, false, 0x0e, RESV_CLASS_OTHER }, { 0, true, 0x80, RESV_CLASS_WRITE },
		{ 0, true, 0x81, RESV_CLASS_WRITE },  { 0, true, 0x84, RESV_CLASS_WRITE },
		{ 0, true, 0x0d, RESV_CLASS_WRITE },  { 0, true, 0x15, RESV_CLASS_WRITE },
		{ 0, true, 0x82, RESV_CLASS_READ },   { 0, true, 0x06, RESV_CLASS_OTHER },
		{ 0, true, 0x02, RESV_CLASS_OTHER },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_eq(resv_classify(cases[i].csi, cases[i].admin, cases[i].opc), cases[i].want,
		       "classify csi %u admin %d opcode 0x%02x", cases[i].csi, cases[i].admin, cases[i].opc);
}

static void test_register(void)
{
	struct resv rs;
	struct resv_outcome o;
	uint8_t d[16] = { 0 };

	resv_init(&rs, 7, false);
	tap_eq(resv_register(&rs, host[A], 0, d, 15, &o), S_SHORT_DATA, "register: 15 data bytes");
	tap_eq(reg(&rs, A, 0, false, 0, 0, 0xaa, &o), S_OK, "register A");
	tap_ok(rs.nregs == 1 && rs.regs[0].rkey == 0xaa && rs.gen == 1, "A registered with its key, GEN 1");
	tap_ok(!o.save, "PTPL off: nothing to save");
	tap_eq(reg(&rs, A, 0, false, 0, 0, 0xaa, &o), S_OK, "register A again, same key");
	tap_eq(rs.gen, 2, "a no-op register still counts in GEN");
	tap_eq(reg(&rs, A, 0, false, 0, 0, 0xbb, &o), S_CONFLICT, "register A with another key");
	tap_eq(reg(&rs, A, 0, true, 0, 0, 0xbb, &o), S_CONFLICT, "IEKEY does not let register change the key");
	tap_ok(rs.gen == 2 && rs.regs[0].rkey == 0xaa, "failures leave key and GEN alone");
	for (unsigned a = 3; a <= 7; a++)
		tap_eq(reg(&rs, A, a, false, 0, 0xaa, 1, &o), S_INVALID_FIELD, "RREGA %u reserved", a);
	tap_eq(reg(&rs, A, 0, false, 1, 0, 0xaa, &o), S_INVALID_FIELD, "CPTPL 01b reserved");
	tap_eq(reg(&rs, A, 0, false, 3, 0, 0xaa, &o), S_INVALID_FIELD, "CPTPL 11b without PTPL capability");

	/* replace */
	tap_eq(reg(&rs, A, 2, false, 0, 0xab, 0xcc, &o), S_CONFLICT, "replace with a wrong CRKEY");
	tap_eq(reg(&rs, A, 2, false, 0, 0xaa, 0xcc, &o), S_OK, "replace with the right CRKEY");
	tap_eq(rs.regs[0].rkey, 0xcc, "key replaced");
	tap_eq(reg(&rs, A, 2, true, 0, 0x999, 0xdd, &o), S_OK, "replace with IEKEY and a wrong CRKEY");
	tap_eq(rs.regs[0].rkey, 0xdd, "key replaced regardless");
	tap_eq(reg(&rs, B, 2, false, 0, 0, 0xee, &o), S_CONFLICT, "replace by a non-registrant");
	tap_eq(reg(&rs, B, 2, true, 0, 0, 0xee, &o), S_OK, "replace with IEKEY registers a non-registrant");
	tap_ok(rs.nregs == 2 && rs.regs[1].rkey == 0xee, "B registered by replace");

	/* unregister */
	tap_eq(reg(&rs, C, 1, false, 0, 0, 0, &o), S_CONFLICT, "unregister by a non-registrant");
	tap_eq(reg(&rs, C, 1, true, 0, 0, 0, &o), S_CONFLICT, "unregister with IEKEY by a non-registrant");
	tap_eq(reg(&rs, B, 1, false, 0, 0xef, 0, &o), S_CONFLICT, "unregister with a wrong CRKEY");
	unsigned gen = rs.gen;
	tap_eq(reg(&rs, B, 1, true, 0, 0xef, 0, &o), S_OK, "unregister with IEKEY and a wrong CRKEY");
	tap_ok(rs.nregs == 1 && !resv_is_registrant(&rs, host[B]) && rs.gen == gen + 1, "B gone, GEN + 1");
	tap_eq(reg(&rs, A, 1, false, 0, 0xdd, 0, &o), S_OK, "unregister A");
	tap_eq(rs.nregs, 0, "no registrants");

	/* a key of 0 is a key like any other (nvmet; the spec does not forbid it) */
	tap_eq(reg(&rs, A, 0, false, 0, 0, 0, &o), S_OK, "register key 0");

	/* table full */
	resv_init(&rs, 7, false);
	for (unsigned i = 0; i < RESV_MAX_REGISTRANTS; i++) {
		uint8_t id[16] = { 0xf0, (uint8_t)i };

		put_le64(d + 8, i);
		if (resv_register(&rs, id, 0, d, 16, &o) != S_OK)
			break;
	}
	tap_eq(rs.nregs, RESV_MAX_REGISTRANTS, "%u registrants fit", RESV_MAX_REGISTRANTS);
	tap_eq(reg(&rs, A, 0, false, 0, 0, 1, &o), S_INTERNAL, "one more: Internal Error, retryable");
	tap_eq(reg(&rs, A, 2, true, 0, 0, 1, &o), S_INTERNAL, "nor by replace with IEKEY");
}

static void test_ptpl(void)
{
	struct resv rs;
	struct resv_outcome o;

	resv_init(&rs, 7, true);
	tap_eq(reg(&rs, A, 0, false, 3, 0, 1, &o), S_OK, "register with CPTPL 11b");
	tap_ok(rs.ptpl && o.save, "PTPL on, state to save");
	tap_eq(reg(&rs, B, 0, false, 0, 0, 2, &o), S_OK, "register B, CPTPL no change");
	tap_ok(rs.ptpl && o.save, "PTPL stays on, save");
	tap_eq(reg(&rs, B, 0, false, 2, 0, 3, &o), S_CONFLICT, "failed register with CPTPL 10b");
	tap_ok(rs.ptpl && !o.save, "a failed command changes no PTPL");
	tap_eq(reg(&rs, B, 0, false, 2, 0, 2, &o), S_OK, "register with CPTPL 10b");
	tap_ok(!rs.ptpl && o.save, "PTPL off, saved once more (the file must say so)");
	tap_eq(reg(&rs, C, 0, false, 0, 0, 4, &o), S_OK, "register C with PTPL off");
	tap_ok(!o.save, "nothing to save with PTPL off");

	tap_eq(resv_set_persistence(&rs, 1, &o), S_OK, "Set Features 0x83 PTPL 1");
	tap_ok(rs.ptpl && o.save && resv_get_persistence(&rs) == 1, "on, save");
	tap_eq(resv_set_persistence(&rs, 1, &o), S_OK, "again");
	tap_ok(!o.save, "unchanged: no save");
	tap_eq(resv_set_persistence(&rs, 3, &o), S_INVALID_FIELD, "reserved bit 1");
	tap_eq(resv_set_persistence(&rs, 0, &o), S_OK, "PTPL 0");
	tap_ok(!rs.ptpl && o.save && resv_get_persistence(&rs) == 0, "off, save");
	resv_init(&rs, 7, false);
	tap_eq(resv_set_persistence(&rs, 1, &o), S_INVALID_FIELD, "PTPL 1 without a state file");
	tap_eq(resv_set_persistence(&rs, 0, &o), S_OK, "PTPL 0 without a state file");
	tap_eq(resv_rescap(&rs), 0xfe, "RESCAP without PTPL");
	resv_init(&rs, 7, true);
	tap_eq(resv_rescap(&rs), 0xff, "RESCAP with PTPL");
}

static void test_unregister_holder(void)
{
	struct resv rs;
	struct resv_outcome o;

	for (unsigned t = WE; t <= EAAR; t++) {
		setup(&rs, 3, 0);
		acq(&rs, A, 0, t, K(A), 0, &o);
		tap_eq(reg(&rs, A, 1, false, 0, K(A), 0, &o), S_OK, "type %u: holder A unregisters", t);
		if (t == WEAR || t == EAAR) {
			tap_ok(rs.rtype == t && o.nevents == 0, "type %u: reservation stays with B and C", t);
			reg(&rs, B, 1, false, 0, K(B), 0, &o);
			reg(&rs, C, 1, false, 0, K(C), 0, &o);
			tap_ok(rs.rtype == 0 && o.nevents == 0, "type %u: ends with the last registrant", t);
		} else if (t == WERO || t == EARO) {
			tap_ok(rs.rtype == 0 && o.nevents == 2 && ev_is(&o, B, RESREL, false) &&
				       ev_is(&o, C, RESREL, false), "type %u: released, B and C told", t);
		} else {
			tap_ok(rs.rtype == 0 && o.nevents == 0, "type %u: released silently", t);
		}
	}
	/* a non-holder leaving does not touch the reservation */
	setup(&rs, 3, 0);
	acq(&rs, A, 0, WERO, K(A), 0, &o);
	reg(&rs, B, 1, false, 0, K(B), 0, &o);
	tap_ok(rs.rtype == WERO && resv_is_holder(&rs, host[A]) && o.nevents == 0,
	       "registrant B leaves: A still holds, holder index follows the shift");
	setup(&rs, 3, 0);
	acq(&rs, C, 0, WE, K(C), 0, &o);
	reg(&rs, A, 1, false, 0, K(A), 0, &o);
	tap_ok(resv_is_holder(&rs, host[C]) && rs.holder == 1, "holder index moves down when an earlier one leaves");
}

static void test_acquire(void)
{
	struct resv rs;
	struct resv_outcome o;
	uint8_t d[16] = { 0 };

	setup(&rs, 2, 0);
	tap_eq(resv_acquire(&rs, host[A], WE << 8, d, 8, &o), S_SHORT_DATA, "acquire: 8 data bytes");
	tap_eq(acq(&rs, C, 0, WE, 0, 0, &o), S_CONFLICT, "non-registrant acquires");
	tap_eq(acq(&rs, A, 0, WE, K(B), 0, &o), S_CONFLICT, "acquire with someone else's key");
	tap_eq(resv_acquire(&rs, host[A], 8 | (WE << 8), (put_le64(d, K(A)), d), 16, &o), S_INVALID_FIELD,
	       "acquire with IEKEY");
	tap_eq(acq(&rs, A, 0, 0, K(A), 0, &o), S_INVALID_FIELD, "RTYPE 0");
	tap_eq(acq(&rs, A, 0, 7, K(A), 0, &o), S_INVALID_FIELD, "RTYPE 7");
	tap_eq(acq(&rs, A, 3, WE, K(A), 0, &o), S_INVALID_FIELD, "RACQA 3");
	tap_eq(acq(&rs, A, 7, WE, K(A), 0, &o), S_INVALID_FIELD, "RACQA 7");
	tap_eq(rs.rtype, 0, "nothing acquired");
	unsigned gen = rs.gen;
	tap_eq(acq(&rs, A, 0, EA, K(A), 0, &o), S_OK, "A acquires EA");
	tap_ok(rs.rtype == EA && resv_is_holder(&rs, host[A]) && rs.gen == gen && o.nevents == 0,
	       "A holds EA, GEN unchanged, no events");
	tap_eq(acq(&rs, A, 0, EA, K(A), 0, &o), S_OK, "holder acquires the same type again");
	tap_eq(acq(&rs, A, 0, WE, K(A), 0, &o), S_CONFLICT, "holder acquires another type");
	tap_eq(acq(&rs, B, 0, EA, K(B), 0, &o), S_CONFLICT, "registrant B acquires while A holds");
	tap_eq(rs.rtype, EA, "still EA");

	setup(&rs, 2, 0);
	acq(&rs, A, 0, WEAR, K(A), 0, &o);
	tap_eq(acq(&rs, B, 0, WEAR, K(B), 0, &o), S_OK, "WEAR: B is a holder too, same type");
	tap_eq(acq(&rs, B, 0, EAAR, K(B), 0, &o), S_CONFLICT, "WEAR: another type conflicts");
}

static void test_preempt(void)
{
	struct resv rs;
	struct resv_outcome o;
	unsigned gen;

	/* no reservation: registrations with PRKEY go, nothing is acquired */
	setup(&rs, 3, 0);
	gen = rs.gen;
	tap_eq(acq(&rs, A, 1, WE, K(A), K(B), &o), S_OK, "no reservation: A preempts B's key");
	tap_ok(!resv_is_registrant(&rs, host[B]) && rs.rtype == 0 && rs.gen == gen + 1,
	       "B unregistered, no reservation, GEN + 1");
	tap_ok(o.nevents == 1 && ev_is(&o, B, REGPRE, false), "B: registration preempted");
	tap_eq(acq(&rs, A, 1, WE, K(A), 0x777, &o), S_CONFLICT, "PRKEY of nobody");
	tap_ok(o.nevents == 0 && rs.gen == gen + 1, "no events, GEN unchanged");

	/* single holder, PRKEY = holder's key: issuer takes over, holder's registration goes */
	for (unsigned newt = WE; newt <= EA; newt++) {
		setup(&rs, 3, 0);
		acq(&rs, A, 0, WE, K(A), 0, &o);
		gen = rs.gen;
		tap_eq(acq(&rs, B, 1, newt, K(B), K(A), &o), S_OK, "B preempts holder A (type %u)", newt);
		tap_ok(!resv_is_registrant(&rs, host[A]) && resv_is_holder(&rs, host[B]) && rs.rtype == newt &&
			       rs.gen == gen + 1, "B holds type %u, A gone, GEN + 1", newt);
		tap_ok(ev_is(&o, A, REGPRE, false), "A: registration preempted");
		if (newt == WE)
			tap_ok(o.nevents == 1, "same type: nobody else told");
		else
			tap_ok(o.nevents == 2 && ev_is(&o, C, RESREL, false), "type changed: C told of the release");
	}
	/* PRKEY 0 against a single holder */
	setup(&rs, 3, 0);
	acq(&rs, A, 0, WERO, K(A), 0, &o);
	tap_eq(acq(&rs, B, 1, WERO, K(B), 0, &o), S_INVALID_FIELD, "PRKEY 0 with a single holder");
	/* PRKEY of a non-holder: that registration goes, the reservation stays */
	tap_eq(acq(&rs, B, 1, WE, K(B), K(C), &o), S_OK, "B preempts C's key while A holds");
	tap_ok(!resv_is_registrant(&rs, host[C]) && rs.rtype == WERO && resv_is_holder(&rs, host[A]) &&
		       o.nevents == 1 && ev_is(&o, C, REGPRE, false), "C gone, A still holds WERO");
	tap_eq(acq(&rs, B, 1, WE, K(B), 0x777, &o), S_CONFLICT, "PRKEY of nobody while A holds");

	/* holder preempts itself: type change; others sharing its key lose their registration */
	setup(&rs, 2, 0);
	reg(&rs, C, 0, false, 0, 0, K(A), &o);
	acq(&rs, A, 0, WE, K(A), 0, &o);
	tap_eq(acq(&rs, A, 1, EARO, K(A), K(A), &o), S_OK, "A preempts its own key with EARO");
	tap_ok(resv_is_holder(&rs, host[A]) && rs.rtype == EARO && !resv_is_registrant(&rs, host[C]) &&
		       resv_is_registrant(&rs, host[B]), "A holds EARO, C (same key) gone, B stays");
	tap_ok(o.nevents == 2 && ev_is(&o, C, REGPRE, false) && ev_is(&o, B, RESREL, false),
	       "C preempted, B told of the release");

	/* all registrants: PRKEY 0 clears everyone else, issuer holds the new type alone */
	setup(&rs, 4, 0);
	acq(&rs, A, 0, EAAR, K(A), 0, &o);
	tap_eq(acq(&rs, B, 1, WE, K(B), 0, &o), S_OK, "EAAR: B preempts with PRKEY 0");
	tap_ok(rs.nregs == 1 && resv_is_holder(&rs, host[B]) && rs.rtype == WE && rs.holder == 0,
	       "only B left, holding WE");
	tap_ok(o.nevents == 3 && ev_is(&o, A, REGPRE, false) && ev_is(&o, C, REGPRE, false) &&
		       ev_is(&o, D, REGPRE, false), "A, C, D preempted");
	/* all registrants: PRKEY names registrants, the reservation stays */
	setup(&rs, 3, 0);
	acq(&rs, A, 0, WEAR, K(A), 0, &o);
	tap_eq(acq(&rs, B, 1, WE, K(B), K(A), &o), S_OK, "WEAR: B preempts A's key");
	tap_ok(rs.rtype == WEAR && rs.nregs == 2 && !resv_is_registrant(&rs, host[A]) && o.nevents == 1 &&
		       ev_is(&o, A, REGPRE, false), "A gone, WEAR kept, type unchanged");
	tap_eq(acq(&rs, B, 1, WE, K(B), 0x777, &o), S_CONFLICT, "WEAR: PRKEY of nobody");
	tap_eq(acq(&rs, B, 1, WE, K(B), K(B), &o), S_OK, "WEAR: B preempts its own key");
	tap_ok(!resv_is_registrant(&rs, host[B]) && rs.rtype == WEAR && o.nevents == 0,
	       "B unregistered itself, no notice to itself, C keeps WEAR");

	/* preempt and abort: the preempted hosts' commands go, the told-only ones' stay */
	setup(&rs, 3, 0);
	acq(&rs, A, 0, WE, K(A), 0, &o);
	tap_eq(acq(&rs, B, 2, EA, K(B), K(A), &o), S_OK, "B preempts and aborts A");
	tap_ok(ev_is(&o, A, REGPRE, true) && ev_is(&o, C, RESREL, false) && !ev(&o, B),
	       "A: preempted + abort; C: released only; B nothing");
	/* a failed preempt and abort aborts nothing */
	tap_eq(acq(&rs, B, 2, EA, K(B), 0, &o), S_INVALID_FIELD, "preempt and abort with PRKEY 0");
	tap_eq(o.nevents, 0, "no events on failure");

	/* the mask drops notifications, never aborts */
	setup(&rs, 3, 0);
	acq(&rs, A, 0, WE, K(A), 0, &o);
	tap_eq(resv_set_notify_mask(&rs, 1u << REGPRE | 1u << RESREL), S_OK, "mask REGPRE and RESREL");
	tap_eq(acq(&rs, B, 2, EA, K(B), K(A), &o), S_OK, "B preempts and aborts A, masked");
	tap_ok(o.nevents == 1 && ev_is(&o, A, 0, true), "A: abort without a notification; C: nothing");
	setup(&rs, 3, 0);
	resv_set_notify_mask(&rs, 1u << REGPRE);
	tap_eq(acq(&rs, A, 1, WE, K(A), K(C), &o), S_OK, "plain preempt, REGPRE masked");
	tap_eq(o.nevents, 0, "no event at all");
}

static void test_release(void)
{
	struct resv rs;
	struct resv_outcome o;
	uint8_t d[8] = { 0 };
	unsigned gen;

	setup(&rs, 3, 0);
	tap_eq(resv_release(&rs, host[A], 0, d, 7, &o), S_SHORT_DATA, "release: 7 data bytes");
	tap_eq(rel(&rs, D, 0, WE, 0, &o), S_CONFLICT, "release by a non-registrant");
	tap_eq(rel(&rs, A, 0, WE, K(B), &o), S_CONFLICT, "release with a wrong key");
	tap_eq(resv_release(&rs, host[A], 8, (put_le64(d, K(A)), d), 8, &o), S_INVALID_FIELD, "release with IEKEY");
	tap_eq(rel(&rs, A, 2, WE, K(A), &o), S_INVALID_FIELD, "RRELA 2");
	tap_eq(rel(&rs, A, 0, WE, K(A), &o), S_OK, "release without a reservation: no effect");
	for (unsigned t = WE; t <= EAAR; t++) {
		setup(&rs, 3, 0);
		acq(&rs, A, 0, t, K(A), 0, &o);
		gen = rs.gen;
		if (t != WEAR && t != EAAR) {
			tap_eq(rel(&rs, B, 0, t, K(B), &o), S_OK, "type %u: non-holder releases", t);
			tap_ok(rs.rtype == t && o.nevents == 0, "type %u: no effect", t);
		}
		tap_eq(rel(&rs, A, 0, t == WE ? EA : WE, K(A), &o), S_INVALID_FIELD, "type %u: holder, wrong RTYPE", t);
		tap_eq(rs.rtype, t, "type %u: kept", t);
		int by = t == WEAR || t == EAAR ? C : A; /* any registrant holds AR types */
		tap_eq(rel(&rs, by, 0, t, K(by), &o), S_OK, "type %u: holder %d releases", t, by);
		tap_ok(rs.rtype == 0 && rs.nregs == 3 && rs.gen == gen, "type %u: released, registrations and GEN kept", t);
		if (t == WE || t == EA)
			tap_eq(o.nevents, 0, "type %u: nobody told", t);
		else
			tap_ok(o.nevents == 2 && !ev(&o, by) && ev_is(&o, B, RESREL, false) &&
				       ev_is(&o, by == A ? C : A, RESREL, false), "type %u: the two others told", t);
	}
	/* clear */
	setup(&rs, 3, 0);
	acq(&rs, A, 0, WE, K(A), 0, &o);
	gen = rs.gen;
	tap_eq(rel(&rs, B, 1, 0, K(B), &o), S_OK, "registrant B clears (RTYPE ignored)");
	tap_ok(rs.nregs == 0 && rs.rtype == 0 && rs.gen == gen + 1, "everything gone, GEN + 1");
	tap_ok(o.nevents == 2 && ev_is(&o, A, RESPRE, false) && ev_is(&o, C, RESPRE, false),
	       "A and C: reservation preempted");
	tap_eq(rel(&rs, B, 1, 0, K(B), &o), S_CONFLICT, "clear by a host no longer registered");
}

static void test_report(void)
{
	struct resv rs;
	struct resv_outcome o;
	uint8_t buf[256];

	setup(&rs, 2, 0);
	reg(&rs, A, 2, false, 3, K(A), 0x1122334455667788ull, &o);
	acq(&rs, A, 0, WERO, 0x1122334455667788ull, 0, &o);
	tap_eq(resv_report_len(15), 64, "NUMD 15: 64 bytes");
	tap_eq(resv_report_len(0xffffffffu), 0x400000000ull, "NUMD max: 16 GiB, no overflow");
	tap_eq(resv_report(&rs, 0, buf, 64), S_HOSTID_FORMAT, "EDS 0: Host Identifier Inconsistent Format");
	memset(buf, 0xee, sizeof(buf));
	tap_eq(resv_report(&rs, 1, buf, sizeof(buf)), S_OK, "report, EDS 1");
	tap_eq(le32toh(*(uint32_t *)buf), rs.gen, "GEN at 0");
	tap_eq(buf[4], WERO, "RTYPE at 4");
	tap_ok(buf[5] == 2 && buf[6] == 0, "REGCTL 2 at 5 (le16)");
	tap_eq(buf[9], 1, "PTPLS at 9");
	bool zero = true;
	for (int i = 7; i < 64; i++)
		if (i != 9 && buf[i])
			zero = false;
	tap_ok(zero, "reserved header bytes zero");
	tap_ok(buf[64] == 0xff && buf[65] == 0xff, "entry 0: CNTLID FFFFh");
	tap_eq(buf[66], 1, "entry 0: RCSTS holder");
	tap_eq(get_le64(buf + 72), 0x1122334455667788ull, "entry 0: RKEY at 8");
	tap_ok(memcmp(buf + 80, host[A], 16) == 0, "entry 0: HOSTID at 16");
	tap_eq(buf[128 + 2], 0, "entry 1: B not a holder");
	tap_eq(get_le64(buf + 128 + 8), K(B), "entry 1: B's key");
	tap_ok(memcmp(buf + 128 + 16, host[B], 16) == 0, "entry 1: B's host id");
	zero = true;
	for (int i = 192; i < 256; i++)
		if (buf[i])
			zero = false;
	tap_ok(zero, "past the structure: zeros");

	memset(buf, 0xee, sizeof(buf));
	tap_eq(resv_report(&rs, 1, buf, 74), S_OK, "report into 74 bytes");
	tap_ok(buf[5] == 2 && buf[64] == 0xff && buf[66] == 1 && buf[72] == 0x88 && buf[73] == 0x77 && buf[74] == 0xee,
	       "REGCTL counts all, entry 0 cut at 10 bytes, nothing written past");
	tap_eq(resv_report(&rs, 1, buf, 4), S_OK, "report into 4 bytes");
	tap_eq(le32toh(*(uint32_t *)buf), rs.gen, "GEN only");

	setup(&rs, 2, 0);
	acq(&rs, B, 0, EAAR, K(B), 0, &o);
	resv_report(&rs, 1, buf, sizeof(buf));
	tap_ok(buf[4] == EAAR && buf[9] == 0 && buf[66] == 1 && buf[128 + 2] == 1,
	       "EAAR: every registrant reported as holder, PTPLS 0");
	resv_init(&rs, 3, false);
	resv_report(&rs, 1, buf, 64);
	tap_ok(buf[0] == 0 && buf[4] == 0 && buf[5] == 0, "empty state: GEN 0, no type, no registrants");
}

struct fan_call { uint16_t cntlid; uint8_t rnlpt; bool abort; };
struct fan_rec { unsigned n; struct fan_call c[8]; };

static void fan_cb(void *arg, uint16_t cntlid, uint8_t rnlpt, bool abort)
{
	struct fan_rec *r = arg;

	if (r->n < 8)
		r->c[r->n++] = (struct fan_call){ cntlid, rnlpt, abort };
}

static void test_fanout_and_log(void)
{
	struct resv rs;
	struct resv_outcome o;
	struct resv_ctrl ctrls[4];
	struct fan_rec rec = { 0 };
	struct resv_log log;
	uint8_t page[64];

	memcpy(ctrls[0].hostid, host[A], 16), ctrls[0].cntlid = 1;
	memcpy(ctrls[1].hostid, host[B], 16), ctrls[1].cntlid = 2;
	memcpy(ctrls[2].hostid, host[B], 16), ctrls[2].cntlid = 3;
	memcpy(ctrls[3].hostid, host[D], 16), ctrls[3].cntlid = 4;
	setup(&rs, 3, 0);
	acq(&rs, A, 0, WE, K(A), 0, &o);
	acq(&rs, C, 2, EA, K(C), K(A), &o); /* A preempted+aborted, B released */
	resv_fanout(&o, ctrls, 4, fan_cb, &rec);
	tap_eq(rec.n, 3, "three controllers touched (A's one, B's two; D not a registrant)");
	tap_ok(rec.c[0].cntlid == 1 && rec.c[0].rnlpt == REGPRE && rec.c[0].abort, "ctrl 1: preempted, abort");
	tap_ok(rec.c[1].cntlid == 2 && rec.c[1].rnlpt == RESREL && !rec.c[1].abort &&
		       rec.c[2].cntlid == 3 && rec.c[2].rnlpt == RESREL, "ctrls 2 and 3: released");

	resv_log_init(&log);
	resv_log_read(&log, page);
	bool zero = true;
	for (int i = 0; i < 64; i++)
		zero = zero && page[i] == 0;
	tap_ok(zero, "empty log: all zeros");
	resv_log_post(&log, REGPRE, 7);
	resv_log_post(&log, RESREL, 8);
	resv_log_post(&log, RESPRE, 9);
	tap_eq(resv_log_pending(&log), 3, "three pending");
	resv_log_read(&log, page);
	tap_ok(get_le64(page) == 1 && page[8] == REGPRE && page[9] == 2 && le32toh(*(uint32_t *)(page + 12)) == 7,
	       "first: LPC 1, registration preempted, NALP 2, NSID 7");
	resv_log_read(&log, page);
	tap_ok(get_le64(page) == 2 && page[8] == RESREL && page[9] == 1, "second: LPC 2, NALP 1");
	resv_log_read(&log, page);
	tap_ok(get_le64(page) == 3 && page[8] == RESPRE && page[9] == 0, "third: LPC 3, NALP 0");
	resv_log_read(&log, page);
	tap_ok(get_le64(page) == 0 && page[8] == 0, "then empty again");

	resv_log_init(&log);
	for (unsigned i = 0; i < RESV_LOG_CAP; i++)
		resv_log_post(&log, REGPRE, 1);
	tap_ok(!resv_log_post(&log, RESREL, 2) && !resv_log_post(&log, RESREL, 3), "full: two lost");
	unsigned n = 0;
	uint64_t last = 0;
	for (;;) {
		resv_log_read(&log, page);
		if (!get_le64(page))
			break;
		if (n == 0)
			tap_eq(page[9], RESV_LOG_CAP - 1, "NALP counts the rest");
		last = get_le64(page);
		n++;
	}
	tap_ok(n == RESV_LOG_CAP && last == RESV_LOG_CAP + 2,
	       "%u pages, the newest carries LPC %u: the host sees the gap", RESV_LOG_CAP, RESV_LOG_CAP + 2);
	log.counter = UINT64_MAX;
	resv_log_post(&log, RESPRE, 4);
	resv_log_read(&log, page);
	tap_eq(get_le64(page), 1, "LPC wraps to 1, never 0");

	tap_eq(resv_set_notify_mask(&rs, 1), S_INVALID_FIELD, "mask bit 0 reserved");
	tap_eq(resv_set_notify_mask(&rs, 1u << 4), S_INVALID_FIELD, "mask bit 4 reserved");
	tap_eq(resv_set_notify_mask(&rs, 0xe), S_OK, "mask all three");
	tap_eq(resv_get_notify_mask(&rs), 0xe, "read back");
}

int main(void)
{
	for (int h = 0; h < NHOSTS; h++)
		for (int i = 0; i < 16; i++)
			host[h][i] = (uint8_t)(0x10 * (h + 1) + i);
	test_table();
	test_classify();
	test_register();
	test_ptpl();
	test_unregister_holder();
	test_acquire();
	test_preempt();
	test_release();
	test_report();
	test_fanout_and_log();
	return tap_done();
}
