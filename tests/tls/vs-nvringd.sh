#!/bin/bash
# vs-nvringd.sh NVRINGD NVRING TLS_HOSTCHECK TLS_MKSESS — nvringd's own TLS (TP 8011) against independent
# and own peers. Ports: plaintext only, TLS required, TLS optional; hosts: one with a SHA-256
# PSK (TLS_AES_128_GCM_SHA256), one with a SHA-384 PSK (TLS_AES_256_GCM_SHA384).
#  - OpenSSL's s_client carrying a scripted NVMe/TCP exchange (nvme_tcp_script.py: ICReq,
#    Connect, CC.EN, Identify, write + read back) against nvringd, both cipher suites;
#  - libnvring (tls_hostcheck: every I/O size, in-capsule and R2T, queue depth 32) and
#    nvring perf --verify, plain and with header+data digests;
#  - refusals: a wrong PSK, an unknown identity, another host's identity at Connect,
#    plaintext to the required port, TLS to the plaintext port, a peer that dies mid-handshake
#    and one that never speaks (dropped after --icreq-timeout): the daemon serves on.
# TAP.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../interop/lib/tap.sh"
nvringd=$1 nvring=$2 check=$3 mksess=$4
command -v openssl >/dev/null || { echo "1..0 # SKIP openssl (the CLI) not installed"; exit 0; }
tmp=$(mktemp -d)
p0=$(free_port) p1=$(free_port) p2=$(free_port)
N=nqn.2026-11.io.nvring:default
H1=nqn.2014-08.org.nvmexpress:uuid:7150c000-0000-4000-8000-000000000001
H2=nqn.2014-08.org.nvmexpress:uuid:7150c000-0000-4000-8000-000000000002
H3=nqn.2014-08.org.nvmexpress:uuid:7150c000-0000-4000-8000-000000000003
K1='NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:'
K2=$("$nvring" gen-tls-key --hmac 2 | tail -1)
K3=$("$nvring" gen-tls-key | tail -1)
"$nvringd" -l "127.0.0.1:$p0" -l "127.0.0.1:$p1,tls=required" -l "127.0.0.1:$p2,tls=optional" \
	--ns mem:32M --allow-host "$H1,psk=$K1" --allow-host "$H2,psk=$K2" --allow-host "$H3" \
	--icreq-timeout 1500 --rpc-socket none -t 2 -v >"$tmp/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q ready "$tmp/log" && break; sleep 0.1; done
grep -q ready "$tmp/log" && tap_ok "nvringd with plaintext, TLS-required and TLS-optional ports" ||
	{ tap_not_ok "nvringd starts" "$(tail -5 "$tmp/log")"; tap_plan; exit 1; }

# logged PATTERN: nvringd's log has it, waiting up to 10 s (it may log a refusal just after the
# peer saw it)
logged() {
	for _ in $(seq 200); do
		grep -q -- "$1" "$tmp/log" && return 0
		sleep 0.05
	done
	return 1
}
derived() { # derived HOSTNQN KEY VERSION: identity, TLS PSK, suite as an independent oracle derives them
	python3 "$here/nvme_psk.py" "$2" "$1" "$N" --version "$3"
}

# the independent peer: s_client + a scripted NVMe/TCP host; both cipher suites, identities v0 and
# v1 (TP 8018), the TLS PSKs derived by the Python oracle (nvme_psk.py), not by us
for c in "1 0" "1 1" "2 0" "2 1"; do
	set -- $c
	host=H$1 key=K$1
	d=$(derived "${!host}" "${!key}" "$2")
	id=$(sed -n 1p <<<"$d") psk=$(sed -n 2p <<<"$d") suite=$(sed -n 3p <<<"$d")
	sess=()
	if [[ $suite == TLS_AES_256_GCM_SHA384 ]]; then
		# s_client's -psk makes a SHA-256 session: a SHA-384 PSK needs a session file
		"$mksess" "$psk" >"$tmp/sess.pem"
		sess=(--session "$tmp/sess.pem")
	fi
	out=$(timeout 60 python3 "$here/nvme_tcp_script.py" 127.0.0.1 "$p1" --psk "$psk" --identity "$id" \
		--hostnqn "${!host}" --subnqn "$N" --suite "$suite" "${sess[@]}" 2>&1)
	grep -q "^not ok" <<<"$out" || ! grep -q "^ok" <<<"$out" &&
		tap_not_ok "s_client + NVMe/TCP script, $suite, identity v$2" "$out" ||
		tap_ok "s_client ($suite, identity v$2) carrying ICReq, Connect, Identify, write and read back: $(grep -c '^ok' <<<"$out") checks"
