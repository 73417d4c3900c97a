#!/bin/bash
# kv-vs-fake.sh FAKE_TARGETD [NVRING] — kv-suite.sh against the fake target's KV namespace (nsid 2).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fake=$1 nvring=${2:-build/tools/nvring}
coproc FAKE { exec "$fake"; }
pid=$FAKE_PID
read -r port <&"${FAKE[0]}" || { echo "1..1"; echo "not ok 1 - fake target started"; exit 1; }
"$here/kv-suite.sh" 127.0.0.1 "$port" nqn.2026-01.io.nvring:fake "$nvring" 2
rc=$?
exec {FAKE[1]}>&-   # EOF on its stdin: it stops
wait "$pid"
exit $rc
