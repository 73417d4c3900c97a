#!/bin/bash
# linux-host-ha.sh [-b DIR] [-t SECS]
#
# High availability against the Linux host (Debian 6.1 in QEMU, nvme_core multipath on), one
# guest boot in three phases (guest/linux-host-ha.sh), nvringd processes here:
#   1  one nvringd, two listeners of one subsystem (ANA group 1 optimized on P1, non-optimized
#      on P2): one /dev/nvmeXn1 with two paths; states flipped over the control socket
#      (nvring rpc ana_set_state) while fio randwrite+verify runs: zero errors, I/O follows;
#   2  two nvringd gateways on one shared file (same NQN, serial, NGUID; portids 1 and 2,
#      cntlid 1..99 and 100..199; gw-a optimized, gw-b non-optimized): fio verify runs, gw-a
#      is SIGKILLed (the stall is measured in the guest from fio's completion log), I/O goes
#      on through gw-b, gw-a restarts and its path comes back (failback), zero errors;
#   3  reservations with two hosts of the guest (two host NQNs/IDs): register, Write
#      Exclusive, the other host's write gets Reservation Conflict, report lists both, nvringd
#      SIGKILLed and restarted: with PTPL the reservation is still there; preempt with its
#      notification, release, clear.
# The host runs the guest's requests (host_sync) as hooks of this script: --hook NAME TMPDIR.
# nvringd: $NVRINGD, else DIR/../src/nvringd/nvringd; nvring: DIR/../tools/nvring.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/tap.sh"
. "$here/lib/nvringd.sh"

# ---- config files: one subsystem, one file namespace, listeners with their ANA groups ----
# cfg PORTS_JSON NQN IMG CNTLID_MIN CNTLID_MAX
cfg() {
	cat <<EOF
{ "ports": [ $1 ],
  "subsystems": [ { "nqn": "$2",
    "attr": { "allow_any_host": "1", "serial": "nvring-ha-0001", "model": "nvring-ha",
              "cntlid_min": "$4", "cntlid_max": "$5" },
    "namespaces": [ { "nsid": 1, "device": { "path": "$3" } } ] } ] }
EOF
}
# port PORTID PORT NQN STATE: a listener on 127.0.0.1 reporting group 1 as STATE
port() {
	printf '{ "portid": %s, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "%s" },
	  "subsystems": [ "%s" ], "ana_groups": [ { "grpid": 1, "ana": { "state": "%s" } } ] }' "$1" "$2" "$3" "$4"
}

# start NAME CFG LOG PORT...: an nvringd in the background (its pid in TMP/NAME.pid)
start() {
	local name=$1 conf=$2 log=$3 p
	shift 3
	setsid "$bin" -c "$conf" -t 2 -v --rpc-socket "$tmp/$name.sock" </dev/null >>"$log" 2>&1 &
	echo $! >"$tmp/$name.pid"
	for _ in $(seq 50); do
		local up=1
		kill -0 "$(cat "$tmp/$name.pid")" 2>/dev/null || return 1
		for p in "$@"; do listening "$p" || up=0; done
		((up)) && return 0
		sleep 0.2
	done
	return 1
}
stop() { # stop NAME SIGNAL
	local pid
	pid=$(cat "$tmp/$1.pid" 2>/dev/null) || return 0
	kill -"$2" "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	rm -f "$tmp/$1.pid"
	return 0
}
rpc() { # rpc NAME METHOD JSON: quiet unless it fails
	local out
	out=$("$nvring" rpc -s "$tmp/$1.sock" "$2" "$3" 2>&1) || { echo "# rpc $2 $3: $out"; return 1; }
}

# ---- hooks: the guest asks, the host does (output: TAP comments) ----
if [[ ${1:-} == --hook ]]; then
	tmp=$3
	. "$tmp/env"
	case $2 in
	flip1) # P1 non-optimized, P2 optimized: the optimized path moves
		rpc gw ana_set_state "{\"addr\": \"127.0.0.1:$P1\", \"grpid\": 1, \"state\": \"non-optimized\"}" &&
		rpc gw ana_set_state "{\"addr\": \"127.0.0.1:$P2\", \"grpid\": 1, \"state\": \"optimized\"}" ;;
	flip2) # P2 inaccessible (its I/O must move), P1 optimized
		rpc gw ana_set_state "{\"addr\": \"127.0.0.1:$P2\", \"grpid\": 1, \"state\": \"inaccessible\"}" &&
		rpc gw ana_set_state "{\"addr\": \"127.0.0.1:$P1\", \"grpid\": 1, \"state\": \"optimized\"}" ;;
	flip3) # P1 through a 2 s transition to inaccessible while P2 becomes optimized
		rpc gw ana_set_state "{\"addr\": \"127.0.0.1:$P2\", \"grpid\": 1, \"state\": \"optimized\"}" &&
		rpc gw ana_set_state "{\"addr\": \"127.0.0.1:$P1\", \"grpid\": 1, \"state\": \"inaccessible\", \"transition_ms\": 2000}" ;;
	flip4) # both usable again: P1 optimized, P2 non-optimized
		rpc gw ana_set_state "{\"addr\": \"127.0.0.1:$P1\", \"grpid\": 1, \"state\": \"optimized\"}" &&
		rpc gw ana_set_state "{\"addr\": \"127.0.0.1:$P2\", \"grpid\": 1, \"state\": \"non-optimized\"}" ;;
	kill-a)
		date +%s.%N >"$tmp/kill-a.time"
		stop gwa KILL ;;
	restart-a)
		start gwa "$tmp/gwa.json" "$tmp/gwa.log" "$PA" ;;
	restart-resv)
		stop resv KILL && start resv "$tmp/resv.json" "$tmp/resv.log" "$P3" ;;
	*) echo "# unknown hook $2"; exit 2 ;;
	esac
	exit
