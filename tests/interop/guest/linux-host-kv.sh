# Guest side of linux-host-kv.sh: the Linux 6.1 NVMe/TCP host against nvringd at
# $TGT_ADDR:$TGT_PORT, subsystem $TGT_NQN with
#   nsid 1: a Key-Value namespace (CSI 1)      -> only /dev/ngXn1 (no block device)
#   nsid 2: a kvssd-compat KV namespace (NVM)  -> /dev/nvmeXn2 and /dev/ngXn2
# Standard KV opcodes through `nvme io-passthru /dev/ngXn1`, the Samsung KV-SSD vendor
# opcodes through /dev/nvmeXn2, io_uring passthrough with /run/kv-uring (kv-uring.c).
# Every value is compared byte for byte; statuses are compared exactly (SCT/SC, without DNR).
. /run/nvme.sh
NQN=$TGT_NQN
KV_URING=/run/kv-uring
URING_KEYS=${URING_KEYS:-10000}
t0=$(elapsed)

# ---------------------------------------------------------------------------------------
# helpers

# key_dws KEY: the key (at most 16 bytes, zero padded) as 4 little-endian dwords, "0x.. x4"
key_dws() {
	[ -z "$1" ] && { echo 0x0 0x0 0x0 0x0; return 0; }
	printf '%s' "$1" | dd bs=16 count=1 conv=sync 2>/dev/null | od -An -v -tx4 |
		awk '{ printf "0x%s 0x%s 0x%s 0x%s\n", $1, $2, $3, $4 }'
}

# pt OUT DEV ARGS...: nvme io-passthru /dev/DEV ARGS, stdout (the data with -b) to OUT.
# Sets ST (SCT<<8|SC, without More/DNR, as 0x..; 0x0 on success) and RES (CQE DW0, decimal).
pt() {
	pt_out=$1 pt_dev=$2
	shift 2
	echo "+ nvme io-passthru /dev/$pt_dev $*"
	nvme io-passthru "/dev/$pt_dev" "$@" >"$pt_out" 2>/tmp/pt.err
	pt_rc=$?
	cat /tmp/pt.err
	[ "$pt_out" = /tmp/pt.msg ] && cat /tmp/pt.msg
	pt_msgs=$(cat /tmp/pt.err; [ "$pt_out" = /tmp/pt.msg ] && cat /tmp/pt.msg)
	pt_hex=$(echo "$pt_msgs" | sed -n 's/.*NVMe status: .*(0x\([0-9a-fA-F]*\)).*/\1/p' | tail -n 1)
	pt_res=$(echo "$pt_msgs" | sed -n 's/.*result: 0x\([0-9a-fA-F]*\).*/\1/p' | tail -n 1)
	RES=
	[ -n "$pt_res" ] && RES=$((0x$pt_res))
	if [ -n "$pt_hex" ]; then
		ST=$(printf '0x%x' $((0x$pt_hex & 0x7ff)))
	elif [ $pt_rc = 0 ] && [ -n "$pt_res" ]; then
		ST=0x0
	else
		ST="none (exit $pt_rc)"
	fi
	echo "status $ST, result ${RES:-none}"
}

