/* SPDX-License-Identifier: MIT */
/* Controller-side DH-HMAC-CHAP session: Negotiate -> Challenge -> Reply -> Success1 [-> Success2]. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dhchap_crypto.h"
#include "dhchap_ctrl.h"
#include "dhchap_msg.h"

#define CTRL_NQN_MAX 256
#define CTRL_DEFAULT_TIMEOUT_MS 120000u

/* What the session does next. */
enum ctrl_step {
	STEP_WAIT_NEGOTIATE, /* also: authenticated and idle (s->authenticated) */
	STEP_SEND_CHALLENGE,
	STEP_WAIT_REPLY,
	STEP_SEND_SUCCESS1,
	STEP_WAIT_SUCCESS2,
	STEP_SEND_FAILURE1,
	STEP_DEAD, /* failed, nothing pending */
};

enum ctrl_work { WORK_NONE, WORK_KEYGEN, WORK_REPLY };

struct dhchap_ctrl {
	char hostnqn[CTRL_NQN_MAX], subnqn[CTRL_NQN_MAX];
	uint8_t kh[DHCHAP_HASH_MAX_LEN], kc[DHCHAP_HASH_MAX_LEN];
	size_t kh_len, kc_len; /* kc_len 0: no controller key */
	uint8_t hashes, dhgroups;
	uint64_t timeout;
	bool defer;

	enum ctrl_step step;
	bool authenticated; /* commands may flow (also during re-authentication) */
	bool in_transaction;
	uint8_t fail_reason;
	uint64_t deadline;

	uint16_t tid;
	uint8_t hash, dh, hl;
	uint32_t s1, seq;
	uint8_t c1[DHCHAP_HASH_MAX_LEN];
	struct dhchap_dh *dh_key;
	uint8_t pub[DHCHAP_DH_MAX_LEN];
	bool rvalid;
	uint8_t r2[DHCHAP_HASH_MAX_LEN];

	_Atomic bool busy; /* deferred work outstanding */
	enum ctrl_work work;
	size_t reply_len;
	uint8_t reply[DHCHAP_MSG_MAX];
};

/* Strongest first. */
static const uint8_t ctrl_hash_pref[] = { DHCHAP_HASH_SHA512, DHCHAP_HASH_SHA384, DHCHAP_HASH_SHA256 };
static const uint8_t ctrl_dh_pref[] = { DHCHAP_DH_FFDHE8192, DHCHAP_DH_FFDHE6144, DHCHAP_DH_FFDHE4096,
					DHCHAP_DH_FFDHE3072, DHCHAP_DH_FFDHE2048, DHCHAP_DH_NULL };

