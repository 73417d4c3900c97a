/* SPDX-License-Identifier: MIT */
/* Discovery log (LID 0x70): read it consistently (GENCTR stable) and turn entries into C strings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "internal.h"

#define DISC_RETRIES 10
#define DISC_MAX_RECORDS 4096 /* bound what a peer can make us allocate */

static void disc_copy_str(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n = srclen < dstlen - 1 ? srclen : dstlen - 1;

	memcpy(dst, src, n);
	dst[n] = 0;
	n = strnlen(dst, n);
	while (n && (dst[n - 1] == ' ' || dst[n - 1] == 0))
		dst[--n] = 0;
}

static void disc_parse(const struct nvmf_disc_log_entry *e, struct nvr_disc_entry *out)
{
	out->trtype = e->trtype;
	out->adrfam = e->adrfam;
	out->subtype = e->subtype;
	out->treq = e->treq;
	out->portid = e->portid;
	out->cntlid = e->cntlid;
	out->asqsz = e->asqsz;
	disc_copy_str(out->trsvcid, sizeof(out->trsvcid), e->trsvcid, sizeof(e->trsvcid));
	disc_copy_str(out->traddr, sizeof(out->traddr), e->traddr, sizeof(e->traddr));
	disc_copy_str(out->subnqn, sizeof(out->subnqn), e->subnqn, sizeof(e->subnqn));
}

int nvr_discover(struct nvr_queue *admin, struct nvr_disc_entry **entries, unsigned *nr, uint64_t *genctr)
{
	struct nvmf_discovery_log *log = NULL;
	int ret = -EAGAIN;

	for (int i = 0; i < DISC_RETRIES; i++) {
		struct nvmf_discovery_log hdr;
		uint64_t numrec, gen;
		size_t len;

		ret = nvr_get_log(admin, NVME_LOG_LID_DISCOVER, 0, 0, 0, &hdr, sizeof(hdr));
		if (ret)
			goto out;
		numrec = hdr.numrec;
		gen = hdr.genctr;
		if (numrec > DISC_MAX_RECORDS) {
			ret = -E2BIG;
			goto out;
		}
		len = sizeof(hdr) + numrec * sizeof(struct nvmf_disc_log_entry);
		free(log);
		log = malloc(len);
		if (!log) {
			ret = -ENOMEM;
			goto out;
		}
		ret = nvr_get_log(admin, NVME_LOG_LID_DISCOVER, 0, 0, 0, log, (uint32_t)len);
		if (ret)
			goto out;
		if (log->genctr != gen || log->numrec != numrec) {
			ret = -EAGAIN; /* changed between the reads: read again */
			continue;
		}
		*entries = calloc(numrec ? numrec : 1, sizeof(**entries));
		if (!*entries) {
			ret = -ENOMEM;
			goto out;
		}
		for (uint64_t j = 0; j < numrec; j++)
			disc_parse(&log->entries[j], &(*entries)[j]);
		*nr = (unsigned)numrec;
		if (genctr)
			*genctr = gen;
		ret = 0;
		break;
	}
out:
	free(log);
	return ret;
}
