# Helpers sourced by every guest test script (busybox ash).
#
#   check NAME CMD...      run CMD; print "ok N - NAME" or "not ok N - NAME"
#                          followed by the last lines of its output as "# ".
#   check_not NAME CMD...  the same, passing when CMD fails
#   skip NAME REASON       "ok N - NAME # SKIP REASON"
#   diag TEXT...           "# TEXT" on the result channel
#   host_sync NAME [SECS]  ask the host to run its hook for NAME; returns the
#                          hook's exit status (124 if no answer in SECS)
#   powercut               quit QEMU at once (no shutdown, no disconnect)
#   freeze NAME            stop QEMU (guest silent, its TCP connections open),
#                          run the host hook NAME, then kill QEMU; print the
#                          plan (tap_done) before, the script never resumes
#   tap_done               print the plan; return non-zero if a check failed
#   elapsed                seconds since boot, to one decimal
# Output of commands goes to the console (ttyS0); only TAP goes to fd 3.

# fd 3 is the result channel (/dev/ttyS1), opened once by /init: a tty that
# nobody holds open drops what the host sends.
TAP_N=0
TAP_FAILED=0

diag() {
	printf '# %s\n' "$*" >&3
}

_tap_result() {   # _tap_result PASS(0/1) NAME LOGFILE
	TAP_N=$((TAP_N + 1))
	if [ "$1" = 0 ]; then
		printf 'ok %d - %s\n' "$TAP_N" "$2" >&3
	else
		TAP_FAILED=$((TAP_FAILED + 1))
		printf 'not ok %d - %s\n' "$TAP_N" "$2" >&3
		[ -s "$3" ] && tail -n 25 "$3" | sed 's/^/#   /' >&3
	fi
	# Also on the console, so the log reads as a story.
	echo "=== check $TAP_N ($2): $([ "$1" = 0 ] && echo ok || echo FAILED)"
}

# Names are long on purpose: ash has no locals and CMD may be a function
# that sets short variables of its own.
check() {
	_check_name=$1; shift
	"$@" >/tmp/.check.log 2>&1
	_check_rc=$?
	cat /tmp/.check.log
	[ $_check_rc = 0 ]; _tap_result $? "$_check_name" /tmp/.check.log
	return $_check_rc
}

check_not() {
	_check_name=$1; shift
	"$@" >/tmp/.check.log 2>&1
	_check_rc=$?
	cat /tmp/.check.log
	[ $_check_rc != 0 ]; _tap_result $? "$_check_name" /tmp/.check.log
	[ $_check_rc != 0 ]
}

skip() {
	TAP_N=$((TAP_N + 1))
	printf 'ok %d - %s # SKIP %s\n' "$TAP_N" "$1" "$2" >&3
}

elapsed() {
	awk '{ printf "%.1f", $1 }' /proc/uptime
}

host_sync() {
	_name=$1; _secs=${2:-120}
	printf '#@SYNC %s\n' "$_name" >&3
	# boot.sh answers "GO NAME RC"; anything else (stale bytes) is skipped.
	_end=$(( $(cut -d. -f1 /proc/uptime) + _secs ))
	while [ "$(cut -d. -f1 /proc/uptime)" -lt "$_end" ]; do
		if read -r -t 5 _w _n _rc <&3; then
			[ "$_w" = GO ] && [ "$_n" = "$_name" ] && return "$_rc"
		fi
	done
	diag "host_sync $_name: no answer in ${_secs}s"
	return 124
}

powercut() {
	printf '#@POWERCUT\n' >&3
	# boot.sh kills QEMU on that line; never return into the script.
	while :; do sleep 10; done
}

freeze() {
	printf '#@FREEZE %s\n' "$1" >&3
	while :; do sleep 10; done
}

tap_done() {
	printf '1..%d\n' "$TAP_N" >&3
	[ "$TAP_FAILED" = 0 ]
}

# wait_for SECS CMD...: poll CMD every 0.2 s until it succeeds (bounded).
wait_for() {
	_secs=$1; shift
	_i=0
	while [ $_i -lt $((_secs * 5)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}
