#!/usr/bin/env python3
"""What connected idle hosts cost nvringd: N hosts, each its own host NQN with a live admin
queue (ICReq, Connect with KATO, CC.EN=1) that sends Keep Alive the way the Linux host does
(every KATO/2), and nothing else. nvringd's CPU (utime + stime from /proc) is read over the idle
window and given as a share of one core; RSS before and with every host connected. At the end
`nvring perf` runs a short 4 KiB randread against the same target, so the figure is of a target
that still serves I/O, and every host's last Keep Alive must have succeeded.

  bench/idle_hosts.py --nvringd BUILD/src/nvringd/nvringd --nvring BUILD/tools/nvring \\
      [--hosts 1000] [--seconds 30] [--kato 5000] [--cpu 0]
"""
import argparse, json, os, selectors, socket, struct, subprocess, sys, time, uuid

NQN = "nqn.2026-11.io.nvring:default"


def proc_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise ConnectionError("target closed the connection")
        b += c
    return b


def capsule(sqe, data=b""):
    """CapsuleCmd PDU, no digests: 8-byte common header, 64-byte SQE, in-capsule data."""
    return struct.pack("<BBBBI", 0x04, 0, 72, 72 if data else 0, 72 + len(data)) + sqe + data


def read_resp(s):
    """The CapsuleResp of the one command in flight: (status, dw0)."""
    hdr = recv_exact(s, 24)
    if hdr[0] != 0x05:
        raise ConnectionError(f"PDU type {hdr[0]:#x}, expected CapsuleResp")
    dw0, _, _, _, cid, status = struct.unpack("<IIHHHH", hdr[8:24])
    return status >> 1, dw0


def connect_host(port, i, kato_ms):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    icreq = struct.pack("<BBBBIHBBI", 0x00, 0, 128, 0, 128, 0, 0, 0, 0).ljust(128, b"\0")
    s.sendall(icreq)
    icresp = recv_exact(s, 128)
    if icresp[0] != 0x01:
        raise ConnectionError("no ICResp")
    hostnqn = f"nqn.2014-08.org.nvmexpress:uuid:{uuid.UUID(int=i + 1)}"
    data = bytearray(1024)
    data[0:16] = uuid.UUID(int=i + 1).bytes
    data[16:18] = struct.pack("<H", 0xFFFF)
    data[256:256 + len(NQN)] = NQN.encode()
    data[512:512 + len(hostnqn)] = hostnqn.encode()
    sqe = bytearray(64)
    sqe[0], sqe[1] = 0x7F, 0x40  # Fabrics, SGL
    struct.pack_into("<H", sqe, 2, 1)
    sqe[4] = 0x01  # Connect
    struct.pack_into("<QI", sqe, 24, 0, 1024)
    sqe[39] = 0x01  # data block, offset: in-capsule
    struct.pack_into("<HHHBxI", sqe, 40, 0, 0, 31, 0, kato_ms)
    s.sendall(capsule(bytes(sqe), bytes(data)))
    st, _ = read_resp(s)
    if st:
        raise ConnectionError(f"Connect status {st:#x}")
    sqe = bytearray(64)
    sqe[0], sqe[1] = 0x7F, 0x40
    struct.pack_into("<H", sqe, 2, 2)
    sqe[4] = 0x00  # Property Set
    sqe[39] = 0x5A  # transport data block of length 0: no data (what Linux sends)
    sqe[40] = 0  # 4 bytes
    struct.pack_into("<IQ", sqe, 44, 0x14, (4 << 20) | (6 << 16) | 1)  # CC: IOCQES, IOSQES, EN
    s.sendall(capsule(bytes(sqe)))
    st, _ = read_resp(s)
    if st:
        raise ConnectionError(f"Property Set CC status {st:#x}")
    s.setblocking(False)
    return s


