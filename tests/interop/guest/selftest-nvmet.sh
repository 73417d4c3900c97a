# Harness self-test, no nvring code: the guest's Linux NVMe/TCP host talks to
# the guest's own Linux nvmet-tcp target over 127.0.0.1.
. /run/nvme.sh
NQN=nqn.2024-01.io.nvring:selftest
t0=$(elapsed)

check "modprobe nvme-tcp" modprobe nvme-tcp
check "nvmet-tcp target, 256 MiB RAM namespace, 0.0.0.0:4420" nvmet_target $NQN 256 4420
check "nvme discover 127.0.0.1:4420 lists the subsystem" \
	sh -c "nvme discover -t tcp -a 127.0.0.1 -s 4420 | grep -q 'subnqn: *$NQN'"
check "nvme connect" nvme connect -t tcp -a 127.0.0.1 -s 4420 -n $NQN
check "namespace block device appears" wait_for 10 nvme_ns_dev $NQN
dev=$(nvme_ns_dev $NQN)
check "nvme list shows /dev/$dev" sh -c "nvme list | grep -q '/dev/$dev '"
check "fio randwrite 4k qd16 + verify=crc32c" \
	fio --name=selftest --filename=/dev/$dev --ioengine=libaio --direct=1 \
	--rw=randwrite --bs=4k --iodepth=16 --size=32M \
	--verify=crc32c --do_verify=1 --verify_fatal=1
check "nvme disconnect" nvme disconnect -n $NQN
ctrl_gone() { ! nvme_ctrl_dev $NQN; }
check "controller gone" wait_for 10 ctrl_gone
# boot.sh -n: QEMU's emulated PCI NVMe drive, for passthrough tests.
if [ "${SELFTEST_PCI:-0}" = 1 ]; then
	check "QEMU PCI NVMe drive is up" wait_for 10 nvme_pci_ctrl
	pns=$(nvme_pci_ns)
	dd if=/dev/urandom of=/tmp/pci.in bs=4096 count=1 2>/dev/null
	pci_roundtrip() {
		nvme io-passthru /dev/ng${pns#nvme} --opcode=0x01 --namespace-id=1 --write \
			--data-len=4096 --cdw10=8 --cdw12=$((4096 / $(cat /sys/block/$pns/queue/logical_block_size) - 1)) \
			--input-file=/tmp/pci.in &&
		dd if=/dev/$pns bs=4096 skip=$((8 * $(cat /sys/block/$pns/queue/logical_block_size) / 4096)) count=1 iflag=direct 2>/dev/null |
			cmp - /tmp/pci.in
	}
	check "io-passthru write on /dev/ng${pns#nvme}, block read back: same bytes" pci_roundtrip
fi
diag "checks took $(awk "BEGIN { print $(elapsed) - $t0 }") s after boot"
tap_done
