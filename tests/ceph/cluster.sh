#!/bin/bash
# SPDX-License-Identifier: MIT
# A throw-away single-node Ceph on 127.0.0.1 for tests and benchmarks: one monitor, memstore
# OSDs (RAM, capped), no mgr, everything (config, keys, data, logs, pids) under DIR. It never
# reads or touches a system Ceph: every command gets -c DIR/ceph.conf, and the ports are chosen
# away from Ceph's defaults (mon 403x0/407x9, OSDs 40800-40999).
#
#   cluster.sh up DIR [--cephx] [--osds N] [--image NAME:SIZE]... [--memstore-bytes BYTES]
#                     [--bluestore]  (OSDs on 10 GiB sparse files in DIR instead of RAM; slower)
#       Pools "rbd" (rbd-initialized, image "img1" of 256M unless --image is given) and "kv".
#       Ready when `rbd pool init` returned (its write needs active PGs). Idempotent: a cluster
#       already up in DIR is left as it is. Wrapped in a timeout and retried once.
#       --cephx: cephx auth; DIR/keyring then holds client.admin, client.nvring (rbd profile on
#       both pools) and client.nocaps (may connect, may not touch data).
#   cluster.sh down DIR          stop what `up` started (by PID: OSDs, then the mon), remove DIR
#   cluster.sh env DIR           print `export CEPH_CONF=DIR/ceph.conf`
#   cluster.sh osd-stop DIR N [TERM|KILL]   stop osd.N (TERM: clean, memstore keeps its data)
#   cluster.sh osd-start DIR N   start osd.N again (after osd-stop)
#
# Memstore keeps data across a clean stop only (osd fast shutdown is off for that); KILL loses it.
set -euo pipefail

UP_TIMEOUT=${CEPH_TEST_UP_TIMEOUT:-120}
STOP_GRACE=${CEPH_TEST_STOP_GRACE:-10}

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { [ -n "${CEPH_TEST_QUIET:-}" ] || echo "cluster.sh: $*" >&2; }

usage() {
	sed -n '3,24p' "$0" >&2
	exit 2
}

# A PID counts as running while it exists and is not a zombie (daemons whose starter exited
# are reparented and may be reaped late: kill -0 keeps succeeding on the zombie).
pid_running() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Only a daemon of this cluster: the PID's command line names our ceph.conf.
pid_is_ours() {
	local pid=$1 conf=$2
	pid_running "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-c $conf"
}

# Wait until none of the PIDs runs; after the deadline, SIGKILL and wait once more.
wait_gone() {
	local deadline=$((SECONDS + STOP_GRACE)) p left
	while :; do
		left=""
		for p in "$@"; do pid_running "$p" && left="$left $p"; done
		[ -z "$left" ] && return 0
		if [ $SECONDS -ge $deadline ]; then
			# shellcheck disable=SC2086
			kill -KILL $left 2>/dev/null || true
			deadline=$((SECONDS + 5))
			STOP_GRACE=0
			continue
		fi
		sleep 0.05
	done
}

# PIDs of one role from DIR/pids ("osd.N PID" / "mon.a PID" lines), only those still ours.
pids_of() {
	local dir=$1 pat=$2 name pid
	[ -f "$dir/pids" ] || return 0
	while read -r name pid; do
		case "$name" in $pat) pid_is_ours "$pid" "$dir/ceph.conf" && echo "$pid" ;; esac
	done <"$dir/pids"
}

stop_role() { # stop_role DIR PATTERN SIGNAL
	local pids
	pids=$(pids_of "$1" "$2" | tr '\n' ' ')
	[ -n "${pids// /}" ] || return 0
	# shellcheck disable=SC2086
	kill "-$3" $pids 2>/dev/null || true
	# shellcheck disable=SC2086
	wait_gone $pids
}

