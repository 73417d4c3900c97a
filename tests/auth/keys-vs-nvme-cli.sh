#!/bin/bash
# SPDX-License-Identifier: MIT
# Key strings: our parser/formatter against nvme-cli's gen-dhchap-key / check-dhchap-key, for
# every --key-length and --hmac nvme-cli accepts. TAP. Usage: keys-vs-nvme-cli.sh KEYTOOL
tool=$1
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
if ! command -v nvme >/dev/null || ! nvme gen-dhchap-key --key-length=32 --hmac=0 >/dev/null 2>&1; then
	echo "1..0 # SKIP nvme-cli with gen-dhchap-key not installed"
	exit 0
fi
nqn=nqn.2014-08.org.nvmexpress:uuid:c0ffee00-0000-4000-8000-000000000001
for len in 32 48 64; do
	for hmac in 0 1 2 3; do
		key=$(nvme gen-dhchap-key --key-length=$len --hmac=$hmac --nqn=$nqn 2>/dev/null)
		if [ -z "$key" ]; then
			# nvme-cli only transforms a secret as long as the hash (--hmac 1 needs 32 bytes ...)
			ok 0 "nvme-cli refuses --key-length $len --hmac $hmac (no key to compare) # SKIP"
			continue
		fi
		out=$("$tool" check "$key")
		ok $? "nvme-cli key, length $len hmac $hmac, parses: $out"
		case "$out" in "hash $hmac len $len "*) r=0 ;; *) r=1 ;; esac
		ok $r "  hash id $hmac and length $len read back"
		secret=${out##* }
		again=$("$tool" format "$hmac" "$secret")
		[ "$again" = "$key" ]; ok $? "  formats back to nvme-cli's exact string"
		# corrupt one base64 character of the secret: both refuse
		c=${key:12:1}; [ "$c" = A ] && d=B || d=A
		bad="${key:0:12}$d${key:13}"
		"$tool" check "$bad" 2>/dev/null; r=$?
		nvme check-dhchap-key --key="$bad" >/dev/null 2>&1; r2=$?
		[ $r != 0 ] && [ $r2 != 0 ]; ok $? "  a corrupted copy: both refuse (ours $r, nvme-cli $r2)"
	done
	# a secret of our choosing: nvme-cli's transform (--secret --hmac --nqn) equals ours
	secret=$(head -c $len /dev/urandom | od -An -tx1 | tr -d ' \n')
	k0=$(nvme gen-dhchap-key --secret=$secret --key-length=$len --hmac=0 --nqn=$nqn 2>/dev/null)
	ours=$("$tool" format 0 "$secret")
	[ -n "$k0" ] && [ "$k0" = "$ours" ]; ok $? "--secret, length $len, untransformed: same string"
	nvme check-dhchap-key --key="$ours" >/dev/null 2>&1; ok $? "  nvme-cli accepts our $len-byte key"
	for hmac in 1 2 3; do
		kt=$(nvme gen-dhchap-key --secret=$secret --key-length=$len --hmac=$hmac --nqn=$nqn 2>/dev/null)
		[ -z "$kt" ] && continue
		t=$("$tool" transform "DHHC-1:0$hmac:${ours:10}" "$nqn")
		want=$("$tool" format "$hmac" "$t")
		[ "$kt" = "$want" ]; ok $? "--secret, length $len, --hmac $hmac: nvme-cli's transformed key = our transform"
	done
done
for bad in "DHHC-2:00:AAAA:" "DHHC-1:05:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:" \
	"DHHC-1:00:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiR:" "DHHC-1:00:MDAxMTIyMzM0:"; do
	msg=$("$tool" check "$bad" 2>&1); r=$?
	[ $r = 1 ] && [ -n "$msg" ]; ok $? "refused with a message: $bad: $msg"
done
"$tool" check "DHHC-1:00:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:" >/dev/null
ok $? "the research file's example key (ASCII 0011..eeff, CRC 0x90482470) parses"
echo "1..$n"
[ $failed = 0 ]
