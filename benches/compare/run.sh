#!/usr/bin/env bash
# Times the same matched-cohort pipeline in our binary, Python and R on simulated cohorts and
# prints a markdown table (median of 3 runs, each timed by bash's clock around the tool's
# process; 1 run when the first takes more than 60 s; a run still going after LIMIT seconds
# is stopped and reported as "> LIMIT s").
#
#   bash benches/compare/run.sh
#
# Environment (all optional):
#   SE_BIN      the release binary   [/tmp/relclone/target/release/survival-explorer]
#   CMP_DIR     cohorts and raw output [/tmp/cmp]
#   SIZES       cohort sizes          ["1000 10000 100000 1000000"]
#   R_MAX       largest size for R    [100000]
#   RUNS        runs per measurement  [3]
#   LONG        a first run longer than this (s) is not repeated [60]
#   LIMIT       stop a run after this many seconds [600]
#   WAIT_QUIET  1 = before each run wait while the CPU is busy with other work (the machine
#               is shared): until less than QUIET_BUSY of all cores' time is used over 3 s and
#               no rustc runs, at most QUIET_MAX seconds [1]
#   QUIET_BUSY  [0.15]   QUIET_MAX [1800]
#   TOOLS       which tools ["ours python r"]
#   WARM_BELOW  a tool whose first run takes less than this (s) runs once, unmeasured, before
#               each measured run; that first run is not counted [0.5]
# Needs: Rscript with survival and MatchIt; python3 with pandas, statsmodels, lifelines, scipy.
set -u
# bash's own clock (bash 5), read with a decimal point.
export LC_ALL=C
if [ -z "${EPOCHREALTIME:-}" ]; then
  echo "run.sh needs bash 5 or later (\$EPOCHREALTIME)" >&2
  exit 1
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SE_BIN="${SE_BIN:-/tmp/relclone/target/release/survival-explorer}"
CMP_DIR="${CMP_DIR:-/tmp/cmp}"
SIZES="${SIZES:-1000 10000 100000 1000000}"
R_MAX="${R_MAX:-100000}"
RUNS="${RUNS:-3}"
LONG="${LONG:-60}"
LIMIT="${LIMIT:-600}"
WAIT_QUIET="${WAIT_QUIET:-1}"
QUIET_BUSY="${QUIET_BUSY:-0.15}"
QUIET_MAX="${QUIET_MAX:-1800}"
TOOLS="${TOOLS:-ours python r}"
WARM_BELOW="${WARM_BELOW:-0.5}"
MATCH="ecog,albi_grade,prior_io_response,bclc,etiology,afp_ge_400,age"

mkdir -p "$CMP_DIR/out" "$CMP_DIR/bin"
# Work on a copy of the binary: a rebuild of SE_BIN during the runs must not change what is
# measured.
cp "$SE_BIN" "$CMP_DIR/bin/survival-explorer" || exit 1
SE_BIN_ORIG="$SE_BIN"
SE_BIN="$CMP_DIR/bin/survival-explorer"
RESULTS="$CMP_DIR/results.tsv"
: > "$RESULTS"

log() { echo "$*" >&2; }

# CPU busy share (0-1, all cores) over 3 s, from /proc/stat
cpu_busy() {
  local a b
  a=($(head -1 /proc/stat)); sleep 3; b=($(head -1 /proc/stat))
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo "scale=3; 1 - $idle / $total" | bc -l
}

