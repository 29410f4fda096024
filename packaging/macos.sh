#!/usr/bin/env bash
# Builds dist/SurvivalExplorer-<version>-macos-universal.zip: "Survival Explorer.app" with one
# universal (x86_64 + arm64) binary and the icon. Runs on macOS only (lipo, iconutil, ditto);
# UNTESTED: no Mac was at hand when it was written. Not signed or notarized: on first start,
# right-click ▸ Open.
#   packaging/macos.sh [OUT_DIR]      (default: dist)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
target_dir=${CARGO_TARGET_DIR:-target}

for t in x86_64-apple-darwin aarch64-apple-darwin; do
  rustup target add "$t"
  cargo build --locked --profile dist --target "$t"
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
app="$stage/Survival Explorer.app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
lipo -create -output "$app/Contents/MacOS/survival-explorer" \
  "$target_dir/x86_64-apple-darwin/dist/survival-explorer" \
  "$target_dir/aarch64-apple-darwin/dist/survival-explorer"

iconset="$stage/survival-explorer.iconset"
mkdir "$iconset"
for s in 16 32 128 256; do
  cp "assets/icon/survival-explorer-$s.png" "$iconset/icon_${s}x${s}.png"
done
cp assets/icon/survival-explorer-32.png "$iconset/icon_16x16@2x.png"
cp assets/icon/survival-explorer-64.png "$iconset/icon_32x32@2x.png"
cp assets/icon/survival-explorer-256.png "$iconset/icon_128x128@2x.png"
iconutil -c icns -o "$app/Contents/Resources/survival-explorer.icns" "$iconset"
cp LICENSE-MIT LICENSE-APACHE "$app/Contents/Resources/"

cat > "$app/Contents/Info.plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>CFBundleName</key><string>Survival Explorer</string>
  <key>CFBundleDisplayName</key><string>Survival Explorer</string>
  <key>CFBundleIdentifier</key><string>org.survival-explorer.app</string>
  <key>CFBundleExecutable</key><string>survival-explorer</string>
  <key>CFBundleIconFile</key><string>survival-explorer.icns</string>
  <key>CFBundlePackageType</key><string>APPL</string>
  <key>CFBundleShortVersionString</key><string>$version</string>
  <key>CFBundleVersion</key><string>$version</string>
  <key>LSMinimumSystemVersion</key><string>11.0</string>
  <key>NSHighResolutionCapable</key><true/>
  <key>NSHumanReadableCopyright</key><string>MIT OR Apache-2.0. For research; not a medical device.</string>
</dict>
</plist>
PLIST

mkdir -p "$out"
zip="$out/SurvivalExplorer-$version-macos-universal.zip"
rm -f "$zip"
ditto -c -k --keepParent "$app" "$zip"
ls -l "$zip"
