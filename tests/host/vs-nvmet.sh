#!/bin/bash
# vs-nvmet.sh [NVRING] — the nvring CLI suite (discover, identify, write/read/compare, passthru,
# statuses, perf 5 s randrw --verify with and without digests) against the Linux kernel nvmet-tcp
# target in a QEMU guest, through tests/interop/nvmet-fixture.sh. TAP.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
nvring=$(realpath "${1:-${NVRING:-build/tools/nvring}}")
exec "$root/tests/interop/nvmet-fixture.sh" -s 256 -- bash -c \
	"SUITE_PERF_SECS=\${SUITE_PERF_SECS:-5} exec '$here/cli-suite.sh' \"\$NVMET_ADDR\" \"\$NVMET_PORT\" \"\$NVMET_NQN\" '$nvring'"
