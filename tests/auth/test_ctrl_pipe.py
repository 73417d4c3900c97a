#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nvring's controller session (through dhchap_ctrl_pipe) driven by the independent Python host
oracle, message by message: every hash x group x direction (inline and with the DH step deferred
to another thread), wrong keys, replays, truncated / oversized / malformed messages with the
exact AUTH_Failure1 reason codes, NVMe statuses, deadlines. TAP. Usage: test_ctrl_pipe.py PIPE"""

import os
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dhchap_spec as spec
except ImportError as e:
    print('1..0 # SKIP python3-cryptography not installed (%s)' % e)
    sys.exit(0)

PIPE = sys.argv[1]
HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:5a1d3c9e-2f4b-4e61-8a7c-9d0e1f2a3b4c'
SUBNQN = 'nqn.2026-11.io.nvring:pipe'
INVALID_FIELD, SEQUENCE = 0x4002, 0x400c
n = failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    print('%sok %d - %s' % ('' if cond else 'not ', n, what), flush=True)
    failed += 0 if cond else 1
    return cond


class Pipe:
    def __init__(self, key, ctrl_key=None, hashes=None, dhgroups=None, defer=False, timeout_ms=None):
        args = [PIPE, '--host-key', key, '--hostnqn', HOSTNQN, '--subnqn', SUBNQN]
        if ctrl_key:
            args += ['--ctrl-key', ctrl_key]
        if hashes:
            args += ['--hashes', hashes]
        if dhgroups:
            args += ['--dhgroups', dhgroups]
        if defer:
            args += ['--defer']
        if timeout_ms:
            args += ['--timeout-ms', str(timeout_ms)]
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.deferred = 0

    def _cmd(self, line):
        self.p.stdin.write(line + '\n')
        self.p.stdin.flush()
        return self.p.stdout.readline().split()

    def send(self, msg):
        w = self._cmd('send ' + msg.hex())
        self.deferred += 'deferred' in w
        return int(w[1], 16)

    def recv(self, al=4096):
        w = self._cmd('recv %d' % al)
        return int(w[1], 16), b'' if w[2] == '-' else bytes.fromhex(w[2])

    def state(self):
        w = self._cmd('state')
        return {w[i]: w[i + 1] for i in range(0, len(w) - 1, 2)}

    def now(self, ns):
        self._cmd('now %d' % ns)

    def expire(self):
        self._cmd('expire')

    def reset(self):
        self._cmd('reset')

    def close(self):
        self.p.stdin.write('quit\n')
        self.p.stdin.close()
        return self.p.wait(timeout=30)


def failure1(msg):
    """reason of an AUTH_Failure1, or None"""
    if len(msg) >= 8 and msg[0] == 0 and msg[1] == spec.FAILURE1:
        return msg[7]
    return None


host_key = spec.random_key(1, 32)
ctrl_key = spec.random_key(3, 64)


def host(ctrl=None, key=None, tid=0x1234, **kw):
    return spec.Host(HOSTNQN, SUBNQN, key or host_key, ctrl, tid=tid, **kw)


def handshake(p, h):
    """Full transaction; -> (ok, detail)."""
    if p.send(h.negotiate()):
        return False, 'Negotiate status'
    st, chal = p.recv()
    if st:
        return False, 'Receive status %x' % st
    try:
        rep = h.challenge(chal)
        if p.send(rep):
            return False, 'Reply status'
        st, s1 = p.recv()
        s2 = h.success1(s1)
    except spec.AuthFailure as e:
        return False, 'oracle: %s (reason %d)' % (e, e.reason)
    if s2 and p.send(s2):
        return False, 'Success2 status'
    return True, rep


# ---- every hash x group x direction ----
for defer in (False, True):
    for hname, hid in sorted(spec.HASH_BY_NAME.items(), key=lambda x: x[1]):
        for gid in range(6):
            gname = spec.GROUPS[gid][0]
            for bidi in (False, True):
                p = Pipe(host_key, ctrl_key, hname, gname, defer)
                good, detail = handshake(p, host(ctrl_key if bidi else None))
                s = p.state()
                expect_deferred = 2 if defer and gid else 0
                ok(good and s['state'] == 'A' and s['hash'] == str(hid) and s['dh'] == str(gid) and
                   s['bidi'] == str(int(bidi)) and s['deadline'] == '0' and p.deferred == expect_deferred,
                   '%s%s %s %s: authenticated, R1 and R2 agree with the oracle%s' %
                   ('deferred ' if defer else '', hname, gname, 'bidirectional' if bidi else 'host only',
                    '' if good else ': ' + str(detail)))
                p.close()

# ---- strongest choice, keys ----
p = Pipe(host_key, ctrl_key)
good, _ = handshake(p, host(ctrl_key))
s = p.state()
ok(good and s['hash'] == '3' and s['dh'] == '5', 'everything allowed and offered: SHA-512 / ffdhe8192')
p.close()
p = Pipe(host_key, ctrl_key, 'sha256,sha384', 'null,ffdhe2048,ffdhe3072')
good, _ = handshake(p, host())
s = p.state()
ok(good and s['hash'] == '2' and s['dh'] == '2', 'allowed sha256,sha384 / up to ffdhe3072: SHA-384 / ffdhe3072')
p.close()

p = Pipe(host_key, ctrl_key, dhgroups='ffdhe2048')
good, detail = handshake(p, host(key=spec.random_key(1, 32)))
s = p.state()
ok(not good and 'reason 1' in detail and s['state'] == 'F' and s['pending'] == '0' and s['reason'] == '1',
   'wrong host key: Failure1 reason 1 (%s)' % detail)
p.close()

p = Pipe(host_key, ctrl_key, dhgroups='ffdhe3072')
h = host(spec.random_key(3, 64))
p.send(h.negotiate())
p.send(h.challenge(p.recv()[1]))
try:
    h.success1(p.recv()[1])
    ok(False, 'wrong controller key: the oracle must refuse R2')
except spec.AuthFailure as e:
    ok(e.reason == spec.FAILED, 'wrong controller key: the oracle host refuses R2')
    st = p.send(spec.failure(spec.FAILURE2, 0x1234, e.reason))
    s = p.state()
    ok(st == 0 and s['state'] == 'F' and s['pending'] == '0' and s['reason'] == '1',
       'Failure2 accepted; session FAILED with the host reason')
p.close()

p = Pipe(host_key, None)
good, detail = handshake(p, host(ctrl_key))
ok(not good and 'reason 1' in detail, 'bidirectional asked, no controller key: Failure1 reason 1')
p.close()

# ---- replays ----
p = Pipe(host_key, ctrl_key, dhgroups='ffdhe2048')
h = host(ctrl_key)
p.send(h.negotiate())
rep = h.challenge(p.recv()[1])
p.send(rep)
st, s1 = p.recv()
ok(st == 0 and s1[1] == spec.SUCCESS1 and s1[8] == 1, 'bidirectional: Success1 with R2')
ok(p.send(rep) == 0 and failure1(p.recv()[1]) == spec.INCORRECT_MESSAGE,
   'replayed Reply while Success2 is due: Failure1 reason 7')
p.close()

p = Pipe(host_key, ctrl_key, dhgroups='null')
good, rep = handshake(p, host())
ok(good and p.send(rep) == SEQUENCE, 'replayed Reply on an authenticated queue: Command Sequence Error')
ok(p.recv()[0] == SEQUENCE, 'Receive with nothing to return: Command Sequence Error')
h2 = host()
ok(p.send(h2.negotiate()) == 0 and p.state()['state'] == 'A', 're-authentication: the queue stays usable')
p.recv()
ok(p.send(rep) == 0 and failure1(p.recv()[1]) == spec.FAILED,
   'old Reply replayed into a new transaction (same T_ID): Failure1 reason 1')
ok(p.state()['state'] == 'F', 'failed re-authentication: FAILED')
p.close()


# ---- malformed / out of order: (what, mutate negotiate, mutate reply, expected reason) ----
def run_case(what, neg=None, rep=None, reason=None, group='ffdhe2048', before_challenge=False):
    p = Pipe(host_key, ctrl_key, 'sha256', group)
    h = host()
    m = h.negotiate()
    if neg:
        m = neg(m)
    p.send(m)
    if reason is not None and neg:
        st, msg = p.recv()
        ok(st == 0 and failure1(msg) == reason, '%s: Failure1 reason %d (got %r)' % (what, reason, failure1(msg)))
        p.close()
        return
    if before_challenge:
        st = p.send(rep(None))
    else:
        r = h.challenge(p.recv()[1])
        st = p.send(rep(r))
    st2, msg = p.recv()
    ok(st == 0 and st2 == 0 and failure1(msg) == reason,
       '%s: Failure1 reason %d (got %r)' % (what, reason, failure1(msg)))
    s = p.state()
    ok(s['state'] == 'F' and s['pending'] == '0', '%s: session FAILED after the Failure1' % what)
    p.close()


def put(b, off, val):
    b = bytearray(b)
    b[off:off + len(val)] = val
    return bytes(b)


P2048 = spec.ffdhe_prime(1)
run_case('truncated Negotiate', neg=lambda m: m[:-1], reason=spec.INCORRECT_PAYLOAD)
run_case('oversized Negotiate', neg=lambda m: m + b'\0', reason=spec.INCORRECT_PAYLOAD)
run_case('Negotiate NAPD 2 with one descriptor', neg=lambda m: put(m, 7, b'\x02'), reason=spec.INCORRECT_PAYLOAD)
run_case('Negotiate of 5 bytes', neg=lambda m: m[:5], reason=spec.INCORRECT_PAYLOAD)
run_case('Negotiate SC_C 1', neg=lambda m: put(m, 6, b'\x01'), reason=spec.CONCAT_MISMATCH)
run_case('Negotiate AUTHID 2', neg=lambda m: put(m, 8, b'\x02'), reason=spec.PROTOCOL_UNUSABLE)
run_case('Negotiate HALEN 31', neg=lambda m: put(m, 10, b'\x1f'), reason=spec.INCORRECT_PAYLOAD)
run_case('Negotiate without SHA-256', neg=lambda m: spec.negotiate(0x1234, [2, 3], [0, 1]),
         reason=spec.HASH_UNUSABLE)
run_case('Negotiate without ffdhe2048', neg=lambda m: spec.negotiate(0x1234, [1], [0, 5]),
         reason=spec.DHGROUP_UNUSABLE)
run_case('Negotiate of the wrong type', neg=lambda m: put(m, 0, b'\x01'), reason=spec.INCORRECT_MESSAGE)
run_case('truncated Reply', rep=lambda r: r[:-1], reason=spec.INCORRECT_PAYLOAD)
run_case('oversized Reply', rep=lambda r: r + b'\0', reason=spec.INCORRECT_PAYLOAD)
run_case('Reply of 15 bytes', rep=lambda r: r[:15], reason=spec.INCORRECT_PAYLOAD)
run_case('Reply with a wrong T_ID', rep=lambda r: put(r, 4, b'\x35\x12'), reason=spec.INCORRECT_PAYLOAD)
run_case('Reply HL 48 under SHA-256', rep=lambda r: put(r, 6, b'\x30'), reason=spec.INCORRECT_PAYLOAD)
run_case('Reply DHVLEN disagreeing with the length', rep=lambda r: put(r, 10, struct.pack('<H', 255)),
         reason=spec.INCORRECT_PAYLOAD)
run_case('Reply DHVLEN 384 for ffdhe2048 (length to match)',
         rep=lambda r: put(r, 10, struct.pack('<H', 384)) + bytes(128), reason=spec.INCORRECT_PAYLOAD)
run_case('Reply CVALID 1 with SEQNUM 0', rep=lambda r: put(r, 8, b'\x01'), reason=spec.INCORRECT_PAYLOAD)
run_case('Reply host DH value 0', rep=lambda r: r[:80] + bytes(256), reason=spec.DHGROUP_UNUSABLE)
run_case('Reply host DH value p-1', rep=lambda r: r[:80] + (P2048 - 1).to_bytes(256, 'big'),
         reason=spec.DHGROUP_UNUSABLE)
run_case('Reply host DH value p', rep=lambda r: r[:80] + P2048.to_bytes(256, 'big'), reason=spec.DHGROUP_UNUSABLE)
run_case('Reply host DH value 2 (valid, wrong secret)', rep=lambda r: r[:80] + (2).to_bytes(256, 'big'),
         reason=spec.FAILED)
run_case('Reply with R1 bit flipped', rep=lambda r: put(r, 16, bytes([r[16] ^ 1])), reason=spec.FAILED)
run_case('Success2 instead of Reply', rep=lambda r: spec.success2(0x1234), reason=spec.INCORRECT_MESSAGE)
run_case('Reply with an unknown AUTH_ID', rep=lambda r: put(r, 1, b'\x09'), reason=spec.INCORRECT_MESSAGE)
run_case('Reply before the Challenge was read', rep=lambda r: spec.reply(0x1234, bytes(32), None, 0, bytes(256)),
         reason=spec.INCORRECT_MESSAGE, before_challenge=True)
run_case('NULL group, Reply with a DH value', group='null', rep=lambda r: put(r, 10, struct.pack('<H', 4)) + bytes(4),
         reason=spec.INCORRECT_PAYLOAD)

# ---- sequence, AL, statuses, deadlines ----
p = Pipe(host_key)
st, msg = p.recv()
ok(st == 0 and failure1(msg) == spec.INCORRECT_MESSAGE, 'Receive before Negotiate: Failure1 reason 7')
ok(p.send(host().negotiate()) == SEQUENCE and p.recv()[0] == SEQUENCE, 'after Failure1: Command Sequence Error')
p.reset()
p.send(host().negotiate())
ok(p.recv(7)[0] == INVALID_FIELD and p.state()['state'] == 'F', 'Receive AL 7: Invalid Field, DNR; FAILED')
p.reset()
p.send(host().negotiate())
st, msg = p.recv(100)
ok(st == 0 and failure1(msg) == spec.INCORRECT_PAYLOAD, 'Receive AL 100 for a 1104-byte Challenge: Failure1 reason 6')
p.reset()
h = host()
p.send(h.negotiate())
p.recv()
ok(p.send(spec.failure(spec.FAILURE2, 0x1234, spec.HASH_UNUSABLE)) == 0 and p.state()['reason'] == '4' and
   p.state()['state'] == 'F', 'host Failure2 after the Challenge: FAILED with its reason')
p.close()

p = Pipe(host_key, timeout_ms=2000)
p.now(10 ** 9)
p.reset()
ok(p.state()['deadline'] == str(3 * 10 ** 9), 'deadline: Connect time + timeout for the Negotiate')
p.now(2 * 10 ** 9)
p.send(host().negotiate())
ok(p.state()['deadline'] == str(4 * 10 ** 9), 'deadline moves with the Negotiate')
p.expire()
s = p.state()
ok(s['state'] == 'F' and s['pending'] == '0' and s['deadline'] == '0', 'expired: FAILED, nothing pending')
ok(p.close() == 0, 'pipe exits cleanly')

print('1..%d' % n)
sys.exit(1 if failed else 0)
