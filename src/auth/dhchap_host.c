/* SPDX-License-Identifier: MIT */
/* Host-side DH-HMAC-CHAP session: Negotiate, Challenge -> Reply, Success1 -> [Success2 | Failure2]. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dhchap_crypto.h"
#include "dhchap_host.h"
#include "dhchap_msg.h"

#define HOST_NQN_MAX 256

enum host_step {
	HSTEP_NEGOTIATE, /* send */
	HSTEP_CHALLENGE, /* receive */
	HSTEP_REPLY,	 /* send */
	HSTEP_SUCCESS1,	 /* receive */
	HSTEP_SUCCESS2,	 /* send */
	HSTEP_FAILURE2,	 /* send */
	HSTEP_DONE,
	HSTEP_FAILED,
};

struct dhchap_host {
	char hostnqn[HOST_NQN_MAX], subnqn[HOST_NQN_MAX];
	uint8_t kh[DHCHAP_HASH_MAX_LEN], kc[DHCHAP_HASH_MAX_LEN];
	size_t kh_len, kc_len; /* kc_len 0: unidirectional */
	uint8_t hashes, dhgroups;
	uint16_t tid;
	enum host_step step;
	int result;
	uint8_t reason;
	char err[200];

	uint8_t hash, dh, hl;
	uint32_t s2;
	uint8_t r1[DHCHAP_HASH_MAX_LEN], c2[DHCHAP_HASH_MAX_LEN], r2[DHCHAP_HASH_MAX_LEN];
	uint16_t dhvlen;
	uint8_t pub[DHCHAP_DH_MAX_LEN];
};

