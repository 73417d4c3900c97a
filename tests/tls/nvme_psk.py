#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An independent oracle for the NVMe/TCP TLS PSK derivations (TP 8011/8018), written from the
formulas with Python's hmac/hashlib only, so the tests can check src/tls against a second
implementation and give OpenSSL's s_server/s_client the TLS PSK a host derives.

  nvme_psk.py KEY HOSTNQN SUBNQN [--version 0|1] [--variant rfc|compat|legacy]
prints "IDENTITY\\nTLS_PSK_HEX\\nCIPHERSUITE".
"""
import argparse
import base64
import hashlib
import hmac
import struct
import sys
import zlib

HASHES = {1: hashlib.sha256, 2: hashlib.sha384}
SUITES = {1: "TLS_AES_128_GCM_SHA256", 2: "TLS_AES_256_GCM_SHA384"}


def hkdf(h, key, info, length):
    prk = hmac.new(b"\0" * h().digest_size, key, h).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), h).digest()
        out += t
        i += 1
    return out[:length]


def info(variant, length, label, context):
    label, context = b"tls13 " + label, context
    if variant == "rfc":
        return struct.pack(">H", length) + bytes([len(label)]) + label + bytes([len(context)]) + context
    if variant == "compat":
        return struct.pack("<H", length) + label + context
    return label + context  # legacy


def parse_key(s):
    assert s.startswith("NVMeTLSkey-1:") and s.endswith(":"), s
    xx, b64 = s[len("NVMeTLSkey-1:"):-1].split(":")
    raw = base64.b64decode(b64)
    key, crc = raw[:-4], struct.unpack("<I", raw[-4:])[0]
    assert zlib.crc32(key) == crc, "crc"
    return int(xx), key


def derive(keystr, hostnqn, subnqn, version=0, variant="rfc"):
    xx, key = parse_key(keystr)
    hh = xx if xx else (1 if len(key) == 32 else 2)
    h = HASHES[hh]
    retained = key if xx == 0 else hkdf(h, key, info(variant, len(key), b"HostNQN", hostnqn.encode()), len(key))
    if version == 0:
        identity = "NVMe0R%02d %s %s" % (hh, hostnqn, subnqn)
        context = identity
    else:
        mac = hmac.new(retained, ("%s %s NVMe-over-Fabrics" % (hostnqn, subnqn)).encode(), h).digest()
        digest = base64.b64encode(mac).decode()
        identity = "NVMe1R%02d %s %s %s" % (hh, hostnqn, subnqn, digest)
        context = "%02d %s" % (hh, digest)
    tls = hkdf(h, retained, info(variant, len(key), b"nvme-tls-psk", context.encode()), len(key))
    return identity, tls, SUITES[hh]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("key")
    ap.add_argument("hostnqn")
    ap.add_argument("subnqn")
    ap.add_argument("--version", type=int, default=0)
    ap.add_argument("--variant", default="rfc", choices=["rfc", "compat", "legacy"])
    a = ap.parse_args()
    identity, tls, suite = derive(a.key, a.hostnqn, a.subnqn, a.version, a.variant)
    print(identity)
    print(tls.hex())
    print(suite)


if __name__ == "__main__":
    sys.exit(main())
