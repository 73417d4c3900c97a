#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""OpenSSL's s_server as the TLS end of an NVMe/TCP target, one s_server per connection.

s_server serves one connection at a time and copies decrypted bytes to its stdout and its
stdin into the session; an NVMe/TCP host opens one connection per queue and keeps them all
open. So this front listens on TCP, and for each host connection starts
  openssl s_server -unix SOCK -naccept 1 -nocert -quiet -tls1_3 -psk ... -psk_identity ...
with stdin and stdout on a fresh plaintext connection to the NVMe/TCP target, and relays the
host's (TLS) bytes to SOCK unchanged. The TLS handshake and records are all s_server's.

  sserver_front.py --target-port P --psk HEX --identity ID [--suite S] [--session PEM]
prints its port, serves until stdin closes; s_server's stderr goes to --log (default stderr).
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time


def relay(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def connect_unix(path, deadline):
    """s_server binds, then listens: retry until it accepts or the deadline passes."""
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def serve(conn, n, a, tmp, log):
    path = os.path.join(tmp, "s%d" % n)
    backend = socket.create_connection(("127.0.0.1", a.target_port))
    cmd = ["openssl", "s_server", "-unix", path, "-naccept", "1", "-nocert", "-quiet", "-tls1_3",
           "-ciphersuites", a.suite, "-psk", a.psk, "-psk_identity", a.identity]
    if a.session:
        cmd += ["-psk_session", a.session]
    proc = subprocess.Popen(cmd, stdin=backend.fileno(), stdout=backend.fileno(), stderr=log)
    backend.close()  # s_server holds it now
    try:
        srv = connect_unix(path, time.monotonic() + 10)
    except OSError as e:
        print("front: s_server did not listen: %s" % e, file=sys.stderr)
        conn.close()
        proc.kill()
        proc.wait()
        return
    t = threading.Thread(target=relay, args=(srv, conn), daemon=True)
    t.start()
    relay(conn, srv)
    t.join(10)
    conn.close()
    srv.close()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target-port", type=int, required=True)
    ap.add_argument("--psk", required=True, help="TLS PSK, hex")
    ap.add_argument("--identity", required=True)
    ap.add_argument("--suite", default="TLS_AES_128_GCM_SHA256")
    ap.add_argument("--session", help="PEM SSL_SESSION (for a SHA-384 PSK)")
    ap.add_argument("--log")
    a = ap.parse_args()
    log = open(a.log, "a") if a.log else sys.stderr
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    print(lsock.getsockname()[1], flush=True)
    tmp = tempfile.mkdtemp(prefix="nvring-sserver-")

    def accept_loop():
        n = 0
        while True:
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            n += 1
            threading.Thread(target=serve, args=(conn, n, a, tmp, log), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    sys.stdin.read()
    lsock.close()


if __name__ == "__main__":
    main()
