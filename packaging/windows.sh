#!/usr/bin/env bash
# Builds dist/SurvivalExplorer-<version>-windows-x86_64.zip: survival-explorer.exe (window and
# command line in one GUI-subsystem .exe that attaches to its terminal's console; the demo
# cohort, icon and version metadata inside), README.md, CHANGELOG.md and the license texts
# (LICENSE-MIT, LICENSE-APACHE).
#
# Cross-compiles from Linux with mingw-w64. Needs: rustup's x86_64-pc-windows-gnu target,
# Debian's gcc-mingw-w64-x86-64 (gcc and windres), python3 (to write the zip).
#   packaging/windows.sh [OUT_DIR]      (default: dist)
# Honors CARGO_TARGET_DIR. The test-only ProcessPrng shim of packaging/wine-check.sh is never
# packed: the zip takes exactly the files named below.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
target=x86_64-pc-windows-gnu
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
target_dir=${CARGO_TARGET_DIR:-target}
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=${CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER:-x86_64-w64-mingw32-gcc}

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
start=$(date +%s)
cargo build --locked --profile dist --target "$target"
echo "== built in $(( $(date +%s) - start )) s"
exe="$target_dir/$target/dist/survival-explorer.exe"

# The .exe must not need mingw's runtime DLLs (libgcc_s_seh-1, libwinpthread-1, libstdc++-6):
# Windows does not have them, and the zip does not carry them.
dlls=$(x86_64-w64-mingw32-objdump -p "$exe" | sed -n 's/^\s*DLL Name: //p' | sort -u)
echo "== imports: $(echo $dlls)"
for dll in $dlls; do
  case "$(echo "$dll" | tr '[:upper:]' '[:lower:]')" in
    lib*.dll) echo "error: $exe imports $dll, a mingw runtime DLL" >&2; exit 1 ;;
  esac
done

mkdir -p "$out"
zip="$out/SurvivalExplorer-$version-windows-x86_64.zip"
rm -f "$zip"
python3 - "$zip" "$exe" README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE <<'PY'
import os, sys, zipfile
zip_path, *files = sys.argv[1:]
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for f in files:
        z.write(f, os.path.basename(f))
PY
echo "== $zip: $(stat -c %s "$zip") bytes (exe $(stat -c %s "$exe") bytes)"
