#!/bin/bash
# SPDX-License-Identifier: MIT
# `nvring perf --verify` against nvringd on the test cluster (tests/ceph/run.sh): an RBD image
# at 4 KiB random read/write QD 32 and 128 KiB sequential read/write, on one queue and on two
# queues from two threads; KV Store/Retrieve on a kv:rados namespace. Every block written is
# stamped with its LBA and a seed; a read of a block whose write completed before it must
# carry exactly that (nvring perf exits non-zero on a mismatch or an error status).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../interop/lib/tap.sh"
. "$here/../interop/lib/nvringd.sh"
bin=${NVRINGD:-} cli=${NVRING:-}
if [[ ! -x $bin || ! -x $cli || -z ${CEPH_CONF:-} ]]; then
	echo "1..0 # SKIP needs \$NVRINGD, \$NVRING and a test cluster (tests/ceph/run.sh)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'nvringd_kill; rm -rf "$tmp"' EXIT
port=$(free_port)
nqn=nqn.2026-11.io.nvring:perf
nvringd_start "nvringd on rbd:rbd/img1 and kv:rados:kv/perf$$" "$tmp/nvringd.log" "$port" -- \
	"$bin" --rpc-socket none -l "127.0.0.1:$port" --nqn "$nqn" -t 2 --ns rbd:rbd/img1 --ns "kv:rados:kv/perf$$" ||
	{ tap_plan; exit 1; }

perf() { # perf NAME ARGS...: ok when it exits 0 with no verify failure and no error
	local name=$1 out rc
	shift
	out=$(timeout 60 "$cli" perf -a 127.0.0.1 -s "$port" -N "$nqn" --verify --json "$@" 2>"$tmp/err"); rc=$?
	if ((rc == 0)) && python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(not (j["verify_failures"] == 0 and j.get("errors", 0) == 0 and j["ios"] > 0))' "$out" 2>/dev/null; then
		tap_ok "$name"
		python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print("#   %.0f IOPS, %.1f MiB/s, p99 %.1f ms" % (j["iops"], j["mib_per_s"], j["lat_p99_us"] / 1000))' "$out" 2>/dev/null ||
			tap_diag "$out"
	else
		tap_not_ok "$name" "exit status $rc" "$out" "$(tail -5 "$tmp/err")"
	fi
}
perf "RBD 4 KiB randrw QD 32 --verify" --ns 1 -w randrw -o 4k -q 32 -t 4
perf "RBD 128 KiB rw (sequential) QD 8 --verify" --ns 1 -w rw -o 128k -q 8 -t 4
perf "RBD 4 KiB randrw, 2 queues x QD 16 from 2 threads --verify" --ns 1 -w randrw -o 4k -q 16 \
	--queues 2 --threads 2 -t 4
perf "kv:rados Store/Retrieve 4 KiB values, 2000 keys, QD 32 --verify" --ns 2 --kv -w randrw \
	--keys 2000 --value-size 4096 -q 32 -t 4
if kill -0 "$NVRINGD_PID" 2>/dev/null; then
	kill -TERM "$NVRINGD_PID"
	for _ in $(seq 100); do kill -0 "$NVRINGD_PID" 2>/dev/null || break; sleep 0.2; done
	wait "$NVRINGD_PID"; rc=$?
	NVRINGD_PID=
	if ((rc == 0)); then tap_ok "nvringd exits 0 on SIGTERM"; else tap_not_ok "nvringd exits 0 on SIGTERM" "status $rc"; fi
else
	tap_not_ok "nvringd still running after the runs"
fi
((TAP_FAILED == 0)) || nvringd_log_tail 20
tap_plan
