"""One call from a request to a map's three files: the layout, the PNG, the .dd2vtt."""

from __future__ import annotations

import json
from dataclasses import dataclass

from domain.maps import cave, dungeon, region
from domain.maps.layout import Layout, MapRequest
from domain.maps.render import render_png
from domain.maps.vtt import to_dd2vtt

_GENERATORS = {"dungeon": dungeon.generate, "cave": cave.generate, "region": region.generate}


@dataclass(frozen=True)
class MapFiles:
    layout: Layout
    png: bytes
    layout_json: bytes
    dd2vtt: bytes


def layout_for(req: MapRequest) -> Layout:
    return _GENERATORS[req.kind](req)


def make_map(req: MapRequest) -> MapFiles:
    req.check_size()
    layout = layout_for(req)
    png = render_png(layout, req.grid_px, req.show_grid)
    vtt = to_dd2vtt(layout, png, req.grid_px)
    return MapFiles(
        layout=layout,
        png=png,
        layout_json=layout.model_dump_json(indent=None).encode(),
        dd2vtt=json.dumps(vtt, separators=(",", ":")).encode(),
    )
