/* SPDX-License-Identifier: MIT */
/* DH-HMAC-CHAP message codecs: exact bytes, round trips, and the reason code each malformed
 * message gets (truncated, oversized, wrong type/id, HL/DHVLEN disagreeing with the length). */
#include <errno.h>
#include <string.h>

#include "auth/dhchap_msg.h"
#include "tap.h"

static uint8_t buf[2048];

static void test_negotiate(void)
{
	struct dhchap_negotiate m = { .tid = 0x1234, .halen = 3, .hash_ids = { 1, 2, 3 }, .dhlen = 6,
				      .dh_ids = { 0, 1, 2, 3, 4, 5 } }, d;
	int n = dhchap_negotiate_encode(&m, buf, sizeof(buf));

	tap_eq(n, 72, "Negotiate: 72 bytes");
	tap_ok(buf[0] == 0 && buf[1] == 0 && buf[4] == 0x34 && buf[5] == 0x12 && buf[6] == 0 && buf[7] == 1,
	       "Negotiate header: type 0 id 0, T_ID LE, SC_C 0, NAPD 1");
	tap_ok(buf[8] == 1 && buf[10] == 3 && buf[11] == 6 && buf[12] == 1 && buf[14] == 3 && buf[42] == 0 &&
		       buf[47] == 5,
	       "descriptor: AUTHID 1, HALEN 3, DHLEN 6, hashes at +4, groups at +34");
	tap_eq(dhchap_negotiate_decode(buf, 72, &d), 0, "decodes");
	tap_ok(d.tid == 0x1234 && d.halen == 3 && d.dhlen == 6 && d.hash_ids[2] == 3 && d.dh_ids[5] == 5, "round trip");
	tap_eq(dhchap_negotiate_decode(buf, 71, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "truncated: payload");
	tap_eq(dhchap_negotiate_decode(buf, 73, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "oversized: payload");
	tap_eq(dhchap_negotiate_decode(buf, 5, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "5 bytes: payload");
	tap_eq(dhchap_negotiate_encode(&m, buf + 100, 71), -ENOSPC, "encode: no room");
	buf[7] = 2;
	memcpy(buf + 72, buf + 8, 64);
	buf[8] = 0x77; /* first descriptor of another protocol, second ours */
	tap_eq(dhchap_negotiate_decode(buf, 136, &d), 0, "NAPD 2: finds the DH-HMAC-CHAP descriptor");
	buf[72] = 0x77;
	tap_eq(dhchap_negotiate_decode(buf, 136, &d), DHCHAP_FAIL_PROTOCOL_UNUSABLE, "no AUTHID 1: protocol unusable");
	buf[7] = 0;
	tap_eq(dhchap_negotiate_decode(buf, 8, &d), DHCHAP_FAIL_PROTOCOL_UNUSABLE, "NAPD 0: protocol unusable");
	dhchap_negotiate_encode(&m, buf, sizeof(buf));
	buf[10] = 31;
	tap_eq(dhchap_negotiate_decode(buf, 72, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "HALEN 31: payload");
	buf[10] = 3;
	buf[11] = 200;
	tap_eq(dhchap_negotiate_decode(buf, 72, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "DHLEN 200: payload");
	buf[11] = 6;
	buf[1] = 0xF0;
	tap_eq(dhchap_negotiate_decode(buf, 72, &d), DHCHAP_FAIL_INCORRECT_MESSAGE, "wrong id: incorrect message");
	buf[1] = 0;
	buf[0] = 1;
	tap_eq(dhchap_negotiate_decode(buf, 72, &d), DHCHAP_FAIL_INCORRECT_MESSAGE, "wrong type: incorrect message");
	m.halen = 31;
	tap_eq(dhchap_negotiate_encode(&m, buf, sizeof(buf)), -EINVAL, "encode: HALEN 31 refused");
}

static void test_challenge(void)
{
	uint8_t c1[48], dhv[256];
	struct dhchap_challenge m = { .tid = 7, .hl = 48, .hash_id = 2, .dh_id = 1, .dhvlen = 256, .seq = 0xa1b2c3d4,
				      .c1 = c1, .dhv = dhv }, d;
	int n;

	memset(c1, 0xc1, sizeof(c1));
	memset(dhv, 0xd4, sizeof(dhv));
	n = dhchap_challenge_encode(&m, buf, sizeof(buf));
	tap_eq(n, 16 + 48 + 256, "Challenge: 16 + HL + DHVLEN");
	tap_ok(buf[0] == 1 && buf[1] == 1 && buf[4] == 7 && buf[6] == 48 && buf[8] == 2 && buf[9] == 1 &&
		       buf[10] == 0 && buf[11] == 1 && buf[12] == 0xd4 && buf[15] == 0xa1 && buf[16] == 0xc1 &&
		       buf[63] == 0xc1 && buf[64] == 0xd4,
	       "Challenge bytes at their offsets");
	tap_eq(dhchap_challenge_decode(buf, (size_t)n, &d), 0, "decodes");
	tap_ok(d.seq == 0xa1b2c3d4 && d.c1 == buf + 16 && d.dhv == buf + 64 && d.dhvlen == 256, "round trip");
	tap_eq(dhchap_challenge_decode(buf, 4096, &d), 0, "padding to AL is accepted");
	tap_eq(dhchap_challenge_decode(buf, (size_t)n - 1, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "truncated: payload");
	tap_eq(dhchap_challenge_decode(buf, 15, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "15 bytes: payload");
	buf[10] = 0;
	buf[11] = 2; /* DHVLEN 512 for ffdhe2048 */
	tap_eq(dhchap_challenge_decode(buf, 4096, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "DHVLEN not the group's size");
	buf[11] = 1;
	buf[6] = 32;
	tap_eq(dhchap_challenge_decode(buf, 4096, &d), DHCHAP_FAIL_HASH_UNUSABLE, "HL not the hash's length");
	buf[6] = 48;
	buf[8] = 9;
	tap_eq(dhchap_challenge_decode(buf, 4096, &d), DHCHAP_FAIL_HASH_UNUSABLE, "unknown hash");
	buf[8] = 2;
	buf[9] = 6;
	tap_eq(dhchap_challenge_decode(buf, 4096, &d), DHCHAP_FAIL_DHGROUP_UNUSABLE, "unknown group");
	buf[9] = 0; /* NULL group with a DH value */
	tap_eq(dhchap_challenge_decode(buf, 4096, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "NULL group, DHVLEN 256");
	buf[10] = buf[11] = 0;
	tap_eq(dhchap_challenge_decode(buf, 64, &d), 0, "NULL group, DHVLEN 0");
	tap_ok(d.dhv == NULL, "no DH value");
	buf[1] = 2;
	tap_eq(dhchap_challenge_decode(buf, 64, &d), DHCHAP_FAIL_INCORRECT_MESSAGE, "a Reply is not a Challenge");
	m.hl = 33;
	tap_eq(dhchap_challenge_encode(&m, buf, sizeof(buf)), -EINVAL, "encode: HL 33 refused");
}

static void test_reply(void)
{
	uint8_t r1[32], c2[32], dhv[384];
	struct dhchap_reply m = { .tid = 9, .hl = 32, .cvalid = 1, .dhvlen = 384, .seq = 5, .r1 = r1, .c2 = c2,
				  .dhv = dhv }, d;
	int n;

	memset(r1, 0x71, 32);
	memset(c2, 0xc2, 32);
	memset(dhv, 0xdd, sizeof(dhv));
	n = dhchap_reply_encode(&m, buf, sizeof(buf));
	tap_eq(n, 16 + 64 + 384, "Reply: 16 + 2 HL + DHVLEN");
	tap_ok(buf[0] == 1 && buf[1] == 2 && buf[6] == 32 && buf[8] == 1 && buf[10] == 0x80 && buf[11] == 1 &&
		       buf[12] == 5 && buf[16] == 0x71 && buf[48] == 0xc2 && buf[80] == 0xdd,
	       "Reply bytes at their offsets");
	tap_eq(dhchap_reply_decode(buf, (size_t)n, &d), 0, "decodes");
	tap_ok(d.r1 == buf + 16 && d.c2 == buf + 48 && d.dhv == buf + 80 && d.seq == 5, "round trip");
	tap_eq(dhchap_reply_decode(buf, (size_t)n - 1, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "truncated");
	tap_eq(dhchap_reply_decode(buf, (size_t)n + 1, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "oversized");
	buf[10] = 0x7f; /* DHVLEN 383 disagrees with the length */
	tap_eq(dhchap_reply_decode(buf, (size_t)n, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "DHVLEN disagrees with length");
	buf[10] = 0x80;
	buf[6] = 48;
	tap_eq(dhchap_reply_decode(buf, (size_t)n, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "HL disagrees with length");
	buf[6] = 31;
	tap_eq(dhchap_reply_decode(buf, (size_t)n, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "HL 31");
	buf[6] = 32;
	buf[8] = 2;
	tap_eq(dhchap_reply_decode(buf, (size_t)n, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "CVALID 2");
	buf[8] = 1;
	memset(buf + 12, 0, 4);
	tap_eq(dhchap_reply_decode(buf, (size_t)n, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "CVALID 1 with SEQNUM 0");
	buf[8] = 0;
	tap_eq(dhchap_reply_decode(buf, (size_t)n, &d), 0, "CVALID 0 with SEQNUM 0");
	buf[12] = 3;
	tap_eq(dhchap_reply_decode(buf, (size_t)n, &d), DHCHAP_FAIL_INCORRECT_PAYLOAD, "CVALID 0 with SEQNUM 3");
	m.cvalid = 0;
	m.seq = 0;
	dhchap_reply_encode(&m, buf, sizeof(buf));
	tap_ok(buf[48] == 0 && buf[79] == 0, "C2 written as zeros without CVALID");
	tap_eq(dhchap_reply_encode(&m, buf, 100), -ENOSPC, "encode: no room");
}

static void test_small(void)
{
	uint8_t r2[64];
	struct dhchap_success1 s = { .tid = 3, .hl = 64, .rvalid = 1, .r2 = r2 }, sd;
	struct dhchap_failure f = { .tid = 0xbeef, .rc = 1, .rce = 6 }, fd;
	uint16_t tid;
	uint8_t type, id;

	memset(r2, 0x2f, sizeof(r2));
	tap_eq(dhchap_success1_encode(&s, buf, sizeof(buf)), 80, "Success1 with R2: 80 bytes");
	tap_ok(buf[1] == 3 && buf[6] == 64 && buf[8] == 1 && buf[16] == 0x2f && buf[79] == 0x2f, "Success1 bytes");
	tap_eq(dhchap_success1_decode(buf, 80, &sd), 0, "Success1 decodes");
	tap_ok(sd.r2 == buf + 16 && sd.hl == 64, "Success1 round trip");
	tap_eq(dhchap_success1_decode(buf, 79, &sd), DHCHAP_FAIL_INCORRECT_PAYLOAD, "Success1 truncated R2");
	s.rvalid = 0;
	tap_eq(dhchap_success1_encode(&s, buf, sizeof(buf)), 16, "Success1 without R2: 16 bytes");
	tap_eq(buf[6], 64, "HL set without R2 (the Linux host checks it)");
	tap_eq(dhchap_success1_decode(buf, 16, &sd), 0, "Success1 without R2 decodes");
	tap_ok(sd.r2 == NULL, "no R2");
	buf[8] = 5;
	tap_eq(dhchap_success1_decode(buf, 16, &sd), DHCHAP_FAIL_INCORRECT_PAYLOAD, "RVALID 5");

	tap_eq(dhchap_success2_encode(0x4242, buf, sizeof(buf)), 16, "Success2: 16 bytes");
	tap_ok(buf[0] == 1 && buf[1] == 4 && buf[4] == 0x42, "Success2 bytes");
	tap_eq(dhchap_success2_decode(buf, 16, &tid), 0, "Success2 decodes");
	tap_eq(tid, 0x4242, "Success2 T_ID");
	tap_eq(dhchap_success2_decode(buf, 17, &tid), DHCHAP_FAIL_INCORRECT_PAYLOAD, "Success2 oversized");
	tap_eq(dhchap_success2_decode(buf, 15, &tid), DHCHAP_FAIL_INCORRECT_PAYLOAD, "Success2 truncated");

	tap_eq(dhchap_failure_encode(DHCHAP_ID_FAILURE2, &f, buf, sizeof(buf)), 8, "Failure2: 8 bytes");
	tap_ok(buf[0] == 0 && buf[1] == 0xF0 && buf[4] == 0xef && buf[5] == 0xbe && buf[6] == 1 && buf[7] == 6,
	       "Failure2 bytes");
	tap_eq(dhchap_failure_decode(DHCHAP_ID_FAILURE2, buf, 8, &fd), 0, "Failure2 decodes");
	tap_ok(fd.rce == 6 && fd.tid == 0xbeef, "Failure2 round trip");
	tap_eq(dhchap_failure_decode(DHCHAP_ID_FAILURE2, buf, 9, &fd), DHCHAP_FAIL_INCORRECT_PAYLOAD,
	       "Failure2 oversized");
	tap_eq(dhchap_failure_decode(DHCHAP_ID_FAILURE1, buf, 8, &fd), DHCHAP_FAIL_INCORRECT_MESSAGE,
	       "a Failure2 is not a Failure1");
	tap_eq(dhchap_failure_encode(DHCHAP_ID_FAILURE1, &f, buf, sizeof(buf)), 8, "Failure1: 8 bytes");
	tap_eq(dhchap_failure_decode(DHCHAP_ID_FAILURE1, buf, 4096, &fd), 0, "Failure1 padded to AL decodes");
	tap_eq(dhchap_failure_decode(DHCHAP_ID_FAILURE1, buf, 7, &fd), DHCHAP_FAIL_INCORRECT_PAYLOAD,
	       "Failure1 truncated");
	tap_eq(dhchap_failure_encode(0x33, &f, buf, sizeof(buf)), -EINVAL, "no failure with id 0x33");
	tap_eq(dhchap_msg_peek(buf, 8, &type, &id, &tid), 0, "peek");
	tap_ok(type == 0 && id == 0xF1 && tid == 0xbeef, "peek fields");
	tap_eq(dhchap_msg_peek(buf, 5, &type, &id, &tid), DHCHAP_FAIL_INCORRECT_PAYLOAD, "peek: too short");
}

int main(void)
{
	test_negotiate();
	test_challenge();
	test_reply();
	test_small();
	return tap_done();
}
