/* SPDX-License-Identifier: MIT */
/*
 * The control plane over the real daemon and socket: every method, what hosts see of each
 * change (Namespace Attribute Changed and Discovery Log Change events, the Changed Namespace
 * List, GENCTR, Identify), the I/O counters in stats, SMART and the Error Information log,
 * and every kind of bad input, answered with an exact message while nothing changes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc/rpc.h"
#include "rpcc.h"
#include "tap.h"
#include "tclient.h"

#define ST_MASK 0x7ff
#define ST_INVALID_NS 0x400b
#define ST_LBA_RANGE 0x4080
#define AEN_NS_CHANGED 0x00040002u
#define AEN_DISC_CHANGED 0x0070f002u
#define DEF TC_SUBNQN
#define SUB_B "nqn.2026-11.io.nvring:rpc-b"
#define SUB_C "nqn.2026-11.io.nvring:rpc-c"
#define HOST2 "nqn.2014-08.org.nvmexpress:uuid:6e0c5a2e-0000-4000-8000-0000000000b2"
#define KEY1 "DHHC-1:00:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:"
#define KEY2 "DHHC-1:00:ZmZlZWRkY2NiYmFhOTk4ODc3NjY1NTQ0MzMyMjExMDBfBm/Y:"
#define KEY_BAD_CRC "DHHC-1:00:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiR:"

static struct tc_daemon D;
static int PORT;
static const char *SOCK;

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static bool rc_true(const char *method, const char *fmt, const char *a, const char *b)
{
	json_object *r = rc_ok(SOCK, method, fmt, a, b);
	bool ok = r && json_object_is_type(r, json_type_boolean) && json_object_get_boolean(r);

	json_object_put(r);
	return ok;
}

/* An I/O queue of a controller of another subsystem than tclient's default. */
static int io_session_on(struct tc_conn *q, const char *nqn, uint16_t cntlid)
{
	const char *saved = tc_subnqn;
	int ret;

	tc_subnqn = nqn;
	ret = tc_io_session(q, PORT, 0, cntlid, 1, 31, 0);
	tc_subnqn = saved;
	return ret;
}

static bool admin_with_aer(struct tc_conn *c, int port, const char *nqn, uint32_t kato, uint32_t aec,
			   struct tc_cmd *aer)
{
	if (!CHECK_EQ(tc_admin_session(c, port, 0, kato, nqn), 0) || !CHECK_EQ(tc_set_features(c, 0x0b, aec, NULL), 0))
		return false;
	tc_cmd_init(aer, 0x0c, 0);
	return CHECK_EQ(tc_submit(c, aer), 0);
}

static bool rearm(struct tc_conn *c, struct tc_cmd *aer)
{
	tc_cmd_init(aer, 0x0c, 0);
	return CHECK_EQ(tc_submit(c, aer), 0);
}

/* The AER completes with this event (within the socket timeout). */
static bool aer_fires(struct tc_conn *c, struct tc_cmd *aer, uint32_t result)
{
	return CHECK_EQ(tc_wait(c, aer), 0) && CHECK_EQ(aer->status, 0) && CHECK_EQ(aer->cqe.dw0, result);
}

static uint64_t id_nsze(struct tc_conn *a, uint32_t nsid)
{
	uint8_t id[4096];

	if (tc_identify(a, 0x00, nsid, 0, id) != 0)
		return UINT64_MAX;
	return le64(id);
}

/* ---------------------------------------------------------------- methods */

static void t_version_methods(void)
{
	static const char *const names[] = { "version", "config_get", "save_config", "subsystem_create",
					     "subsystem_delete", "subsystem_list", "ns_add", "ns_remove", "ns_resize",
					     "ns_list", "listener_add", "listener_remove", "host_add", "host_remove",
					     "host_set_keys", "controllers", "stats", "ana_set_state", "ana_get",
					     "rpc_get_methods" };
	json_object *v = rc_ok(SOCK, "version", NULL), *m = rc_ok(SOCK, "rpc_get_methods", NULL);
	char *all;

	REQUIRE(v && m);
	CHECK(!strcmp(rc_str(v, "name"), "nvringd") && strlen(rc_str(v, "version")) > 0);
	all = strdup(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char key[64];

		snprintf(key, sizeof(key), "\"name\":\"%s\"", names[i]);
		if (!CHECK(strstr(all, key)))
			tap_diag("method %s missing", names[i]);
	}
	CHECK_EQ(json_object_array_length(m), sizeof(names) / sizeof(names[0]));
	free(all);
	json_object_put(v);
	json_object_put(m);
}

