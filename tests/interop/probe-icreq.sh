#!/bin/bash
# probe-icreq.sh [ADDR PORT] — host-side TAP probe of an NVMe/TCP target's
# connection setup: send an ICReq asking for header+data digests, check the
# ICResp bytes (reference A.4). Defaults: $NVMET_ADDR $NVMET_PORT, as set by
# nvmet-fixture.sh. Proves a forwarded target port end to end without any
# nvring code; every wait is bounded.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/tap.sh"
addr=${1:-${NVMET_ADDR:?}} port=${2:-${NVMET_PORT:?}}

# ICReq: type 0, flags 0, hlen 128, pdo 0, plen 128 (le32), pfv 0, hpda 0,
# dgst 3 (header+data), maxr2t 0, 112 reserved zero bytes.
icreq() {
	printf '\x00\x00\x80\x00\x80\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00'
	head -c 112 /dev/zero
}
# One connection, bounded: write the ICReq, read exactly 128 bytes.
resp=$(timeout 10 bash -c '
	exec 5<>/dev/tcp/$1/$2 || exit 1
	cat >&5
	head -c 128 <&5 | od -An -v -tx1' probe "$addr" "$port" < <(icreq) | tr -s ' \n' ' ')
read -ra b <<<"$resp"
le32() { echo $((16#${b[$1+3]}${b[$1+2]}${b[$1+1]}${b[$1]})); }

if tap_check "ICResp received (128 bytes) from $addr:$port" test "${#b[@]}" -eq 128; then
	tap_check "ICResp type 0x01, hlen 128, pdo 0" test "${b[0]}${b[2]}${b[3]}" = 018000
	tap_check "ICResp plen 128" test "$(le32 4)" -eq 128
	tap_check "ICResp pfv 0, cpda 0" test "${b[8]}${b[9]}${b[10]}" = 000000
	tap_check "ICResp accepts both digests (dgst 0x03)" test "${b[11]}" = 03
	max=$(le32 12)
	tap_check "ICResp maxh2cdata $max: multiple of 4, >= 4096" \
		test $((max % 4)) -eq 0 -a "$max" -ge 4096
else
	tap_diag "got ${#b[@]} bytes: $resp"
fi
tap_plan
