# shellcheck shell=bash
# nvringd on the host for the interop suites (bash), sourced after tap.sh.
#
#   listening PORT       status 0 if a LISTEN socket is on that port (read from
#                        /proc/net/tcp{,6}: no probe connection the target would
#                        have to handle)
#   nvringd_start NAME LOG PORT... -- CMD...
#                        run CMD (nvringd and its flags) in the background, stdin
#                        /dev/null, output to LOG, its pid in NVRINGD_PID; then
#                        "ok NAME" once it listens on every PORT, or "not ok" with
#                        the log tail and status 1 if not within 10 s
#   nvringd_log_tail N   the last N lines of that LOG as TAP comments
#   nvringd_kill         for an EXIT trap: if it still runs, SIGTERM, 5 s, SIGKILL
#
# A function, not a subshell: the caller's shell is nvringd's parent and can wait for it.

listening() {
	awk -v p="$(printf %04X "$1")" 'FNR > 1 { split($2, a, ":"); if (a[2] == p && $4 == "0A") f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

NVRINGD_PID='' NVRINGD_LOG=''

_nvringd_up() {
	local p
	kill -0 "$NVRINGD_PID" 2>/dev/null || return 1
	for p in "$@"; do listening "$p" || return 1; done
}

nvringd_start() {
	local name=$1 ports=()
	NVRINGD_LOG=$2
	shift 2
	while [[ $1 != -- ]]; do ports+=("$1"); shift; done
	shift
	"$@" </dev/null >"$NVRINGD_LOG" 2>&1 &
	NVRINGD_PID=$!
	for _ in $(seq 50); do _nvringd_up "${ports[@]}" && break; sleep 0.2; done
	if ! _nvringd_up "${ports[@]}"; then
		tap_not_ok "$name within 10 s" "$1"
		nvringd_log_tail 20
		return 1
	fi
	tap_ok "$name"
}

nvringd_log_tail() { tail -n "$1" "$NVRINGD_LOG" | sed 's/^/#   nvringd: /'; }

nvringd_kill() {
	[[ -n $NVRINGD_PID ]] && kill -0 "$NVRINGD_PID" 2>/dev/null || return 0
	kill -TERM "$NVRINGD_PID" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$NVRINGD_PID" 2>/dev/null || break; sleep 0.5; done
	kill -KILL "$NVRINGD_PID" 2>/dev/null
}
