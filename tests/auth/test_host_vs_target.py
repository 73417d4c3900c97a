#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""libnvring / nvring authenticating against the Python oracle controller over NVMe/TCP: every
hash x group, host-only and bidirectional, Receive data exact (SPDK) and padded to AL (nvmet),
wrong host key (Failure1), wrong controller key (the host must refuse), no key; connect latency
per DH group. TAP. Usage: test_host_vs_target.py NVRING AUTH_CONNECT"""

import argparse
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dhchap_spec as spec
    from dhchap_oracle import OracleTarget
except ImportError as e:
    print('1..0 # SKIP python3-cryptography not installed (%s)' % e)
    sys.exit(0)

NVRING, CONNECT = sys.argv[1], sys.argv[2]
HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:0b5c2b94-4c3e-4d8a-9f43-1d2c3b4a5f60'
SUBNQN = 'nqn.2026-11.io.nvring:oracle'
n = failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    print('%sok %d - %s' % ('' if cond else 'not ', n, what), flush=True)
    failed += 0 if cond else 1
    return cond


def diag(text):
    print('# ' + text, flush=True)


def target(key, ctrl_key=None, hash_=None, dhgroup=None, pad=False):
    a = argparse.Namespace(subnqn=SUBNQN, hostnqn=HOSTNQN, key=key, ctrl_key=ctrl_key, hash=hash_,
                           dhgroup=dhgroup, pad=pad)
    return OracleTarget(a)


def connect(t, key, ctrl_key=None, nr_io=1, reps=1):
    r = subprocess.run([CONNECT, '127.0.0.1', str(t.port), SUBNQN, HOSTNQN, key or '-', ctrl_key or '-',
                        str(nr_io), str(reps)], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout.strip()


def nvring(t, *args):
    r = subprocess.run([NVRING] + list(args) + ['-a', '127.0.0.1', '-s', str(t.port), '--nqn', SUBNQN,
                                                '--hostnqn', HOSTNQN], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


host_key = spec.random_key(1, 32)
ctrl_key = spec.random_key(2, 48)

# every hash x group x direction; Receive data exact or padded to AL
for hname, hid in sorted(spec.HASH_BY_NAME.items(), key=lambda x: x[1]):
    for gid in range(6):
        gname = spec.GROUPS[gid][0]
        for bidi in (False, True):
            pad = (hid + gid) % 2 == 1
            t = target(host_key, ctrl_key, hname, gname, pad)
            rc, out = connect(t, host_key, ctrl_key if bidi else None)
            t.stop()
            res = t.results
            good = rc == 0 and len(res) == 2 and all(
                r['authenticated'] and r['hash'] == hid and r['dhgroup'] == gid and r['bidirectional'] == bidi
                for r in res) and sorted(r['qid'] for r in res) == [0, 1] and t.gated == 0
            ok(good, '%s %s %s%s: admin + I/O queue authenticated, Flush on the I/O queue (%s)' %
               (hname, gname, 'bidirectional' if bidi else 'host only', ', AL-padded' if pad else '', out))

# latency of nvr_ctrl_connect (admin queue only: TCP, Connect, auth, enable, Identify) per group
for gid in range(6):
    gname = spec.GROUPS[gid][0]
    t = target(host_key, ctrl_key, 'sha512', gname)
    rc, out = connect(t, host_key, ctrl_key, nr_io=0, reps=5)
    t.stop()
    ok(rc == 0, 'latency sha512 %s bidirectional, admin queue: %s' % (gname, out))

# default choice: strongest common pair
t = target(host_key)
rc, out = connect(t, host_key, None, nr_io=0)
t.stop()
ok(rc == 0 and t.results and t.results[0]['hash'] == 3 and t.results[0]['dhgroup'] == 5,
   'no restriction: SHA-512 / ffdhe8192 chosen')

# failures
t = target(host_key, ctrl_key, None, 'ffdhe2048')
rc, out = connect(t, spec.random_key(1, 32))
ok(rc == 1 and out.startswith('error EACCES') and 'refused authentication' in out and 'reason 1' in out,
   'wrong host key: -EACCES, Failure1 reason 1: %s' % out)
ok(len(t.results) == 1 and not t.results[0]['authenticated'] and t.results[0]['reason'] == spec.FAILED,
   'wrong host key: the oracle answered Failure1 (failed) on the admin queue')
rc, out = connect(t, host_key, spec.random_key(2, 48))
ok(rc == 1 and out.startswith('error EKEYREJECTED') and 'R2 did not verify' in out,
   'wrong controller key: -EKEYREJECTED: %s' % out)
ok(len(t.results) == 2 and t.results[1]['failure2'] == spec.FAILED,
   'wrong controller key: the host sent AUTH_Failure2 reason 1')
rc, out = connect(t, None)
ok(rc == 1 and out.startswith('error EACCES') and 'give a host secret' in out, 'no host key: %s' % out)
rc, out = connect(t, 'DHHC-1:01:nonsense:')
ok(rc == 1 and out.startswith('error EINVAL') and 'bad DH-HMAC-CHAP host secret' in out,
   'malformed host key: -EINVAL: %s' % out)
t.stop()
t = target(host_key, None, None, 'null')
rc, out = connect(t, host_key, ctrl_key, nr_io=0)
t.stop()
ok(rc == 1 and 'EACCES' in out and t.results and t.results[0]['reason'] == spec.FAILED,
   'bidirectional asked of a controller without a key: Failure1: %s' % out)

# the CLI (every connecting command shares the options; perf included)
t = target(host_key, ctrl_key, 'sha256', 'ffdhe3072')
rc, out = nvring(t, 'id-ctrl', '-S', host_key, '-C', ctrl_key)
ok(rc == 0 and 'ORACLE0001' in out, 'nvring id-ctrl -S -C: authenticated, Identify read')
rc, out = nvring(t, 'flush', '--dhchap-secret', host_key, '--dhchap-ctrl-secret', ctrl_key)
ok(rc == 0, 'nvring flush --dhchap-secret --dhchap-ctrl-secret on an authenticated I/O queue (%s)' % out.strip())
rc, out = nvring(t, 'id-ctrl', '-S', host_key, '-C', spec.random_key(2, 48))
ok(rc == 3 and 'R2 did not verify' in out and 'Failure2' in out, 'nvring, wrong controller key: %s' % out.strip())
rc, out = nvring(t, 'perf', '-t', '1', '-S', spec.random_key(1, 32))
ok(rc == 3 and 'refused authentication' in out, 'nvring perf passes the secret: %s' % out.strip())
rc, out = nvring(t, 'id-ctrl', '-S', host_key[:-5] + ':')
ok(rc == 3 and 'bad DH-HMAC-CHAP host secret' in out, 'nvring, malformed key: %s' % out.strip())
rc, out = nvring(t, 'id-ctrl')
ok(rc == 3 and 'requires DH-HMAC-CHAP' in out, 'nvring without a key: %s' % out.strip())
t.stop()

# the oracle's own host mode (what nvringd will be tested with) against its target
ORACLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'dhchap_oracle.py')


def oracle_host(t, key, *extra):
    r = subprocess.run([sys.executable, ORACLE, 'host', '--port', str(t.port), '--subnqn', SUBNQN, '--hostnqn', HOSTNQN,
                        '--key', key] + list(extra), capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout


t = target(host_key, ctrl_key, 'sha384', 'ffdhe4096')
rc, out = oracle_host(t, host_key, '--ctrl-key', ctrl_key, '--hash', 'sha384', '--dhgroup', 'ffdhe4096',
                      '--io-queues', '2', '--check-gating')
ok(rc == 0 and out.count('authenticated sha384 ffdhe4096 bidirectional') == 3 and 'Authentication Required' in out
   and out.count('Flush nsid 1: status 0/0') == 2, 'oracle host mode: gating, 3 queues, CAP and Flush')
rc, out = oracle_host(t, spec.random_key(1, 32), '--expect-failure', '1')
ok(rc == 0 and 'AUTH_Failure1 reason 1' in out, 'oracle host mode: --expect-failure 1 with a wrong key')
rc, out = oracle_host(t, host_key, '--hash', 'sha256')
ok(rc == 1 and 'reason 4' in out, 'oracle host mode: unusable hash fails (%s)' % out.strip())
t.stop()

print('1..%d' % n)
sys.exit(1 if failed else 0)
