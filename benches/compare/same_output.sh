#!/bin/bash
# Speed work must not change a number: runs two builds of survival-explorer over the given
# cohort files × ten analysis settings and compares their JSON (timing and software left out)
# byte for byte. Usage:
#   bash benches/compare/same_output.sh OLD_BINARY NEW_BINARY FILE...
# e.g. a binary of the last commit against the working tree's, on the demo and two
# `simulate` cohorts (10,000 and 100,000 patients).
# With TOL set (e.g. TOL=1e-9), a change that regroups sums is checked instead: every number
# within TOL relative, everything else equal; the largest relative difference is printed.
set -u
tol=${TOL:-}
old=$1; new=$2; shift 2
COV=ecog,albi_grade,prior_io_response,bclc,etiology,afp_ge_400,age
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
strip='import json,sys
d=json.load(sys.stdin); d.pop("timing",None); d.pop("software",None)
json.dump(d,sys.stdout,sort_keys=True)'
runs=0; differ=0
for f in "$@"; do
  while IFS= read -r args; do
    runs=$((runs+1))
    # shellcheck disable=SC2086 # the settings are split into arguments on purpose
    "$old" analyze "$f" $args 2>/dev/null | python3 -c "$strip" > "$tmp/old.json" 2>/dev/null
    # shellcheck disable=SC2086
    "$new" analyze "$f" $args 2>/dev/null | python3 -c "$strip" > "$tmp/new.json" 2>/dev/null
    if [ -n "$tol" ] && [ -s "$tmp/new.json" ]; then
      python3 "$(dirname "$0")/within.py" "$tol" "$tmp/old.json" "$tmp/new.json" || {
        echo "differ: $f $args"; differ=$((differ+1)); }
    elif ! [ -s "$tmp/new.json" ] || ! cmp -s "$tmp/old.json" "$tmp/new.json"; then
      echo "differ: $f $args"; differ=$((differ+1))
    fi
  done <<ARGS
--match $COV
--match $COV --caliper 0.05 --order smallest
--match $COV --ratio 2 --replace --robust
--match $COV --ratio 3 --order data --caliper 0.5
--match $COV:factor --order random --seed 3
--match ecog,age --caliper-scale ps --ties breslow --ci log
--match $COV --subgroup ecog=0,1 --forest
--match $COV --caliper-sweep --summary
--subgroup age=40..70 --ci plain
--ties efron
ARGS
done
echo "$runs analyses, $differ differ"
[ "$differ" -eq 0 ]
