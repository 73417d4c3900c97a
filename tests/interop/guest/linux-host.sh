# Guest side of linux-host-vs-nvringd.sh: the Linux NVMe/TCP host against a
# target at $TGT_ADDR:$TGT_PORT (discovery also on $TGT_DISC_PORT), subsystem
# $TGT_NQN with one or two namespaces.
#   TGT_PHASE=full       everything, then (if KATO_SECS) connect with a short
#                        keep-alive timeout and freeze the guest
#   TGT_PHASE=reconnect  a short second boot: connect, verify I/O, disconnect
#   TGT_LOGS_DIGESTS=1   the host hook "digests" can confirm them in the target log
#   TGT_LOCAL=1          set up a Linux nvmet target inside this guest first
#                        (proves these checks without nvringd)
. /run/nvme.sh
: "${TGT_PHASE:=full}" "${TGT_DISC_PORT:=$TGT_PORT}" "${KATO_SECS:=0}"
CONN="-t tcp -a $TGT_ADDR -s $TGT_PORT -n $TGT_NQN"
t0=$(elapsed)

check "modprobe nvme-tcp" modprobe nvme-tcp

if [ "${TGT_LOCAL:-0}" = 1 ]; then
	# ns1: loop device on tmpfs (a block device: 512-byte LBAs);
	# ns2: a tmpfs file (the nvmet file backend: 4 KiB LBAs).
	local_target() {
		modprobe loop && truncate -s 256M /tmp/ns1.img /tmp/ns2.img &&
		losetup /dev/loop0 /tmp/ns1.img &&
		nvmet_subsys "$TGT_NQN" && nvmet_ns "$TGT_NQN" 1 /dev/loop0 &&
		nvmet_ns "$TGT_NQN" 2 /tmp/ns2.img &&
		nvmet_port "$TGT_NQN" "$TGT_PORT" 1 && nvmet_port "$TGT_NQN" "$TGT_DISC_PORT" 2
	}
	check "local nvmet target: 2 namespaces, ports $TGT_PORT + $TGT_DISC_PORT" local_target
fi

ctrl_gone() { ! nvme_ctrl_dev "$TGT_NQN" >/dev/null; }
ns_ready() { nvme_ns_dev "$TGT_NQN" >/dev/null; }

# connect_as NAME ARGS...: connect, wait for the namespaces, name the devices.
connect_as() {
	_name=$1; shift
	check "nvme connect ($_name)" nvme connect $CONN "$@" || return 1
	check "namespaces appear ($_name)" wait_for 15 ns_ready || return 1
	ctrl=$(nvme_ctrl_dev "$TGT_NQN")
	devs=$(echo $(nvme_ns_devs "$TGT_NQN"))
	dev1=$(echo $devs | cut -d' ' -f1)
	dev2=$(echo $devs | cut -d' ' -f2)
	diag "$_name: controller $ctrl, namespaces: $devs"
}
disconnect_as() {
	check "nvme disconnect ($1)" nvme disconnect -n "$TGT_NQN"
	check "controller removed ($1)" wait_for 15 ctrl_gone
}

# fio_verify DEV BS SIZE: random writes then a full crc32c verify read.
fio_verify() {
	fio --name=v --filename=/dev/$1 --ioengine=libaio --direct=1 \
		--rw=randwrite --bs=$2 --iodepth=16 --size=$3 \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --randrepeat=0
}
fio_check() {   # fio_check LABEL DEV BS SIZE: skipped if BS < the LBA size
	_lbs=$(cat /sys/block/$2/queue/logical_block_size)
	if [ "$(numfmt_b "$3")" -lt "$_lbs" ]; then
		skip "fio randwrite+verify bs=$3 qd16 on $1" "LBA size $_lbs > $3"
	else
		check "fio randwrite+verify bs=$3 qd16 on $1" fio_verify "$2" "$3" "$4"
	fi
}
numfmt_b() {
	case $1 in *k) echo $((${1%k} * 1024)) ;; *) echo "$1" ;; esac
}

if [ "$TGT_PHASE" = reconnect ]; then
	check "nvme discover after the frozen host" sh -c "nvme discover -t tcp -a $TGT_ADDR -s $TGT_DISC_PORT | grep -q 'subnqn: *$TGT_NQN'"
	if connect_as reconnect; then
		check "fio randwrite+verify bs=4k on $dev1 (reconnect)" fio_verify "$dev1" 4k 8M
		disconnect_as reconnect
	fi
	tap_done
	exit
fi

# --- discovery, both ports ---
for p in $TGT_PORT $TGT_DISC_PORT; do
	check "nvme discover $TGT_ADDR:$p lists $TGT_NQN" \
		sh -c "nvme discover -t tcp -a $TGT_ADDR -s $p | grep -q 'subnqn: *$TGT_NQN'"
done

