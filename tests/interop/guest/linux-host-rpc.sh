# Guest side of linux-host-rpc.sh: the Linux 6.1 NVMe/TCP host while nvringd at
# $TGT_ADDR:$TGT_PORT is changed over its control socket by the host (host_sync NAME runs
# the host's `nvring rpc` for NAME). fio verify runs on nsid 1 all along.
. /run/nvme.sh
NQN=$TGT_NQN
DISC_NQN=nqn.2014-08.org.nvmexpress.discovery
CONN="-t tcp -a $TGT_ADDR -s $TGT_PORT"
t0=$(elapsed)

check "modprobe nvme-tcp" modprobe nvme-tcp
# no udev here: a listener on the kernel's uevents records what the NVMe driver announces
( busybox uevent sh -c 'env >>/tmp/uevents' ) >/dev/null 2>&1 &
uev_pid=$!

disc_ctrl() {
	for _c in /sys/class/nvme/nvme*; do
		[ "$(cat "$_c/subsysnqn" 2>/dev/null)" = "$DISC_NQN" ] && [ "$(cat "$_c/state")" = live ] &&
			{ basename "$_c"; return 0; }
	done
	return 1
}
check "a persistent discovery controller (nvme discover -p)" sh -c "nvme discover $CONN -p --hostnqn=$TGT_HOSTNQN --hostid=$TGT_HOSTID | grep -q 'subnqn: *$NQN'"
dctrl=$(disc_ctrl)
check "the discovery controller stays (/dev/$dctrl, keep-alive)" sh -c "[ -n '$dctrl' ] && sleep 1 && [ \"\$(cat /sys/class/nvme/$dctrl/state)\" = live ]"

ns_count() { nvme_ns_devs "$NQN" 2>/dev/null | wc -l; }
has_ns() { [ "$(ns_count)" -ge "$1" ]; }
only_ns() { [ "$(ns_count)" -eq "$1" ]; }
check "nvme connect $NQN" nvme connect $CONN -n "$NQN" --hostnqn="$TGT_HOSTNQN" --hostid="$TGT_HOSTID"
check "namespace 1 appears" wait_for 20 has_ns 1
dev1=$(nvme_ns_dev "$NQN")
ctrl=$(nvme_ctrl_dev "$NQN")
diag "controller $ctrl, namespace 1: $dev1"

# fio verify on nsid 1 for the whole test: randwrite + crc32c verify, again and again
fio_loop() {
	_runs=0
	while [ ! -e /tmp/fio.stop ]; do
		fio --name=bg --filename=/dev/$dev1 --ioengine=libaio --direct=1 --rw=randwrite --bs=4k \
			--iodepth=8 --size=16M --verify=crc32c --do_verify=1 --verify_fatal=1 \
			--randrepeat=0 >/tmp/fio.last 2>&1 || { echo "run $_runs failed" >>/tmp/fio.fail; cat /tmp/fio.last >>/tmp/fio.fail; }
		_runs=$((_runs + 1))
		echo $_runs >/tmp/fio.runs
	done
}
fio_loop &
fio_pid=$!
fio_ran() { [ "$(cat /tmp/fio.runs 2>/dev/null || echo 0)" -ge "$1" ]; }
check "fio verify runs on $dev1" wait_for 120 fio_ran 1
check "host: the controller is listed by the controllers method" host_sync controllers
check "host: fio's writes are counted (stats)" host_sync stats

# --- a namespace added while connected: the AEN makes the kernel rescan ---
check "host: ns_add mem:64M over RPC" host_sync ns_add
check "the new namespace appears without a reconnect" wait_for 30 has_ns 2
dev2=$(nvme_ns_devs "$NQN" | sed -n 2p)
diag "namespace 2: $dev2"
size_is() { [ "$(blockdev --getsize64 /dev/$1)" = "$2" ]; }
check "$dev2 has 64 MiB" size_is "$dev2" 67108864
rw_dev2() {
	dd if=/dev/urandom of=/tmp/w bs=64k count=16 2>/dev/null &&
	dd if=/tmp/w of=/dev/$dev2 bs=64k oflag=direct 2>/dev/null &&
	dd if=/dev/$dev2 of=/tmp/r bs=64k count=16 iflag=direct 2>/dev/null && cmp /tmp/w /tmp/r
}
check "1 MiB written and read back on $dev2" rw_dev2
check "the controller stayed the same ($ctrl)" sh -c "[ \"\$(cat /sys/class/nvme/$ctrl/state)\" = live ]"

# --- resize: the kernel sees the new size ---
check "host: ns_resize to 96M over RPC" host_sync ns_resize
check "blockdev --getsize64 $dev2 becomes 96 MiB" wait_for 30 size_is "$dev2" 100663296
check "the data before the end is still there" sh -c "dd if=/dev/$dev2 of=/tmp/r bs=64k count=16 iflag=direct 2>/dev/null && cmp /tmp/w /tmp/r"

# --- removal: the device goes, nsid 1 is not disturbed ---
check "host: ns_remove over RPC" host_sync ns_remove
check "$dev2 goes away" wait_for 30 only_ns 1
check "$dev1 is still there" test -b /dev/$dev1
check "fio on $dev1 keeps running" wait_for 120 fio_ran $(( $(cat /tmp/fio.runs 2>/dev/null || echo 0) + 1 ))

# --- a new subsystem: the persistent discovery controller is told ---
disc_aen() { grep -q 'NVME_AEN=0x70f002' /tmp/uevents 2>/dev/null; }
check "host: subsystem_create over RPC" host_sync subsystem_create
check "uevent NVME_AEN=0x70f002 (discovery log changed) on the discovery controller" wait_for 30 disc_aen
grep NVME_AEN /tmp/uevents 2>/dev/null | sed 's/^/# /' >&3
check "its discovery log now lists $NEW_NQN" sh -c "nvme discover -d $dctrl | grep -q 'subnqn: *$NEW_NQN'"

# --- fio verdict ---
touch /tmp/fio.stop
wait $fio_pid
diag "fio runs on $dev1: $(cat /tmp/fio.runs 2>/dev/null)"
check "every fio verify run on $dev1 passed" sh -c "! [ -s /tmp/fio.fail ] || { cat /tmp/fio.fail; false; }"

# --- the host removed: its controller goes ---
ctrl_not_live() { [ "$(cat /sys/class/nvme/$ctrl/state 2>/dev/null)" != live ]; }
check "host: host_remove over RPC" host_sync host_remove
check "the controller $ctrl is torn down" wait_for 30 ctrl_not_live
check "host: no controller left for $NQN" host_sync no_controllers
nvme disconnect -n "$NQN" >/dev/null 2>&1
nvme disconnect -d "$dctrl" >/dev/null 2>&1
kill $uev_pid 2>/dev/null
diag "guest time $(awk "BEGIN { print $(elapsed) - $t0 }") s"
tap_done
