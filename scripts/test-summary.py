#!/usr/bin/env python3
"""Sums meson test results of several build dirs into the one closing line CI reads:
'N passed, N failed' (', N skipped' when any)."""
import json
import sys

passed = failed = skipped = 0
args = sys.argv[1:]
extras = []
while "--extra" in args:
    i = args.index("--extra")
    extras.append(args[i + 1])
    del args[i:i + 2]
for d in args:
    try:
        with open(f"{d}/meson-logs/testlog.json") as f:
            for line in f:
                r = json.loads(line)
                res = r.get("result")
                name = f"{d}:{r.get('name')}"
                if res in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif res == "SKIP":
                    skipped += 1
                    print(f"skipped: {name}")
                else:
                    failed += 1
                    print(f"failed: {name} ({res})")
    except FileNotFoundError:
        failed += 1
        print(f"failed: {d} has no test log")
for e in extras:
    name, _, res = e.partition("=")
    if res == "pass":
        passed += 1
    else:
        failed += 1
        print(f"failed: {name}")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
