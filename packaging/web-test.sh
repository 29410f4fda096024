#!/usr/bin/env bash
# The web build's test, as a person would use it, in headless Chromium (Debian's `chromium`):
# serves dist/ on 127.0.0.1, opens the page, waits for the demo's analysis, saves its report
# JSON (Ctrl+J), opens a European CSV through the file picker and saves its report, takes a
# screenshot of the Survival view, downloads its figure (Ctrl+E, PNG), drops a 10,000-patient
# file on the page and moves the caliper (recording the analysis times the page logs), and
# reloads the page (the settings are kept in the browser's storage, no data). It fails when
#   - the page made any request other than for its own files (127.0.0.1:PORT, data:, blob:);
#   - a report saved by the page differs from the desktop's for the same file (the window's
#     own report, `cargo run --example window_json`): packaging/compare_json.py;
#   - dist/index.html lacks a Content-Security-Policy with connect-src 'self', or the page
#     can connect to another origin (a fetch to 127.0.0.1:9 not blocked by the CSP);
#   - the figure download is not a PNG; after the reload the caliper is not the last one set;
#     a value of the files opened is in the browser's storage.
#   packaging/web-test.sh [OUT_DIR]     (default: target/web-test; builds dist/ first with
#                                        packaging/web.sh unless SKIP_BUILD=1)
# Needs: node (18+), chromium, python3; for building, what packaging/web.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-target/web-test}")
mkdir -p "$out"
[ "${SKIP_BUILD:-0}" = 1 ] && [ -f dist/index.html ] || packaging/web.sh

grep -q "Content-Security-Policy" dist/index.html && grep -q "connect-src 'self'" dist/index.html ||
  { echo "FAIL: dist/index.html has no Content-Security-Policy with connect-src 'self'"; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cohort=tests/fixtures/formats/demo_excel_eu.csv
large=$work/cohort_10000.csv
cargo run --quiet -- simulate --n 10000 --seed 7 --out "$large"
cargo run --quiet --example window_json > "$work/desktop-demo.json"
cargo run --quiet --example window_json -- "$cohort" > "$work/desktop-cohort.json"

port=$((20000 + RANDOM % 20000))
python3 -m http.server --bind 127.0.0.1 --directory dist "$port" > "$out/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do (: > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
origin="http://127.0.0.1:$port"
node packaging/web-test.mjs "$origin/index.html" "$out" "$cohort" "$large"

status=0
echo "== requests the page made ($(wc -l < "$out/requests.txt"))"
sed 's/^/   /' "$out/requests.txt"
if grep -v -E "^($origin/|data:|blob:)" "$out/requests.txt"; then
  echo "FAIL: the page made requests elsewhere (above)"
  status=1
fi
grep -q "^$origin/index.html$" "$out/requests.txt" && grep -q "^$origin/.*\.wasm$" "$out/requests.txt" ||
  { echo "FAIL: the page's own index.html and .wasm are not among its requests"; status=1; }
echo "== a connection to another origin: $(cat "$out/csp-probe.txt")"
grep -q "^blocked by the CSP: connect-src" "$out/csp-probe.txt" ||
  { echo "FAIL: the page's CSP did not block a connection to another origin"; status=1; }
for name in demo cohort; do
  echo "== the page's report ($name) vs the desktop window's"
  cp "$work/desktop-$name.json" "$out/"
  python3 packaging/compare_json.py "$work/desktop-$name.json" "$out/$name.json" || status=1
done
figure="$out/web-figure-km_pfs.png"
if [ "$(head -c 8 "$figure" 2>/dev/null | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
  echo "FAIL: the page's figure download is not a PNG: $figure"
  status=1
fi
echo "== the settings kept in the browser's storage ($(wc -c < "$out/storage.json") bytes), no data"
python3 - "$out/storage.json" "$out/after-reload.json" "$cohort" "$large" <<'PY' || status=1
import json, sys
storage = open(sys.argv[1], encoding="utf-8").read()
after = json.load(open(sys.argv[2], encoding="utf-8"))
bad = []
caliper = (after.get("matching") or {}).get("caliper")
if caliper != 0.1:
    bad.append(f"after a reload the caliper is {caliper}, not the 0.1 last set")
keys = set(json.loads(storage))
if not keys <= {"app", "egui_memory_ron"}:
    bad.append(f"unexpected keys in the browser's storage: {sorted(keys)}")
# Every number of 5 characters or more in the files (times, ages with decimals; no setting
# has one), in both decimal forms.
for path in sys.argv[3:]:
    text = open(path, encoding="latin-1").read()
    cells = set(text.replace(";", "\n").replace(",", "\n").split()) if ";" not in text \
        else set(text.replace(";", "\n").split())
    for cell in cells:
        if len(cell) >= 5 and cell.replace(".", "", 1).replace(",", "", 1).isdigit():
            for form in {cell, cell.replace(",", ".")}:
                if form in storage:
                    bad.append(f"a value of {path} is in the browser's storage: {form!r}")
print("   after a reload: the demo, caliper", caliper)
for b in bad[:10]:
    print("   FAIL " + b)
sys.exit(1 if bad else 0)
PY
echo "== times"
sed 's/^/   /' "$out/timings.txt"
wasm=$(ls dist/*.wasm)
echo "== size: $(du -b "$wasm" | cut -f1) bytes wasm, $(gzip -9 -c "$wasm" | wc -c) gzipped; dist/ $(du -sb dist | cut -f1) bytes"
echo "== screenshot: $out/web-survival.png; the figure downloaded: $figure"
exit $status
