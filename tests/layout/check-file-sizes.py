#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# One room per page and per command: no source file in ui/ or app/ (the
# window's pages, the CLI's commands) grows past 700 lines. TAP output.
# Usage: check-file-sizes.py SOURCE_ROOT
import os
import sys

LIMIT = 700
root = sys.argv[1]
big = []
for folder in ("ui", "app"):
    for d, _, files in os.walk(os.path.join(root, folder)):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                p = os.path.join(d, f)
                with open(p, encoding="utf-8") as fh:
                    n = sum(1 for _ in fh)
                if n > LIMIT:
                    big.append(f"{os.path.relpath(p, root)} ({n} lines)")
print("1..1")
for b in big:
    print("# over", LIMIT, "lines:", b)
print(("ok" if not big else "not ok") + f" 1 /layout/file-sizes - {len(big)} files over {LIMIT} lines")
sys.exit(1 if big else 0)
