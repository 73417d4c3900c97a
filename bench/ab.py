#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A/B of two nvringd builds in one run, with one client.

Both targets run at once on CPU 0 (the one not under load sleeps in io_uring_enter), each with
its own prefilled 1 GiB RAM namespace; the same `nvring perf` binary on CPU 1 measures them in
turn, A then B, then B then A on the next repetition, each run between two placement probes as in
bench.py (a run whose vCPU placement changed is discarded). Run through bench/run.sh --ab REF,
which builds REF's nvringd next to the current tree.
"""
import argparse
import datetime
import os
import signal
import subprocess

import bench as B


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", required=True, help="release build of this tree: client and target B")
    ap.add_argument("--baseline", required=True, help="nvringd binary of the baseline build (target A)")
    ap.add_argument("--baseline-name", default="baseline")
    ap.add_argument("--src", default=os.path.dirname(here))
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--time", type=int, default=5)
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--points", type=lambda s: [x for x in s.split(",") if x], default=None)
    ap.add_argument("--kv-size", default="4G")
    ap.add_argument("--target-cpu", type=int, default=0)
    ap.add_argument("--host-cpu", type=int, default=1)
    ap.add_argument("--no-busy-poll", action="store_true")
    ap.add_argument("--out-dir", default=os.path.join(here, "results"))
    ap.add_argument("--tmp", default="/tmp")
    a = ap.parse_args()
    # TLS points need a target that has TLS: the baseline may not
    names = [p[0] for p in B.POINTS if p[1] != "tls"]
    wanted = [p for p in B.POINTS if p[0] in (a.points or names)]
    for p in a.points or []:
        if p not in names:
            ap.error(f"unknown point {p}; known: {', '.join(names)}")
    commit = subprocess.run(["git", "-C", a.src, "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    res = {"meta": {"date": datetime.datetime.now().isoformat(timespec="seconds"), "commit": commit,
                    "baseline": a.baseline_name, "seconds": a.time, "reps": a.reps,
                    "load_start": os.getloadavg()}, "points": {}}
    for kind in ("nvm", "poll", "kv"):
        pts = [p for p in wanted if p[1] == kind]
        if not pts:
            continue
        targets = [B.Bench(a, a.baseline, "ab-A"), B.Bench(a, None, "ab-B")]
        try:
            for t in targets:
                t.start_target(kind)
                t.prefill()  # every kind: bench.py says why
            for name, _, extra, *_ in pts:
                rec = res["points"].setdefault(name, {"A": [], "B": []})
                for rep in range(a.reps):
                    order = list(zip("AB", targets))
                    for label, t in (order if rep % 2 == 0 else order[::-1]):
                        # the other target is stopped: a --poll target spins even with no host
                        for o in targets:
                            o.tgt.send_signal(signal.SIGCONT if o is t else signal.SIGSTOP)
                        r = t.measured(lambda: t.run_perf(extra, a.time))
                        if r:
                            r["rep"] = rep
                            rec[label].append(r)
                            B.log(f"{name} {label} rep {rep + 1}: {r['iops']:.0f} IOPS {r['mib_s']:.0f} MiB/s "
                                  f"avg {r['avg']:.1f} p99 {r['p99']:.1f} us, tgt {r['tgt_cpu_s_per_m']:.2f} "
                                  f"CPU-s/M, {r['state']}, load {r['load']:.2f}")
        finally:
            for t in targets:
                if t.tgt:
                    t.tgt.send_signal(signal.SIGCONT)
                t.stop_target()
    res["meta"]["load_end"] = os.getloadavg()
    B.write_results(a.out_dir, "ab-", table(res), res)


def value(v, bw):
    if v is None:
        return "–"
    return f"{v:.0f} MiB/s" if bw else f"{B.fmt_iops(v)} IOPS"


def latency(rs):
    return f"{B.med(rs, 'avg'):.1f} / {B.med(rs, 'p99'):.1f}" if rs else "–"


def cpu(rs):
    return f"{B.med(rs, 'tgt_cpu_s_per_m'):.2f}" if rs else "–"


def table(res):
    m = res["meta"]
    out = [f"# nvring A/B {m['date']}", "",
           f"A = nvringd of {m['baseline']}, B = nvringd of {m['commit']}; client: this tree's `nvring perf "
           f"--busy-poll` on CPU 1 for both; both targets on CPU 0, 1 worker, `--ns mem:1G,bs=4096`, prefilled; "
           f"{m['seconds']} s per run, {m['reps']} repetitions alternating A/B; medians per placement state. "
           f"Load average at start {m['load_start'][0]:.2f}, at end {m['load_end'][0]:.2f}.", "",
           "| workload | state | n A / B | A | B | B / A | paired B / A min–max | A avg / p99 µs | B avg / p99 µs "
           "| A target CPU-s / M I/O | B target CPU-s / M I/O |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, rec in res["points"].items():
        bw = "128k" in name
        key = "mib_s" if bw else "iops"
        for st in sorted({r["state"] for r in rec["A"] + rec["B"]}):
            ra = [r for r in rec["A"] if r["state"] == st]
            rb = [r for r in rec["B"] if r["state"] == st]
            va, vb = B.med(ra, key), B.med(rb, key)
            ratio = f"{vb / va:.2f}×" if va and vb else "–"
            out.append(f"| {name} | {st} | {len(ra)} / {len(rb)} | {value(va, bw)} | {value(vb, bw)} | {ratio} "
                       f"| {B.paired(rb, ra, key)} "
                       f"| {latency(ra)} | {latency(rb)} | {cpu(ra)} | {cpu(rb)} |")
    out += ["", "Paired: the ratio of the A and B runs of one repetition, which ran back to back; an A/A run "
            "(bench/run.sh --ab HEAD: the same commit built twice) shows how far it strays with no change.",
            "", "State: cache-line round trip CPU 0 ↔ CPU 1 (bench/pingpong) before and after each run, "
            f"near < {B.NEAR_NS} ns; runs whose state changed are discarded."]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
