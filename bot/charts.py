"""A small bar chart of check-ins as a PNG, for platforms that show images; no imaging library needed."""

from __future__ import annotations

import struct
import zlib

BAR, GAP, HEIGHT, STEP = 14, 4, 80, 15  # pixels: bar width, gap, image height, height per mood point
BACKGROUND = (255, 255, 255)
NO_CHECKIN = (225, 225, 225)
# Low moods in a soft blue and good ones in green: colour says the same as height, never alarm red.
COLOURS = {1: (120, 144, 196), 2: (131, 170, 206), 3: (150, 196, 190), 4: (140, 200, 150), 5: (110, 190, 110)}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def mood_chart_png(moods: list[int | None]) -> bytes:
    """One bar a day, oldest first; a day without a check-in is a short grey stub."""
    width = len(moods) * (BAR + GAP) + GAP
    columns: list[tuple[int, tuple[int, int, int]]] = []  # per pixel column: bar height, colour
    for mood in moods:
        columns += [(0, BACKGROUND)] * GAP
        columns += [(STEP * mood, COLOURS[mood]) if mood else (3, NO_CHECKIN)] * BAR
    columns += [(0, BACKGROUND)] * GAP
    rows = bytearray()
    for y in range(HEIGHT):
        rows.append(0)  # no filter on this row
        from_bottom = HEIGHT - 1 - y
        for height, colour in columns:
            rows += bytes(colour if from_bottom < height else BACKGROUND)
    header = struct.pack(">IIBBBBB", width, HEIGHT, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
            + _chunk(b"IEND", b""))
