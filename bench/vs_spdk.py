#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nvringd against SPDK's nvmf_tgt in one run, with one client for both: SPDK's spdk_nvme_perf.

Both targets run on CPU 0 (nvringd: one worker; nvmf_tgt: core mask 0x1), each with a 1 GiB RAM
namespace of 4 KiB blocks (nvringd `mem:1G,bs=4096`, SPDK a malloc bdev), both prefilled by the
client; spdk_nvme_perf runs on CPU 1. Only one target runs at a time: the other is stopped with
SIGSTOP (nvmf_tgt polls at 100 % even with no host). The order alternates per repetition, and
every run sits between two placement probes as in bench.py (a run whose vCPU placement changed
is discarded). SPDK is not part of nvring and is not built by it: point this at an SPDK build
of your own.

  bench/vs_spdk.py --build-dir RELEASE_BUILD --spdk-dir SPDK_TREE [--reps 3] [--time 5]
      [--points a,b] [--spdk-env "--no-huge -s 2048"]
"""
import argparse
import datetime
import os
import re
import shlex
import signal
import subprocess
import time

import ab as AB
import bench as B

SPDK_NQN = "nqn.2016-06.io.spdk:cnode1"
# name: spdk_nvme_perf arguments (the I/O size decides MiB/s vs IOPS in the table)
POINTS = [
    ("randread-4k-qd1", ["-q", "1", "-o", "4096", "-w", "randread"]),
    ("randread-4k-qd32", ["-q", "32", "-o", "4096", "-w", "randread"]),
    ("randread-4k-qd128", ["-q", "128", "-o", "4096", "-w", "randread"]),
    ("randwrite-4k-qd32", ["-q", "32", "-o", "4096", "-w", "randwrite"]),
    ("read-128k-qd16", ["-q", "16", "-o", "131072", "-w", "read"]),
    ("write-128k-qd16", ["-q", "16", "-o", "131072", "-w", "write"]),
    ("randread-4k-qd32-digests", ["-q", "32", "-o", "4096", "-w", "randread", "-H", "-I"]),
    ("write-128k-qd16-digests", ["-q", "16", "-o", "131072", "-w", "write", "-H", "-I"]),
    # 16 hosts' worth of connections on one target core: 16 queue pairs at QD 8
    ("randread-4k-16conn-qd8", ["-q", "8", "-o", "4096", "-w", "randread", "-P", "16"]),
]


def spdk_env(a):
    """An SPDK built against a packaged DPDK is shared libraries without an rpath."""
    env = dict(os.environ)
    lib = os.path.join(a.spdk_dir, "build/lib")
    env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


class NvringTarget:
    """nvringd as bench.py starts it (1 worker, `mem:1G,bs=4096`, pinned to the target CPU)."""
    kind, nqn = "nvringd", B.NQN

    def __init__(self, a):
        self.bench = B.Bench(a, label="vs-spdk-nvringd")
        self.proc = self.port = None

    def start(self):
        self.bench.start_target("nvm")
        self.proc, self.port = self.bench.tgt, self.bench.port

    def stop(self):
        self.bench.stop_target()
        self.proc = None


class SpdkTarget:
    """SPDK's nvmf_tgt on the target CPU, configured over its RPC socket."""
    kind, nqn = "spdk", SPDK_NQN

    def __init__(self, a):
        self.a = a
        self.port = B.free_port()
        self.proc = None

    def spdk(self, rel):
        return os.path.join(self.a.spdk_dir, rel)

    def start(self):
        log = open(os.path.join(self.a.tmp, "vs-spdk-spdk.log"), "w+")
        rpc_sock = os.path.join(self.a.tmp, "vs-spdk.sock")
        if os.path.exists(rpc_sock):  # a stale one would look like a started target
            os.unlink(rpc_sock)
        # -u: no PCI (DPDK would otherwise try to claim the VM's virtio NIC)
        cmd = [self.spdk("build/bin/nvmf_tgt"), "-m", hex(1 << self.a.target_cpu), "-r", rpc_sock, "-u",
               *shlex.split(self.a.spdk_env)]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=spdk_env(self.a))
        deadline = time.time() + 30
        while not os.path.exists(rpc_sock):
            if self.proc.poll() is not None or time.time() > deadline:
                log.seek(0)
                raise RuntimeError(f"nvmf_tgt did not start: {log.read()[-2000:]}")
            time.sleep(0.1)
        for rpc in (["nvmf_create_transport", "-t", "TCP"],
                    ["bdev_malloc_create", "-b", "Malloc0", "1024", "4096"],
                    ["nvmf_create_subsystem", SPDK_NQN, "-a", "-s", "SPDK001"],
                    ["nvmf_subsystem_add_ns", SPDK_NQN, "Malloc0"],
                    ["nvmf_subsystem_add_listener", SPDK_NQN, "-t", "tcp", "-a", "127.0.0.1", "-s", str(self.port)]):
            subprocess.run(["python3", self.spdk("scripts/rpc.py"), "-s", rpc_sock, "-t", "30", *rpc],
                           check=True, capture_output=True)

    def stop(self):
        if self.proc:
            B.stop_proc(self.proc)
            self.proc = None


