"""Universal VTT export (`.dd2vtt`, format 0.3), the JSON that Dungeondraft writes and
Foundry (Universal Battlemap Importer), Roll20 importers, Owlbear Rodeo extensions and
Fantasy Grounds read: the map image (base64 PNG), walls as `line_of_sight` polylines,
doors as `portals`, and `lights`. Every coordinate is in grid cells."""

from __future__ import annotations

import base64
import math
from typing import Any

from domain.maps.layout import Layout
from domain.maps.walls import wall_segments

FORMAT = 0.3


def to_dd2vtt(layout: Layout, png: bytes, grid_px: int) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "resolution": {
            "map_origin": {"x": 0, "y": 0},
            "map_size": {"x": layout.width, "y": layout.height},
            "pixels_per_grid": grid_px,
        },
        "line_of_sight": [
            [{"x": x1, "y": y1}, {"x": x2, "y": y2}] for (x1, y1), (x2, y2) in wall_segments(layout)
        ],
        "objects_line_of_sight": [],
        "portals": [_portal(d.x, d.y, d.axis) for d in layout.doors],
        "environment": {
            # Underground is dark but for the lights; a region is lit by day.
            "baked_lighting": False,
            "ambient_light": "ffffffff" if layout.kind == "region" else "ff202020",
        },
        "lights": [
            {
                "position": {"x": li.x, "y": li.y},
                "range": li.range,
                "intensity": 1.0,
                "color": li.color,
                "shadows": True,
            }
            for li in layout.lights
        ],
        "image": base64.b64encode(png).decode(),
    }


def _portal(x: int, y: int, axis: str) -> dict[str, Any]:
    if axis == "h":  # the door spans the cell west to east, through its middle
        bounds = [{"x": x, "y": y + 0.5}, {"x": x + 1, "y": y + 0.5}]
        rotation = 0.0
    else:
        bounds = [{"x": x + 0.5, "y": y}, {"x": x + 0.5, "y": y + 1}]
        rotation = math.pi / 2
    return {
        "position": {"x": x + 0.5, "y": y + 0.5},
        "bounds": bounds,
        "rotation": rotation,
        "closed": True,
        "freestanding": False,
    }
