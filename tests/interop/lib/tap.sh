# Host-side TAP helpers (bash), sourced by the interop suites. One numbering
# for host checks and relayed guest checks, one plan line at the end.
#
#   tap_ok NAME / tap_not_ok NAME [DIAG...] / tap_skip NAME REASON
#   tap_check NAME CMD...   run CMD, ok if it exits 0, its output as "# " if not
#   tap_diag TEXT...
#   tap_relay               read TAP from stdin (a guest, a host tool): renumber
#                           its results, keep comments, check its plan; a line
#                           "#@RC N" (appended by the caller) is its exit status
#   tap_plan                print "1..N"; status 1 if anything failed
#   free_port               print a free TCP port on 127.0.0.1

TAP_N=0
TAP_FAILED=0

tap_diag() { printf '# %s\n' "$*"; }

tap_ok() { TAP_N=$((TAP_N + 1)); printf 'ok %d - %s\n' "$TAP_N" "$1"; }

tap_not_ok() {
	TAP_N=$((TAP_N + 1)) TAP_FAILED=$((TAP_FAILED + 1))
	printf 'not ok %d - %s\n' "$TAP_N" "$1"
	shift
	local l
	for l in "$@"; do printf '#   %s\n' "$l"; done
}

tap_skip() { TAP_N=$((TAP_N + 1)); printf 'ok %d - %s # SKIP %s\n' "$TAP_N" "$1" "$2"; }

tap_check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1); rc=$?
	if ((rc == 0)); then
		tap_ok "$name"
	else
		tap_not_ok "$name" "exit status $rc"
		printf '%s\n' "$out" | tail -n 25 | sed 's/^/#   /'
	fi
	return $rc
}

tap_relay() {
	local line seen=0 plan= rc= rest
	while IFS= read -r line; do
		case $line in
		'#@RC '*) rc=${line#'#@RC '} ;;
		'not ok '*)
			rest=${line#'not ok '}; rest=${rest#"${rest%%[!0-9]*}"}
			seen=$((seen + 1)) TAP_N=$((TAP_N + 1)) TAP_FAILED=$((TAP_FAILED + 1))
			printf 'not ok %d%s\n' "$TAP_N" "$rest" ;;
		'ok '*)
			rest=${line#'ok '}; rest=${rest#"${rest%%[!0-9]*}"}
			seen=$((seen + 1)) TAP_N=$((TAP_N + 1))
			printf 'ok %d%s\n' "$TAP_N" "$rest" ;;
		1..*) plan=${line#1..}; plan=${plan%%[!0-9]*} ;;
		'') ;;
		'#'*) printf '%s\n' "$line" ;;
		*) printf '# %s\n' "$line" ;;   # stray output stays a comment
		esac
	done
	# A run that died half-way must not pass for the checks it never printed.
	if [[ -z $plan ]]; then
		tap_not_ok "relayed run printed its plan (it did not finish)"
	elif ((plan != seen)); then
		tap_not_ok "relayed run printed all $plan planned results (got $seen)"
	fi
	[[ -z $rc || $rc == 0 ]] || tap_diag "relayed command exit status $rc"
	TAP_RELAY_RC=${rc:-0}
	return 0
}

tap_plan() {
	printf '1..%d\n' "$TAP_N"
	((TAP_FAILED == 0))
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
