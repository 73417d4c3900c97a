#!/bin/bash
# linux-host-rbd.sh [-b DIR] [-t SECS]
#
# Ceph RBD namespaces against the Linux NVMe/TCP host (Debian 6.1 in QEMU), one boot.
# Here: a throw-away Ceph cluster (tests/ceph/cluster.sh: memstore, cephx, 127.0.0.1) with
# images r512, r4k (256 MiB) and gw (256 MiB, created WITHOUT the exclusive-lock feature: two
# gateways write it at once, and with the lock they would take it from each other on every
# write, the loser being blocklisted), and two nvringd processes:
#   gateway A (port PA): nqn...:rbd {nsid 1 rbd:rbd/r512, nsid 2 rbd:rbd/r4k,bs=4096}
#                        nqn...:gw  {nsid 1 rbd:rbd/gw}, controller IDs 1..99
#   gateway B (port PB): nqn...:gw  {nsid 1 rbd:rbd/gw}, controller IDs 100..199
# The guest (guest/linux-host-rbd.sh) connects to both at 10.0.2.2: fio verify and ext4 on the
# single-gateway namespaces, then native multipath over the two gateways; its host hooks
# kill-a (SIGKILL gateway A while fio write+verify runs) and start-a (start it again).
# Then the host checks the images: e2fsck of r4k with nothing connected.
#
# nvringd: $NVRINGD, else DIR/../src/nvringd/nvringd. Needs the Ceph packages (else SKIP).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/tap.sh"

# --- host hooks (boot.sh -H): --hook NAME TMPDIR ---
if [[ ${1:-} == --hook ]]; then
	. "$3/env"
	case $2 in
	kill-a)
		pid=$(cat "$3/a.pid")
		kill -KILL "$pid" || exit 1
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		date +%s.%N >"$3/kill.time"
		echo "# gateway A (pid $pid) SIGKILLed"
		! kill -0 "$pid" 2>/dev/null ;;
	start-a)
		setsid "$bin" --rpc-socket none -v -c "$3/a.json" </dev/null >>"$3/a.log" 2>&1 &
		echo $! >"$3/a.pid"
		for _ in $(seq 50); do grep -q "nvringd: ready" <(tail -n 5 "$3/a.log") && break; sleep 0.2; done
		echo "# gateway A restarted (pid $(cat "$3/a.pid"))"
		kill -0 "$(cat "$3/a.pid")" ;;
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
for tool in ceph-mon ceph-osd ceph rbd monmaptool ceph-authtool; do
	command -v "$tool" >/dev/null || { echo "1..0 # SKIP $tool not installed (the Ceph packages)"; exit 0; }
done
build=$(cd "$(dirname "$dir")" 2>/dev/null && pwd)
bin=${NVRINGD:-$build/src/nvringd/nvringd}
cli=${NVRING:-$build/tools/nvring}
[[ -x $bin ]] || { tap_not_ok "built: $bin"; tap_plan; exit 1; }

tmp=$(mktemp -d /tmp/nvr-rbd-interop.XXXXXX)
cluster=$tmp/ceph
pids() { cat "$tmp"/a.pid "$tmp"/b.pid 2>/dev/null; }
cleanup() {
	local p
	for p in $(pids); do kill -TERM "$p" 2>/dev/null; done
	for _ in $(seq 50); do
		local alive=0
		for p in $(pids); do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.2
	done
	for p in $(pids); do kill -KILL "$p" 2>/dev/null; done
	CEPH_TEST_QUIET=1 "$here/../ceph/cluster.sh" down "$cluster"
	rm -rf "$tmp"
}
trap cleanup EXIT

t0=$SECONDS
if out=$(CEPH_TEST_QUIET=1 CEPH_TEST_UP_TIMEOUT=90 "$here/../ceph/cluster.sh" up "$cluster" --cephx \
	--image r512:256M --image r4k:256M 2>&1); then
	tap_ok "Ceph test cluster up ($((SECONDS - t0)) s)"
else
	tap_not_ok "Ceph test cluster up" "$out"
	tap_plan; exit 1
fi
export CEPH_CONF=$cluster/ceph.conf
# two writers on one image: no exclusive-lock (the facts file, docs/ceph.md)
tap_check "rbd create rbd/gw --image-feature layering (no exclusive-lock)" \
	rbd create rbd/gw --size 256M --image-feature layering

