#!/bin/bash
# SPDX-License-Identifier: MIT
# Run Ceph tests against a throw-away cluster: bring one up (cephx, tests/ceph/cluster.sh),
# run each test program given (TAP on stdout), tear the cluster down whatever happens.
#
#   tests/ceph/run.sh PROGRAM...     (meson registers one per test; exit status = failures)
#   tests/ceph/run.sh                every tests/ceph/test_* program of build/ (or $BUILD)
#
# Without the Ceph packages the run is a TAP skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
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
dir=$(mktemp -d /tmp/nvr-ceph.XXXXXX)
trap 'CEPH_TEST_QUIET=1 "$here/cluster.sh" down "$dir"' EXIT
if ! CEPH_TEST_QUIET=1 "$here/cluster.sh" up "$dir" --cephx --image img1:256M >&2; then
	echo "1..1"
	echo "not ok 1 - test cluster bring-up"
	exit 1
fi
export CEPH_CONF=$dir/ceph.conf NVR_CEPH_DIR=$dir NVR_CEPH_CLUSTER_SH=$here/cluster.sh
export NVR_CEPH_AUTH=cephx
# librados/librbd keep process-lifetime singletons that LeakSanitizer reports at exit
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$here/lsan.supp
fail=0
for p in "${progs[@]}"; do
	[ ${#progs[@]} -gt 1 ] && echo "# $p"
	"$p" || fail=$((fail + 1))
done
exit $fail
