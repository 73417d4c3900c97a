#!/bin/bash
# linux-host-vs-nvringd.sh [-b DIR] [-k KATO] [-x PORT[:DISC_PORT] [-X LOG] [-n NQN] | -L]
#
# Prove an NVMe/TCP target against the Linux host (Debian 6.1 in QEMU): one
# guest boot runs discovery, connect (plain, digests, no SQ flow control),
# identify, fio verify at 4 block sizes on 2 namespaces, ext4, io-passthru,
# then connects with keep-alive timeout KATO (default 5 s) and freezes. The
# host then checks the target freed that controller by keep-alive timeout
# (its log) and still serves: an ICReq probe and a second short boot.
#
# Target (default): nvringd ($NVRINGD, else DIR/../src/nvringd/nvringd), run
#   here as: nvringd -vv -l 127.0.0.1:P1 -l 127.0.0.1:P2 --nqn NQN
#            --ns mem:256M --ns file:TMP/ns2.img -t 2 $NVRINGD_ARGS
# -x PORT[:DISC]  a target already listening on 127.0.0.1 (e.g. nvmet-fixture.sh);
#                 -X its log for the keep-alive check (else that check skips)
# -L              a Linux nvmet target inside the guest (proves the guest checks)
# KATO_LOG_RE: extended regex (case-insensitive) of the log line that says a
#   controller was freed by keep-alive timeout; matched only after the freeze.
# Every wait is bounded; a missing or mute target gives "not ok", never a hang.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/tap.sh"
. "$here/lib/nvringd.sh"
KATO_LOG_RE=${KATO_LOG_RE:-'(keep.?alive|kato).*(expir|time.?out|timed out)|(expir|time.?out|timed out).*(keep.?alive|kato)'}

# --- host hooks, run by boot.sh when the guest asks: --hook NAME TMPDIR ---
# digests: status 0 if the target logged ICReqs asking for both digests
# (-vv "ICReq hdgst 1 ddgst 1"; only the digest connect asks for them).
if [[ ${1:-} == --hook && ${2:-} == digests ]]; then
	. "$3/env"
	n=$(grep -c "${DIGEST_LOG_RE:-ICReq hdgst 1 ddgst 1}" "$log" 2>/dev/null)
	echo "# target log: ${n:-0} ICReq(s) with header+data digests"
	((${n:-0} >= 2))   # the admin queue and at least one I/O queue
	exit
fi
# kato: the guest is frozen with a short-KATO connection open; results go to
# TMPDIR/kato.tap, relayed after the boot.
if [[ ${1:-} == --hook && ${2:-} == kato ]]; then
	. "$3/env"
	exec >"$3/kato.tap" 2>&1
	start=$SECONDS
	log_from=$(( $(stat -c %s "$log" 2>/dev/null || echo 0) + 1 ))
	limit=$((2 * kato + 10))
	found=
	while ((SECONDS - start < limit)); do
		if tail -c "+$log_from" "$log" 2>/dev/null | grep -Eiq "$KATO_LOG_RE"; then
			found=$((SECONDS - start)); break
		fi
		sleep 0.2
	done
	if [[ -n $found ]]; then
		tap_ok "target log: controller freed by keep-alive timeout, ${found}s after the host went silent"
		line=$(tail -c "+$log_from" "$log" | grep -Ei "$KATO_LOG_RE" | head -n 1)
		tap_diag "log: $line"
		# The Linux host sends a keep-alive every KATO/2: the target may not
		# give up before KATO/2 of silence.
		tap_check "not freed before KATO/2 ($((kato / 2)) s) of silence" test "$found" -ge $((kato / 2 - 1))
	else
		tap_not_ok "target log: controller freed by keep-alive timeout within ${limit}s" \
			"no line matching /$KATO_LOG_RE/ in $log"
		tail -n 15 "$log" 2>/dev/null | sed 's/^/#   log: /'
	fi
	tap_plan
	exit 0
fi