static bool host_copy_nqn(char *dst, const char *src)
{
	size_t n = src ? strnlen(src, HOST_NQN_MAX) : 0;

	if (!n || n == HOST_NQN_MAX)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

struct dhchap_host *dhchap_host_new(const struct dhchap_host_cfg *cfg)
{
	struct dhchap_host *h;

	if (!cfg || !cfg->host_key) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	if (!host_copy_nqn(h->hostnqn, cfg->hostnqn) || !host_copy_nqn(h->subnqn, cfg->subnqn) ||
	    dhchap_transform(cfg->host_key, h->hostnqn, h->kh, &h->kh_len) ||
	    (cfg->ctrl_key && dhchap_transform(cfg->ctrl_key, h->subnqn, h->kc, &h->kc_len))) {
		dhchap_host_free(h);
		errno = EINVAL;
		return NULL;
	}
	h->hashes = cfg->hashes ? cfg->hashes : DHCHAP_HASHES_ALL;
	h->dhgroups = cfg->dhgroups ? cfg->dhgroups : DHCHAP_DHGROUPS_ALL;
	h->tid = cfg->tid;
	h->step = HSTEP_NEGOTIATE;
	return h;
}

void dhchap_host_free(struct dhchap_host *h)
{
	if (!h)
		return;
	OPENSSL_cleanse(h, sizeof(*h));
	free(h);
}

__attribute__((format(printf, 4, 5))) static void host_fail(struct dhchap_host *h, int result, uint8_t reason,
							     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	h->result = result;
	h->reason = reason;
	OPENSSL_cleanse(h->r2, sizeof(h->r2));
}

/* A fault on the controller's side that we answer with AUTH_Failure2. */
#define host_fail2(h, result, reason, ...)                      \
	do {                                                    \
		host_fail(h, result, reason, __VA_ARGS__);      \
		(h)->step = HSTEP_FAILURE2;                     \
	} while (0)

int dhchap_host_next(struct dhchap_host *h, void *buf, size_t cap, size_t *len)
{
	int n;

	switch (h->step) {
	case HSTEP_NEGOTIATE: {
		struct dhchap_negotiate m = { .tid = h->tid };

		for (uint8_t id = DHCHAP_HASH_SHA256; id <= DHCHAP_HASH_SHA512; id++)
			if (h->hashes & (1u << id))
				m.hash_ids[m.halen++] = id;
		for (uint8_t id = DHCHAP_DH_NULL; id <= DHCHAP_DH_FFDHE8192; id++)
			if (h->dhgroups & (1u << id))
				m.dh_ids[m.dhlen++] = id;
		n = dhchap_negotiate_encode(&m, buf, cap);
		if (n > 0)
			h->step = HSTEP_CHALLENGE;
		break;
	}
	case HSTEP_REPLY: {
		struct dhchap_reply m = { .tid = h->tid, .hl = h->hl, .cvalid = h->kc_len ? 1 : 0, .dhvlen = h->dhvlen,
					  .seq = h->s2, .r1 = h->r1, .c2 = h->c2, .dhv = h->pub };

		n = dhchap_reply_encode(&m, buf, cap);
		if (n > 0)
			h->step = HSTEP_SUCCESS1;
		break;
	}
	case HSTEP_SUCCESS2:
		n = dhchap_success2_encode(h->tid, buf, cap);
		if (n > 0)
			h->step = HSTEP_DONE;
		break;
	case HSTEP_FAILURE2: {
		struct dhchap_failure f = { .tid = h->tid, .rc = DHCHAP_RC_FAILURE, .rce = h->reason };

		n = dhchap_failure_encode(DHCHAP_ID_FAILURE2, &f, buf, cap);
		if (n > 0)
			h->step = HSTEP_FAILED;
		break;
	}
	default:
		return -EINVAL;
	}
	if (n < 0)
		return n;
	*len = (size_t)n;
	return 0;
}

/* The controller's AUTH_Failure1 instead of the expected message: true if it was one. */
static bool host_failure1(struct dhchap_host *h, const void *msg, size_t len)
{
	struct dhchap_failure f;

	if (dhchap_failure_decode(DHCHAP_ID_FAILURE1, msg, len, &f))
		return false;
	host_fail(h, -EACCES, f.rce, "the controller refused authentication: AUTH_Failure1, %s (reason %u)%s%s",
		  dhchap_fail_str(f.rce), f.rce,
		  f.rce == DHCHAP_FAIL_FAILED ? ": wrong host key (--dhchap-secret) or host NQN" : "",
		  f.rce == DHCHAP_FAIL_FAILED && h->kc_len ? ", or the controller has no key to prove itself with" : "");
	h->step = HSTEP_FAILED;
	return true;
}

/* Ks from the controller's value, our value into h->pub; then R1 and (bidirectional) R2. */
static void host_answer(struct dhchap_host *h, const struct dhchap_challenge *m)
{
	uint8_t ks[DHCHAP_DH_MAX_LEN], ca1[DHCHAP_HASH_MAX_LEN], ca2[DHCHAP_HASH_MAX_LEN];
	const uint8_t *ch1 = m->c1, *ch2 = h->c2;
	struct dhchap_dh *dh = NULL;
	size_t glen = m->dhvlen;
	int ret = 0;

	h->dhvlen = m->dhvlen;
	if (h->kc_len) {
		do {
			ret = dhchap_random(&h->s2, sizeof(h->s2));
		} while (!ret && !h->s2);
		ret = ret ? ret : dhchap_random(h->c2, h->hl);
	}
	if (!ret && m->dh_id != DHCHAP_DH_NULL) {
		ret = dhchap_dh_generate(m->dh_id, &dh);
		ret = ret ? ret : dhchap_dh_public(dh, h->pub, glen);
		ret = ret ? ret : dhchap_dh_derive(dh, m->dhv, glen, ks, glen);
		if (ret == -EBADMSG) {
			host_fail2(h, -EPROTO, DHCHAP_FAIL_DHGROUP_UNUSABLE,
				   "the controller's DH public value is out of range");
			goto out;
		}
		ret = ret ? ret : dhchap_augment(m->hash_id, ks, glen, m->c1, ca1);
		ret = ret || !h->kc_len ? ret : dhchap_augment(m->hash_id, ks, glen, h->c2, ca2);
		ch1 = ca1;
		ch2 = ca2;
	}
	ret = ret ? ret
		  : dhchap_host_response(h->hash, h->kh, h->kh_len, ch1, m->seq, h->tid, 0, h->hostnqn, h->subnqn,
					 h->r1);
	if (!ret && h->kc_len)
		ret = dhchap_ctrl_response(h->hash, h->kc, h->kc_len, ch2, h->s2, h->tid, 0, h->hostnqn, h->subnqn,
					   h->r2);
	if (ret)
		host_fail2(h, -EIO, DHCHAP_FAIL_FAILED, "local crypto failure (%s)", strerror(-ret));
	else
		h->step = HSTEP_REPLY;
out:
	dhchap_dh_free(dh);
	OPENSSL_cleanse(ks, sizeof(ks));
	OPENSSL_cleanse(ca1, sizeof(ca1));
	OPENSSL_cleanse(ca2, sizeof(ca2));
}

static void host_challenge(struct dhchap_host *h, const void *msg, size_t len)
{
	struct dhchap_challenge m;
	int r;

	if (host_failure1(h, msg, len))
		return;
	r = dhchap_challenge_decode(msg, len, &m);
	if (!r && m.tid != h->tid)
		r = DHCHAP_FAIL_INCORRECT_PAYLOAD;
	if (!r && !(h->hashes & (1u << m.hash_id)))
		r = DHCHAP_FAIL_HASH_UNUSABLE;
	if (!r && !(h->dhgroups & (1u << m.dh_id)))
		r = DHCHAP_FAIL_DHGROUP_UNUSABLE;
	if (r) {
		host_fail2(h, -EPROTO, (uint8_t)r, "bad DH-HMAC-CHAP_Challenge from the controller: %s",
			   dhchap_fail_str((uint8_t)r));
		return;
	}
	h->hash = m.hash_id;
	h->dh = m.dh_id;
	h->hl = m.hl;
	host_answer(h, &m);
}

static void host_success1(struct dhchap_host *h, const void *msg, size_t len)
{
	struct dhchap_success1 m;
	int r;

	if (host_failure1(h, msg, len))
		return;
	r = dhchap_success1_decode(msg, len, &m);
	if (!r && m.tid != h->tid)
		r = DHCHAP_FAIL_INCORRECT_PAYLOAD;
	if (!r && m.hl != h->hl)
		r = DHCHAP_FAIL_HASH_UNUSABLE;
	if (r) {
		host_fail2(h, -EPROTO, (uint8_t)r, "bad DH-HMAC-CHAP_Success1 from the controller: %s",
			   dhchap_fail_str((uint8_t)r));
		return;
	}
	if (!h->kc_len) {
		h->step = HSTEP_DONE;
		return;
	}
	if (!m.rvalid) {
		host_fail2(h, -EKEYREJECTED, DHCHAP_FAIL_FAILED,
			   "the controller did not authenticate itself (Success1 without R2); sent AUTH_Failure2");
		return;
	}
	if (dhchap_memcmp(m.r2, h->r2, h->hl)) {
		host_fail2(h, -EKEYREJECTED, DHCHAP_FAIL_FAILED,
			   "the controller's response R2 did not verify: wrong controller key "
			   "(--dhchap-ctrl-secret) or not the expected subsystem; sent AUTH_Failure2");
		return;
	}
	OPENSSL_cleanse(h->r2, sizeof(h->r2));
	h->step = HSTEP_SUCCESS2;
}

int dhchap_host_recv(struct dhchap_host *h, const void *msg, size_t len)
{
	if (h->step == HSTEP_CHALLENGE)
		host_challenge(h, msg, len);
	else if (h->step == HSTEP_SUCCESS1)
		host_success1(h, msg, len);
	else
		return -EINVAL;
	return 0;
}

enum dhchap_host_state dhchap_host_state(const struct dhchap_host *h)
{
	switch (h->step) {
	case HSTEP_CHALLENGE:
	case HSTEP_SUCCESS1:
		return DHCHAP_HOST_RECV;
	case HSTEP_DONE:
		return DHCHAP_HOST_DONE;
	case HSTEP_FAILED:
		return DHCHAP_HOST_FAILED;
	default:
		return DHCHAP_HOST_SEND;
	}
}

int dhchap_host_result(const struct dhchap_host *h)
{
	return h->result;
}

const char *dhchap_host_error(const struct dhchap_host *h)
{
	return h->err;
}

uint8_t dhchap_host_fail_reason(const struct dhchap_host *h)
{
	return h->reason;
}

uint8_t dhchap_host_hash(const struct dhchap_host *h)
{
	return h->hash;
}

uint8_t dhchap_host_dhgroup(const struct dhchap_host *h)
{
	return h->dh;
}
