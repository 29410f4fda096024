#!/usr/bin/env python3
"""Compares two report JSONs of the same analysis made on two platforms (Linux and Windows
under wine, the desktop and the web build): equal strings, keys and lengths; numbers equal
to 1e-12 relative (a zero must be below 1e-300 on the other side: the platforms' libm may
round a last digit differently); the timing fields aside. The cohort's file is compared by
its name (the browser knows no folder). Exit status 1 when they differ.
    compare_json.py A.json B.json
"""
import json
import os
import sys

IGNORED = {"elapsed_ms", "analysis_ms", "timings", "timing", "load_ms", "total_ms"}
TOL = 1e-12


def compare(a, b):
    bad, worst, count = [], 0.0, 0

    def walk(x, y, path):
        nonlocal worst, count
        if isinstance(x, dict) and isinstance(y, dict):
            if set(x) != set(y):
                bad.append(f"{path}: keys differ: {sorted(set(x) ^ set(y))}")
            for k in x.keys() & y.keys():
                if k not in IGNORED:
                    walk(x[k], y[k], f"{path}.{k}")
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                bad.append(f"{path}: {len(x)} vs {len(y)} items")
            for i, (u, v) in enumerate(zip(x, y)):
                walk(u, v, f"{path}[{i}]")
        elif isinstance(x, (int, float)) and isinstance(y, (int, float)) \
                and not isinstance(x, bool) and not isinstance(y, bool):
            count += 1
            if x == y:
                return
            scale = max(abs(x), abs(y))
            rel = abs(x - y) / scale if scale > 0 else 0.0
            worst = max(worst, rel)
            if not (rel <= TOL or (x == 0 or y == 0) and scale < 1e-300):
                bad.append(f"{path}: {x!r} vs {y!r} (relative {rel:.2e})")
            elif rel > 0:
                print(f"   {path}: {x!r} vs {y!r} (relative {rel:.2e}, within {TOL})")
        elif x != y:
            bad.append(f"{path}: {x!r} vs {y!r}")

    walk(a, b, "$")
    return bad, worst, count


def load(path):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    cohort = report.get("cohort") if isinstance(report, dict) else None
    if isinstance(cohort, dict) and isinstance(cohort.get("file"), str):
        cohort["file"] = os.path.basename(cohort["file"].replace("\\", "/"))
    return report


def main():
    a, b = (load(p) for p in sys.argv[1:3])
    bad, worst, count = compare(a, b)
    print(f"   {count} numbers, largest relative difference {worst:.2e}")
    for line in bad[:20]:
        print("   DIFFERS " + line)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
