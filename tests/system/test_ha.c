/* SPDX-License-Identifier: MIT */
/*
 * High availability over real sockets: ANA (Identify fields, the log page through each of two
 * ports, path statuses per configured state, a transition at start that ends at ANATT and
 * raises ANA Change on that port's controllers only, controller IDs from cntlid_min..max) and
 * persistent reservations between two hosts (two host NQNs and IDs: register, Write Exclusive,
 * the other host's write gets Reservation Conflict, Report bytes, preempt, release, clear, the
 * notifications with their AEN and log page, wrong keys), and PTPL through an nvringd SIGKILL
 * and restart (and a corrupt state file refused at start); with the control plane, ANA states
 * changed at run time (ana_set_state, ana_get): the AEN on that port's controllers, statuses,
 * a transition ending on time, exact errors.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpc/rpc_client.h"
#include "tap.h"
#include "tclient.h"

#define NQN "nqn.2026-11.io.nvring:ha-test"
#define HOST_A "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-4000-8000-00000000000a"
#define HOST_B "nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-0000-4000-8000-00000000000b"
#define ST_INACCESSIBLE 0x302
#define ST_PERSISTENT_LOSS 0x301
#define ST_TRANSITION 0x303
#define ST_CONFLICT 0x4083
#define ST_HOSTID_FORMAT 0x4018
#define ST_INVALID_FIELD 0x4002
#define AEN_ANA 0x000c0302u
#define AEN_RESV 0x00800006u

static const uint8_t hid_a[16] = { 0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xaa };
static const uint8_t hid_b[16] = { 0xbb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xbb };
static char tmpdir[64], cfg_path[128], img_path[128], sock_path[128];
static int P1, P2;
static struct tc_daemon D;

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* A port nobody listens on now (the config file must name one). */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(text, f) >= 0;

	if (f && fclose(f))
		ok = false;
	return ok;
}

static int start(const char *json)
{
	const char *args[] = { "-c", cfg_path, "-t", "2", "-v", NULL };

	if (!write_file(cfg_path, json))
		return -EIO;
	return tc_daemon_start(&D, args);
}

/* A host: an admin queue (enabled, AEC as given) and one I/O queue, with its own NQN and ID. */
struct host {
	struct tc_conn adm, io;
};

static int host_connect(struct host *h, int port, const char *hostnqn, const uint8_t *hostid)
{
	struct tc_connect_args a;
	int r;

	if ((r = tc_open(&h->adm, port)) < 0 || (r = tc_icreq(&h->adm, 0, NULL)) < 0)
		return r;
	tc_connect_args_default(&a, 0, 0xffff);
	a.subnqn = NQN;
	a.hostnqn = hostnqn;
	a.hostid = hostid;
	if ((r = tc_fabrics_connect(&h->adm, &a, NULL)) != 0 || (r = tc_enable(&h->adm, 0)) != 0)
		return r ? r : -EIO;
	if ((r = tc_open(&h->io, port)) < 0 || (r = tc_icreq(&h->io, 0, NULL)) < 0)
		return r;
	tc_connect_args_default(&a, 1, h->adm.cntlid);
	a.subnqn = NQN;
	a.hostnqn = hostnqn;
	a.hostid = hostid;
	r = tc_fabrics_connect(&h->io, &a, NULL);
	return r > 0 ? -EIO : r;
}

static void host_close(struct host *h)
{
	tc_close(&h->io);
	tc_close(&h->adm);
}

/* Wait for cmd beyond tclient's receive timeout (an event seconds away). */
static int wait_long(struct tc_conn *c, struct tc_cmd *cmd, int ms)
{
	uint64_t end = tc_now_ms() + (uint64_t)ms;

	while (!cmd->done && tc_now_ms() < end) {
		int r = tc_poll(c);

		if (r < 0 && r != -ETIMEDOUT && r != -EAGAIN)
			return r;
	}
	return cmd->done ? 0 : -ETIMEDOUT;
}

static int rw(struct tc_conn *c, uint8_t opc, uint32_t nsid, uint64_t slba)
{
	static uint8_t buf[4096];

	if (opc == 0x01)
		tc_fill(buf, 512, (uint32_t)slba);
	return tc_rw(c, opc, nsid, slba, 1, buf, 512, false);
}

static int feature(struct tc_conn *c, uint8_t opc, uint8_t fid, uint32_t nsid, uint32_t cdw11, uint32_t *dw0)
{
	struct tc_cmd cmd;
	int r;

	tc_cmd_init(&cmd, opc, nsid);
	cmd.sqe.cdw10 = fid;
	cmd.sqe.cdw11 = cdw11;
	r = tc_exec(c, &cmd);
	if (dw0)
		*dw0 = cmd.cqe.dw0;
	return r;
}

