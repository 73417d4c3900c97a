# SPDX-License-Identifier: MIT
"""Just enough NVMe/TCP (no digests, in-capsule writes only) for the DH-HMAC-CHAP oracle: a host
that connects and authenticates queues, and a target that libnvring can connect to."""

import socket
import struct
import threading

ICREQ, ICRESP, H2C_TERM, C2H_TERM, CMD, RSP, H2C_DATA, C2H_DATA, R2T = 0, 1, 2, 3, 4, 5, 6, 7, 9
F_DATA_LAST = 0x04
OPC_FABRICS = 0x7F
FC_PROP_SET, FC_CONNECT, FC_PROP_GET, FC_AUTH_SEND, FC_AUTH_RECV = 0x00, 0x01, 0x04, 0x05, 0x06
AUTH_REQUIRED = (1, 0x91)
ATR = 1 << 17


def recv_exact(sock, n):
    buf = b''
    while len(buf) < n:
        got = sock.recv(n - len(buf))
        if not got:
            raise ConnectionError('peer closed')
        buf += got
    return buf


def recv_pdu(sock):
    """-> (type, flags, header bytes, data bytes)"""
    ch = recv_exact(sock, 8)
    ptype, flags, hlen, pdo, plen = struct.unpack('<BBBBI', ch)
    if hlen < 8 or plen < hlen or plen > (1 << 24):
        raise ConnectionError('bad PDU header %r' % ch)
    rest = recv_exact(sock, plen - 8)
    hdr = ch + rest[:hlen - 8]
    data = rest[pdo - 8:] if pdo else b''
    return ptype, flags, hdr, data


def wire_status(sct, sc, dnr=False):
    return (sc << 1) | (sct << 9) | (0x8000 if dnr else 0)


def sqe(opcode, cid, nsid=0, fctype=0, cdw10_15=b'', sgl=b'', extra=None):
    """A 64-byte SQE; extra: {offset: bytes} overlays (fabrics fields)."""
    b = bytearray(64)
    b[0], b[2:4] = opcode, struct.pack('<H', cid)
    b[1] = 0x40  # PSDT 01b: NVMe over Fabrics commands carry SGLs (nvmet refuses anything else)
    b[4:8] = struct.pack('<I', nsid)
    if opcode == OPC_FABRICS:
        b[4] = fctype
        b[5:8] = b'\0\0\0'
    b[24:24 + len(sgl)] = sgl
    b[40:40 + len(cdw10_15)] = cdw10_15
    for off, val in (extra or {}).items():
        b[off:off + len(val)] = val
    return bytes(b)


def sgl_icd(length):
    return struct.pack('<QI3xB', 0, length, 0x01)


def sgl_transport(length):
    return struct.pack('<QI3xB', 0, length, 0x5A)


class HostQueue:
    """One queue (TCP connection) of the oracle host."""

    def __init__(self, addr, port, timeout=30):
        self.sock = socket.create_connection((addr, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.cid = 0
        icreq = struct.pack('<BBBBIHBBI', ICREQ, 0, 128, 0, 128, 0, 0, 0, 0).ljust(128, b'\0')
        self.sock.sendall(icreq)
        t, _, hdr, _ = recv_pdu(self.sock)
        if t != ICRESP:
            raise ConnectionError('no ICResp (type %d)' % t)

    def close(self):
        self.sock.close()

    def cmd(self, sqe_fn, data_out=b'', data_in=0):
        """Send one command; -> (status (sct, sc), dw0, dw1, data received)."""
        self.cid = (self.cid + 1) & 0xffff
        if data_out:
            s = sqe_fn(self.cid, sgl_icd(len(data_out)))
        else:
            s = sqe_fn(self.cid, sgl_transport(data_in))  # a null SGL is a transport data block of length 0, as Linux sends
        pdo = 72 if data_out else 0
        self.sock.sendall(struct.pack('<BBBBI', CMD, 0, 72, pdo, 72 + len(data_out)) + s + data_out)
        got = b''
        while True:
            t, flags, hdr, data = recv_pdu(self.sock)
            if t == C2H_DATA:
                got += data
                continue
            if t == RSP:
                dw0, dw1, _, _, cid, st = struct.unpack_from('<IIHHHH', hdr, 8)
                return ((st >> 9) & 7, (st >> 1) & 0xff), dw0, dw1, got
            raise ConnectionError('unexpected PDU type %d' % t)


def connect_sqe(qid, sqsize, kato=0):
    return lambda cid, sgl: sqe(OPC_FABRICS, cid, fctype=FC_CONNECT, sgl=sgl,
                                cdw10_15=struct.pack('<HHHBBI', 0, qid, sqsize, 0, 0, kato))


def connect_data(hostid, cntlid, subnqn, hostnqn):
    return (hostid + struct.pack('<H', cntlid)).ljust(256, b'\0') + subnqn.encode().ljust(256, b'\0') + \
        hostnqn.encode().ljust(256, b'\0') + bytes(256)


def auth_sqe(fctype, length):
    return lambda cid, sgl: sqe(OPC_FABRICS, cid, fctype=fctype, sgl=sgl,
                                extra={41: b'\x01\x01\xE9', 44: struct.pack('<I', length)})


def prop_get_sqe(offset, eight):
    return lambda cid, sgl: sqe(OPC_FABRICS, cid, fctype=FC_PROP_GET, sgl=sgl,
                                extra={40: bytes([1 if eight else 0]), 44: struct.pack('<I', offset)})


def prop_set_sqe(offset, value):
    return lambda cid, sgl: sqe(OPC_FABRICS, cid, fctype=FC_PROP_SET, sgl=sgl,
                                extra={40: b'\0', 44: struct.pack('<IQ', offset, value)})


# ---- target ----

class TargetConn(threading.Thread):
    """Serves one queue; the target object decides what authentication does."""

    def __init__(self, target, sock):
        super().__init__(daemon=True)
        self.t, self.sock, self.qid, self.auth = target, sock, None, None

    def send_rsp(self, cid, status=(0, 0), dw0=0, dw1=0, dnr=False):
        cqe = struct.pack('<IIHHHH', dw0, dw1, 0, self.qid or 0, cid, wire_status(status[0], status[1], dnr))
        self.sock.sendall(struct.pack('<BBBBI', RSP, 0, 24, 0, 24) + cqe)

    def send_data(self, cid, data):
        hdr = struct.pack('<BBBBIHHII4x', C2H_DATA, F_DATA_LAST, 24, 24, 24 + len(data), cid, 0, 0, len(data))
        self.sock.sendall(hdr + data)

    def run(self):
        try:
            t, _, _, _ = recv_pdu(self.sock)
            if t != ICREQ:
                return
            self.sock.sendall(struct.pack('<BBBBIHBBI', ICRESP, 0, 128, 0, 128, 0, 0, 0, 1 << 20).ljust(128, b'\0'))
            while True:
                t, _, hdr, data = recv_pdu(self.sock)
                if t != CMD:
                    return
                self.t.handle(self, hdr[8:72], data)
        except (ConnectionError, OSError):
            pass
        finally:
            self.sock.close()


class Target:
    """Accepts connections on 127.0.0.1:port (0 = any free port); subclass handle()."""

    def __init__(self, port=0, addr='127.0.0.1'):
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((addr, port))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            TargetConn(self, s).start()

    def stop(self):
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
