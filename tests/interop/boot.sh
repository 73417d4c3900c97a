#!/bin/bash
# boot.sh [options] GUEST_SCRIPT [-- QEMU_ARGS...]
#
# Boot Debian's kernel under QEMU from the cached base initramfs (mkimage.sh)
# plus a per-run archive holding /init, the guest helpers (guest/*.sh) and
# GUEST_SCRIPT, and stream the guest's result channel (TAP) to stdout.
#
# Options:
#   -b DIR      image/build dir (default: build/interop, or $INTEROP_DIR)
#   -t SECS     hard limit for the whole boot (default 300)
#   -m MEM      guest memory (default 1536M)   -c N  guest CPUs (default 2)
#   -p H:G      forward host 127.0.0.1:H to guest port G (repeatable)
#   -f SRC[:DST] add a host file to the guest (DST default: /run/SRCNAME)
#   -x BIN[:DST] add a host executable and the shared libraries ldd lists
#               (e.g. nvringd, for tests inside the guest)
#   -n MB       attach an emulated PCI NVMe drive (QEMU nvme, serial nvring0)
#               backed by a sparse MB-MiB file: /dev/nvme0n1, /dev/ng0n1
#   -e VAR=VAL  export VAR in the guest before the script runs (repeatable)
#   -H CMD      host hook: run with bash -c when the guest calls host_sync or
#               freezes; $1 / $INTEROP_SYNC = the sync name; its stdout is
#               passed through (TAP comments or lines the caller renumbers),
#               its exit status is returned to the guest
#   -T SECS     limit for one hook run (default 120)
#   -k FILE     keep the kernel console log in FILE (default: run dir, deleted)
#   -v          verbose kernel console (no "quiet")
#
# Control lines from the guest (never passed to stdout):
#   #@SYNC NAME    run the hook, answer "GO NAME RC" on the channel
#   #@FREEZE NAME  SIGSTOP QEMU (guest silent, its TCP connections left
#                  open: a hung host), run the hook, then kill QEMU
#   #@POWERCUT     kill QEMU at once (host-side sockets get closed)
#   #@DONE RC      the script finished with RC
# Exit status: the guest script's status if it finished (or 0 after a
# freeze/powercut), 124 if the time limit hit, 125 if the guest died early.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${INTEROP_DIR:-build/interop}
limit=300 mem=1536M cpus=2 hook= hook_limit=120 keep_log= quiet=quiet
fwds=() files=() envs=() bins=() nvme_mb=
while getopts "b:t:m:c:p:f:x:n:e:H:T:k:v" o; do
	case $o in
	b) dir=$OPTARG ;; t) limit=$OPTARG ;; m) mem=$OPTARG ;; c) cpus=$OPTARG ;;
	p) fwds+=("$OPTARG") ;; f) files+=("$OPTARG") ;; e) envs+=("$OPTARG") ;;
	x) bins+=("$OPTARG") ;; n) nvme_mb=$OPTARG ;;
	H) hook=$OPTARG ;; T) hook_limit=$OPTARG ;; k) keep_log=$OPTARG ;; v) quiet= ;;
	*) echo "boot.sh: bad option" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
script=${1:?usage: boot.sh [options] GUEST_SCRIPT [-- QEMU_ARGS...]}
shift
[[ ${1:-} == -- ]] && shift
qemu_extra=("$@")

bail() { echo "# boot.sh: $*"; exit 125; }
[[ -r $script ]] || bail "no guest script $script"
command -v qemu-system-x86_64 >/dev/null || bail "qemu-system-x86_64 not installed"
"$here/mkimage.sh" "$dir" >&2 || bail "mkimage.sh failed"

