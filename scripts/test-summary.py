#!/usr/bin/env python3
"""Sums meson test results of several build dirs into the one closing line CI reads:
'N passed, N failed' (', N skipped' when any)."""
import json
import sys

passed = failed = skipped = 0
failures = []
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
                    failures.append((name, res, r.get("stdout") or ""))
    except FileNotFoundError:
        failed += 1
        print(f"failed: {d} has no test log")
# What a failed test printed, so that the end of the CI log says why: its "not ok" lines with
# their diagnostics, then its last lines.
for name, res, out in failures:
    lines = out.splitlines()
    bad = [i for i, l in enumerate(lines) if l.startswith("not ok") or l.startswith("Bail out")]
    shown = []
    for i in bad[:10]:
        shown += lines[i:i + 8]
    print(f"---- {name} ({res}) ----")
    print("\n".join(shown[-120:] + ["  ... last lines:"] + lines[-25:]))
for name, res, _ in failures:
    print(f"failed: {name} ({res})")
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
