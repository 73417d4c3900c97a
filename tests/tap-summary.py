#!/usr/bin/env python3
"""Count TAP results across meson test logs and print 'N passed, N failed'.

Each test program prints TAP; a program that failed without printing a failing TAP line
(a crash, a timeout, a sanitizer report) counts as one failure of its own.
Usage: tap-summary.py [--extra NAME:pass|fail]... LABEL:testlog.json [LABEL:testlog.json ...]
"""
import json
import re
import sys

OK = re.compile(r"^ok\b")
NOT_OK = re.compile(r"^not ok\b")
SKIP = re.compile(r"#\s*skip", re.IGNORECASE)


def main(args):
    passed = failed = skipped = 0
    while args and args[0] == "--extra":
        name, result = args[1].rsplit(":", 1)
        if result == "pass":
            passed += 1
        else:
            print(f"FAIL {name}")
            failed += 1
        args = args[2:]
    for arg in args:
        label, path = arg.split(":", 1)
        try:
            with open(path) as f:
                lines = [json.loads(line) for line in f if line.strip()]
        except OSError as e:
            print(f"{label}: no test log ({e})")
            failed += 1
            continue
        for t in lines:
            out = t.get("stdout") or ""
            p = f = s = 0
            for line in out.splitlines():
                line = line.strip()
                if NOT_OK.match(line):
                    if SKIP.search(line) or re.search(r"#\s*todo", line, re.I):
                        s += 1
                    else:
                        f += 1
                elif OK.match(line):
                    if SKIP.search(line):
                        s += 1
                    else:
                        p += 1
            result = t.get("result", "")
            if result not in ("OK", "EXPECTEDFAIL", "SKIP") and f == 0:
                f = 1  # died without a failing TAP line
            if p == 0 and f == 0 and s == 0 and result == "OK":
                p = 1  # a plain exit-status test
            name = t.get("name", "?")
            if f:
                print(f"FAIL {label}/{name}: {p} passed, {f} failed ({result})")
            passed += p
            failed += f
            skipped += s
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
