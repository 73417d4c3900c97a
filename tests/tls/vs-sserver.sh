#!/bin/bash
# vs-sserver.sh FAKE_TARGETD NVRING TLS_HOSTCHECK TLS_MKSESS — libnvring and the nvring CLI over
# TLS against OpenSSL's s_server (sserver_front.py: one s_server per queue in front of the fake
# target), with the TLS PSK s_server gets computed by nvme_psk.py (Python hmac/hashlib), not by
# src/tls. TAP. Needs openssl and python3.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../interop/lib/tap.sh"
fake=$1 nvring=$2 check=$3 mksess=$4
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

command -v openssl >/dev/null || { echo "1..0 # SKIP no openssl"; exit 0; }
K1='NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:'
K2='NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:'
H=nqn.2014-08.org.nvmexpress:uuid:7d4b6f0e-2c1a-4b7e-9f3d-5a6b7c8d9e0f
N=nqn.2026-01.io.nvring:fake

coproc FAKE { exec "$fake"; }
pids+=("$FAKE_PID")
read -r fport <&"${FAKE[0]}" || { echo "1..1"; echo "not ok 1 - fake target started"; exit 1; }

# front KEY VERSION VARIANT: s_server with the oracle's identity and TLS PSK; sets sport
front() {
	local d
	d=$(python3 "$here/nvme_psk.py" "$1" "$H" "$N" --version "$2" --variant "$3") || return 1
	local id psk suite sess=()
	id=$(sed -n 1p <<<"$d") psk=$(sed -n 2p <<<"$d") suite=$(sed -n 3p <<<"$d")
	if [[ $suite == TLS_AES_256_GCM_SHA384 ]]; then
		# s_server's -psk always pairs the key with SHA-256: a 48-byte one travels in a session
		"$mksess" "$psk" >"$tmp/sess.pem" || return 1
		sess=(--session "$tmp/sess.pem")
	fi
	exec {FRONT_IN}> >(exec python3 "$here/sserver_front.py" --target-port "$fport" --psk "$psk" \
		--identity "$id" --suite "$suite" "${sess[@]}" --log "$tmp/sserver.log" >"$tmp/port")
	pids+=("$!")
	for _ in $(seq 200); do [[ -s $tmp/port ]] && break; sleep 0.05; done
	sport=$(cat "$tmp/port")
	[[ -n $sport ]]
}
front_stop() { exec {FRONT_IN}>&-; : >"$tmp/port"; }

# tap_relay in this shell (not a pipeline's subshell): it counts for the plan
hostcheck() { tap_relay < <("$check" -a 127.0.0.1 -s "$sport" -n "$N" -q "$H" "$@"; echo "#@RC $?"); }

for c in "$K1 0 rfc" "$K1 1 rfc" "$K2 0 rfc" "$K2 1 rfc" "$K1 1 compat" "$K2 0 legacy"; do
	set -- $c
	if ! front "$1" "$2" "$3"; then tap_not_ok "s_server front ($c)"; continue; fi
	tap_diag "s_server: hash ${1:13:2}, identity v$2, $3 derivation"
	hostcheck --psk "$1" --psk-identity-version "$2" --psk-variant "$3" --tls-mode user --mode user
	front_stop
done

front "$K1" 0 rfc
printf '%s\n' "$K1" >"$tmp/key"
out=$("$nvring" id-ctrl -a 127.0.0.1 --trsvcid "$sport" --nqn "$N" -q "$H" --tls --psk-file "$tmp/key" 2>&1)
grep -q "nvring fake target" <<<"$out" && tap_ok "nvring id-ctrl --tls --psk-file through s_server" ||
	tap_not_ok "nvring id-ctrl --tls --psk-file" "$out"
"$nvring" kv store -a 127.0.0.1 --trsvcid "$sport" --nqn "$N" -q "$H" --namespace-id 2 --tls --psk "$K1" \
	--key tls --value over-s_server >/dev/null 2>&1 &&
	[[ $("$nvring" kv retrieve -a 127.0.0.1 --trsvcid "$sport" --nqn "$N" -q "$H" --namespace-id 2 --tls \
		--psk "$K1" --key tls 2>/dev/null) == over-s_server ]] &&
	tap_ok "nvring kv store + retrieve over TLS (admin + I/O queue through s_server)" || tap_not_ok "nvring kv over TLS"

# refusals, each with the errno the library promises and the CLI's words
K3=$("$nvring" gen-tls-key)
hostcheck --psk "$K3" --expect EKEYREJECTED
out=$("$nvring" id-ctrl -a 127.0.0.1 --trsvcid "$sport" --nqn "$N" -q "$H" --tls --psk "$K3" 2>&1); rc=$?
((rc == 3)) && grep -q "Key was rejected by service: the target's PSK differs" <<<"$out" &&
	tap_ok "wrong PSK: exit 3, \"Key was rejected by service\" and why" || tap_not_ok "wrong PSK message" "$rc $out"
tap_relay < <("$check" -a 127.0.0.1 -s "$sport" -n "$N" -q "${H%f}e" --psk "$K1" --expect ENOKEY; echo "#@RC $?")
out=$("$nvring" id-ctrl -a 127.0.0.1 --trsvcid "$sport" --nqn "$N" -q "${H%f}e" --tls --psk "$K1" 2>&1)
grep -q "Required key not available: the target has no PSK for our identity" <<<"$out" &&
	tap_ok "wrong identity (other host NQN): \"Required key not available\"" || tap_not_ok "wrong identity message" "$out"
front_stop

# TLS to the plaintext-only fake target: it closes on a ClientHello
sport=$fport
start=$(date +%s%N)
hostcheck --psk "$K1" --expect ECONNRESET
(( ($(date +%s%N) - start) / 1000000 < 4000 )) && tap_ok "refused at once, not by the timeout" ||
	tap_not_ok "TLS to plaintext took too long"
tap_plan
