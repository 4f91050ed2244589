"""Caves: a cellular automaton smooths seeded noise into caverns; only the largest
connected cavern is kept, so every floor cell can be reached."""

from __future__ import annotations

import random
from collections import deque

from domain.maps.layout import FLOOR, ROCK, Layout, Light, MapRequest

LEGEND = {ROCK: "rock (walls)", FLOOR: "cave floor"}
_FILL, _STEPS = 0.45, 5


def generate(req: MapRequest) -> Layout:
    rng = random.Random(f"cave:{req.seed}")
    w, h = req.width, req.height
    for _ in range(20):  # a rare seed leaves too small a cavern: draw again (deterministic)
        grid = [
            [y in (0, h - 1) or x in (0, w - 1) or rng.random() < _FILL for x in range(w)]
            for y in range(h)
        ]
        for _ in range(_STEPS):
            grid = _smooth(grid)
        region = _largest_open(grid)
        if len(region) >= w * h // 4:
            break
    cells = ["".join(FLOOR if (x, y) in region else ROCK for x in range(w)) for y in range(h)]
    spots = sorted(region)
    lights = [
        Light(x=x + 0.5, y=y + 0.5, range=4, color="ff9fd8ff")  # glowing fungus
        for x, y in rng.sample(spots, k=min(len(spots), max(2, len(spots) // 120)))
    ]
    return Layout(
        kind="cave",
        name=req.name or f"Cave {req.seed}",
        seed=req.seed,
        width=w,
        height=h,
        cells=cells,
        lights=sorted(lights, key=lambda li: (li.y, li.x)),
        legend=LEGEND,
    )


def _smooth(grid: list[list[bool]]) -> list[list[bool]]:
    h, w = len(grid), len(grid[0])
    out = [[True] * w for _ in range(h)]
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            rock = sum(grid[y + dy][x + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
            out[y][x] = rock >= 5
    return out


def _largest_open(grid: list[list[bool]]) -> set[tuple[int, int]]:
    h, w = len(grid), len(grid[0])
    seen: set[tuple[int, int]] = set()
    best: set[tuple[int, int]] = set()
    for y in range(h):
        for x in range(w):
            if grid[y][x] or (x, y) in seen:
                continue
            region, todo = {(x, y)}, deque([(x, y)])
            while todo:
                cx, cy = todo.popleft()
                for nx, ny in ((cx + 1, cy), (cx - 1, cy), (cx, cy + 1), (cx, cy - 1)):
                    if not grid[ny][nx] and (nx, ny) not in region:
                        region.add((nx, ny))
                        todo.append((nx, ny))
            seen |= region
            if len(region) > len(best):
                best = region
    return best
