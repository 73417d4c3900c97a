# Guest side of linux-host-ha.sh: the Linux 6.1 host (native multipath) against nvringd at
# $TGT_ADDR in three phases (see the host script): two listeners with ANA flips (P1, P2,
# $NQN1; flips only with RPC_OK=1), two gateways with a kill and a restart (PA, PB, $NQN2),
# reservations between two hosts of this guest with a restart (P3, $NQN3).
. /run/nvme.sh
A=$TGT_ADDR
HOST_A=nqn.2014-08.org.nvmexpress:uuid:0000000a-1111-4000-8000-00000000000a
HOST_B=nqn.2014-08.org.nvmexpress:uuid:0000000b-2222-4000-8000-00000000000b
ID_A=0000000a-1111-4000-8000-00000000000a
ID_B=0000000b-2222-4000-8000-00000000000b

check "modprobe nvme-tcp" modprobe nvme-tcp
check "native multipath on" sh -c 'grep -q Y /sys/module/nvme_core/parameters/multipath'
io_errors() { dmesg | grep -c -i 'I/O error'; }
errs0=$(io_errors)

# ---- helpers ------------------------------------------------------------------------------

# ctrl_at NQN PORT [HOSTNQN]: the controller connected to that port (any state)
ctrl_at() {
	for _c in /sys/class/nvme/nvme*; do
		[ "$(cat "$_c/subsysnqn" 2>/dev/null)" = "$1" ] || continue
		case ",$(cat "$_c/address" 2>/dev/null)," in *",trsvcid=$2,"*) ;; *) continue ;; esac
		[ -n "${3:-}" ] && [ "$(cat "$_c/hostnqn" 2>/dev/null)" != "$3" ] && continue
		basename "$_c"
		return 0
	done
	return 1
}
path_dir() { ls -d /sys/class/nvme/$1/nvme*c*n1 2>/dev/null | head -n 1 | grep .; }
ana_is() { [ "$(cat "$(path_dir "$1")/ana_state" 2>/dev/null)" = "$2" ]; }
live() { [ "$(cat /sys/class/nvme/$1/state 2>/dev/null)" = live ]; }
# writes CTRL: write requests completed through that path
writes() { awk '{ print $5 }' "$(path_dir "$1")/stat" 2>/dev/null; }
nr_ctrls() { ls /sys/class/nvme-subsystem/*/ 2>/dev/null | grep -c "^nvme[0-9]*$"; }
one_head() {   # one_head NQN: exactly one namespace device and 2 controllers in its subsystem
	_n=$(nvme_ns_devs "$1" | wc -l)
	_s=$(grep -l "^$1\$" /sys/class/nvme-subsystem/*/subsysnqn | head -n 1)
	_c=$(ls "$(dirname "$_s")" | grep -c '^nvme[0-9]*$')
	echo "namespace devices: $_n, controllers: $_c"
	[ "$_n" = 1 ] && [ "$_c" = 2 ]
}
# moves_to ON OFF: over 2 s, writes complete through ON and none through OFF
moves_to() {
	sleep 1
	_a0=$(writes "$1"); _b0=$(writes "$2")
	sleep 2
	_a1=$(writes "$1"); _b1=$(writes "$2")
	echo "writes through $1: +$((_a1 - _a0)), through $2: +$((_b1 - _b0))"
	[ $((_a1 - _a0)) -gt 0 ] && [ $((_b1 - _b0)) = 0 ]
}
fio_bg() {   # fio_bg DEV SECS NAME: randwrite + verify in the background, completions logged
	fio --name="$3" --filename="/dev/$1" --ioengine=libaio --direct=1 --rw=randwrite --bs=4k \
		--iodepth=8 --size=64M --time_based --runtime="$2" --verify=crc32c --verify_backlog=64 \
		--verify_fatal=1 --write_lat_log="/tmp/$3" --log_avg_msec=0 --per_job_logs=0 \
		>"/tmp/$3.out" 2>&1 &
	FIO_PID=$!
}
fio_done() {   # fio_done NAME: it exited 0, no error, and verified
	wait "$FIO_PID"
	_rc=$?
	tail -n 30 "/tmp/$1.out"
	[ $_rc = 0 ] && grep -q 'err= 0' "/tmp/$1.out"
}
# stall NAME: the longest pause between completions and the slowest I/O (ms), from fio's log
stall() {
	cat /tmp/"$1"_lat.log /tmp/"$1"_clat.log 2>/dev/null | awk -F, '
		{ t = $1 + 0; l = $2 / 1e6; if (n++ && t - p > gap) { gap = t - p; at = p } p = t; if (l > mx) mx = l }
		END { printf "%d %d %d %d\n", gap, mx, at, n }'
}
no_new_io_errors() {
	_e=$(io_errors)
	echo "kernel 'I/O error' lines: $errs0 before, $_e now"
	[ "$_e" = "$errs0" ]
}
# is_field NAME VALUE CMD...: nvme-cli's "name : value" output of CMD has NAME = VALUE
is_field() {
	_f=$1 _v=$2
	shift 2
	_got=$("$@" 2>&1 | awk -v f="$_f" -F: '{ k = $1; gsub(/ /, "", k) } k == f { v = $2; gsub(/ /, "", v); print v; exit }')
	echo "$_f: $_got (want $_v)"
	[ "$_got" = "$_v" ]
}
states() { ana_is "$1" "$2" && ana_is "$3" "$4"; }   # states CTRL STATE CTRL STATE

