/* SPDX-License-Identifier: MIT */
/*
 * A tiny scripted NVMe/TCP target for host tests, on 127.0.0.1 with a dynamic port. It serves a
 * RAM namespace correctly (ICReq, Connect, properties, Identify, Set Features, read/write with
 * in-capsule data, R2T/H2CData split, C2HData split, digests) plus a small Key Value namespace
 * (nsid 2: store/retrieve/delete/exist with options), or misbehaves on purpose.
 */
#ifndef NVRING_TESTS_FAKE_TARGET_H
#define NVRING_TESTS_FAKE_TARGET_H

#include <stdbool.h>
#include <stdint.h>

enum ft_mode {
	FT_GOOD,
	FT_SILENT_IC,       /* never answers the ICReq */
	FT_SILENT_CMD,      /* answers ICReq, then swallows commands */
	FT_CLOSE_MID_PDU,   /* half a CapsuleResp to Connect, then close */
	FT_TERM_REQ,        /* C2HTermReq instead of the Connect response */
	FT_BAD_HLEN,        /* CapsuleResp with hlen 30 */
	FT_BAD_TYPE,        /* PDU type 0x08 */
	FT_BAD_ICRESP,      /* maxh2cdata 100 */
	FT_BAD_CID,         /* CapsuleResp for a CID never sent */
	FT_BAD_HDGST,       /* corrupt header digest on the Connect response */
	FT_BAD_DDGST_READ,  /* good, but reads carry a wrong data digest */
	FT_CLOSE_ON_READ,   /* good, but closes the connection on the first read */
	FT_SILENT_READ,     /* good, but never answers reads */
	FT_TERM_ON_READ,    /* good, but answers a read with C2HTermReq FES 0x04 */
	FT_GARBAGE,         /* answers Connect with seeded random PDUs (plausible headers), then closes */
};

struct ft_opts {
	enum ft_mode mode;
	uint32_t maxh2cdata; /* default 4096: forces H2CData splitting */
	uint32_t c2h_chunk;  /* C2HData PDU size, default 16384 */
	uint32_t icd;        /* in-capsule bytes advertised in IOCCSZ, default 4096 */
	bool c2h_success;    /* SUCCESS flag when the host disabled SQ flow control */
	uint64_t ns_bytes;   /* default 8 MiB, 512-byte blocks */
	uint32_t seed;       /* FT_GARBAGE */
};

struct ft;
struct ft *ft_start(const struct ft_opts *opts);
const char *ft_port(const struct ft *ft);
/* Commands served so far (all queues). */
unsigned ft_cmds(const struct ft *ft);
/* Stop, free; returns the FES of the last H2CTermReq the host sent (0: none). */
int ft_stop(struct ft *ft);

#endif
