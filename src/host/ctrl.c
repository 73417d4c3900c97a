/* SPDX-License-Identifier: MIT */
/* Controller bring-up and teardown: admin Connect, CC.EN/CSTS.RDY, Identify, I/O queues, CC.SHN. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <nvme/types.h>

#include "internal.h"

#define CTRL_ADMIN_SQSIZE 31 /* 0's based, the Linux host's admin queue depth 32 */
#define REG_CAP 0x00
#define REG_CC 0x14
#define REG_CSTS 0x1c

void nvr_connect_opts_init(struct nvr_connect_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->queue_size = 128;
	opts->timeout_ms = 10000;
	opts->nr_io_queues = 1;
}

static int ctrl_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -ENODATA;
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

/* Bounded copy that always terminates (NQN fields are 256 bytes, NUL included). */
static void ctrl_copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static int ctrl_parse_uuid(const char *s, uint8_t out[16])
{
	unsigned n = 0;

	for (; *s && n < 32; s++) {
		int v;

		if (*s == '-')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			v = (*s | 0x20) - 'a' + 10;
		else
			return -EINVAL;
		out[n / 2] = (uint8_t)(n % 2 ? out[n / 2] | v : v << 4);
		n++;
	}
	return n == 32 ? 0 : -EINVAL;
}

/* Host identity as nvme-cli finds it: /etc/nvme/hostid and hostnqn, else a stable or random UUID. */
static void ctrl_host_identity(struct nvr_ctrl *c)
{
	static const uint8_t zero[16];
	uint8_t *id = c->opts.hostid;
	char buf[300];

	if (!memcmp(id, zero, 16)) {
		if (ctrl_read_file("/etc/nvme/hostid", buf, sizeof(buf)) || ctrl_parse_uuid(buf, id)) {
			if (ctrl_read_file("/etc/machine-id", buf, sizeof(buf)) || ctrl_parse_uuid(buf, id)) {
				if (getrandom(id, 16, 0) != 16)
					memset(id, 0x5a, 16);
			}
			id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
			id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
		}
	}
	if (c->opts.hostnqn) {
		ctrl_copy_str(c->hostnqn, sizeof(c->hostnqn), c->opts.hostnqn);
	} else if (ctrl_read_file("/etc/nvme/hostnqn", buf, sizeof(buf)) || !buf[0]) {
		snprintf(c->hostnqn, sizeof(c->hostnqn),
			 "nqn.2014-08.org.nvmexpress:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x%02x%02x%02x%02x",
			 id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11],
			 id[12], id[13], id[14], id[15]);
	} else {
		ctrl_copy_str(c->hostnqn, sizeof(c->hostnqn), buf);
	}
	c->opts.hostnqn = c->hostnqn;
}

static int ctrl_fabrics_connect(struct nvr_ctrl *c, struct nvr_queue *q, uint16_t qid, uint16_t sqsize,
				uint16_t *status)
{
	struct nvmf_connect_sqe sqe = { 0 };
	struct nvmf_connect_data data;
	struct nvr_cpl cpl;
	int ret;

	memset(&data, 0, sizeof(data));
	sqe.opcode = NVME_FABRICS_OPCODE;
	sqe.fctype = nvme_fabrics_type_connect;
	sqe.qid = qid;
	sqe.sqsize = sqsize;
	sqe.cattr = c->opts.disable_sqflow ? NVMF_CONNECT_DISABLE_SQFLOW : 0;
	sqe.kato = qid == 0 ? c->opts.kato_ms : 0;
	memcpy(data.hostid, c->opts.hostid, 16);
	data.cntlid = qid == 0 ? 0xffff : c->cntlid;
	ctrl_copy_str(data.subsysnqn, sizeof(data.subsysnqn), c->subnqn);
	ctrl_copy_str(data.hostnqn, sizeof(data.hostnqn), c->hostnqn);
	ret = hq_exec(q, &sqe, NVR_DIR_H2C, &data, sizeof(data), true, &cpl);
	if (ret > 0) {
		if (status)
			*status = (uint16_t)ret;
		return -EREMOTEIO;
	}
	if (ret < 0)
		return ret;
	if (qid == 0)
		c->cntlid = (uint16_t)cpl.dw0;
	return hauth_queue(c, q, cpl.dw0, status);
}

