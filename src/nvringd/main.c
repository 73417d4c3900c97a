/* SPDX-License-Identifier: MIT */
/* nvringd: parse the configuration, open namespaces and listeners, run the workers until a signal. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bufpool.h"
#include "config/config.h"
#include "tcp/stream_tls.h"
#include "tcp/tcp.h"
#include "listener.h"
#include "log.h"
#include "offload.h"
#include "setup.h"
#include "target.h"

static struct target tgt;

static bool target_has_tls(const struct target *t)
{
	for (unsigned i = 0; i < t->nr_ports; i++)
		if (t->ports[i].treq)
			return true;
	return false;
}

/* Every connection is a descriptor: take the hard limit, so --max-connections, not a default
 * soft limit of 1024, decides how many hosts we serve. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void worker_stop_msg(struct worker *w, struct worker_msg *m)
{
	(void)m;
	w->stopping = true;
	listener_stop(w);
	tcp_worker_stop(w);
}

static void print_connect_hints(const struct target *t)
{
	for (unsigned i = 0; i < t->nr_ports; i++) {
		const struct nvr_port *p = &t->ports[i];
		const char *addr = p->traddr;

		log_err("listening on %s%s%s:%s (%s)", p->family == AF_INET6 ? "[" : "", addr,
			p->family == AF_INET6 ? "]" : "", p->trsvcid, p->discovery_only ? "discovery" : "I/O + discovery");
	}
	for (unsigned i = 0; i < t->nr_ports; i++) {
		const struct nvr_port *p = &t->ports[i];

		printf("  nvme discover -t tcp -a %s -s %s\n", p->traddr, p->trsvcid);
		if (p->discovery_only)
			continue;
		for (unsigned s = 1; s < t->nr_subsys; s++)
			for (unsigned k = 0; k < t->subsys[s]->nr_ports; k++)
				if (t->subsys[s]->ports[k] == p)
					printf("  nvme connect -t tcp -a %s -s %s -n %s\n", p->traddr, p->trsvcid,
					       t->subsys[s]->nqn);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct nvr_config cfg;
	struct worker_msg *stop_msgs = NULL;
	char err[512];
	int *fds = NULL, sig, ret;
	sigset_t set;

	ret = nvr_config_parse_args(&cfg, argc, argv, err, sizeof(err));
	if (ret == 1)
		return 0;
	if (ret < 0) {
		fprintf(stderr, "nvringd: %s\n", err);
		return 2;
	}
	nvr_verbose = (int)cfg.verbose;
	/* namespaces keep a reference count per worker: the count is known before they open */
	tgt.nr_workers = cfg.threads ? cfg.threads : 1;
	if (target_setup(&tgt, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "nvringd: %s\n", err);
		target_teardown(&tgt);
		nvr_config_free(&cfg);
		return 2;
	}

	/* signals are taken by sigwait here; workers never see them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	fds = calloc(tgt.nr_ports + 1, sizeof(*fds));
	tgt.workers = calloc(tgt.nr_workers, sizeof(*tgt.workers));
	stop_msgs = calloc(tgt.nr_workers, sizeof(*stop_msgs));
	if (!fds || !tgt.workers || !stop_msgs) {
		fprintf(stderr, "nvringd: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < tgt.nr_ports; i++) {
		if (listener_open(&tgt.ports[i], tgt.limits.listen_backlog, &fds[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "nvringd: %s\n", err);
			return 1;
		}
	}
	for (unsigned i = 0; i < tgt.nr_workers; i++) {
		ret = worker_init(&tgt.workers[i], &tgt, (int)i, tgt.big_sqe);
		if (!ret && !(tgt.workers[i].bufs = bufpool_create()))
			ret = -ENOMEM;
		if (ret < 0) {
			fprintf(stderr, "nvringd: worker %u: io_uring setup failed: %s\n", i, strerror(-ret));
			return 1;
		}
	}
	if (listener_setup(&tgt, fds) < 0) {
		fprintf(stderr, "nvringd: out of memory\n");
		return 1;
	}
	if (target_has_tls(&tgt) && stream_tls_init(tls_host_psk, &tgt, tgt.limits.icreq_timeout_ms) < 0) {
		fprintf(stderr, "nvringd: cannot set up TLS\n");
		return 1;
	}
	if (offload_start() < 0) {
		fprintf(stderr, "nvringd: cannot start the offload thread\n");
		return 1;
	}
	print_connect_hints(&tgt);
	for (unsigned i = 0; i < tgt.nr_workers; i++) {
		ret = worker_start(&tgt.workers[i]);
		if (ret < 0) {
			fprintf(stderr, "nvringd: cannot start worker %u: %s\n", i, strerror(-ret));
			return 1;
		}
	}
	atomic_store(&tgt.workers_running, true);
	log_err("ready (%u worker%s)", tgt.nr_workers, tgt.nr_workers == 1 ? "" : "s");

	while (sigwait(&set, &sig) != 0)
		;
	log_err("%s: stopping", strsignal(sig));
	atomic_store(&tgt.stopping, true);
	for (unsigned i = 0; i < tgt.nr_workers; i++) {
		stop_msgs[i].fn = worker_stop_msg;
		worker_post(&tgt.workers[i], &stop_msgs[i]);
	}
	for (unsigned i = 0; i < tgt.nr_workers; i++)
		worker_join(&tgt.workers[i]);
	atomic_store(&tgt.workers_running, false);
	offload_stop();
	stream_tls_fini();
	target_flush_all(&tgt);
	for (unsigned i = 0; i < tgt.nr_workers; i++) {
		bufpool_destroy(tgt.workers[i].bufs);
		worker_fini(&tgt.workers[i]);
	}
	listener_free();
	target_teardown(&tgt);
	nvr_config_free(&cfg);
	free(tgt.workers);
	free(stop_msgs);
	free(fds);
	log_err("stopped");
	return 0;
}