/* ns_add / ns_resize / ns_remove while a host is connected: the event, the log, Identify, I/O. */
static void t_ns_lifecycle(void)
{
	struct tc_conn a, q;
	struct tc_cmd aer;
	uint8_t log[4096], wbuf[4096], rbuf[4096];
	json_object *r, *l;

	REQUIRE(admin_with_aer(&a, PORT, DEF, 0, 0x100, &aer));
	REQUIRE_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 31, 0), 0);
	r = rc_ok(SOCK, "ns_add", "{\"nqn\":\"%s\",\"spec\":\"mem:16M\"}", DEF);
	REQUIRE(r);
	CHECK_EQ(rc_int(r, "nsid"), 2);
	json_object_put(r);
	CHECK(aer_fires(&a, &aer, AEN_NS_CHANGED));
	CHECK_EQ(tc_get_log(&a, 0x04, 0xffffffff, 0, log, sizeof(log)), 0);
	CHECK(le32(log) == 2 && le32(log + 4) == 0);
	CHECK_EQ(tc_identify(&a, 0x02, 0, 0, log), 0);
	CHECK(le32(log) == 1 && le32(log + 4) == 2 && le32(log + 8) == 0);
	CHECK_EQ(id_nsze(&a, 2), 16u << 20 >> 9);
	tc_fill(wbuf, sizeof(wbuf), 7);
	CHECK_EQ(tc_rw(&q, 0x01, 2, 100, 8, wbuf, sizeof(wbuf), false), 0);
	CHECK_EQ(tc_rw(&q, 0x02, 2, 100, 8, rbuf, sizeof(rbuf), false), 0);
	CHECK(!memcmp(wbuf, rbuf, sizeof(rbuf)));
	l = rc_ok(SOCK, "ns_list", "{\"nqn\":\"%s\"}", DEF);
	CHECK(l && rc_int(l, "[1].nsid") == 2 && rc_int(l, "[1].size") == 16 << 20 && !strcmp(rc_str(l, "[1].kind"), "mem"));
	json_object_put(l);

	/* the log was read without RAE: the next change is reported again */
	REQUIRE(rearm(&a, &aer));
	r = rc_ok(SOCK, "ns_resize", "{\"nqn\":\"%s\",\"nsid\":2,\"size\":\"32M\"}", DEF);
	CHECK(r && rc_int(r, "size") == 32 << 20);
	json_object_put(r);
	CHECK(aer_fires(&a, &aer, AEN_NS_CHANGED));
	CHECK_EQ(tc_get_log(&a, 0x04, 0xffffffff, 0, log, sizeof(log)), 0);
	CHECK_EQ(le32(log), 2);
	CHECK_EQ(id_nsze(&a, 2), 32u << 20 >> 9);
	/* the old data is still there, the new end is reachable and reads as zeroes */
	CHECK_EQ(tc_rw(&q, 0x02, 2, 100, 8, rbuf, sizeof(rbuf), false), 0);
	CHECK(!memcmp(wbuf, rbuf, sizeof(rbuf)));
	CHECK_EQ(tc_rw(&q, 0x02, 2, (32u << 20 >> 9) - 8, 8, rbuf, sizeof(rbuf), false), 0);
	memset(wbuf, 0, sizeof(wbuf));
	CHECK(!memcmp(wbuf, rbuf, sizeof(rbuf)));
	/* shrink: the tail goes and is zero when it grows back */
	tc_fill(wbuf, sizeof(wbuf), 8);
	CHECK_EQ(tc_rw(&q, 0x01, 2, (32u << 20 >> 9) - 8, 8, wbuf, sizeof(wbuf), false), 0);
	json_object_put(rc_ok(SOCK, "ns_resize", "{\"nqn\":\"%s\",\"nsid\":2,\"size\":%d}", DEF, 8 << 20));
	CHECK_EQ(id_nsze(&a, 2), 8u << 20 >> 9);
	CHECK_EQ(tc_rw(&q, 0x02, 2, (8u << 20 >> 9), 8, rbuf, sizeof(rbuf), false), ST_LBA_RANGE);
	json_object_put(rc_ok(SOCK, "ns_resize", "{\"nqn\":\"%s\",\"nsid\":2,\"size\":\"32M\"}", DEF));
	CHECK_EQ(tc_rw(&q, 0x02, 2, (32u << 20 >> 9) - 8, 8, rbuf, sizeof(rbuf), false), 0);
	memset(wbuf, 0, sizeof(wbuf));
	CHECK(!memcmp(wbuf, rbuf, sizeof(rbuf)));

	REQUIRE(CHECK_EQ(tc_get_log(&a, 0x04, 0xffffffff, 0, log, sizeof(log)), 0) && rearm(&a, &aer));
	CHECK(rc_true("ns_remove", "{\"nqn\":\"%s\",\"nsid\":%s}", DEF, "2"));
	CHECK(aer_fires(&a, &aer, AEN_NS_CHANGED));
	CHECK_EQ(tc_get_log(&a, 0x04, 0xffffffff, 0, log, sizeof(log)), 0);
	CHECK_EQ(le32(log), 2);
	CHECK_EQ(tc_rw(&q, 0x02, 2, 100, 8, rbuf, sizeof(rbuf), false), ST_INVALID_NS);
	CHECK_EQ(tc_identify(&a, 0x02, 0, 0, log), 0);
	CHECK(le32(log) == 1 && le32(log + 4) == 0);
	/* the JSON namespace shape, with an explicit nsid */
	r = rc_ok(SOCK, "ns_add", "{\"nqn\":\"%s\",\"nsid\":7,\"device\":{\"path\":\"mem:4M\",\"lba_size\":4096}}", DEF);
	CHECK(r && rc_int(r, "nsid") == 7);
	json_object_put(r);
	CHECK_EQ(id_nsze(&a, 7), 1024);
	CHECK(rc_true("ns_remove", "{\"nqn\":\"%s\",\"nsid\":%s}", DEF, "7"));
	tc_close(&q);
	tc_close(&a);
}

