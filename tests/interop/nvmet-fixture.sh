#!/bin/bash
# nvmet-fixture.sh [-b DIR] [-P HOSTPORT] [-n NQN] [-s SIZE_MB] [-T SECS] [-k LOG] -- CMD [ARGS...]
#
# Boot a guest running the Linux kernel NVMe/TCP target (nvmet-tcp, one RAM
# namespace of SIZE_MB, default 512) with its port 4420 forwarded to
# 127.0.0.1:HOSTPORT (default: a free port), run CMD on the host once the
# target listens, shut the guest down, and exit with CMD's status.
# CMD's output passes through (TAP stays TAP); CMD sees NVMET_ADDR,
# NVMET_PORT and NVMET_NQN. Digests are the host's choice: nvmet accepts both.
# If the target never came up, prints a failing TAP result and exits 1.
# -k LOG keeps the guest's kernel console (nvmet's messages) in LOG; CMD sees
# it as NVMET_LOG.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/tap.sh"

dir=${INTEROP_DIR:-build/interop} port= nqn=nqn.2024-01.io.nvring:linux-target size=512 limit=600 klog=
while getopts "b:P:n:s:T:k:" o; do
	case $o in
	b) dir=$OPTARG ;; P) port=$OPTARG ;; n) nqn=$OPTARG ;; s) size=$OPTARG ;; T) limit=$OPTARG ;; k) klog=$OPTARG ;;
	*) echo "usage: nvmet-fixture.sh [-b DIR] [-P PORT] [-n NQN] [-s MB] [-T SECS] -- CMD..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[[ ${1:-} == -- ]] && shift
(($#)) || { echo "nvmet-fixture.sh: no command" >&2; exit 2; }
[[ -n $port ]] || port=$(free_port)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The hook runs CMD with the target's coordinates and records its status.
printf -v cmd '%q ' "$@"
hook="export NVMET_ADDR=127.0.0.1 NVMET_PORT=$port NVMET_NQN=$(printf %q "$nqn") NVMET_LOG=$(printf %q "$klog")
cd $(printf %q "$PWD") && $cmd
rc=\$?; echo \$rc >$tmp/rc; exit \$rc"

"$here/boot.sh" -b "$dir" -t $((limit + 120)) -T "$limit" -p "$port:4420" \
	-m $((size + 1024))M -e NVMET_NQN="$nqn" -e NVMET_SIZE_MB="$size" -e NVMET_WAIT="$((limit + 30))" \
	${klog:+-k "$klog"} -H "$hook" "$here/guest/nvmet-fixture.sh"
brc=$?
if [[ ! -s $tmp/rc ]]; then
	echo "1..1"
	echo "not ok 1 - nvmet fixture: Linux target came up and ran the host command (boot status $brc)"
	exit 1
fi
exit "$(cat "$tmp/rc")"
