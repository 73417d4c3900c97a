/* SPDX-License-Identifier: MIT */
/* Scripted NVMe/TCP target for the host tests: one thread per connection, blocking sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nvme/types.h>

#include "fake_target.h"
#include "spec/crc32c.h"
#include "spec/nvme_cmd.h"
#include "spec/nvme_tcp.h"

#define FT_MAX_CONN 512 /* connections over the fake's life; each CLI run uses two */
#define FT_BLOCK 512
#define FT_MAX_CMDS 1024
#define FT_KV_NSID 2
#define FT_KV_KEYS 64

struct ft_kv {
	bool used;
	uint8_t key[16];
	unsigned klen;
	uint8_t *val;
	uint32_t vlen;
};

struct ft {
	struct ft_opts o;
	int lfd;
	char port[16];
	pthread_t acceptor;
	pthread_mutex_t lock;
	int fds[FT_MAX_CONN];
	pthread_t threads[FT_MAX_CONN];
	int nconn;
	atomic_uint cmds;
	uint8_t *ns;
	uint32_t cc;
	atomic_int term_fes; /* FES of the last H2CTermReq received */
	pthread_mutex_t kv_lock;
	struct ft_kv kv[FT_KV_KEYS];
};

struct ft_pending { /* a write waiting for its H2CData */
	bool used;
	struct nvme_sqe sqe;
	uint32_t len, got;
	uint8_t *dst; /* where the data goes: namespace or a KV staging buffer */
};

struct ft_conn {
	struct ft *ft;
	int fd;
	bool hd, dd, sqflow_off;
	uint16_t qid;
	struct ft_pending pend[FT_MAX_CMDS];
	uint8_t *buf;
};

