#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Independent DH-HMAC-CHAP oracle (dhchap_spec.py) on real NVMe/TCP.

  host    connect to a target (nvringd), authenticate the admin queue and --io-queues I/O queues,
          prove each queue works (Property Get CAP on the admin queue, Flush on I/O queues):
          dhchap_oracle.py host --addr A --port P --subnqn S --hostnqn H --key K [--ctrl-key K]
                                --hash sha256|sha384|sha512 --dhgroup null|ffdhe2048|...
          Exit 0 when every queue authenticated (and with --expect-failure N when the controller
          answered AUTH_Failure1 with reason N instead), 1 otherwise; one line per queue.
  target  a minimal NVMe/TCP controller requiring authentication, for libnvring:
          dhchap_oracle.py target --port P --subnqn S --hostnqn H --key K [--ctrl-key K]
                                  [--hash ...] [--dhgroup ...] [--pad]
"""

import argparse
import os
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dhchap_spec as spec  # noqa: E402
import nvme_tcp_min as tcp  # noqa: E402

REG_CAP, REG_CC, REG_CSTS = 0x00, 0x14, 0x1c


def parse_names(value, table):
    if not value:
        return sorted(set(table.values()))
    return [table[v] for v in value.split(',')]


# ---- host ----

def auth_queue(q, a, qid, tid):
    """DH-HMAC-CHAP on one queue; -> (ok, text, failure1 reason or None)."""
    h = spec.Host(a.hostnqn, a.subnqn, a.key, a.ctrl_key, parse_names(a.hash, spec.HASH_BY_NAME),
                  parse_names(a.dhgroup, spec.GROUP_BY_NAME), tid=tid)

    def send(msg):
        st, _, _, _ = q.cmd(tcp.auth_sqe(tcp.FC_AUTH_SEND, len(msg)), data_out=msg)
        if st != (0, 0):
            raise RuntimeError('Authentication Send: status %x/%x' % st)

    def recv():
        st, _, _, data = q.cmd(tcp.auth_sqe(tcp.FC_AUTH_RECV, 4096), data_in=4096)
        if st != (0, 0):
            raise RuntimeError('Authentication Receive: status %x/%x' % st)
        return data

    send(h.negotiate())
    try:
        send(h.challenge(recv()))
        s2 = h.success1(recv())
    except spec.AuthFailure as e:
        if 'Failure1' in str(e):
            return False, 'controller sent AUTH_Failure1 reason %d' % e.reason, e.reason
        send(spec.failure(spec.FAILURE2, tid, e.reason))
        return False, 'host refused: %s (sent AUTH_Failure2 reason %d)' % (e, e.reason), None
    if s2:
        send(s2)
    return True, 'authenticated %s %s%s' % (spec.HASHES[h.hid][2], spec.GROUPS[h.gid][0],
                                            ' bidirectional' if s2 else ''), None


def connect_queue(a, qid, cntlid, hostid):
    q = tcp.HostQueue(a.addr, a.port)
    st, dw0, _, _ = q.cmd(tcp.connect_sqe(qid, 31 if qid == 0 else 15, kato=0),
                          data_out=tcp.connect_data(hostid, cntlid, a.subnqn, a.hostnqn))
    if st != (0, 0):
        raise RuntimeError('qid %d: Connect status %x/%x' % (qid, st[0], st[1]))
    return q, dw0


def run_host(a):
    hostid = os.urandom(16)
    t0 = time.monotonic()
    q, dw0 = connect_queue(a, 0, 0xffff, hostid)
    cntlid = dw0 & 0xffff
    if not dw0 & tcp.ATR:
        print('qid 0: the controller did not ask for authentication (ATR clear)')
        return 1
    if a.check_gating:
        st, _, _, _ = q.cmd(tcp.prop_get_sqe(REG_CAP, True))
        if st != tcp.AUTH_REQUIRED:
            print('qid 0: Property Get before authentication got %x/%x, not Authentication Required' % st)
            return 1
        print('qid 0: Property Get before authentication: Authentication Required')
    ok, text, reason = auth_queue(q, a, 0, 1)
    print('qid 0: %s (%.1f ms)' % (text, (time.monotonic() - t0) * 1e3))
    if not ok:
        return 0 if a.expect_failure is not None and reason == a.expect_failure else 1
    if a.expect_failure is not None:
        print('qid 0: expected AUTH_Failure1 reason %d' % a.expect_failure)
        return 1
    st, cap, cap_hi, _ = q.cmd(tcp.prop_get_sqe(REG_CAP, True))
    if st != (0, 0):
        print('qid 0: Property Get CAP after authentication: status %x/%x' % st)
        return 1
    print('qid 0: CAP 0x%016x' % (cap | cap_hi << 32))
    if a.io_queues:
        q.cmd(tcp.prop_set_sqe(REG_CC, (6 << 16) | (4 << 20) | 1))
        for _ in range(500):
            _, csts, _, _ = q.cmd(tcp.prop_get_sqe(REG_CSTS, False))
            if csts & 1:
                break
            time.sleep(0.01)
        n = a.io_queues - 1
        q.cmd(lambda cid, sgl: tcp.sqe(0x09, cid, sgl=sgl, cdw10_15=struct.pack('<II', 0x07, n | n << 16)))
    rc = 0
    for qid in range(1, a.io_queues + 1):
        t0 = time.monotonic()
        ioq, dw0 = connect_queue(a, qid, cntlid, hostid)
        ok, text, _ = auth_queue(ioq, a, qid, 1 + qid) if dw0 & tcp.ATR else (False, 'ATR clear', None)
        print('qid %d: %s (%.1f ms)' % (qid, text, (time.monotonic() - t0) * 1e3))
        if ok:
            st, _, _, _ = ioq.cmd(lambda cid, sgl: tcp.sqe(0x00, cid, nsid=1, sgl=sgl))
            print('qid %d: Flush nsid 1: status %x/%x' % (qid, st[0], st[1]))
            ok = st != tcp.AUTH_REQUIRED
        rc |= 0 if ok else 1
        ioq.close()
    q.close()
    return rc


# ---- target ----

class OracleTarget(tcp.Target):
    """One controller; every queue must authenticate. results: one dict per finished queue."""

    def __init__(self, a, port=0):
        super().__init__(port)
        self.a = a
        self.cc = 0
        self.lock = threading.Lock()
        self.results = []
        self.gated = 0

    def _record(self, conn):
        au = conn.auth
        with self.lock:
            self.results.append({'qid': conn.qid, 'authenticated': au.authenticated, 'reason': au.reason,
                                 'failure2': au.host_failure2, 'bidirectional': au.bidirectional,
                                 'hash': getattr(au, 'hid', None), 'dhgroup': getattr(au, 'gid', None)})
        conn.recorded = True

    def handle(self, conn, s, data):
        opc, cid, fct = s[0], struct.unpack_from('<H', s, 2)[0], s[4]
        if opc == tcp.OPC_FABRICS and fct == tcp.FC_CONNECT:
            qid = struct.unpack_from('<H', s, 42)[0]
            subnqn = data[256:512].split(b'\0')[0].decode()
            hostnqn = data[512:768].split(b'\0')[0].decode()
            if len(data) != 1024 or subnqn != self.a.subnqn or hostnqn != self.a.hostnqn:
                return conn.send_rsp(cid, (1, 0x84), dnr=True)
            conn.qid, conn.recorded = qid, False
            conn.auth = spec.Controller(self.a.hostnqn, self.a.subnqn, self.a.key, self.a.ctrl_key,
                                        parse_names(self.a.hash, spec.HASH_BY_NAME),
                                        parse_names(self.a.dhgroup, spec.GROUP_BY_NAME))
            return conn.send_rsp(cid, dw0=(1 if qid == 0 else 0) | tcp.ATR)
        if conn.auth is None:
            return conn.send_rsp(cid, (1, 0x82), dnr=True)
        if opc == tcp.OPC_FABRICS and fct in (tcp.FC_AUTH_SEND, tcp.FC_AUTH_RECV):
            length = struct.unpack_from('<I', s, 44)[0]
            if s[41:44] != b'\x01\x01\xE9' or not length:
                return conn.send_rsp(cid, (0, 0x02), dnr=True)
            if fct == tcp.FC_AUTH_SEND:
                if length != len(data):
                    return conn.send_rsp(cid, (0, 0x02), dnr=True)
                conn.auth.send(data)
            else:
                msg = conn.auth.recv(length)
                conn.send_data(cid, (msg.ljust(length, b'\0') if self.a.pad else msg)[:length])
            if (conn.auth.authenticated or conn.auth.failed) and not conn.recorded and \
                    conn.auth.step in ('idle', 'dead'):
                self._record(conn)
            return conn.send_rsp(cid)
        if not conn.auth.authenticated:
            with self.lock:
                self.gated += 1
            return conn.send_rsp(cid, tcp.AUTH_REQUIRED)
        return self.execute(conn, opc, fct, cid, s)

    def execute(self, conn, opc, fct, cid, s):
        if opc == tcp.OPC_FABRICS and fct == tcp.FC_PROP_GET:
            off = struct.unpack_from('<I', s, 44)[0]
            v = {REG_CAP: 63 | 1 << 16 | 2 << 24 | 1 << 37, REG_CC: self.cc,
                 REG_CSTS: (self.cc & 1) | (2 << 2 if (self.cc >> 14) & 3 else 0)}.get(off, 0)
            return conn.send_rsp(cid, dw0=v & 0xffffffff, dw1=v >> 32)
        if opc == tcp.OPC_FABRICS and fct == tcp.FC_PROP_SET:
            if struct.unpack_from('<I', s, 44)[0] == REG_CC:
                self.cc = struct.unpack_from('<I', s, 48)[0]
            return conn.send_rsp(cid)
        if conn.qid == 0 and opc == 0x06:  # Identify Controller
            if s[40] != 1:
                return conn.send_rsp(cid, (0, 0x02), dnr=True)
            idc = bytearray(4096)
            struct.pack_into('<H', idc, 78, 1)  # CNTLID
            idc[4:24] = b'ORACLE0001'.ljust(20)
            idc[24:64] = b'nvring DH-HMAC-CHAP oracle'.ljust(40)
            idc[64:72] = b'0.1'.ljust(8)
            struct.pack_into('<I', idc, 516, 1)  # NN
            struct.pack_into('<H', idc, 514, 128)  # MAXCMD
            struct.pack_into('<II', idc, 1792, (64 + 4096) // 16, 1)  # IOCCSZ, IORCSZ
            struct.pack_into('<I', idc, 536, 1 | 1 << 20)  # SGLS
            idc[768:768 + len(self.a.subnqn)] = self.a.subnqn.encode()
            conn.send_data(cid, bytes(idc))
            return conn.send_rsp(cid)
        if conn.qid == 0 and opc == 0x09:  # Set Features: grant what is asked
            return conn.send_rsp(cid, dw0=struct.unpack_from('<I', s, 44)[0])
        if conn.qid == 0 and opc == 0x18:  # Keep Alive
            return conn.send_rsp(cid)
        if conn.qid and opc == 0x00:  # Flush
            return conn.send_rsp(cid)
        return conn.send_rsp(cid, (0, 0x01), dnr=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('mode', choices=['host', 'target'])
    p.add_argument('--addr', default='127.0.0.1')
    p.add_argument('--port', type=int, default=4420)
    p.add_argument('--subnqn', required=True)
    p.add_argument('--hostnqn', required=True)
    p.add_argument('--key', required=True)
    p.add_argument('--ctrl-key')
    p.add_argument('--hash', help='offered (host) / allowed (target) hashes, comma separated; default all')
    p.add_argument('--dhgroup', help='offered / allowed DH groups, comma separated; default all')
    p.add_argument('--io-queues', type=int, default=0)
    p.add_argument('--check-gating', action='store_true', help='host: a command before auth must get 0x191')
    p.add_argument('--expect-failure', type=int, help='host: expect AUTH_Failure1 with this reason')
    p.add_argument('--pad', action='store_true', help='target: pad Receive data to AL like nvmet')
    a = p.parse_args()
    if a.mode == 'host':
        try:
            return run_host(a)
        except (RuntimeError, ConnectionError, OSError) as e:
            print('error: %s' % e)
            return 1
    t = OracleTarget(a, a.port)
    print('listening on 127.0.0.1:%d' % t.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        t.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
