"""The map generators: seeded, connected, well-formed; the PNG and the .dd2vtt export."""

from __future__ import annotations

import base64
import io
import json
from collections import deque

import pytest
from PIL import Image
from pydantic import ValidationError

from domain.errors import InvalidRequest
from domain.maps.generate import layout_for, make_map
from domain.maps.layout import DOOR, ROCK, Layout, MapRequest
from domain.maps.walls import wall_segments

KINDS = ("dungeon", "cave", "region")


def reachable(layout: Layout, start: tuple[int, int]) -> set[tuple[int, int]]:
    seen, todo = {start}, deque([start])
    while todo:
        x, y = todo.popleft()
        for n in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if n not in seen and layout.walkable(*n):
                seen.add(n)
                todo.append(n)
    return seen


def open_cells(layout: Layout) -> set[tuple[int, int]]:
    return {
        (x, y) for y in range(layout.height) for x in range(layout.width) if layout.walkable(x, y)
    }


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_seed_gives_the_same_map(kind):
    req = MapRequest(kind=kind, seed=11, width=30, height=20, grid_px=12)
    a, b = make_map(req), make_map(req)
    assert a.layout == b.layout and a.png == b.png and a.dd2vtt == b.dd2vtt
    other = layout_for(req.model_copy(update={"seed": 12}))
    assert other.cells != a.layout.cells


@pytest.mark.parametrize("seed", range(8))
def test_every_open_cell_of_a_dungeon_or_cave_can_be_reached(seed):
    for kind in ("dungeon", "cave"):
        layout = layout_for(MapRequest(kind=kind, seed=seed))
        cells = open_cells(layout)
        assert len(cells) > layout.width * layout.height // 8, kind
        assert reachable(layout, min(cells)) == cells, (kind, seed)


@pytest.mark.parametrize("seed", range(8))
def test_dungeon_rooms_doors_and_lights(seed):
    layout = layout_for(MapRequest(kind="dungeon", seed=seed, width=50, height=40))
    assert len(layout.rooms) >= 5 and len(layout.lights) == len(layout.rooms)
    for a in layout.rooms:
        for b in layout.rooms:
            if a.id < b.id:  # rooms keep their own walls: at least two cells apart
                assert (
                    a.x + a.w + 2 <= b.x
                    or b.x + b.w + 2 <= a.x
                    or a.y + a.h + 2 <= b.y
                    or b.y + b.h + 2 <= a.y
                )
    assert layout.doors
    for d in layout.doors:
        assert layout.at(d.x, d.y) == DOOR
        sides = (
            ((d.x - 1, d.y), (d.x + 1, d.y)) if d.axis == "h" else ((d.x, d.y - 1), (d.x, d.y + 1))
        )
        assert all(layout.at(*s) == ROCK for s in sides)


def test_a_region_is_open_ground_with_settlements_on_its_roads():
    layout = layout_for(MapRequest(kind="region", seed=5, width=60, height=40))
    assert all(ch in layout.legend for row in layout.cells for ch in row)
    assert wall_segments(layout) == []
    assert len(layout.rooms) >= 2 and len(layout.corridors) == len(layout.rooms) - 1
    for town in layout.rooms:
        assert layout.at(town.x, town.y) == "o"


@pytest.mark.parametrize("kind", KINDS)
def test_png_and_dd2vtt(kind):
    req = MapRequest(kind=kind, seed=3, width=24, height=16, grid_px=20)
    files = make_map(req)
    img = Image.open(io.BytesIO(files.png))
    assert img.format == "PNG" and img.size == (24 * 20, 16 * 20)
    vtt = json.loads(files.dd2vtt)
    assert vtt["format"] == 0.3
    assert vtt["resolution"] == {
        "map_origin": {"x": 0, "y": 0},
        "map_size": {"x": 24, "y": 16},
        "pixels_per_grid": 20,
    }
    assert base64.b64decode(vtt["image"]) == files.png
    assert len(vtt["portals"]) == len(files.layout.doors)
    assert len(vtt["lights"]) == len(files.layout.lights)
    for light in vtt["lights"]:
        assert len(light["color"]) == 8 and light["range"] > 0
    layout = files.layout
    for p, q in vtt["line_of_sight"]:
        # Each wall runs along a grid line, and open ground lies on one side only.
        assert p["x"] == q["x"] or p["y"] == q["y"]
        mx, my = (p["x"] + q["x"]) / 2, (p["y"] + q["y"]) / 2
        if p["x"] == q["x"]:
            sides = ((int(mx) - 1, int(my)), (int(mx), int(my)))
        else:
            sides = ((int(mx), int(my) - 1), (int(mx), int(my)))
        assert layout.walkable(*sides[0]) != layout.walkable(*sides[1])
    for portal, door in zip(vtt["portals"], layout.doors, strict=True):
        assert portal["closed"] is True and len(portal["bounds"]) == 2
        assert portal["position"] == {"x": door.x + 0.5, "y": door.y + 0.5}


def test_requests_that_are_too_big_are_refused():
    with pytest.raises(InvalidRequest, match="grid_px") as err:
        make_map(MapRequest(width=120, height=100, grid_px=100))
    assert err.value.code == "map_too_large"
    with pytest.raises(ValidationError):
        MapRequest(width=5)
