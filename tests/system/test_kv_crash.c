/* SPDX-License-Identifier: MIT */
/*
 * Crash test of a persistent KV namespace: nvringd serves kv:FILE (write-through, VWC 0);
 * two I/O queues store at QD 32; after N acknowledged stores (N varied per round) the test
 * SIGKILLs nvringd, restarts it on the same file and checks every key.
 *
 * Each key belongs to one queue and has at most one store in flight, and every store of a
 * key writes a new version whose bytes (length and content) are a function of (key,
 * version). So after a restart a key must hold exactly the value of a version between the
 * last acknowledged one and the last sent one (a store in flight at the kill may or may not
 * have landed), or be absent only if no store of it was ever acknowledged. What was found
 * becomes the baseline of the next round, so 25 rounds check recovery over a log that
 * keeps growing (and GC). A last round runs with `vwc`: only stores acknowledged before a
 * completed Flush are owed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tclient.h"
#include "test_kv_util.h"

#define QUEUES 2
#define DEPTH 32
#define KEYS_PER_Q 256
#define NKEYS (QUEUES * KEYS_PER_Q)
#define ROUNDS 25
#define VMAX 6144

struct key_state {
	uint32_t acked;  /* last acknowledged version (0: none) */
	uint32_t sent;   /* last version sent */
	uint32_t owed;   /* lowest version a restart must show (0: absence allowed) */
	bool busy;       /* a store is in flight */
};

static struct key_state KS[NKEYS];
static char PATH[64];
static struct tc_daemon D;
static volatile pid_t KILL_PID;
static unsigned KILL_AT;
static unsigned ACKS; /* atomic */

static uint32_t v_len(unsigned key, uint32_t ver)
{
	return 8 + (key * 2654435761u ^ ver * 40503u) % (VMAX - 8);
}

static void v_fill(uint8_t *buf, unsigned key, uint32_t ver)
{
	uint32_t len = v_len(key, ver);

	tc_fill(buf, len, key << 16 ^ ver);
	memcpy(buf, &key, 4);  /* readable in a diagnostic */
	memcpy(buf + 4, &ver, 4);
}

static void k_name(char *k, unsigned key)
{
	snprintf(k, 17, "crash-%05u", key);
}

struct q_ctx {
	struct tc_conn conn;
	unsigned q;
	unsigned next; /* round-robin cursor over the queue's keys */
	long stop_after; /* vwc round: stores to send, then stop (-1: until the kill) */
	long sent;
	struct kvu_slot slots[DEPTH];
	uint8_t bufs[DEPTH][VMAX];
	int err;
};

static bool q_fill(void *arg, struct kvu_slot *s, long item)
{
	struct q_ctx *c = arg;
	unsigned key = 0;
	char k[17];

	(void)item;
	if (c->stop_after >= 0 && c->sent >= c->stop_after)
		return false;
	for (unsigned tries = 0; tries < KEYS_PER_Q; tries++) {
		key = c->q * KEYS_PER_Q + c->next;
		c->next = (c->next + 1) % KEYS_PER_Q;
		if (!KS[key].busy)
			break;
	}
	if (KS[key].busy)
		return false; /* cannot happen: DEPTH < KEYS_PER_Q */
	KS[key].busy = true;
	KS[key].sent++;
	s->buf = c->bufs[s - c->slots];
	v_fill(s->buf, key, KS[key].sent);
	k_name(k, key);
	kvu_store_cmd(&s->cmd, 1, k, strlen(k), s->buf, v_len(key, KS[key].sent), 0);
	s->cmd.sqe.cdw13 = key; /* ours: the key index, ignored by the target */
	c->sent++;
	return true;
}

static void q_done(void *arg, struct kvu_slot *s)
{
	struct q_ctx *c = arg;
	unsigned key = s->cmd.sqe.cdw13;
	uint32_t ver;

	(void)c;
	memcpy(&ver, s->buf + 4, 4);
	KS[key].busy = false;
	if (s->cmd.status == 0) {
		KS[key].acked = ver;
		if (__atomic_add_fetch(&ACKS, 1, __ATOMIC_SEQ_CST) == KILL_AT && KILL_PID > 0)
			kill(KILL_PID, SIGKILL);
	} else {
		c->err = -1000 - s->cmd.status; /* a store must not fail */
	}
}