static int ctrl_check(int ret, uint16_t *status)
{
	if (ret > 0) {
		if (status)
			*status = (uint16_t)ret;
		return -EREMOTEIO;
	}
	return ret;
}

/* Poll CSTS until (CSTS & mask) == want, at most timeout_ms. */
static int ctrl_wait_csts(struct nvr_ctrl *c, uint32_t mask, uint32_t want, unsigned timeout_ms,
			  uint16_t *status)
{
	uint64_t end = hq_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		uint64_t csts;
		int ret = ctrl_check(nvr_prop_get(c->admin, REG_CSTS, false, &csts), status);

		if (ret)
			return ret;
		if (csts & NVME_CSTS_CFS_MASK << NVME_CSTS_CFS_SHIFT)
			return -EIO;
		if ((csts & mask) == want)
			return 0;
		if (hq_now_ns() > end)
			return -ETIMEDOUT;
		/* a register poll against a remote controller: 1 ms steps are plenty */
		usleep(1000);
	}
}

static int ctrl_enable(struct nvr_ctrl *c, uint16_t *status)
{
	uint32_t css, cc;
	unsigned to_ms;
	int ret;

	ret = ctrl_check(nvr_prop_get(c->admin, REG_CAP, true, &c->cap), status);
	if (ret)
		return ret;
	/* CAP.CSS bit 6 (I/O command sets): select all of them, which a KV namespace needs */
	css = (c->cap >> 43) & 1 ? 6 : 0;
	cc = (css << 4) | (6u << 16) | (4u << 20) | 1u;
	ret = ctrl_check(nvr_prop_set(c->admin, REG_CC, false, cc), status);
	if (ret)
		return ret;
	to_ms = (unsigned)((c->cap >> 24) & 0xff) * 500;
	if (to_ms < 500)
		to_ms = 500;
	return ctrl_wait_csts(c, 1, 1, to_ms, status);
}

static int ctrl_identify(struct nvr_ctrl *c, uint16_t *status)
{
	const struct nvme_id_ctrl *id = (const void *)c->id;
	uint32_t mps = 1u << (12 + ((c->cap >> 48) & 0xf));
	int ret;

	ret = ctrl_check(nvr_identify(c->admin, NVME_IDENTIFY_CNS_CTRL, 0, 0, 0, c->id), status);
	if (ret)
		return ret;
	c->max_xfer = id->mdts && id->mdts < 20 ? mps << id->mdts : 0;
	return 0;
}

static int ctrl_io_queues(struct nvr_ctrl *c, uint16_t *status)
{
	const struct nvme_id_ctrl *id = (const void *)c->id;
	unsigned n = c->opts.nr_io_queues, qsize = c->opts.queue_size ? c->opts.queue_size : 128;
	unsigned mqes = (unsigned)(c->cap & 0xffff) + 1;
	uint32_t result = 0, icd = 0;
	int ret;

	if (!n)
		return 0;
	if (n > 65535)
		n = 65535;
	ret = ctrl_check(nvr_set_features(c->admin, NVME_FEAT_FID_NUM_QUEUES, 0,
					  ((n - 1) << 16) | (n - 1), 0, false, NULL, 0, &result),
			 status);
	if (ret)
		return ret;
	if ((result & 0xffff) + 1 < n)
		n = (result & 0xffff) + 1;
	if ((result >> 16) + 1 < n)
		n = (result >> 16) + 1;
	if (qsize > mqes)
		qsize = mqes;
	if (id->maxcmd && qsize > id->maxcmd)
		qsize = id->maxcmd;
	if (qsize < 2)
		return -EINVAL;
	if (id->ioccsz > 4)
		icd = id->ioccsz * 16u - 64;
	c->io = calloc(n, sizeof(*c->io));
	if (!c->io)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct nvr_queue *q;

		ret = hq_open(&q, &c->opts, (uint16_t)(i + 1), qsize - 1);
		if (ret)
			return ret;
		c->io[c->nr_io++] = q;
		ret = ctrl_fabrics_connect(c, q, (uint16_t)(i + 1), (uint16_t)(qsize - 1), status);
		if (ret)
			return ret;
		hq_set_icd_max(q, icd);
	}
	return 0;
}