static int ft_recv(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int ft_send(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int ft_send_hdr(struct ft_conn *c, void *hdr, uint32_t hlen)
{
	uint8_t b[128];

	memcpy(b, hdr, hlen);
	if (c->hd) {
		uint32_t crc = crc32c(b, hlen);

		if (c->ft->o.mode == FT_BAD_HDGST)
			crc ^= 1;
		memcpy(b + hlen, &crc, 4);
		hlen += 4;
	}
	return ft_send(c->fd, b, hlen);
}

static int ft_send_rsp(struct ft_conn *c, uint16_t cid, uint16_t status, uint32_t dw0, uint32_t dw1)
{
	struct nvme_tcp_rsp_pdu r = { 0 };

	r.hdr.type = NVME_TCP_RSP;
	r.hdr.flags = c->hd ? NVME_TCP_F_HDGST : 0;
	r.hdr.hlen = 24;
	r.hdr.plen = 24 + (c->hd ? 4 : 0);
	r.cqe.cid = cid;
	r.cqe.dw0 = dw0;
	r.cqe.dw1 = dw1;
	r.cqe.sqid = c->qid;
	r.cqe.sqhd = c->sqflow_off ? 0xffff : 0;
	r.cqe.status = nvme_status_to_wire(status);
	atomic_fetch_add(&c->ft->cmds, 1);
	return ft_send_hdr(c, &r, 24);
}

/* Read data to the host in c2h_chunk pieces; SUCCESS on the last one when allowed. */
static int ft_send_c2h(struct ft_conn *c, uint16_t cid, const uint8_t *data, uint32_t len, bool may_succeed,
		       bool corrupt, uint32_t dw0)
{
	uint32_t chunk = c->ft->o.c2h_chunk ? c->ft->o.c2h_chunk : 16384;
	bool success = may_succeed && c->ft->o.c2h_success && c->sqflow_off;

	for (uint32_t off = 0; off < len; off += chunk) {
		uint32_t n = len - off < chunk ? len - off : chunk;
		struct nvme_tcp_data_pdu d = { 0 };
		bool last = off + n == len;

		d.hdr.type = NVME_TCP_C2H_DATA;
		d.hdr.flags = (c->hd ? NVME_TCP_F_HDGST : 0) | (c->dd ? NVME_TCP_F_DDGST : 0) |
			      (last ? NVME_TCP_F_DATA_LAST : 0) | (last && success ? NVME_TCP_F_DATA_SUCCESS : 0);
		d.hdr.hlen = 24;
		d.hdr.pdo = (uint8_t)(24 + (c->hd ? 4 : 0));
		d.hdr.plen = d.hdr.pdo + n + (c->dd ? 4 : 0);
		d.cccid = cid;
		d.datao = off;
		d.datal = n;
		if (ft_send_hdr(c, &d, 24) || ft_send(c->fd, data + off, n))
			return -1;
		if (c->dd) {
			uint32_t crc = crc32c(data + off, n);

			if (corrupt)
				crc ^= 0xff;
			if (ft_send(c->fd, &crc, 4))
				return -1;
		}
	}
	if (success) {
		atomic_fetch_add(&c->ft->cmds, 1);
		return 0;
	}
	return ft_send_rsp(c, cid, 0, dw0, 0);
}

static int ft_send_r2t(struct ft_conn *c, uint16_t cid, uint32_t len)
{
	struct nvme_tcp_r2t_pdu r = { 0 };

	r.hdr.type = NVME_TCP_R2T;
	r.hdr.flags = c->hd ? NVME_TCP_F_HDGST : 0;
	r.hdr.hlen = 24;
	r.hdr.plen = 24 + (c->hd ? 4 : 0);
	r.cccid = cid;
	r.ttag = (uint16_t)(cid + 0x100);
	r.r2to = 0;
	r.r2tl = len;
	return ft_send_hdr(c, &r, 24);
}

/* Seeded junk that often looks like a PDU: a real type, hlen 24, plen and CID near the truth. */
static void ft_send_garbage(struct ft_conn *c, uint16_t cid)
{
	static const uint8_t types[] = { NVME_TCP_RSP, NVME_TCP_C2H_DATA, NVME_TCP_R2T, NVME_TCP_C2H_TERM, NVME_TCP_ICRESP };
	uint32_t x = c->ft->o.seed * 2654435761u + 1;
	uint8_t buf[4096];

	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	for (size_t off = 0; off + 24 <= sizeof(buf); off += 24 + buf[off + 5] % 64) {
		struct nvme_tcp_hdr *h = (void *)(buf + off);

		if (buf[off + 6] & 1) {
			h->type = types[buf[off + 7] % sizeof(types)];
			h->hlen = buf[off + 4] & 1 ? 24 : h->hlen;
			h->plen = 24 + (buf[off + 3] & 3 ? 0 : buf[off + 2]);
			memcpy(buf + off + 8, &cid, 2); /* cid / cccid */
		}
	}
	ft_send(c->fd, buf, sizeof(buf));
}

static void ft_identify(struct ft_conn *c, uint8_t *id)
{
	struct nvme_id_ctrl *ic = (void *)id;
	uint32_t icd = c->ft->o.icd;

	memset(id, 0, 4096);
	ic->cntlid = 1;
	ic->ioccsz = (64 + icd) / 16;
	ic->iorcsz = 1;
	ic->maxcmd = 128;
	ic->nn = 1;
	ic->sgls = 1 | (1 << 20);
	ic->kas = 10;
	memcpy(ic->mn, "nvring fake target                      ", 40);
	memcpy(ic->sn, "FAKE0001            ", 20);
	memcpy(ic->fr, "0.1     ", 8);
}

static int ft_io_rw(struct ft_conn *c, const struct nvme_sqe *s, uint64_t *off, uint32_t *len)
{
	uint64_t slba = s->cdw10 | ((uint64_t)s->cdw11 << 32);
	uint32_t nlb = (s->cdw12 & 0xffff) + 1;

	*off = slba * FT_BLOCK;
	*len = nlb * FT_BLOCK;
	if (*off + *len > c->ft->o.ns_bytes || s->nsid != 1)
		return -1;
	return 0;
}

/* ---- Key Value namespace (nsid 2): key in CDW2-3/14-15, KL and options in CDW11 ---- */

static struct ft_kv *ft_kv_find(struct ft *ft, const struct nvme_sqe *s, uint8_t *key, unsigned *klen)
{
	*klen = s->cdw11 & 0xff;
	memcpy(key, &s->cdw2, 4);
	memcpy(key + 4, &s->cdw3, 4);
	memcpy(key + 8, &s->cdw14, 4);
	memcpy(key + 12, &s->cdw15, 4);
	for (int i = 0; i < FT_KV_KEYS; i++)
		if (ft->kv[i].used && ft->kv[i].klen == *klen && !memcmp(ft->kv[i].key, key, *klen))
			return &ft->kv[i];
	return NULL;
}

/* Store's value has arrived (in-capsule or by H2CData): apply the options and keep it. */
static int ft_kv_commit(struct ft_conn *c, const struct nvme_sqe *s, uint8_t *val, uint32_t vlen)
{
	struct ft *ft = c->ft;
	uint8_t opts = (uint8_t)(s->cdw11 >> 8), key[16];
	struct ft_kv *e;
	uint16_t st = 0;
	unsigned klen;

	pthread_mutex_lock(&ft->kv_lock);
	e = ft_kv_find(ft, s, key, &klen);
	if ((opts & 1) && !e)
		st = NVME_STATUS(0, 0x87);
	else if ((opts & 2) && e)
		st = NVME_STATUS(0, 0x89);
	for (int i = 0; !st && !e && i < FT_KV_KEYS; i++)
		if (!ft->kv[i].used)
			e = &ft->kv[i];
	if (!st && !e)
		st = NVME_STATUS(0, 0x81);
	if (!st) {
		free(e->val);
		e->used = true;
		memcpy(e->key, key, 16);
		e->klen = klen;
		e->val = val;
		e->vlen = vlen;
		val = NULL;
	}
	pthread_mutex_unlock(&ft->kv_lock);
	free(val);
	return ft_send_rsp(c, s->cid, st ? st | NVME_STATUS_DNR : 0, 0, 0);
}

static int ft_kv_list(struct ft_conn *c, const struct nvme_sqe *s);

static int ft_handle_kv(struct ft_conn *c, const struct nvme_sqe *s, const uint8_t *icd, uint32_t icdlen)
{
	struct ft *ft = c->ft;
	uint8_t key[16], *val;
	struct ft_kv *e;
	unsigned klen = s->cdw11 & 0xff;
	int ret;

	if (s->opcode == 0x06)
		return ft_kv_list(c, s);
	if (klen < 1 || klen > 16)
		return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x86) | NVME_STATUS_DNR, 0, 0);
	switch (s->opcode) {
	case 0x01: /* store */
		if (s->cdw10 != s->sgl.length || s->cdw10 > (1u << 20))
			return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x85) | NVME_STATUS_DNR, 0, 0);
		val = malloc(s->cdw10 ? s->cdw10 : 1);
		if (s->sgl.type == NVME_SGL_TYPE_ICD || !s->cdw10) {
			if (icdlen != s->cdw10) {
				free(val);
				return -1;
			}
			memcpy(val, icd, icdlen);
			return ft_kv_commit(c, s, val, icdlen);
		}
		if (s->cid >= FT_MAX_CMDS || c->pend[s->cid].used) {
			free(val);
			return -1;
		}
		c->pend[s->cid] = (struct ft_pending){ .used = true, .sqe = *s, .len = s->cdw10, .dst = val };
		return ft_send_r2t(c, s->cid, s->cdw10);
	case 0x02: /* retrieve: up to the host buffer, DW0 = full value size */
		pthread_mutex_lock(&ft->kv_lock);
		e = ft_kv_find(ft, s, key, &klen);
		if (!e) {
			pthread_mutex_unlock(&ft->kv_lock);
			return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x87) | NVME_STATUS_DNR, 0, 0);
		}
		val = malloc(e->vlen + 1);
		memcpy(val, e->val, e->vlen);
		klen = e->vlen; /* reuse: full size */
		pthread_mutex_unlock(&ft->kv_lock);
		ret = ft_send_c2h(c, s->cid, val, klen < s->cdw10 ? klen : s->cdw10, false, false, klen);
		free(val);
		return ret;
	case 0x10: /* delete */
	case 0x14: /* exist */
		pthread_mutex_lock(&ft->kv_lock);
		e = ft_kv_find(ft, s, key, &klen);
		if (e && s->opcode == 0x10) {
			free(e->val);
			memset(e, 0, sizeof(*e));
		}
		pthread_mutex_unlock(&ft->kv_lock);
		return ft_send_rsp(c, s->cid, e ? 0 : NVME_STATUS(0, 0x87) | NVME_STATUS_DNR, 0, 0);
	default:
		return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x01) | NVME_STATUS_DNR, 0, 0);
	}
}

