/* SPDX-License-Identifier: MIT */
/* DH-HMAC-CHAP on each queue after its Connect: Authentication Send/Receive driven by the
 * host session of src/auth. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth/dhchap.h"
#include "auth/dhchap_host.h"
#include "auth/dhchap_msg.h"
#include "internal.h"

#define HAUTH_RECV_AL 4096 /* what the Linux host asks for; nvmet pads to it */

void hauth_err(struct nvr_ctrl *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->opts.errbuf || !c->opts.errbuf_len)
		return;
	va_start(ap, fmt);
	vsnprintf(c->opts.errbuf, c->opts.errbuf_len, fmt, ap);
	va_end(ap);
}

int hauth_setup(struct nvr_ctrl *c)
{
	const char *why;

	if (c->opts.errbuf && c->opts.errbuf_len)
		c->opts.errbuf[0] = 0;
	if (c->opts.dhchap_secret) {
		if (dhchap_key_parse(c->opts.dhchap_secret, &c->host_key, &why)) {
			hauth_err(c, "bad DH-HMAC-CHAP host secret: %s", why);
			return -EINVAL;
		}
		c->has_host_key = true;
	}
	if (c->opts.dhchap_ctrl_secret) {
		if (dhchap_key_parse(c->opts.dhchap_ctrl_secret, &c->ctrl_key, &why)) {
			hauth_err(c, "bad DH-HMAC-CHAP controller secret: %s", why);
			return -EINVAL;
		}
		if (!c->has_host_key) {
			hauth_err(c, "a DH-HMAC-CHAP controller secret needs a host secret too");
			return -EINVAL;
		}
		c->has_ctrl_key = true;
	}
	/* the transaction ID only has to differ between transactions of this host */
	c->auth_tid = (uint16_t)hq_now_ns();
	return 0;
}

static int hauth_cmd(struct nvr_queue *q, uint8_t fctype, void *buf, uint32_t len, struct nvr_cpl *cpl)
{
	struct dhchap_auth_sqe sqe = { .opcode = NVME_FABRICS_OPCODE, .fctype = fctype, .spsp0 = DHCHAP_SPSP0,
				       .spsp1 = DHCHAP_SPSP1, .secp = DHCHAP_SECP, .len = len };

	/* Sends go in-capsule like Connect: I/O queues have no in-capsule size before Identify */
	return hq_exec(q, &sqe, fctype == DHCHAP_FCTYPE_SEND ? NVR_DIR_H2C : NVR_DIR_C2H, buf, len,
		       fctype == DHCHAP_FCTYPE_SEND, cpl);
}

static int hauth_run(struct nvr_ctrl *c, struct nvr_queue *q, struct dhchap_host *h, uint16_t *status)
{
	uint8_t buf[HAUTH_RECV_AL];
	uint16_t qid = nvr_queue_qid(q);

	for (;;) {
		enum dhchap_host_state st = dhchap_host_state(h);
		struct nvr_cpl cpl = { 0 };
		size_t len = 0;
		int ret;

		if (st == DHCHAP_HOST_DONE)
			return 0;
		if (st == DHCHAP_HOST_FAILED) {
			hauth_err(c, "qid %u: DH-HMAC-CHAP: %s", qid, dhchap_host_error(h));
			return dhchap_host_result(h);
		}
		if (st == DHCHAP_HOST_SEND) {
			ret = dhchap_host_next(h, buf, sizeof(buf), &len);
			if (ret)
				return ret;
			ret = hauth_cmd(q, DHCHAP_FCTYPE_SEND, buf, (uint32_t)len, &cpl);
		} else {
			ret = hauth_cmd(q, DHCHAP_FCTYPE_RECV, buf, sizeof(buf), &cpl);
			if (!ret)
				dhchap_host_recv(h, buf, cpl.xfer_len);
		}
		if (ret > 0) {
			hauth_err(c, "qid %u: DH-HMAC-CHAP: Authentication %s failed: NVMe status %s (0x%x)", qid,
				  st == DHCHAP_HOST_SEND ? "Send" : "Receive", nvr_status_str((uint16_t)ret, NVR_STATUS_FABRICS),
				  ret & 0x7ff);
			if (status)
				*status = (uint16_t)ret;
			return -EREMOTEIO;
		}
		if (ret < 0) {
			hauth_err(c, "qid %u: DH-HMAC-CHAP: Authentication %s: %s", qid,
				  st == DHCHAP_HOST_SEND ? "Send" : "Receive", strerror(-ret));
			return ret;
		}
	}
}

int hauth_queue(struct nvr_ctrl *c, struct nvr_queue *q, uint32_t dw0, uint16_t *status)
{
	struct dhchap_host_cfg cfg = { .host_key = &c->host_key, .ctrl_key = c->has_ctrl_key ? &c->ctrl_key : NULL,
				       .hostnqn = c->hostnqn, .subnqn = c->subnqn, .tid = c->auth_tid++ };
	struct dhchap_host *h;
	int ret;

	if (dw0 & DHCHAP_CONNECT_ASCR) {
		hauth_err(c, "qid %u: the controller requires secure channel concatenation (ASCR), not supported",
			  nvr_queue_qid(q));
		return -ENOTSUP;
	}
	/* with a controller secret the user wants proof of the controller's identity: ask for it
	 * even where the controller does not require authentication */
	if (!(dw0 & DHCHAP_CONNECT_ATR) && !c->has_ctrl_key)
		return 0;
	if (!c->has_host_key) {
		hauth_err(c, "qid %u: the controller requires DH-HMAC-CHAP authentication; give a host secret "
			     "(--dhchap-secret)",
			  nvr_queue_qid(q));
		return -EACCES;
	}
	h = dhchap_host_new(&cfg);
	if (!h) {
		hauth_err(c, "qid %u: DH-HMAC-CHAP: bad host or subsystem NQN", nvr_queue_qid(q));
		return -errno;
	}
	ret = hauth_run(c, q, h, status);
	dhchap_host_free(h);
	return ret;
}
