/* SPDX-License-Identifier: MIT */
/* Fabrics commands (opcode 0x7F): Connect, Property Get, Property Set (reference B.1–B.3). */
#include <string.h>

#include <nvme/types.h>

#include "auth.h"
#include "core/queue.h"
#include "ctrl.h"
#include "identify.h"
#include "log.h"
#include "target.h"
#include "tls/psk.h"

#define SC(sct, sc) NVME_STATUS(NVME_SCT_##sct, NVME_SC_##sc)
#define CONNECT_INVALID_PARAM (NVME_STATUS(NVME_SCT_CMD_SPECIFIC, 0x82) | NVME_STATUS_DNR)
#define CONNECT_INVALID_HOST (NVME_STATUS(NVME_SCT_CMD_SPECIFIC, 0x84) | NVME_STATUS_DNR)
#define CONNECT_INCOMPATIBLE_FORMAT (NVME_STATUS(NVME_SCT_CMD_SPECIFIC, 0x80) | NVME_STATUS_DNR)

#define NVR_VS 0x00020000u /* NVMe 2.0 */
#define AUTH_FCTYPE_SEND 0x05
#define AUTH_FCTYPE_RECV 0x06
#define NVR_CAP_TO 30      /* 15 s in 500 ms units */

static bool subsys_on_port(const struct nvr_subsys *s, const struct nvr_port *port)
{
	if (s->discovery)
		return true;
	if (port->discovery_only)
		return false;
	for (unsigned i = 0; i < s->nr_ports; i++)
		if (s->ports[i] == port)
			return true;
	return false;
}

static bool subsys_has_kv(const struct nvr_subsys *s)
{
	return identify_has_kv(s);
}

static uint64_t ctrl_cap(const struct nvr_ctrl *ctrl)
{
	uint64_t cap = 0;

	cap |= NVR_MQES;                  /* MQES */
	cap |= 1ull << 16;                /* CQR: contiguous queues required */
	cap |= (uint64_t)NVR_CAP_TO << 24; /* TO */
	cap |= 1ull << 37;                /* CSS: NVM command set */
	if (subsys_has_kv(ctrl->subsys))
		cap |= 1ull << 43;        /* CSS: I/O command sets (CSI), needed for KV */
	/* MPSMIN = MPSMAX = 0: 4 KiB */
	return cap;
}

/* A queue secured by TLS belongs to the host and subsystem its PSK identity names. */
static bool connect_tls_matches(struct nvr_queue *q, const char *hostnqn, const char *subnqn)
{
	const char *ident = q->ops->tls_identity ? q->ops->tls_identity(q) : NULL;
	struct tls_identity id;

	if (!ident)
		return true;
	if (tls_identity_parse(ident, strlen(ident), &id) < 0)
		return false;
	return !strcmp(id.hostnqn, hostnqn) && !strcmp(id.subnqn, subnqn);
}

static void connect_fail(struct req *req, uint16_t status, uint32_t ipo)
{
	req_complete(req, status, ipo, 0);
}

