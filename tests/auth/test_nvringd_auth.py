#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nvringd authenticating hosts (DH-HMAC-CHAP), against two independent hosts: the Python oracle
(dhchap_oracle.py host: every hash x group, uni- and bidirectional, on the admin and two I/O
queues, commands gated before authentication) and libnvring's nvring CLI; then the refusals:
a wrong host key (AUTH_Failure1 reason 1), no key at all (Authentication Required), a wrong
controller key (our host refuses the controller), a key file, and a bad key at start (exit 2,
the message names the host). TAP. Usage: test_nvringd_auth.py NVRINGD NVRING"""

import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dhchap_spec  # noqa: F401  (needs python3-cryptography)
except ImportError as e:
    print('1..0 # SKIP python3-cryptography not installed (%s)' % e)
    sys.exit(0)

NVRINGD, NVRING = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:5a1e0000-0000-4000-8000-00000000a117'
OTHER = 'nqn.2014-08.org.nvmexpress:uuid:5a1e0000-0000-4000-8000-00000000b227'
SUBNQN = 'nqn.2026-11.io.nvring:default'
n = failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    print('%sok %d - %s' % ('' if cond else 'not ', n, what), flush=True)
    failed += 0 if cond else 1
    return cond


def gen_key(length, hmac, nqn):
    """A key as an admin makes one (nvme-cli), or our keytool's if nvme-cli is missing."""
    r = subprocess.run(['nvme', 'gen-dhchap-key', '--key-length', str(length), '--hmac', str(hmac), '--nqn', nqn],
                       capture_output=True, text=True)
    return r.stdout.strip()


def start(*allow):
    args = [NVRINGD, '-l', '127.0.0.1:0', '--ns', 'mem:16M', '-t', '2', '-v', '--rpc-socket', 'none']
    for a in allow:
        args += ['--allow-host', a]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    deadline = time.time() + 20
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if 'listening on 127.0.0.1:' in line and port is None:
            port = int(line.split('127.0.0.1:')[1].split()[0])
        if 'ready' in line:
            return p, port
    return p, None


def stop(p):
    p.terminate()
    try:
        return p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        return -1


def oracle(port, key, ctrl_key=None, hashname='sha256', group='null', ios=2, expect=None, hostnqn=HOSTNQN):
    args = [sys.executable, os.path.join(HERE, 'dhchap_oracle.py'), 'host', '--addr', '127.0.0.1', '--port', str(port),
            '--subnqn', SUBNQN, '--hostnqn', hostnqn, '--key', key, '--hash', hashname, '--dhgroup', group,
            '--io-queues', str(ios), '--check-gating']
    if ctrl_key:
        args += ['--ctrl-key', ctrl_key]
    if expect is not None:
        args += ['--expect-failure', str(expect)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def nvring(port, *extra, hostnqn=HOSTNQN):
    r = subprocess.run([NVRING, 'id-ctrl', '-a', '127.0.0.1', '--trsvcid', str(port), '--nqn', SUBNQN,
                        '-q', hostnqn, *extra], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def main():
    hk = gen_key(48, 2, HOSTNQN)       # transformed with SHA-384
    ck = gen_key(64, 3, SUBNQN)        # controller key, SHA-512
    other_key = gen_key(32, 1, OTHER)
    if not ok(hk.startswith('DHHC-1:02:') and ck.startswith('DHHC-1:03:'), 'keys from nvme gen-dhchap-key'):
        print('1..%d' % n)
        return 1
    p, port = start('%s,dhchap=%s,dhchap-ctrl=%s' % (HOSTNQN, hk, ck), '%s,dhchap=%s' % (OTHER, other_key))
    if not ok(port is not None, 'nvringd with two keyed hosts starts'):
        print('1..%d' % n)
        return 1
    for group in ('null', 'ffdhe2048', 'ffdhe3072', 'ffdhe4096', 'ffdhe6144', 'ffdhe8192'):
        for h in ('sha256', 'sha384', 'sha512'):
            rc, out = oracle(port, hk, ck, h, group)
            ok(rc == 0, 'oracle host, %s %s, bidirectional, admin + 2 I/O queues, gated before' % (h, group))
            if rc:
                print('# ' + out.replace('\n', '\n# '))
        rc, out = oracle(port, other_key, None, 'sha512', group, ios=1, hostnqn=OTHER)
        ok(rc == 0, 'oracle host, sha512 %s, host only' % group)
    rc, _ = oracle(port, ck, None, 'sha256', 'null', ios=0, expect=1)
    ok(rc == 0, 'a wrong host key: AUTH_Failure1 reason 1 (authentication failed)')
    rc, out = nvring(port, '-S', hk, '-C', ck)
    ok(rc == 0 and 'Identify Controller' in out, 'nvring with -S and -C: bidirectional, identify works')
    rc, out = nvring(port, '-S', hk)
    ok(rc == 0, 'nvring with -S only: host authentication')
    rc, out = nvring(port)
    ok(rc != 0, 'nvring without a key: refused (%s)' % out.strip().splitlines()[-1] if out.strip() else 'no output')
    rc, out = nvring(port, '-S', hk, '-C', other_key)
    ok(rc != 0, 'nvring with a wrong controller key: our host refuses the controller')
    rc, out = nvring(port, '-S', other_key)
    ok(rc != 0, 'nvring with a wrong host key: refused')
    ok(p.poll() is None, 'nvringd still serving after the refusals')
    ok(stop(p) == 0, 'nvringd exits 0')

    keyfile = '/tmp/nvringd-auth-test-%d.key' % os.getpid()
    with open(keyfile, 'w') as f:
        f.write(hk + '\n')
    os.chmod(keyfile, 0o600)
    p, port = start('%s,dhchap-file=%s' % (HOSTNQN, keyfile))
    rc, out = nvring(port, '-S', hk) if port else (1, '')
    ok(rc == 0, 'a key from dhchap-file= works')
    stop(p)
    os.unlink(keyfile)

    bad = hk[:-6] + ('A' if hk[-6] != 'A' else 'B') + hk[-5:]
    r = subprocess.run([NVRINGD, '-l', '127.0.0.1:0', '--ns', 'mem:16M', '--rpc-socket', 'none',
                        '--allow-host', '%s,dhchap=%s' % (HOSTNQN, bad)], capture_output=True, text=True, timeout=20)
    ok(r.returncode == 2 and HOSTNQN in r.stderr, 'a corrupted key at start: exit 2, the message names the host (%s)'
       % r.stderr.strip())
    print('1..%d' % n)
    return 1 if failed else 0


sys.exit(main())
