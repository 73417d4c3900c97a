#!/bin/bash
# linux-host-rpc.sh [-b DIR] [-t SECS]
#
# The control plane against the Linux NVMe/TCP host (Debian 6.1 in QEMU), one boot. nvringd
# runs here with one subsystem (nsid 1, mem:256M, the guest's host NQN allowed) and its
# JSON-RPC socket; the guest (guest/linux-host-rpc.sh) connects, keeps fio verify running on
# nsid 1 and asks this script (host_sync) to change the target with `nvring rpc` while it
# watches what the kernel makes of it:
#   ns_add       -> the new /dev/nvmeXn2 appears without a reconnect (AEN, changed-NS log)
#   ns_resize    -> blockdev --getsize64 of it changes
#   ns_remove    -> the device goes; fio on nsid 1 goes on
#   subsystem_create -> a persistent discovery controller (nvme discover -p) gets the
#                   Discovery Log Change event (uevent NVME_AEN) and its log lists it
#   host_remove  -> the host's controller is torn down (and cannot come back)
# nvringd: $NVRINGD, else DIR/../src/nvringd/nvringd; nvring: $NVRING, else DIR/../tools/nvring.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# --- the host hook: boot.sh runs "linux-host-rpc.sh --hook NAME TMP" for every host_sync ---
if [[ ${1:-} == --hook ]]; then
	name=$2 tmp=$3
	. "$tmp/env"
	rpc() {   # rpc METHOD PARAMS: the call and its answer as comments; its exit status
		local out rc
		out=$("$nvring" rpc --socket "$sock" "$1" "${2:-{\}}" 2>&1); rc=$?
		printf '# rpc %s %s -> %s\n' "$1" "${2:-}" "$(echo "$out" | tr -d '\n ' | head -c 300)"
		return $rc
	}
	# answer_has PYTHON-EXPR: the last answer (in $tmp/answer) satisfies it
	rpc_json() { "$nvring" rpc --socket "$sock" "$1" "${2:-{\}}" >"$tmp/answer" 2>&1; }
	check_json() { python3 -c "import json,sys; d=json.load(open('$tmp/answer')); sys.exit(0 if ($1) else 1)"; }
	case $name in
	ns_add) rpc ns_add "{\"nqn\":\"$nqn\",\"spec\":\"mem:64M\"}" ;;
	ns_resize) rpc ns_resize "{\"nqn\":\"$nqn\",\"nsid\":2,\"size\":\"96M\"}" ;;
	ns_remove) rpc ns_remove "{\"nqn\":\"$nqn\",\"nsid\":2}" ;;
	subsystem_create)
		rpc subsystem_create "{\"nqn\":\"$new_nqn\",\"allow_any_host\":true}" &&
			rpc ns_add "{\"nqn\":\"$new_nqn\",\"spec\":\"mem:16M\"}" ;;
	controllers)   # the guest's host is connected: its controller, host NQN and queues
		rpc_json controllers "{\"nqn\":\"$nqn\"}" &&
			check_json "len(d) == 1 and d[0]['hostnqn'] == '$hostnqn' and len(d[0]['queues']) >= 2" ;;
	stats)         # fio's writes are counted on nsid 1
		rpc_json stats "{\"nqn\":\"$nqn\",\"nsid\":1}" &&
			check_json "d['namespaces'][0]['write']['commands'] > 0 and d['namespaces'][0]['errors'] == 0" ;;
	host_remove) rpc host_remove "{\"nqn\":\"$nqn\",\"host\":\"$hostnqn\"}" ;;
	no_controllers)
		rpc_json controllers "{\"nqn\":\"$nqn\"}" && check_json "len(d) == 0" ;;
	*) echo "# unknown hook $name"; exit 127 ;;
	esac
	exit
fi

. "$here/lib/tap.sh"
. "$here/lib/nvringd.sh"
dir=${INTEROP_DIR:-build/interop} limit=600
nqn=nqn.2024-01.io.nvring:rpc new_nqn=nqn.2024-01.io.nvring:rpc-new
hostid=5f0c1e6a-0000-4000-8000-00000000a0a0
hostnqn=nqn.2014-08.org.nvmexpress:uuid:$hostid
while getopts "b:t:" o; do
	case $o in
	b) dir=$OPTARG ;; t) limit=$OPTARG ;;
	*) echo "usage: see the head of $0" >&2; exit 2 ;;
	esac
done
build=$(cd "$(dirname "$dir")" 2>/dev/null && pwd)
bin=${NVRINGD:-$build/src/nvringd/nvringd}
nvring=${NVRING:-$build/tools/nvring}

tmp=$(mktemp -d)
cleanup() {
	nvringd_kill
	rm -rf "$tmp"
}
trap cleanup EXIT
for f in "$bin" "$nvring"; do
	if [[ ! -x $f ]]; then
		tap_not_ok "built: $f"
		tap_plan; exit 1
	fi
done

sock=$tmp/rpc.sock
port=$(free_port)
nvringd_start "nvringd with its RPC socket listens on 127.0.0.1:$port" "$tmp/nvringd.log" "$port" -- \
	"$bin" -v -l "127.0.0.1:$port" --nqn "$nqn" --ns mem:256M --allow-host "$hostnqn" -t 2 \
	--rpc-socket "$sock" ${NVRINGD_ARGS:-} || { tap_plan; exit 1; }
printf 'nvring=%q\nsock=%q\nnqn=%q\nnew_nqn=%q\nhostnqn=%q\n' "$nvring" "$sock" "$nqn" "$new_nqn" "$hostnqn" >"$tmp/env"

hook="exec bash $(printf %q "$here/linux-host-rpc.sh") --hook \"\$1\" $(printf %q "$tmp")"
tap_relay < <("$here/boot.sh" -b "$dir" -t "$limit" -T 60 -e TGT_ADDR=10.0.2.2 -e TGT_PORT="$port" \
	-e TGT_NQN="$nqn" -e NEW_NQN="$new_nqn" -e TGT_HOSTNQN="$hostnqn" -e TGT_HOSTID="$hostid" \
	-H "$hook" "$here/guest/linux-host-rpc.sh"; echo "#@RC $?")

tap_check "nvringd still running after the guest left" kill -0 "$NVRINGD_PID"
tap_check "the running configuration has the new subsystem, not the removed host" python3 -c "
import json, subprocess, sys
c = json.loads(subprocess.run(['$nvring', 'rpc', '--socket', '$sock', 'config_get'], capture_output=True, text=True).stdout)
subs = [s['nqn'] for s in c['subsystems']]
sys.exit(0 if '$new_nqn' in subs and not any('$hostnqn' in s['allowed_hosts'] for s in c['subsystems']) else 1)"
if [[ $TAP_FAILED != 0 ]]; then
	tap_diag "last nvringd log lines:"
	nvringd_log_tail 40
fi
tap_plan