/* ============================================================ ANA */

static char ana_json[4096];

static void t_ana_identify(void)
{
	struct host h1, h2;
	uint8_t id[4096];

	REQUIRE_EQ(host_connect(&h1, P1, HOST_A, hid_a), 0);
	REQUIRE_EQ(host_connect(&h2, P2, HOST_A, hid_a), 0);
	CHECK(h1.adm.cntlid >= 100 && h1.adm.cntlid <= 199);
	CHECK(h2.adm.cntlid >= 100 && h2.adm.cntlid <= 199 && h2.adm.cntlid != h1.adm.cntlid);
	REQUIRE_EQ(tc_identify(&h1.adm, 0x01, 0, 0, id), 0);
	CHECK_EQ(le16(id + 78), h1.adm.cntlid);
	CHECK(!memcmp(id + 4, "ha-sn-0001          ", 20));     /* SN from the config, space padded */
	CHECK(!memcmp(id + 24, "nvring-ha ", 10));               /* MN */
	CHECK_EQ(id[76], 0x0b);                                  /* CMIC: multi-port, multi-ctrl, ANA */
	CHECK(le32(id + 92) & (1u << 11));                       /* OAES: ANA Change */
	CHECK_EQ(id[342], 10);                                   /* ANATT */
	CHECK_EQ(id[343], 0x1f);                                 /* ANACAP */
	CHECK_EQ(le32(id + 344), 128);                           /* ANAGRPMAX */
	CHECK_EQ(le32(id + 348), 128);                           /* NANAGRPID */
	CHECK_EQ(le32(id + 540), le32(id + 516));                /* MNAN = NN */
	CHECK(le16(id + 520) & (1u << 5));                       /* ONCS: reservations */
	REQUIRE_EQ(tc_identify(&h1.adm, 0x00, 2, 0, id), 0);
	CHECK_EQ(le32(id + 92), 2);                              /* ANAGRPID */
	CHECK_EQ(id[30] & 1, 1);                                 /* NMIC shared */
	CHECK_EQ(id[31], 0xff);                                  /* RESCAP, PTPL: a file namespace */
	REQUIRE_EQ(tc_identify(&h1.adm, 0x00, 1, 0, id), 0);
	CHECK_EQ(le32(id + 92), 1);
	CHECK_EQ(id[31], 0xfe);                                  /* RAM: no PTPL */
	host_close(&h1);
	host_close(&h2);
}

static void t_ana_log(void)
{
	struct host h1, h2;
	uint8_t log[16 + 128 * 32 + 1024 * 4];

	REQUIRE_EQ(host_connect(&h1, P1, HOST_A, hid_a), 0);
	REQUIRE_EQ(host_connect(&h2, P2, HOST_A, hid_a), 0);
	/* the size Linux reads: 16 + 128 x 32 + MNAN x 4 */
	REQUIRE_EQ(tc_get_log(&h1.adm, 0x0c, 0xffffffff, 0, log, 16 + 128 * 32 + 1024 * 4), 0);
	CHECK_EQ(le16(log + 8), 3);                              /* NGRPS: groups 1, 2, 3 hold namespaces */
	CHECK(le32(log + 16) == 1 && le32(log + 20) == 1 && log[32] == 1 && le32(log + 48) == 1);
	CHECK(le32(log + 52) == 2 && le32(log + 56) == 1 && log[68] == 2 && le32(log + 84) == 2);
	CHECK(le32(log + 88) == 3 && le32(log + 92) == 1 && log[104] == 1 && le32(log + 120) == 3);
	REQUIRE_EQ(tc_get_log(&h2.adm, 0x0c, 0xffffffff, 0, log, 4096), 0);
	CHECK(log[32] == 3 && log[68] == 0x0f && log[104] == 4); /* inaccessible, change, persistent loss */
	host_close(&h1);
	host_close(&h2);
}

