#!/bin/bash
# vs-testsrv.sh TLS_TESTSRV NVRING TLS_HOSTCHECK TLS_MKSESS — the TLS target side of src/tls
# (tls_testsrv: server sessions before the fake target) against OpenSSL's s_client carrying a
# scripted NVMe/TCP exchange (nvme_tcp_script.py), then libnvring against it: every hash,
# identity version and derivation, KeyUpdate both ways during I/O, and the clean refusals (plaintext host, wrong key, unknown
# host, a peer dying mid-handshake or mid-record, a silent peer, kTLS demanded without a
# kernel tls module). TAP.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../interop/lib/tap.sh"
srv=$1 nvring=$2 check=$3 mksess=$4
tmp=$(mktemp -d)
# the servers end when their stdin closes, at the latest when this script exits
trap 'rm -rf "$tmp"' EXIT
command -v openssl >/dev/null || { echo "1..0 # SKIP no openssl"; exit 0; }
K1='NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:'
K2='NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:'
H=nqn.2014-08.org.nvmexpress:uuid:3f1e2d3c-4b5a-4697-8877-665544332211
N=nqn.2026-01.io.nvring:fake

# start ARGS...: a tls_testsrv; sets port, its stdin fd in SRV_IN, its log in $tmp/srv.log
start() {
	: >"$tmp/srv.log"
	exec {SRV_IN}> >(exec "$srv" "$@" >"$tmp/port" 2>>"$tmp/srv.log")
	for _ in $(seq 200); do [[ -s $tmp/port ]] && break; sleep 0.05; done
	port=$(cat "$tmp/port")
	: >"$tmp/port"
	[[ -n $port ]]
}
stop() { exec {SRV_IN}>&-; }
hostcheck() { tap_relay < <("$check" -a 127.0.0.1 -s "$port" -n "$N" -q "$H" "$@"; echo "#@RC $?"); }
# logged PATTERN: the server's log has it, waiting up to 10 s: the server may write its line
# just after the peer saw the outcome (an alert goes out before the refusal is logged)
logged() {
	for _ in $(seq 200); do
		grep -q -- "$1" "$tmp/srv.log" && return 0
		sleep 0.05
	done
	return 1
}

# --- s_client (OpenSSL's TLS) carrying NVMe/TCP against our server sessions
for c in "$K1 0" "$K1 1" "$K2 1"; do
	set -- $c
	start --psk "$1" --hostnqn "$H" || { tap_not_ok "tls_testsrv started"; continue; }
	d=$(python3 "$here/nvme_psk.py" "$1" "$H" "$N" --version "$2")
	id=$(sed -n 1p <<<"$d") psk=$(sed -n 2p <<<"$d") suite=$(sed -n 3p <<<"$d")
	sess=()
	if [[ $suite == TLS_AES_256_GCM_SHA384 ]]; then
		"$mksess" "$psk" >"$tmp/sess.pem"
		sess=(--session "$tmp/sess.pem")
	fi
	tap_diag "s_client: $suite, identity v$2"
	tap_relay < <(timeout 60 python3 "$here/nvme_tcp_script.py" 127.0.0.1 "$port" --psk "$psk" --identity "$id" \
		--hostnqn "$H" --subnqn "$N" --suite "$suite" "${sess[@]}"; echo "#@RC $?")
	logged "accepted NVMe${2}R0${1:14:1} $H $N" && tap_ok "server accepted the identity ($suite, v$2)" ||
		tap_not_ok "server log" "$(cat "$tmp/srv.log")"
	stop
done
start --psk "$K1" --hostnqn "$H"
d=$(python3 "$here/nvme_psk.py" "$K1" "$H" "$N")
tap_relay < <(timeout 60 python3 "$here/nvme_tcp_script.py" 127.0.0.1 "$port" --psk "${psk//?/0}" \
	--identity "$(sed -n 1p <<<"$d")" --hostnqn "$H" --subnqn "$N" >/dev/null; echo "#@RC 0"; echo "ok 1 - s_client with a wrong PSK ran"; echo "1..1")
logged "refused: .*Key was rejected by service" && tap_ok "s_client with a wrong PSK: server refused, -EKEYREJECTED" ||
	tap_not_ok "server refusal of a wrong PSK" "$(cat "$tmp/srv.log")"
stop

# --- libnvring against our server sessions
kernel_tls=$(python3 -c 'import socket
s = socket.socket(); l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1); s.connect(l.getsockname())
try:
    s.setsockopt(socket.SOL_TCP, 31, b"tls"); print("yes")
except OSError:
    print("no")')
