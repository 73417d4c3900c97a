#!/bin/sh
# SPDX-License-Identifier: MIT
# nvring benchmark, one command: release build in its own directory, then the matrix of issue 6
# (bench/bench.py): nvringd pinned to CPU 0, nvring perf to CPU 1, placement probe around every
# run, raw-TCP ceiling in the same run; table to stdout and bench/results/<date>.md.
#
#   bench/run.sh [--quick] [--points a,b,...] [--reps N] [--time S] [--build-dir DIR] [bench.py options]
#   bench/run.sh --ab REF [--points ...] [--reps N] [--time S]
#   --quick: 1 repetition of 3 s per point.
#   --ab REF: A/B of REF's nvringd against this tree's, one client, one run (bench/ab.py).
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
build=${NVRING_BENCH_BUILD:-/tmp/nvring-bench-build}
args=""
ab=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) args="$args --reps 1 --time 3" ;;
	--build-dir) build=$2; shift ;;
	--ab) ab=$2; shift ;;
	*) args="$args $1" ;;
	esac
	shift
done
# werror off: a new warning at -O3 elsewhere in the tree must not stop a measurement
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" --buildtype=release -Dwerror=false >/dev/null
fi
ninja -C "$build" src/nvringd/nvringd tools/nvring bench/pingpong bench/tcp_ceiling >/dev/null
if [ -n "$ab" ]; then
	rev=$(git -C "$src" rev-parse --short "$ab")
	base=${build}-ab-$rev
	[ -d "$base/src" ] || git -C "$src" worktree add --detach "$base/src" "$rev" >/dev/null
	[ -f "$base/build/build.ninja" ] ||
		meson setup "$base/build" "$base/src" --buildtype=release -Dwerror=false >/dev/null
	# only the daemon: its directory moved in round 2 (src/target -> src/nvringd)
	bin=src/nvringd/nvringd
	[ -d "$base/src/src/nvringd" ] || bin=src/target/nvringd
	ninja -C "$base/build" "$bin" >/dev/null
	bin=$base/build/$bin
	# shellcheck disable=SC2086
	exec python3 "$src/bench/ab.py" --build-dir "$build" --src "$src" --baseline "$bin" \
		--baseline-name "$rev" $args
fi
# shellcheck disable=SC2086
exec python3 "$src/bench/bench.py" --build-dir "$build" --src "$src" $args