def keep_alive_pdu(cid):
    sqe = bytearray(64)
    sqe[0], sqe[1] = 0x18, 0x40  # Keep Alive, SGL
    struct.pack_into("<H", sqe, 2, cid)
    sqe[39] = 0x5A
    return capsule(bytes(sqe))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nvringd", required=True)
    ap.add_argument("--nvring", required=True)
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--kato", type=int, default=5000, help="ms; Keep Alive every KATO/2")
    ap.add_argument("--cpu", type=int, default=0)
    a = ap.parse_args()

    p = subprocess.Popen(["taskset", "-c", str(a.cpu), a.nvringd, "-l", "127.0.0.1:0", "--ns", "mem:64M",
                          "-t", "1", "--rpc-socket", "none"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    for line in p.stdout:
        if "listening on 127.0.0.1:" in line and port is None:
            port = int(line.split("127.0.0.1:")[1].split()[0])
        if "ready" in line:
            break
    # keep draining its log so it never blocks on a full pipe
    drain = subprocess.Popen(["cat"], stdin=p.stdout, stdout=subprocess.DEVNULL)
    hz = os.sysconf("SC_CLK_TCK")
    try:
        time.sleep(1)
        rss0 = rss_kib(p.pid)
        t0 = time.monotonic()
        socks = [connect_host(port, i, a.kato) for i in range(a.hosts)]
        connect_s = time.monotonic() - t0
        rss1 = rss_kib(p.pid)
        sel = selectors.DefaultSelector()
        pending = {}
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
            pending[s] = b""
        sent = answered = bad = 0
        period = a.kato / 2000.0
        next_ka = time.monotonic()
        cid = 100
        ticks0, w0 = proc_ticks(p.pid), time.monotonic()
        end = w0 + a.seconds
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_ka:
                cid = cid % 60000 + 1
                pdu = keep_alive_pdu(cid)
                for s in socks:
                    s.send(pdu)
                sent += len(socks)
                next_ka += period
            for key, _ in sel.select(timeout=max(0.0, min(next_ka, end) - time.monotonic())):
                s = key.fileobj
                b = pending[s] + s.recv(4096)
                if not b:
                    raise ConnectionError("target closed an idle host")
                while len(b) >= 24:
                    answered += 1
                    bad += (struct.unpack_from("<H", b, 22)[0] >> 1) != 0
                    b = b[24:]
                pending[s] = b
        ticks1, w1 = proc_ticks(p.pid), time.monotonic()
        # the last round's answers
        deadline = time.monotonic() + 5
        while answered < sent and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                s = key.fileobj
                b = pending[s] + s.recv(4096)
                while len(b) >= 24:
                    answered += 1
                    bad += (struct.unpack_from("<H", b, 22)[0] >> 1) != 0
                    b = b[24:]
                pending[s] = b
        cpu_share = (ticks1 - ticks0) / hz / (w1 - w0)
        perf = subprocess.run([a.nvring, "perf", "-a", "127.0.0.1", "-s", str(port), "-N", NQN, "-w", "randread",
                               "-o", "4k", "-q", "32", "-t", "3", "--json"], capture_output=True, text=True)
        iops = json.loads(perf.stdout)["iops"] if perf.returncode == 0 else None
        alive = sum(1 for s in socks if s.fileno() >= 0)
        res = {"hosts": a.hosts, "kato_ms": a.kato, "seconds": round(w1 - w0, 1),
               "connect_s": round(connect_s, 2), "keep_alives_sent": sent, "answered": answered,
               "failed": bad, "cpu_share_of_core": round(cpu_share, 5), "rss_kib_before": rss0,
               "rss_kib_connected": rss1, "kib_per_host": round((rss1 - rss0) / a.hosts, 1),
               "randread_iops_after": iops, "hosts_open": alive}
        print(json.dumps(res))
        ok = answered == sent and bad == 0 and iops
        print(f"{a.hosts} connected idle hosts (Keep Alive every {a.kato / 2000:g} s): nvringd used "
              f"{100 * cpu_share:.2f} % of a core over {w1 - w0:.0f} s; RSS {rss0 / 1024:.1f} -> {rss1 / 1024:.1f} MiB "
              f"({(rss1 - rss0) / a.hosts:.1f} KiB per host); {answered}/{sent} Keep Alives answered, {bad} failed; "
              f"4 KiB randread QD32 afterwards {iops or 0:.0f} IOPS", file=sys.stderr)
        return 0 if ok else 1
    finally:
        p.terminate()
        p.wait()
        drain.wait()


if __name__ == "__main__":
    sys.exit(main())