for c in "$K1 0 rfc rfc" "$K1 1 rfc rfc" "$K2 0 rfc rfc" "$K2 1 rfc rfc" "$K1 1 compat rfc" "$K2 0 compat compat" \
	"$K1 0 legacy legacy"; do
	set -- $c
	start --psk "$1" --hostnqn "$H" --nqn "$N" --psk-variant "$4"
	tap_diag "host: hash ${1:13:2}, identity v$2, $3 derivation; server's v0 derivation $4"
	hostcheck --psk "$1" --psk-identity-version "$2" --psk-variant "$3" --tls-mode user --mode user
	v=$3; [[ $2 == 0 ]] && v=$4
	logged "variant $v mode userspace" && tap_ok "server derived with $v" || tap_not_ok "server variant" "$(cat "$tmp/srv.log")"
	stop
done
start --psk "$K1" --hostnqn "$H" --nqn "$N"
if [[ $kernel_tls == no ]]; then
	hostcheck --psk "$K1" --tls-mode auto --mode user
	hostcheck --psk "$K1" --tls-mode kernel --expect ENOENT
	out=$("$nvring" id-ctrl -a 127.0.0.1 --trsvcid "$port" --nqn "$N" -q "$H" --tls-mode kernel --psk "$K1" 2>&1)
	grep -q "no kernel TLS here" <<<"$out" && tap_ok "--tls-mode kernel without a tls module: says so" ||
		tap_not_ok "--tls-mode kernel message" "$out"
else
	hostcheck --psk "$K1" --tls-mode auto --mode kernel
fi
hostcheck --psk "$K1" --psk-identity "NVMe0R01 $H $N" --mode user --tls-mode user
hostcheck --psk "$K2" --expect ENOKEY
hostcheck --psk "$("$nvring" gen-tls-key)" --expect EKEYREJECTED
tap_relay < <("$check" -a 127.0.0.1 -s "$port" -n "$N" -q "${H%1}2" --psk "$K1" --expect ENOKEY; echo "#@RC $?")
logged "refused: no PSK for the identity the client offered (NVMe0R01 ${H%1}2" &&
	tap_ok "server names the unknown identity" || tap_not_ok "server log of the unknown identity" "$(cat "$tmp/srv.log")"
hostcheck --tls-mode off --expect EPROTONOSUPPORT
out=$("$nvring" id-ctrl -a 127.0.0.1 --trsvcid "$port" --nqn "$N" -q "$H" 2>&1); rc=$?
((rc == 3)) && grep -q "Protocol not supported: the target answered with TLS (use --tls with --psk)" <<<"$out" &&
	tap_ok "plaintext nvring to a TLS-only target: exit 3 and a hint" || tap_not_ok "plaintext CLI message" "$rc $out"
out=$("$nvring" id-ctrl -a 127.0.0.1 --trsvcid "$port" --nqn "$N" -q "$H" --tls --psk "${K1/VRL/VRM}" 2>&1); rc=$?
((rc == 3)) && grep -q "bad PSK: CRC-32 mismatch" <<<"$out" && tap_ok "a mistyped key is refused before connecting" ||
	tap_not_ok "bad key message" "$rc $out"
stop

# KeyUpdate in both directions while data moves: the server asks every 8th write
start --psk "$K1" --key-update 8
tap_diag "server sends KeyUpdate (update_requested) before every 8th write"
hostcheck --psk "$K1" --tls-mode user --mode user
stop
# before every write: the host's answer is written while its own sends are in flight, so a send
# often carries nothing but that answer (before the fix in hq_stream_sent: ECONNRESET, 8 in 8)
start --psk "$K1" --key-update 1
tap_diag "server sends KeyUpdate (update_requested) before every write"
hostcheck --psk "$K1" --tls-mode user --mode user
stop

start --psk "$K1" --fault hello-close
hostcheck --psk "$K1" --expect ECONNRESET
stop
start --psk "$K1" --fault mid-record
hostcheck --psk "$K1" --tls-mode user --expect ECONNRESET
stop
# a peer that accepts and never answers: the handshake deadline (the connect timeout)
exec {SILENT}> >(exec python3 -c 'import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4); print(l.getsockname()[1], flush=True)
c = l.accept(); sys.stdin.read()' >"$tmp/port")
for _ in $(seq 200); do [[ -s $tmp/port ]] && break; sleep 0.05; done
port=$(cat "$tmp/port")
start_ns=$(date +%s%N)
hostcheck --psk "$K1" --timeout 1000 --expect ETIMEDOUT
ms=$((($(date +%s%N) - start_ns) / 1000000))
((ms >= 900 && ms < 8000)) && tap_ok "silent peer: -ETIMEDOUT after the 1 s deadline ($ms ms)" || tap_not_ok "deadline: $ms ms"
exec {SILENT}>&-
tap_plan
