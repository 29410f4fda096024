#!/usr/bin/env bash
# Builds the web version into dist/ (a static folder: index.html, the .wasm and its loader),
# to be served by any static web server; nothing in it talks to a server beyond loading its
# own files.
#   packaging/web.sh            # release build (trunk build --release)
# Needs: rustup target add wasm32-unknown-unknown; cargo install trunk --version 0.21.14;
# wasm-bindgen-cli of the version in Cargo.lock (0.2.130) on the PATH.
# Serve locally:  python3 -m http.server -d dist 8080   (then open http://localhost:8080)
# Not `trunk serve`: it skips the step below, and the page's CSP then blocks its start-up.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
trunk build --release --offline
echo "== built in $(( $(date +%s) - start )) s"

# The page's Content-Security-Policy allows scripts from the site itself and trunk's inline
# start-up script by its hash (no 'unsafe-inline'): computed here, after trunk wrote it.
python3 - dist/index.html <<'PY'
import base64, hashlib, re, sys
path = sys.argv[1]
html = open(path, encoding="utf-8").read()
scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
hashes = " ".join(
    "'sha256-%s'" % base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode()
    for s in scripts
)
if "CSP_SCRIPT_HASH" not in html:
    sys.exit("dist/index.html: no CSP_SCRIPT_HASH placeholder in the Content-Security-Policy")
open(path, "w", encoding="utf-8").write(html.replace("CSP_SCRIPT_HASH", hashes))
print("== CSP: %d inline script(s) allowed by hash" % len(scripts))
PY

wasm=$(ls dist/*.wasm)
echo "== $(du -b "$wasm" | cut -f1) bytes wasm, $(gzip -9 -c "$wasm" | wc -c) bytes gzipped"
ls -l dist
