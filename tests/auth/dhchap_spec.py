# SPDX-License-Identifier: MIT
"""DH-HMAC-CHAP (NVMe TP 8006) written from the protocol description, independent of nvring's C
code: keys, transform, responses, FFDHE, messages, and the two sides' rules. Crypto from the
`cryptography` package; the RFC 7919 primes are computed here from e (RFC 7919 appendix A)."""

import base64
import os
import struct
import zlib

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import dh

HASHES = {1: (hashes.SHA256, 32, 'sha256'), 2: (hashes.SHA384, 48, 'sha384'), 3: (hashes.SHA512, 64, 'sha512')}
HASH_BY_NAME = {v[2]: k for k, v in HASHES.items()}
GROUPS = {0: ('null', 0), 1: ('ffdhe2048', 2048), 2: ('ffdhe3072', 3072), 3: ('ffdhe4096', 4096),
          4: ('ffdhe6144', 6144), 5: ('ffdhe8192', 8192)}
GROUP_BY_NAME = {v[0]: k for k, v in GROUPS.items()}
RFC7919_X = {2048: 560316, 3072: 2625351, 4096: 5736041, 6144: 15705020, 8192: 10965728}

# AUTH_Failure reason code explanations
FAILED, PROTOCOL_UNUSABLE, CONCAT_MISMATCH, HASH_UNUSABLE, DHGROUP_UNUSABLE, INCORRECT_PAYLOAD, \
    INCORRECT_MESSAGE = range(1, 8)

T_COMMON, T_DHCHAP = 0, 1
NEGOTIATE, CHALLENGE, REPLY, SUCCESS1, SUCCESS2, FAILURE2, FAILURE1 = 0x00, 0x01, 0x02, 0x03, 0x04, 0xF0, 0xF1


def hash_len(hid):
    return HASHES[hid][1]


def _e_fixed(bits):
    """floor(e * 2^bits) from the series sum 1/k!"""
    one = 1 << (bits + 64)
    s, t, k = 0, one, 0
    while t:
        s += t
        k += 1
        t //= k
    return s >> 64


_PRIMES = {}


def ffdhe_prime(gid):
    b = GROUPS[gid][1]
    if b not in _PRIMES:
        _PRIMES[b] = 2 ** b - 2 ** (b - 64) + (_e_fixed(b - 130) + RFC7919_X[b]) * 2 ** 64 - 1
    return _PRIMES[b]


# ---- keys ----

def parse_key(s):
    """'DHHC-1:XX:<base64(secret || crc32 LE)>:' -> (hash id, secret bytes); ValueError naming the fault"""
    if not s.startswith('DHHC-1:'):
        raise ValueError('prefix')
    parts = s[7:].split(':')
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2]) or len(parts[0]) != 2 or not parts[0].isdigit():
        raise ValueError('layout')
    hid = int(parts[0])
    if hid > 3:
        raise ValueError('hash id')
    raw = base64.b64decode(parts[1], validate=True)
    if len(raw) not in (36, 52, 68):
        raise ValueError('length')
    secret, crc = raw[:-4], struct.unpack('<I', raw[-4:])[0]
    if zlib.crc32(secret) != crc:
        raise ValueError('crc')
    return hid, secret


def format_key(hid, secret):
    return 'DHHC-1:%02d:%s:' % (hid, base64.b64encode(secret + struct.pack('<I', zlib.crc32(secret))).decode())


def random_key(hid, length):
    return format_key(hid, os.urandom(length))


# ---- computations ----

def mac(hid, key, *parts):
    h = hmac.HMAC(key, HASHES[hid][0]())
    for p in parts:
        h.update(p)
    return h.finalize()


def digest(hid, data):
    h = hashes.Hash(HASHES[hid][0]())
    h.update(data)
    return h.finalize()


def transform(key_hid, secret, nqn):
    if key_hid == 0:
        return secret
    return mac(key_hid, secret, nqn.encode(), b'NVMe-over-Fabrics')


def augment(hid, ks, chal):
    return mac(hid, digest(hid, ks), chal)


def response(hid, key, chal, seq, tid, role, nqn1, nqn2, sc_c=0):
    return mac(hid, key, chal, struct.pack('<IHB', seq, tid, sc_c), role, nqn1.encode(), b'\0', nqn2.encode())