# ---- phase 1: two listeners, one path each, ANA states flipped under fio ---------------------
diag "phase 1: one nvringd, listeners $P1 (optimized) and $P2 (non-optimized)"
check "connect listener 1" nvme connect -t tcp -a "$A" -s "$P1" -n "$NQN1"
check "connect listener 2" nvme connect -t tcp -a "$A" -s "$P2" -n "$NQN1"
check "one namespace device, two controllers (paths) in one subsystem" wait_for 15 one_head "$NQN1"
c1=$(ctrl_at "$NQN1" "$P1") c2=$(ctrl_at "$NQN1" "$P2") dev=$(nvme_ns_dev "$NQN1")
diag "paths: $c1 (listener 1), $c2 (listener 2), device $dev"
check "ANA: $c1 optimized, $c2 non-optimized" wait_for 10 states "$c1" optimized "$c2" non-optimized
check "nvme list-subsys: live optimized and live non-optimized" sh -c \
	"nvme list-subsys /dev/$dev | tee /dev/stderr | grep -q 'live optimized' && nvme list-subsys /dev/$dev | grep -q 'live non-optimized'"
check "id-ctrl: CMIC 0xb (multi-port, multi-controller, ANA)" is_field cmic 0xb nvme id-ctrl /dev/$c1
check "id-ctrl: ANATT 10" is_field anatt 10 nvme id-ctrl /dev/$c1
check "id-ctrl: ANAGRPMAX 128" is_field anagrpmax 128 nvme id-ctrl /dev/$c1
check "id-ns: ANAGRPID 1" is_field anagrpid 1 nvme id-ns /dev/$dev
check "id-ns: NMIC shared" is_field nmic 0x1 nvme id-ns /dev/$dev
check "ana-log through listener 2: group 1 non-optimized, NSID 1" sh -c \
	"nvme ana-log /dev/$c2 -o json | tr -d ' \n' | tee /dev/stderr | grep -q '\"state\":\"non-optimized\"'"

if [ "${RPC_OK:-0}" = 1 ] && [ -n "$(writes "$c1")" ]; then
	fio_bg "$dev" 45 p1
	check "fio writes through $c1 (optimized) only" moves_to "$c1" "$c2"
	check "flip: listener 1 non-optimized, listener 2 optimized (ana_set_state)" host_sync flip1
	check "host sees it (ANA Change AEN): $c2 optimized, $c1 non-optimized" \
		wait_for 10 states "$c2" optimized "$c1" non-optimized
	check "I/O moved to $c2" moves_to "$c2" "$c1"
	check "flip: listener 2 inaccessible, listener 1 optimized" host_sync flip2
	check "host sees $c2 inaccessible, $c1 optimized" wait_for 10 states "$c2" inaccessible "$c1" optimized
	check "I/O moved off the inaccessible path to $c1" moves_to "$c1" "$c2"
	check "flip: listener 2 optimized, listener 1 to inaccessible through a 2 s transition" host_sync flip3
	check "host sees $c1 inaccessible once the transition ended, $c2 optimized" \
		wait_for 15 states "$c1" inaccessible "$c2" optimized
	check "I/O on $c2" moves_to "$c2" "$c1"
	check "flip: listener 1 optimized, listener 2 non-optimized" host_sync flip4
	check "host sees $c1 optimized, $c2 non-optimized" wait_for 10 states "$c1" optimized "$c2" non-optimized
	check "I/O back on $c1" moves_to "$c1" "$c2"
	check "fio still running after four flips" kill -0 "$FIO_PID"
	check "fio randwrite+verify across the flips: exit 0, err=0, verified" fio_done p1
	set -- $(stall p1)
	diag "phase 1: longest pause between completions ${1} ms, slowest I/O ${2} ms (${4} completions)"
else
	skip "ANA flips under fio" "no control socket with ana_set_state (RPC_OK=${RPC_OK:-0}) or no path stat"
fi
check "no I/O error in the kernel log (phase 1)" no_new_io_errors
check "disconnect $NQN1" nvme disconnect -n "$NQN1"