def perf(a, t, args, seconds):
    """One spdk_nvme_perf run against target t: IOPS, MiB/s, avg/p99 µs, target CPU per I/O."""
    r = f"trtype:tcp adrfam:IPv4 traddr:127.0.0.1 trsvcid:{t.port} subnqn:{t.nqn}"
    cmd = [os.path.join(a.spdk_dir, "build/bin/spdk_nvme_perf"), "-c", hex(1 << a.host_cpu), "-r", r,
           "-t", str(seconds), "-L", *shlex.split(a.spdk_env), *args]
    c0 = B.cpu_ticks(t.proc.pid)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, env=spdk_env(a))
    except subprocess.TimeoutExpired as e:
        raise RuntimeError("spdk_nvme_perf did not finish") from e
    c1 = B.cpu_ticks(t.proc.pid)
    tot = re.search(r"^Total\s*:\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)", p.stdout, re.M)
    p99 = re.search(r"^\s*99\.00000%\s*:\s*([\d.]+)us", p.stdout, re.M)
    if p.returncode or not tot or not p99 or not float(tot.group(1)):
        raise RuntimeError(f"spdk_nvme_perf failed ({p.returncode}): {(p.stdout + p.stderr)[-1500:]}")
    iops, mib, avg = (float(x) for x in tot.groups())
    return {"iops": iops, "mib_s": mib, "avg": avg, "p99": float(p99.group(1)),
            "tgt_cpu_s_per_m": (c1 - c0) / B.CLK_TCK / (iops * seconds) * 1e6}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", required=True, help="release build of this tree (nvringd, bench/pingpong)")
    ap.add_argument("--spdk-dir", required=True, help="an SPDK tree built by you: build/bin/nvmf_tgt, spdk_nvme_perf")
    ap.add_argument("--spdk-env", default="", help="DPDK/SPDK environment flags for both SPDK programs")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--time", type=int, default=5)
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--points", type=lambda s: [x for x in s.split(",") if x], default=None)
    ap.add_argument("--target-cpu", type=int, default=0)
    ap.add_argument("--host-cpu", type=int, default=1)
    ap.add_argument("--out-dir", default=os.path.join(here, "results"))
    ap.add_argument("--tmp", default="/tmp")
    a = ap.parse_args()
    wanted = [p for p in POINTS if not a.points or p[0] in a.points]
    a.no_busy_poll = False  # what B.Bench reads; its perf is not used here
    prober = B.Bench(a)
    spdk_ver = subprocess.run(["git", "-C", a.spdk_dir, "describe", "--tags", "--always"], capture_output=True,
                              text=True).stdout.strip()
    res = {"meta": {"date": datetime.datetime.now().isoformat(timespec="seconds"),
                    "commit": subprocess.run(["git", "-C", os.path.dirname(here), "describe", "--always", "--dirty"],
                                             capture_output=True, text=True).stdout.strip(),
                    "spdk": spdk_ver, "seconds": a.time, "reps": a.reps, "load_start": os.getloadavg()},
           "points": {}}
    targets = [NvringTarget(a), SpdkTarget(a)]
    try:
        for t in targets:
            t.start()
            for o in targets:
                if o.proc and o is not t:
                    o.proc.send_signal(signal.SIGSTOP)
            # prefill: every block written once (1 GiB sequentially at QD 16, twice over)
            perf(a, t, ["-q", "16", "-o", "131072", "-w", "write"], 3)
            t.proc.send_signal(signal.SIGSTOP)
        for name, args in wanted:
            rec = res["points"].setdefault(name, {"nvringd": [], "spdk": []})
            for rep in range(a.reps):
                for t in (targets if rep % 2 == 0 else targets[::-1]):
                    t.proc.send_signal(signal.SIGCONT)
                    r = prober.measured(lambda: perf(a, t, args, a.time))
                    t.proc.send_signal(signal.SIGSTOP)
                    if r:
                        r["rep"] = rep
                        rec[t.kind].append(r)
                        B.log(f"{name} {t.kind} rep {rep + 1}: {r['iops']:.0f} IOPS {r['mib_s']:.0f} MiB/s avg "
                              f"{r['avg']:.1f} p99 {r['p99']:.1f} us, tgt {r['tgt_cpu_s_per_m']:.2f} CPU-s/M, "
                              f"{r['state']}, load {r['load']:.2f}")
    finally:
        for t in targets:
            t.stop()
    res["meta"]["load_end"] = os.getloadavg()
    B.write_results(a.out_dir, "spdk-", table(res), res)


