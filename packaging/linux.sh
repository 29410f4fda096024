#!/usr/bin/env bash
# Builds the Linux artefacts in dist/:
#   survival-explorer_<version>-1_amd64.deb         (cargo-deb: binary, desktop entry with
#                                                  "Open with" for CSV/Excel/ODS, icons, docs)
#   SurvivalExplorer-<version>-linux-x86_64.tar.gz  (portable: run ./survival-explorer)
# Both carry the license texts (LICENSE-MIT, LICENSE-APACHE).
# Needs: cargo-deb (`cargo install cargo-deb --locked`). The binary needs the glibc of the
# machine it was built on or newer, so release builds run on the oldest supported distro.
#   packaging/linux.sh [OUT_DIR]      (default: dist)
# Honors CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
target_dir=${CARGO_TARGET_DIR:-target}
arch=$(uname -m)

start=$(date +%s)
cargo build --locked --profile dist
echo "== built in $(( $(date +%s) - start )) s"
bin="$target_dir/dist/survival-explorer"

mkdir -p "$out"
cargo deb --no-build --profile dist --output "$out"

name="SurvivalExplorer-$version-linux-$arch"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
cp "$bin" "$stage/$name/survival-explorer"
cp packaging/linux/survival-explorer.desktop README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE \
  "$stage/$name/"
cp assets/icon/survival-explorer-256.png "$stage/$name/survival-explorer.png"
tar -C "$stage" --owner=0 --group=0 -czf "$out/$name.tar.gz" "$name"
ls -l "$out"/*.deb "$out/$name.tar.gz"
