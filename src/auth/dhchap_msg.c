/* SPDX-License-Identifier: MIT */
/* DH-HMAC-CHAP message encoders and strict decoders (layouts in dhchap_msg.h). */
#include <errno.h>
#include <string.h>

#include "dhchap_msg.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void msg_hdr(uint8_t *p, uint8_t type, uint8_t id, uint16_t tid)
{
	p[0] = type;
	p[1] = id;
	p[2] = p[3] = 0;
	put16(p + 4, tid);
}

static bool msg_hl_ok(uint8_t hl)
{
	return hl == 32 || hl == 48 || hl == 64;
}

/* The message is of the expected kind (INCORRECT_MESSAGE otherwise). */
static int msg_expect(const uint8_t *p, size_t len, uint8_t type, uint8_t id)
{
	if (len < 6)
		return DHCHAP_FAIL_INCORRECT_PAYLOAD;
	if (p[0] != type || p[1] != id)
		return DHCHAP_FAIL_INCORRECT_MESSAGE;
	return 0;
}

/* The start of the messages that carry a hash length (Challenge, Reply, Success1). */
static int msg_encode_start(uint8_t *p, size_t cap, size_t len, uint8_t id, uint16_t tid, uint8_t hl)
{
	if (!msg_hl_ok(hl))
		return -EINVAL;
	if (cap < len)
		return -ENOSPC;
	memset(p, 0, DHCHAP_MSG_HDR_LEN);
	msg_hdr(p, DHCHAP_TYPE_DHCHAP, id, tid);
	p[6] = hl;
	return 0;
}

static int msg_decode_start(const uint8_t *p, size_t len, uint8_t id, uint16_t *tid, uint8_t *hl)
{
	int r = msg_expect(p, len, DHCHAP_TYPE_DHCHAP, id);

	if (r)
		return r;
	*tid = get16(p + 4);
	if (len < DHCHAP_MSG_HDR_LEN)
		return DHCHAP_FAIL_INCORRECT_PAYLOAD;
	*hl = p[6];
	return 0;
}

int dhchap_msg_peek(const void *buf, size_t len, uint8_t *type, uint8_t *id, uint16_t *tid)
{
	const uint8_t *p = buf;

	if (len < 6)
		return DHCHAP_FAIL_INCORRECT_PAYLOAD;
	*type = p[0];
	*id = p[1];
	*tid = get16(p + 4);
	return 0;
}

int dhchap_negotiate_encode(const struct dhchap_negotiate *m, void *buf, size_t cap)
{
	uint8_t *p = buf, *d = p + 8;

	if (m->halen > DHCHAP_NEG_IDS_MAX || m->dhlen > DHCHAP_NEG_IDS_MAX)
		return -EINVAL;
	if (cap < 8 + DHCHAP_NEG_DESC_LEN)
		return -ENOSPC;
	memset(p, 0, 8 + DHCHAP_NEG_DESC_LEN);
	msg_hdr(p, DHCHAP_TYPE_COMMON, DHCHAP_ID_NEGOTIATE, m->tid);
	p[6] = m->sc_c;
	p[7] = 1;
	d[0] = DHCHAP_AUTHID;
	d[2] = m->halen;
	d[3] = m->dhlen;
	memcpy(d + 4, m->hash_ids, m->halen);
	memcpy(d + 34, m->dh_ids, m->dhlen);
	return 8 + DHCHAP_NEG_DESC_LEN;
}

