"""The battle map as a PNG: floor, rock, walls, doors, grid, room numbers and a legend's
colours, at `grid_px` pixels per cell."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFont

from domain.maps.layout import DOOR, ROCK, Layout
from domain.maps.walls import wall_segments

COLOURS = {
    ROCK: (46, 42, 40),
    ".": (226, 214, 186),
    DOOR: (226, 214, 186),
    "~": (70, 120, 180),
    ":": (222, 204, 150),
    ",": (150, 190, 100),
    "T": (60, 120, 60),
    "n": (160, 150, 100),
    "^": (130, 120, 115),
    "=": (170, 130, 80),
    "o": (200, 60, 50),
}
WALL, DOOR_FILL, GRID = (20, 16, 14), (122, 78, 40), (0, 0, 0, 40)


def render_png(layout: Layout, grid_px: int, show_grid: bool = True) -> bytes:
    g = grid_px
    img = Image.new("RGB", (layout.width * g, layout.height * g), COLOURS[ROCK])
    draw = ImageDraw.Draw(img)
    speckle = random.Random(f"render:{layout.seed}")
    for y, row in enumerate(layout.cells):
        for x, cell in enumerate(row):
            colour = COLOURS.get(cell, (255, 0, 255))
            # A little seeded variation per cell, so floors and terrain look less flat.
            shade = speckle.randint(-8, 8)
            colour = tuple(max(0, min(255, c + shade)) for c in colour)
            draw.rectangle((x * g, y * g, (x + 1) * g - 1, (y + 1) * g - 1), fill=colour)
    if show_grid:
        overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
        grid = ImageDraw.Draw(overlay)
        for x in range(layout.width + 1):
            grid.line((x * g, 0, x * g, img.height), fill=GRID, width=1)
        for y in range(layout.height + 1):
            grid.line((0, y * g, img.width, y * g), fill=GRID, width=1)
        img = Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")
        draw = ImageDraw.Draw(img)
    thick = max(2, g // 10)
    for (x1, y1), (x2, y2) in wall_segments(layout):
        draw.line((x1 * g, y1 * g, x2 * g, y2 * g), fill=WALL, width=thick)
    for d in layout.doors:
        inset = g // 3
        if d.axis == "h":  # spans west-east across the middle of the cell
            box = (d.x * g, d.y * g + inset, (d.x + 1) * g, (d.y + 1) * g - inset)
        else:
            box = (d.x * g + inset, d.y * g, (d.x + 1) * g - inset, (d.y + 1) * g)
        draw.rectangle(box, fill=DOOR_FILL, outline=WALL, width=max(1, thick // 2))
    font = ImageFont.load_default(size=max(10, g // 2))
    for room in layout.rooms:
        text = str(room.id) if layout.kind == "dungeon" else room.label
        cx, cy = (room.x + room.w / 2) * g, (room.y + room.h / 2) * g
        if layout.kind != "dungeon":
            cy -= g  # settlement names sit above their marker
        draw.text(
            (cx, cy),
            text,
            fill=(20, 16, 14),
            font=font,
            anchor="mm",
            stroke_width=max(1, g // 25),
            stroke_fill=(240, 235, 220),
        )
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()