/* Counters of nsid 1 and of one controller, SMART from them, the Error Information log. */
static void t_stats_smart_errors(void)
{
	struct tc_conn a, q;
	uint8_t buf[8192], smart[512], elog[4096];
	json_object *s0, *s1, *c1;
	struct tc_cmd bad;
	int64_t w0, r0, e0;
	char path[64];
	long ci = -1;

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 0, DEF), 0);
	REQUIRE_EQ(tc_io_session(&q, PORT, 0, a.cntlid, 1, 31, 0), 0);
	s0 = rc_ok(SOCK, "stats", "{\"nqn\":\"%s\",\"nsid\":1}", DEF);
	REQUIRE(s0 && json_object_array_length(rc_get(s0, "namespaces")) == 1);
	w0 = rc_int(s0, "namespaces[0].write.commands");
	r0 = rc_int(s0, "namespaces[0].read.commands");
	e0 = rc_int(s0, "namespaces[0].errors");
	tc_fill(buf, sizeof(buf), 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(tc_rw(&q, 0x01, 1, (uint64_t)i * 16, 16, buf, sizeof(buf), false), 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(tc_rw(&q, 0x02, 1, 0, 16, buf, sizeof(buf), false), 0);
	tc_rw_cmd(&bad, 0x02, 1, TC_NS1_BLOCKS, 1, buf, 512);
	REQUIRE_EQ(tc_exec(&q, &bad), ST_LBA_RANGE);

	s1 = rc_ok(SOCK, "stats", "{\"nqn\":\"%s\"}", DEF);
	REQUIRE(s1);
	CHECK_EQ(rc_int(s1, "namespaces[0].nsid"), 1);
	CHECK_EQ(rc_int(s1, "namespaces[0].write.commands") - w0, 3);
	CHECK_EQ(rc_int(s1, "namespaces[0].read.commands") - r0, 3);
	CHECK_EQ(rc_int(s1, "namespaces[0].errors") - e0, 1);
	CHECK_EQ(rc_int(s1, "namespaces[0].media_errors"), 0);
	for (size_t i = 0; i < json_object_array_length(rc_get(s1, "controllers")); i++) {
		snprintf(path, sizeof(path), "controllers[%zu].cntlid", i);
		if (rc_int(s1, path) == a.cntlid)
			ci = (long)i;
	}
	REQUIRE(ci >= 0);
	snprintf(path, sizeof(path), "controllers[%ld]", ci);
	c1 = rc_get(s1, path);
	CHECK_EQ(rc_int(c1, "write.commands"), 3);
	CHECK_EQ(rc_int(c1, "write.bytes"), 3 * 8192);
	CHECK_EQ(rc_int(c1, "read.commands"), 3);
	CHECK_EQ(rc_int(c1, "read.bytes"), 2 * 8192);
	CHECK_EQ(rc_int(c1, "errors"), 1);
	CHECK(!strcmp(rc_str(c1, "hostnqn"), TC_HOSTNQN));
	{
		int64_t n = 0, sum = rc_int(c1, "latency.sum_ns");

		for (int i = 0; i < 26; i++) {
			snprintf(path, sizeof(path), "latency.buckets[%d].count", i);
			n += rc_int(c1, path);
		}
		CHECK_EQ(n, 6);
		CHECK(sum > 0);
		CHECK_EQ(rc_int(c1, "latency.buckets[0].le_us"), 1);
		CHECK(rc_get(c1, "latency.buckets[25]") && !rc_get(c1, "latency.buckets[25].le_us"));
	}

	/* SMART for this controller: its own commands; data units of 512,000 bytes, rounded up */
	REQUIRE_EQ(tc_get_log(&a, 0x02, 0xffffffff, 0, smart, sizeof(smart)), 0);
	CHECK_EQ(le64(smart + 32), 1);   /* data units read: 16 KiB */
	CHECK_EQ(le64(smart + 48), 1);   /* data units written: 24 KiB */
	CHECK_EQ(le64(smart + 64), 3);   /* host read commands */
	CHECK_EQ(le64(smart + 80), 3);   /* host write commands */
	CHECK_EQ(le64(smart + 160), 0);  /* media errors */
	CHECK(le64(smart + 176) >= 1);   /* error log entries */
	CHECK_EQ(smart[1] | smart[2], 0); /* no temperature sensor */
	/* SMART for nsid 1: every controller's commands on it */
	REQUIRE_EQ(tc_get_log(&a, 0x02, 1, 0, smart, sizeof(smart)), 0);
	CHECK_EQ(le64(smart + 80), (uint64_t)rc_int(s1, "namespaces[0].write.commands"));
	CHECK_EQ(tc_get_log(&a, 0x02, 9, 0, smart, sizeof(smart)), ST_INVALID_NS);
	/* the newest error entry is the failed read (the Get Log Page for nsid 9 is newer) */
	REQUIRE_EQ(tc_get_log(&a, 0x01, 0, 0, elog, sizeof(elog)), 0);
	CHECK_EQ(le64(elog), le64(smart + 176) + 1);        /* Error Count of the newest entry */
	CHECK_EQ(elog[8] | elog[9] << 8, 0);                  /* SQID: the admin queue */
	CHECK_EQ(elog[12] | elog[13] << 8, (0x0b << 1) | (1u << 15)); /* Invalid Namespace, DNR */
	CHECK_EQ(le32(elog + 24), 9);                         /* NSID of the Get Log Page */
	CHECK_EQ(elog[64 + 8] | elog[64 + 9] << 8, 1);        /* SQID of the read */
	CHECK_EQ(elog[64 + 10] | elog[64 + 11] << 8, bad.sqe.cid);
	CHECK_EQ(elog[64 + 12] | elog[64 + 13] << 8, (0x80 << 1) | (1u << 15)); /* LBA Out of Range, DNR */
	CHECK_EQ(le64(elog + 64 + 16), TC_NS1_BLOCKS);       /* LBA */
	CHECK_EQ(le32(elog + 64 + 24), 1);                    /* NSID */
	CHECK_EQ(elog[64 + 29], 3);                           /* transport: TCP */
	json_object_put(s0);
	json_object_put(s1);
	tc_close(&q);
	tc_close(&a);
}

/* ---------------------------------------------------------------- bad input */

/* The raw answer to raw bytes on a fresh connection. */
static bool raw_answer(const char *req, char *out, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	size_t got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", SOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return false;
	}
	while (got + 1 < len) {
		ssize_t n = read(fd, out + got, len - got - 1);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(out, '\n', got))
			break;
	}
	out[got] = 0;
	close(fd);
	return got > 0;
}