done
# another host's identity, then Connect as H2: Connect Invalid Host
d=$(derived "$H1" "$K1" 0)
id=$(sed -n 1p <<<"$d") psk=$(sed -n 2p <<<"$d")
out=$(timeout 60 python3 "$here/nvme_tcp_script.py" 127.0.0.1 "$p1" --psk "$psk" --identity "$id" \
	--hostnqn "$H2" --subnqn "$N" 2>&1)
grep -q "^not ok" <<<"$out" && logged "another host's TLS identity" &&
	tap_ok "TLS as $H1, Connect as $H2: refused (Connect Invalid Host), logged" || tap_not_ok "identity mismatch" "$out"

# our own host: every size, queue depth, both keys; digests on top
for h in 1 2; do
	host=H$h key=K$h
	tap_relay < <("$check" -a 127.0.0.1 -s "$p1" -n "$N" -q "${!host}" --psk "${!key}" --timeout 5000; echo "#@RC $?")
done
for dg in "" "-g -G"; do
	for bs in 4k 128k; do
		# shellcheck disable=SC2086
		out=$("$nvring" perf -a 127.0.0.1 -s "$p1" --nqn "$N" --hostnqn "$H1" --tls --psk "$K1" $dg -w randrw \
			-t 1 -q 16 -o $bs --verify 2>&1)
		grep -q "verify: 0 failures" <<<"$out" && grep -q "errors 0" <<<"$out" &&
			tap_ok "nvring perf --tls ${dg:+(digests) }$bs randrw --verify: $(head -1 <<<"$out" | cut -d: -f2)" ||
			tap_not_ok "perf --tls $dg $bs" "$out"
	done
done

# the optional port: both
"$nvring" id-ctrl -a 127.0.0.1 -s "$p2" --nqn "$N" -q "$H1" --tls --psk "$K1" >/dev/null 2>&1 &&
	"$nvring" id-ctrl -a 127.0.0.1 -s "$p2" --nqn "$N" -q "$H3" >/dev/null 2>&1 &&
	tap_ok "TLS-optional port: a TLS host and a plaintext host" || tap_not_ok "optional port"

# refusals
out=$("$nvring" id-ctrl -a 127.0.0.1 -s "$p1" --nqn "$N" -q "$H1" --tls --psk "$K3" 2>&1); rc=$?
((rc != 0)) && tap_ok "a wrong PSK: refused ($(tail -1 <<<"$out"))" || tap_not_ok "wrong PSK" "$out"
out=$("$nvring" id-ctrl -a 127.0.0.1 -s "$p1" --nqn "$N" -q "$H3" --tls --psk "$K3" 2>&1); rc=$?
((rc != 0)) && logged "no PSK for host $H3" &&
	tap_ok "an identity without a PSK: refused, logged" || tap_not_ok "unknown identity" "$out"
out=$("$nvring" id-ctrl -a 127.0.0.1 -s "$p1" --nqn "$N" -q "$H3" 2>&1); rc=$?
((rc != 0)) && logged "plaintext NVMe/TCP on a port that requires TLS" &&
	tap_ok "plaintext to the TLS-required port: refused, logged" || tap_not_ok "plaintext to required" "$out"
tap_relay < <("$check" -a 127.0.0.1 -s "$p0" -n "$N" -q "$H1" --psk "$K1" --timeout 3000 --expect EPROTONOSUPPORT; echo "#@RC $?")
# a ClientHello cut short, then a peer that never speaks
python3 - "$p1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.send(bytes.fromhex("160301020001") + b"\x00" * 40)  # a ClientHello that never finishes
s.close()
EOF
exec 7<>"/dev/tcp/127.0.0.1/$p1"
for _ in $(seq 50); do grep -q "no ICReq" "$tmp/log" && break; sleep 0.1; done
grep -q "no ICReq" "$tmp/log" && tap_ok "a silent peer on the TLS port is dropped after --icreq-timeout" ||
	tap_not_ok "silent peer" "$(tail -3 "$tmp/log")"
exec 7>&-
"$nvring" id-ctrl -a 127.0.0.1 -s "$p1" --nqn "$N" -q "$H1" --tls --psk "$K1" >/dev/null 2>&1 &&
	tap_ok "after all of it the daemon serves TLS hosts" || tap_not_ok "serving after refusals"
kill "$pid"
wait "$pid"
(($? == 0)) && tap_ok "nvringd exits 0" || tap_not_ok "exit status"
trap 'rm -rf "$tmp"' EXIT
tap_plan