fi

dir=${INTEROP_DIR:-build/interop} limit=600
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
	for n in gw gwa gwb resv; do stop "$n" TERM; done
	rm -rf "$tmp"
}
trap cleanup EXIT
for f in "$bin" "$nvring"; do
	[[ -x $f ]] || { tap_not_ok "built: $f"; tap_plan; exit 1; }
done

NQN1=nqn.2026-11.io.nvring:ha-paths NQN2=nqn.2026-11.io.nvring:ha-gateways NQN3=nqn.2026-11.io.nvring:ha-resv
P1=$(free_port) P2=$(free_port) PA=$(free_port) PB=$(free_port) P3=$(free_port)
truncate -s 256M "$tmp/paths.img" "$tmp/shared.img" "$tmp/resv.img"
cfg "$(port 1 "$P1" $NQN1 optimized), $(port 2 "$P2" $NQN1 non-optimized)" $NQN1 "$tmp/paths.img" 1 65519 \
	>"$tmp/gw.json"
cfg "$(port 1 "$PA" $NQN2 optimized)" $NQN2 "$tmp/shared.img" 1 99 >"$tmp/gwa.json"
cfg "$(port 2 "$PB" $NQN2 non-optimized)" $NQN2 "$tmp/shared.img" 100 199 >"$tmp/gwb.json"
cfg "$(port 1 "$P3" $NQN3 optimized)" $NQN3 "$tmp/resv.img" 1 65519 >"$tmp/resv.json"
declare -p P1 P2 PA PB P3 bin nvring >"$tmp/env"

ok=1
start gw "$tmp/gw.json" "$tmp/gw.log" "$P1" "$P2" || ok=0
start gwa "$tmp/gwa.json" "$tmp/gwa.log" "$PA" || ok=0
start gwb "$tmp/gwb.json" "$tmp/gwb.log" "$PB" || ok=0
start resv "$tmp/resv.json" "$tmp/resv.log" "$P3" || ok=0
if ((ok)); then
	tap_ok "nvringd: two listeners; gateways a and b on one file; a reservation target"
else
	tap_not_ok "nvringd processes started"
	tail -n 20 "$tmp"/*.log | sed 's/^/#   /'
	tap_plan; exit 1
fi
# Flipping states needs the control socket's ana_set_state.
rpc_ok=0
"$nvring" rpc -s "$tmp/gw.sock" ana_get '{}' >/dev/null 2>&1 && rpc_ok=1
((rpc_ok)) || tap_diag "no control socket with ana_get: phase 1 flips are skipped"

hook="exec bash $(printf %q "$here/linux-host-ha.sh") --hook \"\$1\" $(printf %q "$tmp")"
tap_relay < <("$here/boot.sh" -b "$dir" -t "$limit" -T 60 -H "$hook" \
	-e TGT_ADDR=10.0.2.2 -e NQN1=$NQN1 -e NQN2=$NQN2 -e NQN3=$NQN3 \
	-e P1="$P1" -e P2="$P2" -e PA="$PA" -e PB="$PB" -e P3="$P3" -e RPC_OK=$rpc_ok \
	"$here/guest/linux-host-ha.sh"; echo "#@RC $?")

for n in gw gwa gwb resv; do
	if [[ -f $tmp/$n.pid ]]; then
		tap_check "nvringd $n still running at the end" kill -0 "$(cat "$tmp/$n.pid")"
	fi
done
if [[ -s $tmp/resv.img.resv ]]; then
	tap_ok "reservation state file next to the namespace ($(stat -c %s "$tmp/resv.img.resv") bytes)"
else
	tap_not_ok "reservation state file next to the namespace"
fi
if [[ $TAP_FAILED != 0 ]]; then
	for n in gw gwa gwb resv; do
		tap_diag "last $n log lines:"
		tail -n 15 "$tmp/$n.log" 2>/dev/null | sed 's/^/#   /'
	done
fi
tap_plan
