"""A map request with where to store it, and the stored map (the assets application's
POST /api/v2/assets/maps and AssetCalls.generate_map)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.assets.schemas import MAX_ID, AssetVersionOut, AssetVisibility
from domain.maps.layout import Layout, MapRequest


class MapCreate(MapRequest):
    model_config = ConfigDict(extra="forbid")
    campaign_id: int | None = Field(None, ge=1, le=MAX_ID)
    visibility: AssetVisibility = Field("dm", description="Default: for the DMs only (secret map).")

    def map_request(self) -> MapRequest:
        return MapRequest.model_validate(self.model_dump(exclude={"campaign_id", "visibility"}))


class MapOut(BaseModel):
    cached: bool = Field(description="True: an identical request's stored map, not a new one.")
    layout: Layout
    image: AssetVersionOut
    layout_asset: AssetVersionOut
    vtt: AssetVersionOut
