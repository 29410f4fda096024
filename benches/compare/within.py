"""Compares two JSON reports: numbers within a relative tolerance, all else equal.

Usage: python3 within.py TOL OLD.json NEW.json  (exit status 1 when they differ)
Prints the largest relative difference and where it is.
"""
import json
import math
import sys


def main():
    tol = float(sys.argv[1])
    old, new = (json.load(open(p)) for p in sys.argv[2:4])
    worst = [0.0, ""]
    other = []

    def walk(a, b, path):
        if isinstance(a, dict) and isinstance(b, dict):
            if a.keys() != b.keys():
                other.append(f"{path}: keys differ")
                return
            for k in a:
                walk(a[k], b[k], f"{path}.{k}")
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                other.append(f"{path}: lengths {len(a)} vs {len(b)}")
                return
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{path}[{i}]")
        elif (isinstance(a, (int, float)) and isinstance(b, (int, float))
              and not isinstance(a, bool) and not isinstance(b, bool)):
            if a == b == 0 and math.copysign(1, a) != math.copysign(1, b):
                other.append(f"{path}: {a!r} vs {b!r} (sign of zero)")
            elif a != b:
                rel = abs(a - b) / max(abs(a), abs(b))
                if rel > worst[0]:
                    worst[:] = [rel, path]
        elif a != b:
            other.append(f"{path}: {a!r} vs {b!r}"[:200])

    walk(old, new, "")
    print(f"  largest relative difference {worst[0]:.3g} {worst[1]}")
    for o in other[:5]:
        print(f"  {o}")
    sys.exit(1 if other or worst[0] > tol else 0)


if __name__ == "__main__":
    main()
