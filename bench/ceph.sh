#!/bin/bash
# SPDX-License-Identifier: MIT
# librbd directly (`rbd bench`, fio's rbd engine) against nvring's rbd backend (bench/rbd_load:
# one worker, io_uring + executor, the backend's aio path) on one throw-away cluster, in one
# run: 4 KiB randread / randwrite at QD 32 and 128 KiB sequential read / write at QD 32.
# Every client runs with rbd_cache off (what the backend does for a namespace without VWC).
# Table to stdout and bench/results/ceph-<date>.md.
#
#   bench/ceph.sh [--time S] [--build-dir DIR] [--bluestore]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${NVRING_BENCH_BUILD:-/tmp/nvring-bench-build}
secs=10
store=()
while [ $# -gt 0 ]; do
	case "$1" in
	--time) secs=$2; shift ;;
	--build-dir) build=$2; shift ;;
	--bluestore) store=(--bluestore) ;;
	*) echo "usage: $0 [--time S] [--build-dir DIR] [--bluestore]" >&2; exit 2 ;;
	esac
	shift
done
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" --buildtype=release -Dwerror=false >/dev/null
fi
ninja -C "$build" bench/rbd_load >/dev/null
dir=$(mktemp -d /tmp/nvr-ceph-bench.XXXXXX)
trap '"$src/tests/ceph/cluster.sh" down "$dir"' EXIT
"$src/tests/ceph/cluster.sh" up "$dir" "${store[@]}" --image bench:512M
conf=$dir/bench.conf
sed 's/^\[client\]$/[client]\nrbd cache = false/' "$dir/ceph.conf" >"$conf"
export CEPH_CONF=$conf
# reads must find data: fill the 256 MiB span the random cases use, and the sequential span
rbd bench --io-type write --io-size 4M --io-threads 8 --io-total 512M --io-pattern seq \
	rbd/bench >/dev/null
out=$(mktemp)
span=$((256 << 20))

run_case() { # name rw bs total_for_rbd_bench
	local name=$1 rw=$2 bs=$3 total=$4 type pattern fiorw v
	case "$rw" in
	randread) type=read pattern=rand fiorw=randread ;;
	randwrite) type=write pattern=rand fiorw=randwrite ;;
	read) type=read pattern=seq fiorw=read ;;
	write) type=write pattern=seq fiorw=write ;;
	esac
	v=$(rbd bench --io-type $type --io-size "$bs" --io-threads 32 --io-total "$total" \
		--io-pattern $pattern rbd/bench 2>&1 | awk '/^elapsed/ {print $6}')
	echo "$name|rbd bench|$v|" >>"$out"
	v=$(fio --name=b --ioengine=rbd --clientname=admin --pool=rbd --rbdname=bench \
		--rw=$fiorw --bs="$bs" --iodepth=32 --size=$span --time_based --runtime="$secs" \
		--output-format=json 2>/dev/null | python3 -c '
import json,sys; j=json.load(sys.stdin)["jobs"][0]; d=j["read"] if j["read"]["io_bytes"] else j["write"]
print("%.0f|%.0f/%.0f" % (d["iops"], d["clat_ns"]["percentile"]["50.000000"]/1000, d["clat_ns"]["percentile"]["99.000000"]/1000))')
	echo "$name|fio rbd engine|$v" >>"$out"
	v=$("$build/bench/rbd_load" --image bench --rw "$rw" --bs "$bs" --qd 32 --time "$secs" \
		--span $span | python3 -c '
import json,sys; j=json.load(sys.stdin); print("%.0f|%d/%d" % (j["iops"], j["lat_p50_us"], j["lat_p99_us"]))')
	echo "$name|nvring rbd backend|$v" >>"$out"
}

run_case "4 KiB randread QD32" randread 4096 256M
run_case "4 KiB randwrite QD32" randwrite 4096 128M
run_case "128 KiB seq read QD32" read 131072 4G
run_case "128 KiB seq write QD32" write 131072 2G

mkdir -p "$src/bench/results"
res=$src/bench/results/ceph-$(date +%Y-%m-%d-%H%M).md
{
	echo "# rbd: librbd tools vs nvring's rbd backend ($(date -u +%F), ${store[*]:-memstore}, 1 OSD, auth none, rbd_cache off)"
	echo
	echo "Load average before: $(cut -d' ' -f1-3 /proc/loadavg). ${secs} s per fio/backend case; rbd bench runs a fixed total."
	echo
	echo "| case | client | IOPS | MiB/s | lat p50/p99 (us) |"
	echo "|---|---|---|---|---|"
	while IFS='|' read -r name tool iops lat; do
		bs=4096
		case "$name" in 128*) bs=131072 ;; esac
		mib=$(python3 -c "print('%.1f' % (float('${iops:-0}' or 0) * $bs / 1048576))")
		echo "| $name | $tool | ${iops%.*} | $mib | ${lat:--} |"
	done <"$out"
} | tee "$res"
rm -f "$out"