static void *q_thread(void *arg)
{
	struct q_ctx *c = arg;
	int r = kvu_drive(&c->conn, c->slots, DEPTH, c, q_fill, q_done);

	if (!c->err)
		c->err = r;
	return NULL;
}

static bool start(const char *spec, struct tc_conn *a, struct q_ctx *qs)
{
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", spec, "-t", "2", NULL };

	if (!CHECK_EQ(tc_daemon_start(&D, args), 0))
		return false;
	if (!CHECK_EQ(tc_admin_session(a, D.ports[0], 0, 0, NULL), 0))
		return false;
	for (unsigned q = 0; q < QUEUES; q++) {
		qs[q].q = q;
		qs[q].err = 0;
		if (!CHECK_EQ(tc_io_session(&qs[q].conn, D.ports[0], 0, a->cntlid, (uint16_t)(q + 1), 63, 0), 0))
			return false;
	}
	return true;
}

/* Every key against its state; the found version becomes the baseline. Returns bad keys. */
static unsigned verify(struct tc_conn *q, unsigned *present)
{
	static uint8_t r[VMAX], want[VMAX];
	unsigned bad = 0;

	*present = 0;
	for (unsigned key = 0; key < NKEYS; key++) {
		struct key_state *ks = &KS[key];
		struct tc_cmd cmd;
		uint32_t ver = 0;
		char k[17];
		int st;

		if (!ks->sent)
			continue;
		k_name(k, key);
		kvu_retrieve_cmd(&cmd, 1, k, strlen(k), r, sizeof(r));
		st = tc_exec(q, &cmd);
		if ((st & KV_ST_MASK) == NVME_SC_KV_KEY_NOT_EXIST) {
			if (ks->owed && bad++ < 5)
				tap_diag("key %u absent, version %u was acknowledged", key, ks->owed);
		} else if (st) {
			if (bad++ < 5)
				tap_diag("key %u: status %#x", key, st);
		} else {
			memcpy(&ver, r + 4, 4);
			if (cmd.cqe.dw0 >= 8 && ver >= ks->owed && ver <= ks->sent && ver > 0) {
				v_fill(want, key, ver);
				if (cmd.cqe.dw0 != v_len(key, ver) || memcmp(r, want, cmd.cqe.dw0))
					ver = 0;
			} else {
				ver = 0;
			}
			if (!ver && bad++ < 5)
				tap_diag("key %u: %u bytes, not version %u..%u", key, cmd.cqe.dw0, ks->owed, ks->sent);
			(*present)++;
		}
		ks->acked = ks->owed = ks->sent = ver;
	}
	return bad;
}

static void stop_all(struct tc_conn *a, struct q_ctx *qs)
{
	for (unsigned q = 0; q < QUEUES; q++)
		tc_close(&qs[q].conn);
	tc_close(a);
}