# ---- phase 2: two gateways, one killed and restarted --------------------------------------
diag "phase 2: gateway a ($PA, optimized) and b ($PB, non-optimized) on one shared file"
check "connect gateway a" nvme connect -t tcp -a "$A" -s "$PA" -n "$NQN2" --reconnect-delay=1 --ctrl-loss-tmo=120
check "connect gateway b" nvme connect -t tcp -a "$A" -s "$PB" -n "$NQN2" --reconnect-delay=1 --ctrl-loss-tmo=120
check "one namespace device over the two gateways" wait_for 15 one_head "$NQN2"
ca=$(ctrl_at "$NQN2" "$PA") cb=$(ctrl_at "$NQN2" "$PB") dev=$(nvme_ns_dev "$NQN2")
cida=$(cat /sys/class/nvme/$ca/cntlid) cidb=$(cat /sys/class/nvme/$cb/cntlid)
diag "gateway a: $ca (cntlid $cida), gateway b: $cb (cntlid $cidb), device $dev"
check "controller IDs from disjoint ranges (1..99, 100..199)" sh -c "[ $cida -ge 1 ] && [ $cida -le 99 ] && [ $cidb -ge 100 ] && [ $cidb -le 199 ]"
check "same serial on both gateways" sh -c "[ \"\$(cat /sys/class/nvme/$ca/serial)\" = \"\$(cat /sys/class/nvme/$cb/serial)\" ]"
check "ANA: gateway a optimized, b non-optimized" wait_for 10 states "$ca" optimized "$cb" non-optimized
fio_bg "$dev" 40 p2
check "fio writes through gateway a" moves_to "$ca" "$cb"
check "SIGKILL gateway a" host_sync kill-a
t_kill=$(elapsed)
check "I/O continues through gateway b" moves_to "$cb" "$ca"
check "gateway a's controller is not live (reconnecting)" sh -c "! grep -qx live /sys/class/nvme/$ca/state"
sleep 3
check "restart gateway a" host_sync restart-a
t_rs=$(elapsed)
back() { live "$ca" && ana_is "$ca" optimized; }
check "failback: gateway a's path live and optimized again" wait_for 60 back
t_back=$(elapsed)
check "I/O back on gateway a" moves_to "$ca" "$cb"
check "fio still running through kill and failback" kill -0 "$FIO_PID"
check "fio randwrite+verify through kill and failback: exit 0, err=0, verified" fio_done p2
set -- $(stall p2)
diag "phase 2: stall after SIGKILL of gateway a: longest pause between completions ${1} ms, slowest I/O ${2} ms (${4} completions)"
diag "phase 2: failback: path live and optimized $(awk "BEGIN { print $t_back - $t_rs }") s after gateway a was restarted (reconnect delay 1 s)"
check "the stall was shorter than 10 s" sh -c "[ ${1:-99999} -lt 10000 ]"
check "no I/O error in the kernel log (phase 2)" no_new_io_errors
check "disconnect $NQN2" nvme disconnect -n "$NQN2"

# ---- phase 3: reservations between two hosts, through a restart -----------------------------
diag "phase 3: hosts A and B of this guest, one namespace, PTPL"
check "connect as host A" nvme connect -t tcp -a "$A" -s "$P3" -n "$NQN3" --hostnqn="$HOST_A" --hostid="$ID_A" --reconnect-delay=1
# nvme-cli 2.3 (Debian 12) refuses a second controller on the same address and port whatever
# the host NQN ("already connected"; --duplicate-connect is not consulted there), so host B
# goes to the kernel's fabrics device directly, with the options nvme-cli would pass.
connect_raw() { echo "$1" >/dev/nvme-fabrics; }
check "connect as host B" connect_raw \
	"nqn=$NQN3,transport=tcp,traddr=$A,trsvcid=$P3,hostnqn=$HOST_B,hostid=$ID_B,reconnect_delay=1"