cmd_down() {
	local dir=$1
	[ -d "$dir" ] || return 0
	rmdir "$dir" 2>/dev/null && return 0 # empty (e.g. fresh from mktemp)
	# OSDs first (KILL: the data is thrown away, and a clean memstore stop would save it all),
	# then the mon; stopping the mon first makes each OSD wait for it.
	stop_role "$dir" 'osd.*' KILL
	stop_role "$dir" 'mon.*' TERM
	[ -f "$dir/ceph.conf" ] || [ -f "$dir/pids" ] || [ -f "$dir/.nvring-test-cluster" ] ||
		die "$dir does not look like a test cluster; not removing it"
	rm -rf "$dir"
}

# True when the cluster in DIR answers and all its daemons run.
cluster_alive() {
	local dir=$1 n
	[ -f "$dir/ready" ] && [ -f "$dir/pids" ] || return 1
	n=$(wc -l <"$dir/pids")
	[ "$(pids_of "$dir" '*' | wc -l)" -eq "$n" ] || return 1
	ceph -c "$dir/ceph.conf" --connect-timeout 5 osd stat >/dev/null 2>&1
}

port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }

# A mon port pair no one listens on (another test cluster may be up on this machine).
pick_mon_ports() {
	local k
	for k in 0 1 2 3 4 5 6 7 8 9; do
		P2=$((40330 + k * 10)) P1=$((40789 - k * 10))
		port_free $P2 && port_free $P1 && return 0
	done
	die "no free mon port pair in 40330-40420 / 40699-40789"
}

write_conf() { # write_conf DIR AUTH MEMSTORE_BYTES STORE
	local dir=$1 auth=$2 bytes=$3 store=$4
	cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$P2,v1:127.0.0.1:$P1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind port min = 40800
ms bind port max = 40999
auth cluster required = $auth
auth service required = $auth
auth client required = $auth
auth allow insecure global id reclaim = false
keyring = $dir/keyring
run dir = $dir/run
log file = $dir/log/\$name.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
paxos propose interval = 0.1
paxos min wait = 0.01
[client]
log file = $dir/log/\$name.\$pid.log
admin socket =
[mon]
mon data = $dir/mon/\$id
admin socket = $dir/run/\$name.asok
mon data avail warn = 1
[osd]
osd data = $dir/osd/\$id
admin socket = $dir/run/\$name.asok
keyring = $dir/osd/\$id/keyring
osd objectstore = $store
memstore device bytes = $bytes
bluestore block create = true
bluestore block size = 10737418240
bluestore block path = $dir/osd/\$id.block
bluestore cache size = 268435456
osd memory target = 1073741824
osd fast shutdown = false
EOF
}

# Start a daemon detached from our stdio (a test runner waiting on our pipes must not wait on
# the daemon too) and record its PID.
start_daemon() { # start_daemon DIR NAME BINARY ARGS...
	local dir=$1 name=$2 bin=$3
	shift 3
	setsid "$bin" -f "$@" -c "$dir/ceph.conf" </dev/null >>"$dir/log/$name.out" 2>&1 &
	echo "$name $!" >>"$dir/pids"
}

C() { ceph -c "$CONF" --connect-timeout 30 "$@"; }

make_osd() { # make_osd DIR ID CEPHX
	local dir=$1 id=$2 cephx=$3 uuid got
	uuid=$(cat /proc/sys/kernel/random/uuid)
	mkdir -p "$dir/osd/$id"
	got=$(C osd new "$uuid")
	[ "$got" = "$id" ] || die "ceph osd new gave id '$got', expected $id"
	# the key must exist in the mon before mkfs (mkfs fetches the mon config with it)
	ceph-authtool --create-keyring "$dir/osd/$id/keyring" --gen-key -n "osd.$id" >/dev/null
	if [ "$cephx" = 1 ]; then
		C auth add "osd.$id" osd 'allow *' mon 'allow profile osd' mgr 'allow profile osd' \
			-i "$dir/osd/$id/keyring" >/dev/null 2>&1
	fi
	ceph-osd --mkfs -i "$id" --osd-uuid "$uuid" -c "$CONF" >>"$dir/log/osd.$id.out" 2>&1 ||
		die "ceph-osd --mkfs osd.$id failed (see $dir/log/osd.$id.out)"
	start_daemon "$dir" "osd.$id" ceph-osd -i "$id"
}

