#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every libFuzzer target for FUZZ_SECONDS (default 60) from its seed corpus and print TAP:
# one "ok"/"not ok" per target with its executions. The corpus is copied to a temporary
# directory, so the tree never grows; a crash's input and log are kept there and named.
#
#   tests/fuzz/run.sh BUILDDIR [TARGET...]      (BUILDDIR configured with -Dfuzz=true, clang)
#
# Targets are the tests/fuzz/fuzz_*.c files; seeds in tests/fuzz/corpus/<target>/, an optional
# dictionary in tests/fuzz/<target>.dict. FUZZ_JOBS>1 runs that many workers per target.
# For a long run: FUZZ_RUNS=N stops each target after N executions instead of after
# FUZZ_SECONDS, and FUZZ_CORPUS=DIR keeps the corpus in DIR/<target> (seeded from the tree on
# first use), so a campaign can go on in parts and its executions add up.
set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: $0 BUILDDIR [TARGET...]}
shift
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
runs=${FUZZ_RUNS:-}
keep=${FUZZ_CORPUS:-}

if [ $# -eq 0 ]; then
	for src in "$here"/fuzz_*.c; do
		set -- "$@" "$(basename "$src" .c)"
	done
fi

echo "1..$#"
n=0
failed=0
for target in "$@"; do
	n=$((n + 1))
	bin="$build/tests/fuzz/$target"
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $target: $bin not built (meson setup -Dfuzz=true with CC=clang)"
		failed=1
		continue
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/nvring-fuzz-$target.XXXXXX")
	mkdir "$work/artifacts"
	corpus="$work/corpus"
	[ -n "$keep" ] && corpus="$keep/$target"
	if [ ! -d "$corpus" ]; then
		mkdir -p "$corpus"
		[ -d "$here/corpus/$target" ] && cp "$here/corpus/$target"/* "$corpus/" 2>/dev/null
	fi
	dict=""
	[ -f "$here/$target.dict" ] && dict="-dict=$here/$target.dict"
	par=""
	[ "$jobs" -gt 1 ] && par="-fork=$jobs"
	# -timeout: an input that takes 5 s is a hang; -rss_limit_mb: a runaway allocation
	start=$(date +%s)
	bound="-max_total_time=$seconds"
	[ -n "$runs" ] && bound="-runs=$runs"
	"$bin" $bound -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" $dict $par "$corpus" >"$work/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$work/log" | tail -n 1)
	inputs=$(ls "$corpus" | wc -l)
	took=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		echo "ok $n - $target: ${execs:-?} executions in ${took:-?} s (${rate:-?}/s), corpus $inputs inputs"
		rm -rf "$work"
	else
		crash=$(ls "$work/artifacts" 2>/dev/null | head -n 1)
		echo "not ok $n - $target: exit $rc after ${execs:-?} executions; input $work/artifacts/$crash, log $work/log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|round trip)' "$work/log" | head -n 5 | sed 's/^/# /'
		failed=1
	fi
done
exit $failed
