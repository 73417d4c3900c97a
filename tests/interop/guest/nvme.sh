# NVMe helpers for guest scripts (busybox ash); source after lib.sh.
#
#   nvmet_target NQN SIZE_MB PORT [PORTID]
#       Linux kernel target (nvmet-tcp): a RAM namespace (a file on tmpfs,
#       buffered_io=1 since tmpfs has no O_DIRECT on 6.1) exported by NQN on
#       0.0.0.0:PORT (slirp delivers forwarded connections to 10.0.2.15).
#   nvmet_subsys NQN / nvmet_ns NQN NSID PATH / nvmet_port NQN PORT ID
#       the pieces, for targets with several namespaces or ports
#   nvme_ns_devs NQN     print the block devices of all its namespaces
#   nvme_ns_dev NQN      print the block device name (nvmeXnY) of the first
#                        namespace of the connected subsystem NQN
#   nvme_ctrl_dev NQN    print the controller name (nvmeX)
#   nvme_ng_dev NQN      print the generic char device name (ngXnY)
#   nvme_pci_ctrl        print the controller name (nvmeX) of QEMU's emulated PCI
#                        drive (boot.sh -n: serial nvring0)
#   nvme_pci_ns          print its first namespace's block device name (nvmeXn1)

NVMET_CFS=/sys/kernel/config/nvmet

nvmet_subsys() {   # nvmet_subsys NQN: a subsystem any host may use
	modprobe nvmet-tcp || return 1
	mkdir "$NVMET_CFS/subsystems/$1" || return 1
	echo 1 >"$NVMET_CFS/subsystems/$1/attr_allow_any_host"
}

nvmet_ns() {   # nvmet_ns NQN NSID PATH: PATH a file (buffered) or block device
	_n=$NVMET_CFS/subsystems/$1/namespaces/$2
	mkdir "$_n" || return 1
	printf '%s' "$3" >"$_n/device_path" || return 1
	[ -f "$3" ] && { echo 1 >"$_n/buffered_io" || return 1; }
	echo 1 >"$_n/enable"
}

nvmet_port() {   # nvmet_port NQN PORT ID: export NQN on 0.0.0.0:PORT
	_p=$NVMET_CFS/ports/$3
	mkdir "$_p" || return 1
	echo tcp >"$_p/addr_trtype"
	echo ipv4 >"$_p/addr_adrfam"
	echo 0.0.0.0 >"$_p/addr_traddr"
	echo "$2" >"$_p/addr_trsvcid"
	ln -s "$NVMET_CFS/subsystems/$1" "$_p/subsystems/$1" || return 1
	# Listening is synchronous once the link exists; prove it anyway.
	netstat -ltn 2>/dev/null | grep -q ":$2 " || { echo "port $2 not listening"; return 1; }
}

nvmet_target() {
	_file=/tmp/nvmet-${4:-1}.img
	truncate -s "${2}M" "$_file" &&
	nvmet_subsys "$1" && nvmet_ns "$1" 1 "$_file" && nvmet_port "$1" "$3" "${4:-1}"
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

nvme_ns_devs() {
	# Native multipath (Debian's default): the disk hangs off the subsystem.
	for _s in /sys/class/nvme-subsystem/nvme-subsys*; do
		[ "$(cat "$_s/subsysnqn" 2>/dev/null)" = "$1" ] || continue
		ls -d "$_s"/nvme*n* 2>/dev/null | xargs -n1 basename 2>/dev/null | sort -t n -k3 -n | grep . && return 0
	done
	_c=$(nvme_ctrl_dev "$1") || return 1
	ls -d /sys/class/nvme/$_c/nvme*n* 2>/dev/null | xargs -n1 basename 2>/dev/null |
		grep -v 'c[0-9]*n' | sort -t n -k3 -n | grep .
}

nvme_ns_dev() {
	nvme_ns_devs "$1" | head -n 1 | grep .
}

nvme_ng_dev() {
	_b=$(nvme_ns_dev "$1") || return 1
	_ng=ng${_b#nvme}
	[ -c "/dev/$_ng" ] && echo "$_ng"
}

nvme_pci_ctrl() {
	for _c in /sys/class/nvme/nvme*; do
		[ "$(cat $_c/transport)" = pcie ] && [ "$(cat $_c/serial | tr -d ' ')" = nvring0 ] &&
			basename $_c && return 0
	done
	return 1
}

nvme_pci_ns() { ls -d /sys/class/nvme/$(nvme_pci_ctrl)/nvme*n1 2>/dev/null | head -n 1 | xargs -r basename; }
