#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Example orchestrator for two nvringd gateways serving one subsystem (docs/ha.md): probe each
# gateway's NVMe/TCP port; when the gateway that owns an ANA group (reports it optimized) has
# failed FAILS probes in a row, run the fence hook and make the group optimized on the other
# gateway; when a gateway comes back, tell it the current owners (and fail back with -F).
#
# The RPC goes through "$NVRING_RPC ENDPOINT ana_set_state JSON" (default "nvring rpc -s").
usage() {
	cat <<EOF
usage: $0 -a RPC_A -A ADDR_A:PORT -b RPC_B -B ADDR_B:PORT -g "GRPID:a|b ..." [options]
  -a/-b   RPC endpoint of gateway a / b (passed to \$NVRING_RPC)
  -A/-B   its NVMe/TCP listen address (the "addr" of its port in ana_set_state)
  -g      ANA groups and the gateway that prefers each, e.g. "1:a 2:b"
  -i SEC  probe interval (default 1)      -f N   failed probes before failover (default 3)
  -x CMD  fence hook, run as "CMD GATEWAY" before the survivor is promoted
  -F      fail back to the preferred gateway when it returns
  -c N    stop after N probe rounds (default: run forever)
  -n      dry run: print the RPCs instead of sending them
EOF
	exit 2
}

rpc_cmd=${NVRING_RPC:-"nvring rpc -s"}
interval=1 fails_needed=3 fence="" failback=0 rounds=0 dry=0 groups=""
declare -A endpoint addr down pref owner

while getopts "a:A:b:B:g:i:f:x:Fc:nh" o; do
	case $o in
	a) endpoint[a]=$OPTARG ;;
	b) endpoint[b]=$OPTARG ;;
	A) addr[a]=$OPTARG ;;
	B) addr[b]=$OPTARG ;;
	g) groups=$OPTARG ;;
	i) interval=$OPTARG ;;
	f) fails_needed=$OPTARG ;;
	x) fence=$OPTARG ;;
	F) failback=1 ;;
	c) rounds=$OPTARG ;;
	n) dry=1 ;;
	*) usage ;;
	esac
done
for gw in a b; do
	[[ -n ${endpoint[$gw]:-} && ${addr[$gw]:-} == *:* ]] || usage
	down[$gw]=0
done
for spec in $groups; do
	g=${spec%%:*} gw=${spec#*:}
	[[ $g =~ ^[0-9]+$ && ( $gw == a || $gw == b ) ]] || { echo "$0: bad group spec '$spec'" >&2; exit 2; }
	pref[$g]=$gw owner[$g]=$gw
done
[[ ${#pref[@]} -gt 0 ]] || usage

log() { echo "$(date '+%F %T') $*"; }
other() { [[ $1 == a ]] && echo b || echo a; }

# A gateway is up if its NVMe/TCP port accepts a connection within a second.
probe() {
	local host=${addr[$1]%:*} port=${addr[$1]##*:}
	host=${host#[} host=${host%]}
	timeout 1 bash -c "exec 3<>'/dev/tcp/$host/$port'" 2>/dev/null
}

set_state() { # gateway grpid state
	local json="{\"addr\": \"${addr[$1]}\", \"grpid\": $2, \"state\": \"$3\"}"

	if ((dry)); then
		echo "rpc: $rpc_cmd ${endpoint[$1]} ana_set_state '$json'"
		return 0
	fi
	$rpc_cmd "${endpoint[$1]}" ana_set_state "$json" >/dev/null ||
		{ log "gateway $1: ana_set_state $json failed"; return 1; }
}

failover() { # failed gateway
	local dead=$1 live
	live=$(other "$1")
	log "gateway $dead (${addr[$dead]}) failed ${down[$dead]} probes"
	if ((down[$live] > 0)); then
		log "gateway $live is down too: nothing to fail over to"
		return
	fi
	if [[ -n $fence ]] && ! $fence "$dead"; then
		log "fencing gateway $dead failed: not promoting $live"
		return
	fi
	for g in "${!owner[@]}"; do
		if [[ ${owner[$g]} == "$dead" ]] && set_state "$live" "$g" optimized; then
			owner[$g]=$live
			log "group $g: now optimized on gateway $live"
		fi
	done
}

recover() { # returning gateway: first the current picture, then (with -F) its groups back
	local gw=$1 peer
	peer=$(other "$1")
	log "gateway $gw (${addr[$gw]}) is back"
	for g in "${!owner[@]}"; do
		if [[ ${owner[$g]} == "$gw" ]]; then
			set_state "$gw" "$g" optimized
		else
			set_state "$gw" "$g" non-optimized
		fi
	done
	((failback)) || return
	for g in "${!owner[@]}"; do
		if [[ ${pref[$g]} == "$gw" && ${owner[$g]} == "$peer" ]] &&
			set_state "$gw" "$g" optimized && set_state "$peer" "$g" non-optimized; then
			owner[$g]=$gw
			log "group $g: failed back to gateway $gw"
		fi
	done
}

n=0
while ((rounds == 0 || n < rounds)); do
	for gw in a b; do
		if probe "$gw"; then
			((down[$gw] >= fails_needed)) && recover "$gw"
			down[$gw]=0
		else
			down[$gw]=$((down[$gw] + 1))
			((down[$gw] == fails_needed)) && failover "$gw"
		fi
	done
	n=$((n + 1))
	((rounds == 0 || n < rounds)) && sleep "$interval"
done
exit 0
