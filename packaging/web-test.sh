#!/usr/bin/env bash
# The web build's test, as a person would use it, in headless Chromium (Debian's `chromium`):
# serves dist/ on 127.0.0.1, opens the page, waits for the demo's analysis, saves its report
# JSON (Ctrl+J), opens a European CSV through the file picker and saves its report, takes a
# screenshot of the Survival view, downloads its figure (Ctrl+E, PNG), then opens a 10,000-patient file and moves the caliper,
# recording the analysis times the page logs. It fails when
#   - the page made any request other than for its own files (127.0.0.1:PORT, data:, blob:);
#   - a report saved by the page differs from the desktop's for the same file (the window's
#     own report, `cargo run --example window_json`): packaging/compare_json.py;
#   - dist/index.html lacks a Content-Security-Policy with connect-src 'self'.
#   packaging/web-test.sh [OUT_DIR]     (default: target/web-test; builds dist/ if missing)
# Needs: node (18+), chromium, python3; for building, what packaging/web.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-target/web-test}")
mkdir -p "$out"
[ -f dist/index.html ] || packaging/web.sh

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
sleep 1
origin="http://127.0.0.1:$port"
node packaging/web-test.mjs "$origin/index.html" "$out" "$cohort" "$large"

status=0
echo "== requests the page made ($(wc -l < "$out/requests.txt"))"
sed 's/^/   /' "$out/requests.txt"
if grep -v -E "^($origin/|data:|blob:)" "$out/requests.txt"; then
  echo "FAIL: the page made requests elsewhere (above)"
  status=1
fi
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
echo "== times"
sed 's/^/   /' "$out/timings.txt"
wasm=$(ls dist/*.wasm)
echo "== size: $(du -b "$wasm" | cut -f1) bytes wasm, $(gzip -9 -c "$wasm" | wc -c) gzipped; dist/ $(du -sb dist | cut -f1) bytes"
echo "== screenshot: $out/web-survival.png; the figure downloaded: $figure"
exit $status