int dhchap_negotiate_decode(const void *buf, size_t len, struct dhchap_negotiate *m)
{
	const uint8_t *p = buf, *d = NULL;
	int r = msg_expect(p, len, DHCHAP_TYPE_COMMON, DHCHAP_ID_NEGOTIATE);

	memset(m, 0, sizeof(*m));
	if (r)
		return r;
	m->tid = get16(p + 4);
	if (len < 8 || len != 8 + (size_t)p[7] * DHCHAP_NEG_DESC_LEN)
		return DHCHAP_FAIL_INCORRECT_PAYLOAD;
	m->sc_c = p[6];
	for (unsigned i = 0; i < p[7] && !d; i++)
		if (p[8 + i * DHCHAP_NEG_DESC_LEN] == DHCHAP_AUTHID)
			d = p + 8 + i * DHCHAP_NEG_DESC_LEN;
	if (!d)
		return DHCHAP_FAIL_PROTOCOL_UNUSABLE;
	if (d[2] > DHCHAP_NEG_IDS_MAX || d[3] > DHCHAP_NEG_IDS_MAX)
		return DHCHAP_FAIL_INCORRECT_PAYLOAD;
	m->halen = d[2];
	m->dhlen = d[3];
	memcpy(m->hash_ids, d + 4, m->halen);
	memcpy(m->dh_ids, d + 34, m->dhlen);
	return 0;
}

int dhchap_challenge_encode(const struct dhchap_challenge *m, void *buf, size_t cap)
{
	size_t len = DHCHAP_MSG_HDR_LEN + (size_t)m->hl + m->dhvlen;
	uint8_t *p = buf;
	int r = msg_encode_start(p, cap, len, DHCHAP_ID_CHALLENGE, m->tid, m->hl);

	if (r)
		return r;
	p[8] = m->hash_id;
	p[9] = m->dh_id;
	put16(p + 10, m->dhvlen);
	put32(p + 12, m->seq);
	memcpy(p + 16, m->c1, m->hl);
	if (m->dhvlen)
		memcpy(p + 16 + m->hl, m->dhv, m->dhvlen);
	return (int)len;
}

int dhchap_challenge_decode(const void *buf, size_t len, struct dhchap_challenge *m)
{
	const uint8_t *p = buf;
	int r;

	memset(m, 0, sizeof(*m));
	r = msg_decode_start(p, len, DHCHAP_ID_CHALLENGE, &m->tid, &m->hl);
	if (r)
		return r;
	m->hash_id = p[8];
	m->dh_id = p[9];
	m->dhvlen = get16(p + 10);
	m->seq = get32(p + 12);
	if (!dhchap_hash_len(m->hash_id) || dhchap_hash_len(m->hash_id) != m->hl)
		return DHCHAP_FAIL_HASH_UNUSABLE;
	if (dhchap_dh_len(m->dh_id) < 0)
		return DHCHAP_FAIL_DHGROUP_UNUSABLE;
	if (m->dhvlen != dhchap_dh_len(m->dh_id) || len < DHCHAP_MSG_HDR_LEN + (size_t)m->hl + m->dhvlen)
		return DHCHAP_FAIL_INCORRECT_PAYLOAD;
	m->c1 = p + 16;
	m->dhv = m->dhvlen ? p + 16 + m->hl : NULL;
	return 0;
}

int dhchap_reply_encode(const struct dhchap_reply *m, void *buf, size_t cap)
{
	size_t len = DHCHAP_MSG_HDR_LEN + 2 * (size_t)m->hl + m->dhvlen;
	uint8_t *p = buf;
	int r = msg_encode_start(p, cap, len, DHCHAP_ID_REPLY, m->tid, m->hl);

	if (r)
		return r;
	p[8] = m->cvalid;
	put16(p + 10, m->dhvlen);
	put32(p + 12, m->seq);
	memcpy(p + 16, m->r1, m->hl);
	if (m->cvalid)
		memcpy(p + 16 + m->hl, m->c2, m->hl);
	else
		memset(p + 16 + m->hl, 0, m->hl); /* C2 is always present */
	if (m->dhvlen)
		memcpy(p + 16 + 2 * m->hl, m->dhv, m->dhvlen);
	return (int)len;
}