run=$(mktemp -d "${TMPDIR:-/tmp}/interop-run.XXXXXX")
qpid=
cleanup() {
	[[ -n $qpid ]] && kill -KILL "$qpid" 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Per-run archive: its files override the base image's.
mkdir -p "$run/root/run"
cp "$here/guest/init" "$run/root/init"
cp "$here"/guest/*.sh "$run/root/run/"   # lib.sh + helpers scripts may source
cp "$script" "$run/root/run/test.sh"
chmod 755 "$run/root/init"
: >"$run/root/run/env.sh"
for e in "${envs[@]}"; do
	printf 'export %s=%q\n' "${e%%=*}" "${e#*=}" >>"$run/root/run/env.sh"
done
for f in "${files[@]}"; do
	src=${f%%:*} dst=${f#*:}
	[[ $f == *:* ]] || dst=/run/$(basename "$src")
	[[ -r $src ]] || bail "no file $src"
	mkdir -p "$run/root$(dirname "$dst")"
	cp -L "$src" "$run/root$dst"
done
for f in "${bins[@]}"; do
	src=${f%%:*} dst=${f#*:}
	[[ $f == *:* ]] || dst=/run/$(basename "$src")
	[[ -x $src ]] || bail "no executable $src"
	mkdir -p "$run/root$(dirname "$dst")"
	cp -L "$src" "$run/root$dst"
	# Libraries at the paths ldd resolved them to; the base's stay (same distro).
	ldd "$src" 2>/dev/null | awk '/=>/ && $3 ~ /^\// { print $3 }' | while read -r lib; do
		mkdir -p "$run/root$(dirname "$lib")"
		cp -L "$lib" "$run/root$lib"
	done
done
(cd "$run/root" && find . -mindepth 1 | LC_ALL=C sort | \
	if command -v cpio >/dev/null; then cpio --quiet -o -H newc -R 0:0; \
	else busybox cpio -o -H newc -R 0:0; fi) >"$run/run.cpio" || bail "cpio failed"
# base.cpio is padded to 512 bytes, so the appended archive starts aligned.
cat "$dir/base.cpio" "$run/run.cpio" >"$run/initrd"

netdev=user,id=n0
for f in "${fwds[@]}"; do netdev+=",hostfwd=tcp:127.0.0.1:${f%%:*}-:${f#*:}"; done
accel=(-accel tcg,thread=multi)
# KVM only on request: /dev/kvm may exist yet fail (nested MSR errors).
[[ ${INTEROP_KVM:-0} == 1 ]] && accel=(-accel kvm "${accel[@]}")
nvme_dev=()
if [[ -n $nvme_mb ]]; then
	truncate -s "${nvme_mb}M" "$run/nvme.img"
	nvme_dev=(-drive "file=$run/nvme.img,if=none,id=nvm0,format=raw,cache=unsafe"
		-device nvme,serial=nvring0,drive=nvm0)
fi
log=${keep_log:-$run/console.log}
: >"$log"

# ttyS0: kernel console to a file; ttyS1: result channel on QEMU's stdio.
qemu=(qemu-system-x86_64 -nodefaults -no-user-config -no-reboot
	"${accel[@]}" -cpu max -smp "$cpus" -m "$mem"
	-display none -monitor none -pidfile "$run/qemu.pid"
	-kernel "$dir/vmlinuz" -initrd "$run/initrd"
	-append "console=ttyS0 $quiet panic=-1 rdinit=/init nvme_core.admin_timeout=15"
	-serial "file:$log"
	-chardev stdio,id=res,signal=off -serial chardev:res
	-netdev "$netdev" -device virtio-net-pci,netdev=n0
	"${nvme_dev[@]}" "${qemu_extra[@]}")

start=$SECONDS
# meson test sets MALLOC_PERTURB_, which makes QEMU's allocations several
# times slower: the guest is not under test, drop it.
coproc QEMU { exec env -u MALLOC_PERTURB_ timeout -k 5 "$limit" "${qemu[@]}" 2>"$run/qemu.err"; }
tpid=$QEMU_PID
exec {qout}<&"${QEMU[0]}" {qin}>&"${QEMU[1]}"

run_hook() {   # run_hook NAME: hook output to stdout, status returned
	[[ -n $hook ]] || { echo "# boot.sh: guest asked for hook '$1' but no -H given"; return 127; }
	INTEROP_SYNC=$1 timeout -k 5 "$hook_limit" bash -c "$hook" hook "$1" \
		{qout}<&- {qin}>&-
}
qemu_pid() {
	[[ -n $qpid ]] || qpid=$(cat "$run/qemu.pid" 2>/dev/null)
	[[ -n $qpid ]]
}

finished= rc=125
while IFS= read -r line <&"$qout"; do
	line=${line%$'\r'}
	case $line in
	'#@SYNC '*)
		name=${line#'#@SYNC '}
		run_hook "$name"; hrc=$?
		printf 'GO %s %d\n' "$name" "$hrc" >&"$qin"
		;;
	'#@FREEZE '*)
		name=${line#'#@FREEZE '}
		qemu_pid && kill -STOP "$qpid"
		run_hook "$name"
		qemu_pid && kill -KILL "$qpid"
		finished=freeze rc=0
		;;
	'#@POWERCUT'*)
		qemu_pid && kill -KILL "$qpid"
		finished=powercut rc=0
		;;
	'#@DONE '*)
		finished=done rc=${line#'#@DONE '}
		;;
	*)
		printf '%s\n' "$line"
		;;
	esac
done
{ wait "$tpid"; } 2>/dev/null; trc=$?   # no "Killed" job notice after a freeze
exec {qout}<&- {qin}>&-
qpid=
echo "# boot.sh: guest ${finished:-did not finish} after $((SECONDS - start)) s"
if [[ -z $finished ]]; then
	(( trc == 124 || trc == 137 )) && rc=124 && echo "# boot.sh: time limit ${limit}s hit"
	[[ -s $run/qemu.err ]] && sed 's/^/# qemu: /' "$run/qemu.err"
	echo "# boot.sh: last console lines:"
	tail -n 40 "$log" | tr -d '\r' | sed 's/^/# console: /'
fi
exit "$rc"
