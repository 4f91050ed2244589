"""AssetCalls in process: the same generate_map that the images application calls over
Serve, answering what POST /api/v2/assets/maps answers."""

from __future__ import annotations

import anyio

from cluster.database import Database
from cluster.settings import Settings
from deployments.apps import compose_local
from deployments.calls.assets import AssetCalls
from domain.maps.messages import MapCreate
from domain.users.schemas import Principal


def test_generate_map_through_the_typed_call(db: Database, settings: Settings):
    _, ingresses = compose_local(settings, db)
    calls: AssetCalls = ingresses["assets"]  # type: ignore[assignment]
    me = Principal(3, "player")
    req = MapCreate(kind="region", seed=9, width=16, height=12, grid_px=10)
    first = anyio.run(calls.generate_map, me, req)
    again = anyio.run(calls.generate_map, me, req)
    assert not first.cached and again.cached
    assert again.image.version_id == first.image.version_id
    assert first.image.meta.kind == "map" and first.vtt.meta.kind == "map_vtt"
    assert first.layout.kind == "region" and first.image.meta.width == 160
