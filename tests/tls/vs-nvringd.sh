#!/bin/bash
# vs-nvringd.sh NVRINGD NVRING TLS_HOSTCHECK TLS_TESTSRV — nvringd and TLS until the daemon has
# its own: TLS asked of the plaintext daemon (its C2HTermReq where a ServerHello belongs:
# -EPROTONOSUPPORT and the CLI's words, promptly, and the daemon serves on); then nvring perf
# --tls --verify through tls_testsrv relaying to the daemon (4 KiB and 128 KiB, mixed
# read/write, every block checked). Once nvringd has TLS, tls_hostcheck and
# nvme_tcp_script.py run against it as they run against tls_testsrv. TAP.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../interop/lib/tap.sh"
nvringd=$1 nvring=$2 check=$3 testsrv=$4
tmp=$(mktemp -d)
port=$(free_port)
"$nvringd" -l "127.0.0.1:$port" -t 1 --ns mem:16M >"$tmp/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q ready "$tmp/log" && break; sleep 0.1; done
K='NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:'
N=nqn.2026-11.io.nvring:default
tap_relay < <("$check" -a 127.0.0.1 -s "$port" -n "$N" --psk "$K" --timeout 3000 --expect EPROTONOSUPPORT; echo "#@RC $?")
out=$("$nvring" id-ctrl -a 127.0.0.1 --trsvcid "$port" --nqn "$N" --tls --psk "$K" 2>&1); rc=$?
((rc == 3)) && grep -q "Protocol not supported: the target answered in plaintext" <<<"$out" &&
	tap_ok "nvring --tls to a plaintext nvringd: exit 3, \"answered in plaintext\"" || tap_not_ok "message" "$rc $out"
"$nvring" id-ctrl -a 127.0.0.1 --trsvcid "$port" --nqn "$N" >/dev/null 2>&1 &&
	tap_ok "the daemon still serves plaintext hosts" || tap_not_ok "plaintext after a ClientHello"

exec {TS}> >(exec "$testsrv" --psk "$K" --backend "$port" >"$tmp/ts.port" 2>"$tmp/ts.log")
for _ in $(seq 100); do [[ -s $tmp/ts.port ]] && break; sleep 0.05; done
tport=$(cat "$tmp/ts.port")
for bs in 4k 128k; do
	out=$("$nvring" perf -a 127.0.0.1 --trsvcid "$tport" --nqn "$N" --tls --psk "$K" -w randrw -t 1 -q 8 -o $bs \
		--verify 2>&1)
	grep -q "verify: 0 failures" <<<"$out" && grep -q "errors 0" <<<"$out" &&
		tap_ok "nvring perf --tls --verify, $bs randrw through TLS to nvringd: $(head -1 <<<"$out" | cut -d: -f2)" ||
		tap_not_ok "perf --tls $bs" "$out"
done
exec {TS}>&-
tap_plan