static void ctrl_free(struct nvr_ctrl *c)
{
	for (unsigned i = 0; i < c->nr_io; i++)
		hq_close(c->io[i]);
	free(c->io);
	hq_close(c->admin);
	dhchap_key_clear(&c->host_key);
	dhchap_key_clear(&c->ctrl_key);
	free(c);
}

int nvr_ctrl_connect(const struct nvr_connect_opts *opts, struct nvr_ctrl **out, uint16_t *status)
{
	struct nvr_ctrl *c;
	bool disc;
	int ret;

	if (!opts || !opts->traddr || !out)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->opts = *opts;
	ctrl_copy_str(c->subnqn, sizeof(c->subnqn), opts->subnqn ? opts->subnqn : NVR_DISC_NQN);
	disc = !strcmp(c->subnqn, NVR_DISC_NQN);
	if (!c->opts.trsvcid)
		c->opts.trsvcid = disc ? "8009" : "4420";
	if (c->opts.timeout_ms <= 0)
		c->opts.timeout_ms = 10000;
	ctrl_host_identity(c);
	ret = hauth_setup(c);
	if (ret)
		goto fail;
	if (disc)
		c->opts.nr_io_queues = 0;

	ret = hq_open(&c->admin, &c->opts, 0, CTRL_ADMIN_SQSIZE);
	if (ret)
		goto fail;
	ret = ctrl_fabrics_connect(c, c->admin, 0, CTRL_ADMIN_SQSIZE, status);
	if (ret)
		goto fail;
	ret = ctrl_enable(c, status);
	if (ret)
		goto fail;
	ret = ctrl_identify(c, status);
	if (ret)
		goto fail;
	ret = ctrl_io_queues(c, status);
	if (ret)
		goto fail;
	c->last_ka_ns = hq_now_ns();
	*out = c;
	return 0;
fail:
	ctrl_free(c);
	return ret;
}

int nvr_ctrl_disconnect(struct nvr_ctrl *c)
{
	uint64_t cc;
	int ret;

	if (!c)
		return 0;
	for (unsigned i = 0; i < c->nr_io; i++)
		hq_close(c->io[i]);
	c->nr_io = 0;
	ret = ctrl_check(nvr_prop_get(c->admin, REG_CC, false, &cc), NULL);
	if (!ret) {
		cc = (cc & ~(uint64_t)(3u << 14)) | (1u << 14); /* SHN = 01b normal shutdown */
		ret = ctrl_check(nvr_prop_set(c->admin, REG_CC, false, cc), NULL);
	}
	if (!ret)
		ret = ctrl_wait_csts(c, 3u << 2, 2u << 2, (unsigned)c->opts.timeout_ms, NULL);
	ctrl_free(c);
	return ret;
}

int nvr_ctrl_keep_alive(struct nvr_ctrl *c)
{
	struct nvme_sqe sqe = { .opcode = nvme_admin_keep_alive };
	uint64_t now = hq_now_ns();
	int ret;

	if (!c->opts.kato_ms || now - c->last_ka_ns < (uint64_t)c->opts.kato_ms * 500000ull)
		return 0;
	c->last_ka_ns = now;
	ret = nvr_exec(c->admin, &sqe, NVR_DIR_NONE, NULL, 0, NULL);
	return ret > 0 ? -EREMOTEIO : ret;
}

struct nvr_queue *nvr_ctrl_admin_queue(struct nvr_ctrl *c)
{
	return c->admin;
}

struct nvr_queue *nvr_ctrl_io_queue(struct nvr_ctrl *c, unsigned idx)
{
	return idx < c->nr_io ? c->io[idx] : NULL;
}

unsigned nvr_ctrl_nr_io_queues(const struct nvr_ctrl *c)
{
	return c->nr_io;
}

const void *nvr_ctrl_id(const struct nvr_ctrl *c)
{
	return c->id;
}

uint16_t nvr_ctrl_cntlid(const struct nvr_ctrl *c)
{
	return c->cntlid;
}

uint64_t nvr_ctrl_cap(const struct nvr_ctrl *c)
{
	return c->cap;
}

uint32_t nvr_ctrl_max_xfer(const struct nvr_ctrl *c)
{
	return c->max_xfer;
}
