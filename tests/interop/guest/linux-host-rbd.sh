# Guest side of linux-host-rbd.sh: the Linux 6.1 NVMe/TCP host against nvringd serving Ceph
# RBD images (nvringd runs on the host machine at $TGT_ADDR, Ceph on the host's 127.0.0.1).
#   $RBD_NQN at $GW_A_PORT: nsid 1 rbd:rbd/r512 (512-byte blocks), nsid 2 rbd:rbd/r4k,bs=4096
#   $GW_NQN at $GW_A_PORT and $GW_B_PORT: one image (rbd:rbd/gw) served by two nvringd
#     processes as one namespace (same NGUID, disjoint controller IDs): Linux native
#     multipath joins the two paths into one disk.
# Checks: fio write+verify at 512 B..128 KiB on both block sizes, ext4 (mkfs, files,
# remount, checksums, e2fsck), then on the two-gateway disk: both paths live, fio verify,
# gateway A SIGKILLed (host hook kill-a) while fio write+verify runs: no I/O error, every
# block verified, the stall measured; gateway A restarted (start-a): its path comes back.
. /run/nvme.sh
t0=$(elapsed)

check "modprobe nvme-tcp" modprobe nvme-tcp
check "native multipath is on" sh -c '[ "$(cat /sys/module/nvme_core/parameters/multipath)" = Y ]'

ctrls_live() {  # ctrls_live NQN: how many live controllers of NQN
	_n=0
	for _c in /sys/class/nvme/nvme*; do
		[ "$(cat "$_c/subsysnqn" 2>/dev/null)" = "$1" ] && [ "$(cat "$_c/state" 2>/dev/null)" = live ] &&
			_n=$((_n + 1))
	done
	echo $_n
}
has_ctrls() { [ "$(ctrls_live "$1")" -ge "$2" ]; }
ns_ready() { nvme_ns_dev "$1" >/dev/null; }

fio_verify() {   # fio_verify DEV BS SIZE [OFFSET]
	fio --name=v --filename=/dev/$1 --ioengine=libaio --direct=1 \
		--rw=randwrite --bs=$2 --iodepth=16 --size=$3 --offset=${4:-0} \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --randrepeat=0
}

