#!/bin/bash
# SPDX-License-Identifier: MIT
# A build without librbd/librados (-Drbd=disabled): rbd and kv:rados namespaces are refused at
# start with exit 2 and a message naming the namespace and the missing library.
set -uo pipefail
bin=$1
n=0 fails=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
[ -x "$bin" ] || { echo "1..0 # SKIP nvringd not built"; exit 0; }
for spec in rbd:rbd/img1 kv:rados:kv; do
	out=$(timeout 20 "$bin" --rpc-socket none -l 127.0.0.1:0 --ns "$spec" 2>&1); rc=$?
	ok $((rc != 2)) "$spec: exit 2 (got $rc)"
	echo "$out" | grep -q "namespace 1: .*built without librados\|namespace 1: .*built without librbd"
	ok $? "$spec: the message says why: $(echo "$out" | head -1)"
done
echo "1..$n"
[ $fails -eq 0 ]
