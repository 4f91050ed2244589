"""Battle maps: generate a seeded map and store its PNG, JSON layout and Universal VTT
export as three assets of the campaign. The same request again returns the stored ones."""

from __future__ import annotations

import hashlib
import json

import anyio
from fastapi import APIRouter, Response

from deployments.assets.context import Assets, AssetsContext
from deployments.http.auth import CurrentPrincipal
from domain.assets.schemas import AssetMeta
from domain.assets.service import AssetService
from domain.maps.generate import MapFiles, make_map
from domain.maps.layout import Layout, MapRequest
from domain.maps.messages import MapCreate, MapOut
from domain.users.schemas import Principal

PREFIX = "/api/v2/assets"
router = APIRouter(prefix=PREFIX, tags=["maps"])
GENERATOR = "lorekeeper-maps/1"  # part of the cache key: a new generator makes new maps


def cache_key(req: MapRequest) -> str:
    spec = json.dumps({"g": GENERATOR, **req.model_dump(mode="json")}, sort_keys=True)
    return "map:" + hashlib.sha256(spec.encode()).hexdigest()


@router.post(
    "/maps",
    status_code=201,
    responses={
        200: {"description": "`cached`: an identical request's stored map.", "model": MapOut},
        403: {"description": "`visibility_not_allowed`"},
        404: {"description": "`campaign_not_found`: not a campaign of yours"},
        503: {"description": "`campaigns_unavailable`, `database_unavailable`"},
    },
)
async def generate_map(
    body: MapCreate, principal: CurrentPrincipal, assets: Assets, response: Response
) -> MapOut:
    """A dungeon, cave or region battle map, without any model: the PNG at `grid_px` per
    cell, its layout (rooms, corridors, doors, lights, legend) and a `.dd2vtt` file that
    Foundry, Roll20 importers and other virtual tabletops import with walls, doors and
    lights."""
    out = await generate(assets, principal, body)
    if out.cached:
        response.status_code = 200
    return out


async def generate(assets: AssetsContext, principal: Principal, body: MapCreate) -> MapOut:
    """The stored map of an identical earlier request, or a new one generated and stored."""
    req = body.map_request()
    req.check_size()
    key = cache_key(req)
    found = await assets.call(principal, lambda s: _cached(s, key), campaign_id=body.campaign_id)
    if found is not None:
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