def table(res):
    m = res["meta"]
    out = [f"# nvringd vs SPDK nvmf_tgt {m['date']}", "",
           f"nvringd of {m['commit']} (1 worker, `--ns mem:1G,bs=4096`) and SPDK {m['spdk']} nvmf_tgt (core mask "
           f"of CPU 0, TCP transport defaults, 1 GiB malloc bdev of 4 KiB blocks), one at a time on CPU 0, both "
           f"prefilled; client for both: SPDK's spdk_nvme_perf (`-L`) on CPU 1; {m['seconds']} s per run, "
           f"{m['reps']} repetitions alternating; medians per placement state. Load average at start "
           f"{m['load_start'][0]:.2f}, at end {m['load_end'][0]:.2f}.", "",
           "| workload | state | n nvringd / SPDK | nvringd | SPDK | nvringd / SPDK | paired min–max "
           "| nvringd avg / p99 µs | SPDK avg / p99 µs | nvringd CPU-s / M I/O | SPDK CPU-s / M I/O |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, rec in res["points"].items():
        bw = "128k" in name
        key = "mib_s" if bw else "iops"
        for st in sorted({r["state"] for r in rec["nvringd"] + rec["spdk"]}):
            rn = [r for r in rec["nvringd"] if r["state"] == st]
            rs = [r for r in rec["spdk"] if r["state"] == st]
            vn, vs = B.med(rn, key), B.med(rs, key)
            ratio = f"{vn / vs:.2f}×" if vn and vs else "–"
            out.append(f"| {name} | {st} | {len(rn)} / {len(rs)} | {AB.value(vn, bw)} | {AB.value(vs, bw)} | {ratio} "
                       f"| {B.paired(rn, rs, key)} | {AB.latency(rn)} | {AB.latency(rs)} | {AB.cpu(rn)} "
                       f"| {AB.cpu(rs)} |")
    out += ["", "Paired: nvringd / SPDK of the two runs of one repetition, which ran back to back.", "",
            "State: cache-line round trip CPU 0 ↔ CPU 1 (bench/pingpong) before and after each run, "
            f"near < {B.NEAR_NS} ns; runs whose state changed are discarded. SPDK's CPU is a polling core: "
            "100 % of the run whatever the load."]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