static bool ctrl_copy_nqn(char *dst, const char *src)
{
	size_t n = src ? strnlen(src, CTRL_NQN_MAX) : 0;

	if (!n || n == CTRL_NQN_MAX)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

struct dhchap_ctrl *dhchap_ctrl_new(const struct dhchap_ctrl_cfg *cfg, uint64_t now)
{
	struct dhchap_ctrl *s;

	if (!cfg || !cfg->host_key) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	if (!ctrl_copy_nqn(s->hostnqn, cfg->hostnqn) || !ctrl_copy_nqn(s->subnqn, cfg->subnqn) ||
	    dhchap_transform(cfg->host_key, s->hostnqn, s->kh, &s->kh_len) ||
	    (cfg->ctrl_key && dhchap_transform(cfg->ctrl_key, s->subnqn, s->kc, &s->kc_len)) ||
	    dhchap_random(&s->seq, sizeof(s->seq))) {
		dhchap_ctrl_free(s);
		errno = EINVAL;
		return NULL;
	}
	s->hashes = cfg->hashes ? cfg->hashes : DHCHAP_HASHES_ALL;
	s->dhgroups = cfg->dhgroups ? cfg->dhgroups : DHCHAP_DHGROUPS_ALL;
	s->timeout = (uint64_t)(cfg->timeout_ms ? cfg->timeout_ms : CTRL_DEFAULT_TIMEOUT_MS) * 1000000ull;
	s->defer = cfg->defer_dh;
	s->step = STEP_WAIT_NEGOTIATE;
	s->in_transaction = true; /* the Negotiate itself is awaited */
	s->deadline = now + s->timeout;
	return s;
}

int dhchap_ctrl_set_keys(struct dhchap_ctrl *s, const struct dhchap_key *host_key, const struct dhchap_key *ctrl_key)
{
	uint8_t kh[DHCHAP_HASH_MAX_LEN], kc[DHCHAP_HASH_MAX_LEN];
	size_t kh_len = 0, kc_len = 0;

	if (!host_key)
		return -EINVAL;
	if (s->in_transaction || atomic_load_explicit(&s->busy, memory_order_acquire))
		return -EBUSY;
	if (dhchap_transform(host_key, s->hostnqn, kh, &kh_len) ||
	    (ctrl_key && dhchap_transform(ctrl_key, s->subnqn, kc, &kc_len))) {
		OPENSSL_cleanse(kh, sizeof(kh));
		OPENSSL_cleanse(kc, sizeof(kc));
		return -EINVAL;
	}
	memcpy(s->kh, kh, sizeof(kh));
	memcpy(s->kc, kc, sizeof(kc));
	s->kh_len = kh_len;
	s->kc_len = kc_len;
	OPENSSL_cleanse(kh, sizeof(kh));
	OPENSSL_cleanse(kc, sizeof(kc));
	return 0;
}

/* Drop the transaction's secrets (DH private key, R2, the buffered Reply). */
static void ctrl_scrub(struct dhchap_ctrl *s)
{
	dhchap_dh_free(s->dh_key);
	s->dh_key = NULL;
	OPENSSL_cleanse(s->r2, sizeof(s->r2));
	OPENSSL_cleanse(s->reply, sizeof(s->reply));
	s->reply_len = 0;
	s->work = WORK_NONE;
}

void dhchap_ctrl_free(struct dhchap_ctrl *s)
{
	if (!s)
		return;
	ctrl_scrub(s);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

int dhchap_cmd_check(const void *sqe64, uint32_t sgl_len)
{
	const struct dhchap_auth_sqe *c = sqe64;

	if ((c->fctype != DHCHAP_FCTYPE_SEND && c->fctype != DHCHAP_FCTYPE_RECV) || c->secp != DHCHAP_SECP ||
	    c->spsp0 != DHCHAP_SPSP0 || c->spsp1 != DHCHAP_SPSP1 || !c->len || c->len != sgl_len)
		return DHCHAP_SC_INVALID_FIELD;
	if (c->fctype == DHCHAP_FCTYPE_SEND && c->len > DHCHAP_SEND_MAX)
		return DHCHAP_SC_INVALID_FIELD;
	return 0;
}

/* The transaction failed: gate commands, answer the next Receive with AUTH_Failure1. */
static int ctrl_fail(struct dhchap_ctrl *s, uint8_t reason)
{
	ctrl_scrub(s);
	s->fail_reason = reason;
	s->authenticated = false;
	s->step = STEP_SEND_FAILURE1;
	return 0;
}

static void ctrl_dead(struct dhchap_ctrl *s)
{
	ctrl_scrub(s);
	s->authenticated = false;
	s->in_transaction = false;
	s->step = STEP_DEAD;
	s->deadline = 0;
}

static uint8_t ctrl_pick(const uint8_t *pref, size_t npref, uint8_t allowed, const uint8_t *ids, unsigned n,
			 bool *found)
{
	for (size_t i = 0; i < npref; i++) {
		if (!(allowed & (1u << pref[i])))
			continue;
		for (unsigned j = 0; j < n; j++)
			if (ids[j] == pref[i]) {
				*found = true;
				return pref[i];
			}
	}
	*found = false;
	return 0;
}

/* The heavy part of each step; inline or from dhchap_ctrl_work(). */
static int ctrl_do_keygen(struct dhchap_ctrl *s)
{
	int glen = dhchap_dh_len(s->dh);

	if (dhchap_dh_generate(s->dh, &s->dh_key) || dhchap_dh_public(s->dh_key, s->pub, (size_t)glen))
		return ctrl_fail(s, DHCHAP_FAIL_FAILED);
	s->step = STEP_SEND_CHALLENGE;
	return 0;
}

static int ctrl_do_reply(struct dhchap_ctrl *s)
{
	uint8_t ks[DHCHAP_DH_MAX_LEN], ca1[DHCHAP_HASH_MAX_LEN], ca2[DHCHAP_HASH_MAX_LEN], r1[DHCHAP_HASH_MAX_LEN];
	const uint8_t *ch1 = s->c1, *ch2;
	struct dhchap_reply m;
	size_t glen = (size_t)dhchap_dh_len(s->dh);
	uint8_t reason = 0;
	int ret;

	dhchap_reply_decode(s->reply, s->reply_len, &m); /* validated by the caller */
	ch2 = m.c2;
	if (s->dh != DHCHAP_DH_NULL) {
		ret = dhchap_dh_derive(s->dh_key, m.dhv, m.dhvlen, ks, glen);
		if (ret) {
			reason = ret == -EBADMSG ? DHCHAP_FAIL_DHGROUP_UNUSABLE : DHCHAP_FAIL_FAILED;
			goto out;
		}
		if (dhchap_augment(s->hash, ks, glen, s->c1, ca1) ||
		    (m.cvalid && dhchap_augment(s->hash, ks, glen, m.c2, ca2))) {
			reason = DHCHAP_FAIL_FAILED;
			goto out;
		}
		ch1 = ca1;
		ch2 = ca2;
	}
	if (dhchap_host_response(s->hash, s->kh, s->kh_len, ch1, s->s1, s->tid, 0, s->hostnqn, s->subnqn, r1) ||
	    dhchap_memcmp(r1, m.r1, s->hl)) {
		reason = DHCHAP_FAIL_FAILED;
		goto out;
	}
	s->rvalid = m.cvalid;
	if (m.cvalid &&
	    dhchap_ctrl_response(s->hash, s->kc, s->kc_len, ch2, m.seq, s->tid, 0, s->hostnqn, s->subnqn, s->r2))
		reason = DHCHAP_FAIL_FAILED;
out:
	OPENSSL_cleanse(ks, sizeof(ks));
	OPENSSL_cleanse(ca1, sizeof(ca1));
	OPENSSL_cleanse(ca2, sizeof(ca2));
	OPENSSL_cleanse(r1, sizeof(r1));
	dhchap_dh_free(s->dh_key);
	s->dh_key = NULL;
	OPENSSL_cleanse(s->reply, sizeof(s->reply));
	s->reply_len = 0;
	if (reason)
		return ctrl_fail(s, reason);
	s->step = STEP_SEND_SUCCESS1;
	return 0;
}

static int ctrl_run(struct dhchap_ctrl *s)
{
	enum ctrl_work w = s->work;

	s->work = WORK_NONE;
	if (w == WORK_KEYGEN)
		return ctrl_do_keygen(s);
	if (w == WORK_REPLY)
		return ctrl_do_reply(s);
	return 0;
}

/* Inline, or hand the step to the caller. */
static int ctrl_schedule(struct dhchap_ctrl *s, enum ctrl_work w)
{
	s->work = w;
	if (!s->defer || s->dh == DHCHAP_DH_NULL) /* HMACs alone take microseconds */
		return ctrl_run(s);
	atomic_store_explicit(&s->busy, true, memory_order_relaxed);
	return DHCHAP_CTRL_DEFER;
}

int dhchap_ctrl_work(struct dhchap_ctrl *s)
{
	int ret = ctrl_run(s);

	atomic_store_explicit(&s->busy, false, memory_order_release);
	return ret;
}

static int ctrl_negotiate(struct dhchap_ctrl *s, const void *msg, size_t len)
{
	struct dhchap_negotiate m;
	bool found;
	int r;

	ctrl_scrub(s);
	s->in_transaction = true;
	r = dhchap_negotiate_decode(msg, len, &m);
	s->tid = m.tid;
	if (r)
		return ctrl_fail(s, (uint8_t)r);
	if (m.sc_c != 0) /* secure channel concatenation (TLS PSK generation) is not supported */
		return ctrl_fail(s, DHCHAP_FAIL_CONCAT_MISMATCH);
	s->hash = ctrl_pick(ctrl_hash_pref, sizeof(ctrl_hash_pref), s->hashes, m.hash_ids, m.halen, &found);
	if (!found)
		return ctrl_fail(s, DHCHAP_FAIL_HASH_UNUSABLE);
	s->dh = ctrl_pick(ctrl_dh_pref, sizeof(ctrl_dh_pref), s->dhgroups, m.dh_ids, m.dhlen, &found);
	if (!found)
		return ctrl_fail(s, DHCHAP_FAIL_DHGROUP_UNUSABLE);
	s->hl = (uint8_t)dhchap_hash_len(s->hash);
	s->rvalid = false;
	if (++s->seq == 0) /* S1 is never 0 */
		s->seq = 1;
	s->s1 = s->seq;
	if (dhchap_random(s->c1, s->hl))
		return ctrl_fail(s, DHCHAP_FAIL_FAILED);
	if (s->dh == DHCHAP_DH_NULL) {
		s->step = STEP_SEND_CHALLENGE;
		return 0;
	}
	return ctrl_schedule(s, WORK_KEYGEN);
}

static int ctrl_reply(struct dhchap_ctrl *s, const void *msg, size_t len)
{
	struct dhchap_reply m;
	int r;

	if (s->step != STEP_WAIT_REPLY)
		return ctrl_fail(s, DHCHAP_FAIL_INCORRECT_MESSAGE);
	r = dhchap_reply_decode(msg, len, &m);
	if (r)
		return ctrl_fail(s, (uint8_t)r);
	if (m.tid != s->tid || m.hl != s->hl || m.dhvlen != dhchap_dh_len(s->dh))
		return ctrl_fail(s, DHCHAP_FAIL_INCORRECT_PAYLOAD);
	if (m.cvalid && !s->kc_len) /* the host wants us to prove a key we do not have */
		return ctrl_fail(s, DHCHAP_FAIL_FAILED);
	memcpy(s->reply, msg, len);
	s->reply_len = len;
	return ctrl_schedule(s, WORK_REPLY);
}

static int ctrl_success2(struct dhchap_ctrl *s, const void *msg, size_t len)
{
	uint16_t tid;
	int r;

	if (s->step != STEP_WAIT_SUCCESS2)
		return ctrl_fail(s, DHCHAP_FAIL_INCORRECT_MESSAGE);
	r = dhchap_success2_decode(msg, len, &tid);
	if (r)
		return ctrl_fail(s, (uint8_t)r);
	if (tid != s->tid)
		return ctrl_fail(s, DHCHAP_FAIL_INCORRECT_PAYLOAD);
	s->authenticated = true;
	s->in_transaction = false;
	s->step = STEP_WAIT_NEGOTIATE;
	return 0;
}

int dhchap_ctrl_send(struct dhchap_ctrl *s, const void *msg, size_t len, uint64_t now)
{
	struct dhchap_failure f;
	uint8_t type, id;
	uint16_t tid;
	int ret;

	if (atomic_load_explicit(&s->busy, memory_order_acquire))
		return DHCHAP_SC_SEQUENCE;
	if (s->step == STEP_DEAD)
		return DHCHAP_SC_SEQUENCE;
	if (s->step == STEP_SEND_FAILURE1)
		return 0; /* the transaction is over; the host will read why */
	if (dhchap_msg_peek(msg, len, &type, &id, &tid)) {
		if (!s->in_transaction)
			return DHCHAP_SC_SEQUENCE;
		return ctrl_fail(s, DHCHAP_FAIL_INCORRECT_PAYLOAD);
	}
	/* on an authenticated queue only a Negotiate (re-authentication) or the host's Failure2
	 * (it did not accept our Success1) mean something */
	if (!s->in_transaction && !(type == DHCHAP_TYPE_COMMON && (id == DHCHAP_ID_NEGOTIATE || id == DHCHAP_ID_FAILURE2)))
		return DHCHAP_SC_SEQUENCE;
	s->deadline = now + s->timeout;
	if (type == DHCHAP_TYPE_COMMON && id == DHCHAP_ID_NEGOTIATE)
		ret = ctrl_negotiate(s, msg, len);
	else if (type == DHCHAP_TYPE_COMMON && id == DHCHAP_ID_FAILURE2) {
		/* the host gave up (e.g. our R2 did not verify): nothing left to say */
		s->fail_reason = dhchap_failure_decode(DHCHAP_ID_FAILURE2, msg, len, &f) ? DHCHAP_FAIL_INCORRECT_PAYLOAD
											 : f.rce;
		ctrl_dead(s);
		return 0;
	} else if (type == DHCHAP_TYPE_DHCHAP && id == DHCHAP_ID_REPLY)
		ret = ctrl_reply(s, msg, len);
	else if (type == DHCHAP_TYPE_DHCHAP && id == DHCHAP_ID_SUCCESS2)
		ret = ctrl_success2(s, msg, len);
	else
		ret = ctrl_fail(s, DHCHAP_FAIL_INCORRECT_MESSAGE);
	if (!s->in_transaction)
		s->deadline = 0;
	return ret;
}

static int ctrl_put_failure1(struct dhchap_ctrl *s, void *buf, size_t al, size_t *len)
{
	struct dhchap_failure f = { .tid = s->tid, .rc = DHCHAP_RC_FAILURE, .rce = s->fail_reason };
	uint8_t reason = s->fail_reason;

	*len = (size_t)dhchap_failure_encode(DHCHAP_ID_FAILURE1, &f, buf, al);
	ctrl_dead(s);
	s->fail_reason = reason;
	return 0;
}

int dhchap_ctrl_recv(struct dhchap_ctrl *s, void *buf, size_t al, size_t *len, uint64_t now)
{
	*len = 0;
	if (atomic_load_explicit(&s->busy, memory_order_acquire) || s->step == STEP_DEAD)
		return DHCHAP_SC_SEQUENCE;
	if (!s->in_transaction && s->step == STEP_WAIT_NEGOTIATE)
		return DHCHAP_SC_SEQUENCE; /* authenticated, nothing to say */
	if (al < DHCHAP_FAILURE_LEN) {
		if (s->step != STEP_SEND_FAILURE1)
			s->fail_reason = DHCHAP_FAIL_INCORRECT_PAYLOAD;
		ctrl_dead(s);
		return DHCHAP_SC_INVALID_FIELD;
	}
	s->deadline = now + s->timeout;
	switch (s->step) {
	case STEP_SEND_CHALLENGE: {
		struct dhchap_challenge m = { .tid = s->tid, .hl = s->hl, .hash_id = s->hash, .dh_id = s->dh,
					      .dhvlen = (uint16_t)dhchap_dh_len(s->dh), .seq = s->s1, .c1 = s->c1,
					      .dhv = s->pub };
		int n = dhchap_challenge_encode(&m, buf, al);

		if (n < 0) {
			ctrl_fail(s, DHCHAP_FAIL_INCORRECT_PAYLOAD);
			return ctrl_put_failure1(s, buf, al, len);
		}
		*len = (size_t)n;
		s->step = STEP_WAIT_REPLY;
		return 0;
	}
	case STEP_SEND_SUCCESS1: {
		struct dhchap_success1 m = { .tid = s->tid, .hl = s->hl, .rvalid = s->rvalid, .r2 = s->r2 };
		int n = dhchap_success1_encode(&m, buf, al);

		if (n < 0) {
			ctrl_fail(s, DHCHAP_FAIL_INCORRECT_PAYLOAD);
			return ctrl_put_failure1(s, buf, al, len);
		}
		*len = (size_t)n;
		OPENSSL_cleanse(s->r2, sizeof(s->r2));
		if (s->rvalid) {
			s->step = STEP_WAIT_SUCCESS2;
		} else {
			s->authenticated = true;
			s->in_transaction = false;
			s->step = STEP_WAIT_NEGOTIATE;
			s->deadline = 0;
		}
		return 0;
	}
	case STEP_SEND_FAILURE1:
		return ctrl_put_failure1(s, buf, al, len);
	default: /* the host should be sending, not receiving */
		ctrl_fail(s, DHCHAP_FAIL_INCORRECT_MESSAGE);
		return ctrl_put_failure1(s, buf, al, len);
	}
}

enum dhchap_ctrl_state dhchap_ctrl_state(const struct dhchap_ctrl *s)
{
	if (s->step == STEP_DEAD || s->step == STEP_SEND_FAILURE1)
		return DHCHAP_CTRL_FAILED;
	return s->authenticated ? DHCHAP_CTRL_AUTHENTICATED : DHCHAP_CTRL_NEGOTIATING;
}

bool dhchap_ctrl_failure_pending(const struct dhchap_ctrl *s)
{
	return s->step == STEP_SEND_FAILURE1;
}

uint8_t dhchap_ctrl_fail_reason(const struct dhchap_ctrl *s)
{
	return s->fail_reason;
}

uint64_t dhchap_ctrl_deadline(const struct dhchap_ctrl *s)
{
	return s->deadline;
}

void dhchap_ctrl_expire(struct dhchap_ctrl *s)
{
	if (!s->fail_reason)
		s->fail_reason = DHCHAP_FAIL_FAILED;
	ctrl_dead(s);
}

uint8_t dhchap_ctrl_hash(const struct dhchap_ctrl *s)
{
	return s->hash;
}

uint8_t dhchap_ctrl_dhgroup(const struct dhchap_ctrl *s)
{
	return s->dh;
}

bool dhchap_ctrl_bidirectional(const struct dhchap_ctrl *s)
{
	return s->rvalid;
}
