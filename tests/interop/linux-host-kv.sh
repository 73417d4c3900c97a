#!/bin/bash
# linux-host-kv.sh [-b DIR] [-u KV_URING] [-t SECS]
#
# Key-Value namespaces against the Linux NVMe/TCP host (Debian 6.1 in QEMU), one boot.
# nvringd runs here with
#   nsid 1: kv:mem,size=256M               (CSI 1: the kernel makes only /dev/ngXn1)
#   nsid 2: kv:mem,size=64M,kvssd-compat   (an NVM namespace: /dev/nvmeXn2 and /dev/ngXn2)
# and the guest (guest/linux-host-kv.sh) connects to it at 10.0.2.2, checks the device nodes,
# runs the standard KV opcodes through `nvme io-passthru` on /dev/ngXn1, the Samsung KV-SSD
# vendor opcodes through /dev/nvmeXn2, and KV_URING (kv-uring.c: io_uring NVMe passthrough,
# 10,000 keys stored and retrieved at 64 in flight). Then nvringd gets SIGTERM and must exit 0.
#
# nvringd: $NVRINGD, else DIR/../src/nvringd/nvringd; extra flags in $NVRINGD_ARGS.
# KV_URING: -u, else DIR/../tests/interop/kv-uring. Every wait is bounded.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/tap.sh"
. "$here/lib/nvringd.sh"

dir=${INTEROP_DIR:-build/interop} uring='' limit=240 nqn=nqn.2024-01.io.nvring:kv
while getopts "b:u:t:" o; do
	case $o in
	b) dir=$OPTARG ;; u) uring=$OPTARG ;; t) limit=$OPTARG ;;
	*) echo "usage: see the head of $0" >&2; exit 2 ;;
	esac
done
build=$(cd "$(dirname "$dir")" 2>/dev/null && pwd)  # DIR itself may not exist yet
bin=${NVRINGD:-$build/src/nvringd/nvringd}
uring=${uring:-$build/tests/interop/kv-uring}

tmp=$(mktemp -d)
cleanup() {
	nvringd_kill
	rm -rf "$tmp"
}
trap cleanup EXIT

for f in "$bin" "$uring"; do
	if [[ ! -x $f ]]; then
		tap_not_ok "built: $f"
		tap_plan; exit 1
	fi
done

port=$(free_port)
# shellcheck disable=SC2086  # NVRINGD_ARGS is a word list on purpose
nvringd_start "nvringd (nsid 1 kv:mem,size=256M; nsid 2 kv:mem,size=64M,kvssd-compat) listens on 127.0.0.1:$port" \
	"$tmp/nvringd.log" "$port" -- "$bin" -v -l "127.0.0.1:$port" --nqn "$nqn" -t 2 --rpc-socket none \
	--ns kv:mem,size=256M --ns kv:mem,size=64M,kvssd-compat ${NVRINGD_ARGS:-} || { tap_plan; exit 1; }

tap_relay < <("$here/boot.sh" -b "$dir" -t "$limit" -x "$uring:/run/kv-uring" \
	-e TGT_ADDR=10.0.2.2 -e TGT_PORT="$port" -e TGT_NQN="$nqn" \
	"$here/guest/linux-host-kv.sh"; echo "#@RC $?")

# SIGTERM: commands in flight finish, then exit 0 (README "nvringd flags"). Not in a
# subshell: only this shell can wait for its child.
name="nvringd exits 0 on SIGTERM after the guest left"
if ! kill -0 "$NVRINGD_PID" 2>/dev/null; then
	tap_not_ok "$name" "nvringd died during the test"
else
	kill -TERM "$NVRINGD_PID"
	for _ in $(seq 75); do kill -0 "$NVRINGD_PID" 2>/dev/null || break; sleep 0.2; done
	if kill -0 "$NVRINGD_PID" 2>/dev/null; then
		tap_not_ok "$name" "still running 15 s after SIGTERM"
	else
		wait "$NVRINGD_PID"; rc=$?
		NVRINGD_PID=
		if ((rc == 0)); then tap_ok "$name"; else tap_not_ok "$name" "exit status $rc"; fi
	fi
fi
if [[ $TAP_FAILED != 0 ]]; then
	tap_diag "last nvringd log lines:"
	nvringd_log_tail 30
fi
tap_plan
