"""Dungeons: non-overlapping rectangular rooms joined by L-shaped corridors along a minimum
spanning tree of their centres, plus a few extra links for loops; doors where a corridor
goes through a room's wall."""

from __future__ import annotations

import random

from domain.maps.layout import DOOR, FLOOR, ROCK, Door, Layout, Light, MapRequest, Point, Room

PURPOSES = (
    "guard room",
    "shrine",
    "armory",
    "crypt",
    "library",
    "barracks",
    "treasury",
    "kennel",
    "cistern",
    "throne room",
    "prison",
    "alchemy lab",
    "storeroom",
    "kitchen",
    "ossuary",
    "summoning circle",
    "well room",
    "trophy hall",
)
LEGEND = {ROCK: "rock (walls)", FLOOR: "floor", DOOR: "door"}


def generate(req: MapRequest) -> Layout:
    rng = random.Random(f"dungeon:{req.seed}")
    grid = [[ROCK] * req.width for _ in range(req.height)]
    target = req.rooms or max(3, req.width * req.height // 90)
    rooms = _place_rooms(rng, req.width, req.height, target)
    for r in rooms:
        for y in range(r.y, r.y + r.h):
            for x in range(r.x, r.x + r.w):
                grid[y][x] = FLOOR
    corridors = [_carve(rng, grid, rooms[a], rooms[b]) for a, b in _links(rng, rooms)]
    doors = _doors(grid, rooms)
    for d in doors:
        grid[d.y][d.x] = DOOR
    lights = [Light(x=r.x + r.w / 2, y=r.y + r.h / 2, range=max(r.w, r.h) / 2 + 1) for r in rooms]
    return Layout(
        kind="dungeon",
        name=req.name or f"Dungeon {req.seed}",
        seed=req.seed,
        width=req.width,
        height=req.height,
        cells=["".join(row) for row in grid],
        rooms=rooms,
        corridors=corridors,
        doors=doors,
        lights=lights,
        legend=LEGEND | {"1..n": "room numbers (see rooms[].label)"},
    )


def _place_rooms(rng: random.Random, width: int, height: int, target: int) -> list[Room]:
    rooms: list[Room] = []
    labels = list(PURPOSES)
    rng.shuffle(labels)
    for _ in range(target * 30):
        if len(rooms) == target:
            break
        w, h = rng.randint(3, min(10, width // 3)), rng.randint(3, min(8, height // 3))
        x, y = rng.randint(1, width - w - 1), rng.randint(1, height - h - 1)
        # Two rock cells at least between rooms: each keeps a wall of its own.
        if any(
            x < o.x + o.w + 2 and o.x < x + w + 2 and y < o.y + o.h + 2 and o.y < y + h + 2
            for o in rooms
        ):
            continue
        n = len(rooms) + 1
        rooms.append(Room(id=n, x=x, y=y, w=w, h=h, label=labels[(n - 1) % len(labels)]))
    return rooms


def _centre(r: Room) -> tuple[int, int]:
    return r.x + r.w // 2, r.y + r.h // 2


def _links(rng: random.Random, rooms: list[Room]) -> list[tuple[int, int]]:
    """Prim's minimum spanning tree over room centres, then ~1 extra link per 5 rooms."""

    def dist(a: int, b: int) -> int:
        (ax, ay), (bx, by) = _centre(rooms[a]), _centre(rooms[b])
        return abs(ax - bx) + abs(ay - by)

    if len(rooms) < 2:
        return []
    joined, links = {0}, []
    while len(joined) < len(rooms):
        a, b = min(
            ((a, b) for a in joined for b in range(len(rooms)) if b not in joined),
            key=lambda ab: (dist(*ab), ab),
        )
        joined.add(b)
        links.append((a, b))
    others = [
        (a, b)
        for a in range(len(rooms))
        for b in range(a + 1, len(rooms))
        if (a, b) not in links and (b, a) not in links
    ]
    others.sort(key=lambda ab: (dist(*ab), ab))
    links += others[: len(rooms) // 5]
    return links


def _carve(rng: random.Random, grid: list[list[str]], a: Room, b: Room) -> list[Point]:
    (x1, y1), (x2, y2) = _centre(a), _centre(b)
    corner = (x2, y1) if rng.random() < 0.5 else (x1, y2)
    for (sx, sy), (ex, ey) in (((x1, y1), corner), (corner, (x2, y2))):
        for x in range(min(sx, ex), max(sx, ex) + 1):
            for y in range(min(sy, ey), max(sy, ey) + 1):
                grid[y][x] = FLOOR
    return [Point(x=p[0] + 0.5, y=p[1] + 0.5) for p in ((x1, y1), corner, (x2, y2))]


def _doors(grid: list[list[str]], rooms: list[Room]) -> list[Door]:
    """A door on each cell of a room's wall ring that a corridor opened, where the ring's
    cells beside it are still rock (a real doorway, not a corridor running along the wall)."""
    doors: dict[tuple[int, int], Door] = {}
    for r in rooms:
        ring = [(x, r.y - 1, "h") for x in range(r.x, r.x + r.w)]
        ring += [(x, r.y + r.h, "h") for x in range(r.x, r.x + r.w)]
        ring += [(r.x - 1, y, "v") for y in range(r.y, r.y + r.h)]
        ring += [(r.x + r.w, y, "v") for y in range(r.y, r.y + r.h)]
        for x, y, axis in ring:
            if grid[y][x] != FLOOR:
                continue
            sides = ((x - 1, y), (x + 1, y)) if axis == "h" else ((x, y - 1), (x, y + 1))
            if all(grid[sy][sx] == ROCK for sx, sy in sides):
                doors[(x, y)] = Door(x=x, y=y, axis=axis)  # type: ignore[arg-type]
    return sorted(doors.values(), key=lambda d: (d.y, d.x))
