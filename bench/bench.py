#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nvring benchmark: nvringd on CPU 0 with a RAM namespace, `nvring perf` on CPU 1, loopback.

Run through bench/run.sh (which builds first). For every point of the matrix and every
repetition: the placement probe (pingpong) before and after, the run, the target's and the
host's CPU time from /proc/PID/stat; a repetition whose placement state changed is discarded.
The raw-TCP ceiling (tcp_ceiling) does the same exchange without NVMe in the same run.
Writes a markdown table to stdout and bench/results/<date>.md, raw samples next to it as JSON.
"""
import argparse
import datetime
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time

NQN = "nqn.2026-11.io.nvring:bench"
NS_KIB = 1024 * 1024  # the RAM namespace: mem:1G
NEAR_NS = 150  # cache-line round trip below this: the two vCPUs are "near" on the host
CLK_TCK = os.sysconf("SC_CLK_TCK")

# SPDK v23.09 nvmf_tgt + spdk_nvme_perf on this machine kind (issue 6): near, far.
SPDK = {
    "randread-4k-qd1": ("70.2 k IOPS, avg 14.2 µs, p99 19.6 µs", "49.9 k IOPS, avg 20.0 µs, p99 35.6 µs"),
    "randread-4k-qd1-poll": ("70.2 k IOPS, avg 14.2 µs, p99 19.6 µs", "49.9 k IOPS, avg 20.0 µs, p99 35.6 µs"),
    "randread-4k-qd32": ("464 k IOPS", "262–339 k IOPS"),
    "randread-4k-qd128": ("451 k IOPS", "260 k IOPS"),
    "randwrite-4k-qd32": ("427 k IOPS", "328 k IOPS"),
    "read-128k-qd16": ("4363 MiB/s", "~2028 MiB/s"),
    "write-128k-qd16": ("5009 MiB/s", "~2085 MiB/s"),
}
# The numbers the goals compare against (IOPS or MiB/s), near / far.
SPDK_VAL = {
    "randread-4k-qd32": (464e3, 262e3),
    "randread-4k-qd128": (451e3, 260e3),
    "randwrite-4k-qd32": (427e3, 328e3),
    "read-128k-qd16": (4363, 2028),
    "write-128k-qd16": (5009, 2085),
}

H = 24  # NVMe/TCP C2HData / H2CData / R2T / CapsuleResp header
CMD = 72  # command capsule header (8 + 64-byte SQE)


def c2h(n):
    """Bytes of C2HData PDUs for n payload bytes (split at 64 KiB)."""
    return n + H * ((n + 65535) // 65536)


# name: target kind, perf arguments, tcp_ceiling request/response bytes, payload bytes
POINTS = [
    ("randread-4k-qd1", "nvm", ["-w", "randread", "-o", "4k", "-q", "1"], CMD, c2h(4096) + H, 4096),
    ("randread-4k-qd1-poll", "poll", ["-w", "randread", "-o", "4k", "-q", "1"], CMD, c2h(4096) + H, 4096),
    ("randread-4k-qd32", "nvm", ["-w", "randread", "-o", "4k", "-q", "32"], CMD, c2h(4096) + H, 4096),
    ("randread-4k-qd128", "nvm", ["-w", "randread", "-o", "4k", "-q", "128"], CMD, c2h(4096) + H, 4096),
    ("randwrite-4k-qd32", "nvm", ["-w", "randwrite", "-o", "4k", "-q", "32"], CMD + 4096, H, 4096),
    ("read-128k-qd16", "nvm", ["-w", "read", "-o", "128k", "-q", "16"], CMD, c2h(131072) + H, 131072),
    # R2T flow: capsule, R2T, H2CData, response; the ceiling moves the same bytes in one exchange
    ("write-128k-qd16", "nvm", ["-w", "write", "-o", "128k", "-q", "16"], CMD + H + 131072, 2 * H, 131072),
    # many hosts on one worker: 16 connections (one I/O queue each) at QD 8; tcp_ceiling has one
    # connection only, so this point has no ceiling (req None)
    ("randread-4k-16conn-qd8", "nvm", ["-w", "randread", "-o", "4k", "-q", "8", "--queues", "16"], None, None, 4096),
    # KV target (a KV namespace next to a RAM namespace): 16-byte keys, 4 KiB values
    ("kv-store-4k-qd32", "kv", ["--kv", "--ns", "2", "-w", "randwrite", "-q", "32"], CMD + 4096, H, 4096),
    ("kv-retrieve-4k-qd32", "kv", ["--kv", "--ns", "2", "-w", "randread", "-q", "32"], CMD, c2h(4096) + H, 4096),
    ("kvtgt-nvm-write-4k-qd32", "kv", ["--ns", "1", "-w", "randwrite", "-o", "4k", "-q", "32"], CMD + 4096, H, 4096),
    ("kvtgt-nvm-read-4k-qd32", "kv", ["--ns", "1", "-w", "randread", "-o", "4k", "-q", "32"], CMD, c2h(4096) + H, 4096),
    # TLS 1.3 PSK (userspace records on a machine without a tls module; kernel TLS where it has one)
    ("tls-randread-4k-qd1", "tls", ["-w", "randread", "-o", "4k", "-q", "1"], CMD, c2h(4096) + H, 4096),
    ("tls-randread-4k-qd32", "tls", ["-w", "randread", "-o", "4k", "-q", "32"], CMD, c2h(4096) + H, 4096),
    ("tls-read-128k-qd16", "tls", ["-w", "read", "-o", "128k", "-q", "16"], CMD, c2h(131072) + H, 131072),
    ("tls-write-128k-qd16", "tls", ["-w", "write", "-o", "128k", "-q", "16"], CMD + H + 131072, 2 * H, 131072),
]
TLS_HOST = "nqn.2014-08.org.nvmexpress:uuid:be7c4000-0000-4000-8000-000000000001"
TLS_KEY = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"
KV_KEYS = 50000


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def vm_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def stop_proc(p):
    """Terminate a process we started and reap it; kill it if it takes more than 15 s."""
    p.send_signal(signal.SIGCONT)  # a SIGSTOPped one would never see the SIGTERM
    p.terminate()
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def paired(num, den, key):
    """num / den of the two runs of each repetition (adjacent in time), lowest and highest."""
    d = {r["rep"]: r[key] for r in den if "rep" in r}
    q = sorted(r[key] / d[r["rep"]] for r in num if r.get("rep") in d and d[r["rep"]])
    return f"{q[0]:.2f}–{q[-1]:.2f} ({len(q)})" if q else "–"


def write_results(out_dir, prefix, md, res):
    """The table to stdout and OUT_DIR/<prefix><date>.md, the raw runs to .json next to it."""
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(out_dir, prefix + datetime.datetime.now().strftime("%Y-%m-%d-%H%M"))
    with open(stem + ".md", "w") as f:
        f.write(md)
    with open(stem + ".json", "w") as f:
        json.dump(res, f, indent=1)
    print(md)
    log(f"written {stem}.md and .json")


class Bench:
    def __init__(self, args, nvringd=None, label="nvringd"):
        self.a = args
        self.bdir = args.build_dir
        self.nvringd = nvringd or os.path.join(self.bdir, "src/nvringd/nvringd")
        self.label = label
        # a baseline build from before the control plane has no --rpc-socket flag
        self.rpc_flag = "--rpc-socket" in subprocess.run([self.nvringd, "--help"], capture_output=True,
                                                         text=True).stdout
        self.nvring = os.path.join(self.bdir, "tools/nvring")
        self.pingpong = os.path.join(self.bdir, "bench/pingpong")
        self.ceiling = os.path.join(self.bdir, "bench/tcp_ceiling")
        self.tgt = None
        self.tgt_kind = None
        self.port = None
        self.logf = None

    # ---- placement probe
    def probe(self):
        out = subprocess.run(["taskset", "-c", "0", self.pingpong, "0", "1", "100000"],
                             capture_output=True, text=True, check=True).stdout
        ns = int(out.split()[0])
        return ns, "near" if ns < NEAR_NS else "far"

    # ---- target
    def start_target(self, kind):
        self.stop_target()
        self.port = free_port()
        tls = ",tls=required" if kind == "tls" else ""
        cmd = ["taskset", "-c", str(self.a.target_cpu), self.nvringd, "-t", "1", "--nqn", NQN,
               "-l", f"127.0.0.1:{self.port}{tls}", "--ns", "mem:1G,bs=4096"]
        if self.rpc_flag:
            cmd += ["--rpc-socket", "none"]
        if kind == "tls":
            cmd += ["--allow-host", f"{TLS_HOST},psk={TLS_KEY}"]
        if kind == "poll":
            cmd.append("--poll")
        if kind == "kv":
            cmd += ["--ns", f"kv:mem,size={self.a.kv_size}"]
        self.logf = open(os.path.join(self.a.tmp, f"{self.label}.log"), "w+")
        self.tgt = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.logf)
        self.tgt_kind = kind
        deadline = time.time() + 10
        while time.time() < deadline:
            self.logf.seek(0)
            if "ready" in self.logf.read():
                break
            if self.tgt.poll() is not None:
                raise RuntimeError(f"nvringd exited: {cmd}")
            time.sleep(0.05)
        else:
            raise RuntimeError("nvringd did not become ready")
        self.rss_fresh = vm_kib(self.tgt.pid, "VmRSS")

    def stop_target(self):
        if self.tgt:
            stop_proc(self.tgt)
            self.tgt = None

    def perf_cmd(self, extra, seconds):
        cmd = ["taskset", "-c", str(self.a.host_cpu), self.nvring, "perf", "-a", "127.0.0.1",
               "-s", str(self.port), "-N", NQN, "-t", str(seconds), "--json"]
        if not self.a.no_busy_poll:
            cmd.append("--busy-poll")
        if "--kv" in extra:
            cmd += ["--keys", str(KV_KEYS), "--value-size", "4096", "--key-size", "16"]
        if self.tgt_kind == "tls":
            cmd += ["--tls", "--psk", TLS_KEY, "--hostnqn", TLS_HOST]
        return cmd + extra

    def prefill(self):
        """Touch every page of the RAM namespace (SPDK's malloc bdev is allocated up front), so
        no run pays first-touch page faults. Sequential writes restart at LBA 0 on every perf run:
        longer runs until VmRSS shows the whole namespace."""
        for seconds in (3, 6, 12, 24):
            subprocess.run(self.perf_cmd(["-w", "write", "-o", "128k", "-q", "16"], seconds),
                           capture_output=True, check=False)
            if vm_kib(self.tgt.pid, "VmRSS") >= self.rss_fresh + NS_KIB:
                break
        else:
            log("prefill: the namespace is not fully resident; reads of untouched LBAs hit the zero page")
        if self.tgt_kind == "kv":
            # every key stored once, so a retrieve point run on its own finds them (0 % misses)
            subprocess.run(self.perf_cmd(["--kv", "--ns", "2", "-w", "write", "-q", "32"], 3),
                           capture_output=True, check=False)

    def run_perf(self, extra, seconds):
        t_cpu0 = cpu_ticks(self.tgt.pid)
        p = subprocess.Popen(self.perf_cmd(extra, seconds), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # wait4 gives the host's CPU time (rusage); --json output is small enough for the pipes
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out, err = p.stdout.read(), p.stderr.read()
        h_cpu = (ru.ru_utime + ru.ru_stime) * CLK_TCK
        t_cpu = cpu_ticks(self.tgt.pid) - t_cpu0
        if p.returncode != 0 or not out.strip():
            raise RuntimeError(f"nvring perf failed ({p.returncode}): {err.strip()[-300:]}")
        j = json.loads(out)
        ios = max(j["ios"], 1)
        return {
            "iops": j["iops"], "mib_s": j["mib_per_s"], "avg": j["lat_avg_us"], "p50": j["lat_p50_us"],
            "p99": j["lat_p99_us"], "errors": j["errors"],
            "tgt_cpu_s_per_m": t_cpu / CLK_TCK / ios * 1e6,
            "host_cpu_s_per_m": h_cpu / CLK_TCK / ios * 1e6,
            "tgt_cpu_pct": 100.0 * t_cpu / CLK_TCK / j["seconds"],
            "kv_miss_pct": 100.0 * j.get("kv_misses", 0) / ios,
        }

    def run_ceiling(self, req, rsp, payload, qd, seconds, poll):
        cmd = [self.ceiling, "--req", str(req), "--rsp", str(rsp), "--payload", str(payload), "--qd", str(qd),
               "--time", str(seconds), "--server-cpu", str(self.a.target_cpu), "--client-cpu", str(self.a.host_cpu)]
        if poll:
            cmd += ["--poll", "1"]
        best = None
        # the ceiling is the best plain send/recv does: copied or zero-copy sends (large ones)
        for zc in (["0", "1"] if max(req, rsp) >= 16384 else ["0"]):
            j = json.loads(subprocess.run(cmd + ["--zerocopy", zc], capture_output=True, text=True,
                                          check=True).stdout)
            if not best or j["iops"] > best["iops"]:
                best = j
        return {"iops": best["iops"], "mib_s": best["mib_per_s"], "avg": best["lat_avg_us"],
                "zerocopy": best["zerocopy"]}

    def measured(self, fn):
        """Run fn between two placement probes; None when the state changed."""
        for attempt in range(self.a.retries + 1):
            ns0, st0 = self.probe()
            load = os.getloadavg()[0]
            try:
                r = fn()
            except (RuntimeError, subprocess.CalledProcessError, ValueError) as e:
                log(f"    run failed: {e}")
                if self.tgt and self.tgt.poll() is not None:
                    raise RuntimeError("nvringd died") from e
                continue
            ns1, st1 = self.probe()
            if st0 == st1:
                r.update(state=st0, pingpong_ns=[ns0, ns1], load=load)
                return r
            log(f"    placement changed ({ns0} -> {ns1} ns): discarded")
        return None

    def idle_cpu(self, seconds):
        c0 = cpu_ticks(self.tgt.pid)
        time.sleep(seconds)
        return 100.0 * (cpu_ticks(self.tgt.pid) - c0) / CLK_TCK / seconds

    def run(self):
        a = self.a
        res = {"points": {}, "idle": {}, "meta": {}}
        res["meta"] = {
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "host": platform.node(),
            "kernel": platform.release(), "seconds": a.time, "reps": a.reps, "busy_poll_host": not a.no_busy_poll,
            "blocking_ceiling": a.blocking_ceiling,
            "load_start": os.getloadavg(), "commit": subprocess.run(
                ["git", "-C", a.src, "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip(),
        }
        wanted = [p for p in POINTS if not a.points or p[0] in a.points]
        for kind in ("nvm", "poll", "kv", "tls"):
            pts = [p for p in wanted if p[1] == kind]
            if not pts and not (kind == "nvm" and not a.points):
                continue
            self.start_target(kind)
            if kind == "nvm":
                time.sleep(1)
                res["idle"]["cpu_pct"] = self.idle_cpu(a.idle_time)
                res["idle"]["rss_kib_fresh"] = self.rss_fresh
                log(f"idle nvringd: {res['idle']['cpu_pct']:.2f} % CPU, VmRSS {self.rss_fresh} KiB")
            # the KV target's RAM namespace too: its NVM points would otherwise pay first-touch
            # faults (writes) or read the zero page (reads), a different run each time
            self.prefill()
            for name, _, extra, req, rsp, payload in pts:
                qd = int(extra[extra.index("-q") + 1])
                rec = res["points"].setdefault(name, {"nvring": [], "ceiling": []})
                for rep in range(a.reps):
                    r = self.measured(lambda: self.run_perf(extra, a.time))
                    if r:
                        rec["nvring"].append(r)
                        log(f"{name} rep {rep + 1}: {r['iops']:.0f} IOPS {r['mib_s']:.0f} MiB/s avg {r['avg']:.1f} "
                            f"p99 {r['p99']:.1f} us, tgt {r['tgt_cpu_s_per_m']:.2f} CPU-s/M I/O "
                            f"({r['tgt_cpu_pct']:.0f} %), {r['state']} {r['pingpong_ns']} ns, load {r['load']:.2f}")
                for rep in range(a.reps if req is not None else 0):
                    r = self.measured(lambda: self.run_ceiling(req, rsp, payload, qd, a.time, not a.blocking_ceiling))
                    if r:
                        rec["ceiling"].append(r)
                        log(f"{name} raw TCP rep {rep + 1}: {r['iops']:.0f} IOPS {r['mib_s']:.0f} MiB/s, {r['state']}")
            if kind == "nvm":
                res["idle"]["rss_kib_after"] = vm_kib(self.tgt.pid, "VmRSS")
                res["idle"]["hwm_kib"] = vm_kib(self.tgt.pid, "VmHWM")
            if kind == "poll":
                res["idle"]["poll_cpu_pct"] = self.idle_cpu(2)
        self.stop_target()
        res["meta"]["load_end"] = os.getloadavg()
        return res


def med(rs, key):
    vals = [r[key] for r in rs]
    return statistics.median(vals) if vals else None


def fmt_iops(v):
    return f"{v / 1000:.1f} k" if v is not None else "–"


def table(res):
    m = res["meta"]
    out = [f"# nvring benchmark {m['date']}", "",
           f"Host {m['host']}, kernel {m['kernel']}, commit {m['commit']}; {m['seconds']} s per point, "
           f"{m['reps']} repetitions (medians); nvringd 1 worker on CPU 0 (`--ns mem:1G,bs=4096`), "
           f"`nvring perf{' --busy-poll' if m['busy_poll_host'] else ''}` on CPU 1, 127.0.0.1. "
           f"Load average at start {m['load_start'][0]:.2f}, at end {m['load_end'][0]:.2f}.", "",
           "| workload | state | n | IOPS | MiB/s | avg µs | p50 µs | p99 µs | target CPU-s / M I/O "
           "| host CPU-s / M I/O | raw TCP ceiling | nvring / ceiling | SPDK (same state) | nvring / SPDK |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, rec in res["points"].items():
        states = sorted({r["state"] for r in rec["nvring"]} | {r["state"] for r in rec["ceiling"]})
        if not states:
            out.append(f"| {name} | – | 0 | all runs discarded |" + " |" * 10)
        for st in states:
            rs = [r for r in rec["nvring"] if r["state"] == st]
            cs = [r for r in rec["ceiling"] if r["state"] == st]
            bw = "128k" in name
            iops, mib = med(rs, "iops"), med(rs, "mib_s")
            ceil = med(cs, "mib_s" if bw else "iops")
            mine = mib if bw else iops
            ratio = f"{100 * mine / ceil:.0f} %" if mine and ceil else "–"
            ceil_s = (f"{ceil:.0f} MiB/s" if bw else f"{fmt_iops(ceil)} IOPS") if ceil else "–"
            if "qd1" in name and cs:
                ceil_s += f", {med(cs, 'avg'):.1f} µs"
            spdk = SPDK.get(name, ("–", "–"))[0 if st == "near" else 1]
            sv = SPDK_VAL.get(name)
            vs = f"{mine / sv[0 if st == 'near' else 1]:.2f}×" if sv and mine else "–"

            def f(k, d=1):
                v = med(rs, k)
                return f"{v:.{d}f}" if v is not None else "–"
            out.append(f"| {name} | {st} | {len(rs)} | {fmt_iops(iops)} | {f('mib_s', 0)} | {f('avg')} | {f('p50')} "
                       f"| {f('p99')} | {f('tgt_cpu_s_per_m', 2)} | {f('host_cpu_s_per_m', 2)} | {ceil_s} | {ratio} "
                       f"| {spdk} | {vs} |")
    i = res["idle"]
    kv_miss = [f"{n} {med(r['nvring'], 'kv_miss_pct'):.0f} % misses" for n, r in res["points"].items()
               if n.startswith("kv-retrieve") and r["nvring"]]
    out += ["", f"Idle nvringd (default mode, no connection): {i.get('cpu_pct', float('nan')):.2f} % of a core"
            + (f"; `--poll`: {i['poll_cpu_pct']:.0f} %" if "poll_cpu_pct" in i else "") + ".",
            f"nvringd VmRSS: {i.get('rss_kib_fresh', 0) / 1024:.1f} MiB fresh, "
            f"{i.get('rss_kib_after', 0) / 1024:.1f} MiB after the NVM points (1 GiB RAM namespace, touched by the "
            f"prefill: ~1024 MiB of that is the namespace), peak {i.get('hwm_kib', 0) / 1024:.1f} MiB.",
            ("KV retrieve of keys not stored yet (Key Does Not Exist) count as I/Os: "
             + ", ".join(kv_miss) + ".") if kv_miss else "",
            "Raw TCP ceiling: bench/tcp_ceiling, same bytes per exchange and queue depth, "
            + ("blocking recv." if m.get("blocking_ceiling") else "both sides spinning on non-blocking recv.") + "",
            "", "State: cache-line round trip CPU 0 ↔ CPU 1 (bench/pingpong) before and after each run, "
            f"near < {NEAR_NS} ns; runs whose state changed are discarded. SPDK reference: issue 6 "
            "(nvmf_tgt + spdk_nvme_perf, v23.09, same machine kind)."]
    return "\n".join(out) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--src", default=os.path.dirname(here))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--time", type=int, default=10)
    ap.add_argument("--retries", type=int, default=2, help="extra attempts when the placement state changes")
    ap.add_argument("--points", type=lambda s: [x for x in s.split(",") if x], default=None)
    ap.add_argument("--idle-time", type=int, default=5)
    ap.add_argument("--kv-size", default="4G")
    ap.add_argument("--target-cpu", type=int, default=0)
    ap.add_argument("--host-cpu", type=int, default=1)
    ap.add_argument("--no-busy-poll", action="store_true", help="nvring perf sleeps in the kernel between completions")
    ap.add_argument("--blocking-ceiling", action="store_true",
                    help="raw-TCP ceiling with blocking recv (default: both sides spin, the faster on a VM)")
    ap.add_argument("--out-dir", default=os.path.join(here, "results"))
    ap.add_argument("--tmp", default="/tmp")
    a = ap.parse_args()
    names = [p[0] for p in POINTS]
    for p in a.points or []:
        if p not in names:
            ap.error(f"unknown point {p}; known: {', '.join(names)}")
    b = Bench(a)
    try:
        res = b.run()
    finally:
        b.stop_target()
    write_results(a.out_dir, "", table(res), res)


if __name__ == "__main__":
    main()