# The real bring-up (runs under timeout).
do_up() {
	local dir=$1 cephx=0 osds=1 bytes=2147483648 images=() auth=none store=memstore
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--cephx) cephx=1 auth=cephx ;;
		--osds) osds=$2; shift ;;
		--image) images+=("$2"); shift ;;
		--memstore-bytes) bytes=$2; shift ;;
		--bluestore) store=bluestore ;;
		*) die "unknown option $1" ;;
		esac
		shift
	done
	[ ${#images[@]} -gt 0 ] || images=(img1:256M)
	mkdir -p "$dir"/{mon,osd,log,run}
	: >"$dir/.nvring-test-cluster"
	CONF=$dir/ceph.conf
	FSID=$(cat /proc/sys/kernel/random/uuid)
	pick_mon_ports
	write_conf "$dir" "$auth" "$bytes" "$store"

	ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' \
		--cap osd 'allow *' --cap mgr 'allow *' >/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n client.nvring --cap mon 'profile rbd' \
		--cap osd 'profile rbd pool=rbd, allow rwx pool=kv' >/dev/null
	ceph-authtool "$dir/keyring" --gen-key -n client.nocaps --cap mon 'allow r' >/dev/null
	monmaptool --create --enable-all-features --addv a "[v2:127.0.0.1:$P2,v1:127.0.0.1:$P1]" \
		--fsid "$FSID" "$dir/monmap" >/dev/null
	ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" -c "$CONF" \
		>>"$dir/log/mon.a.out" 2>&1 || die "ceph-mon --mkfs failed (see $dir/log/mon.a.out)"
	start_daemon "$dir" mon.a ceph-mon -i a
	for ((i = 0; i < osds; i++)); do make_osd "$dir" "$i" "$cephx"; done
	C osd pool create rbd 8 >>"$dir/log/setup.out" 2>&1
	rbd -c "$CONF" pool init rbd # returns once the PGs are active
	C osd pool create kv 8 >>"$dir/log/setup.out" 2>&1
	C osd pool application enable kv rados >>"$dir/log/setup.out" 2>&1
	for img in "${images[@]}"; do
		rbd -c "$CONF" create "rbd/${img%%:*}" --size "${img#*:}"
	done
	: >"$dir/ready"
}

cmd_up() {
	local dir=$1 try
	shift
	if cluster_alive "$dir"; then
		log "already up in $dir"
		return 0
	fi
	cmd_down "$dir"
	for try in 1 2; do
		local t0=$SECONDS
		if timeout "$UP_TIMEOUT" "$0" _up "$dir" "$@"; then
			log "up in $dir ($((SECONDS - t0)) s, attempt $try)"
			return 0
		fi
		log "bring-up attempt $try failed; logs:"
		tail -n 5 "$dir"/log/*.out >&2 2>/dev/null || true
		cmd_down "$dir"
	done
	die "could not bring the cluster up in $dir"
}

cmd_osd_stop() { # DIR ID [SIG]
	local dir=$1 id=$2 sig=${3:-TERM}
	[ -f "$dir/pids" ] || die "no cluster in $dir"
	case "$sig" in TERM | KILL) ;; *) die "signal must be TERM or KILL" ;; esac
	stop_role "$dir" "osd.$id" "$sig"
}

cmd_osd_start() { # DIR ID
	local dir=$1 id=$2
	[ -f "$dir/pids" ] || die "no cluster in $dir"
	[ -z "$(pids_of "$dir" "osd.$id")" ] || die "osd.$id is running"
	sed -i "/^osd\\.$id /d" "$dir/pids"
	start_daemon "$dir" "osd.$id" ceph-osd -i "$id"
}

[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2
case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac
case "$cmd" in
up) cmd_up "$dir" "$@" ;;
_up) do_up "$dir" "$@" ;;
down) cmd_down "$dir" ;;
env) [ -f "$dir/ceph.conf" ] || die "no cluster in $dir"; echo "export CEPH_CONF=$dir/ceph.conf" ;;
osd-stop) cmd_osd_stop "$dir" "$@" ;;
osd-start) cmd_osd_start "$dir" "$@" ;;
*) usage ;;
esac