dir=${INTEROP_DIR:-build/interop} kato=5 mode=nvringd ext= extlog= nqn=nqn.2024-01.io.nvring:interop
while getopts "b:k:x:X:n:L" o; do
	case $o in
	b) dir=$OPTARG ;; k) kato=$OPTARG ;; x) mode=external ext=$OPTARG ;; X) extlog=$OPTARG ;;
	n) nqn=$OPTARG ;; L) mode=local ;;
	*) echo "usage: see the head of $0" >&2; exit 2 ;;
	esac
done

tmp=$(mktemp -d)
cleanup() {
	nvringd_kill
	rm -rf "$tmp"
}
trap cleanup EXIT

log=
case $mode in
nvringd)
	bin=${NVRINGD:-$(cd "$(dirname "$dir")" 2>/dev/null && pwd)/src/nvringd/nvringd}
	if [[ ! -x $bin ]]; then
		tap_not_ok "nvringd is built ($bin)"
		tap_plan; exit 1
	fi
	p1=$(free_port)
	p2=$(free_port); while [[ $p2 == "$p1" ]]; do p2=$(free_port); done
	truncate -s 256M "$tmp/ns2.img"
	log=$tmp/nvringd.log
	# shellcheck disable=SC2086  # NVRINGD_ARGS is a word list on purpose
	nvringd_start "nvringd listens on 127.0.0.1:$p1 and :$p2" "$log" "$p1" "$p2" -- \
		"$bin" -vv -l "127.0.0.1:$p1" -l "127.0.0.1:$p2" --nqn "$nqn" \
		--ns mem:256M --ns "file:$tmp/ns2.img" -t 2 --rpc-socket none ${NVRINGD_ARGS:-} || { tap_plan; exit 1; }
	tgt=(-e TGT_ADDR=10.0.2.2 -e TGT_PORT="$p1" -e TGT_DISC_PORT="$p2" -e KATO_SECS="$kato"
		-e TGT_LOGS_DIGESTS=1)
	;;
external)
	p1=${ext%%:*} p2=${ext#*:}
	[[ $ext == *:* ]] || p2=$p1
	log=$extlog
	tgt=(-e TGT_ADDR=10.0.2.2 -e TGT_PORT="$p1" -e TGT_DISC_PORT="$p2" -e KATO_SECS="$kato")
	;;
local)
	tgt=(-e TGT_LOCAL=1 -e TGT_ADDR=127.0.0.1 -e TGT_PORT=4420 -e TGT_DISC_PORT=4421 -e KATO_SECS=0)
	;;
esac

# --- boot 1: everything, ending frozen with a short-KATO connection ---
printf 'log=%q\nkato=%q\n' "${log:-/dev/null}" "$kato" >"$tmp/env"
hook="exec bash $(printf %q "$here/linux-host-vs-nvringd.sh") --hook \"\$1\" $(printf %q "$tmp")"
tap_relay < <("$here/boot.sh" -b "$dir" -t 600 -T $((3 * kato + 30)) "${tgt[@]}" -e TGT_NQN="$nqn" \
	-e TGT_PHASE=full -H "$hook" "$here/guest/linux-host.sh"; echo "#@RC $?")

if [[ $mode != local ]]; then
	if [[ ! -f $tmp/kato.tap ]]; then
		tap_not_ok "guest reached the keep-alive freeze (host hook ran)"
	elif [[ -z $log ]]; then
		tap_skip "target log: controller freed by keep-alive timeout" "no target log (-X)"
	else
		tap_relay <"$tmp/kato.tap"
	fi
	# --- the target still serves after a host vanished ---
	tap_relay < <("$here/probe-icreq.sh" 127.0.0.1 "$p1"; echo "#@RC $?")
	tap_relay < <("$here/boot.sh" -b "$dir" -t 180 "${tgt[@]}" -e TGT_NQN="$nqn" \
		-e TGT_PHASE=reconnect "$here/guest/linux-host.sh"; echo "#@RC $?")
fi
if [[ $mode == nvringd ]]; then
	tap_check "nvringd still running after all hosts left" kill -0 "$NVRINGD_PID"
	if [[ $TAP_FAILED != 0 ]]; then
		tap_diag "last nvringd log lines:"
		nvringd_log_tail 30
	fi
fi
tap_plan
