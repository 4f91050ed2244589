"""Battle maps: generate a seeded map and store its PNG, JSON layout and Universal VTT
export as three assets of the campaign. The same request again returns the stored ones."""

from __future__ import annotations

import hashlib
import json

import anyio
from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from deployments.assets.context import Assets
from deployments.http.auth import CurrentPrincipal
from domain.assets.schemas import MAX_ID, AssetMeta, AssetVersionOut
from domain.assets.service import AssetService
from domain.campaigns.access import Visibility
from domain.maps.generate import MapFiles, make_map
from domain.maps.layout import Layout, MapRequest

PREFIX = "/api/v2/assets"
router = APIRouter(prefix=PREFIX, tags=["maps"])
GENERATOR = "lorekeeper-maps/1"  # part of the cache key: a new generator makes new maps


class MapCreate(MapRequest):
    model_config = ConfigDict(extra="forbid")
    campaign_id: int | None = Field(None, ge=1, le=MAX_ID)
    visibility: Visibility = Field("dm", description="Default: for the DMs only (secret map).")


class MapOut(BaseModel):
    cached: bool = Field(description="True: an identical request's stored map, not a new one.")
    layout: Layout
    image: AssetVersionOut
    layout_asset: AssetVersionOut
    vtt: AssetVersionOut


def cache_key(req: MapRequest) -> str:
    spec = json.dumps({"g": GENERATOR, **req.model_dump(mode="json")}, sort_keys=True)
    return "map:" + hashlib.sha256(spec.encode()).hexdigest()


@router.post("/maps", status_code=201)
async def generate_map(
    body: MapCreate, principal: CurrentPrincipal, assets: Assets, response: Response
) -> MapOut:
    """A dungeon, cave or region battle map, without any model: the PNG at `grid_px` per
    cell, its layout (rooms, corridors, doors, lights, legend) and a `.dd2vtt` file that
    Foundry, Roll20 importers and other virtual tabletops import with walls, doors and
    lights."""
    req = MapRequest.model_validate(body.model_dump(exclude={"campaign_id", "visibility"}))
    key = cache_key(req)
    found = await assets.call(principal, lambda s: _cached(s, key), campaign_id=body.campaign_id)
    if found is not None:
        response.status_code = 200
        return found
    files = await anyio.to_thread.run_sync(make_map, req)
    return await assets.call(
        principal, lambda s: _store(s, body, req, key, files), campaign_id=body.campaign_id
    )


def _meta(body: MapCreate, req: MapRequest, kind: str, **extra) -> AssetMeta:
    return AssetMeta(
        kind=kind,  # type: ignore[arg-type]
        seed=req.seed,
        model=GENERATOR,
        style=req.kind,
        width=req.width * req.grid_px,
        height=req.height * req.grid_px,
        campaign_id=body.campaign_id,
        visibility=body.visibility,
        extra={"map": req.model_dump(mode="json"), **extra},
    )


def _store(s: AssetService, body: MapCreate, req: MapRequest, key: str, files: MapFiles) -> MapOut:
    # One transaction: the three assets are stored together or not at all. The image goes
    # last, carrying the cache key and the other two's ids.
    layout = s.add(files.layout_json, "application/json", _meta(body, req, "map_layout"))
    vtt = s.add(files.dd2vtt, "application/json", _meta(body, req, "map_vtt"))
    meta = _meta(
        body, req, "map", layout_version_id=layout.version_id, vtt_version_id=vtt.version_id
    )
    image = s.add(files.png, "image/png", meta.model_copy(update={"cache_key": key}))
    return MapOut(cached=False, layout=files.layout, image=image, layout_asset=layout, vtt=vtt)


def _cached(s: AssetService, key: str) -> MapOut | None:
    image = s.find_cached(key)
    if image is None:
        return None
    layout = s.version(image.meta.extra["layout_version_id"])
    vtt = s.version(image.meta.extra["vtt_version_id"])
    return MapOut(
        cached=True,
        layout=Layout.model_validate_json(s.blobs.get(layout.sha256)),
        image=image,
        layout_asset=layout,
        vtt=vtt,
    )