static void t_bad_input(void)
{
	char *before = rc_config(SOCK), *after, msg[512], ans[1024];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd;

	CHECK(raw_answer("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"version\",}\n", ans, sizeof(ans)));
	CHECK(strstr(ans, "\"code\":-32700") && strstr(ans, "\"message\":\"parse error at byte"));
	CHECK(rc_fails(SOCK, RPC_ERR_METHOD_NOT_FOUND, "unknown method 'ns_ad'", "ns_ad", "{\"nqn\":\"%s\"}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params.nsid: expected an integer", "ns_remove",
		       "{\"nqn\":\"%s\",\"nsid\":\"x\"}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params.nqn: expected a string", "ns_list", "{\"nqn\":5}"));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params.nsid: required", "ns_remove", "{\"nqn\":\"%s\"}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params: unknown key 'nisd'", "ns_remove",
		       "{\"nqn\":\"%s\",\"nsid\":1,\"nisd\":1}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_NOT_FOUND, "subsystem 'nqn.2026-11.io.nvring:nope' not found", "ns_add",
		       "{\"nqn\":\"nqn.2026-11.io.nvring:nope\",\"spec\":\"mem:1M\"}"));
	snprintf(msg, sizeof(msg), "namespace 9 of '%s' not found", DEF);
	CHECK(rc_fails(SOCK, RPC_ERR_NOT_FOUND, msg, "ns_remove", "{\"nqn\":\"%s\",\"nsid\":9}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_NOT_FOUND, msg, "ns_resize", "{\"nqn\":\"%s\",\"nsid\":9,\"size\":4096}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_NOT_FOUND, msg, "stats", "{\"nqn\":\"%s\",\"nsid\":9}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_EXISTS, "params.nsid: 1 is also namespaces[0]", "ns_add",
		       "{\"nqn\":\"%s\",\"spec\":\"mem:1M\",\"nsid\":1}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params.spec: bad size '12Q'", "ns_add",
		       "{\"nqn\":\"%s\",\"spec\":\"mem:12Q\"}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params.spec: bs: must be 512 or 4096", "ns_add",
		       "{\"nqn\":\"%s\",\"spec\":\"mem:1M,bs=1000\"}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params: give spec or device, not both", "ns_add",
		       "{\"nqn\":\"%s\",\"spec\":\"mem:1M\",\"device\":{}}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params: needs spec (as --ns takes it) or device", "ns_add",
		       "{\"nqn\":\"%s\"}", DEF));
	snprintf(msg, sizeof(msg), "%s namespace 2: file: open /nonexistent/nvring.img: No such file or directory", DEF);
	CHECK(rc_fails(SOCK, RPC_ERR_IO, msg, "ns_add", "{\"nqn\":\"%s\",\"spec\":\"file:/nonexistent/nvring.img\"}", DEF));
	snprintf(msg, sizeof(msg), "params.nsid: 2000 is above the highest NSID of '%s' (1024)", DEF);
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, msg, "ns_add", "{\"nqn\":\"%s\",\"spec\":\"mem:1M\",\"nsid\":2000}", DEF));
	snprintf(msg, sizeof(msg), "namespace 1 of '%s': mem: size 1000 is not a multiple of the lba size 512", DEF);
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, msg, "ns_resize", "{\"nqn\":\"%s\",\"nsid\":1,\"size\":1000}", DEF));
	snprintf(msg, sizeof(msg),
		 "namespace 1 of '%s': mem: can grow to at most 68719476736 bytes (the address space reserved at open)", DEF);
	CHECK(rc_fails(SOCK, RPC_ERR_LIMIT, msg, "ns_resize", "{\"nqn\":\"%s\",\"nsid\":1,\"size\":\"1T\"}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params.size: must be more than 0", "ns_resize",
		       "{\"nqn\":\"%s\",\"nsid\":1,\"size\":0}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params.nsid: needs params.nqn", "stats", "{\"nsid\":1}"));

	/* subsystems */
	snprintf(msg, sizeof(msg), "params.nqn: '%s' is also subsystems[0]", DEF);
	CHECK(rc_fails(SOCK, RPC_ERR_EXISTS, msg, "subsystem_create", "{\"nqn\":\"%s\"}", DEF));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS,
		       "params.nqn: 'nqn.2014-08.org.nvmexpress.discovery' is the discovery subsystem's NQN",
		       "subsystem_create", "{\"nqn\":\"nqn.2014-08.org.nvmexpress.discovery\"}"));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params.serial: must be printable ASCII", "subsystem_create",
		       "{\"nqn\":\"%s\",\"serial\":\"\\u00e9\"}", SUB_B));
	CHECK(rc_fails(SOCK, RPC_ERR_NOT_FOUND, "params.listeners[0]: no listener on 10.9.9.9:4420", "subsystem_create",
		       "{\"nqn\":\"%s\",\"listeners\":[\"10.9.9.9:4420\"]}", SUB_B));
	CHECK(rc_fails(SOCK, RPC_ERR_NOT_FOUND, "subsystem 'nqn.2026-11.io.nvring:nope' not found", "subsystem_delete",
		       "{\"nqn\":\"nqn.2026-11.io.nvring:nope\"}"));

	/* listeners: one that cannot bind, one that exists */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(fd, 1) &&
		!getsockname(fd, (struct sockaddr *)&sa, &sl));
	snprintf(msg, sizeof(msg), "cannot listen on 127.0.0.1:%u: Address already in use", ntohs(sa.sin_port));
	CHECK(rc_fails(SOCK, RPC_ERR_FAILED, msg, "listener_add", "{\"addr\":\"127.0.0.1:%u\"}", ntohs(sa.sin_port)));
	close(fd);
	snprintf(msg, sizeof(msg), "params.addr: 127.0.0.1:%d is also ports[0]", PORT);
	CHECK(rc_fails(SOCK, RPC_ERR_EXISTS, msg, "listener_add", "{\"addr\":\"127.0.0.1:%d\"}", PORT));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS,
		       "params.addr: '127.0.0.1' is not ADDR:PORT or [IPV6]:PORT with a numeric address", "listener_add",
		       "{\"addr\":\"127.0.0.1\"}"));
	CHECK(rc_fails(SOCK, RPC_ERR_NOT_FOUND, "params.subsystems[0]: subsystem 'nqn.2026-11.io.nvring:nope' not found",
		       "listener_add", "{\"addr\":\"127.0.0.1:0\",\"subsystems\":[\"nqn.2026-11.io.nvring:nope\"]}"));
	CHECK(rc_fails(SOCK, RPC_ERR_NOT_FOUND, "no listener on 127.0.0.1:1", "listener_remove", "{\"addr\":\"127.0.0.1:1\"}"));

	/* hosts */
	snprintf(msg, sizeof(msg), "'%s' lets any host in (allow_any_host): hosts are listed only on a subsystem "
		 "created with \"allow_any_host\": false", DEF);
	CHECK(rc_fails(SOCK, RPC_ERR_STATE, msg, "host_add", "{\"nqn\":\"%s\",\"host\":\"%s\"}", DEF, HOST2));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS, "params.host: 'nqn.bad' is not a valid NQN", "host_add",
		       "{\"nqn\":\"%s\",\"host\":\"nqn.bad\"}", DEF));
	snprintf(msg, sizeof(msg), "host '%s' is not allowed into '%s'", HOST2, DEF);
	CHECK(rc_fails(SOCK, RPC_ERR_NOT_FOUND, msg, "host_remove", "{\"nqn\":\"%s\",\"host\":\"%s\"}", DEF, HOST2));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS,
		       "params.dhchap_key: must be a DH-HMAC-CHAP secret (DHHC-1:XX:BASE64:) or \"\" for none", "host_set_keys",
		       "{\"nqn\":\"%s\",\"host\":\"%s\",\"dhchap_key\":\"secret\"}", DEF, HOST2));
	CHECK(rc_fails(SOCK, RPC_ERR_IO, "/nonexistent/dir/c.json.tmp: No such file or directory", "save_config",
		       "{\"path\":\"/nonexistent/dir/c.json\"}"));

	after = rc_config(SOCK);
	CHECK(!strcmp(before, after));
	free(before);
	free(after);
}

