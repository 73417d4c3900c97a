# Kernel TLS in the guest (Debian's 6.1 has tls.ko; the build machines do not). boot.sh -x
# test_tls_ktls -x tls_testsrv -x tls_hostcheck. Checks: the ULP loads; the src/tls kTLS unit
# test runs its kernel half (both ends kTLS, a userspace peer against a kTLS one, an alert as a
# record-type cmsg); libnvring with kernel TLS against tls_testsrv with kernel TLS, then a
# userspace host against it and a kernel host against a userspace server; the kernel's TLS
# counters moved.
KEY='NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:'
HOST=nqn.2014-08.org.nvmexpress:uuid:5b2f4c1a-9d3e-4f70-8a61-2c3b4d5e6f70
NQN=nqn.2026-01.io.nvring:fake

ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
if ! check "modprobe tls (and the AES-GCM the ULP asks for)" modprobe tls; then
	tap_done; exit 1
fi
modprobe gcm 2>/dev/null; modprobe ghash-generic 2>/dev/null; modprobe ctr 2>/dev/null
kernel_half() {
	/run/test_tls_ktls >/tmp/ktls.tap 2>&1; r=$?
	cat /tmp/ktls.tap
	[ $r = 0 ] && ! grep -q SKIP /tmp/ktls.tap
}
check "test_tls_ktls with its kernel half (no SKIP)" kernel_half

# srv_start ARGS...: tls_testsrv in the background, its port in $PORT, stdin held by fd 7
srv_start() {
	rm -f /tmp/srv.in /tmp/srv.port
	mkfifo /tmp/srv.in
	/run/tls_testsrv --psk "$KEY" "$@" </tmp/srv.in >/tmp/srv.port 2>>/tmp/srv.log &
	exec 7>/tmp/srv.in
	wait_for 10 test -s /tmp/srv.port && PORT=$(cat /tmp/srv.port)
}
srv_stop() { exec 7>&-; wait; }
hostcheck() { /run/tls_hostcheck -a 127.0.0.1 -s "$PORT" -n "$NQN" -q "$HOST" --psk "$KEY" "$@"; }

: >/tmp/srv.log
srv_start --ktls
check "kernel TLS host against a kernel TLS target: 1 MiB and QD32 data intact" hostcheck --tls-mode kernel --mode kernel
check "the target moved its queues to the kernel too" grep -q "mode kernel" /tmp/srv.log
check "userspace TLS host against the kernel TLS target" hostcheck --tls-mode user --mode user
check "identity v1 / SHA-256 with kernel TLS" hostcheck --tls-mode kernel --psk-identity-version 1 --mode kernel
srv_stop
srv_start
check "kernel TLS host against a userspace TLS target" hostcheck --tls-mode auto --mode kernel
srv_stop
KEY='NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:'
srv_start --ktls
check "AES-256-GCM (SHA-384 PSK) both ends in the kernel" hostcheck --tls-mode kernel --mode kernel
srv_stop
# nvringd itself with kernel TLS: a TLS-required port, our host in kernel and userspace mode
NQN=nqn.2026-11.io.nvring:default
KEY='NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:'
/run/nvringd -l 127.0.0.1:4433,tls=required --ns mem:32M --allow-host "$HOST,psk=$KEY" \
	--rpc-socket none -t 1 -vv >/tmp/nvringd.log 2>&1 &
wait_for 20 grep -q ready /tmp/nvringd.log
PORT=4433
check "kernel TLS host against nvringd: 1 MiB and QD32 data intact" hostcheck --tls-mode kernel --mode kernel
check "nvringd moved its queues' records into the kernel" grep -q "TLS records in the kernel" /tmp/nvringd.log
check "userspace TLS host against nvringd with kernel TLS" hostcheck --tls-mode user --mode user
kill %1 2>/dev/null; wait
diag "$(tr '\n' ' ' </proc/net/tls_stat)"
tx_sw=$(awk '$1 == "TlsTxSw" { print $2 }' /proc/net/tls_stat)
check "the kernel's TLS counters moved (TlsTxSw $tx_sw)" test "${tx_sw:-0}" -gt 0
tap_done
