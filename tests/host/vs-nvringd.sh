#!/bin/bash
# vs-nvringd.sh [NVRINGD] [NVRING] — every nvring CLI command and short verified perf runs against
# nvringd on 127.0.0.1 (dynamic port), then KV commands against a kv namespace when the build has one.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
nvringd=${1:-${NVRINGD:-build/src/nvringd/nvringd}}
nvring=${2:-${NVRING:-build/tools/nvring}}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# start_target NAME PORT ARGS... : wait for its "ready" line (bounded), 0 if it came up
start_target() {
	local name=$1 port=$2; shift 2
	: >"$tmp/$name.log"
	"$nvringd" -l "127.0.0.1:$port" -t 2 --rpc-socket none "$@" >"$tmp/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		grep -q "ready" "$tmp/$name.log" && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

port=$(free_port)
nqn=nqn.2026-01.io.nvring:vs-nvringd
if ! start_target nvm "$port" --ns mem:64M --nqn "$nqn"; then
	echo "1..1"; echo "not ok 1 - nvringd came up ($(head -c 300 "$tmp/nvm.log"))"; exit 1
fi
SUITE_PERF_SECS=${SUITE_PERF_SECS:-2} "$here/cli-suite.sh" 127.0.0.1 "$port" "$nqn" "$nvring" | tee "$tmp/suite.tap" | grep -v '^1\.\.'
n=$(grep -c '^\(not \)\?ok ' "$tmp/suite.tap")
failed=$(grep -c '^not ok ' "$tmp/suite.tap")
tap() {
	n=$((n + 1))
	if [[ $1 == OK ]]; then echo "ok $n - $2"; elif [[ $1 == SKIP ]]; then echo "ok $n - $2 # SKIP ${3:-}"
	else echo "not ok $n - $2${3:+ ($3)}"; failed=$((failed + 1)); fi
}
conn=(-a 127.0.0.1 --trsvcid "$port" --nqn "$nqn")

# multi-queue, multi-thread, sequential and SQ-flow-control-off variants
for args in "--queues 4 --threads 2 -w randrw -o 8k" "-w write -o 128k -q 8" "-w read -o 64k -q 8 --disable-sqflow" \
	"-w randread -o 4k --busy-poll --queues 2 --threads 2"; do
	"$nvring" perf "${conn[@]}" $args -t 1 --verify --json >"$tmp/p.json" 2>"$tmp/err"
	rc=$?
	((rc == 0)) && python3 -c "import json; d=json.load(open('$tmp/p.json')); assert d['ios']>0 and d['errors']==0 and d['verify_failures']==0" &&
		tap OK "perf $args --verify" || tap FAIL "perf $args --verify" "rc $rc $(head -c 200 "$tmp/err")"
done

# KV namespace
kport=$(free_port)
kq=nqn.2026-01.io.nvring:vs-nvringd-kv
if ! start_target kv "$kport" --ns kv:mem --nqn "$kq"; then
	tap SKIP "KV commands" "nvringd has no kv namespace: $(head -c 120 "$tmp/kv.log")"
else
	i=0
	"$here/kv-suite.sh" 127.0.0.1 "$kport" "$kq" "$nvring" 1 | tee "$tmp/kv.tap" | grep -v '^1\.\.' |
		while IFS= read -r line; do
			[[ $line =~ ^(not\ )?ok\ [0-9]+\ (.*)$ ]] && echo "${BASH_REMATCH[1]}ok $((n + ++i)) ${BASH_REMATCH[2]}" || echo "$line"
		done
	n=$((n + $(grep -c '^\(not \)\?ok ' "$tmp/kv.tap")))
	failed=$((failed + $(grep -c '^not ok ' "$tmp/kv.tap")))
fi
echo "1..$n"
((failed == 0))
