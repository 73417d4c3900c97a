/* SPDX-License-Identifier: MIT */
/*
 * listener_add / listener_remove. The socket is bound here, on the control thread, so a port
 * that cannot be bound is an error answer and nothing else; worker 0 then accepts on it. A
 * removed port stops accepting at once and the controllers connected through it are torn
 * down (as nvmet and SPDK do when a port goes).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/queue.h"
#include "ctl_int.h"
#include "ctrl.h"
#include "listener.h"
#include "log.h"
#include "rpc/rpc.h"
#include "setup.h"
#include "target.h"
#include "topo.h"

static uint16_t ctl_free_portid(const struct nvr_config *cfg)
{
	for (unsigned id = 1; id <= UINT16_MAX; id++) {
		bool used = false;

		for (size_t i = 0; i < cfg->nr_ports && !used; i++)
			used = cfg->ports[i].portid == id;
		if (!used)
			return (uint16_t)id;
	}
	return 0;
}

int ctl_port_add(struct ctl *c, struct cfg_port *cp, struct ctl_err *e)
{
	struct target *tgt = c->tgt;
	struct nvr_config *cfg = c->cfg;
	struct nvr_port *port, **ports;
	size_t pi = cfg->nr_ports;
	char err[512];
	int fd;

	if (!cp->portid && !(cp->portid = ctl_free_portid(cfg)))
		return ctl_fail(e, RPC_ERR_LIMIT, "no free port ID");
	if (nvr_config_check_port(cfg, cp, "params", err, sizeof(err)))
		return ctl_fail(e, strstr(err, "is also") || strstr(err, "overlaps") ? RPC_ERR_EXISTS
										      : RPC_ERR_INVALID_PARAMS, "%s", err);
	ports = realloc(tgt->ports, (tgt->nr_ports + 2) * sizeof(*ports));
	if (!ports)
		return ctl_fail(e, RPC_ERR_INTERNAL, "out of memory");
	tgt->ports = ports;
	port = target_port_new(cp, err, sizeof(err));
	if (!port)
		return ctl_fail(e, RPC_ERR_INTERNAL, "%s", err);
	if (listener_open(port, tgt->limits.listen_backlog, &fd, err, sizeof(err)) < 0) {
		port_put(port);
		return ctl_fail(e, RPC_ERR_FAILED, "%s", err);
	}
	cp->port = (uint16_t)atoi(port->trsvcid); /* port 0: the one the kernel chose */
	if (nvr_config_add_port(cfg, cp, "params", err, sizeof(err))) {
		close(fd);
		port_put(port);
		return ctl_fail(e, RPC_ERR_INTERNAL, "%s", err);
	}
	tgt->ports[tgt->nr_ports++] = port;
	if (ctl_cfg_port_list_all(cfg, pi)) {
		ctl_fail(e, RPC_ERR_INTERNAL, "out of memory");
		goto undo;
	}
	if (ctl_publish_topo(c, NULL, NULL, e) < 0)
		goto undo;
	if (listener_add(tgt, port, fd) < 0) {
		ctl_fail(e, RPC_ERR_INTERNAL, "out of memory");
		if (ctl_publish_topo(c, NULL, port, e) < 0)
			log_err("control: out of memory unpublishing port %u", port->portid);
		goto undo;
	}
	topo_discovery_changed(tgt);
	log_info("control: listening on %s%s%s:%s (port %u)", port->family == AF_INET6 ? "[" : "", port->traddr,
		 port->family == AF_INET6 ? "]" : "", port->trsvcid, port->portid);
	return 0;
undo:
	tgt->nr_ports--;
	ctl_cfg_remove_port(cfg, pi);
	close(fd);
	port_put(port);
	return -1;
}

static bool ctl_ctrl_on_port(const struct nvr_ctrl *ctrl, const void *port)
{
	for (unsigned qid = 0; qid <= NVR_MAX_IO_QUEUES; qid++)
		if (ctrl->queues[qid] && ctrl->queues[qid]->port == port)
			return true;
	return false;
}

int ctl_port_remove(struct ctl *c, const char *addr, struct ctl_err *e)
{
	struct target *tgt = c->tgt;
	long pi = ctl_port_find(c, addr, "params.addr", e);
	struct nvr_port *port;

	if (pi < 0)
		return -1;
	port = tgt->ports[pi];
	/* unpublished first: a Connect through it is refused from now on */
	if (ctl_publish_topo(c, NULL, port, e) < 0)
		return -1;
	listener_remove(tgt, port);
	ctl_kill_ctrls(c, ctl_ctrl_on_port, port, NULL);
	memmove(&tgt->ports[pi], &tgt->ports[pi + 1], (tgt->nr_ports - (size_t)pi - 1) * sizeof(tgt->ports[0]));
	tgt->nr_ports--;
	ctl_cfg_remove_port(c->cfg, (size_t)pi);
	port_put(port);
	topo_discovery_changed(tgt);
	log_info("control: stopped listening on %s", addr);
	return 0;
}