# --- plain connection: identify, data path, filesystem, passthrough ---
if connect_as plain; then
	check "nvme list shows /dev/$dev1" sh -c "nvme list | grep -q '^/dev/$dev1 '"
	check "id-ctrl: subnqn is $TGT_NQN" sh -c "nvme id-ctrl /dev/$ctrl | grep -Eq '^subnqn +: $TGT_NQN\$'"
	check "id-ctrl: kas != 0, ioccsz >= 4, iorcsz >= 1" sh -c "nvme id-ctrl /dev/$ctrl | awk '
		/^kas /    { kas = \$3 + 0 } /^ioccsz / { c = \$3 + 0 } /^iorcsz / { r = \$3 + 0 }
		END { exit !(kas > 0 && c >= 4 && r >= 1) }'"
	idns_size() {   # nsze x LBA size (from id-ns) == the kernel's disk size
		_nsze=$(nvme id-ns /dev/$1 | awk '/^nsze/ { print $3 }')
		_lbads=$(nvme id-ns /dev/$1 | awk '/in use/ { for (i = 1; i <= NF; i++) if ($i ~ /^lbads:/) { sub("lbads:", "", $i); print $i } }')
		_want=$(( $(cat /sys/block/$1/size) * 512 ))
		echo "nsze=$_nsze lbads=$_lbads disk=$_want"
		[ -n "$_nsze" ] && [ -n "$_lbads" ] && [ $(( _nsze * (1 << _lbads) )) = "$_want" ]
	}
	for d in $devs; do
		check "id-ns $d: nsze x LBA size = disk size" idns_size $d
	done
	check "list-subsys shows $TGT_NQN over tcp" sh -c "nvme list-subsys | grep -q '$TGT_NQN' &&
		nvme list-subsys | grep -q 'tcp traddr=$TGT_ADDR,trsvcid=$TGT_PORT'"

	for d in $devs; do
		ns=ns${d##*n}
		fio_check "$ns" $d 512 2M
		fio_check "$ns" $d 4k 8M
		fio_check "$ns" $d 16k 16M
		fio_check "$ns" $d 128k 32M
	done

	# ext4 on the last namespace (the file one for nvringd).
	fsdev=${dev2:-$dev1}
	check "mkfs.ext4 /dev/$fsdev" mkfs.ext4 -F -q /dev/$fsdev
	mkdir -p /mnt/t
	check "mount ext4" mount -t ext4 /dev/$fsdev /mnt/t
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
		'mount -t ext4 /dev/'$fsdev' /mnt/t && cd /mnt/t && sha256sum -c /tmp/sums'
	check "umount" umount /mnt/t
	check "e2fsck -fn: clean" e2fsck -fn /dev/$fsdev

	# Raw NVMe commands through the generic char device of namespace 1.
	ng=ng${dev1#nvme}
	lbs=$(cat /sys/block/$dev1/queue/logical_block_size)
	nlb0=$(( 8192 / lbs - 1 ))   # 8 KiB, 0's based LBA count
	dd if=/dev/urandom of=/tmp/pt.in bs=8192 count=1 2>/dev/null
	check "io-passthru write 8 KiB at LBA 64 on /dev/$ng" \
		nvme io-passthru /dev/$ng --opcode=0x01 --namespace-id=1 --write \
		--data-len=8192 --cdw10=64 --cdw11=0 --cdw12=$nlb0 --input-file=/tmp/pt.in
	check "io-passthru flush" nvme io-passthru /dev/$ng --opcode=0x00 --namespace-id=1
	pt_read() {
		nvme io-passthru /dev/$ng --opcode=0x02 --namespace-id=1 --read \
			--data-len=8192 --cdw10=64 --cdw11=0 --cdw12=$nlb0 --raw-binary >/tmp/pt.out &&
		cmp /tmp/pt.in /tmp/pt.out
	}
	check "io-passthru read 8 KiB back: same bytes" pt_read
	check "block read of the same LBAs: same bytes" sh -c \
		"dd if=/dev/$dev1 bs=$lbs skip=64 count=$((nlb0 + 1)) iflag=direct 2>/dev/null | cmp - /tmp/pt.in"
	disconnect_as plain
fi

# --- digests and SQ flow control off: a data-path check each ---
if connect_as "header+data digest" -g -G; then
	digests_seen() { host_sync digests 30; }
	if [ "${TGT_LOGS_DIGESTS:-0}" = 1 ]; then
		check "target log: ICReqs asked for header+data digests" digests_seen
	fi
	check "fio randwrite+verify bs=16k on $dev1 (digests)" fio_verify "$dev1" 16k 8M
	disconnect_as "header+data digest"
fi
if connect_as "disable-sqflow" --disable-sqflow; then
	check "fio randwrite+verify bs=4k on $dev1 (no SQ flow control)" fio_verify "$dev1" 4k 8M
	disconnect_as "disable-sqflow"
fi
diag "checks took $(awk "BEGIN { print $(elapsed) - $t0 }") s"

# --- keep-alive: connect with a short KATO, then go silent ---
if [ "$KATO_SECS" -gt 0 ]; then
	if connect_as "keep-alive-tmo=$KATO_SECS" --keep-alive-tmo=$KATO_SECS; then
		tap_done
		# The host hook now sees the controller freed by keep-alive timeout.
		freeze kato
	fi
fi
tap_done