/* ---------------------------------------------------------------- subsystems, hosts, discovery */

static void t_subsystems_hosts(void)
{
	struct tc_conn d, a, q, x;
	struct tc_cmd aer;
	struct tc_connect_args ca;
	struct nvme_cqe cqe;
	uint8_t log[8192], buf[4096];
	uint64_t g0;
	json_object *r;
	bool listed;

	/* a persistent discovery controller: keep-alive, discovery change events enabled */
	REQUIRE(admin_with_aer(&d, PORT, TC_DISCNQN, 30000, 1u << 31, &aer));
	REQUIRE_EQ(tc_get_log(&d, 0x70, 0, 0, log, 4096), 0);
	g0 = le64(log);

	r = rc_ok(SOCK, "subsystem_create", "{\"nqn\":\"%s\",\"serial\":\"SNB\",\"model\":\"rpc test\"}", SUB_B);
	CHECK(r && !strcmp(rc_str(r, "nqn"), SUB_B) && !strcmp(rc_str(r, "serial"), "SNB"));
	json_object_put(r);
	CHECK(aer_fires(&d, &aer, AEN_DISC_CHANGED));
	REQUIRE_EQ(tc_get_log(&d, 0x70, 0, 0, log, sizeof(log)), 0);
	CHECK(le64(log) > g0);
	listed = false;
	for (uint64_t i = 0; i < le64(log + 8) && i < 7; i++)
		listed |= !strcmp((char *)log + 1024 * (i + 1) + 256, SUB_B);
	CHECK(!listed); /* nobody is allowed in yet */
	r = rc_ok(SOCK, "subsystem_list", NULL);
	CHECK(r && !strcmp(rc_str(r, "[1].nqn"), SUB_B) && !json_object_get_boolean(rc_get(r, "[1].allow_any_host")) &&
	      !strcmp(rc_str(r, "[1].model"), "rpc test"));
	json_object_put(r);

	REQUIRE(rearm(&d, &aer));
	CHECK(rc_true("host_add", "{\"nqn\":\"%s\",\"host\":\"%s\"}", SUB_B, TC_HOSTNQN));
	CHECK(aer_fires(&d, &aer, AEN_DISC_CHANGED));
	REQUIRE_EQ(tc_get_log(&d, 0x70, 0, 0, log, sizeof(log)), 0);
	listed = false;
	for (uint64_t i = 0; i < le64(log + 8) && i < 7; i++)
		listed |= !strcmp((char *)log + 1024 * (i + 1) + 256, SUB_B);
	CHECK(listed);
	r = rc_ok(SOCK, "ns_add", "{\"nqn\":\"%s\",\"spec\":\"mem:8M\"}", SUB_B);
	CHECK(r && rc_int(r, "nsid") == 1);
	json_object_put(r);

	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 0, SUB_B), 0);
	REQUIRE_EQ(io_session_on(&q, SUB_B, a.cntlid), 0);
	tc_fill(buf, sizeof(buf), 11);
	CHECK_EQ(tc_rw(&q, 0x01, 1, 0, 8, buf, sizeof(buf), false), 0);
	r = rc_ok(SOCK, "controllers", "{\"nqn\":\"%s\"}", SUB_B);
	CHECK(r && json_object_array_length(r) == 1 && rc_int(r, "[0].cntlid") == a.cntlid &&
	      !strcmp(rc_str(r, "[0].hostnqn"), TC_HOSTNQN) && !strcmp(rc_str(r, "[0].nqn"), SUB_B) &&
	      strlen(rc_str(r, "[0].hostid")) == 36 && !strncmp(rc_str(r, "[0].peer"), "127.0.0.1:", 10) &&
	      json_object_array_length(rc_get(r, "[0].queues")) == 2 && rc_int(r, "[0].queues[1].qid") == 1 &&
	      rc_int(r, "[0].queues[1].size") == 32);
	json_object_put(r);

	/* the host goes: its controller is torn down, it cannot come back */
	REQUIRE(rearm(&d, &aer));
	CHECK(rc_true("host_remove", "{\"nqn\":\"%s\",\"host\":\"%s\"}", SUB_B, TC_HOSTNQN));
	CHECK_EQ(tc_wait_closed(&a, 5000), 0);
	CHECK_EQ(tc_wait_closed(&q, 5000), 0);
	tc_close(&q);
	tc_close(&a);
	r = rc_ok(SOCK, "controllers", "{\"nqn\":\"%s\"}", SUB_B);
	CHECK(r && json_object_array_length(r) == 0);
	json_object_put(r);
	CHECK(aer_fires(&d, &aer, AEN_DISC_CHANGED));
	REQUIRE(CHECK_EQ(tc_open(&x, PORT), 0) && CHECK_EQ(tc_icreq(&x, 0, NULL), 0));
	tc_connect_args_default(&ca, 0, 0xffff);
	ca.subnqn = SUB_B;
	CHECK_EQ(tc_fabrics_connect(&x, &ca, &cqe) & ST_MASK, 0x184);
	tc_close(&x);

	/* deleting a subsystem with a host connected: the host is disconnected, the rest goes */
	CHECK(rc_true("host_add", "{\"nqn\":\"%s\",\"host\":\"%s\"}", SUB_B, TC_HOSTNQN));
	REQUIRE_EQ(tc_admin_session(&a, PORT, 0, 0, SUB_B), 0);
	REQUIRE_EQ(io_session_on(&q, SUB_B, a.cntlid), 0);
	REQUIRE(CHECK_EQ(tc_get_log(&d, 0x70, 0, 0, log, 4096), 0) && rearm(&d, &aer));
	CHECK(rc_true("subsystem_delete", "{\"nqn\":\"%s\"%s}", SUB_B, ""));
	CHECK_EQ(tc_wait_closed(&a, 5000), 0);
	CHECK_EQ(tc_wait_closed(&q, 5000), 0);
	tc_close(&q);
	tc_close(&a);
	CHECK(aer_fires(&d, &aer, AEN_DISC_CHANGED));
	r = rc_ok(SOCK, "subsystem_list", NULL);
	CHECK(r && json_object_array_length(r) == 1);
	json_object_put(r);
	REQUIRE(CHECK_EQ(tc_open(&x, PORT), 0) && CHECK_EQ(tc_icreq(&x, 0, NULL), 0));
	CHECK_EQ(tc_fabrics_connect(&x, &ca, &cqe) & ST_MASK, 0x182); /* no such subsystem */
	tc_close(&x);

	/* exported on no listener: nobody reaches it */
	json_object_put(rc_ok(SOCK, "subsystem_create", "{\"nqn\":\"%s\",\"allow_any_host\":true,\"listeners\":[]}", SUB_B));
	REQUIRE(CHECK_EQ(tc_open(&x, PORT), 0) && CHECK_EQ(tc_icreq(&x, 0, NULL), 0));
	CHECK_EQ(tc_fabrics_connect(&x, &ca, &cqe) & ST_MASK, 0x182);
	tc_close(&x);
	CHECK(rc_true("subsystem_delete", "{\"nqn\":\"%s\"%s}", SUB_B, ""));
	tc_close(&d);
}

