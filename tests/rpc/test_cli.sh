#!/bin/bash
# test_cli.sh RPC_TESTD NVRING — `nvring rpc` against rpc_testd: output, messages, exit codes.
set -uo pipefail
testd=$1 nvring=$2
dir=$(mktemp -d /tmp/nvring-rpc-cli-XXXXXX)
sock=$dir/nvringd.sock
n=0 failed=0

ok() {   # ok COND-EXIT-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

# run ARGS...: sets out, err, rc
run() {
	out=$("$nvring" rpc "$@" 2>"$dir/err"); rc=$?
	err=$(cat "$dir/err")
}

# expect RC STDOUT STDERR DESCRIPTION (after run)
expect() {
	local good=0
	[ "$rc" = "$1" ] && [ "$out" = "$2" ] && [ "$err" = "$3" ] || good=1
	ok $good "$4"
	if [ $good != 0 ]; then
		echo "#   rc $rc, want $1"; echo "#   stdout: $out"; echo "#   want:   $2"
		echo "#   stderr: $err"; echo "#   want:   $3"
	fi
}

coproc TESTD { exec "$testd" --socket "$sock" --request-timeout-ms 2000; }
pid=$TESTD_PID
read -r line <&"${TESTD[0]}"
if [ "$line" != ready ]; then echo "1..1"; echo "not ok 1 - rpc_testd started"; exit 1; fi

run --socket "$sock" add '{"a":2,"b":40}'
expect 0 "42" "" "a result is printed as JSON, exit 0"

run -s "$sock" typed '{"name":"n","size":"1M","list":["a"]}'
expect 0 '{
  "name":"n",
  "count":1,
  "flag":false,
  "size":1048576,
  "depth":0,
  "list":[
    "a"
  ]
}' "" "an object result, pretty-printed"

run --socket "$sock" echo '{"path":"/a/b"}'
expect 0 '{
  "path":"/a/b"
}' "" "slashes are not escaped"

run --socket "$sock" wait
expect 1 "" "nvring rpc: params.ms: required (code -32602)" "a missing param: its message, exit 1"

run --socket "$sock" add '{"a":1,"b":"x"}'
expect 1 "" "nvring rpc: params.b: expected an integer (code -32602)" "a wrong type: exit 1"

run --socket "$sock" ns_ad
expect 1 "" "nvring rpc: unknown method 'ns_ad' (code -32601)" "an unknown method: exit 1"

run --socket "$sock" fail '{"nqn":"nqn.2026-11.io.nvring:a"}'
expect 1 "" "nvring rpc: subsystem 'nqn.2026-11.io.nvring:a' not found (code 1001)" "an application error: exit 1"

echo '{"a":5,"b":6}' > "$dir/params.json"
out=$("$nvring" rpc --socket "$sock" add - < "$dir/params.json" 2>"$dir/err"); rc=$?; err=$(cat "$dir/err")
expect 0 "11" "" "params from stdin with -"

run --socket "$sock" --list
want_list=$(cat <<'EOF'
echo                     return the params
                           params: anything
add                      add two integers
                           params: a: integer, b: integer
fail                     fail with an application error
                           params: code?: 1000..1999, nqn?: string
errno                    fail as an errno would
                           params: errno: 1..133
typed                    read one param of each kind
                           params: name: string, count?: 1..100, flag?: bool, size?: size, opts?: {depth?: -5..5}, list?: [string]
big                      return a string of the given length
                           params: bytes: size (at most 16M)
wait                     take ms milliseconds to answer
                           params: ms: 0..10000
rpc_get_methods          list the methods with their params
EOF
)
expect 0 "$want_list" "" "--list: the methods, their help and params"

run --socket "$sock" rpc_get_methods
[ "$rc" = 0 ] && printf '%s' "$out" | grep -q '"name":"rpc_get_methods"'
ok $? "rpc_get_methods as a method: JSON"

run --socket "$sock" --timeout 200 wait '{"ms":1500}'
expect 1 "" "nvring rpc: no answer from $sock within 200 ms" "no answer within --timeout: exit 1"

run --socket "$sock" add '{"a":1'
expect 2 "" "nvring rpc: PARAMS-JSON must be a JSON object: unexpected end of data" "bad PARAMS-JSON: exit 2"

run --socket "$sock" add '[1,2]'
expect 2 "" "nvring rpc: PARAMS-JSON must be a JSON object" "PARAMS-JSON an array: exit 2"

run --socket "$sock"
[ "$rc" = 2 ] && [[ "$err" == "nvring rpc: METHOD missing"* ]]
ok $? "no METHOD: exit 2"

run --socket "$sock" add '{}' extra
[ "$rc" = 2 ] && [[ "$err" == "nvring rpc: too many arguments"* ]]
ok $? "too many arguments: exit 2"

run --socket "$sock" --list add
[ "$rc" = 2 ] && [[ "$err" == "nvring rpc: --list takes no METHOD"* ]]
ok $? "--list with a METHOD: exit 2"

run --socket "$sock" --timeout 0 add
[ "$rc" = 2 ] && [[ "$err" == "nvring rpc: --timeout: '0' is not a number of milliseconds (1..86400000)" ]]
ok $? "--timeout 0: exit 2"

run --socket "$dir/nothere.sock" add '{"a":1,"b":1}'
expect 2 "" "nvring rpc: cannot connect to $dir/nothere.sock: No such file or directory (is nvringd running with this --rpc-socket?)" \
	"no socket at the path: exit 2, the path named"

python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$dir/stale.sock"
run --socket "$dir/stale.sock" add
expect 2 "" "nvring rpc: cannot connect to $dir/stale.sock: Connection refused (is nvringd running with this --rpc-socket?)" \
	"a socket nobody listens on: exit 2"

"$nvring" rpc --help >/dev/null 2>&1
ok $? "--help: exit 0"

exec {TESTD[1]}>&-   # EOF on its stdin: it stops
wait "$pid"
ok $? "rpc_testd stopped cleanly"
[ ! -e "$sock" ]
ok $? "its socket is gone"
rm -rf "$dir"
echo "1..$n"
[ $failed = 0 ]
