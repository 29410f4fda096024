#!/usr/bin/env python3
"""Whole-process times of two or more builds, run in turn (A B B A A B …) so that the shared
machine's drift falls on all of them alike; prints each build's median, quartiles and minimum.

    python3 benches/compare/alternate.py OLD_BIN,NEW_BIN [RUNS] [-- ARGS…]

ARGS default to the comparison's analysis of /tmp/s100k.csv (`survival-explorer simulate
--n 100000 --seed 42 > /tmp/s100k.csv`): `analyze FILE --summary --match <7 covariates>`.
Each run's standard output goes to a scratch file; times include starting the process from
Python (about 1 ms, the same for every build)."""

import os
import statistics
import subprocess
import sys
import tempfile
import time

MATCH = "ecog,albi_grade,prior_io_response,bclc,etiology,afp_ge_400,age"


def main() -> None:
    argv = sys.argv[1:]
    args = ["analyze", "/tmp/s100k.csv", "--summary", "--match", MATCH]
    if "--" in argv:
        cut = argv.index("--")
        argv, args = argv[:cut], argv[cut + 1 :]
    if not argv:
        sys.exit(__doc__)
    builds = argv[0].split(",")
    runs = int(argv[1]) if len(argv) > 1 else 60
    times = {b: [] for b in builds}
    with tempfile.TemporaryFile() as out:
        for i in range(runs):
            for b in builds if i % 2 == 0 else builds[::-1]:
                out.seek(0)
                t0 = time.perf_counter()
                subprocess.run([b] + args, stdout=out, stderr=subprocess.DEVNULL, check=True)
                times[b].append((time.perf_counter() - t0) * 1e3)
    for b in builds:
        v = sorted(times[b])
        q = len(v) // 4
        print(
            f"{os.path.basename(b):24s} median {statistics.median(v):7.2f} ms"
            f"  p25 {v[q]:7.2f}  p75 {v[-1 - q]:7.2f}  min {v[0]:7.2f}  ({len(v)} runs)"
        )


if __name__ == "__main__":
    main()
