#!/bin/bash
# SPDX-License-Identifier: MIT
# nvringd serving an RBD image against librbd used directly, on one throw-away cluster in one
# run: 4 KiB randread / randwrite at QD 32 and 128 KiB sequential read / write at QD 32.
#
# Clients (each case runs them in turn, --repeat times, medians reported):
#   rbd bench         librbd's own tool (a fixed total of I/O, so no CPU figure)
#   fio rbd           Debian fio's rbd engine (one job, librbd's aio)
#   rbd_load          nvring's rbd backend without the daemon (bench/rbd_load: one worker)
#   nvringd           nvringd (one worker, rbd:POOL/IMAGE) over NVMe/TCP on 127.0.0.1, driven
#                     by `nvring perf` (tools/perf.c, one queue, QD 32) from the same machine
#   nvringd A         with --ab PATH: that nvringd binary (another commit's), the same way, in
#                     the same run, next to this tree's (which of the two goes first alternates)
# CPU per I/O: the whole process (librbd's threads included) from /proc, user + system time
# over the I/O count; for nvringd also the client's (nvring perf) separately.
# Every client has rbd_cache off (what nvringd does for a namespace without VWC); every random
# or sequential case covers the whole image, which is written in full first.
# Table to stdout and bench/results/ceph-<date>.md (raw runs in ceph-<date>.tsv).
#
#   bench/ceph.sh [--time S] [--repeat N] [--build-dir DIR] [--bluestore] [--ab NVRINGD]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${NVRING_BENCH_BUILD:-/tmp/nvring-bench-build}
secs=10 repeat=3
store=()
ab_bin=
while [ $# -gt 0 ]; do
	case "$1" in
	--time) secs=$2; shift ;;
	--repeat) repeat=$2; shift ;;
	--build-dir) build=$2; shift ;;
	--bluestore) store=(--bluestore) ;;
	--ab) ab_bin=$(realpath "$2"); shift ;;
	*) echo "usage: $0 [--time S] [--repeat N] [--build-dir DIR] [--bluestore] [--ab NVRINGD]" >&2; exit 2 ;;
	esac
	shift
done
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" --buildtype=release -Dwerror=false >/dev/null
fi
ninja -C "$build" bench/rbd_load src/nvringd/nvringd tools/nvring >/dev/null
dir=$(mktemp -d /tmp/nvr-ceph-bench.XXXXXX)
nvd_pid= ab_pid=
cleanup() {
	for p in $nvd_pid $ab_pid; do # started from a subshell: not our children to wait for
		kill "$p" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	"$src/tests/ceph/cluster.sh" down "$dir"
}
trap cleanup EXIT
"$src/tests/ceph/cluster.sh" up "$dir" "${store[@]}" --image bench:512M
conf=$dir/bench.conf
sed 's/^\[client\]$/[client]\nrbd cache = false/' "$dir/ceph.conf" >"$conf"
export CEPH_CONF=$conf
size=$((512 << 20))
# reads must find data everywhere
rbd bench --io-type write --io-size 4M --io-threads 8 --io-total 512M --io-pattern seq \
	rbd/bench >/dev/null
load0=$(cut -d' ' -f1-3 /proc/loadavg)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_nvringd() { # binary port log: prints the pid
	"$1" --rpc-socket none -l "127.0.0.1:$2" --ns rbd:rbd/bench -t 1 </dev/null >"$3" 2>&1 &
	local pid=$!
	for _ in $(seq 50); do grep -q "nvringd: ready" "$3" && break; sleep 0.2; done
	grep -q "nvringd: ready" "$3" || { cat "$3" >&2; return 1; }
	echo "$pid"
}
port=$(free_port)
nvd_pid=$(start_nvringd "$build/src/nvringd/nvringd" "$port" "$dir/nvringd.log")
ab_pid= ab_port=
if [ -n "$ab_bin" ]; then
	ab_port=$(free_port)
	ab_pid=$(start_nvringd "$ab_bin" "$ab_port" "$dir/nvringd-a.log")
fi

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system, clock ticks
hz=$(getconf CLK_TCK)
raw=$(mktemp)

