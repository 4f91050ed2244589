"""HTTP for assets: list, read, upload, delete, download (ranges, ETags), variants, signed
URLs and usage. Battle maps: deployments/assets/maps_router.py."""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from deployments.assets.context import Assets
from deployments.assets.downloads import IMMUTABLE, PRIVATE_IMMUTABLE, blob_missing, send_blob
from deployments.http.auth import CurrentPrincipal
from domain.assets.blobs import BlobMissing, is_sha256
from domain.assets.errors import TooLarge, UnsupportedMediaType
from domain.assets.schemas import (
    MAX_ID,
    AssetKind,
    AssetMeta,
    AssetOut,
    AssetPage,
    AssetVersionOut,
    AssetVisibility,
    UsageOut,
)
from domain.assets.service import AssetService, blob_path
from domain.assets.signing import sign, verify
from domain.errors import InvalidRequest, NotFound

PREFIX = "/api/v2/assets"
router = APIRouter(prefix=PREFIX, tags=["assets"])
AssetId = Annotated[int, Path(ge=1, le=MAX_ID)]
VersionId = Annotated[int, Path(ge=1, le=MAX_ID)]
VariantName = Literal["thumbnail", "webp", "avif"]
_BYTES = {
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
}
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The bytes, with `ETag` and `Cache-Control`.", **_BYTES},
    206: {"description": "The requested byte range (`Content-Range`).", **_BYTES},
    304: {"description": "Not modified: `If-None-Match` named the ETag."},
    416: {"description": "`range_not_satisfiable`: the range misses the content."},
    503: {"description": "`blob_missing`: the stored bytes are gone (run storage verify)."},
}
CAMPAIGN_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "`visibility_not_allowed`, `asset_not_yours`"},
    404: {"description": "`asset_not_found`, `campaign_not_found`: absent or not yours"},
    503: {"description": "`campaigns_unavailable`, `database_unavailable`"},
}
_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
    "application/json": "json",
}


class UploadRequest(BaseModel):
    """An image, base64-encoded (a JSON body: binary bodies are refused before any route
    for their NUL bytes)."""

    model_config = ConfigDict(extra="forbid")
    content_base64: str = Field(description="The image file (PNG, JPEG, WebP, GIF or AVIF).")
    kind: AssetKind = "upload"
    campaign_id: int | None = Field(None, ge=1, le=MAX_ID)
    visibility: AssetVisibility = "dm"
    parent_version_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Make this a new version of that version's asset."
    )
    prompt: str | None = Field(None, max_length=4000, description="A description, if any.")


class SignedUrls(BaseModel):
    expires_at: datetime
    urls: dict[str, str] = Field(
        description="`content` and each variant: content-addressed URLs that work without a "
        "token until expires_at (behind LOREKEEPER_ASSET_CDN_BASE_URL when set)."
    )


@router.get("", responses=CAMPAIGN_RESPONSES)
async def list_assets(
    principal: CurrentPrincipal,
    assets: Assets,
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    kind: AssetKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AssetPage:
    """A campaign's assets that you may see; without campaign_id, your private ones."""
    return await assets.call(
        principal, lambda s: s.list(campaign_id, kind, limit, offset), campaign_id=campaign_id
    )


@router.post(
    "/uploads",
    status_code=201,
    responses={
        **CAMPAIGN_RESPONSES,
        413: {"description": "`upload_too_large`, `upload_too_many_pixels`, `quota_exceeded`"},
    },
)
async def upload(
    body: UploadRequest, principal: CurrentPrincipal, assets: Assets, response: Response
) -> AssetVersionOut:
    """Store an image you send: it must decode, fit the size limits and pass moderation."""
    limit = assets.settings.asset_max_upload_bytes
    if len(body.content_base64) > (limit + 2) // 3 * 4 + 4:
        raise TooLarge(
            f"The upload is over {limit} bytes; send a smaller image.", code="upload_too_large"
        )
    try:
        data = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            "content_base64 is not valid base64; encode the file's bytes with standard base64.",
            code="upload_not_base64",
        ) from None
    meta = AssetMeta(
        kind=body.kind, campaign_id=body.campaign_id, visibility=body.visibility, prompt=body.prompt
    )
    if body.parent_version_id is not None:
        out = await assets.call(
            principal,
            lambda s: s.upload(data, meta, body.parent_version_id),
            version_id=body.parent_version_id,
        )
    else:
        out = await assets.call(
            principal, lambda s: s.upload(data, meta), campaign_id=body.campaign_id
        )
    response.headers["Location"] = f"{PREFIX}/versions/{out.version_id}"
    return out