static void t_ana_io(void)
{
	struct host h1, h2;

	REQUIRE_EQ(host_connect(&h1, P1, HOST_A, hid_a), 0);
	REQUIRE_EQ(host_connect(&h2, P2, HOST_A, hid_a), 0);
	CHECK_EQ(rw(&h1.io, 0x01, 1, 7), 0);                     /* optimized */
	CHECK_EQ(rw(&h1.io, 0x02, 2, 7), 0);                     /* non-optimized */
	CHECK_EQ(rw(&h1.io, 0x02, 3, 7), 0);
	CHECK_EQ(rw(&h2.io, 0x01, 1, 7), ST_INACCESSIBLE);       /* SCT 3, no DNR */
	CHECK_EQ(rw(&h2.io, 0x02, 1, 7), ST_INACCESSIBLE);
	CHECK_EQ(rw(&h2.io, 0x02, 3, 7), ST_PERSISTENT_LOSS);
	CHECK_EQ(rw(&h2.io, 0x02, 2, 7), ST_TRANSITION);
	/* admin commands that read state keep working through the inaccessible path */
	CHECK_EQ(tc_keep_alive(&h2.adm), 0);
	host_close(&h1);
	host_close(&h2);
}

/* Group 2 starts in "change" on port 2 and ends optimized at ANATT: ANA Change on port 2 only. */
static void t_ana_transition_aen(void)
{
	struct host h1, h2;
	struct tc_cmd aer1, aer2;
	uint8_t log[4096];
	uint64_t chg;
	int st;

	REQUIRE_EQ(host_connect(&h1, P1, HOST_A, hid_a), 0);
	REQUIRE_EQ(host_connect(&h2, P2, HOST_A, hid_a), 0);
	REQUIRE_EQ(tc_set_features(&h1.adm, 0x0b, 0x900, NULL), 0);
	REQUIRE_EQ(tc_set_features(&h2.adm, 0x0b, 0x900, NULL), 0);
	REQUIRE_EQ(tc_get_log(&h2.adm, 0x0c, 0xffffffff, 0, log, 4096), 0);
	chg = le64(log);
	CHECK_EQ(log[68], 0x0f); /* still in its 10 s transition (the tests before take < 1 s) */
	tc_cmd_init(&aer1, 0x0c, 0);
	tc_cmd_init(&aer2, 0x0c, 0);
	REQUIRE_EQ(tc_submit(&h1.adm, &aer1), 0);
	REQUIRE_EQ(tc_submit(&h2.adm, &aer2), 0);
	st = wait_long(&h2.adm, &aer2, 15000);
	REQUIRE_EQ(st, 0);
	CHECK_EQ(aer2.status, 0);
	CHECK_EQ(aer2.cqe.dw0, AEN_ANA);                         /* notice, ANA change, log 0x0C */
	CHECK_EQ(rw(&h2.io, 0x01, 2, 9), 0);                     /* now optimized */
	REQUIRE_EQ(tc_get_log(&h2.adm, 0x0c, 0xffffffff, 0, log, 4096), 0);
	CHECK_EQ(log[68], 1);
	CHECK_EQ(le64(log), chg + 1);                            /* CHGCNT */
	/* port 1 did not change: its controller heard nothing */
	CHECK_EQ(tc_keep_alive(&h1.adm), 0);
	CHECK(!aer1.done);
	host_close(&h1);
	host_close(&h2);
}

/* ============================================================ reservations */

static int reg(struct tc_conn *c, uint32_t nsid, uint32_t cdw10, uint64_t crkey, uint64_t nrkey)
{
	struct tc_cmd cmd;
	uint64_t d[2] = { htole64(crkey), htole64(nrkey) };

	tc_cmd_init(&cmd, 0x0d, nsid);
	cmd.sqe.cdw10 = cdw10;
	cmd.wbuf = d;
	cmd.wlen = 16;
	return tc_exec(c, &cmd);
}

static int acq(struct tc_conn *c, uint32_t nsid, uint32_t racqa, uint32_t rtype, uint64_t crkey, uint64_t prkey)
{
	struct tc_cmd cmd;
	uint64_t d[2] = { htole64(crkey), htole64(prkey) };

	tc_cmd_init(&cmd, 0x11, nsid);
	cmd.sqe.cdw10 = racqa | rtype << 8;
	cmd.wbuf = d;
	cmd.wlen = 16;
	return tc_exec(c, &cmd);
}

static int rel(struct tc_conn *c, uint32_t nsid, uint32_t rrela, uint32_t rtype, uint64_t crkey)
{
	struct tc_cmd cmd;
	uint64_t d = htole64(crkey);

	tc_cmd_init(&cmd, 0x15, nsid);
	cmd.sqe.cdw10 = rrela | rtype << 8;
	cmd.wbuf = &d;
	cmd.wlen = 8;
	cmd.incapsule = true;
	return tc_exec(c, &cmd);
}

