#!/bin/sh
# SPDX-License-Identifier: MIT
# nvring benchmark, one command: release build in its own directory, then the matrix of issue 6
# (bench/bench.py): nvringd pinned to CPU 0, nvring perf to CPU 1, placement probe around every
# run, raw-TCP ceiling in the same run; table to stdout and bench/results/<date>.md.
#
#   bench/run.sh [--quick] [--points a,b,...] [--reps N] [--time S] [--build-dir DIR] [bench.py options]
#   --quick: 1 repetition of 3 s per point.
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
build=${NVRING_BENCH_BUILD:-/tmp/nvring-bench-build}
args=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) args="$args --reps 1 --time 3" ;;
	--build-dir) build=$2; shift ;;
	*) args="$args $1" ;;
	esac
	shift
done
# werror off: a new warning at -O3 elsewhere in the tree must not stop a measurement
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" --buildtype=release -Dwerror=false >/dev/null
fi
ninja -C "$build" src/nvringd/nvringd tools/nvring bench/pingpong bench/tcp_ceiling >/dev/null
# shellcheck disable=SC2086
exec python3 "$src/bench/bench.py" --build-dir "$build" --src "$src" $args
