#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/ceph/cluster.sh itself (TAP): up, a second up that changes nothing, env, a usable image,
# osd-stop/osd-start, down that leaves no daemon, no listener and no directory, down again,
# and up/down on a directory that was never a cluster.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cs=$here/cluster.sh
for tool in ceph-mon ceph-osd ceph rbd monmaptool ceph-authtool; do
	command -v "$tool" >/dev/null || { echo "1..0 # SKIP $tool not installed"; exit 0; }
done
n=0 fails=0
ok() { # ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}
base=$(mktemp -d /tmp/nvr-cstest.XXXXXX)
dir=$base/c
trap 'CEPH_TEST_QUIET=1 "$cs" down "$dir" >/dev/null 2>&1; rm -rf "$base"' EXIT
export CEPH_TEST_QUIET=1

t0=$SECONDS
"$cs" up "$dir" --image a:64M >/dev/null 2>&1
ok $? "up (auth none) in $((SECONDS - t0)) s"
pids=$(awk '{print $2}' "$dir/pids" 2>/dev/null | tr '\n' ' ')
mon_pid=$(awk '$1 == "mon.a" {print $2}' "$dir/pids" 2>/dev/null)
"$cs" up "$dir" >/dev/null 2>&1
ok $? "a second up succeeds"
[ "$(awk '{print $2}' "$dir/pids" | tr '\n' ' ')" = "$pids" ]
ok $? "and leaves the running daemons as they are"
eval "$("$cs" env "$dir")"
[ "$CEPH_CONF" = "$dir/ceph.conf" ]
ok $? "env prints CEPH_CONF=$dir/ceph.conf"
rbd -c "$CEPH_CONF" info rbd/a 2>/dev/null | grep -q "size 64 MiB"
ok $? "image rbd/a (64 MiB) exists"
port=$(sed -n 's/^mon host = \[v2:127.0.0.1:\([0-9]*\),.*/\1/p' "$CEPH_CONF")
[ -n "$port" ] && [ "$port" != 3300 ] && ! ss -ltnH | grep -v '127.0.0.1' | grep -q ":$port "
ok $? "the monitor listens on 127.0.0.1:$port only, not Ceph's default port"
"$cs" osd-stop "$dir" 0 TERM && ! ceph -c "$CEPH_CONF" --connect-timeout 5 osd stat 2>/dev/null |
	grep -q "1 up"
ok $? "osd-stop: osd.0 is down"
"$cs" osd-start "$dir" 0 >/dev/null 2>&1
deadline=$((SECONDS + 30))
until ceph -c "$CEPH_CONF" --connect-timeout 5 osd stat 2>/dev/null | grep -q "1 up" ||
	[ $SECONDS -ge $deadline ]; do sleep 0.2; done
ceph -c "$CEPH_CONF" osd stat 2>/dev/null | grep -q "1 up"
ok $? "osd-start: osd.0 is up again"
"$cs" down "$dir" >/dev/null 2>&1
ok $? "down"
alive=0
for p in $pids $(awk '{print $2}' "$dir/pids" 2>/dev/null); do
	st=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ] && alive=1
done
[ $alive = 0 ]
ok $? "no daemon of the cluster runs (mon was $mon_pid)"
! ss -ltnH | grep -q "127.0.0.1:$port "
ok $? "nothing listens on the monitor port any more"
[ ! -e "$dir" ]
ok $? "the directory is gone"
"$cs" down "$dir" >/dev/null 2>&1
ok $? "down again succeeds"
mkdir -p "$base/other" && echo keep >"$base/other/file"
"$cs" down "$base/other" >/dev/null 2>&1
[ $? -ne 0 ] && [ -f "$base/other/file" ]
ok $? "down refuses a directory that is not a test cluster, and leaves it"
echo "1..$n"
exit $fails
