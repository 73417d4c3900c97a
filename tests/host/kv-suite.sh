#!/bin/bash
# kv-suite.sh ADDR PORT NQN [NVRING] [NSID] — nvring kv commands and perf --kv against a target
# with a Key Value namespace NSID (default 1), as TAP.
set -uo pipefail
addr=$1 port=$2 nqn=$3
nvring=${4:-${NVRING:-build/tools/nvring}}
nsid=${5:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
k=(-a "$addr" --trsvcid "$port" --nqn "$nqn" --namespace-id "$nsid")
tap() {
	n=$((n + 1))
	if [[ $1 == OK ]]; then echo "ok $n - $2"; else echo "not ok $n - $2${3:+ ($3)}"; failed=$((failed + 1)); fi
}

"$nvring" kv store "${k[@]}" --key hello --value world >/dev/null 2>&1 && tap OK "kv store" || tap FAIL "kv store"
out=$("$nvring" kv retrieve "${k[@]}" --key hello 2>"$tmp/err")
[[ $out == world ]] && grep -q "value size 5" "$tmp/err" && tap OK "kv retrieve: value on stdout, full size on stderr" ||
	tap FAIL "kv retrieve" "$out $(cat "$tmp/err")"
"$nvring" kv retrieve "${k[@]}" --key hello --buffer-size 2 -o json >"$tmp/kv.json" 2>/dev/null &&
	python3 -c "import json; d=json.load(open('$tmp/kv.json')); assert d['value_size']==5 and d['bytes_returned']==2 and d['value']=='776f', d" &&
	tap OK "kv retrieve into a short buffer reports the full size (CQE DW0)" || tap FAIL "kv retrieve short buffer" "$(cat "$tmp/kv.json")"
"$nvring" kv store "${k[@]}" --key hello --value x --must-not-exist 2>"$tmp/err" >/dev/null
rc=$?
((rc == 1)) && grep -q "KV Key Exists (0x89)" "$tmp/err" && tap OK "kv store --must-not-exist: KV Key Exists (0x89), exit 1" ||
	tap FAIL "kv store --must-not-exist" "rc $rc $(cat "$tmp/err")"
"$nvring" kv store "${k[@]}" --key nope --value x --must-exist 2>"$tmp/err" >/dev/null
rc=$?
((rc == 1)) && grep -q "KV Key Does Not Exist (0x87)" "$tmp/err" && tap OK "kv store --must-exist: KV Key Does Not Exist (0x87)" ||
	tap FAIL "kv store --must-exist" "rc $rc $(cat "$tmp/err")"
"$nvring" kv store "${k[@]}" --key hello --value again --must-exist >/dev/null 2>&1 &&
	[[ $("$nvring" kv retrieve "${k[@]}" --key hello 2>/dev/null) == again ]] &&
	tap OK "kv store --must-exist overwrites" || tap FAIL "kv store --must-exist overwrites"
"$nvring" kv exist "${k[@]}" --key hello >/dev/null 2>&1 && tap OK "kv exist (present)" || tap FAIL "kv exist (present)"
head -c 70000 /dev/urandom >"$tmp/v"
"$nvring" kv store "${k[@]}" --key-hex 0x00ff10 --value-file "$tmp/v" >/dev/null 2>&1 &&
	"$nvring" kv retrieve "${k[@]}" --key-hex 00ff10 --data "$tmp/v2" >/dev/null 2>&1 && cmp -s "$tmp/v" "$tmp/v2" &&
	tap OK "kv 70000-byte value from file, binary key, back to a file" || tap FAIL "kv value from file"
head -c 3000 /dev/urandom >"$tmp/s"
"$nvring" kv store "${k[@]}" --key sixteen-bytes-ok <"$tmp/s" >/dev/null 2>&1 &&
	"$nvring" kv retrieve "${k[@]}" --key sixteen-bytes-ok 2>/dev/null | cmp -s - "$tmp/s" &&
	tap OK "kv 16-byte key, value from stdin" || tap FAIL "kv value from stdin"
"$nvring" kv store "${k[@]}" --key seventeen-bytes-x --value v >/dev/null 2>&1
(($? == 2)) && tap OK "kv 17-byte key refused as usage error" || tap FAIL "kv 17-byte key refused"
"$nvring" kv list "${k[@]}" -o json >"$tmp/l.json" 2>/dev/null &&
	python3 -c "import json; d=json.load(open('$tmp/l.json')); assert {'hello','0x00ff10','sixteen-bytes-ok'} <= set(d['keys']), d" &&
	tap OK "kv list shows the keys" || tap FAIL "kv list" "$(head -c 300 "$tmp/l.json")"
"$nvring" kv delete "${k[@]}" --key hello >/dev/null 2>&1 && tap OK "kv delete" || tap FAIL "kv delete"
"$nvring" kv exist "${k[@]}" --key hello 2>"$tmp/err" >/dev/null
rc=$?
((rc == 1)) && grep -q "KV Key Does Not Exist (0x87)" "$tmp/err" && tap OK "kv exist after delete: 0x87, exit 1" ||
	tap FAIL "kv exist after delete" "rc $rc $(cat "$tmp/err")"
"$nvring" kv retrieve "${k[@]}" --key hello -o json >"$tmp/e.json" 2>/dev/null
rc=$?
((rc == 1)) && python3 -c "import json; d=json.load(open('$tmp/e.json')); assert d['sc']==0x87 and d['status_name']=='KV Key Does Not Exist', d" &&
	tap OK "kv retrieve of a deleted key: JSON status" || tap FAIL "kv retrieve JSON status" "rc $rc"
"$nvring" perf -a "$addr" --trsvcid "$port" --nqn "$nqn" --ns "$nsid" --kv --keys 40 --value-size 1024 -w randrw -q 8 -t 1 \
	--verify --json >"$tmp/p.json" 2>"$tmp/err"
rc=$?
((rc == 0)) && python3 -c "import json; d=json.load(open('$tmp/p.json')); assert d['ios']>0 and d['writes']>0 and d['errors']==0 and d['verify_failures']==0, d" &&
	tap OK "perf --kv randrw --verify" || tap FAIL "perf --kv" "rc $rc $(head -c 300 "$tmp/err") $(head -c 300 "$tmp/p.json")"
echo "1..$n"
((failed == 0))