/* KV List: u32 count, then {u16 length, key, pad to 4 bytes} for every key, up to CDW10 bytes */
static int ft_kv_list(struct ft_conn *c, const struct nvme_sqe *s)
{
	struct ft *ft = c->ft;
	uint32_t len = s->cdw10, off = 4, count = 0;
	uint8_t *out;
	int ret;

	if (len < 4 || len > (1u << 20) || len != s->sgl.length)
		return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x02) | NVME_STATUS_DNR, 0, 0);
	out = calloc(1, len);
	pthread_mutex_lock(&ft->kv_lock);
	for (int i = 0; i < FT_KV_KEYS; i++) {
		uint16_t kl = (uint16_t)ft->kv[i].klen;
		uint32_t need = (2u + kl + 3u) & ~3u;

		if (!ft->kv[i].used || off + need > len)
			continue;
		memcpy(out + off, &kl, 2);
		memcpy(out + off + 2, ft->kv[i].key, kl);
		off += need;
		count++;
	}
	pthread_mutex_unlock(&ft->kv_lock);
	memcpy(out, &count, 4);
	ret = ft_send_c2h(c, s->cid, out, len, true, false, 0);
	free(out);
	return ret;
}

static int ft_handle_cmd(struct ft_conn *c, const struct nvme_tcp_cmd_pdu *p, const uint8_t *icd, uint32_t icdlen)
{
	const struct nvme_sqe *s = &p->cmd;
	struct ft *ft = c->ft;
	uint8_t id[4096];
	uint64_t off;
	uint32_t len;

	if (s->opcode == NVME_FABRICS_OPCODE) {
		const struct nvmf_common_sqe *f = (const void *)s;
		const struct nvmf_property_sqe *ps = (const void *)s;

		if (f->fctype == nvme_fabrics_type_connect) {
			const struct nvmf_connect_sqe *cs = (const void *)s;

			c->qid = cs->qid;
			c->sqflow_off = cs->cattr & NVMF_CONNECT_DISABLE_SQFLOW;
			if (icdlen != 1024)
				return ft_send_rsp(c, s->cid, NVME_STATUS(1, 0x82), 0, 0);
			switch (ft->o.mode) {
			case FT_CLOSE_MID_PDU: {
				struct nvme_tcp_rsp_pdu r = { .hdr = { .type = NVME_TCP_RSP, .hlen = 24, .plen = 24 } };

				ft_send(c->fd, &r, 10);
				return -1;
			}
			case FT_TERM_REQ: {
				struct nvme_tcp_term_pdu t = { .hdr = { .type = NVME_TCP_C2H_TERM, .hlen = 24, .plen = 24 } };

				t.fes = NVME_TCP_FES_PDU_SEQ_ERR;
				ft_send(c->fd, &t, sizeof(t));
				return 0;
			}
			case FT_BAD_HLEN: {
				struct nvme_tcp_rsp_pdu r = { .hdr = { .type = NVME_TCP_RSP, .hlen = 30, .plen = 24 } };

				return ft_send(c->fd, &r, sizeof(r));
			}
			case FT_BAD_TYPE: {
				struct nvme_tcp_rsp_pdu r = { .hdr = { .type = 0x08, .hlen = 24, .plen = 24 } };

				return ft_send(c->fd, &r, sizeof(r));
			}
			case FT_BAD_CID:
				return ft_send_rsp(c, (uint16_t)(s->cid + 7), 0, 1, 0);
			case FT_GARBAGE:
				ft_send_garbage(c, s->cid);
				return -1;
			default:
				return ft_send_rsp(c, s->cid, 0, 1, 0);
			}
		}
		if (f->fctype == nvme_fabrics_type_property_get) {
			uint64_t v = 0;

			if (ps->offset == 0x00)
				v = 63 | (1ull << 16) | (2ull << 24) | (1ull << 37);
			else if (ps->offset == 0x14)
				v = ft->cc;
			else if (ps->offset == 0x1c)
				v = (ft->cc & 1) | (((ft->cc >> 14) & 3) ? 2u << 2 : 0);
			return ft_send_rsp(c, s->cid, 0, (uint32_t)v, (uint32_t)(v >> 32));
		}
		if (f->fctype == nvme_fabrics_type_property_set) {
			if (ps->offset == 0x14)
				ft->cc = (uint32_t)ps->value;
			return ft_send_rsp(c, s->cid, 0, 0, 0);
		}
		return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x01) | NVME_STATUS_DNR, 0, 0);
	}
	if (c->qid == 0) {
		switch (s->opcode) {
		case nvme_admin_identify:
			if ((s->cdw10 & 0xff) != NVME_IDENTIFY_CNS_CTRL)
				return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x02) | NVME_STATUS_DNR, 0, 0);
			ft_identify(c, id);
			return ft_send_c2h(c, s->cid, id, sizeof(id), true, false, 0);
		case nvme_admin_set_features:
			return ft_send_rsp(c, s->cid, 0, s->cdw11, 0);
		case nvme_admin_keep_alive:
			return ft_send_rsp(c, s->cid, 0, 0, 0);
		default:
			return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x01) | NVME_STATUS_DNR, 0, 0);
		}
	}
	if (s->nsid == FT_KV_NSID)
		return ft_handle_kv(c, s, icd, icdlen);
	switch (s->opcode) {
	case nvme_cmd_flush:
		return ft_send_rsp(c, s->cid, 0, 0, 0);
	case nvme_cmd_read:
		if (ft->o.mode == FT_CLOSE_ON_READ)
			return -1;
		if (ft->o.mode == FT_SILENT_READ)
			return 0;
		if (ft->o.mode == FT_TERM_ON_READ) {
			struct nvme_tcp_term_pdu t = { .hdr = { .type = NVME_TCP_C2H_TERM, .hlen = 24, .plen = 24 } };

			t.fes = NVME_TCP_FES_DATA_OUT_OF_RANGE;
			t.fei = 12;
			return ft_send(c->fd, &t, sizeof(t));
		}
		if (ft_io_rw(c, s, &off, &len) || len != s->sgl.length)
			return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x80) | NVME_STATUS_DNR, 0, 0);
		return ft_send_c2h(c, s->cid, ft->ns + off, len, true, ft->o.mode == FT_BAD_DDGST_READ, 0);
	case nvme_cmd_write:
		if (ft_io_rw(c, s, &off, &len) || len != s->sgl.length)
			return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x80) | NVME_STATUS_DNR, 0, 0);
		if (s->sgl.type == NVME_SGL_TYPE_ICD) {
			if (icdlen != len)
				return -1;
			memcpy(ft->ns + off, icd, len);
			return ft_send_rsp(c, s->cid, 0, 0, 0);
		}
		if (s->cid >= FT_MAX_CMDS || c->pend[s->cid].used)
			return -1;
		c->pend[s->cid] = (struct ft_pending){ .used = true, .sqe = *s, .len = len, .dst = ft->ns + off };
		return ft_send_r2t(c, s->cid, len);
	default:
		return ft_send_rsp(c, s->cid, NVME_STATUS(0, 0x01) | NVME_STATUS_DNR, 0, 0);
	}
}

