#!/bin/bash
# cli-suite.sh ADDR PORT NQN [NVRING] — the nvring CLI against a live NVMe/TCP target, as TAP.
# Used by vs-nvmet.sh (Linux nvmet-tcp in a QEMU guest) and vs-nvringd.sh. Needs a namespace 1
# of at least 8 MiB that the suite may overwrite. SUITE_PERF_SECS (default 5) sets perf run time.
set -uo pipefail
addr=$1 port=$2 nqn=$3
nvring=${4:-${NVRING:-build/tools/nvring}}
secs=${SUITE_PERF_SECS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
conn=(-a "$addr" --trsvcid "$port" --nqn "$nqn")
# run nvring through a wrapper that also keeps every stderr line, for the final shutdown check
real=$(realpath "$nvring")
cat >"$tmp/nvring" <<EOF
#!/bin/bash
e=\$(mktemp); "$real" "\$@" 2>"\$e"; rc=\$?; cat "\$e" >&2; cat "\$e" >>"$tmp/stderr.log"; rm -f "\$e"; exit \$rc
EOF
chmod +x "$tmp/nvring"
nvring=$tmp/nvring

tap() { # tap OK|FAIL name [detail]
	n=$((n + 1))
	if [[ $1 == OK ]]; then echo "ok $n - $2"; else echo "not ok $n - $2${3:+ ($3)}"; failed=$((failed + 1)); fi
}
check() { # check name command... : ok when the command exits 0
	local name=$1; shift
	if "$@" >"$tmp/out" 2>"$tmp/err"; then tap OK "$name"; else tap FAIL "$name" "exit $?: $(head -c 300 "$tmp/err")"; fi
}
json() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }

# discovery, identify
check "discover lists $nqn" bash -c "'$nvring' discover -a $addr --trsvcid $port -o json >$tmp/disc.json && \
	python3 -c \"import json; d=json.load(open('$tmp/disc.json')); assert any(r['subnqn']=='$nqn' for r in d['records'])\""
check "id-ctrl: subnqn and I/O controller type" bash -c "'$nvring' id-ctrl ${conn[*]} -o json >$tmp/idc.json && \
	python3 -c \"import json; d=json.load(open('$tmp/idc.json')); assert d['subnqn']=='$nqn' and d['cntrltype'] in (0,1), d\""
check "id-ctrl -b: 4096 raw bytes" bash -c "'$nvring' id-ctrl ${conn[*]} -b >$tmp/idc.bin && test \$(stat -c %s $tmp/idc.bin) -eq 4096"
check "id-ns 1: size and LBA format" bash -c "'$nvring' id-ns ${conn[*]} --namespace-id 1 -o json >$tmp/idn.json && \
	python3 -c \"import json; d=json.load(open('$tmp/idn.json')); assert d['nsze']>0 and d['lbads']>=9, d\""
lbads=$(json "$tmp/idn.json" "d['lbads']" 2>/dev/null || echo 9)
bs=$((1 << lbads))
check "list-ns includes namespace 1" bash -c "'$nvring' list-ns ${conn[*]} | grep -q ':0x1$'"
check "get-log SMART (0x02, 512 bytes)" bash -c "'$nvring' get-log ${conn[*]} --log-id 2 --log-len 512 -b | test \$(wc -c) -eq 512"
check "get-feature Number of Queues" bash -c "'$nvring' get-feature ${conn[*]} --feature-id 7 | grep -q 'Current value'"

# option letters as nvme-cli spells them: -n namespace, -N subsystem NQN (-n still names the NQN
# where a command has no namespace option)
check "-N is the NQN (id-ctrl -N)" bash -c "'$nvring' id-ctrl -a $addr --trsvcid $port -N $nqn -o json >$tmp/l1.json && \
	python3 -c \"import json; assert json.load(open('$tmp/l1.json'))['subnqn']=='$nqn'\""
check "-n is still the NQN without a namespace option (id-ctrl -n)" bash -c "'$nvring' id-ctrl -a $addr --trsvcid $port -n $nqn -o json >$tmp/l2.json && \
	python3 -c \"import json; assert json.load(open('$tmp/l2.json'))['subnqn']=='$nqn'\""
