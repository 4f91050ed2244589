"""What the storage service takes and answers: asset metadata, versions, pages, usage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Generated art (portrait, scene, item, token), a battle map's image (map), its JSON layout
# (map_layout) and its Universal VTT export (map_vtt), and files people send (upload).
AssetKind = Literal["portrait", "scene", "item", "token", "map", "map_layout", "map_vtt", "upload"]
MAX_ID = 2**31 - 1
# domain.campaigns.access.Visibility's rule as a pattern, so the JSON schema states it too.
AssetVisibility = Annotated[
    str, StringConstraints(pattern=r"^(dm|party|public|player:[1-9][0-9]{0,9})$")
]


class AssetMeta(BaseModel):
    """How an asset was made and who may see it. Without a campaign an asset is private to
    its creator (its visibility is then unused)."""

    model_config = ConfigDict(extra="forbid")

    kind: AssetKind
    prompt: str | None = Field(None, max_length=4000)
    negative_prompt: str | None = Field(None, max_length=4000)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    steps: int | None = Field(None, ge=1, le=1000)
    guidance: float | None = Field(None, ge=0, le=100)
    model: str | None = Field(None, max_length=200)
    style: str | None = Field(None, max_length=100)
    width: int | None = Field(None, ge=1, le=65535)
    height: int | None = Field(None, ge=1, le=65535)
    campaign_id: int | None = Field(None, ge=1, le=MAX_ID)
    visibility: AssetVisibility = "dm"
    # Same model, prompt, seed and parameters: find_cached(cache_key) returns the stored
    # asset instead of running the pipeline again. The caller derives the key.
    cache_key: str | None = Field(None, max_length=128)
    extra: dict[str, Any] = {}


class VariantOut(BaseModel):
    """A derived rendition made once per blob by the optimisation step."""

    name: Literal["thumbnail", "webp", "avif"]
    sha256: str
    size: int
    content_type: str
    width: int
    height: int


class AssetVersionOut(BaseModel):
    asset_id: int
    version_id: int
    number: int = Field(description="1 for the first version of the asset, then 2, 3...")
    parent_version_id: int | None
    sha256: str
    size: int
    content_type: str
    meta: AssetMeta
    creator_id: int
    created_at: datetime
    variants: list[VariantOut] = []
    urls: dict[str, str] = Field(
        {},
        description="`content`: the bytes (bearer token); `blob`: the content-addressed, "
        "immutable URL (bearer token or signature); one per variant. "
        "POST .../signed-urls gives URLs that work without a token until they expire.",
    )


class AssetOut(BaseModel):
    id: int
    kind: AssetKind
    campaign_id: int | None
    visibility: str
    creator_id: int
    created_at: datetime
    version_count: int
    latest: AssetVersionOut


class AssetPage(BaseModel):
    items: list[AssetOut]
    total: int


class UsageOut(BaseModel):
    """Space a campaign (or, without one, a user's private assets) takes: each distinct
    blob once, variants not counted."""

    campaign_id: int | None
    bytes: int
    quota_bytes: int
    assets: int
    versions: int


class AssetLimits(BaseModel):
    """Space and upload limits (from settings)."""

    quota_bytes: int = 1024**3
    max_upload_bytes: int = 5 * 1024**2
    max_upload_pixels: int = 40_000_000
