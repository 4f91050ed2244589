"""Walls: every cell edge between open ground and rock, merged into straight runs. The
map's border is no wall (dungeons and caves are rock there anyway; regions go on)."""

from __future__ import annotations

from domain.maps.layout import Layout

Segment = tuple[tuple[int, int], tuple[int, int]]


def wall_segments(layout: Layout) -> list[Segment]:
    out: list[Segment] = []
    # Horizontal edges: the line y between rows y-1 and y.
    for y in range(layout.height + 1):
        start = None
        for x in range(layout.width + 1):
            wall = (
                x < layout.width
                and 0 < y < layout.height
                and layout.walkable(x, y - 1) != layout.walkable(x, y)
            )
            if wall and start is None:
                start = x
            elif not wall and start is not None:
                out.append(((start, y), (x, y)))
                start = None
    # Vertical edges: the line x between columns x-1 and x.
    for x in range(layout.width + 1):
        start = None
        for y in range(layout.height + 1):
            wall = (
                y < layout.height
                and 0 < x < layout.width
                and layout.walkable(x - 1, y) != layout.walkable(x, y)
            )
            if wall and start is None:
                start = y
            elif not wall and start is not None:
                out.append(((x, start), (x, y)))
                start = None
    return out
