# Passthrough namespaces in one boot (boot.sh -n 256 -x nvringd): nvringd serves the
# guest's QEMU NVMe drive (/dev/ngXnY) over NVMe/TCP on 127.0.0.1 to the guest's own Linux
# host. Checks: geometry, fio verify, io-passthru, what the host wrote is on the drive
# (read directly after disconnect), the drive's statuses reach the host, the file backend
# on the same drive for comparison (rough IOPS, 4 KiB QD16), and a PCI removal of the
# drive while connected: errors, not hangs, and nvringd exits 0 on SIGTERM.
. /run/nvme.sh
NQN=nqn.2024-01.io.nvring:passthru
PORT=4420
NVRINGD=/run/nvringd
t0=$(elapsed)

check "modprobe nvme-tcp" modprobe nvme-tcp
drive_up() { pns=$(nvme_pci_ns) && [ -n "$pns" ] && [ -c /dev/ng${pns#nvme} ]; }
if ! check "QEMU PCI NVMe drive and its generic char device are up" wait_for 10 drive_up; then
	tap_done; exit 1
fi
pc=$(nvme_pci_ctrl)
pns=$(nvme_pci_ns)            # nvme0n1: the drive's block device
png=ng${pns#nvme}             # ng0n1: its generic char device
pci=$(basename "$(readlink -f /sys/class/nvme/$pc/device)")
lbs=$(cat /sys/block/$pns/queue/logical_block_size)
diag "drive: $pc ($pci), /dev/$pns, /dev/$png, LBA $lbs B"

# id_field FIELD: the value of a "name : value" line of nvme id-ns / id-ctrl on stdin
id_field() { awk -v f="$1" '$1 == f { print $3; exit }'; }
lbaf_in_use() { nvme id-ns "/dev/$1" | grep 'in use' | sed 's/(in use)//; s/  */ /g'; }

# --- nvringd ---------------------------------------------------------------------------
tpid=
listening() { netstat -ltn 2>/dev/null | grep -q ":$PORT "; }
start_tgt() {   # start_tgt NS_SPEC: nvringd in the background, listening
	$NVRINGD -v -l 127.0.0.1:$PORT --nqn $NQN --ns "$1" -t 2 --rpc-socket none </dev/null >>/tmp/nvringd.log 2>&1 &
	tpid=$!
	wait_for 15 listening
}
tgt_alive() { [ -d /proc/$tpid ] && [ "$(awk '{ print $3 }' /proc/$tpid/stat)" != Z ]; }
tgt_gone() { ! tgt_alive; }
stop_tgt() {    # SIGTERM; exit status 0 within 30 s
	kill -TERM $tpid
	wait_for 30 tgt_gone || { kill -KILL $tpid; echo "nvringd did not exit on SIGTERM"; return 1; }
	wait $tpid
	_rc=$?
	echo "nvringd exit status $_rc"
	[ $_rc = 0 ]
}
ns_ready() { nvme_ns_dev $NQN >/dev/null; }
ctrl_gone() { ! nvme_ctrl_dev $NQN >/dev/null; }
connect() {
	nvme connect -t tcp -a 127.0.0.1 -s $PORT -n $NQN && wait_for 15 ns_ready || return 1
	fctrl=$(nvme_ctrl_dev $NQN)
	fdev=$(nvme_ns_dev $NQN)
	fng=ng${fdev#nvme}
	echo "fabrics: $fctrl /dev/$fdev /dev/$fng"
}
disconnect() { nvme disconnect -n $NQN && wait_for 15 ctrl_gone; }

# iops RW DEV: 4 KiB QD16 for 5 s over 128-192 MiB (clear of the verified data), the IOPS fio measured
iops() {
	fio --name=perf --filename=/dev/$2 --ioengine=libaio --direct=1 --rw=$1 --bs=4k \
		--iodepth=16 --offset=128M --size=64M --runtime=5 --time_based --minimal 2>/dev/null |
		awk -F';' -v rw=$1 '{ print (rw == "randread") ? $8 : $49 }'
}
perf() {        # perf LABEL: randread + randwrite figures as TAP comments
	_r=$(iops randread $fdev) && _w=$(iops randwrite $fdev) && [ -n "$_r" ] && [ -n "$_w" ] &&
		diag "IOPS $1 (4 KiB QD16, fio through /dev/$fdev, TCG guest): randread $_r, randwrite $_w"
}

check "nvringd with passthru:/dev/$png listens on 127.0.0.1:$PORT" start_tgt "passthru:/dev/$png"
if ! check "nvme connect over nvme-tcp to 127.0.0.1" connect; then
	tail -n 20 /tmp/nvringd.log | sed 's/^/log: /' >&3
	tap_done; exit 1
fi
diag "fabrics: $fctrl, /dev/$fdev, /dev/$fng"

# --- identify: the drive's geometry -----------------------------------------------------
same_geometry() {
	for f in nsze ncap nlbaf flbas; do
		_a=$(nvme id-ns /dev/$png | id_field $f) _b=$(nvme id-ns /dev/$fng | id_field $f)
		echo "$f: drive $_a fabrics $_b"
		[ -n "$_a" ] && [ "$_a" = "$_b" ] || return 1
	done
	_a=$(lbaf_in_use $png) _b=$(lbaf_in_use $fng)
	echo "LBA format in use: drive '$_a' fabrics '$_b'"
	[ -n "$_a" ] && [ "$_a" = "$_b" ] &&
	[ "$(cat /sys/block/$fdev/size)" = "$(cat /sys/block/$pns/size)" ]
}
check "id-ns: nsze, ncap, LBA formats and disk size are the drive's" same_geometry
mdts_ok() {   # the largest transfer the kernel takes for the drive, in 4 KiB units (log2)
	_d=$(nvme id-ctrl /dev/$pc | id_field mdts) _f=$(nvme id-ctrl /dev/$fctrl | id_field mdts)
	_seg=$(cat /sys/block/$pns/queue/max_segments) _hw=$(cat /sys/block/$pns/queue/max_hw_sectors_kb)
	_max=$((1 << 20))
	[ "$_d" -gt 0 ] && [ $((4096 << _d)) -lt $_max ] && _max=$((4096 << _d))
	[ $((_hw * 1024)) -lt $_max ] && _max=$((_hw * 1024))
	# a request buffer is only virtually contiguous: one segment per 4 KiB page at worst
	[ $((_seg * 4096)) -lt $_max ] && _max=$((_seg * 4096))
	_want=0
	while [ $((4096 << (_want + 1))) -le $_max ]; do _want=$((_want + 1)); done
	echo "mdts: drive $_d (max_segments $_seg, max_hw_sectors_kb $_hw) fabrics $_f (want $_want)"
	[ "$_f" = "$_want" ]
}
check "id-ctrl: MDTS = min(nvringd's 8, what the kernel takes for the drive)" mdts_ok
ids_ours() {   # our NGUID, not the drive's EUI-64: both namespaces stay visible to one host
	_a=$(nvme id-ns /dev/$png | id_field eui64) _b=$(nvme id-ns /dev/$fng | id_field eui64)
	_n=$(nvme id-ns /dev/$fng | id_field nguid)
	echo "eui64: drive $_a fabrics $_b; fabrics nguid $_n"
	[ "$_a" != "$_b" ] && [ "$_n" != 00000000000000000000000000000000 ] && [ -b /dev/$pns ]
}
check "id-ns: identifiers are nvringd's, drive still visible locally" ids_ours

# --- data path --------------------------------------------------------------------------
# Fixed seed: the same job replays with --verify_only on the drive itself later.
FIO_V="--name=pt --ioengine=libaio --direct=1 --rw=randwrite --bs=4k --iodepth=16 --size=16M
	--offset=0 --verify=crc32c --randseed=4242"
check "fio randwrite+verify 4k qd16 16M (crc32c) on /dev/$fdev" \
	fio $FIO_V --filename=/dev/$fdev --do_verify=1 --verify_fatal=1
check "fio randwrite+verify 128k qd8 8M on /dev/$fdev" \
	fio --name=big --ioengine=libaio --direct=1 --rw=randwrite --bs=128k --iodepth=8 --size=8M \
	--offset=32M --verify=crc32c --do_verify=1 --verify_fatal=1 --filename=/dev/$fdev

PT_LBA=$(( 64 * 1024 * 1024 / lbs ))   # 64 MiB in: away from the fio regions
nlb0=$(( 8192 / lbs - 1 ))
dd if=/dev/urandom of=/tmp/pt.in bs=8192 count=1 2>/dev/null
check "io-passthru write 8 KiB at LBA $PT_LBA on /dev/$fng" \
	nvme io-passthru /dev/$fng --opcode=0x01 --namespace-id=1 --write \
	--data-len=8192 --cdw10=$PT_LBA --cdw12=$nlb0 --input-file=/tmp/pt.in
check "io-passthru flush on /dev/$fng" nvme io-passthru /dev/$fng --opcode=0x00 --namespace-id=1
pt_read() {   # pt_read DEV OUT
	nvme io-passthru /dev/$1 --opcode=0x02 --namespace-id=1 --read \
		--data-len=8192 --cdw10=$PT_LBA --cdw12=$nlb0 --raw-binary >$2
}
read_back() { pt_read $fng /tmp/pt.out && cmp /tmp/pt.in /tmp/pt.out; }
check "io-passthru read 8 KiB back on /dev/$fng: same bytes" read_back

# --- statuses: the drive's own, verbatim ----------------------------------------------
# status_of DEV ARGS...: the "NVMe status" line of an io-passthru (or "success")
status_of() {
	_d=$1; shift
	nvme io-passthru /dev/$_d --namespace-id=1 "$@" >/tmp/st.out 2>&1
	_rc=$?
	_s=$(grep -o 'NVMe status: .*' /tmp/st.out | head -n 1)
	[ $_rc = 0 ] && _s=success
	echo "${_s:-rc $_rc: $(head -c 200 /tmp/st.out)}"
}
nsze=$(nvme id-ns /dev/$png | id_field nsze)
nsze=$((nsze))
same_status() {   # same_status WANT_RE ARGS...: the drive and the fabrics path agree
	_re=$1; shift
	_sd=$(status_of $png "$@") _sf=$(status_of $fng "$@")
	echo "drive: $_sd"; echo "fabrics: $_sf"
	[ "$_sd" = "$_sf" ] && echo "$_sf" | grep -Eqi "$_re"
}
check "read at LBA nsze ($nsze): the drive's LBA Out of Range (0x80) on both paths" \
	same_status 'LBA_RANGE|0x.?080\)' --opcode=0x02 --read --data-len=$lbs --cdw10=$nsze --cdw12=0
check "write uncorrectable (0x04): whatever the drive says, the host gets the same" \
	same_status '.' --opcode=0x04 --cdw10=0 --cdw12=0
check "write zeroes past the end: the drive's status on both paths" \
	same_status 'LBA_RANGE|0x.?080\)' --opcode=0x08 --cdw10=$((nsze - 1)) --cdw12=7
not_passed() {   # a non-NVM opcode without all-opcodes: nvringd's Invalid Opcode
	_s=$(status_of $fng --opcode=0x7e)
	echo "fabrics: $_s"
	echo "$_s" | grep -Eqi 'INVALID_OPCODE|0x.?001\)'
}
check "opcode 0x7e (not passed without all-opcodes): Invalid Opcode" not_passed
still_serves() {
	cmp_out=/tmp/pt.out2
	nvme io-passthru /dev/$fng --opcode=0x02 --namespace-id=1 --read --data-len=8192 \
		--cdw10=$PT_LBA --cdw12=$nlb0 --raw-binary >$cmp_out && cmp /tmp/pt.in $cmp_out
}
check "after the errors nvringd still serves: 8 KiB read, same bytes" still_serves
perf "passthru:/dev/$png" || diag "passthru IOPS: fio failed"
check "nvme disconnect" disconnect

# --- what the host wrote is on the drive ------------------------------------------------
check "read /dev/$pns directly: the io-passthru bytes are there" sh -c \
	"dd if=/dev/$pns bs=$lbs skip=$PT_LBA count=$((nlb0 + 1)) iflag=direct 2>/dev/null | cmp - /tmp/pt.in"
check "fio --verify_only on /dev/$pns: fio's randwrite data is on the drive" \
	fio $FIO_V --filename=/dev/$pns --verify_only --verify_fatal=1
direct_ng() { pt_read $png /tmp/pt.ng && cmp /tmp/pt.in /tmp/pt.ng; }
check "io-passthru read on /dev/$png directly: same bytes" direct_ng
check "nvringd exits 0 on SIGTERM" stop_tgt

# --- the file backend on the same drive, for comparison ---------------------------------
if check "nvringd with file:/dev/$pns (O_DIRECT) listens" start_tgt "file:/dev/$pns" &&
	check "nvme connect (file backend)" connect; then
	check "fio randwrite+verify 4k qd16 8M on /dev/$fdev (file backend)" \
		fio --name=f --ioengine=libaio --direct=1 --rw=randwrite --bs=4k --iodepth=16 --size=8M \
		--offset=96M --verify=crc32c --do_verify=1 --verify_fatal=1 --filename=/dev/$fdev
	perf "file:/dev/$pns" || diag "file IOPS: fio failed"
	check "nvme disconnect (file backend)" disconnect
fi
check "nvringd (file backend) exits 0 on SIGTERM" stop_tgt

# --- the drive goes away while a host is connected ---------------------------------------
# bytes the fio job has read (--thread: the job is a thread of $fpid; the block layer
# accounts direct reads to the submitting task; the multipath head has no disk stats)
fio_read() { awk '$1 == "read_bytes:" { print $2 }' /proc/$fpid/io 2>/dev/null; }
if check "nvringd with passthru:/dev/$png again" start_tgt "passthru:/dev/$png" &&
	check "nvme connect (removal)" connect; then
	fio --name=rm --filename=/dev/$fdev --ioengine=libaio --direct=1 --rw=randread --bs=4k \
		--iodepth=16 --size=64M --runtime=120 --time_based --thread >/tmp/fio-rm.log 2>&1 &
	fpid=$!
	io_flowing() { [ "$(fio_read)" -gt $((1 << 20)) ]; }
	fio_running() {
		wait_for 60 io_flowing && return 0
		echo "fio read_bytes: $(fio_read)"; tail -n 5 /tmp/fio-rm.log
		return 1
	}
	check "fio randread running on /dev/$fdev (1 MiB read)" fio_running
	check "PCI remove of the drive ($pci) while connected" sh -c "echo 1 >/sys/bus/pci/devices/$pci/remove"
	fio_gone() { ! kill -0 $fpid 2>/dev/null || [ "$(awk '{ print $3 }' /proc/$fpid/stat 2>/dev/null)" = Z ]; }
	fio_failed() {
		wait_for 90 fio_gone || { kill -KILL $fpid; echo "fio still running 90 s after the removal"; return 1; }
		wait $fpid; _rc=$?
		grep -E 'err=|error' /tmp/fio-rm.log | head -n 3
		echo "fio exit status $_rc"
		[ $_rc != 0 ]
	}
	check "fio on the fabrics device ends with an I/O error (no hang)" fio_failed
	removed_status() {
		_s=$(status_of $fng --opcode=0x02 --read --data-len=8192 --cdw10=$PT_LBA --cdw12=$nlb0)
		echo "fabrics: $_s"
		echo "$_s" | grep -q 'NVMe status'
	}
	check "io-passthru read after the removal: an NVMe error status" removed_status
	check "nvringd still running" tgt_alive
	still_admin() { nvme id-ctrl /dev/$fctrl | grep -q "^subnqn *: $NQN"; }
	check "nvringd still answers (id-ctrl)" still_admin
	check "nvme disconnect (removal)" disconnect
fi
check "nvringd exits 0 on SIGTERM after the drive went away" stop_tgt
grep -iE 'passthru|error' /tmp/nvringd.log | head -n 12 | sed 's/^/nvringd: /' | while read -r l; do diag "$l"; done
diag "checks took $(awk "BEGIN { print $(elapsed) - $t0 }") s after boot"
tap_done