# Standard KV commands on the KV namespace (/dev/$kvng): key in CDW2-3 and CDW14-15,
# CDW11 = key length | options << 8.
# std OPC KEY OPTS OUT ARGS...: KL is the key's length unless KL is set in the environment.
std() {
	std_opc=$1 std_key=$2 std_opts=$3 std_out=$4
	shift 4
	# shellcheck disable=SC2046  # the 4 dwords, split on purpose
	set -- $(key_dws "$std_key") "$@"
	std_kl=${KL:-${#std_key}}
	std_d2=$1 std_d3=$2 std_d14=$3 std_d15=$4
	shift 4
	pt "$std_out" "$kvng" --opcode=$std_opc --namespace-id=$kvnsid \
		--cdw2=$std_d2 --cdw3=$std_d3 --cdw14=$std_d14 --cdw15=$std_d15 \
		--cdw11=$((std_kl | std_opts << 8)) "$@"
}
kv_store() {    # kv_store KEY FILE [OPTS]
	kv_n=$(wc -c <"$2")
	std 0x01 "$1" "${3:-0}" /tmp/pt.msg --write --data-len=$kv_n --cdw10=$kv_n --input-file="$2"
}
kv_retrieve() { # kv_retrieve KEY BUFLEN OUT
	std 0x02 "$1" 0 "$3" --read --data-len=$2 --cdw10=$2 --raw-binary
}
kv_exist() { std 0x14 "$1" 0 /tmp/pt.msg; }
kv_delete() { std 0x10 "$1" 0 /tmp/pt.msg; }
kv_list() {     # kv_list STARTKEY BUFLEN OUT (KL=0 for "from the first key")
	std 0x06 "$1" 0 "$3" --read --data-len=$2 --cdw10=$2 --raw-binary
}

# Vendor (Samsung KV-SSD / NVMeVirt layout): CDW10 value length in dwords, CDW11 bits 7:0
# key length - 1 (bits 17:16: bytes of the last dword that are not value), key in CDW12-15.
# ven OPC DEV KEY OUT ARGS...
ven() {
	ven_opc=$1 ven_dev=$2 ven_key=$3 ven_out=$4
	shift 4
	# shellcheck disable=SC2046
	set -- $(key_dws "$ven_key") "$@"
	ven_d12=$1 ven_d13=$2 ven_d14=$3 ven_d15=$4
	shift 4
	pt "$ven_out" "$ven_dev" --opcode=$ven_opc --namespace-id="$(nsid_of "$ven_dev")" \
		--cdw12=$ven_d12 --cdw13=$ven_d13 --cdw14=$ven_d14 --cdw15=$ven_d15 "$@"
}
ven_cdw11() {   # ven_cdw11 KEY VALUE_BYTES
	echo $(( (${#1} - 1) | ((4 - $2 % 4) % 4) << 16 ))
}
ven_store() {   # ven_store DEV KEY FILE
	vs_n=$(wc -c <"$3")
	ven 0x81 "$1" "$2" /tmp/pt.msg --write --data-len=$vs_n --cdw10=$(( (vs_n + 3) / 4 )) \
		--cdw11="$(ven_cdw11 "$2" "$vs_n")" --input-file="$3"
}
ven_retrieve() { # ven_retrieve DEV KEY LEN OUT
	ven 0x90 "$1" "$2" "$4" --read --data-len=$3 --cdw10=$(( ($3 + 3) / 4 )) \
		--cdw11=$(( ${#2} - 1 )) --raw-binary
}
ven_exist() { ven 0xb3 "$1" "$2" /tmp/pt.msg --cdw11=$(( ${#2} - 1 )); }
ven_delete() { ven 0xa1 "$1" "$2" /tmp/pt.msg --cdw11=$(( ${#2} - 1 )); }

is_st() { [ "$ST" = "$1" ] || { echo "status $ST, expected $1"; return 1; }; }
is_res() { [ "$RES" = "$1" ] || { echo "result ${RES:-none}, expected $1"; return 1; }; }
same() {        # same A B [N]: the first N bytes (default: all of B) of A and B are equal
	if [ -n "${3:-}" ]; then
		head -c "$3" "$1" >/tmp/same.a && head -c "$3" "$2" >/tmp/same.b &&
			[ "$(wc -c </tmp/same.b)" = "$3" ] && cmp /tmp/same.a /tmp/same.b
	else
		cmp "$1" "$2"
	fi
}

# list_keys FILE: the count, then one key per line (u32 count; {u16 len; key; pad to 4})
list_keys() {
	od -An -v -tu1 "$1" | awk '{ for (i = 1; i <= NF; i++) b[n++] = $i } END {
		cnt = b[0] + 256 * b[1] + 65536 * b[2] + 16777216 * b[3]; print cnt; off = 4
		for (k = 0; k < cnt && off + 2 <= n; k++) {
			l = b[off] + 256 * b[off + 1]; s = ""
			for (j = 0; j < l; j++) s = s sprintf("%c", b[off + 2 + j])
			print s; off += int((2 + l + 3) / 4) * 4
		} }'
}
list_count() { od -An -tu4 -N4 "$1" | tr -d ' '; }

# Devices of the subsystem: ng and block device of each nsid.
subsys() {
	for s in /sys/class/nvme-subsystem/nvme-subsys*; do
		[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] && echo "$s" && return 0
	done
	return 1
}
nsid_of() {     # nsid_of DEV (ngXnY or nvmeXnY): the namespace ID the kernel gives it
	nvme get-ns-id "/dev/$1" 2>/dev/null | sed -n 's/.*namespace-id: *\([0-9a-fx]*\).*/\1/p' |
		{ read -r v && echo $((v)); }
}
ng_for() {      # ng_for NSID: the generic char device of that namespace
	for g in "$(subsys)"/ng*; do
		[ -c "/dev/${g##*/}" ] || continue
		[ "$(nsid_of "${g##*/}")" = "$1" ] && echo "${g##*/}" && return 0
	done
	return 1
}
both_ready() { ng_for 1 >/dev/null && ng_for 2 >/dev/null; }
ctrl_gone() { ! nvme_ctrl_dev "$NQN" >/dev/null; }

# ---------------------------------------------------------------------------------------
check "modprobe nvme-tcp" modprobe nvme-tcp
if ! check "nvme connect -t tcp -a $TGT_ADDR -s $TGT_PORT (nvringd, 2 KV namespaces)" \
	nvme connect -t tcp -a "$TGT_ADDR" -s "$TGT_PORT" -n "$NQN"; then
	tap_done; exit 1
fi
if ! check "generic char devices for nsid 1 and 2 appear" wait_for 15 both_ready; then
	ls -l /dev/ng* /dev/nvme* >&3 2>&1
	tap_done; exit 1
fi
kvng=$(ng_for 1) cpng=$(ng_for 2)
kvnsid=1
kvblk=nvme${kvng#ng} cpblk=nvme${cpng#ng}
diag "KV namespace: /dev/$kvng; kvssd-compat namespace: /dev/$cpblk + /dev/$cpng"

# --- device nodes -----------------------------------------------------------------------
check "KV namespace (CSI 1): /dev/$kvng is a char device" test -c "/dev/$kvng"
check "KV namespace: no block device /dev/$kvblk, not in nvme list" \
	sh -c "[ ! -e /dev/$kvblk ] && ! nvme list | grep -q '^/dev/$kvblk '"
check "kernel: \"block device for nsid 1 not supported (csi 1)\"" \
	sh -c "dmesg | grep -q 'block device for nsid 1 not supported (csi 1)'"
csi_is() {      # csi_is DEV CSI: the Namespace Identification Descriptor list says so
	nvme ns-descs "/dev/$1" >/tmp/descs 2>&1; cat /tmp/descs
	grep -Eiq "^csi *: *(0x)?$2\$" /tmp/descs
}
check "ns-descs /dev/$kvng: CSI 1 (Key Value)" csi_is "$kvng" 1
check "kvssd-compat namespace: /dev/$cpblk block device and /dev/$cpng" \
	sh -c "[ -b /dev/$cpblk ] && [ -c /dev/$cpng ] && nvme list | grep -q '^/dev/$cpblk '"
check "ns-descs /dev/$cpng: CSI 0 (NVM)" csi_is "$cpng" 0
zero_view() {
	dd if=/dev/$cpblk of=/tmp/zv bs=4096 count=16 iflag=direct 2>/dev/null &&
		[ "$(wc -c </tmp/zv)" = 65536 ] && ! od -An -v -tx1 /tmp/zv | grep -q '[1-9a-f]'
}
check "kvssd-compat block view: first 64 KiB of /dev/$cpblk read as zeroes" zero_view

# --- standard opcodes through nvme io-passthru on /dev/ngXn1 ------------------------------
K1=interop-kv-key01 K2=a K3=interop-kv-key02 KX=interop-kv-nokey
dd if=/dev/urandom of=/tmp/v1 bs=1000 count=5 2>/dev/null     # 5000 B
dd if=/dev/urandom of=/tmp/v1b bs=1000 count=3 2>/dev/null    # 3000 B
printf 'Z' >/tmp/v2                                            # 1 B
dd if=/dev/urandom of=/tmp/v3 bs=65536 count=1 2>/dev/null    # 64 KiB (R2T/H2CData)

check "Store 0x01 '$K1' (16-byte key), 5000-byte value: success, result 0" \
	eval 'kv_store "$K1" /tmp/v1 && is_st 0x0 && is_res 0'
check "Store 0x01 '$K2' (1-byte key), 1-byte value: success" eval 'kv_store "$K2" /tmp/v2 && is_st 0x0'
check "Store 0x01 '$K3', 64 KiB value: success" eval 'kv_store "$K3" /tmp/v3 && is_st 0x0'

check "Retrieve 0x02 '$K1' (5000-byte buffer): same bytes, result = 5000" \
	eval 'kv_retrieve "$K1" 5000 /tmp/o && is_st 0x0 && is_res 5000 && same /tmp/o /tmp/v1'
check "Retrieve 0x02 '$K1' (8192-byte buffer): the 5000 bytes, result = 5000" \
	eval 'kv_retrieve "$K1" 8192 /tmp/o && is_st 0x0 && is_res 5000 && same /tmp/o /tmp/v1 5000'
check "Retrieve 0x02 '$K1' (1000-byte buffer): first 1000 bytes, result = full size 5000" \
	eval 'kv_retrieve "$K1" 1000 /tmp/o && is_st 0x0 && is_res 5000 && same /tmp/o /tmp/v1 1000'
check "Retrieve 0x02 '$K2': 1 byte, result = 1" \
	eval 'kv_retrieve "$K2" 4096 /tmp/o && is_st 0x0 && is_res 1 && same /tmp/o /tmp/v2 1'
check "Retrieve 0x02 '$K3': 64 KiB, same bytes, result = 65536" \
	eval 'kv_retrieve "$K3" 65536 /tmp/o && is_st 0x0 && is_res 65536 && same /tmp/o /tmp/v3'
check "Exist 0x14 '$K1': success" eval 'kv_exist "$K1" && is_st 0x0'
check "Exist 0x14 '$KX' (never stored): status 0x87 Key Does Not Exist" eval 'kv_exist "$KX" && is_st 0x87'
check "Retrieve 0x02 '$KX': status 0x87" eval 'kv_retrieve "$KX" 4096 /tmp/o; is_st 0x87'
check "Store must-not-exist (CDW11 option 0x02) on '$K1': status 0x89 Key Exists" \
	eval 'kv_store "$K1" /tmp/v1b 2; is_st 0x89'
check "Store must-exist (CDW11 option 0x01) on '$KX': status 0x87" eval 'kv_store "$KX" /tmp/v1b 1; is_st 0x87'
check "Store must-exist on '$K1' (3000 bytes over 5000): success, Retrieve gives the new value" \
	eval 'kv_store "$K1" /tmp/v1b 1 && is_st 0x0 && kv_retrieve "$K1" 8192 /tmp/o && is_res 3000 && same /tmp/o /tmp/v1b 3000'
check "Store with key length 17: status 0x86 Invalid Key Size" eval 'KL=17; kv_store "$K1" /tmp/v2; KL=; is_st 0x86'
check "Store with key length 0: status 0x86" eval 'KL=0; kv_store "$K1" /tmp/v2; KL=; is_st 0x86'

list_is() {    # list_is FILE KEY...: count and keys, in order
	list_keys "$1" >/tmp/l.got
	shift
	{ echo $#; for k in "$@"; do echo "$k"; done; } >/tmp/l.want
	echo "listed:"; cat /tmp/l.got
	cmp /tmp/l.got /tmp/l.want
}
check "List 0x06 from the first key (4 KiB): count 3, '$K2' '$K1' '$K3' in key order" \
	eval 'KL=0; kv_list "" 4096 /tmp/l; KL=; is_st 0x0 && list_is /tmp/l "$K2" "$K1" "$K3"'
check "List 0x06 into 28 bytes: count 2 ('$K2' '$K1'), truncated" \
	eval 'KL=0; kv_list "" 28 /tmp/l; KL=; is_st 0x0 && list_is /tmp/l "$K2" "$K1"'
check "List 0x06 from start key '$K3': count 1, '$K3'" \
	eval 'kv_list "$K3" 4096 /tmp/l && is_st 0x0 && list_is /tmp/l "$K3"'
check "Delete 0x10 '$K3': success" eval 'kv_delete "$K3" && is_st 0x0'
check "Exist 0x14 '$K3' after Delete: status 0x87" eval 'kv_exist "$K3"; is_st 0x87'
check "Retrieve 0x02 '$K3' after Delete: status 0x87" eval 'kv_retrieve "$K3" 4096 /tmp/o; is_st 0x87'
check "List 0x06 after Delete: count 2, '$K2' '$K1'" \
	eval 'KL=0; kv_list "" 4096 /tmp/l; KL=; is_st 0x0 && list_is /tmp/l "$K2" "$K1"'

# --- vendor opcodes through the kvssd-compat namespace's block device ------------------
VK=kvssd-script-k01 VK2=kvssd-odd-len-k2
dd if=/dev/urandom of=/tmp/vv bs=4196 count=1 2>/dev/null     # 4096 + 100 bytes
dd if=/dev/urandom of=/tmp/vo bs=4097 count=1 2>/dev/null     # not a multiple of 4
check "vendor 0x81 store via /dev/$cpblk: '$VK', 4196 bytes (CDW10 = 1049 dwords, CDW11 = 15): success" \
	eval 'ven_store "$cpblk" "$VK" /tmp/vv && is_st 0x0'
check "vendor 0x90 retrieve via /dev/$cpblk: the same 4196 bytes" \
	eval 'ven_retrieve "$cpblk" "$VK" 4196 /tmp/o && is_st 0x0 && same /tmp/o /tmp/vv'
diag "vendor 0x90 retrieve: CQE DW0 = ${RES:-none}"
check "vendor 0x81/0x90 via /dev/$cpblk, 4097-byte value (--data-len 4097): 4097 bytes back" \
	eval 'ven_store "$cpblk" "$VK2" /tmp/vo && is_st 0x0 && ven_retrieve "$cpblk" "$VK2" 4097 /tmp/o && is_st 0x0 && same /tmp/o /tmp/vo'
check "vendor 0x90 via /dev/$cpng (char device): the same 4196 bytes" \
	eval 'ven_retrieve "$cpng" "$VK" 4196 /tmp/o && is_st 0x0 && same /tmp/o /tmp/vv'
check "vendor 0xB3 exist '$VK': success" eval 'ven_exist "$cpblk" "$VK" && is_st 0x0'
check "vendor 0xA1 delete '$VK': success" eval 'ven_delete "$cpblk" "$VK" && is_st 0x0'
check "vendor 0xB3 exist after delete: status 0x310 (KV-SSD key does not exist)" \
	eval 'ven_exist "$cpblk" "$VK"; is_st 0x310'
check "vendor 0x90 retrieve after delete: status 0x310" \
	eval 'ven_retrieve "$cpblk" "$VK" 4196 /tmp/o; is_st 0x310'
check "the namespaces are separate stores: '$K1' not in nsid 2 (vendor exist: 0x310)" \
	eval 'ven_exist "$cpblk" "$K1"; is_st 0x310'
check "vendor 0x81 store on the KV namespace /dev/$kvng, standard Retrieve 0x02: same bytes" \
	eval 'ven_store "$kvng" "$VK" /tmp/vv && is_st 0x0 && kv_retrieve "$VK" 8192 /tmp/o && is_res 4196 && same /tmp/o /tmp/vv 4196 && kv_delete "$VK" && is_st 0x0'

# --- io_uring NVMe passthrough ------------------------------------------------------------
check "kv-uring /dev/$kvng: $URING_KEYS keys (16 B, values 1..8192 B) stored and retrieved at QD 64, every byte and CQE result checked" \
	sh -c "$KV_URING /dev/$kvng $URING_KEYS 64 >/tmp/uring.out 2>&1; rc=\$?; cat /tmp/uring.out; exit \$rc"
while read -r l; do diag "kv-uring: $l"; done </tmp/uring.out
check "List 0x06 (256 KiB) after kv-uring: count $((URING_KEYS + 2))" \
	eval 'KL=0; kv_list "" 262144 /tmp/l; KL=; is_st 0x0 && c=$(list_count /tmp/l) && echo "count $c" && [ "$c" = $((URING_KEYS + 2)) ]'
check "Exist 0x14 via nvme-cli on a key kv-uring stored (kvuring-00009999): success" \
	eval 'kv_exist kvuring-0000$(printf %04d $((URING_KEYS - 1))) && is_st 0x0'

check "nvme disconnect" nvme disconnect -n "$NQN"
check "controller removed" wait_for 15 ctrl_gone
diag "guest checks took $(awk -v a="$t0" -v b="$(elapsed)" 'BEGIN { printf "%.1f", b - a }') s"
tap_done