RAW_TYPES = ("image/png", "image/jpeg", "image/webp")
_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in RAW_TYPES},
    }
}
_RAW_RESPONSES: dict[int | str, dict[str, Any]] = {
    **CAMPAIGN_RESPONSES,
    413: {"description": "`upload_too_large`, `upload_too_many_pixels`, `quota_exceeded`"},
    415: {"description": "`unsupported_media_type`: send image/png, image/jpeg or image/webp"},
    422: {"description": "`upload_not_image`, `upload_empty`, `validation_error`"},
}


async def _raw_image(request: Request, limit: int) -> bytes:
    """The body of a raw upload, after its Content-Type (the bytes are decoded later)."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind not in RAW_TYPES:
        raise UnsupportedMediaType(
            f"Send the image's bytes with Content-Type {', '.join(RAW_TYPES)} (got "
            f"{kind or 'none'}), or base64 in JSON to POST {PREFIX}/uploads.",
            code="unsupported_media_type",
        )
    data = await request.body()
    if len(data) > limit:
        raise TooLarge(
            f"The upload is over {limit} bytes; send a smaller image.", code="upload_too_large"
        )
    return data


@router.post(
    "/uploads/raw", status_code=201, responses=_RAW_RESPONSES, openapi_extra=_RAW_BODY
)
async def upload_raw(
    request: Request,
    principal: CurrentPrincipal,
    assets: Assets,
    response: Response,
    kind: AssetKind = "upload",
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    visibility: Annotated[
        str, Query(pattern=r"^(dm|party|public|player:[1-9][0-9]{0,9})$")
    ] = "dm",
    parent_version_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    prompt: Annotated[str | None, Query(max_length=1000)] = None,
) -> AssetVersionOut:
    """Store an image sent as the raw body (Content-Type image/png, image/jpeg or
    image/webp; the stored type is what it decodes as), with the fields of POST /uploads as
    query parameters. It must decode, fit the size limits and pass moderation."""
    data = await _raw_image(request, assets.settings.asset_max_upload_bytes)
    meta = AssetMeta(kind=kind, campaign_id=campaign_id, visibility=visibility, prompt=prompt)
    if parent_version_id is not None:
        out = await assets.call(
            principal,
            lambda s: s.upload(data, meta, parent_version_id),
            version_id=parent_version_id,
        )
    else:
        out = await assets.call(principal, lambda s: s.upload(data, meta), campaign_id=campaign_id)
    response.headers["Location"] = f"{PREFIX}/versions/{out.version_id}"
    return out


@router.put(
    "/{asset_id:int}/content", status_code=201, responses=_RAW_RESPONSES, openapi_extra=_RAW_BODY
)
async def put_content(
    asset_id: AssetId,
    request: Request,
    principal: CurrentPrincipal,
    assets: Assets,
    response: Response,
    prompt: Annotated[str | None, Query(max_length=1000)] = None,
) -> AssetVersionOut:
    """A new version of the asset from an image sent as the raw body (its parent: the
    latest version). The asset's creator or the campaign's DMs."""
    data = await _raw_image(request, assets.settings.asset_max_upload_bytes)

    def add(s: AssetService) -> AssetVersionOut:
        latest = s.get(asset_id).latest
        meta = AssetMeta(kind=latest.meta.kind, prompt=prompt)
        return s.upload(data, meta, latest.version_id)

    out = await assets.call(principal, add, asset_id=asset_id)
    response.headers["Location"] = f"{PREFIX}/versions/{out.version_id}"
    return out


@router.get("/usage", responses=CAMPAIGN_RESPONSES)
async def usage(
    principal: CurrentPrincipal,
    assets: Assets,
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> UsageOut:
    """Space used against the quota: a campaign's, or without campaign_id your own."""
    return await assets.call(principal, lambda s: s.usage(campaign_id), campaign_id=campaign_id)


@router.get("/{asset_id:int}", responses=CAMPAIGN_RESPONSES)
async def get_asset(asset_id: AssetId, principal: CurrentPrincipal, assets: Assets) -> AssetOut:
    return await assets.call(principal, lambda s: s.get(asset_id), asset_id=asset_id)


@router.delete("/{asset_id:int}", status_code=204, responses=CAMPAIGN_RESPONSES)
async def delete_asset(asset_id: AssetId, principal: CurrentPrincipal, assets: Assets) -> Response:
    """Remove an asset and its versions (its creator or the campaign's DMs); the bytes go at
    the next `lorekeeper storage gc` if nothing else uses them."""
    await assets.call(principal, lambda s: s.delete(asset_id), asset_id=asset_id)
    return Response(status_code=204)


