/* SPDX-License-Identifier: MIT */
#include "bystander.h"

#include <unistd.h>

#include "tap.h"

void tc_bystander_open(struct tc_bystander *b, int port)
{
	REQUIRE_EQ(tc_admin_session(&b->admin, port, 0, 30000, NULL), 0);
	REQUIRE_EQ(tc_io_session(&b->io, port, 0, b->admin.cntlid, 1, 127, 0), 0);
	b->ok = true;
}

void tc_bystander_check(struct tc_bystander *b)
{
	uint8_t w[4096], r[4096];

	if (!CHECK(b->ok))
		return;
	tc_fill(w, sizeof(w), b->seed);
	CHECK_EQ(tc_keep_alive(&b->admin), 0);
	CHECK_EQ(tc_rw(&b->io, 0x01, 1, b->lba, 8, w, sizeof(w), true), 0);
	CHECK_EQ(tc_rw(&b->io, 0x02, 1, b->lba, 8, r, sizeof(r), false), 0);
	CHECK_EQ(tc_memdiff(r, w, sizeof(r)), -1);
}

void tc_bystander_close(struct tc_bystander *b)
{
	tc_close(&b->io);
	tc_close(&b->admin);
}

bool tc_suite_start(struct tc_daemon *d, const char *const *args, const char *title, int *port,
		    void (*stop)(void), int *status)
{
	if (!tc_daemon_path()) {
		*status = tap_skip_all("nvringd not built ($NVRINGD)");
		return false;
	}
	alarm(220); /* last resort against a hang; the sockets time out long before */
	if (tc_daemon_start(d, args) < 0) {
		tap_run(title, stop);
		*status = tap_finish();
		return false;
	}
	*port = d->ports[0];
	return true;
}

bool tc_suite_begin(struct tc_daemon *d, int *port, void (*stop)(void), int *status)
{
	return tc_suite_start(d, tc_default_args, "nvringd starts and reports ready", port, stop,
			      status);
}