wait_quiet() {
  LAST_BUSY="n/a"
  [ "$WAIT_QUIET" = 1 ] || return 0
  local waited=0 busy
  while :; do
    busy=$(cpu_busy)
    LAST_BUSY=$busy
    if [ "$(echo "$busy < $QUIET_BUSY" | bc -l)" = 1 ] && ! pgrep -x rustc >/dev/null; then
      return 0
    fi
    if [ "$waited" -ge "$QUIET_MAX" ]; then
      log "  (CPU still busy ($busy) after $QUIET_MAX s: measuring anyway)"
      return 0
    fi
    [ "$waited" = 0 ] && log "  (CPU busy: $busy of 2 cores' time used by other processes; waiting)"
    sleep 10
    waited=$((waited + 13))
  done
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "NA"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# in-process seconds from one run's stdout
inproc_of() {
  local tool=$1 out=$2
  if [ "$tool" = ours ]; then
    python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timing"]; print((t["load_ms"]+t["analysis_ms"])/1000)' "$out"
  else
    sed -n 's/^in_process_s=//p' "$out"
  fi
}

# measure TOOL N FILE: runs the tool, appends "tool n wall inproc runs note" to RESULTS
measure() {
  local tool=$1 n=$2 file=$3
  local -a cmd
  case $tool in
    ours) cmd=("$SE_BIN" analyze "$file" --summary --match "$MATCH") ;;
    python) cmd=(python3 "$HERE/pipeline.py" "$file") ;;
    r) cmd=(Rscript "$HERE/pipeline.R" "$file") ;;
  esac
  local walls=() inprocs=() note="" i warm=0
  for ((i = 1; i <= RUNS; i++)); do
    wait_quiet
    # A short run is preceded by an unmeasured one: the quiet wait leaves the CPUs idle, and
    # a 57 ms run started on this VM's idle CPUs took ~4 ms longer (2026-12-05).
    if [ "$warm" = 1 ] && ! timeout "$LIMIT" "${cmd[@]}" > /dev/null 2>&1; then
      log "  $tool n=$n: the unmeasured run before run $i failed or was stopped"
    fi
    local out="$CMP_DIR/out/${tool}_${n}_$i.out" err="$CMP_DIR/out/${tool}_${n}_$i.err"
    local load0 t0 t1 rc wall ip pid watchdog stopped="$CMP_DIR/out/stopped"
    load0=$(cut -d' ' -f1 /proc/loadavg)
    rm -f "$stopped"
    # The clock is bash's own ($EPOCHREALTIME) around the tool's process (and the fork of
    # its watchdog, which stops a run still going after LIMIT seconds): two `date`
    # processes and `timeout` around it added ~5 ms to a 57 ms run (2026-12-05).
    t0=$EPOCHREALTIME
    "${cmd[@]}" > "$out" 2> "$err" &
    pid=$!
    (
      trap 'exit 0' TERM
      sleep "$LIMIT" &
      wait $! && touch "$stopped" && kill -TERM "$pid"
    ) > /dev/null 2>&1 &
    watchdog=$!
    # Stopped from outside (Ctrl-C), the script stops the run and its watchdog too.
    trap 'pkill -P "$watchdog" -x sleep; kill -TERM "$pid" "$watchdog" 2>/dev/null; exit 130' INT TERM
    wait "$pid"
    rc=$?
    t1=$EPOCHREALTIME
    trap - INT TERM
    # The watchdog's sleep, then the watchdog itself (killed even if its sleep has not
    # started yet; a sleep it leaves then only sleeps, its output not held).
    pkill -P "$watchdog" -x sleep 2>/dev/null
    kill -TERM "$watchdog" 2>/dev/null
    wait "$watchdog" 2>/dev/null
    wall=$(echo "$t1 - $t0" | bc -l)
    if [ -e "$stopped" ]; then
      note="stopped after ${LIMIT} s"
      log "  $tool n=$n run $i: stopped after $LIMIT s"
      break
    elif [ "$rc" != 0 ]; then
      note="failed (exit $rc, see $err)"
      log "  $tool n=$n run $i: exit $rc"
      break
    fi
    if [ "$warm" = 0 ] && [ "$(echo "$wall < $WARM_BELOW" | bc -l)" = 1 ]; then
      warm=1
      log "  $tool n=$n: first run $(printf '%.3f' "$wall") s, not counted; each run from now after an unmeasured one"
      i=$((i - 1))
      continue
    fi
    ip=$(inproc_of "$tool" "$out")
    walls+=("$wall")
    inprocs+=("$ip")
    log "$(printf '  %-6s n=%-8s run %d: wall %8.3f s, in-process %8.3f s (CPU busy before: %s, load avg %s)' "$tool" "$n" "$i" "$wall" "$ip" "$LAST_BUSY" "$load0")"
    if [ "$(echo "$wall > $LONG" | bc -l)" = 1 ]; then
      break
    fi
  done
  local mw mi
  if [ ${#walls[@]} -eq 0 ]; then
    mw="NA"; mi="NA"
  else
    mw=$(printf '%s\n' "${walls[@]}" | median)
    mi=$(printf '%s\n' "${inprocs[@]}" | median)
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$n" "$mw" "$mi" "${#walls[@]}" "$note" >> "$RESULTS"
}

# machine and versions
{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "ours: $("$SE_BIN" --version), copy of $SE_BIN_ORIG, sha256 $(sha256sum "$SE_BIN" | cut -c1-16)"
  src_dir="$(cd "$(dirname "$SE_BIN_ORIG")/../.." 2>/dev/null && git rev-parse --short HEAD 2>/dev/null)" &&
    echo "      built from commit $src_dir (if the tree was clean and the build finished)"
  Rscript -e 'cat(sprintf("R %s.%s, survival %s, MatchIt %s\n", R.version$major, R.version$minor, packageVersion("survival"), packageVersion("MatchIt")))'
  python3 -c 'import sys,pandas,numpy,statsmodels,lifelines,scipy; print(f"Python {sys.version.split()[0]}, pandas {pandas.__version__}, numpy {numpy.__version__}, statsmodels {statsmodels.__version__}, lifelines {lifelines.__version__}, scipy {scipy.__version__}")'
} | tee "$CMP_DIR/versions.txt"

# cohorts
for n in $SIZES; do
  f="$CMP_DIR/cohort_$n.csv"
  if [ ! -s "$f" ]; then
    log "simulating $n rows"
    "$SE_BIN" simulate --n "$n" --seed 42 > "$f" || exit 1
  fi
done

for n in $SIZES; do
  f="$CMP_DIR/cohort_$n.csv"
  for tool in $TOOLS; do
    if [ "$tool" = r ] && [ "$n" -gt "$R_MAX" ]; then
      printf '%s\t%s\tNA\tNA\t0\tnot run\n' "$tool" "$n" >> "$RESULTS"
      continue
    fi
    log "$tool, $n rows"
    measure "$tool" "$n" "$f"
  done
done

# table
echo
echo "| tool | rows | wall, whole process (s) | in-process (s) | runs | note |"
echo "|---|---:|---:|---:|---:|---|"
while IFS=$'\t' read -r tool n w ip runs note; do
  fw=$w; fi=$ip
  [ "$w" != NA ] && fw=$(printf '%.3f' "$w")
  [ "$ip" != NA ] && fi=$(printf '%.3f' "$ip")
  [ -n "$note" ] && [ "$note" != "not run" ] && [ "$w" = NA ] && fw="> $LIMIT"
  echo "| $tool | $n | $fw | $fi | $runs | $note |"
done < "$RESULTS"

# ratios against ours
echo
# python in-process / ours wall: Python's in-process time against our whole process (#24).
echo "| rows | python/ours wall | python/ours in-process | python in-process / ours wall | R/ours wall | R/ours in-process |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
  awk -F'\t' -v n="$n" '
    $2 == n { w[$1] = $3; p[$1] = $4 }
    function r(a, b) { return (a == "NA" || b == "NA" || a == "" || b == "" || b == 0) ? "–" : sprintf("%.1f", a / b) }
    END { printf "| %s | %s | %s | %s | %s | %s |\n", n, r(w["python"], w["ours"]), r(p["python"], p["ours"]), r(p["python"], w["ours"]), r(w["r"], w["ours"]), r(p["r"], p["ours"]) }
  ' "$RESULTS"
done
echo
echo "raw output of every run: $CMP_DIR/out/; results: $RESULTS"