@router.get("/{asset_id:int}/versions", responses=CAMPAIGN_RESPONSES)
async def list_versions(
    asset_id: AssetId, principal: CurrentPrincipal, assets: Assets
) -> list[AssetVersionOut]:
    return await assets.call(principal, lambda s: s.versions(asset_id), asset_id=asset_id)


@router.get("/versions/{version_id:int}", responses=CAMPAIGN_RESPONSES)
async def get_version(
    version_id: VersionId, principal: CurrentPrincipal, assets: Assets
) -> AssetVersionOut:
    return await assets.call(principal, lambda s: s.version(version_id), version_id=version_id)


@router.get(
    "/versions/{version_id:int}/content",
    response_class=Response,
    responses={**CAMPAIGN_RESPONSES, **DOWNLOAD_RESPONSES},
)
async def version_content(
    version_id: VersionId, request: Request, principal: CurrentPrincipal, assets: Assets
) -> Response:
    """The version's bytes. Range requests, `ETag` (the sha256) and If-None-Match work;
    a version never changes, so it may be cached for good."""
    v = await assets.call(principal, lambda s: s.version(version_id), version_id=version_id)
    ext = "dd2vtt" if v.meta.kind == "map_vtt" else _EXTENSIONS.get(v.content_type, "bin")
    return await send_blob(
        request,
        assets.blobs,
        v.sha256,
        v.size,
        v.content_type,
        PRIVATE_IMMUTABLE,
        filename=f"asset-{v.asset_id}-v{v.number}.{ext}",
    )


@router.get(
    "/versions/{version_id:int}/variants/{name}",
    response_class=Response,
    responses={**CAMPAIGN_RESPONSES, **DOWNLOAD_RESPONSES},
)
async def version_variant(
    version_id: VersionId,
    name: VariantName,
    request: Request,
    principal: CurrentPrincipal,
    assets: Assets,
) -> Response:
    """A thumbnail (256 px WebP), or the image as WebP or AVIF, made once when stored."""
    v = await assets.call(principal, lambda s: s.variant(version_id, name), version_id=version_id)
    return await send_blob(
        request, assets.blobs, v.sha256, v.size, v.content_type, PRIVATE_IMMUTABLE
    )


@router.post("/versions/{version_id:int}/signed-urls", responses=CAMPAIGN_RESPONSES)
async def signed_urls(
    version_id: VersionId,
    principal: CurrentPrincipal,
    assets: Assets,
    ttl_s: Annotated[int | None, Query(ge=10, le=7 * 24 * 3600)] = None,
) -> SignedUrls:
    """URLs of the version's content and variants that need no token until they expire:
    for <img> tags, downloads and a CDN (LOREKEEPER_ASSET_CDN_BASE_URL)."""
    v = await assets.call(principal, lambda s: s.version(version_id), version_id=version_id)
    ttl = ttl_s or assets.settings.asset_url_ttl_s
    now = time.time()
    base = assets.settings.asset_cdn_base_url or ""
    shas = {"content": v.sha256} | {x.name: x.sha256 for x in v.variants}
    return SignedUrls(
        expires_at=datetime.fromtimestamp(int(now + ttl), UTC),
        urls={
            name: sign(assets.url_secret, blob_path(sha), ttl, base, now)
            for name, sha in shas.items()
        },
    )


@router.get(
    "/blobs/{sha256}",
    response_class=Response,
    responses={
        **DOWNLOAD_RESPONSES,
        403: {"description": "`url_signature_missing`, `url_signature_invalid`, `url_expired`"},
        404: {"description": "`blob_not_found`: no asset uses these bytes any more"},
    },
)
async def signed_blob(
    sha256: str,
    request: Request,
    assets: Assets,
    exp: Annotated[int | None, Query(ge=0, le=2**40)] = None,
    sig: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Content-addressed bytes behind a signed URL (no token): immutable, so a CDN and
    browsers cache it until the signature expires."""
    verify(assets.url_secret, blob_path(sha256), exp, sig)
    found = None
    if is_sha256(sha256):
        found = await assets.runner.run(
            None, lambda b: AssetService.blob_content_type(b.session, sha256)
        )
    if found is None:
        raise NotFound("No such blob: it was deleted.", code="blob_not_found")
    try:
        size = await anyio.to_thread.run_sync(assets.blobs.size, sha256)
    except BlobMissing:
        raise blob_missing(sha256) from None
    left = max(0, (exp or 0) - int(time.time()))
    cache = IMMUTABLE.replace("max-age=31536000", f"max-age={left}")
    return await send_blob(request, assets.blobs, sha256, size, found, cache)