static int ft_handle_h2c(struct ft_conn *c, const struct nvme_tcp_data_pdu *d, const uint8_t *data)
{
	struct ft_pending *p;
	if (d->cccid >= FT_MAX_CMDS || !c->pend[d->cccid].used || d->ttag != d->cccid + 0x100)
		return -1;
	p = &c->pend[d->cccid];
	if (d->datal > c->ft->o.maxh2cdata || d->datao != p->got || d->datao + d->datal > p->len)
		return -1;
	memcpy(p->dst + d->datao, data, d->datal);
	p->got += d->datal;
	if (!!(d->hdr.flags & NVME_TCP_F_DATA_LAST) != (p->got == p->len))
		return -1;
	if (p->got < p->len)
		return 0;
	p->used = false;
	if (p->sqe.nsid == FT_KV_NSID)
		return ft_kv_commit(c, &p->sqe, p->dst, p->len);
	return ft_send_rsp(c, d->cccid, 0, 0, 0);
}

/* Read one PDU after the ICReq exchange and act on it; digests are checked. */
static int ft_serve_pdu(struct ft_conn *c)
{
	struct nvme_tcp_hdr h;
	uint8_t hdr[128];
	uint32_t hd, dlen, dd, crc;

	if (ft_recv(c->fd, &h, sizeof(h)))
		return -1;
	if (h.type == NVME_TCP_H2C_TERM && h.hlen == 24) {
		struct nvme_tcp_term_pdu t;

		memcpy(&t, &h, sizeof(h));
		if (!ft_recv(c->fd, (uint8_t *)&t + 8, 16))
			atomic_store(&c->ft->term_fes, t.fes);
		return -1;
	}
	if ((h.type != NVME_TCP_CMD || h.hlen != 72) && (h.type != NVME_TCP_H2C_DATA || h.hlen != 24))
		return -1;
	if (!!(h.flags & NVME_TCP_F_HDGST) != c->hd)
		return -1;
	hd = c->hd ? 4 : 0;
	memcpy(hdr, &h, sizeof(h));
	if (ft_recv(c->fd, hdr + 8, h.hlen - 8 + hd))
		return -1;
	if (hd && (memcpy(&crc, hdr + h.hlen, 4), crc != crc32c(hdr, h.hlen)))
		return -1;
	dd = (h.flags & NVME_TCP_F_DDGST) ? 4 : 0;
	if (h.plen < (uint32_t)h.hlen + hd + dd)
		return -1;
	dlen = h.plen - h.hlen - hd - dd;
	if (dlen && (h.pdo != h.hlen + hd || !!dd != c->dd))
		return -1;
	if (dlen > 8 * 1024 * 1024 || ft_recv(c->fd, c->buf, dlen + dd))
		return -1;
	if (dd && (memcpy(&crc, c->buf + dlen, 4), crc != crc32c(c->buf, dlen)))
		return -1;
	if (h.type == NVME_TCP_CMD)
		return ft_handle_cmd(c, (const void *)hdr, c->buf, dlen);
	return ft_handle_h2c(c, (const void *)hdr, c->buf);
}