static void fabrics_connect(struct req *req)
{
	struct nvr_queue *c = req->q;
	struct target *tgt = c->w->tgt;
	const struct nvmf_connect_sqe *cmd = (const void *)&req->sqe;
	struct nvmf_connect_data *data = req->buf;
	struct nvr_subsys *s;
	struct nvr_ctrl *ctrl;
	uint16_t qid = cmd->qid, sqsize = cmd->sqsize;
	uint32_t atr;

	if (c->ctrl) {
		req_complete_status(req, SC(GENERIC, CMD_SEQ_ERROR) | NVME_STATUS_DNR);
		return;
	}
	if (req->data_len < NVMF_CONNECT_DATA_LEN || !data) {
		req_complete_status(req, SC(GENERIC, SGL_INVALID_DATA) | NVME_STATUS_DNR);
		return;
	}
	if (cmd->recfmt != 0) {
		connect_fail(req, CONNECT_INCOMPATIBLE_FORMAT, NVMF_IPO_IATTR_SQE(offsetof(struct nvmf_connect_sqe, recfmt)));
		return;
	}
	data->subsysnqn[NVME_NQN_LENGTH - 1] = 0;
	data->hostnqn[NVME_NQN_LENGTH - 1] = 0;
	s = target_find_subsys(tgt, data->subsysnqn);
	if (!s || !subsys_on_port(s, c->port)) {
		log_info("%s: connect to unknown subsystem '%s'", c->peer, data->subsysnqn);
		connect_fail(req, CONNECT_INVALID_PARAM,
			     NVMF_IPO_IATTR_DATA(offsetof(struct nvmf_connect_data, subsysnqn)));
		return;
	}
	if (!subsys_host_allowed(s, data->hostnqn)) {
		log_info("%s: host '%s' not allowed on '%s'", c->peer, data->hostnqn, s->nqn);
		connect_fail(req, CONNECT_INVALID_HOST,
			     NVMF_IPO_IATTR_DATA(offsetof(struct nvmf_connect_data, hostnqn)));
		return;
	}
	if (!connect_tls_matches(c, data->hostnqn, s->nqn)) {
		log_info("%s: host '%s' connects with another host's TLS identity", c->peer, data->hostnqn);
		connect_fail(req, CONNECT_INVALID_HOST, NVMF_IPO_IATTR_DATA(offsetof(struct nvmf_connect_data, hostnqn)));
		return;
	}
	if (sqsize == 0 || sqsize > (qid ? NVR_MQES : NVR_ADMIN_MQES)) {
		connect_fail(req, CONNECT_INVALID_PARAM, NVMF_IPO_IATTR_SQE(offsetof(struct nvmf_connect_sqe, sqsize)));
		return;
	}

	if (qid == 0) {
		if (data->cntlid != 0xffff) {
			connect_fail(req, CONNECT_INVALID_PARAM,
				     NVMF_IPO_IATTR_DATA(offsetof(struct nvmf_connect_data, cntlid)));
			return;
		}
		ctrl = target_ctrl_create(tgt, s);
		if (!ctrl) {
			req_complete_status(req, NVME_STATUS(NVME_SCT_CMD_SPECIFIC, 0x81)); /* controller busy */
			return;
		}
		memcpy(ctrl->hostnqn, data->hostnqn, sizeof(ctrl->hostnqn));
		memcpy(ctrl->hostid, data->hostid, sizeof(ctrl->hostid));
		ctrl->kato_ms = cmd->kato;
		ctrl->last_ka_ms = c->w->now_ms;
		ctrl->nr_io_queues = s->discovery ? 0 : NVR_MAX_IO_QUEUES;
		/* a present volatile cache starts enabled, as hosts assume */
		ctrl->feat_vwc = !s->discovery && identify_has_vwc(s);
		pthread_mutex_lock(&tgt->lock);
		ctrl->queues[0] = c;
		pthread_mutex_unlock(&tgt->lock);
		log_info("%s: controller %u for %s on %s (kato %u ms)", c->peer, ctrl->cntlid, ctrl->hostnqn,
			 s->nqn, ctrl->kato_ms);
	} else {
		bool taken;

		ctrl = target_ctrl_get(tgt, data->cntlid);
		if (!ctrl || ctrl->subsys != s || strcmp(ctrl->hostnqn, data->hostnqn)) {
			if (ctrl)
				ctrl_put(ctrl);
			connect_fail(req, CONNECT_INVALID_PARAM,
				     NVMF_IPO_IATTR_DATA(offsetof(struct nvmf_connect_data, cntlid)));
			return;
		}
		if (memcmp(ctrl->hostid, data->hostid, sizeof(ctrl->hostid))) {
			/* a queue joins only the host that created the controller: same NQN and host ID */
			log_info("%s: I/O connect to controller %u with another host ID", c->peer, ctrl->cntlid);
			ctrl_put(ctrl);
			connect_fail(req, CONNECT_INVALID_PARAM,
				     NVMF_IPO_IATTR_DATA(offsetof(struct nvmf_connect_data, hostid)));
			return;
		}
		if (qid > ctrl->nr_io_queues || !(ctrl->cc & NVME_CC_EN_MASK)) {
			ctrl_put(ctrl);
			connect_fail(req, CONNECT_INVALID_PARAM, NVMF_IPO_IATTR_SQE(offsetof(struct nvmf_connect_sqe, qid)));
			return;
		}
		pthread_mutex_lock(&tgt->lock);
		taken = ctrl->queues[qid] != NULL || atomic_load(&ctrl->dead);
		if (!taken)
			ctrl->queues[qid] = c;
		pthread_mutex_unlock(&tgt->lock);
		if (taken) {
			ctrl_put(ctrl);
			req_complete_status(req, SC(GENERIC, CMD_SEQ_ERROR) | NVME_STATUS_DNR);
			return;
		}
		log_debug("%s: I/O queue %u of controller %u", c->peer, qid, ctrl->cntlid);
	}
	c->ctrl = ctrl;
	c->qid = qid;
	c->sqsize = sqsize;
	c->sqhd = 0;
	c->sqflow_off = cmd->cattr & NVMF_CONNECT_DISABLE_SQFLOW;
	c->max_icd = qid ? NVR_IOCCSZ_ICD : NVR_ADMIN_ICD;
	req->ctrl = ctrl;
	/* every queue of a host with a key authenticates before anything else runs on it */
	atr = auth_connect(req, subsys_host_find(s, ctrl->hostnqn));
	c->auth_required = atr != 0;
	if (c->ops->connected(c)) {
		/* no memory for what SQSIZE grants: the queue goes, the host may retry */
		log_err("%s: out of memory for queue %u", c->peer, qid);
		req_complete_status(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
		c->ops->close(c);
		return;
	}
	req_complete(req, 0, (qid ? 0 : ctrl->cntlid) | atr, 0);
}

static void fabrics_property_get(struct req *req)
{
	const struct nvmf_property_sqe *cmd = (const void *)&req->sqe;
	struct nvr_ctrl *ctrl = req->ctrl;
	bool eight = (cmd->attrib & 7) == 1;
	uint64_t val;

	switch (cmd->offset) {
	case NVME_REG_CAP:
		if (!eight)
			goto invalid;
		val = ctrl_cap(ctrl);
		break;
	case NVME_REG_VS:
		val = NVR_VS;
		break;
	case NVME_REG_CC:
		val = ctrl->cc;
		break;
	case NVME_REG_CSTS:
		val = ctrl->csts;
		break;
	case NVME_REG_CRTO:
		/* CRWMT/CRIMT in 500 ms units, as CAP.TO */
		val = (uint32_t)NVR_CAP_TO | ((uint32_t)NVR_CAP_TO << 16);
		break;
	default:
		goto invalid;
	}
	if (eight && cmd->offset != NVME_REG_CAP)
		goto invalid;
	req_complete(req, 0, (uint32_t)val, (uint32_t)(val >> 32));
	return;
invalid:
	req_complete_status(req, SC(GENERIC, INVALID_FIELD) | NVME_STATUS_DNR);
}

static bool cc_valid_enable(const struct nvr_ctrl *ctrl, uint32_t cc)
{
	uint32_t css = (cc >> NVME_CC_CSS_SHIFT) & NVME_CC_CSS_MASK;

	if (((cc >> NVME_CC_MPS_SHIFT) & NVME_CC_MPS_MASK) != 0)
		return false;
	if (css != NVME_CC_CSS_NVM && css != NVME_CC_CSS_ADMIN &&
	    !(css == NVME_CC_CSS_CSI && subsys_has_kv(ctrl->subsys)))
		return false;
	if (ctrl->subsys->discovery)
		return true;
	return ((cc >> NVME_CC_IOSQES_SHIFT) & NVME_CC_IOSQES_MASK) == 6 &&
	       ((cc >> NVME_CC_IOCQES_SHIFT) & NVME_CC_IOCQES_MASK) == 4;
}

static void fabrics_property_set(struct req *req)
{
	const struct nvmf_property_sqe *cmd = (const void *)&req->sqe;
	struct nvr_ctrl *ctrl = req->ctrl;
	uint32_t cc = (uint32_t)cmd->value, old = ctrl->cc;
	uint32_t shn = (cc >> NVME_CC_SHN_SHIFT) & NVME_CC_SHN_MASK;

	if (cmd->offset != NVME_REG_CC || (cmd->attrib & 7) != 0) {
		req_complete_status(req, SC(GENERIC, INVALID_FIELD) | NVME_STATUS_DNR);
		return;
	}
	ctrl->cc = cc;
	if ((cc & NVME_CC_EN_MASK) && !(old & NVME_CC_EN_MASK)) {
		if (cc_valid_enable(ctrl, cc)) {
			ctrl->csts |= NVME_CSTS_RDY_MASK;
		} else {
			log_info("controller %u: invalid CC %#x on enable", ctrl->cntlid, cc);
			ctrl->csts |= 1u << NVME_CSTS_CFS_SHIFT;
		}
	} else if (!(cc & NVME_CC_EN_MASK) && (old & NVME_CC_EN_MASK)) {
		/* controller reset: outstanding AERs end, the host reconnects I/O queues */
		ctrl_abort_aers(ctrl);
		ctrl->csts = 0;
	}
	if (shn && !((old >> NVME_CC_SHN_SHIFT) & NVME_CC_SHN_MASK)) {
		log_info("controller %u: shutdown", ctrl->cntlid);
		ctrl_shutdown_flush(ctrl, req->q->w);
	} else if (!shn) {
		ctrl->csts &= ~(NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT);
	}
	req_complete_status(req, 0);
}

void fabrics_execute(struct req *req)
{
	const struct nvmf_common_sqe *cmd = (const void *)&req->sqe;
	struct nvr_queue *c = req->q;

	if (cmd->fctype == nvme_fabrics_type_connect) {
		fabrics_connect(req);
		return;
	}
	if (!c->ctrl) {
		req_complete_status(req, SC(GENERIC, INVALID_OPCODE) | NVME_STATUS_DNR);
		return;
	}
	if (cmd->fctype == AUTH_FCTYPE_SEND) {
		auth_send(req);
		return;
	}
	if (cmd->fctype == AUTH_FCTYPE_RECV) {
		auth_receive(req);
		return;
	}
	if (c->qid != 0) {
		/* properties live on the admin queue */
		req_complete_status(req, SC(GENERIC, INVALID_FIELD) | NVME_STATUS_DNR);
		return;
	}
	switch (cmd->fctype) {
	case nvme_fabrics_type_property_get:
		fabrics_property_get(req);
		break;
	case nvme_fabrics_type_property_set:
		fabrics_property_set(req);
		break;
	default:
		req_complete_status(req, SC(GENERIC, INVALID_OPCODE) | NVME_STATUS_DNR);
		break;
	}
}
