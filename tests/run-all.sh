#!/bin/bash
# The whole test suite: a release build with every suite (unit, system, host, interop
# against the Linux kernel in QEMU), then an ASan+UBSan build with every suite but interop.
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
build=${BUILD:-build}
asan=${ASAN_BUILD:-build-asan}
logs=()

setup() {   # setup DIR [meson options...]
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

echo "== build ($build)"
setup "$build" -Dbuildtype=debugoptimized || exit 1
ninja -C "$build" || exit 1
echo "== tests ($build)"
meson test -C "$build" --num-processes "$jobs" --print-errorlogs ${SUITES:+--suite $SUITES}
logs+=("release:$build/meson-logs/testlog.json")

if [ "${NO_ASAN:-0}" != 1 ]; then
	echo "== build ($asan: address,undefined sanitizers)"
	setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || exit 1
	ninja -C "$asan" || exit 1
	echo "== tests ($asan)"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$asan" --num-processes "$jobs" --print-errorlogs --no-suite interop \
		--timeout-multiplier 3
	logs+=("asan:$asan/meson-logs/testlog.json")
fi

extra=()
if [ "${NO_CLANG:-0}" != 1 ]; then
	echo "== build (clang)"
	if CC=clang setup build-clang && ninja -C build-clang >/dev/null; then
		extra+=(--extra "clang build:pass")
	else
		ninja -C build-clang | tail -20
		extra+=(--extra "clang build:fail")
	fi
fi

python3 tests/tap-summary.py "${extra[@]}" "${logs[@]}"