check "-n namespace, -N NQN (id-ns -n 1 -N)" bash -c "'$nvring' id-ns -a $addr --trsvcid $port -N $nqn -n 1 -o json >$tmp/l3.json && \
	python3 -c \"import json; assert json.load(open('$tmp/l3.json'))['nsze']>0\""
check "perf -n 1 -N NQN" "$nvring" perf -a "$addr" --trsvcid "$port" -N "$nqn" -n 1 -q 4 -t 1 --json
check "perf --ns 1 (older spelling)" "$nvring" perf -a "$addr" --trsvcid "$port" --nqn "$nqn" --ns 1 -q 4 -t 1 --json
"$nvring" perf -a "$addr" --trsvcid "$port" -n "$nqn" -t 1 >"$tmp/out" 2>"$tmp/err"
rc=$?
if ((rc == 2)) && grep -q "bad number for --namespace-id" "$tmp/err"; then tap OK "perf -n NQN: usage error (-n is the namespace)"
else tap FAIL "perf -n NQN: usage error (-n is the namespace)" "rc $rc $(head -c 200 "$tmp/err")"; fi

# data path: write, read back, compare (in-capsule, R2T, large) with and without digests
for dg in "" "-g -G"; do
	tag=${dg:+, digests}
	for kib in 4 64 1024; do
		blocks=$((kib * 1024 / bs))
		head -c $((kib * 1024)) /dev/urandom >"$tmp/w"
		rm -f "$tmp/r"
		"$nvring" write "${conn[@]}" $dg --start-block 64 --block-count $((blocks - 1)) --data "$tmp/w" 2>"$tmp/err" &&
			"$nvring" read "${conn[@]}" $dg --start-block 64 --block-count $((blocks - 1)) --data "$tmp/r" 2>>"$tmp/err"
		rc=$?
		if ((rc == 0)) && cmp -s "$tmp/w" "$tmp/r"; then tap OK "write then read ${kib} KiB$tag"
		else tap FAIL "write then read ${kib} KiB$tag" "rc $rc: $(head -c 200 "$tmp/err")"; fi
	done
done
# stdin/stdout path
head -c "$bs" /dev/urandom >"$tmp/w1"
"$nvring" write "${conn[@]}" -s 7 -c 0 <"$tmp/w1" 2>/dev/null
"$nvring" read "${conn[@]}" -s 7 -c 0 >"$tmp/r1" 2>/dev/null
cmp -s "$tmp/w1" "$tmp/r1" && tap OK "write from stdin, read to stdout" || tap FAIL "write from stdin, read to stdout"

"$nvring" read "${conn[@]}" -s 7 -c 0 --output-format json >"$tmp/r1.json" 2>/dev/null &&
	python3 -c "import json; d=json.load(open('$tmp/r1.json')); assert bytes.fromhex(d['data'])==open('$tmp/w1','rb').read() and d['blocks']==1" &&
	tap OK "read -o json carries the block as hex" || tap FAIL "read -o json carries the block as hex"

# io-passthru: read one block back through a raw Read (opcode 0x02)
"$nvring" io-passthru "${conn[@]}" --opcode 2 --namespace-id 1 --cdw10 7 --cdw12 0 --data-len "$bs" -r -b \
	>"$tmp/p1" 2>"$tmp/err"
rc=$?
((rc == 0)) && cmp -s "$tmp/w1" "$tmp/p1" && tap OK "io-passthru Read returns the written block" ||
	tap FAIL "io-passthru Read returns the written block" "rc $rc $(head -c 200 "$tmp/err")"
"$nvring" io-passthru "${conn[@]}" --opcode 1 --namespace-id 1 --cdw10 9 --cdw12 0 --data-len "$bs" -w \
	--input-file "$tmp/w1" --show-command >"$tmp/out" 2>&1 && grep -q "NVMe command result:00000000" "$tmp/out" &&
	"$nvring" read "${conn[@]}" -s 9 -c 0 2>/dev/null | cmp -s - "$tmp/w1" &&
	tap OK "io-passthru Write (-w, --input-file, --show-command)" || tap FAIL "io-passthru Write" "$(head -c 200 "$tmp/out")"
