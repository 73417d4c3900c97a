#!/bin/bash
# SPDX-License-Identifier: MIT
# The Ceph suite: ONE throw-away cluster (tests/ceph/cluster.sh: cephx, one BlueStore OSD, so an
# OSD can be killed and come back with its data) for every program given, run one after
# another, their TAP relayed as one stream ("[program] name"), the cluster torn down whatever
# happens.
#
#   tests/ceph/run.sh PROGRAM...    (meson: `meson test --suite ceph`)
#   tests/ceph/run.sh               every tests/ceph/test_* program of $BUILD (default build/)
#
# Each program gets CEPH_CONF, NVR_CEPH_DIR, NVR_CEPH_CLUSTER_SH and NVR_CEPH_AUTH; the
# system test programs get their namespaces from the environment (systest_io: RBD images
# io1/io2; systest_kv*: kv:rados in pool kv). Every step is bounded: the bring-up by
# CEPH_TEST_UP_TIMEOUT (default 90 s, one retry), each program by CEPH_TEST_PROG_TIMEOUT
# (default 300 s). CEPH_TEST_STORE=memstore uses a RAM OSD instead (faster; a killed OSD then
# loses everything, so the kill test fails there).
#
# Without the Ceph packages the run is a TAP skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../interop/lib/tap.sh"

for tool in ceph-mon ceph-osd ceph rbd monmaptool ceph-authtool; do
	if ! command -v "$tool" >/dev/null; then
		echo "1..0 # SKIP $tool not installed (apt-get install ceph-mon ceph-osd ceph-common)"
		exit 0
	fi
done
progs=("$@")
if [ ${#progs[@]} -eq 0 ]; then
	build=${BUILD:-$here/../../build}
	mapfile -t progs < <(find "$build/tests/ceph" -maxdepth 1 -type f -name 'test_*' -perm -u+x | sort)
	[ ${#progs[@]} -gt 0 ] || { echo "run.sh: no test programs in $build/tests/ceph" >&2; exit 1; }
fi
store=${CEPH_TEST_STORE:-bluestore}
prog_timeout=${CEPH_TEST_PROG_TIMEOUT:-300}
export CEPH_TEST_UP_TIMEOUT=${CEPH_TEST_UP_TIMEOUT:-90}

dir=$(mktemp -d /tmp/nvr-ceph.XXXXXX)
trap 'CEPH_TEST_QUIET=1 "$here/cluster.sh" down "$dir"' EXIT
t0=$SECONDS
opts=(--cephx --image img1:256M --image io1:64M --image io2:16M)
[ "$store" = bluestore ] && opts+=(--bluestore)
if ! out=$(CEPH_TEST_QUIET=1 "$here/cluster.sh" up "$dir" "${opts[@]}" 2>&1); then
	tap_not_ok "test cluster ($store, cephx) up within ${CEPH_TEST_UP_TIMEOUT} s (one retry)" \
		"$(printf '%s\n' "$out" | tail -n 15)"
	tap_plan
	exit 1
fi
tap_diag "cluster up in $((SECONDS - t0)) s ($store, cephx, load average $(cut -d' ' -f1-3 /proc/loadavg))"
export CEPH_CONF=$dir/ceph.conf NVR_CEPH_DIR=$dir NVR_CEPH_CLUSTER_SH=$here/cluster.sh
export NVR_CEPH_AUTH=cephx
# librados/librbd keep process-lifetime singletons that LeakSanitizer reports at exit
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$here/lsan.supp

# One program's TAP, renumbered into ours, each name prefixed with the program's.
relay() { # relay NAME
	local line name=$1
	while IFS= read -r line; do
		case $line in
		'ok '* | 'not ok '*)
			# "ok 3 - x" -> "ok 3 - [name] x" (tap_relay renumbers)
			if [[ $line =~ ^((not )?ok [0-9]+)( - )?(.*)$ ]]; then
				line="${BASH_REMATCH[1]} - [$name] ${BASH_REMATCH[4]}"
			fi ;;
		esac
		printf '%s\n' "$line"
	done
}

for p in "${progs[@]}"; do
	name=$(basename "$p")
	env=()
	case $name in
	systest_io) env=(NVR_IO_NS1=rbd:rbd/io1,vwc NVR_IO_NS2=rbd:rbd/io2,bs=4096) ;;
	systest_kv | systest_kv_vendor) env=(NVR_KV_RADOS=kv) ;;
	esac
	if [ ! -x "$p" ]; then
		tap_not_ok "[$name] built"
		continue
	fi
	t1=$SECONDS
	tap_relay < <( (env "${env[@]}" timeout -k 10 "$prog_timeout" "$p"; echo "#@RC $?") 2>&1 | relay "$name")
	if [ "$TAP_RELAY_RC" = 124 ]; then
		tap_not_ok "[$name] finished within $prog_timeout s"
	fi
	tap_diag "$name: $((SECONDS - t1)) s"
	# a program that stopped an OSD must have started it again: the next one needs it
	if ! timeout 60 ceph --connect-timeout 30 osd stat 2>/dev/null | grep -q '1 up'; then
		tap_not_ok "[$name] left the cluster with its OSD up" "$(ceph --connect-timeout 5 osd stat 2>&1)"
		break
	fi
done
tap_plan