/* ---------------------------------------------------------------- listeners */

static void t_listeners(void)
{
	struct tc_conn a, x;
	json_object *r, *l;
	char addr[64];
	int p2;

	r = rc_ok(SOCK, "listener_add", "{\"addr\":\"127.0.0.1:0\"}");
	REQUIRE(r);
	snprintf(addr, sizeof(addr), "%s", rc_str(r, "addr"));
	p2 = atoi(strchr(addr, ':') + 1);
	CHECK(p2 > 0 && p2 != PORT && rc_int(r, "portid") == 2);
	json_object_put(r);
	l = rc_ok(SOCK, "subsystem_list", NULL);
	CHECK(l && !strcmp(rc_str(l, "[0].listeners[1]"), addr));
	json_object_put(l);
	REQUIRE_EQ(tc_admin_session(&a, p2, 0, 0, DEF), 0);
	CHECK(rc_true("listener_remove", "{\"addr\":\"%s\"%s}", addr, ""));
	CHECK_EQ(tc_wait_closed(&a, 5000), 0); /* connected through it: torn down */
	tc_close(&a);
	CHECK_EQ(tc_open(&x, p2), -ECONNREFUSED);
	/* the same address again: the port was given back */
	r = rc_ok(SOCK, "listener_add", "{\"addr\":\"%s\",\"discovery_only\":true}", addr);
	CHECK(r && !strcmp(rc_str(r, "addr"), addr));
	json_object_put(r);
	REQUIRE_EQ(tc_admin_session(&a, p2, 0, 0, TC_DISCNQN), 0);
	tc_close(&a);
	CHECK(tc_admin_session(&a, p2, 0, 0, DEF) != 0); /* discovery only: no I/O subsystem there */
	tc_close(&a);
	CHECK(rc_true("listener_remove", "{\"addr\":\"%s\"%s}", addr, ""));
}