# each connection may get its own CNTLID (bytes 78-79): compare the rest
"$nvring" admin-passthru "${conn[@]}" --opcode 6 --cdw10 1 --data-len 4096 -r -b >"$tmp/idc2.bin" 2>/dev/null &&
	python3 -c "a=open('$tmp/idc.bin','rb').read(); b=open('$tmp/idc2.bin','rb').read(); \
		assert len(a)==len(b)==4096 and a[:78]==b[:78] and a[80:]==b[80:]" &&
	tap OK "admin-passthru Identify equals id-ctrl -b (but CNTLID)" || tap FAIL "admin-passthru Identify equals id-ctrl -b"

# NVMe errors: named status, non-zero exit
nsze=$(json "$tmp/idn.json" "d['nsze']")
"$nvring" read "${conn[@]}" --start-block "$nsze" --block-count 0 --data "$tmp/x" 2>"$tmp/err"
rc=$?
# nvringd answers LBA Out of Range; nvmet's file backend maps its -ENOSPC to Capacity Exceeded
((rc == 1)) && grep -Eq "LBA Out of Range \(0x80\)|Capacity Exceeded \(0x81\)" "$tmp/err" &&
	tap OK "read past the end: $(grep -o '[A-Za-z][A-Za-z ]* (0x8[01])' "$tmp/err"), exit 1" ||
	tap FAIL "read past the end: LBA Out of Range (0x80), exit 1" "rc $rc $(cat "$tmp/err")"
"$nvring" io-passthru "${conn[@]}" --opcode 0x7e --namespace-id 1 --output-format json >"$tmp/bad.json" 2>/dev/null
rc=$?
((rc == 1)) && json "$tmp/bad.json" "d['sc']" | grep -qx 1 && tap OK "unknown opcode: Invalid Command Opcode in JSON, exit 1" ||
	tap FAIL "unknown opcode: Invalid Command Opcode in JSON, exit 1" "rc $rc"

check "flush" "$nvring" flush "${conn[@]}" --namespace-id 1
"$nvring" write-zeroes "${conn[@]}" --start-block 64 --block-count 7 >/dev/null 2>"$tmp/err"
rc=$?
if ((rc == 1)) && grep -q "SCT 0x1" "$tmp/err"; then
	# nvmet on a tmpfs file cannot fallocate(ZERO_RANGE): it answers SCT 1 0x83 (Linux: ONCS not supported)
	tap OK "write-zeroes # SKIP target refused: $(cat "$tmp/err")"
elif ((rc == 0)) && "$nvring" read "${conn[@]}" --start-block 64 --block-count 7 2>/dev/null |
	cmp -s - <(head -c $((8 * bs)) /dev/zero); then
	tap OK "write-zeroes then read zeroes"
else
	tap FAIL "write-zeroes then read zeroes" "rc $rc $(cat "$tmp/err")"
fi
check "dsm deallocate" "$nvring" dsm "${conn[@]}" --slbs 200,300 --blocks 8,8 --ad

# perf with verify, with and without digests
for dg in "" "-g -G"; do
	tag=${dg:+ with digests}
	"$nvring" perf "${conn[@]}" $dg -q 16 -o 4k -w randrw -t "$secs" --verify --json >"$tmp/perf.json" 2>"$tmp/err"
	rc=$?
	if ((rc == 0)) && python3 -c "import json; d=json.load(open('$tmp/perf.json')); \
		assert d['ios']>0 and d['reads']>0 and d['writes']>0 and d['errors']==0 and d['verify_failures']==0, d"; then
		tap OK "perf ${secs}s randrw 4k qd16 --verify$tag: $(json "$tmp/perf.json" "'%d IOPS' % d['iops']")"
	else
		tap FAIL "perf ${secs}s randrw --verify$tag" "rc $rc $(head -c 300 "$tmp/err") $(head -c 300 "$tmp/perf.json")"
	fi
done

# every run above shut its controller down (CC.SHN, CSTS.SHST) without complaint
grep -q "controller shutdown" "$tmp/stderr.log" && tap FAIL "every command shut its controller down cleanly" \
	"$(grep "controller shutdown" "$tmp/stderr.log" | head -3)" || tap OK "every command shut its controller down cleanly"
echo "1..$n"
((failed == 0))