# ---- one gateway, two RBD namespaces ----------------------------------------------------
conn_a="-t tcp -a $TGT_ADDR -s $GW_A_PORT"
if check "nvme connect $RBD_NQN" nvme connect $conn_a -n "$RBD_NQN" &&
	check "both RBD namespaces appear" wait_for 20 sh -c "[ \$(. /run/nvme.sh; nvme_ns_devs $RBD_NQN | wc -l) = 2 ]"; then
	devs=$(echo $(nvme_ns_devs "$RBD_NQN"))
	d512=$(echo $devs | cut -d' ' -f1) d4k=$(echo $devs | cut -d' ' -f2)
	diag "RBD namespaces: $d512 (rbd/r512) $d4k (rbd/r4k,bs=4096)"
	check "$d512: 512-byte blocks, 256 MiB" sh -c "[ \$(cat /sys/block/$d512/queue/logical_block_size) = 512 ] &&
		[ \$(cat /sys/block/$d512/size) = 524288 ]"
	check "$d4k: 4096-byte blocks, 256 MiB" sh -c "[ \$(cat /sys/block/$d4k/queue/logical_block_size) = 4096 ] &&
		[ \$(cat /sys/block/$d4k/size) = 524288 ]"
	check "id-ns: DLFEAT says deallocated blocks read zeroes" sh -c \
		"nvme id-ns /dev/$d512 | grep -Eq '^dlfeat +: (9|1)\$'"
	check "fio randwrite+verify bs=512 on $d512" fio_verify $d512 512 2M
	check "fio randwrite+verify bs=4k on $d512" fio_verify $d512 4k 8M 16M
	check "fio randwrite+verify bs=128k on $d512" fio_verify $d512 128k 32M 64M
	check "fio randwrite+verify bs=4k on $d4k" fio_verify $d4k 4k 8M
	check "fio randwrite+verify bs=16k on $d4k" fio_verify $d4k 16k 16M 16M
	check "fio randwrite+verify bs=128k on $d4k" fio_verify $d4k 128k 32M 64M
	# Deallocate (blkdiscard) then read: zeroes, as DLFEAT promised
	discard_zeroes() {
		dd if=/dev/urandom of=/dev/$d512 bs=64k count=16 seek=2048 oflag=direct 2>/dev/null &&
		blkdiscard -o $((2048 * 65536)) -l $((16 * 65536)) /dev/$d512 &&
		dd if=/dev/zero of=/tmp/zero bs=64k count=16 2>/dev/null &&
		dd if=/dev/$d512 bs=64k count=16 skip=2048 iflag=direct 2>/dev/null | cmp - /tmp/zero
	}
	if command -v blkdiscard >/dev/null; then
		check "blkdiscard of 1 MiB reads back zeroes" discard_zeroes
	else
		skip "blkdiscard of 1 MiB reads back zeroes" "no blkdiscard in the guest"
	fi
	# ext4 on the 4 KiB namespace (mkfs discards the whole image first)
	check "mkfs.ext4 /dev/$d4k" mkfs.ext4 -F -q /dev/$d4k
	mkdir -p /mnt/t
	check "mount ext4" mount -t ext4 /dev/$d4k /mnt/t
	write_files() {
		i=0
		for kb in 1 4 33 128 1000 4096 8191; do
			i=$((i + 1))
			dd if=/dev/urandom of=/mnt/t/f$i bs=1024 count=$kb 2>/dev/null || return 1
		done
		mkdir -p /mnt/t/d && cp /mnt/t/f* /mnt/t/d/ &&
		(cd /mnt/t && sha256sum f* d/*) >/tmp/sums && sync
	}
	check "write 14 files (26 MiB) to ext4" write_files
	check "umount" umount /mnt/t
	echo 3 >/proc/sys/vm/drop_caches
	check "mount again, read back: checksums match" sh -c \
		"mount -t ext4 /dev/$d4k /mnt/t && cd /mnt/t && sha256sum -c /tmp/sums"
	check "umount" umount /mnt/t
	check "e2fsck -fn: clean" e2fsck -fn /dev/$d4k
	check "nvme disconnect $RBD_NQN" nvme disconnect -n "$RBD_NQN"
fi

# ---- two gateways, one image --------------------------------------------------------------
if check "nvme connect $GW_NQN through gateway A" nvme connect $conn_a -n "$GW_NQN" &&
	check "nvme connect $GW_NQN through gateway B" nvme connect -t tcp -a "$TGT_ADDR" -s "$GW_B_PORT" -n "$GW_NQN" &&
	check "two live controllers in one subsystem" wait_for 20 has_ctrls "$GW_NQN" 2 &&
	check "one namespace with two paths" wait_for 20 ns_ready "$GW_NQN"; then
	gw=$(nvme_ns_dev "$GW_NQN")
	subsys=$(basename "$(dirname "$(readlink -f /sys/block/$gw)")" 2>/dev/null)
	# the path disks nvmeScCnN sit under their controllers (6.1 has no /sys/block/HEAD/multipath)
	paths=$(ls -d /sys/class/nvme/nvme*/"${gw%n*}"c*n"${gw##*n}" 2>/dev/null | xargs -n1 basename 2>/dev/null)
	diag "multipath disk $gw; subsystem $subsys; paths: $(echo $paths)"
	check "two paths under $gw" sh -c "[ $(echo $paths | wc -w) = 2 ]"
	check "controller IDs differ" sh -c "for c in /sys/class/nvme/nvme*; do
		[ \"\$(cat \$c/subsysnqn)\" = $GW_NQN ] && cat \$c/cntlid; done | sort | uniq -d | grep -q . && exit 1; exit 0"
	diag "cntlids: $(for c in /sys/class/nvme/nvme*; do [ "$(cat $c/subsysnqn)" = "$GW_NQN" ] && echo "$(basename $c)=$(cat $c/cntlid)($(cat $c/address | tr -d ' '))"; done | tr '\n' ' ')"
	echo round-robin >/sys/class/nvme-subsystem/$subsys/iopolicy 2>/dev/null &&
		diag "iopolicy round-robin: both gateways carry I/O"
	check "fio randwrite+verify bs=4k on $gw (both gateways)" fio_verify $gw 4k 16M

	# fio write+verify in the background; gateway A is SIGKILLed 3 s into it
	fio --name=failover --filename=/dev/$gw --ioengine=libaio --direct=1 --rw=randwrite \
		--bs=4k --iodepth=16 --size=64M --offset=32M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randrepeat=0 --output-format=json --output=/tmp/fo.json &
	fio_pid=$!
	sleep 3
	kill -0 $fio_pid 2>/dev/null && diag "fio running at $(elapsed) s; killing gateway A"
	check "host: gateway A SIGKILLed" host_sync kill-a 30
	t_kill=$(elapsed)
	wait $fio_pid
	fio_rc=$?
	t_end=$(elapsed)
	cat /tmp/fo.json
	check "fio write+verify across the kill: exit 0" [ $fio_rc = 0 ]
	check "fio: zero I/O errors" sh -c "grep -q '\"error\" : 0,' /tmp/fo.json && ! grep -Eq '\"total_err\" : [1-9]' /tmp/fo.json"
	# the longest completion latency of a write is the stall the kill caused
	stall=$(awk '/"write" : \{/ { w = 1 } w && /"clat_ns" : \{/ { c = 1 } c && /"max" :/ { gsub(/[^0-9]/, "", $0); print $0; exit }' /tmp/fo.json)
	diag "failover: fio ran $(awk "BEGIN { print $t_end - $t_kill }") s after the kill; longest write completion ${stall:-?} ns ($(awk "BEGIN { printf \"%.2f\", ${stall:-0} / 1e9 }") s)"
	diag "after the kill: $(for c in /sys/class/nvme/nvme*; do [ "$(cat $c/subsysnqn)" = "$GW_NQN" ] && echo "$(basename $c) $(cat $c/state)"; done | tr '\n' ' ')"
	check "the surviving path carries on" has_ctrls "$GW_NQN" 1
	check "host: gateway A restarted" host_sync start-a 30
	check "gateway A's path is live again" wait_for 60 has_ctrls "$GW_NQN" 2
	diag "A back at $(elapsed) s"
	check "fio randwrite+verify bs=4k on $gw after A returned" fio_verify $gw 4k 16M 100M
	check "nvme disconnect $GW_NQN" nvme disconnect -n "$GW_NQN"
fi
diag "checks took $(awk "BEGIN { print $(elapsed) - $t0 }") s"
tap_done
