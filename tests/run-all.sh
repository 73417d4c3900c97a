#!/bin/bash
# The whole test suite: an optimised build with every suite (unit, system, host, interop
# against the Linux kernel in QEMU), then an ASan+UBSan build with every suite but interop,
# then release (-O3, -Werror) builds with gcc and clang.
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
# Fuzzing: every libFuzzer target (clang, ASan+UBSan, coverage on the whole daemon) for
# FUZZ_SECONDS (60) from its seed corpus.
if [ "${NO_FUZZ:-0}" != 1 ]; then
	echo "== build (build-fuzz: libFuzzer targets)"
	fuzz=${FUZZ_BUILD:-build-fuzz}
	targets=$(for f in tests/fuzz/fuzz_*.c; do echo "tests/fuzz/$(basename "$f" .c)"; done)
	# shellcheck disable=SC2086
	if CC=clang setup "$fuzz" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debugoptimized && ninja -C "$fuzz" $targets >/dev/null; then
		echo "== fuzz ($fuzz)"
		meson test -C "$fuzz" --suite fuzz --print-errorlogs --no-rebuild
		logs+=("fuzz:$fuzz/meson-logs/testlog.json")
	else
		# shellcheck disable=SC2086
		ninja -C "$fuzz" $targets | tail -20
		extra+=(--extra "fuzz build:fail")
	fi
fi

# Packagers build release (-O3) with -Werror, under gcc and clang: both must build cleanly.
release_build() {   # release_build NAME DIR CC
	local name=$1 dir=$2
	echo "== build ($name, release)"
	if CC=$3 setup "$dir" -Dbuildtype=release && ninja -C "$dir" >/dev/null; then
		extra+=(--extra "$name release build:pass")
	else
		ninja -C "$dir" | tail -20
		extra+=(--extra "$name release build:fail")
	fi
}
if [ "${NO_RELEASE:-0}" != 1 ]; then
	release_build gcc build-release gcc
fi
if [ "${NO_CLANG:-0}" != 1 ]; then
	release_build clang build-clang clang
fi

python3 tests/tap-summary.py "${extra[@]}" "${logs[@]}"