/* ---------------------------------------------------------------- keys */

static bool connect_dw0(int port, const char *subnqn, const char *hostnqn, uint16_t *status, uint32_t *dw0)
{
	struct tc_connect_args ca;
	struct nvme_cqe cqe;
	struct tc_conn x;

	if (!CHECK_EQ(tc_open(&x, port), 0) || !CHECK_EQ(tc_icreq(&x, 0, NULL), 0))
		return false;
	tc_connect_args_default(&ca, 0, 0xffff);
	ca.subnqn = subnqn;
	ca.hostnqn = hostnqn;
	*status = (uint16_t)tc_fabrics_connect(&x, &ca, &cqe);
	*dw0 = cqe.dw0;
	tc_close(&x);
	return true;
}

static void t_host_keys(void)
{
	char msg[512], *before;
	json_object *cfg;
	uint16_t st;
	uint32_t dw0;

	json_object_put(rc_ok(SOCK, "subsystem_create", "{\"nqn\":\"%s\"}", SUB_C));
	CHECK(rc_true("host_add", "{\"nqn\":\"%s\",\"host\":\"%s\",\"dhchap_key\":\"" KEY1 "\"}", SUB_C, HOST2));
	REQUIRE(connect_dw0(PORT, SUB_C, HOST2, &st, &dw0));
	CHECK(st == 0 && (dw0 & (1u << 17))); /* authentication required (ATR) */
	snprintf(msg, sizeof(msg), "host '%s' is already known with its keys (host_set_keys changes them)", HOST2);
	json_object_put(rc_ok(SOCK, "subsystem_create", "{\"nqn\":\"%s\"}", SUB_B));
	CHECK(rc_fails(SOCK, RPC_ERR_EXISTS, msg, "host_add",
		       "{\"nqn\":\"%s\",\"host\":\"%s\",\"dhchap_key\":\"" KEY2 "\"}", SUB_B, HOST2));
	/* a known host joins another subsystem with the keys it has */
	CHECK(rc_true("host_add", "{\"nqn\":\"%s\",\"host\":\"%s\"}", SUB_B, HOST2));
	REQUIRE(connect_dw0(PORT, SUB_B, HOST2, &st, &dw0));
	CHECK(st == 0 && (dw0 & (1u << 17)));

	CHECK(rc_true("host_set_keys", "{\"nqn\":\"%s\",\"host\":\"%s\",\"dhchap_key\":\"" KEY2 "\"}", SUB_C, HOST2));
	cfg = rc_ok(SOCK, "config_get", NULL);
	CHECK(cfg && !strcmp(rc_str(cfg, "hosts[0].nqn"), HOST2) && !strcmp(rc_str(cfg, "hosts[0].dhchap_key"), KEY2));
	json_object_put(cfg);
	before = rc_config(SOCK);
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS,
		       "host " HOST2 ": dhchap_key: CRC-32 mismatch (corrupt or mistyped key)", "host_set_keys",
		       "{\"nqn\":\"%s\",\"host\":\"%s\",\"dhchap_key\":\"" KEY_BAD_CRC "\"}", SUB_C, HOST2));
	CHECK(rc_fails(SOCK, RPC_ERR_INVALID_PARAMS,
		       "host " HOST2 ": a dhchap_ctrl_key needs a dhchap_key (the host authenticates first)", "host_set_keys",
		       "{\"nqn\":\"%s\",\"host\":\"%s\",\"dhchap_key\":\"\",\"dhchap_ctrl_key\":\"" KEY1 "\"}", SUB_C, HOST2));
	{
		char *after = rc_config(SOCK);

		CHECK(!strcmp(before, after));
		free(after);
	}
	free(before);
	/* both keys, then none: the host connects without authenticating */
	CHECK(rc_true("host_set_keys", "{\"nqn\":\"%s\",\"host\":\"%s\",\"dhchap_ctrl_key\":\"" KEY1 "\"}", SUB_C, HOST2));
	CHECK(rc_true("host_set_keys", "{\"nqn\":\"%s\",\"host\":\"%s\",\"dhchap_key\":\"\",\"dhchap_ctrl_key\":\"\"}",
		      SUB_C, HOST2));
	REQUIRE(connect_dw0(PORT, SUB_C, HOST2, &st, &dw0));
	CHECK(st == 0 && !(dw0 & (3u << 17)));
	CHECK(rc_true("subsystem_delete", "{\"nqn\":\"%s\"%s}", SUB_C, ""));
	CHECK(rc_true("subsystem_delete", "{\"nqn\":\"%s\"%s}", SUB_B, ""));
	cfg = rc_ok(SOCK, "config_get", NULL);
	CHECK(cfg && json_object_array_length(rc_get(cfg, "hosts")) == 0); /* nobody allows it any more */
	json_object_put(cfg);
}

static void t_stop(void)
{
	CHECK_EQ(tc_daemon_stop(&D, 10000), 0);
}

int main(void)
{
	const char *args[] = { "-l", "127.0.0.1:0", "--ns", "mem:64M", "-t", "2", "-v", "--rpc-socket", NULL, NULL };

	if (!tc_daemon_path())
		return tap_skip_all("nvringd not built ($NVRINGD)");
	SOCK = rc_socket_path("rpc");
	args[8] = SOCK;
	if (tc_daemon_start(&D, args) < 0)
		return tap_skip_all("nvringd did not start");
	PORT = D.ports[0];
	tap_run("version and the method list", t_version_methods);
	tap_run("ns_add/ns_resize/ns_remove: event, changed list, Identify, I/O", t_ns_lifecycle);
	tap_run("stats, SMART and the error log from real counters", t_stats_smart_errors);
	tap_run("bad input: exact errors, nothing changes", t_bad_input);
	tap_run("subsystems and hosts: discovery events, teardown, deletion", t_subsystems_hosts);
	tap_run("listener_add/listener_remove", t_listeners);
	tap_run("host keys: add, rotate, refuse, remove", t_host_keys);
	tap_run("nvringd exits 0 on SIGTERM", t_stop);
	return tap_finish();
}