static int rep(struct tc_conn *c, uint32_t nsid, void *buf, uint32_t len, bool eds)
{
	struct tc_cmd cmd;

	tc_cmd_init(&cmd, 0x0e, nsid);
	cmd.sqe.cdw10 = len / 4 - 1;
	cmd.sqe.cdw11 = eds;
	cmd.rbuf = buf;
	cmd.rlen = len;
	return tc_exec(c, &cmd);
}

/* A's controller: the next notification (AER then log 0x80 without RAE). rnlpt or negative. */
static int next_note(struct host *h, struct tc_cmd *aer, uint32_t *nsid)
{
	uint8_t page[64];
	int r = wait_long(&h->adm, aer, 5000);

	if (r < 0)
		return r;
	if (aer->status || aer->cqe.dw0 != AEN_RESV)
		return -EPROTO;
	r = tc_get_log(&h->adm, 0x80, 0xffffffff, 0, page, 64);
	if (r)
		return r < 0 ? r : -EIO;
	*nsid = le32(page + 12);
	tc_cmd_init(aer, 0x0c, 0);
	if (tc_submit(&h->adm, aer) < 0)
		return -EIO;
	return page[8];
}

static void t_resv_two_hosts(void)
{
	struct host a, b;
	struct tc_cmd aer;
	uint8_t r[4096];
	uint32_t nsid = 0;

	REQUIRE_EQ(host_connect(&a, P1, HOST_A, hid_a), 0);
	REQUIRE_EQ(host_connect(&b, P1, HOST_B, hid_b), 0);
	tc_cmd_init(&aer, 0x0c, 0);
	REQUIRE_EQ(tc_submit(&a.adm, &aer), 0);

	CHECK_EQ(reg(&a.io, 1, 0, 0, 0xA1), 0);
	CHECK_EQ(reg(&b.io, 1, 0, 0, 0xB2), 0);
	CHECK_EQ(reg(&b.io, 1, 0, 0, 0xB3), ST_CONFLICT);        /* another key while registered */
	CHECK_EQ(acq(&b.io, 1, 0, 1, 0xB3, 0), ST_CONFLICT);     /* a key that is not B's */
	CHECK_EQ(acq(&a.io, 1, 0, 1, 0xA1, 0), 0);               /* A: Write Exclusive */
	CHECK_EQ(rw(&b.io, 0x01, 1, 3), ST_CONFLICT);            /* 0x83 with DNR */
	CHECK_EQ(rw(&b.io, 0x02, 1, 3), 0);                      /* WE: others read */
	CHECK_EQ(rw(&a.io, 0x01, 1, 3), 0);
	CHECK_EQ(rw(&b.io, 0x01, 2, 3), 0);                      /* another namespace */

	REQUIRE_EQ(rep(&b.io, 1, r, 192, true), 0);
	CHECK_EQ(r[4], 1);                                       /* RTYPE WE */
	CHECK_EQ(le16(r + 5), 2);                                /* REGCTL */
	CHECK(le16(r + 64) == 0xffff && r[66] == 1 && le64(r + 72) == 0xA1 && !memcmp(r + 80, hid_a, 16));
	CHECK(r[130] == 0 && le64(r + 136) == 0xB2 && !memcmp(r + 144, hid_b, 16));
	CHECK_EQ(rep(&b.io, 1, r, 192, false), ST_HOSTID_FORMAT);

	/* B preempts A: A is told its registration was preempted */
	CHECK_EQ(acq(&b.io, 1, 1, 1, 0xB2, 0xA1), 0);
	CHECK_EQ(next_note(&a, &aer, &nsid), 1);
	CHECK_EQ(nsid, 1);
	CHECK_EQ(rw(&a.io, 0x01, 1, 3), ST_CONFLICT);
	CHECK_EQ(rw(&b.io, 0x01, 1, 3), 0);
	/* A registers again; B takes Write Exclusive - Registrants Only and releases it */
	CHECK_EQ(reg(&a.io, 1, 0, 0, 0xA1), 0);
	CHECK_EQ(rel(&b.io, 1, 0, 1, 0xB2), 0);                  /* WE release: nobody is told */
	CHECK_EQ(acq(&b.io, 1, 0, 3, 0xB2, 0), 0);
	CHECK_EQ(rw(&a.io, 0x01, 1, 3), 0);                      /* registrants write under WERO */
	CHECK_EQ(rel(&b.io, 1, 0, 1, 0xB2), ST_INVALID_FIELD);   /* the wrong type */
	CHECK_EQ(rel(&b.io, 1, 0, 3, 0xB2), 0);
	CHECK_EQ(next_note(&a, &aer, &nsid), 2);                 /* reservation released */
	CHECK_EQ(acq(&b.io, 1, 0, 1, 0xB2, 0), 0);
	CHECK_EQ(rel(&b.io, 1, 1, 0, 0xB2), 0);                  /* clear */
	CHECK_EQ(next_note(&a, &aer, &nsid), 3);                 /* reservation preempted */
	CHECK_EQ(rw(&a.io, 0x01, 1, 3), 0);
	CHECK_EQ(rw(&b.io, 0x01, 1, 3), 0);
	REQUIRE_EQ(rep(&a.io, 1, r, 64, true), 0);
	CHECK(le16(r + 5) == 0 && r[4] == 0);
	host_close(&a);
	host_close(&b);
}