pa=$(free_port) pb=$(free_port)
while [[ $pb == "$pa" ]]; do pb=$(free_port); done
rbd_nqn=nqn.2026-11.io.nvring:rbd gw_nqn=nqn.2026-11.io.nvring:gw
# gateway_json PORT CNTLID_MIN CNTLID_MAX WITH_RBD_SUBSYS
gateway_json() {
	local subs="\"$gw_nqn\"" rbd_sub=""
	if [[ $4 == 1 ]]; then
		subs="\"$rbd_nqn\", $subs"
		rbd_sub="{ \"nqn\": \"$rbd_nqn\", \"attr\": { \"allow_any_host\": \"1\" },
		  \"namespaces\": [ { \"nsid\": 1, \"device\": { \"path\": \"rbd:rbd/r512,id=nvring\" } },
		                    { \"nsid\": 2, \"device\": { \"path\": \"rbd:rbd/r4k,bs=4096,id=nvring\" } } ] },"
	fi
	cat <<EOF
{ "nvring": { "threads": 2 },
  "ports": [ { "portid": 1, "addr": { "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "$1", "trtype": "tcp" },
               "subsystems": [ $subs ] } ],
  "subsystems": [ $rbd_sub
    { "nqn": "$gw_nqn",
      "attr": { "allow_any_host": "1", "serial": "nvring-rbd-gw", "cntlid_min": "$2", "cntlid_max": "$3" },
      "namespaces": [ { "nsid": 1, "device": { "path": "rbd:rbd/gw,id=nvring" } } ] } ] }
EOF
}
gateway_json "$pa" 1 99 1 >"$tmp/a.json"
gateway_json "$pb" 100 199 0 >"$tmp/b.json"
printf 'bin=%q\nexport CEPH_CONF=%q\n' "$bin" "$CEPH_CONF" >"$tmp/env"

start_gw() { # start_gw a|b PORT
	setsid "$bin" --rpc-socket none -v -c "$tmp/$1.json" </dev/null >>"$tmp/$1.log" 2>&1 &
	echo $! >"$tmp/$1.pid"
	for _ in $(seq 50); do listening "$2" && return 0; kill -0 "$(cat "$tmp/$1.pid")" || break; sleep 0.2; done
	return 1
}
listening() {
	awk -v p="$(printf %04X "$1")" 'FNR > 1 { split($2, a, ":"); if (a[2] == p && $4 == "0A") f = 1 }
		END { exit !f }' /proc/net/tcp 2>/dev/null
}
for g in a b; do
	port=$pa; [[ $g == b ]] && port=$pb
	if start_gw $g "$port"; then
		tap_ok "gateway ${g^^} (client.nvring) listens on 127.0.0.1:$port"
	else
		tap_not_ok "gateway ${g^^} listens on 127.0.0.1:$port" "$(tail -5 "$tmp/$g.log")"
		tap_plan; exit 1
	fi
done
# Until controller IDs follow cntlid_min/max (in main: from 1 up on every gateway), controllers
# made and dropped on B move B's next ID well past any A hands out, so the Linux host, which
# refuses a second controller with an ID it already has in the subsystem, sees distinct IDs.
if [[ -x $cli ]]; then
	for _ in $(seq 20); do
		"$cli" id-ctrl -a 127.0.0.1 -s "$pb" -n "$gw_nqn" >/dev/null 2>&1 || { tap_diag "probe of gateway B failed"; break; }
	done
fi

tap_relay < <("$here/boot.sh" -b "$dir" -t "$limit" -T 60 -H "'$0' --hook \"\$1\" '$tmp'" \
	-e TGT_ADDR=10.0.2.2 -e GW_A_PORT="$pa" -e GW_B_PORT="$pb" -e RBD_NQN="$rbd_nqn" \
	-e GW_NQN="$gw_nqn" "$here/guest/linux-host-rbd.sh"; echo "#@RC $?")

[[ -f $tmp/kill.time ]] && tap_diag "gateway A was SIGKILLed at $(cat "$tmp/kill.time")"
# both gateways stop cleanly on SIGTERM
for g in a b; do
	pid=$(cat "$tmp/$g.pid")
	name="gateway ${g^^} exits 0 on SIGTERM"
	if ! kill -0 "$pid" 2>/dev/null; then
		tap_not_ok "$name" "not running"; continue
	fi
	kill -TERM "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	if kill -0 "$pid" 2>/dev/null; then
		tap_not_ok "$name" "still running 20 s after SIGTERM"
	elif grep -q "nvringd: stopped" "$tmp/$g.log"; then
		tap_ok "$name"
	else
		tap_not_ok "$name" "$(tail -5 "$tmp/$g.log")"
	fi
done
# the image, read straight from Ceph: the ext4 the guest made is clean
tap_check "the guest's ext4 on rbd/r4k, exported with rbd export, passes e2fsck -fn" sh -c \
	"rbd export rbd/r4k '$tmp/r4k.img' >/dev/null 2>&1 && e2fsck -fn '$tmp/r4k.img'"
if ((TAP_FAILED)); then
	for g in a b; do tail -n 15 "$tmp/$g.log" | sed "s/^/#   gateway ${g^^}: /"; done
fi
tap_plan
