#!/bin/bash
# mkimage.sh OUTDIR — build (and cache) the base initramfs of the interop guest.
#
# OUTDIR (e.g. build/interop) receives:
#   vmlinuz      Debian's kernel, copied so later boots do not depend on /boot
#   base.cpio    uncompressed newc archive: busybox, NVMe/ext4/NIC modules,
#                nvme-cli, fio, e2fsprogs and their shared libraries
#   base.stamp   hash of every input; the image is rebuilt only when it changes
#
# The per-run files (/init, the guest helper, the test script) are appended by
# boot.sh, so editing them never rebuilds this image.
# Environment: KVER picks a kernel (default: newest with both /boot/vmlinuz-K
# and /lib/modules/K).  Needs: linux-image-amd64, busybox-static, nvme-cli,
# fio, e2fsprogs, kmod (modprobe, depmod), cpio (or busybox's).
set -euo pipefail

out=${1:?usage: mkimage.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Two suites starting at once must not build over each other.
exec 9>"$out/.lock"
flock -w 300 9 || { echo "mkimage: $out is locked" >&2; exit 1; }

# Modules the guest may need; their dependencies are resolved by modprobe.
# 9p/virtio are for optional file sharing; e1000 is QEMU's default NIC;
# loop gives a local nvmet a 512-byte-LBA block namespace.
MODULES="configfs nvme-core nvme-fabrics nvme-tcp nvmet nvmet-tcp nvme ext4
crc32c_generic crc32c-intel crct10dif_generic crct10dif-pclmul
e1000 virtio_net virtio_pci virtio_blk 9p 9pnet_virtio loop
tls gcm ctr ghash-generic"
# Real binaries copied with their libraries (busybox provides the rest).
BINARIES="/usr/sbin/nvme /usr/bin/fio /usr/sbin/mke2fs /usr/sbin/mkfs.ext4
/usr/sbin/e2fsck /usr/sbin/fsck.ext4 /usr/sbin/tune2fs /usr/sbin/dumpe2fs"

die() { echo "mkimage: $*" >&2; exit 1; }

pick_kver() {
	local k best=
	if [[ -n ${KVER:-} ]]; then echo "$KVER"; return; fi
	for k in $(ls /lib/modules 2>/dev/null | sort -V); do
		[[ -r /boot/vmlinuz-$k && -d /lib/modules/$k/kernel/drivers/nvme ]] && best=$k
	done
	[[ -n $best ]] || die "no kernel with NVMe modules in /boot + /lib/modules (install linux-image-amd64)"
	echo "$best"
}

kver=$(pick_kver)
kimg=/boot/vmlinuz-$kver
for b in busybox depmod modprobe $BINARIES; do
	command -v "$b" >/dev/null || die "missing $b"
done
bb=$(command -v busybox)
# busybox-static is required: a dynamic busybox would need its libc too.
file_is_static() { ! ldd "$1" >/dev/null 2>&1; }
file_is_static "$bb" || die "$bb is not static (install busybox-static)"

# Every input that changes the image goes into the stamp.
stamp_input() {
	echo "kver=$kver"
	# Contents only: the same inputs reached by another path are the same.
	for f in "$0" "$kimg" "$bb" $BINARIES; do sha256sum <"$f"; done
	for m in $MODULES; do modprobe -S "$kver" --show-depends "$m" 2>/dev/null || true; done | sha256sum
	[[ -r /etc/mke2fs.conf ]] && sha256sum </etc/mke2fs.conf
	true
}
want=$(stamp_input | sha256sum | cut -d' ' -f1)
if [[ -s $out/base.cpio && -s $out/vmlinuz && "$(cat "$out/base.stamp" 2>/dev/null)" == "$want" ]]; then
	echo "mkimage: $out/base.cpio up to date ($kver)"
	exit 0
fi

root=$(mktemp -d "$out/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
echo "mkimage: building $out/base.cpio for $kver"

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/nvme,proc,sys,dev,tmp,run,mnt,root,var/tmp,lib64}

# busybox: applet links first; real binaries replace their links below.
cp "$bb" "$root/bin/busybox"
"$bb" --list-full | while read -r applet; do
	[[ $applet == bin/busybox ]] && continue
	mkdir -p "$root/$(dirname "$applet")"
	ln -sf /bin/busybox "$root/$applet"
done

# Kernel modules: the union of each module's dependency chain.
moddir=lib/modules/$kver
for m in $MODULES; do
	modprobe -S "$kver" --show-depends "$m" 2>/dev/null || echo "mkimage: warning: module $m not found" >&2
done | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r ko; do
	[[ -f $ko ]] || continue
	mkdir -p "$root$(dirname "$ko")"
	cp "$ko" "$root$ko"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[[ -f /$moddir/$f ]] && cp "/$moddir/$f" "$root/$moddir/"
done
depmod -b "$root" "$kver"

# Shared libraries of the real binaries, at the paths ldd resolves them to.
copy_file() {   # copy_file SRC DEST: dereference, and never write through a link
	mkdir -p "$(dirname "$2")"
	rm -f "$2"
	cp -L "$1" "$2"
}
for b in $BINARIES; do
	copy_file "$b" "$root$b"
	ldd "$b" | awk '/=>/ && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
	copy_file "$lib" "$root$lib"
done
[[ -r /etc/mke2fs.conf ]] && cp /etc/mke2fs.conf "$root/etc/"

# Minimal identity files: some tools look up user/group names.
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
: >"$root/etc/fstab"

cp "$kimg" "$out/vmlinuz.tmp"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | \
	if command -v cpio >/dev/null; then cpio --quiet -o -H newc -R 0:0; else "$bb" cpio -o -H newc -R 0:0; fi
) >"$out/base.cpio.tmp"
# Appended archives must start 4-byte aligned: pad the base to a multiple of 512.
size=$(stat -c %s "$out/base.cpio.tmp")
pad=$(( (512 - size % 512) % 512 ))
(( pad )) && head -c "$pad" /dev/zero >>"$out/base.cpio.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/base.cpio.tmp" "$out/base.cpio"
echo "$kver" >"$out/kver"
echo "$want" >"$out/base.stamp"
echo "mkimage: done ($(du -h "$out/base.cpio" | cut -f1))"