static void t_ana_resv_daemon(void)
{
	struct tc_daemon *d = &D;

	CHECK(d->ready);
}

/* ============================================================ PTPL */

static char ptpl_json[2048];

static void t_ptpl_restart(void)
{
	char resv_file[160];
	struct host a, b;
	uint8_t r[256];
	uint32_t dw0 = 9;
	struct stat st;

	snprintf(resv_file, sizeof(resv_file), "%s.resv", img_path);
	REQUIRE_EQ(start(ptpl_json), 0);
	REQUIRE_EQ(host_connect(&a, P1, HOST_A, hid_a), 0);
	REQUIRE_EQ(host_connect(&b, P1, HOST_B, hid_b), 0);
	CHECK_EQ(reg(&a.io, 1, 3u << 30, 0, 0xA1), 0);           /* CPTPL = 3: persist */
	CHECK_EQ(reg(&b.io, 1, 0, 0, 0xB2), 0);
	CHECK_EQ(acq(&a.io, 1, 0, 1, 0xA1, 0), 0);
	CHECK_EQ(feature(&a.adm, 0x0a, 0x83, 1, 0, &dw0), 0);
	CHECK_EQ(dw0, 1);                                        /* PTPL on */
	CHECK(stat(resv_file, &st) == 0 && st.st_size == 24 + 2 * 24 + 4);
	host_close(&a);
	host_close(&b);
	/* power loss: the completions above mean the file was durable */
	kill(D.pid, SIGKILL);
	tc_daemon_stop(&D, 5000);

	REQUIRE_EQ(start(ptpl_json), 0);
	REQUIRE_EQ(host_connect(&a, P1, HOST_A, hid_a), 0);
	REQUIRE_EQ(host_connect(&b, P1, HOST_B, hid_b), 0);
	REQUIRE_EQ(rep(&b.io, 1, r, 192, true), 0);
	CHECK(r[4] == 1 && le16(r + 5) == 2 && r[9] == 1);       /* WE, 2 registrants, PTPLS */
	CHECK(r[66] == 1 && le64(r + 72) == 0xA1 && !memcmp(r + 80, hid_a, 16));
	CHECK(le64(r + 136) == 0xB2 && !memcmp(r + 144, hid_b, 16));
	CHECK_EQ(rw(&b.io, 0x01, 1, 5), ST_CONFLICT);
	CHECK_EQ(rw(&a.io, 0x01, 1, 5), 0);
	/* PTPL off: the file records the power-on state */
	CHECK_EQ(feature(&a.adm, 0x09, 0x83, 1, 0, NULL), 0);
	CHECK_EQ(feature(&a.adm, 0x0a, 0x83, 1, 0, &dw0), 0);
	CHECK_EQ(dw0, 0);
	CHECK(stat(resv_file, &st) == 0 && st.st_size == 24 + 4);
	CHECK_EQ(feature(&a.adm, 0x09, 0x83, 1, 2, NULL), ST_INVALID_FIELD); /* reserved bit */
	host_close(&a);
	host_close(&b);
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);

	REQUIRE_EQ(start(ptpl_json), 0);
	REQUIRE_EQ(host_connect(&a, P1, HOST_A, hid_a), 0);
	REQUIRE_EQ(rep(&a.io, 1, r, 64, true), 0);
	CHECK(r[4] == 0 && le16(r + 5) == 0 && r[9] == 0);       /* nothing survived with PTPL off */
	host_close(&a);
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

static void t_ptpl_corrupt(void)
{
	char resv_file[160], *log;
	int fd;

	snprintf(resv_file, sizeof(resv_file), "%s.resv", img_path);
	fd = open(resv_file, O_WRONLY | O_TRUNC);
	REQUIRE(fd >= 0);
	CHECK_EQ(write(fd, "NVRRESV\0garbage", 15), 15);
	close(fd);
	CHECK(start(ptpl_json) < 0);
	log = tc_daemon_log(&D);
	CHECK(log && strstr(log, resv_file) && strstr(log, "reservation state"));
	free(log);
	CHECK_EQ(tc_daemon_stop(&D, 5000), 2);
	unlink(resv_file);
}

