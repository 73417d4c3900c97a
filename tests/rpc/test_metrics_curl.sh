#!/bin/bash
# test_metrics_curl.sh RPC_TESTD NVRING — rpc_testd --metrics scraped by curl and parsed by the
# Prometheus project's own Python parser (python3-prometheus-client): an independent reader of
# the exposition format. Skips when curl or the parser is missing.
set -uo pipefail
testd=$1 nvring=$2
py=/usr/bin/python3   # Debian's: the parser is a Debian package
if ! command -v curl >/dev/null || ! "$py" -c 'import prometheus_client.parser' 2>/dev/null; then
	echo "1..0 # SKIP needs curl and python3-prometheus-client"
	exit 0
fi
dir=$(mktemp -d /tmp/nvring-rpc-metrics-XXXXXX)
sock=$dir/nvringd.sock
n=0 failed=0
ok() {
	n=$((n + 1))
	# unnumbered: the Python checks print their own lines in between
	if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; failed=$((failed + 1)); fi
}

coproc TESTD { exec "$testd" --socket "$sock" --metrics 127.0.0.1:0; }
pid=$TESTD_PID
read -r line <&"${TESTD[0]}"
port=${line#metrics }
read -r line <&"${TESTD[0]}"
if [ "$line" != ready ]; then echo "1..1"; echo "not ok 1 - rpc_testd started"; exit 1; fi

"$nvring" rpc --socket "$sock" add '{"a":1,"b":2}' >/dev/null
"$nvring" rpc --socket "$sock" add '{"a":1,"b":3}' >/dev/null
"$nvring" rpc --socket "$sock" fail >/dev/null 2>&1

curl -sS --max-time 10 -D "$dir/headers" -o "$dir/body" "http://127.0.0.1:$port/metrics"
ok $? "curl GET /metrics"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8'$'\r''$' "$dir/headers"
ok $? "Content-Type: text/plain; version=0.0.4"
head -1 "$dir/headers" | grep -q '^HTTP/1.1 200'
ok $? "status 200"

"$py" - "$dir/body" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families

fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read())}
def check(cond, what):
    print(("ok" if cond else "not ok") + " - " + what)
    return cond
calls = {s.labels["method"]: s.value for s in fams["rpc_testd_calls"].samples if s.name == "rpc_testd_calls_total"}
check(fams["rpc_testd_calls"].type == "counter", "prometheus_client: calls is a counter")
check(calls.get("add") == 2 and calls.get("fail") == 1 and calls.get("echo") == 0, "the calls made are counted: %r" % calls)
odd = fams["rpc_testd_odd_labels"]
check(odd.type == "gauge" and odd.documentation == "label values that need escapes: \\ and\nnewline", "HELP unescaped")
s = odd.samples[0]
check(s.labels == {"v": "quote\" backslash\\ newline\n \u00e9", "empty": ""} and s.value == 1.5, "label values unescaped: %r" % s.labels)
h = fams["rpc_testd_latency_seconds"]
buckets = [(x.labels["le"], x.value) for x in h.samples if x.name.endswith("_bucket")]
count = [x.value for x in h.samples if x.name.endswith("_count")]
check(h.type == "histogram" and buckets == [("0.001", 4), ("0.01", 7), ("0.1", 9), ("+Inf", 10)] and count == [10],
      "histogram: cumulative buckets, +Inf = count: %r" % buckets)
EOF
rc=$?
ok $rc "the Python parser read the whole text"

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/nope")
[ "$code" = 404 ]
ok $? "curl GET /nope: 404"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X DELETE "http://127.0.0.1:$port/metrics")
[ "$code" = 405 ]
ok $? "curl DELETE: 405"

exec {TESTD[1]}>&-
wait "$pid"
ok $? "rpc_testd stopped cleanly"
rm -rf "$dir"
echo "1..$((n + 5))"
[ $failed = 0 ] && [ $rc = 0 ]
