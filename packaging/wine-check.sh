#!/usr/bin/env bash
# Smoke test of the Windows build under wine (Debian's wine64) and Xvfb, on Linux:
#  1. `analyze` on the demo cohort (plain, matched, weighted, adjusted) gives the Linux
#     build's JSON: equal strings, numbers equal to 1e-12 relative (a zero must be below
#     1e-300 on the other side), the timing fields aside. It fails otherwise.
#  2. `--version` prints what the Linux build prints.
#  3. `--screenshot` renders the demo in the window: OUT_DIR/wine-screenshot.png.
# Not part of .ci/run (it needs the Windows build, minutes of compiling).
#   packaging/wine-check.sh [OUT_DIR]
# LINUX_BIN and WIN_EXE override the binaries (default: the dist profile's, as
# packaging/linux.sh and packaging/windows.sh build them).
#
# Wine 8.0 lacks bcryptprimitives.dll, whose ProcessPrng Rust's std imports. A shim DLL
# exporting it (via advapi32's SystemFunction036) is compiled here and put beside a COPY of
# the .exe in a temporary folder: for this test only. Real Windows has the DLL; never ship it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=$(realpath -m "${1:-dist/wine-check}")
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
linux_bin=$(realpath "${LINUX_BIN:-$target_dir/dist/survival-explorer}")
win_exe=$(realpath "${WIN_EXE:-$target_dir/x86_64-pc-windows-gnu/dist/survival-explorer.exe}")
mkdir -p "$out"

export WINEPREFIX=${WINEPREFIX:-$HOME/.wine64-survival-explorer} WINEARCH=win64 WINEDEBUG=-all
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)

work=$(mktemp -d)
xvfb_pid=
cleanup() { [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
display=:$((90 + RANDOM % 100))
Xvfb "$display" -screen 0 1600x1000x24 >/dev/null 2>&1 &
xvfb_pid=$!
export DISPLAY=$display
sleep 1
[ -d "$WINEPREFIX" ] || "$wine" wineboot -u >/dev/null 2>&1

cat > "$work/shim.c" <<'C'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
C
x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" "$work/shim.c" -ladvapi32
cp "$win_exe" "$work/survival-explorer.exe"
cp "$repo/assets/demo_cohort.csv" "$work/"
cd "$work"

compare() {
  python3 "$repo/packaging/compare_json.py" "$1" "$2"
}

status=0
i=0
for args in "" \
  "--match ecog,albi_grade,prior_io_response" \
  "--iptw ecog,albi_grade,prior_io_response --stabilized" \
  "--univariable --sensitivity --adjust ecog,albi_grade,prior_io_response,afp_ge_400,nlr,pvt"; do
  i=$((i + 1))
  echo "== analyze demo_cohort.csv $args"
  # shellcheck disable=SC2086
  "$linux_bin" analyze demo_cohort.csv $args > "linux-$i.json"
  # shellcheck disable=SC2086
  "$wine" survival-explorer.exe analyze demo_cohort.csv $args > "wine-$i.json"
  cp "linux-$i.json" "wine-$i.json" "$out/"
  compare "linux-$i.json" "wine-$i.json" || status=1
done

echo "== --version"
lv=$("$linux_bin" --version)
wv=$("$wine" survival-explorer.exe --version | tr -d '\r')
echo "   linux: $lv · wine: $wv"
[ "$lv" = "$wv" ] || { echo "   DIFFERS"; status=1; }

echo "== --screenshot under wine + Xvfb"
rm -f "$out/wine-screenshot.png"
"$wine" survival-explorer.exe --screenshot wine-screenshot.png || status=1
if [ -s wine-screenshot.png ]; then
  cp wine-screenshot.png "$out/"
  echo "   $out/wine-screenshot.png ($(stat -c %s wine-screenshot.png) bytes)"
else
  echo "   no screenshot written"
  status=1
fi

[ "$status" = 0 ] && echo "wine check: passed" || echo "wine check: FAILED"
exit "$status"