def host_response(hid, kh, chal, seq, tid, hostnqn, subnqn):
    return response(hid, kh, chal, seq, tid, b'HostHost', hostnqn, subnqn)


def ctrl_response(hid, kc, chal, seq, tid, hostnqn, subnqn):
    return response(hid, kc, chal, seq, tid, b'Controller', subnqn, hostnqn)


class DH:
    """Ephemeral key pair of an RFC 7919 group; values big-endian, padded to the prime's size."""

    def __init__(self, gid):
        self.gid = gid
        self.p = ffdhe_prime(gid)
        self.size = GROUPS[gid][1] // 8
        self.params = dh.DHParameterNumbers(self.p, 2).parameters()
        self.key = self.params.generate_private_key()
        self.public = self.key.public_key().public_numbers().y.to_bytes(self.size, 'big')

    def derive(self, peer):
        y = int.from_bytes(peer, 'big')
        if len(peer) != self.size or not 1 < y < self.p - 1:
            raise ValueError('peer value out of range')
        pk = dh.DHPublicNumbers(y, dh.DHParameterNumbers(self.p, 2)).public_key()
        return int.from_bytes(self.key.exchange(pk), 'big').to_bytes(self.size, 'big')


# ---- messages (little-endian) ----

def negotiate(tid, hash_ids, dh_ids, sc_c=0, authid=1, napd=1):
    desc = struct.pack('<BBBB', authid, 0, len(hash_ids), len(dh_ids)) + bytes(hash_ids).ljust(30, b'\0') + \
        bytes(dh_ids).ljust(30, b'\0')
    return struct.pack('<BBHHBB', T_COMMON, NEGOTIATE, 0, tid, sc_c, napd) + desc * napd


def challenge(tid, hid, gid, seq, c1, dhv):
    return struct.pack('<BBHHBBBBHI', T_DHCHAP, CHALLENGE, 0, tid, len(c1), 0, hid, gid, len(dhv), seq) + c1 + dhv


def reply(tid, r1, c2, seq, dhv, cvalid=None):
    if cvalid is None:
        cvalid = 1 if seq else 0
    return struct.pack('<BBHHBBBBHI', T_DHCHAP, REPLY, 0, tid, len(r1), 0, cvalid, 0, len(dhv), seq) + r1 + \
        (c2 or bytes(len(r1))) + dhv


def success1(tid, hl, r2=None):
    return struct.pack('<BBHHBBB7x', T_DHCHAP, SUCCESS1, 0, tid, hl, 0, 1 if r2 else 0) + (r2 or b'')


def success2(tid):
    return struct.pack('<BBHH10x', T_DHCHAP, SUCCESS2, 0, tid)


def failure(mid, tid, rce, rc=1):
    return struct.pack('<BBHHBB', T_COMMON, mid, 0, tid, rc, rce)


def header(msg):
    if len(msg) < 6:
        return None
    return msg[0], msg[1], struct.unpack_from('<H', msg, 4)[0]


class AuthFailure(Exception):
    def __init__(self, reason, what):
        super().__init__(what)
        self.reason = reason


# ---- host side ----

