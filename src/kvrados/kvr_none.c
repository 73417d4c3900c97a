/* SPDX-License-Identifier: MIT */
/* Built without librados: kv:rados namespaces are refused with a message that says why. */
#include <errno.h>
#include <stdio.h>

#include "kvrados.h"

int kvr_open(struct kvr **out, const struct kvr_config *cfg, char *err, size_t errlen)
{
	(void)cfg;
	*out = NULL;
	if (err && errlen)
		snprintf(err, errlen, "kv:rados: nvring was built without librados (install "
			 "librados-dev and reconfigure with -Drbd=enabled)");
	return -EOPNOTSUPP;
}

/* Never reached: there is no struct kvr to pass. */
void kvr_close(struct kvr *kv) { (void)kv; }
void kvr_submit(struct kvr *kv, struct executor *ex, struct kvs_io *io)
{
	(void)kv;
	(void)ex;
	io->status = KVS_STATUS(KVS_SC_INTERNAL);
	io->done(io);
}
bool kvr_idle(const struct kvr *kv) { (void)kv; return true; }
uint64_t kvr_capacity(const struct kvr *kv) { (void)kv; return 0; }
uint64_t kvr_used(const struct kvr *kv) { (void)kv; return 0; }
uint32_t kvr_max_value(const struct kvr *kv) { (void)kv; return 0; }
unsigned kvr_shards(const struct kvr *kv) { (void)kv; return 0; }