check "both hosts' controllers are paths of one namespace device" wait_for 15 one_head "$NQN3"
ra=$(ctrl_at "$NQN3" "$P3" "$HOST_A") rb=$(ctrl_at "$NQN3" "$P3" "$HOST_B")
diag "host A: $ra, host B: $rb"
dd if=/dev/urandom of=/tmp/blk bs=512 count=1 2>/dev/null
# st CMD...: run it, print its NVMe status as 0xSCT|SC (0x0 on success)
st() {
	"$@" >/tmp/st.out 2>&1
	_rc=$?
	cat /tmp/st.out
	_h=$(sed -n 's/.*NVMe status: .*(0x\([0-9a-fA-F]*\)).*/\1/p' /tmp/st.out | tail -n 1)
	if [ -n "$_h" ]; then ST=$(printf '0x%x' $((0x$_h & 0x7ff))); elif [ $_rc = 0 ]; then ST=0x0; else ST="exit $_rc"; fi
	echo "status $ST"
}
is() { _want=$1; shift; st "$@"; [ "$ST" = "$_want" ]; }
wr() { nvme io-passthru /dev/$1 -n 1 --opcode=1 --cdw10=8 --cdw12=0 --data-len=512 --write --input-file=/tmp/blk; }
rd() { nvme io-passthru /dev/$1 -n 1 --opcode=2 --cdw10=8 --cdw12=0 --data-len=512 --read --raw-binary; }
report() { nvme resv-report /dev/$1 -n 1 --eds -o json | tr -d ' \n\t'; echo; }
report_has() {   # report_has CTRL PATTERN...: every pattern is in the JSON report
	_r=$(report "$1"); shift
	echo "$_r"
	for _p in "$@"; do echo "$_r" | grep -q "$_p" || { echo "missing $_p"; return 1; }; done
}
oncs_resv() {
	_o=$(nvme id-ctrl /dev/$ra | awk -F: '/^oncs/ { gsub(/ /, "", $2); print $2 }')
	echo "oncs $_o"
	[ $((_o & 0x20)) != 0 ]
}
check "id-ns: RESCAP 0xff (all types, PTPL)" is_field rescap 0xff nvme id-ns /dev/$ra -n 1
check "id-ctrl: ONCS reservations bit" oncs_resv
check "A registers key 0xA1 with PTPL" is 0x0 nvme resv-register /dev/$ra -n 1 --nrkey=0xA1 --rrega=0 --cptpl=3
check "B registers key 0xB2" is 0x0 nvme resv-register /dev/$rb -n 1 --nrkey=0xB2 --rrega=0
check "B registers another key: Reservation Conflict" is 0x83 nvme resv-register /dev/$rb -n 1 --nrkey=0xB3 --rrega=0
check "A acquires with B's key: Reservation Conflict" is 0x83 nvme resv-acquire /dev/$ra -n 1 --crkey=0xB2 --rtype=1 --racqa=0
check "A acquires Write Exclusive" is 0x0 nvme resv-acquire /dev/$ra -n 1 --crkey=0xA1 --rtype=1 --racqa=0
check "B's write: Reservation Conflict (0x83)" is 0x83 wr $rb
check "B reads (Write Exclusive)" is 0x0 rd $rb
check "A writes" is 0x0 wr $ra
check "resv-report lists both, A holds Write Exclusive, PTPL on" report_has $rb '"rtype":1' '"regctl":2' '"ptpls":1' '"rkey":161' '"rkey":178'
check "resv-report without EDS: Host Identifier Inconsistent Format" is 0x18 nvme resv-report /dev/$rb -n 1
check "restart nvringd (SIGKILL, start)" host_sync restart-resv
both_live() { live "$ra" && live "$rb"; }
check "both hosts reconnect" wait_for 60 both_live
check "after the restart: the reservation is still there" report_has $rb '"rtype":1' '"regctl":2' '"ptpls":1' '"rkey":161' '"rkey":178'
check "after the restart: B's write still conflicts" is 0x83 wr $rb
check "after the restart: A writes" is 0x0 wr $ra
check "B preempts A" is 0x0 nvme resv-acquire /dev/$rb -n 1 --crkey=0xB2 --prkey=0xA1 --rtype=1 --racqa=1
notified() {   # A's notification log: registration preempted (type 1) on NSID 1
	nvme get-log /dev/$ra --log-id=0x80 --log-len=64 --raw-binary >/tmp/rn.bin || return 1
	od -An -tu1 -v /tmp/rn.bin | tr -s ' \n' ' ' | awk '{ print "rnlpt " $9 " nsid " $13; exit !($9 == 1 && $13 == 1) }'
}
check "A's reservation notification log: registration preempted, NSID 1" wait_for 5 notified
check "A (preempted) cannot write" is 0x83 wr $ra
check "B writes" is 0x0 wr $rb
check "B releases" is 0x0 nvme resv-release /dev/$rb -n 1 --crkey=0xB2 --rtype=1 --rrela=0
check "A writes after the release" is 0x0 wr $ra
check "A registers again" is 0x0 nvme resv-register /dev/$ra -n 1 --nrkey=0xA1 --rrega=0
check "B clears" is 0x0 nvme resv-release /dev/$rb -n 1 --crkey=0xB2 --rrela=1
check "resv-report: no registrant, no reservation" report_has $ra '"rtype":0' '"regctl":0'
check "no I/O error in the kernel log (phase 3)" no_new_io_errors
check "disconnect $NQN3" nvme disconnect -n "$NQN3"
tap_done
