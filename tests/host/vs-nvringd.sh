#!/bin/bash
# vs-nvringd.sh [NVRINGD] [NVRING] — every nvring CLI command and short verified perf runs against
# nvringd on 127.0.0.1 (dynamic port), then KV commands against a kv namespace when the build has one.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
nvringd=${1:-${NVRINGD:-build/src/target/nvringd}}
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
	"$nvringd" -l "127.0.0.1:$port" -t 2 "$@" >"$tmp/$name.log" 2>&1 &
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
	k=(-a 127.0.0.1 --trsvcid "$kport" --nqn "$kq")
	"$nvring" kv store "${k[@]}" --key hello --value world >/dev/null 2>&1 && tap OK "kv store" || tap FAIL "kv store"
	out=$("$nvring" kv retrieve "${k[@]}" --key hello 2>"$tmp/err")
	[[ $out == world ]] && grep -q "value size 5" "$tmp/err" && tap OK "kv retrieve: value and full size" ||
		tap FAIL "kv retrieve" "$out $(cat "$tmp/err")"
	"$nvring" kv retrieve "${k[@]}" --key hello --buffer-size 2 -o json >"$tmp/kv.json" 2>/dev/null &&
		python3 -c "import json; d=json.load(open('$tmp/kv.json')); assert d['value_size']==5 and d['bytes_returned']==2, d" &&
		tap OK "kv retrieve into a short buffer reports the full size (CQE DW0)" || tap FAIL "kv retrieve short buffer"
	"$nvring" kv store "${k[@]}" --key hello --value x --must-not-exist 2>"$tmp/err" >/dev/null
	rc=$?
	((rc == 1)) && grep -q "KV Key Exists (0x89)" "$tmp/err" && tap OK "kv store --must-not-exist: KV Key Exists (0x89)" ||
		tap FAIL "kv store --must-not-exist" "rc $rc $(cat "$tmp/err")"
	"$nvring" kv store "${k[@]}" --key nope --value x --must-exist 2>"$tmp/err" >/dev/null
	rc=$?
	((rc == 1)) && grep -q "KV Key Does Not Exist (0x87)" "$tmp/err" && tap OK "kv store --must-exist: KV Key Does Not Exist (0x87)" ||
		tap FAIL "kv store --must-exist" "rc $rc $(cat "$tmp/err")"
	"$nvring" kv exist "${k[@]}" --key hello >/dev/null 2>&1 && tap OK "kv exist (present)" || tap FAIL "kv exist (present)"
	head -c 70000 /dev/urandom >"$tmp/v"
	"$nvring" kv store "${k[@]}" --key-hex 0x00ff10 --value-file "$tmp/v" >/dev/null 2>&1 &&
		"$nvring" kv retrieve "${k[@]}" --key-hex 00ff10 --data "$tmp/v2" >/dev/null 2>&1 && cmp -s "$tmp/v" "$tmp/v2" &&
		tap OK "kv 70000-byte value from file, binary key, back to file" || tap FAIL "kv value from file"
	"$nvring" kv list "${k[@]}" -o json >"$tmp/l.json" 2>/dev/null &&
		python3 -c "import json; d=json.load(open('$tmp/l.json')); assert 'hello' in d['keys'] and '0x00ff10' in d['keys'], d" &&
		tap OK "kv list shows both keys" || tap FAIL "kv list" "$(head -c 200 "$tmp/l.json")"
	"$nvring" kv delete "${k[@]}" --key hello >/dev/null 2>&1 && tap OK "kv delete" || tap FAIL "kv delete"
	"$nvring" kv exist "${k[@]}" --key hello 2>"$tmp/err" >/dev/null
	rc=$?
	((rc == 1)) && grep -q "KV Key Does Not Exist (0x87)" "$tmp/err" && tap OK "kv exist after delete: 0x87, exit 1" ||
		tap FAIL "kv exist after delete" "rc $rc $(cat "$tmp/err")"
	"$nvring" perf "${k[@]}" --kv --keys 2000 --value-size 1024 -w randrw -q 16 -t 1 --verify --json >"$tmp/p.json" 2>"$tmp/err"
	rc=$?
	((rc == 0)) && python3 -c "import json; d=json.load(open('$tmp/p.json')); assert d['ios']>0 and d['errors']==0 and d['verify_failures']==0, d" &&
		tap OK "perf --kv randrw --verify" || tap FAIL "perf --kv" "rc $rc $(head -c 300 "$tmp/err")"
fi
echo "1..$n"
((failed == 0))
