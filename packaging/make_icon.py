#!/usr/bin/env python3
"""Draw Survival Explorer's icon and write it as PNGs and a Windows .ico.

The icon is two stepped Kaplan–Meier curves (white over orange) on a dark blue rounded
square. It is drawn on a 16-unit grid whose lines fall on whole pixels at 16 px, so the
smallest size stays sharp; larger sizes are the same drawing, anti-aliased by 4x4
supersampling. Python's standard library only (zlib, struct), so the output is the same
bytes on every machine:

    python3 packaging/make_icon.py          # writes assets/icon/
"""

import os
import struct
import sys
import zlib

SIZES_PNG = [16, 24, 32, 48, 64, 128, 256]
SIZES_ICO = [16, 24, 32, 48, 64, 256]

BACKGROUND = (0x1D, 0x4E, 0x89)
CURVE_TREATED = (0xFF, 0xFF, 0xFF)
CURVE_CONTROL = (0xF5, 0xA6, 0x23)
CORNER_RADIUS = 2.5  # grid units

# Step curves as polylines on the 16-unit grid (y down: survival falls as y grows).
TREATED = [(3, 4), (7, 4), (7, 7), (10, 7), (10, 9), (13, 9)]
CONTROL = [(3, 4), (5, 4), (5, 9), (8, 9), (8, 12), (13, 12)]


def line_width(size):
    """Line width in grid units: 2 px at 16 and 32 px (on whole pixels), thinner above."""
    if size <= 16:
        return 2.0
    if size <= 32:
        return 1.0 if size == 32 else 1.5
    return 1.25


def segment_rects(points, width):
    """Axis-aligned rectangles (x0, y0, x1, y1) covering a polyline with square caps."""
    h = width / 2
    rects = []
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        rects.append((min(ax, bx) - h, min(ay, by) - h, max(ax, bx) + h, max(ay, by) + h))
    return rects


def inside_rounded_square(x, y):
    r = CORNER_RADIUS
    cx = min(max(x, r), 16 - r)
    cy = min(max(y, r), 16 - r)
    return 0 <= x <= 16 and 0 <= y <= 16 and (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def render(size):
    """RGBA rows (bytes) of the icon at `size` px."""
    ss = 4
    scale = 16.0 / size
    w = line_width(size)
    layers = [(segment_rects(CONTROL, w), CURVE_CONTROL), (segment_rects(TREATED, w), CURVE_TREATED)]
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(ss):
                for sx in range(ss):
                    x = (px + (sx + 0.5) / ss) * scale
                    y = (py + (sy + 0.5) / ss) * scale
                    if not inside_rounded_square(x, y):
                        continue
                    colour = BACKGROUND
                    for rects, c in layers:
                        if any(x0 <= x < x1 and y0 <= y < y1 for x0, y0, x1, y1 in rects):
                            colour = c
                    acc[0] += colour[0]
                    acc[1] += colour[1]
                    acc[2] += colour[2]
                    acc[3] += 1
            n = ss * ss
            if acc[3] == 0:
                row += bytes(4)
            else:
                # Colour averaged over covered samples, alpha = coverage.
                row += bytes([round(acc[0] / acc[3]), round(acc[1] / acc[3]),
                              round(acc[2] / acc[3]), round(255 * acc[3] / n)])
        rows.append(bytes(row))
    return rows


def png_bytes(size, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def ico_bytes(pngs):
    """An .ico whose entries are PNG images (read by Windows Vista and later)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, data = b"", b""
    for size, png in pngs:
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    return header + entries + data


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "assets", "icon")
    os.makedirs(out, exist_ok=True)
    pngs = {}
    for size in SIZES_PNG:
        pngs[size] = png_bytes(size, render(size))
        with open(os.path.join(out, f"survival-explorer-{size}.png"), "wb") as f:
            f.write(pngs[size])
    with open(os.path.join(out, "survival-explorer.ico"), "wb") as f:
        f.write(ico_bytes([(s, pngs[s]) for s in SIZES_ICO]))
    print(f"wrote {len(SIZES_PNG)} PNGs and survival-explorer.ico to {out}")


if __name__ == "__main__":
    main()
