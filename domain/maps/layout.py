"""A map's layout: a grid of cells plus the rooms, corridors, doors and lights on it.

Coordinates are in grid cells, (0, 0) the top-left corner; cell (x, y) spans x..x+1,
y..y+1. `cells` is one string per row, one character per cell, explained by `legend`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from domain.errors import InvalidRequest
from domain.sheet import Document

MapKind = Literal["dungeon", "cave", "region"]
ROCK, FLOOR, DOOR = "#", ".", "+"
# A rendered side must stay within what a VTT and a browser handle comfortably.
MAX_SIDE_PX = 8192


class MapRequest(Document):
    """Strict (domain.sheet.Document): JSON's true is not a seed, nor 0 a show_grid."""

    kind: MapKind = "dungeon"
    # Within JSON's exact integers (2**53), so every client sends the seed it means.
    seed: int = Field(0, ge=0, le=2**53 - 1, description="The same seed gives the same map.")
    width: int = Field(40, ge=12, le=120, description="Cells across.")
    height: int = Field(30, ge=12, le=120, description="Cells down.")
    grid_px: int = Field(50, ge=10, le=200, description="Pixels per grid cell in the PNG.")
    rooms: int | None = Field(
        None, ge=2, le=60, description="Dungeons: how many rooms to aim for (default: by size)."
    )
    show_grid: bool = True
    name: str = Field("", max_length=100)

    def check_size(self) -> None:
        """A rule across fields, so no JSON schema states it: its own code, not a 422
        `validation_error`."""
        side = max(self.width, self.height) * self.grid_px
        if side > MAX_SIDE_PX:
            raise InvalidRequest(
                f"The image would be {side} px on its longer side, over {MAX_SIDE_PX}: lower "
                "grid_px or the map's width and height.",
                code="map_too_large",
            )


class Point(BaseModel):
    x: float
    y: float


class Room(BaseModel):
    id: int
    x: int
    y: int
    w: int
    h: int
    label: str


class Door(BaseModel):
    x: int
    y: int
    # "h": the doorway is passed north-south, so the door spans the cell west to east.
    axis: Literal["h", "v"]


class Light(BaseModel):
    x: float
    y: float
    range: float
    color: str = "ffffd7a0"  # ARGB, as Universal VTT writes colours


class Layout(BaseModel):
    kind: MapKind
    name: str
    seed: int
    width: int
    height: int
    cells: list[str]
    rooms: list[Room] = []
    corridors: list[list[Point]] = []
    doors: list[Door] = []
    lights: list[Light] = []
    legend: dict[str, str]

    def at(self, x: int, y: int) -> str:
        return self.cells[y][x] if 0 <= x < self.width and 0 <= y < self.height else ROCK

    def walkable(self, x: int, y: int) -> bool:
        """Inside: everything but rock (regions have no rock, so no walls)."""
        return self.at(x, y) != ROCK
