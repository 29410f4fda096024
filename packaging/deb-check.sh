#!/usr/bin/env bash
# Smoke test of the .deb on a Debian 12 without Rust: a fresh minimal root (mmdebstrap
# --variant=apt: apt and its essentials, no Rust, no X, no GL) gets the package with
# `apt-get install ./x.deb`, which must pull every dependency; then the desktop entry's Exec
# line runs in the root under Xvfb (the host's X socket bound in), once without a file and
# once with a CSV for %f, each with --screenshot: OUT_DIR/deb-root.png, deb-root-file.png.
# Needs root, mmdebstrap, Xvfb and Debian's package servers. Not part of .ci/run.
#   packaging/deb-check.sh [DEB] [OUT_DIR]   (defaults: the newest dist/*.deb, dist/deb-check)
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(realpath "${1:-$(ls -t dist/*.deb | head -n 1)}")
out=$(realpath -m "${2:-dist/deb-check}")
mkdir -p "$out"
root=$(mktemp -d)
xvfb_pid=
cleanup() {
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
  for m in tmp/.X11-unix dev proc; do
    mountpoint -q "$root/$m" && umount -R "$root/$m"
  done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

echo "== a minimal Debian 12 root (mmdebstrap --variant=apt bookworm)"
mmdebstrap --quiet --variant=apt bookworm "$root" \
  "deb http://deb.debian.org/debian bookworm main" \
  "deb http://deb.debian.org/debian-security bookworm-security main"
in_root() { chroot "$root" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
if in_root sh -c 'command -v cargo rustc rustup' >/dev/null; then
  echo "error: the root has Rust" >&2; exit 1
fi
echo "   $(in_root dpkg -l | grep -c '^ii') packages, no cargo, rustc or rustup"
mount --bind /proc "$root/proc"
mount --rbind /dev "$root/dev"

echo "== apt-get install ./$(basename "$deb")"
cp "$deb" "$root/tmp/"
in_root apt-get update -q >/dev/null
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "/tmp/$(basename "$deb")" > "$out/apt-install.log"
grep "newly installed" "$out/apt-install.log"
echo "   $(in_root dpkg -l | grep -c '^ii') packages after (log: $out/apt-install.log)"

display=:$((200 + RANDOM % 50))
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
sleep 2
mkdir -p "$root/tmp/.X11-unix"
mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
exec_line=$(sed -n 's/^Exec=//p' "$root/usr/share/applications/survival-explorer.desktop")
echo "== the desktop entry's Exec line: $exec_line"
in_root survival-explorer --version
in_root survival-explorer simulate --n 300 --seed 3 --out /tmp/sim.csv >/dev/null
status=0
for run in "deb-root:" "deb-root-file:/tmp/sim.csv"; do
  png=${run%%:*}.png
  cmd="${exec_line//%f/${run#*:}} --screenshot /tmp/$png"
  echo "   $cmd"
  in_root DISPLAY="$display" sh -c "$cmd" || status=1
  if [ -s "$root/tmp/$png" ]; then
    cp "$root/tmp/$png" "$out/"
    echo "   $out/$png ($(stat -c %s "$out/$png") bytes)"
  else
    echo "   no screenshot written"; status=1
  fi
done
[ "$status" = 0 ] && echo "deb check: passed" || echo "deb check: FAILED"
exit "$status"