static void t_crash_rounds(void)
{
	static struct q_ctx qs[QUEUES];
	char spec[128];
	unsigned total_acks = 0, total_bad = 0, present = 0, rounds = 0;
	uint64_t t0 = tc_now_ms();

	snprintf(spec, sizeof(spec), "kv:%s,size=256M", PATH);
	for (unsigned round = 0; round <= ROUNDS; round++) {
		struct tc_conn a;
		pthread_t th[QUEUES];
		unsigned bad;
		int ex;

		if (!start(spec, &a, qs))
			break;
		bad = verify(&qs[0].conn, &present);
		total_bad += bad;
		if (!CHECK_EQ(bad, 0))
			tap_diag("round %u: %u keys wrong after the restart", round, bad);
		if (round == ROUNDS) {
			stop_all(&a, qs);
			CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
			break;
		}
		/* kill after 50..1450 acknowledged stores */
		KILL_AT = 50 + (round * 389u) % 1400;
		__atomic_store_n(&ACKS, 0, __ATOMIC_SEQ_CST);
		KILL_PID = D.pid;
		for (unsigned q = 0; q < QUEUES; q++) {
			qs[q].stop_after = -1;
			pthread_create(&th[q], NULL, q_thread, &qs[q]);
		}
		for (unsigned q = 0; q < QUEUES; q++)
			pthread_join(th[q], NULL);
		KILL_PID = 0;
		for (unsigned q = 0; q < QUEUES; q++)
			if (qs[q].err <= -1000)
				CHECK_EQ(qs[q].err, 0); /* a store failed with a status */
		stop_all(&a, qs);
		ex = tc_daemon_stop(&D, 10000);
		CHECK_EQ(ex, -SIGKILL);
		total_acks += __atomic_load_n(&ACKS, __ATOMIC_SEQ_CST);
		for (unsigned key = 0; key < NKEYS; key++) {
			KS[key].owed = KS[key].acked;
			KS[key].busy = false;
		}
		rounds++;
	}
	CHECK_EQ(rounds, ROUNDS);
	CHECK_EQ(total_bad, 0);
	tap_diag("%u SIGKILL rounds, %u acknowledged stores, %u keys present at the end, all as "
		 "acknowledged (%llu ms)", rounds, total_acks, present,
		 (unsigned long long)(tc_now_ms() - t0));
}

/* vwc: stores acknowledged before a completed Flush are owed, later ones are not */
static void t_crash_vwc(void)
{
	static struct q_ctx qs[QUEUES];
	char spec[128];
	struct tc_conn a;
	pthread_t th[QUEUES];
	unsigned bad, present = 0;

	memset(KS, 0, sizeof(KS));
	unlink(PATH);
	snprintf(spec, sizeof(spec), "kv:%s,size=256M,vwc", PATH);
	if (!start(spec, &a, qs))
		return;
	/* 600 stores per queue, all acknowledged; then a Flush */
	KILL_AT = 0;
	KILL_PID = 0;
	for (unsigned q = 0; q < QUEUES; q++) {
		qs[q].stop_after = 600;
		qs[q].sent = 0;
		pthread_create(&th[q], NULL, q_thread, &qs[q]);
	}
	for (unsigned q = 0; q < QUEUES; q++) {
		pthread_join(th[q], NULL);
		CHECK_EQ(qs[q].err, 0);
	}
	REQUIRE_EQ(kvu_simple(&qs[0].conn, NVME_KV_OPC_FLUSH, 1, NULL, 0), 0);
	for (unsigned key = 0; key < NKEYS; key++)
		KS[key].owed = KS[key].acked;
	/* more stores, no Flush, killed after 300 acknowledgements */
	__atomic_store_n(&ACKS, 0, __ATOMIC_SEQ_CST);
	KILL_AT = 300;
	KILL_PID = D.pid;
	for (unsigned q = 0; q < QUEUES; q++) {
		qs[q].stop_after = -1;
		pthread_create(&th[q], NULL, q_thread, &qs[q]);
	}
	for (unsigned q = 0; q < QUEUES; q++)
		pthread_join(th[q], NULL);
	KILL_PID = 0;
	stop_all(&a, qs);
	CHECK_EQ(tc_daemon_stop(&D, 10000), -SIGKILL);
	for (unsigned key = 0; key < NKEYS; key++)
		KS[key].busy = false;
	if (!start(spec, &a, qs))
		return;
	bad = verify(&qs[0].conn, &present);
	CHECK_EQ(bad, 0);
	tap_diag("vwc: %u keys flushed before the kill, %u present after it", NKEYS, present);
	stop_all(&a, qs);
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	if (!tc_daemon_path())
		return tap_skip_all("nvringd not built ($NVRINGD)");
	alarm(200);
	snprintf(PATH, sizeof(PATH), "/tmp/nvring-kv-crash.%d", (int)getpid());
	unlink(PATH);
	tap_run("kv:FILE, 2 queues x QD 32, SIGKILL after N acks, restart: every ack is there",
		t_crash_rounds);
	tap_run("kv:FILE,vwc: stores acknowledged before a completed Flush survive SIGKILL", t_crash_vwc);
	unlink(PATH);
	return tap_finish();
}