int dhchap_reply_decode(const void *buf, size_t len, struct dhchap_reply *m)
{
	const uint8_t *p = buf;
	int r;

	memset(m, 0, sizeof(*m));
	r = msg_decode_start(p, len, DHCHAP_ID_REPLY, &m->tid, &m->hl);
	if (r)
		return r;
	m->cvalid = p[8];
	m->dhvlen = get16(p + 10);
	m->seq = get32(p + 12);
	if (!msg_hl_ok(m->hl) || len != DHCHAP_MSG_HDR_LEN + 2 * (size_t)m->hl + m->dhvlen)
		return DHCHAP_FAIL_INCORRECT_PAYLOAD;
	if (m->cvalid > 1 || (m->cvalid == 1) != (m->seq != 0))
		return DHCHAP_FAIL_INCORRECT_PAYLOAD;
	m->r1 = p + 16;
	m->c2 = p + 16 + m->hl;
	m->dhv = m->dhvlen ? p + 16 + 2 * m->hl : NULL;
	return 0;
}

int dhchap_success1_encode(const struct dhchap_success1 *m, void *buf, size_t cap)
{
	size_t len = DHCHAP_MSG_HDR_LEN + (m->rvalid ? m->hl : 0);
	uint8_t *p = buf;
	int r = msg_encode_start(p, cap, len, DHCHAP_ID_SUCCESS1, m->tid, m->hl);

	if (r)
		return r;
	/* HL is set even without R2: the Linux host checks it */
	p[8] = m->rvalid;
	if (m->rvalid)
		memcpy(p + 16, m->r2, m->hl);
	return (int)len;
}

int dhchap_success1_decode(const void *buf, size_t len, struct dhchap_success1 *m)
{
	const uint8_t *p = buf;
	int r;

	memset(m, 0, sizeof(*m));
	r = msg_decode_start(p, len, DHCHAP_ID_SUCCESS1, &m->tid, &m->hl);
	if (r)
		return r;
	m->rvalid = p[8];
	if (!msg_hl_ok(m->hl) || m->rvalid > 1 || (m->rvalid && len < DHCHAP_MSG_HDR_LEN + (size_t)m->hl))
		return DHCHAP_FAIL_INCORRECT_PAYLOAD;
	m->r2 = m->rvalid ? p + 16 : NULL;
	return 0;
}

int dhchap_success2_encode(uint16_t tid, void *buf, size_t cap)
{
	if (cap < DHCHAP_MSG_HDR_LEN)
		return -ENOSPC;
	memset(buf, 0, DHCHAP_MSG_HDR_LEN);
	msg_hdr(buf, DHCHAP_TYPE_DHCHAP, DHCHAP_ID_SUCCESS2, tid);
	return DHCHAP_MSG_HDR_LEN;
}

int dhchap_success2_decode(const void *buf, size_t len, uint16_t *tid)
{
	const uint8_t *p = buf;
	int r = msg_expect(p, len, DHCHAP_TYPE_DHCHAP, DHCHAP_ID_SUCCESS2);

	if (r)
		return r;
	*tid = get16(p + 4);
	return len == DHCHAP_MSG_HDR_LEN ? 0 : DHCHAP_FAIL_INCORRECT_PAYLOAD;
}

int dhchap_failure_encode(uint8_t id, const struct dhchap_failure *m, void *buf, size_t cap)
{
	uint8_t *p = buf;

	if (id != DHCHAP_ID_FAILURE1 && id != DHCHAP_ID_FAILURE2)
		return -EINVAL;
	if (cap < DHCHAP_FAILURE_LEN)
		return -ENOSPC;
	msg_hdr(p, DHCHAP_TYPE_COMMON, id, m->tid);
	p[6] = m->rc;
	p[7] = m->rce;
	return DHCHAP_FAILURE_LEN;
}

int dhchap_failure_decode(uint8_t id, const void *buf, size_t len, struct dhchap_failure *m)
{
	const uint8_t *p = buf;
	int r = msg_expect(p, len, DHCHAP_TYPE_COMMON, id);

	memset(m, 0, sizeof(*m));
	if (r)
		return r;
	m->tid = get16(p + 4);
	if (len < DHCHAP_FAILURE_LEN || (id == DHCHAP_ID_FAILURE2 && len != DHCHAP_FAILURE_LEN))
		return DHCHAP_FAIL_INCORRECT_PAYLOAD;
	m->rc = p[6];
	m->rce = p[7];
	return 0;
}