static void *ft_conn_main(void *arg)
{
	struct ft_conn *c = arg;
	struct nvme_tcp_icreq_pdu req;
	struct nvme_tcp_icresp_pdu rsp = { 0 };

	if (ft_recv(c->fd, &req, sizeof(req)) || req.hdr.type != NVME_TCP_ICREQ)
		goto out;
	if (c->ft->o.mode == FT_SILENT_IC) {
		char b;

		recv(c->fd, &b, 1, 0); /* until the host gives up or the test stops us */
		goto out;
	}
	c->hd = req.digest & NVME_TCP_HDR_DIGEST_ENABLE;
	c->dd = req.digest & NVME_TCP_DATA_DIGEST_ENABLE;
	rsp.hdr.type = NVME_TCP_ICRESP;
	rsp.hdr.hlen = rsp.hdr.plen = sizeof(rsp);
	rsp.digest = req.digest;
	rsp.maxh2cdata = c->ft->o.mode == FT_BAD_ICRESP ? 100 : c->ft->o.maxh2cdata;
	if (ft_send(c->fd, &rsp, sizeof(rsp)))
		goto out;
	if (c->ft->o.mode == FT_SILENT_CMD) {
		char b[4096];

		while (recv(c->fd, b, sizeof(b), 0) > 0)
			;
		goto out;
	}
	while (!ft_serve_pdu(c))
		;
out:
	shutdown(c->fd, SHUT_RDWR);
	for (int i = 0; i < FT_MAX_CMDS; i++)
		if (c->pend[i].used && c->pend[i].sqe.nsid == FT_KV_NSID)
			free(c->pend[i].dst);
	free(c->buf);
	free(c);
	return NULL;
}