class Host:
    """The host's half, one transaction; raises AuthFailure(reason) on a bad controller message."""

    def __init__(self, hostnqn, subnqn, key, ctrl_key=None, hash_ids=(1, 2, 3), dh_ids=(0, 1, 2, 3, 4, 5), tid=1):
        self.hostnqn, self.subnqn, self.tid = hostnqn, subnqn, tid
        khid, ksec = parse_key(key)
        self.kh = transform(khid, ksec, hostnqn)
        self.kc = None
        if ctrl_key:
            chid, csec = parse_key(ctrl_key)
            self.kc = transform(chid, csec, subnqn)
        self.hash_ids, self.dh_ids = list(hash_ids), list(dh_ids)
        self.hid = self.gid = None

    def negotiate(self):
        return negotiate(self.tid, self.hash_ids, self.dh_ids)

    def challenge(self, msg):
        """Takes a Challenge (or a Failure1), returns the Reply."""
        h = header(msg)
        if h and h[:2] == (T_COMMON, FAILURE1) and len(msg) >= 8:
            raise AuthFailure(msg[7], 'controller sent Failure1 reason %d' % msg[7])
        if not h or h[:2] != (T_DHCHAP, CHALLENGE):
            raise AuthFailure(INCORRECT_MESSAGE, 'not a Challenge')
        if len(msg) < 16:
            raise AuthFailure(INCORRECT_PAYLOAD, 'short Challenge')
        _, _, _, tid, hl, _, hid, gid, dhvlen, seq = struct.unpack_from('<BBHHBBBBHI', msg)
        if tid != self.tid:
            raise AuthFailure(INCORRECT_PAYLOAD, 'T_ID')
        if hid not in self.hash_ids or hid not in HASHES or hash_len(hid) != hl:
            raise AuthFailure(HASH_UNUSABLE, 'hash %d' % hid)
        if gid not in self.dh_ids or gid not in GROUPS:
            raise AuthFailure(DHGROUP_UNUSABLE, 'group %d' % gid)
        if dhvlen != GROUPS[gid][1] // 8 or len(msg) < 16 + hl + dhvlen:
            raise AuthFailure(INCORRECT_PAYLOAD, 'DHVLEN')
        self.hid, self.gid, self.hl = hid, gid, hl
        c1, dhv = msg[16:16 + hl], msg[16 + hl:16 + hl + dhvlen]
        c2 = os.urandom(hl) if self.kc else None
        self.s2 = (struct.unpack('<I', os.urandom(4))[0] or 1) if self.kc else 0
        pub, ca1, ca2 = b'', c1, c2
        if gid:
            mine = DH(gid)
            try:
                ks = mine.derive(dhv)
            except ValueError:
                raise AuthFailure(DHGROUP_UNUSABLE, 'controller DH value')
            pub = mine.public
            ca1 = augment(hid, ks, c1)
            ca2 = augment(hid, ks, c2) if c2 else None
        r1 = host_response(hid, self.kh, ca1, seq, self.tid, self.hostnqn, self.subnqn)
        if self.kc:
            self.r2 = ctrl_response(hid, self.kc, ca2, self.s2, self.tid, self.hostnqn, self.subnqn)
        return reply(self.tid, r1, c2, self.s2, pub)

    def success1(self, msg):
        """Takes Success1 (or Failure1); returns Success2 when the controller was authenticated, else None."""
        h = header(msg)
        if h and h[:2] == (T_COMMON, FAILURE1) and len(msg) >= 8:
            raise AuthFailure(msg[7], 'controller sent Failure1 reason %d' % msg[7])
        if not h or h[:2] != (T_DHCHAP, SUCCESS1) or len(msg) < 16:
            raise AuthFailure(INCORRECT_MESSAGE, 'not a Success1')
        if h[2] != self.tid:
            raise AuthFailure(INCORRECT_PAYLOAD, 'T_ID')
        if msg[6] != self.hl:
            raise AuthFailure(HASH_UNUSABLE, 'HL')
        if not self.kc:
            return None
        if msg[8] != 1 or len(msg) < 16 + self.hl or msg[16:16 + self.hl] != self.r2:
            raise AuthFailure(FAILED, 'controller response R2 did not verify')
        return success2(self.tid)


# ---- controller side ----

STRONG_HASHES = (3, 2, 1)
STRONG_GROUPS = (5, 4, 3, 2, 1, 0)