/* ============================================================ ANA over the control socket */

static struct rpc_client *rpc;

/* Call method with params (JSON text); 0 and *res (a copy, caller puts) or the error code, message in msg. */
static int call(const char *method, const char *params, json_object **res, char *msg, size_t msglen)
{
	json_object *p = params ? json_tokener_parse(params) : NULL;
	struct rpc_reply r;
	int rc = rpc_client_call(rpc, method, p, 5000, &r);

	json_object_put(p);
	if (rc < 0)
		return rc;
	rc = r.code;
	if (msg)
		snprintf(msg, msglen, "%s", r.message ? r.message : "");
	if (res)
		*res = r.result ? json_object_get(r.result) : NULL;
	rpc_reply_free(&r);
	return rc;
}

static int set_state(int port, unsigned grpid, const char *state, unsigned transition_ms)
{
	char params[256];

	snprintf(params, sizeof(params),
		 "{\"addr\": \"127.0.0.1:%d\", \"grpid\": %u, \"state\": \"%s\", \"transition_ms\": %u}", port,
		 grpid, state, transition_ms);
	return call("ana_set_state", params, NULL, NULL, 0);
}

static uint8_t log_state(struct tc_conn *adm, bool rae)
{
	uint8_t log[4096];
	struct tc_cmd cmd;

	tc_cmd_init(&cmd, 0x02, 0xffffffff);
	cmd.sqe.cdw10 = 0x0c | (rae ? 1u << 15 : 0) | (1023u << 16);
	cmd.rbuf = log;
	cmd.rlen = sizeof(log);
	if (tc_exec(adm, &cmd))
		return 0xff;
	return log[32]; /* group 1's descriptor */
}

static void t_rpc_changes(void)
{
	struct host h1, h2;
	struct tc_cmd aer1, aer2;
	uint64_t t0, t_end;
	char msg[512];

	REQUIRE_EQ(host_connect(&h1, P1, HOST_A, hid_a), 0);
	REQUIRE_EQ(host_connect(&h2, P2, HOST_A, hid_a), 0);
	REQUIRE_EQ(tc_set_features(&h1.adm, 0x0b, 0x900, NULL), 0);
	REQUIRE_EQ(tc_set_features(&h2.adm, 0x0b, 0x900, NULL), 0);
	tc_cmd_init(&aer1, 0x0c, 0);
	tc_cmd_init(&aer2, 0x0c, 0);
	REQUIRE_EQ(tc_submit(&h1.adm, &aer1), 0);
	REQUIRE_EQ(tc_submit(&h2.adm, &aer2), 0);

	CHECK_EQ(set_state(P2, 1, "inaccessible", 0), 0);
	REQUIRE_EQ(wait_long(&h2.adm, &aer2, 3000), 0);
	CHECK_EQ(aer2.cqe.dw0, AEN_ANA);
	CHECK_EQ(rw(&h2.io, 0x01, 1, 1), ST_INACCESSIBLE);
	CHECK_EQ(rw(&h1.io, 0x01, 1, 1), 0);
	CHECK_EQ(log_state(&h2.adm, false), 3);                 /* read without RAE: unmasked */
	CHECK_EQ(tc_keep_alive(&h1.adm), 0);
	CHECK(!aer1.done);                                       /* port 1's log did not change */

	/* back to optimized through a 300 ms transition: ANA Change at once and at its end */
	tc_cmd_init(&aer2, 0x0c, 0);
	REQUIRE_EQ(tc_submit(&h2.adm, &aer2), 0);
	t0 = tc_now_ms();
	CHECK_EQ(set_state(P2, 1, "optimized", 300), 0);
	REQUIRE_EQ(wait_long(&h2.adm, &aer2, 3000), 0);
	CHECK_EQ(rw(&h2.io, 0x01, 1, 1), ST_TRANSITION);
	tc_cmd_init(&aer2, 0x0c, 0);
	REQUIRE_EQ(tc_submit(&h2.adm, &aer2), 0);
	CHECK_EQ(log_state(&h2.adm, false), 0x0f);
	REQUIRE_EQ(wait_long(&h2.adm, &aer2, 3000), 0);
	t_end = tc_now_ms() - t0;
	tap_diag("transition of 300 ms: its end reported after %llu ms", (unsigned long long)t_end);
	CHECK(t_end >= 300 && t_end < 1500);
	CHECK_EQ(aer2.cqe.dw0, AEN_ANA);
	CHECK_EQ(log_state(&h2.adm, false), 1);
	CHECK_EQ(rw(&h2.io, 0x01, 1, 1), 0);

	/* exact errors: code and message name the bad item */
	CHECK_EQ(call("ana_set_state", "{\"portid\": 2, \"grpid\": 1, \"state\": \"fast\"}", NULL, msg, sizeof(msg)),
		 -32602);
	CHECK(strstr(msg, "params.state: unknown ANA state 'fast'") == msg);
	CHECK_EQ(call("ana_set_state", "{\"portid\": 99, \"grpid\": 1, \"state\": \"optimized\"}", NULL, msg,
		      sizeof(msg)),
		 1001);
	CHECK(!strcmp(msg, "params.portid: no port 99"));
	CHECK_EQ(call("ana_set_state", "{\"addr\": \"127.0.0.1:1\", \"grpid\": 1, \"state\": \"optimized\"}", NULL,
		      msg, sizeof(msg)),
		 1001);
	CHECK(!strcmp(msg, "params.addr: no listener on '127.0.0.1:1'"));
	CHECK_EQ(call("ana_set_state", "{\"portid\": 2, \"grpid\": 129, \"state\": \"optimized\"}", NULL, msg,
		      sizeof(msg)),
		 -32602);
	CHECK(strstr(msg, "params.grpid") == msg);
	CHECK_EQ(call("ana_set_state",
		      "{\"portid\": 2, \"grpid\": 1, \"state\": \"optimized\", \"transition_ms\": 20000}", NULL,
		      msg, sizeof(msg)),
		 -32602);
	CHECK(strstr(msg, "params.transition_ms: 20000 ms is longer than ANATT") == msg);
	CHECK_EQ(call("ana_set_state", "{\"grpid\": 1, \"state\": \"optimized\"}", NULL, msg, sizeof(msg)), -32602);
	CHECK_EQ(call("ana_set_state", "{\"portid\": 2, \"grpid\": 1, \"state\": \"optimized\", \"x\": 1}", NULL,
		      msg, sizeof(msg)),
		 -32602);
	CHECK_EQ(rw(&h2.io, 0x01, 1, 1), 0);                     /* the refused calls changed nothing */
	host_close(&h1);
	host_close(&h2);
}

