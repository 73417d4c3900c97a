#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A scripted NVMe/TCP host carried by OpenSSL's s_client: TLS is all s_client's (TLS 1.3, PSK),
the NVMe/TCP bytes are all this script's. Prints TAP.

  nvme_tcp_script.py ADDR PORT --psk HEX --identity ID --hostnqn NQN --subnqn NQN
                     [--suite TLS_AES_128_GCM_SHA256] [--session PEM] [--nsid 1] [--lba 512]

Admin queue: ICReq/ICResp, Connect, Property Set CC.EN, CSTS.RDY, Identify Controller;
I/O queue (second s_client): ICReq, Connect, Write 4 KiB (in-capsule when IOCCSZ allows, else
R2T/H2CData), Read it back (C2HData), compare. Point it at any TLS NVMe/TCP target
(tls_testsrv today, nvringd once it has TLS).
"""
import argparse
import os
import struct
import subprocess
import sys

N = 0
FAILED = 0
HOSTID = os.urandom(16)


def tap(ok, name, diag=None):
    global N, FAILED
    N += 1
    if not ok:
        FAILED += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", N, name), flush=True)
    if diag and not ok:
        print("#   %s" % diag, flush=True)
    return ok


class Queue:
    def __init__(self, a):
        # -nocommands: payload bytes must never read as s_client's command letters (Q, R, k)
        cmd = ["openssl", "s_client", "-connect", "%s:%s" % (a.addr, a.port), "-quiet", "-no_ign_eof",
               "-nocommands", "-noservername", "-tls1_3", "-ciphersuites", a.suite, "-psk", a.psk,
               "-psk_identity", a.identity]
        if a.session:
            cmd += ["-psk_session", a.session]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.cid = 0

    def send(self, b):
        self.p.stdin.write(b)
        self.p.stdin.flush()

    def recv(self, n):
        b = b""
        while len(b) < n:
            c = self.p.stdout.read1(n - len(b))
            if not c:
                raise EOFError("connection closed after %d of %d bytes" % (len(b), n))
            b += c
        return b

    def pdu(self):
        """One PDU: (type, flags, header, payload)."""
        ch = self.recv(8)
        ptype, flags, hlen, pdo, plen = struct.unpack("<BBBBI", ch)
        rest = self.recv(plen - 8)
        return ptype, flags, ch + rest[:hlen - 8], rest[hlen - 8:]

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return self.p.stderr.read().decode(errors="replace")

    def icreq(self):
        self.send(struct.pack("<BBBBIHBBI", 0, 0, 128, 0, 128, 0, 0, 0, 0) + bytes(128 - 16))
        t, _, hdr, _ = self.pdu()
        return t, hdr

    def command(self, sqe, data=b"", icd=True, read_len=0):
        """Send one capsule (SQE with CID set here); returns (status, dw0, read data)."""
        cid = self.cid
        self.cid += 1
        sqe = bytearray(sqe)
        struct.pack_into("<H", sqe, 2, cid)
        sqe[1] = 0x40  # PSDT: SGL
        length = len(data) if data else read_len
        if data and icd:
            sqe[24:40] = struct.pack("<QI3xB", 0, length, 0x01)   # in-capsule data block
        else:
            sqe[24:40] = struct.pack("<QI3xB", 0, length, 0x5A)   # transport data block
        inline = data if (data and icd) else b""
        self.send(struct.pack("<BBBBI", 4, 0, 72, 72 if inline else 0, 72 + len(inline)) + bytes(sqe) + inline)
        got = bytearray(read_len)
        while True:
            t, flags, hdr, payload = self.pdu()
            if t == 7:  # C2HData
                _, _, off, dlen = struct.unpack_from("<HHII", hdr, 8)
                got[off:off + dlen] = payload[:dlen]
                if flags & 0x08:  # SUCCESS: no CapsuleResp follows
                    return 0, 0, bytes(got)
            elif t == 9:  # R2T: send the data it asks for
                _, ttag, r2to, r2tl = struct.unpack_from("<HHII", hdr, 8)
                chunk = data[r2to:r2to + r2tl]
                h = struct.pack("<BBBBIHHII4x", 6, 0x04, 24, 24, 24 + len(chunk), cid, ttag, r2to, len(chunk))
                self.send(h + chunk)
            elif t == 5:  # CapsuleResp
                dw0, _, _, _, rcid, status = struct.unpack_from("<IIHHHH", hdr, 8)
                if rcid != cid:
                    raise ValueError("response for CID %d, expected %d" % (rcid, cid))
                return status >> 1, dw0, bytes(got)
            else:
                raise ValueError("unexpected PDU type %d" % t)

    def connect(self, qid, sqsize, cntlid, a):
        sqe = bytearray(64)
        sqe[0], sqe[4] = 0x7F, 0x01
        struct.pack_into("<HHHBxI", sqe, 40, 0, qid, sqsize, 0, 0 if qid else 30000)
        data = bytearray(1024)
        data[0:16] = HOSTID  # one host ID for all queues: an I/O queue joins only its host's controller
        struct.pack_into("<H", data, 16, cntlid)
        data[256:256 + len(a.subnqn)] = a.subnqn.encode()
        data[512:512 + len(a.hostnqn)] = a.hostnqn.encode()
        return self.command(sqe, bytes(data))

    def prop(self, offset, value=None, size8=False):
        sqe = bytearray(64)
        sqe[0] = 0x7F
        if value is None:
            sqe[4] = 0x04
            struct.pack_into("<B3xI", sqe, 40, 1 if size8 else 0, offset)
        else:
            sqe[4] = 0x00
            struct.pack_into("<B3xIQ", sqe, 40, 1 if size8 else 0, offset, value)
        return self.command(sqe)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("port")
    ap.add_argument("--psk", required=True, help="TLS PSK, hex")
    ap.add_argument("--identity", required=True)
    ap.add_argument("--hostnqn", required=True)
    ap.add_argument("--subnqn", required=True)
    ap.add_argument("--suite", default="TLS_AES_128_GCM_SHA256")
    ap.add_argument("--session")
    ap.add_argument("--nsid", type=int, default=1)
    ap.add_argument("--lba", type=int, default=512)
    a = ap.parse_args()
    admin = io = None
    try:
        admin = Queue(a)
        t, hdr = admin.icreq()
        tap(t == 1 and len(hdr) == 128, "admin queue: ICResp over TLS (s_client)")
        st, dw0, _ = admin.connect(0, 31, 0xFFFF, a)
        tap(st == 0, "admin Connect", "status 0x%x" % st)
        cntlid = dw0 & 0xFFFF
        st, _, _ = admin.prop(0x14, (6 << 16) | (4 << 20) | 1)
        tap(st == 0, "Property Set CC.EN")
        for _ in range(100):
            st, csts, _ = admin.prop(0x1C)
            if st or csts & 1:
                break
        tap(st == 0 and csts & 1, "CSTS.RDY")
        sqe = bytearray(64)
        sqe[0] = 0x06
        struct.pack_into("<I", sqe, 40, 1)  # CDW10 CNS 1
        st, _, ident = admin.command(sqe, read_len=4096)
        model = ident[24:64].decode(errors="replace").strip()
        tap(st == 0 and model, "Identify Controller (model %r)" % model)
        ioccsz = struct.unpack_from("<I", ident, 1792)[0]
        icd_max = ioccsz * 16 - 64 if ioccsz else 0

        io = Queue(a)
        t, _ = io.icreq()
        tap(t == 1, "I/O queue: ICResp over a second TLS connection")
        st, _, _ = io.connect(1, 31, cntlid, a)
        tap(st == 0, "I/O queue Connect (cntlid %d)" % cntlid, "status 0x%x" % st)
        data = os.urandom(4096)
        nlb = len(data) // a.lba
        sqe = bytearray(64)
        sqe[0] = 0x01
        struct.pack_into("<I", sqe, 4, a.nsid)
        struct.pack_into("<QI", sqe, 40, 8, nlb - 1)
        st, _, _ = io.command(sqe, data, icd=len(data) <= icd_max)
        tap(st == 0, "Write 4 KiB (%s)" % ("in-capsule" if len(data) <= icd_max else "R2T/H2CData"), "status 0x%x" % st)
        sqe[0] = 0x02
        st, _, back = io.command(sqe, read_len=len(data))
        tap(st == 0 and back == data, "Read it back: same bytes", "status 0x%x" % st)
    except (EOFError, ValueError, OSError) as e:
        tap(False, "exchange", str(e))
    for q, name in ((io, "I/O"), (admin, "admin")):
        if q:
            err = q.close()
            if err.strip():
                print("# s_client (%s): %s" % (name, err.strip().replace("\n", "\n# ")))
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
