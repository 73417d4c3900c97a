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
import argparse, json, os, selectors, struct, subprocess, sys, time, uuid

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "auth"))
import bench as B  # noqa: E402
import nvme_tcp_min as tcp  # noqa: E402

NQN = "nqn.2026-11.io.nvring:default"
OPC_KEEP_ALIVE = 0x18
CC_EN = (4 << 20) | (6 << 16) | 1  # IOCQES 16 B, IOSQES 64 B, EN


def connect_host(port, i, kato_ms):
    """One host's admin queue, enabled; its socket, non-blocking, for the Keep Alive loop."""
    q = tcp.HostQueue("127.0.0.1", port)
    hostid = uuid.UUID(int=i + 1)
    st, *_ = q.cmd(tcp.connect_sqe(0, 31, kato_ms),
                   data_out=tcp.connect_data(hostid.bytes, 0xFFFF, NQN, f"nqn.2014-08.org.nvmexpress:uuid:{hostid}"))
    if st != (0, 0):
        raise ConnectionError(f"Connect status {st}")
    st, *_ = q.cmd(tcp.prop_set_sqe(0x14, CC_EN))
    if st != (0, 0):
        raise ConnectionError(f"Property Set CC status {st}")
    q.sock.setblocking(False)
    return q.sock


def keep_alive_pdu(cid):
    sqe = tcp.sqe(OPC_KEEP_ALIVE, cid, sgl=tcp.sgl_transport(0))
    return struct.pack("<BBBBI", tcp.CMD, 0, 72, 0, 72) + sqe


def read_answers(sel, pending, timeout):
    """Count the CapsuleResps that arrived (24 bytes each, no digests): (answered, failed)."""
    answered = failed = 0
    for key, _ in sel.select(timeout=timeout):
        s = key.fileobj
        b = pending[s] + s.recv(4096)
        if len(b) == len(pending[s]):
            raise ConnectionError("target closed an idle host")
        while len(b) >= 24:
            answered += 1
            failed += (struct.unpack_from("<H", b, 22)[0] >> 1) != 0
            b = b[24:]
        pending[s] = b
    return answered, failed


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
    try:
        rss0 = B.vm_kib(p.pid, "VmRSS")
        t0 = time.monotonic()
        socks = [connect_host(port, i, a.kato) for i in range(a.hosts)]
        connect_s = time.monotonic() - t0
        rss1 = B.vm_kib(p.pid, "VmRSS")
        sel = selectors.DefaultSelector()
        pending = {}
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
            pending[s] = b""
        sent = answered = bad = 0
        period = a.kato / 2000.0
        next_ka = time.monotonic()
        cid = 100
        ticks0, w0 = B.cpu_ticks(p.pid), time.monotonic()
        end = w0 + a.seconds
        while time.monotonic() < end:
            if time.monotonic() >= next_ka:
                cid = cid % 60000 + 1
                pdu = keep_alive_pdu(cid)
                for s in socks:
                    s.send(pdu)
                sent += len(socks)
                next_ka += period
            n, f = read_answers(sel, pending, max(0.0, min(next_ka, end) - time.monotonic()))
            answered, bad = answered + n, bad + f
        ticks1, w1 = B.cpu_ticks(p.pid), time.monotonic()
        deadline = time.monotonic() + 5  # the last round's answers
        while answered < sent and time.monotonic() < deadline:
            n, f = read_answers(sel, pending, 0.5)
            answered, bad = answered + n, bad + f
        cpu_share = (ticks1 - ticks0) / B.CLK_TCK / (w1 - w0)
        perf = subprocess.run([a.nvring, "perf", "-a", "127.0.0.1", "-s", str(port), "-N", NQN, "-w", "randread",
                               "-o", "4k", "-q", "32", "-t", "3", "--json"], capture_output=True, text=True)
        iops = json.loads(perf.stdout)["iops"] if perf.returncode == 0 else None
        print(json.dumps({"hosts": a.hosts, "kato_ms": a.kato, "seconds": round(w1 - w0, 1),
                          "connect_s": round(connect_s, 2), "keep_alives_sent": sent, "answered": answered,
                          "failed": bad, "cpu_share_of_core": round(cpu_share, 5), "rss_kib_before": rss0,
                          "rss_kib_connected": rss1, "kib_per_host": round((rss1 - rss0) / a.hosts, 1),
                          "randread_iops_after": iops}))
        print(f"{a.hosts} connected idle hosts (Keep Alive every {a.kato / 2000:g} s): nvringd used "
              f"{100 * cpu_share:.2f} % of a core over {w1 - w0:.0f} s; RSS {rss0 / 1024:.1f} -> {rss1 / 1024:.1f} MiB "
              f"({(rss1 - rss0) / a.hosts:.1f} KiB per host); {answered}/{sent} Keep Alives answered, {bad} failed; "
              f"4 KiB randread QD32 afterwards {iops or 0:.0f} IOPS", file=sys.stderr)
        return 0 if answered == sent and bad == 0 and iops else 1
    finally:
        p.terminate()
        p.wait()
        drain.wait()


if __name__ == "__main__":
    sys.exit(main())