static void t_rpc_get(void)
{
	json_object *r = NULL, *e;
	const char *state;

	CHECK_EQ(set_state(P2, 1, "non-optimized", 0), 0);
	REQUIRE_EQ(call("ana_get", "{\"grpid\": 1}", &r, NULL, 0), 0);
	REQUIRE(r && json_object_array_length(r) == 2);
	e = json_object_array_get_idx(r, 1);
	state = json_object_get_string(json_object_object_get(e, "state"));
	CHECK(json_object_get_int(json_object_object_get(e, "portid")) == 2 && state && !strcmp(state, "non-optimized"));
	CHECK_EQ(json_object_array_length(json_object_object_get(e, "nsids")), 1);
	json_object_put(r);
	CHECK_EQ(call("ana_get", "{\"nqn\": \"nqn.2026-11.io.nvring:nope\"}", NULL, NULL, 0), 1001);
}

int main(void)
{
	char img3[160];
	int fd;

	if (!tc_daemon_path())
		return tap_skip_all("nvringd not built");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nvring-ha-XXXXXX");
	if (!mkdtemp(tmpdir))
		return tap_skip_all("no temporary directory");
	snprintf(cfg_path, sizeof(cfg_path), "%s/cfg.json", tmpdir);
	snprintf(img_path, sizeof(img_path), "%s/ptpl.img", tmpdir);
	snprintf(img3, sizeof(img3), "%s/ns2.img", tmpdir);
	fd = open(img_path, O_CREAT | O_RDWR, 0644);
	if (fd < 0 || ftruncate(fd, 16 << 20))
		return tap_skip_all("cannot create an image");
	close(fd);
	fd = open(img3, O_CREAT | O_RDWR, 0644);
	if (fd < 0 || ftruncate(fd, 16 << 20))
		return tap_skip_all("cannot create an image");
	close(fd);
	P1 = free_port();
	P2 = free_port();
	while (P2 == P1)
		P2 = free_port();
	snprintf(ana_json, sizeof(ana_json),
		 "{\"ports\": ["
		 " {\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.1\","
		 "  \"trsvcid\": \"%d\"}, \"subsystems\": [\"" NQN "\"],"
		 "  \"ana_groups\": [{\"grpid\": 2, \"ana\": {\"state\": \"non-optimized\"}},"
		 "                   {\"grpid\": 3, \"ana\": {\"state\": \"optimized\"}}]},"
		 " {\"portid\": 2, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.1\","
		 "  \"trsvcid\": \"%d\"}, \"subsystems\": [\"" NQN "\"],"
		 "  \"ana_groups\": [{\"grpid\": 1, \"ana\": {\"state\": \"inaccessible\"}},"
		 "                   {\"grpid\": 2, \"ana\": {\"state\": \"change\"}},"
		 "                   {\"grpid\": 3, \"ana\": {\"state\": \"persistent-loss\"}}]}],"
		 " \"subsystems\": [{\"nqn\": \"" NQN "\", \"attr\": {\"allow_any_host\": \"1\", \"serial\": \"ha-sn-0001\","
		 "  \"model\": \"nvring-ha\", \"cntlid_min\": \"100\", \"cntlid_max\": \"199\"},"
		 "  \"namespaces\": [{\"nsid\": 1, \"device\": {\"path\": \"mem:16M\"}},"
		 "   {\"nsid\": 2, \"ana_grpid\": 2, \"device\": {\"path\": \"%s\"}},"
		 "   {\"nsid\": 3, \"ana_grpid\": 3, \"device\": {\"path\": \"mem:16M\"}}]}]}",
		 P1, P2, img3);
	snprintf(ptpl_json, sizeof(ptpl_json),
		 "{\"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\","
		 "  \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%d\"}, \"subsystems\": [\"" NQN "\"]}],"
		 " \"subsystems\": [{\"nqn\": \"" NQN "\", \"attr\": {\"allow_any_host\": \"1\"},"
		 "  \"namespaces\": [{\"nsid\": 1, \"device\": {\"path\": \"%s\"}}]}]}",
		 P1, img_path);

	if (start(ana_json) < 0) {
		tap_diag("nvringd did not start");
		tap_run("daemon with two ports and three ANA groups", t_ana_resv_daemon);
		return tap_finish();
	}
	tap_run("daemon with two ports and three ANA groups", t_ana_resv_daemon);
	tap_run("ANA: Identify fields, controller IDs from 100..199, serial and model from the config", t_ana_identify);
	tap_run("ANA: log page 0x0C through each port", t_ana_log);
	tap_run("ANA: path statuses per state (SCT 3 without DNR)", t_ana_io);
	tap_run("ANA: a transition ends at ANATT with ANA Change on that port only", t_ana_transition_aen);
	tap_run("reservations between two hosts: WE, conflict, report, preempt, release, clear, notifications",
		t_resv_two_hosts);
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
	tap_run("PTPL: the reservation survives SIGKILL and restart; PTPL off forgets it", t_ptpl_restart);
	tap_run("PTPL: a corrupt state file refuses the start, naming it", t_ptpl_corrupt);

	/* ANA at run time: needs the control plane (the RPC server and its method table) */
	{
		const char *args[] = { "-t", "2", "-v", "--nqn", NQN, "-l", NULL, "-l", NULL, "--ns", "mem:16M",
				       "--rpc-socket", sock_path, NULL };
		char l1[32], l2[32];
		int rc;

		P1 = free_port();
		P2 = free_port();
		while (P2 == P1)
			P2 = free_port();
		snprintf(l1, sizeof(l1), "127.0.0.1:%d", P1);
		snprintf(l2, sizeof(l2), "127.0.0.1:%d", P2);
		args[6] = l1;
		args[8] = l2;
		snprintf(sock_path, sizeof(sock_path), "%s/rpc.sock", tmpdir);
		rc = tc_daemon_start(&D, args);
		if (rc == 0 && rpc_client_open(sock_path, 2000, &rpc) == 0 &&
		    call("ana_get", NULL, NULL, NULL, 0) != -32601) {
			tap_run("ANA at run time over the control socket: AEN, statuses, a transition on time, errors",
				t_rpc_changes);
			tap_run("ana_get", t_rpc_get);
		} else {
			tap_skip("ANA at run time over the control socket", "no control socket with ana_set_state");
			tap_skip("ana_get", "no control socket with ana_set_state");
		}
		if (rpc)
			rpc_client_close(rpc);
		if (rc == 0)
			CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
		unlink(sock_path);
	}
	unlink(img_path);
	unlink(img3);
	unlink(cfg_path);
	rmdir(tmpdir);
	return tap_finish();
}
