# NVMe helpers for guest scripts (busybox ash); source after lib.sh.
#
#   nvmet_target NQN SIZE_MB PORT [PORTID]
#       Linux kernel target (nvmet-tcp): a RAM namespace (a file on tmpfs,
#       buffered_io=1 since tmpfs has no O_DIRECT on 6.1) exported by NQN on
#       0.0.0.0:PORT (slirp delivers forwarded connections to 10.0.2.15).
#   nvme_ns_dev NQN      print the block device name (nvmeXnY) of the first
#                        namespace of the connected subsystem NQN
#   nvme_ctrl_dev NQN    print the controller name (nvmeX)
#   nvme_ng_dev NQN      print the generic char device name (ngXnY)

NVMET_CFS=/sys/kernel/config/nvmet

nvmet_target() {
	_nqn=$1 _mb=$2 _port=$3 _id=${4:-1}
	modprobe nvmet-tcp || return 1
	_file=/tmp/nvmet-$_id.img
	truncate -s "${_mb}M" "$_file" || return 1
	_s=$NVMET_CFS/subsystems/$_nqn
	mkdir "$_s" || return 1
	echo 1 >"$_s/attr_allow_any_host" || return 1
	mkdir "$_s/namespaces/1" || return 1
	printf '%s' "$_file" >"$_s/namespaces/1/device_path" || return 1
	echo 1 >"$_s/namespaces/1/buffered_io" || return 1
	echo 1 >"$_s/namespaces/1/enable" || return 1
	_p=$NVMET_CFS/ports/$_id
	mkdir "$_p" || return 1
	echo tcp >"$_p/addr_trtype"
	echo ipv4 >"$_p/addr_adrfam"
	echo 0.0.0.0 >"$_p/addr_traddr"
	echo "$_port" >"$_p/addr_trsvcid"
	ln -s "$_s" "$_p/subsystems/$_nqn" || return 1
	# Listening is synchronous once the link exists; prove it anyway.
	netstat -ltn 2>/dev/null | grep -q ":$_port " || { echo "port $_port not listening"; return 1; }
}

nvme_ctrl_dev() {
	for _c in /sys/class/nvme/nvme*; do
		[ "$(cat "$_c/subsysnqn" 2>/dev/null)" = "$1" ] || continue
		# A controller being deleted still shows up: skip it.
		[ "$(cat "$_c/state" 2>/dev/null)" = live ] || continue
		basename "$_c"
		return 0
	done
	return 1
}

nvme_ns_dev() {
	# Native multipath (Debian's default): the disk hangs off the subsystem.
	for _s in /sys/class/nvme-subsystem/nvme-subsys*; do
		[ "$(cat "$_s/subsysnqn" 2>/dev/null)" = "$1" ] || continue
		for _d in "$_s"/nvme*n*; do
			[ -e "$_d" ] && { basename "$_d"; return 0; }
		done
	done
	_c=$(nvme_ctrl_dev "$1") || return 1
	for _d in /sys/class/nvme/$_c/nvme*n*; do
		case $(basename "$_d") in nvme*c*n*) continue ;; esac
		[ -e "$_d" ] && { basename "$_d"; return 0; }
	done
	return 1
}

nvme_ng_dev() {
	_b=$(nvme_ns_dev "$1") || return 1
	_ng=ng${_b#nvme}
	[ -c "/dev/$_ng" ] && echo "$_ng"
}