class Controller:
    """The controller's half as the oracle target runs it. send(msg) for Authentication Send,
    recv(al) -> bytes for Authentication Receive; .authenticated, .failed, .reason."""

    def __init__(self, hostnqn, subnqn, key, ctrl_key=None, hash_ids=(1, 2, 3), dh_ids=(0, 1, 2, 3, 4, 5)):
        self.hostnqn, self.subnqn = hostnqn, subnqn
        khid, ksec = parse_key(key)
        self.kh = transform(khid, ksec, hostnqn)
        self.kc = None
        if ctrl_key:
            chid, csec = parse_key(ctrl_key)
            self.kc = transform(chid, csec, subnqn)
        self.allowed_hashes, self.allowed_groups = set(hash_ids), set(dh_ids)
        self.step = 'negotiate'
        self.authenticated = self.failed = False
        self.reason = 0
        self.tid = 0
        self.seq = struct.unpack('<I', os.urandom(4))[0]
        self.host_failure2 = None
        self.bidirectional = False

    def _fail(self, reason):
        self.reason = reason
        self.step = 'failure1'
        self.authenticated = False

    def send(self, msg):
        h = header(msg)
        if self.step in ('failure1', 'dead'):
            return
        if not h:
            return self._fail(INCORRECT_PAYLOAD)
        kind = h[:2]
        if kind == (T_COMMON, NEGOTIATE):
            return self._negotiate(msg)
        if kind == (T_COMMON, FAILURE2):
            self.host_failure2 = msg[7] if len(msg) >= 8 else None
            self.step, self.failed, self.authenticated = 'dead', True, False
            return
        if kind == (T_DHCHAP, REPLY) and self.step == 'reply':
            return self._reply(msg)
        if kind == (T_DHCHAP, SUCCESS2) and self.step == 'success2':
            if len(msg) != 16 or h[2] != self.tid:
                return self._fail(INCORRECT_PAYLOAD)
            self.step, self.authenticated = 'idle', True
            return
        return self._fail(INCORRECT_MESSAGE)

    def _negotiate(self, msg):
        self.tid = header(msg)[2]
        if len(msg) < 8 or len(msg) != 8 + 64 * msg[7]:
            return self._fail(INCORRECT_PAYLOAD)
        if msg[6] != 0:
            return self._fail(CONCAT_MISMATCH)
        descs = [msg[8 + 64 * i:72 + 64 * i] for i in range(msg[7])]
        d = next((x for x in descs if x[0] == 1), None)
        if d is None:
            return self._fail(PROTOCOL_UNUSABLE)
        if d[2] > 30 or d[3] > 30:
            return self._fail(INCORRECT_PAYLOAD)
        offered_h, offered_g = set(d[4:4 + d[2]]), set(d[34:34 + d[3]])
        hid = next((x for x in STRONG_HASHES if x in offered_h and x in self.allowed_hashes), None)
        if hid is None:
            return self._fail(HASH_UNUSABLE)
        gid = next((x for x in STRONG_GROUPS if x in offered_g and x in self.allowed_groups), None)
        if gid is None:
            return self._fail(DHGROUP_UNUSABLE)
        self.hid, self.gid, self.hl = hid, gid, hash_len(hid)
        self.seq = (self.seq + 1) & 0xffffffff or 1
        self.c1 = os.urandom(self.hl)
        self.dh = DH(gid) if gid else None
        self.step = 'challenge'

    def _reply(self, msg):
        if len(msg) < 16:
            return self._fail(INCORRECT_PAYLOAD)
        _, _, _, tid, hl, _, cvalid, _, dhvlen, s2 = struct.unpack_from('<BBHHBBBBHI', msg)
        if tid != self.tid or hl != self.hl or len(msg) != 16 + 2 * hl + dhvlen or cvalid > 1 or \
                (cvalid == 1) != (s2 != 0):
            return self._fail(INCORRECT_PAYLOAD)
        if dhvlen != (self.dh.size if self.dh else 0):
            return self._fail(INCORRECT_PAYLOAD)
        if cvalid and not self.kc:
            return self._fail(FAILED)
        r1, c2, dhv = msg[16:16 + hl], msg[16 + hl:16 + 2 * hl], msg[16 + 2 * hl:]
        ca1, ca2 = self.c1, c2
        if self.dh:
            try:
                ks = self.dh.derive(dhv)
            except ValueError:
                return self._fail(DHGROUP_UNUSABLE)
            ca1, ca2 = augment(self.hid, ks, self.c1), augment(self.hid, ks, c2)
        if host_response(self.hid, self.kh, ca1, self.seq, self.tid, self.hostnqn, self.subnqn) != r1:
            return self._fail(FAILED)
        self.r2 = ctrl_response(self.hid, self.kc, ca2, s2, self.tid, self.hostnqn, self.subnqn) if cvalid else None
        self.bidirectional = bool(cvalid)
        self.step = 'success1'

    def recv(self, al):
        if self.step == 'challenge':
            self.step = 'reply'
            return challenge(self.tid, self.hid, self.gid, self.seq, self.c1, self.dh.public if self.dh else b'')
        if self.step == 'success1':
            if self.r2:
                self.step = 'success2'
            else:
                self.step, self.authenticated = 'idle', True
            return success1(self.tid, self.hl, self.r2)
        if self.step != 'failure1':
            self._fail(INCORRECT_MESSAGE)
        self.step, self.failed = 'dead', True
        return failure(FAILURE1, self.tid, self.reason)
