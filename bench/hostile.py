#!/usr/bin/env python3
"""Hostile-peer goals of nvringd (README "Limits and hardening"), measured against a running
daemon: the reset reproducer N times, and many connections that never log in (RSS before,
during and after; a real host served throughout, through the nvring CLI).

  bench/hostile.py --nvringd BUILD/src/nvringd/nvringd --nvring BUILD/tools/nvring [--resets 10000] [--idle 4000]
"""
import argparse, os, resource, socket, struct, subprocess, sys, time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def start(nvringd, extra):
    p = subprocess.Popen([nvringd, "-l", "127.0.0.1:0", "--ns", "mem:64M", "-t", "2", "--rpc-socket", "none", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    for line in p.stdout:
        if "listening on 127.0.0.1:" in line and port is None:
            port = int(line.split("127.0.0.1:")[1].split()[0])
        if "ready" in line:
            break
    return p, port


def host_io(nvring, port):
    """A real host: write and read back 4 KiB through nvring's own NVMe/TCP stack."""
    data = os.urandom(4096)
    common = ["-a", "127.0.0.1", "--trsvcid", str(port), "--nqn", "nqn.2026-11.io.nvring:default", "-n", "1", "-s", "16", "-c", "7", "-o", "binary"]
    w = subprocess.run([nvring, "write", *common], input=data, capture_output=True, timeout=30)
    r = subprocess.run([nvring, "read", *common], capture_output=True, timeout=30)
    return w.returncode == 0 and r.returncode == 0 and r.stdout[:4096] == data


def resets(port, n):
    bad = bytes.fromhex("ff00080008000000")
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.send(bad)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nvringd", required=True)
    ap.add_argument("--nvring", required=True)
    ap.add_argument("--resets", type=int, default=10000)
    ap.add_argument("--idle", type=int, default=4000)
    ap.add_argument("extra", nargs="*", help="more nvringd flags (e.g. --max-connections-per-host 5000)")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    p, port = start(a.nvringd, a.extra)
    t0 = time.time()
    resets(port, a.resets)
    alive = p.poll() is None
    print(f"resets: {a.resets} abortive closes during the C2HTermReq in {time.time() - t0:.1f} s: "
          f"{'alive' if alive else 'DEAD'}, host I/O {'ok' if alive and host_io(a.nvring, port) else 'FAILED'}")

    base = rss_kib(p.pid)
    socks = []
    for i in range(a.idle):
        socks.append(socket.create_connection(("127.0.0.1", port)))
    time.sleep(0.5)  # let the target accept them all (the RSS below is a reading, not a check)
    during = rss_kib(p.pid)
    served = host_io(a.nvring, port)
    for s in socks:
        s.close()
    time.sleep(1.0)
    after = rss_kib(p.pid)
    print(f"idle: {a.idle} connections that never log in: RSS {base / 1024:.1f} MiB before, "
          f"{during / 1024:.1f} MiB with them (+{(during - base) / 1024:.1f} MiB, "
          f"{(during - base) * 1024 / max(a.idle, 1) / 1024:.1f} KiB each), {after / 1024:.1f} MiB after "
          f"({(after - base) / 1024:+.1f} MiB); a host served meanwhile: {'yes' if served else 'NO'}")
    p.terminate()
    p.wait(timeout=20)
    return 0 if alive and served else 1


if __name__ == "__main__":
    sys.exit(main())
