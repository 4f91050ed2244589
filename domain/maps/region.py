"""Regions: an overland map from seeded value noise (elevation and moisture), with
settlements joined by roads. No walls: everything is open ground."""

from __future__ import annotations

import itertools
import random

import numpy as np

from domain.maps.layout import Layout, MapRequest, Point, Room

WATER, SAND, GRASS, FOREST, HILLS, MOUNTAIN, ROAD, TOWN = "~", ":", ",", "T", "n", "^", "=", "o"
LEGEND = {
    WATER: "water",
    SAND: "shore",
    GRASS: "grassland",
    FOREST: "forest",
    HILLS: "hills",
    MOUNTAIN: "mountains",
    ROAD: "road (a bridge over water)",
    TOWN: "settlement",
}
NAMES = (
    "Ashford",
    "Brindle",
    "Cold Harbor",
    "Dunmere",
    "Elmstead",
    "Fallowmere",
    "Greywick",
    "Hollowell",
    "Ironmoor",
    "Juniper Cross",
)


def generate(req: MapRequest) -> Layout:
    rng = random.Random(f"region:{req.seed}")
    noise = np.random.default_rng(rng.getrandbits(64))
    w, h = req.width, req.height
    elevation = _value_noise(noise, w, h)
    moisture = _value_noise(noise, w, h)
    terrain = np.full((h, w), GRASS, dtype="<U1")
    terrain[moisture > 0.55] = FOREST
    terrain[elevation < 0.42] = SAND
    terrain[elevation < 0.36] = WATER
    terrain[elevation > 0.66] = HILLS
    terrain[elevation > 0.76] = MOUNTAIN
    land = [
        (int(x), int(y))
        for y, x in zip(*np.nonzero((terrain == GRASS) | (terrain == FOREST)), strict=True)
    ]
    towns: list[tuple[int, int]] = []
    for x, y in rng.sample(land, k=min(len(land), 40)):
        if len(towns) == 4:
            break
        if all(abs(x - tx) + abs(y - ty) >= (w + h) // 6 for tx, ty in towns):
            towns.append((x, y))
    roads = []
    for (x1, y1), (x2, y2) in itertools.pairwise(towns):
        path = [(x, y1) for x in _span(x1, x2)] + [(x2, y) for y in _span(y1, y2)]
        for x, y in path:
            terrain[y, x] = ROAD
        roads.append(
            [
                Point(x=x1 + 0.5, y=y1 + 0.5),
                Point(x=x2 + 0.5, y=y1 + 0.5),
                Point(x=x2 + 0.5, y=y2 + 0.5),
            ]
        )
    names = list(NAMES)
    rng.shuffle(names)
    settlements = []
    for i, (x, y) in enumerate(towns):
        terrain[y, x] = TOWN
        settlements.append(Room(id=i + 1, x=x, y=y, w=1, h=1, label=names[i]))
    return Layout(
        kind="region",
        name=req.name or f"Region {req.seed}",
        seed=req.seed,
        width=w,
        height=h,
        cells=["".join(row) for row in terrain],
        rooms=settlements,
        corridors=roads,
        legend=LEGEND,
    )


def _span(a: int, b: int) -> range:
    return range(a, b + 1) if a <= b else range(a, b - 1, -1)


def _value_noise(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Three octaves of bilinear value noise, scaled to 0..1."""
    total = np.zeros((h, w))
    for octave, weight in ((4, 0.6), (8, 0.3), (16, 0.1)):
        coarse = rng.random((octave + 1, octave + 1))
        ys, xs = np.linspace(0, octave, h), np.linspace(0, octave, w)
        y0, x0 = np.minimum(ys.astype(int), octave - 1), np.minimum(xs.astype(int), octave - 1)
        fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
        c00 = coarse[np.ix_(y0, x0)]
        c10 = coarse[np.ix_(y0, x0 + 1)]
        c01 = coarse[np.ix_(y0 + 1, x0)]
        c11 = coarse[np.ix_(y0 + 1, x0 + 1)]
        top, bottom = c00 * (1 - fx) + c10 * fx, c01 * (1 - fx) + c11 * fx
        total += weight * (top * (1 - fy) + bottom * fy)
    lo, hi = total.min(), total.max()
    return (total - lo) / (hi - lo) if hi > lo else total