static void *ft_accept_main(void *arg)
{
	struct ft *ft = arg;

	for (;;) {
		int fd = accept(ft->lfd, NULL, NULL), one = 1;
		struct ft_conn *c;

		if (fd < 0)
			return NULL;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_mutex_lock(&ft->lock);
		if (ft->nconn == FT_MAX_CONN) {
			pthread_mutex_unlock(&ft->lock);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		c->ft = ft;
		c->fd = fd;
		c->buf = malloc(8 * 1024 * 1024 + 4);
		ft->fds[ft->nconn] = fd;
		pthread_create(&ft->threads[ft->nconn], NULL, ft_conn_main, c);
		ft->nconn++;
		pthread_mutex_unlock(&ft->lock);
	}
}

struct ft *ft_start(const struct ft_opts *opts)
{
	struct ft *ft = calloc(1, sizeof(*ft));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	ft->o = *opts;
	if (!ft->o.maxh2cdata)
		ft->o.maxh2cdata = 4096;
	if (!ft->o.ns_bytes)
		ft->o.ns_bytes = 8 << 20;
	if (!ft->o.icd && opts->icd == 0)
		ft->o.icd = 4096;
	ft->ns = calloc(1, ft->o.ns_bytes);
	pthread_mutex_init(&ft->lock, NULL);
	pthread_mutex_init(&ft->kv_lock, NULL);
	ft->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(ft->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(ft->lfd, 16) ||
	    getsockname(ft->lfd, (struct sockaddr *)&a, &alen)) {
		perror("fake target");
		exit(2);
	}
	snprintf(ft->port, sizeof(ft->port), "%u", ntohs(a.sin_port));
	pthread_create(&ft->acceptor, NULL, ft_accept_main, ft);
	return ft;
}

const char *ft_port(const struct ft *ft)
{
	return ft->port;
}

unsigned ft_cmds(const struct ft *ft)
{
	return atomic_load(&((struct ft *)ft)->cmds);
}

int ft_stop(struct ft *ft)
{
	int fes;

	shutdown(ft->lfd, SHUT_RDWR);
	pthread_join(ft->acceptor, NULL);
	close(ft->lfd);
	for (int i = 0; i < ft->nconn; i++) {
		shutdown(ft->fds[i], SHUT_RDWR);
		pthread_join(ft->threads[i], NULL);
		close(ft->fds[i]);
	}
	pthread_mutex_destroy(&ft->lock);
	pthread_mutex_destroy(&ft->kv_lock);
	for (int i = 0; i < FT_KV_KEYS; i++)
		free(ft->kv[i].val);
	fes = atomic_load(&ft->term_fes);
	free(ft->ns);
	free(ft);
	return fes;
}