# one line per run: case|client|iops|p50|p99|server us/io|client us/io
run_case() { # name rw bs total_for_rbd_bench
	local name=$1 rw=$2 bs=$3 total=$4 type pattern fiorw v t0 t1 j
	case "$rw" in
	randread) type=read pattern=rand fiorw=randread ;;
	randwrite) type=write pattern=rand fiorw=randwrite ;;
	read) type=read pattern=seq fiorw=read ;;
	write) type=write pattern=seq fiorw=write ;;
	esac
	v=$(rbd bench --io-type $type --io-size "$bs" --io-threads 32 --io-total "$total" \
		--io-pattern $pattern rbd/bench 2>&1 | awk '/^elapsed/ {print $6}')
	echo "$name|rbd bench|$v|-|-|-|-" >>"$raw"

	# fio and rbd_load: the CPU of the whole process, from /usr/bin/time
	v=$(/usr/bin/time -f '%U %S' -o "$dir/time" fio --name=b --ioengine=rbd --clientname=admin \
		--pool=rbd --rbdname=bench --rw=$fiorw --bs="$bs" --iodepth=32 --size=$size \
		--time_based --runtime="$secs" --output-format=json 2>/dev/null | python3 -c '
import json,sys; j=json.load(sys.stdin)["jobs"][0]; d=j["read"] if j["read"]["io_bytes"] else j["write"]
print("%.0f|%.0f|%.0f|%d" % (d["iops"], d["clat_ns"]["percentile"]["50.000000"]/1000,
      d["clat_ns"]["percentile"]["99.000000"]/1000, d["total_ios"]))')
	echo "$name|fio rbd|$(echo "$v" | cut -d'|' -f1-3)|-|$(awk -v n="${v##*|}" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$dir/time")" >>"$raw"

	v=$(/usr/bin/time -f '%U %S' -o "$dir/time" "$build/bench/rbd_load" --image bench --rw "$rw" \
		--bs "$bs" --qd 32 --time "$secs" --span $size | python3 -c '
import json,sys; j=json.load(sys.stdin); print("%.0f|%d|%d|%d" % (j["iops"], j["lat_p50_us"], j["lat_p99_us"], j["ops"]))')
	echo "$name|rbd_load|$(echo "$v" | cut -d'|' -f1-3)|-|$(awk -v n="${v##*|}" '{ if (n > 0) printf "%.1f", ($1 + $2) * 1e6 / n; else print "-" }' "$dir/time")" >>"$raw"

	# with --ab, the two alternate which goes first (the cluster's speed drifts within a case)
	if [ -n "$ab_pid" ] && [ $((r % 2)) -eq 0 ]; then
		run_nvringd "$name" "$rw" "$bs" "nvringd A" "$ab_pid" "$ab_port"
		run_nvringd "$name" "$rw" "$bs" nvringd "$nvd_pid" "$port"
	else
		run_nvringd "$name" "$rw" "$bs" nvringd "$nvd_pid" "$port"
		[ -z "$ab_pid" ] || run_nvringd "$name" "$rw" "$bs" "nvringd A" "$ab_pid" "$ab_port"
	fi
}

# nvringd: its CPU from /proc over exactly the run, the client's from /usr/bin/time
run_nvringd() { # name rw bs label pid port
	local t0 t1 j v
	t0=$(ticks "$5")
	j=$(/usr/bin/time -f '%U %S' -o "$dir/time" "$build/tools/nvring" perf -a 127.0.0.1 -s "$6" -N nqn.2026-11.io.nvring:default \
		-w "$2" -o "$3" -q 32 -t "$secs" --json)
	t1=$(ticks "$5")
	v=$(echo "$j" | python3 -c '
import json,sys; j=json.load(sys.stdin); print("%.0f|%.0f|%.0f|%d" % (j["iops"], j["lat_p50_us"], j["lat_p99_us"], j["ios"]))')
	echo "$1|$4|$(echo "$v" | cut -d'|' -f1-3)|$(awk -v a="$t0" -v b="$t1" -v n="${v##*|}" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / n }')|$(awk -v n="${v##*|}" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$dir/time")" >>"$raw"
}

for ((r = 1; r <= repeat; r++)); do
	run_case "4 KiB randread QD32" randread 4096 256M
	run_case "4 KiB randwrite QD32" randwrite 4096 128M
	run_case "128 KiB seq read QD32" read 131072 4G
	run_case "128 KiB seq write QD32" write 131072 2G
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$src/bench/results"
stamp=$(date +%Y-%m-%d-%H%M)
res=$src/bench/results/ceph-$stamp.md
cp "$raw" "$src/bench/results/ceph-$stamp.tsv"
{
	echo "# nvringd on RBD vs librbd directly ($(date -u +%F), ${store[*]:-memstore}, 1 OSD, auth none, rbd_cache off)"
	echo
	echo "Load average before: $load0; after: $load1 ($(nproc) CPUs, shared). $repeat runs per client and case, ${secs} s each"
	echo "(rbd bench: a fixed total); medians, with the range of the IOPS runs. nvringd: one worker, driven by"
	echo "\`nvring perf\` over NVMe/TCP on 127.0.0.1. CPU: microseconds of user+system time per I/O, whole process."
	[ -z "$ab_bin" ] || echo "nvringd: $(git -C "$src" describe --always --dirty); nvringd A: $ab_bin."
	echo
	python3 - "$raw" <<'EOF'
import sys, statistics as st
rows = {}
order = []
for line in open(sys.argv[1]):
    name, client, iops, p50, p99, srv, cli = line.rstrip("\n").split("|")
    key = (name, client)
    if key not in rows:
        rows[key] = []
        order.append(key)
    rows[key].append((iops, p50, p99, srv, cli))
def med(vals):
    v = [float(x) for x in vals if x not in ("", "-")]
    return st.median(v) if v else None
def fmt(x, d=0):
    return "-" if x is None else (("%." + str(d) + "f") % x)
print("| case | client | IOPS (median) | IOPS range | MiB/s | lat p50/p99 (us) | server CPU us/IO | client CPU us/IO | vs fio rbd |")
print("|---|---|---|---|---|---|---|---|---|")
for key in order:
    name, client = key
    r = rows[key]
    iops = med([x[0] for x in r])
    vals = sorted(float(x[0]) for x in r if x[0] not in ("", "-"))
    bs = 131072 if name.startswith("128") else 4096
    fio = med([x[0] for x in rows.get((name, "fio rbd"), [])])
    rel = "-" if not fio or iops is None or client == "fio rbd" else "%.0f %%" % (100 * iops / fio)
    p50, p99 = med([x[1] for x in r]), med([x[2] for x in r])
    lat = "-" if p50 is None else "%s/%s" % (fmt(p50), fmt(p99))
    rng = "-" if not vals else "%.0f-%.0f" % (vals[0], vals[-1])
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (name, client, fmt(iops), rng,
          fmt(None if iops is None else iops * bs / 1048576, 1), lat,
          fmt(med([x[3] for x in r]), 1), fmt(med([x[4] for x in r]), 1), rel))
EOF
} | tee "$res"
rm -f "$raw"
