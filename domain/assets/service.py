"""The asset service: the one write path for assets and the one read path that applies
campaign visibility.

Invariants: bytes are stored once (content-addressed) and written before the rows that name
them, so a row never names a missing blob; a failed transaction leaves at most an
unreferenced blob, which GC removes. Versions are immutable. An asset of a campaign is seen
by the campaign's members as its visibility allows; one without a campaign only by its
creator. An asset the caller may not see answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.assets import variants
from domain.assets.blobs import BlobStore, sha256_hex
from domain.assets.errors import TooLarge
from domain.assets.models import Asset, AssetVersion, BlobVariant
from domain.assets.schemas import (
    AssetLimits,
    AssetMeta,
    AssetOut,
    AssetPage,
    AssetVersionOut,
    UsageOut,
    VariantOut,
)
from domain.assets.uploads import Moderation, check_upload
from domain.campaigns.access import CampaignAccess
from domain.errors import Forbidden, InvalidRequest, NotFound
from domain.users.schemas import Principal

# Where the assets application serves what AssetVersionOut.urls name.
API_PREFIX = "/api/v2/assets"
VARIANT_NAMES = ("thumbnail", "webp", "avif")


def content_path(version_id: int) -> str:
    return f"{API_PREFIX}/versions/{version_id}/content"


def variant_path(version_id: int, name: str) -> str:
    return f"{API_PREFIX}/versions/{version_id}/variants/{name}"


def blob_path(sha: str) -> str:
    return f"{API_PREFIX}/blobs/{sha}"


class AssetService:
    """`access`: the caller's standing in the campaign the call concerns (None: no campaign,
    or not a member). Callers look it up first (CampaignCalls.access)."""

    def __init__(
        self,
        session: Session,
        principal: Principal,
        blobs: BlobStore,
        access: CampaignAccess | None = None,
        *,
        limits: AssetLimits | None = None,
        moderation: Moderation | None = None,
    ):
        self.session = session
        self.principal = principal
        self.blobs = blobs
        self.access = access
        self.limits = limits or AssetLimits()
        self.moderation = moderation

    # --- writing --------------------------------------------------------------------------

    def add(
        self,
        data: bytes,
        content_type: str,
        meta: AssetMeta,
        parent_version_id: int | None = None,
    ) -> AssetVersionOut:
        """A new asset, or with `parent_version_id` a new version of that version's asset."""
        if parent_version_id is None:
            self._check_may_add(meta)
            asset = Asset(
                kind=meta.kind,
                campaign_id=meta.campaign_id,
                visibility=meta.visibility,
                creator_id=self.principal.user_id,
                version_count=0,
            )
            self.session.add(asset)
            self.session.flush()
            parent = None
        else:
            parent = self._visible_version(parent_version_id)
            asset = self.session.get_one(Asset, parent.asset_id)
            self._check_may_change(asset)
            if meta.campaign_id not in (None, asset.campaign_id):
                raise InvalidRequest(
                    "A new version stays in its asset's campaign; leave campaign_id out or "
                    f"set it to {asset.campaign_id}.",
                    code="asset_campaign_mismatch",
                )
            meta = meta.model_copy(
                update={"campaign_id": asset.campaign_id, "visibility": asset.visibility}
            )
        self._check_quota(asset.campaign_id, data)
        sha = self.blobs.put(data)  # before the rows: a row never names a missing blob
        number = self._next_number(asset)
        version = AssetVersion(
            asset_id=asset.id,
            number=number,
            parent_id=parent.id if parent else None,
            sha256=sha,
            size=len(data),
            content_type=content_type,
            meta=meta.model_dump(mode="json"),
            cache_key=meta.cache_key,
            creator_id=self.principal.user_id,
        )
        self.session.add(version)
        self.session.flush()
        if content_type.startswith("image/"):
            self.optimise(sha)
        return self._version_out(version)

    def upload(
        self, data: bytes, meta: AssetMeta, parent_version_id: int | None = None
    ) -> AssetVersionOut:
        """A file someone sends: it must decode as an image within the limits and pass
        moderation; its content type is what it decodes as."""
        checked = check_upload(data, meta, self.limits, self.moderation)
        meta = meta.model_copy(update={"width": checked.width, "height": checked.height})
        return self.add(data, checked.content_type, meta, parent_version_id)

    def optimise(self, sha: str) -> list[VariantOut]:
        """The blob's thumbnail and WebP/AVIF renditions, made the first time only."""
        have = self.session.scalars(
            select(BlobVariant).where(BlobVariant.source_sha256 == sha)
        ).all()
        if not have:
            made = variants.renditions(self.blobs.get(sha))
            for r in made:
                row = BlobVariant(
                    source_sha256=sha,
                    name=r.name,
                    sha256=self.blobs.put(r.data),
                    size=len(r.data),
                    content_type=r.content_type,
                    width=r.width,
                    height=r.height,
                )
                try:  # another replica may be making the same ones
                    with self.session.begin_nested():
                        self.session.add(row)
                except IntegrityError:
                    continue
            have = self.session.scalars(
                select(BlobVariant).where(BlobVariant.source_sha256 == sha)
            ).all()
        return [_variant_out(v) for v in have]

    def delete(self, asset_id: int) -> None:
        """Removes the asset and its versions; their blobs go at the next GC if nothing
        else names them."""
        asset = self._visible_asset(asset_id)
        self._check_may_change(asset)
        self.session.execute(delete(AssetVersion).where(AssetVersion.asset_id == asset.id))
        self.session.delete(asset)

    # --- reading --------------------------------------------------------------------------

    def get(self, asset_id: int) -> AssetOut:
        asset = self._visible_asset(asset_id)
        latest = self.session.scalars(
            select(AssetVersion)
            .where(AssetVersion.asset_id == asset.id)
            .order_by(AssetVersion.number.desc())
            .limit(1)
        ).one()
        return self._asset_out(asset, latest)

    def version(self, version_id: int) -> AssetVersionOut:
        return self._version_out(self._visible_version(version_id))

    def versions(self, asset_id: int) -> list[AssetVersionOut]:
        asset = self._visible_asset(asset_id)
        rows = self.session.scalars(
            select(AssetVersion)
            .where(AssetVersion.asset_id == asset.id)
            .order_by(AssetVersion.number)
        ).all()
        return [self._version_out(v) for v in rows]

    def variant(self, version_id: int, name: str) -> VariantOut:
        version = self._visible_version(version_id)
        row = self.session.get(BlobVariant, (version.sha256, name))
        if row is None:
            raise NotFound(
                f"Version {version_id} has no {name!r} variant (only images get variants; "
                "AVIF only where this server's Pillow encodes it).",
                code="variant_not_found",
            )
        return _variant_out(row)

    def list(
        self,
        campaign_id: int | None,
        kind: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> AssetPage:
        """The campaign's assets the caller may see; without a campaign, the caller's own
        private ones. Newest first."""
        query = select(Asset).where(*self._visible_in(campaign_id))
        if kind is not None:
            query = query.where(Asset.kind == kind)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        assets = self.session.scalars(
            query.order_by(Asset.id.desc()).limit(limit).offset(offset)
        ).all()
        latest = self._latest_versions([a.id for a in assets])
        return AssetPage(items=[self._asset_out(a, latest[a.id]) for a in assets], total=total)

    def find_cached(self, cache_key: str) -> AssetVersionOut | None:
        """The newest version made with `cache_key` that the caller may see, in the campaign
        of `access` (or among the caller's private assets)."""
        campaign_id = self.access.campaign_id if self.access else None
        version = self.session.scalars(
            select(AssetVersion)
            .join(Asset, Asset.id == AssetVersion.asset_id)
            .where(AssetVersion.cache_key == cache_key, *self._visible_in(campaign_id))
            .order_by(AssetVersion.id.desc())
            .limit(1)
        ).first()
        return self._version_out(version) if version else None

    def usage(self, campaign_id: int | None) -> UsageOut:
        if campaign_id is not None:
            self._member(campaign_id)
        used, assets, versions = self._usage(campaign_id)
        return UsageOut(
            campaign_id=campaign_id,
            bytes=used,
            quota_bytes=self.limits.quota_bytes,
            assets=assets,
            versions=versions,
        )

    @staticmethod
    def campaign_of(
        session: Session, *, asset_id: int | None = None, version_id: int | None = None
    ) -> int | None:
        """The campaign an asset or version belongs to, unchecked: what the caller needs to
        look up `access` before building the service. None: none, or no such row."""
        if version_id is not None:
            return session.scalar(
                select(Asset.campaign_id)
                .join(AssetVersion, AssetVersion.asset_id == Asset.id)
                .where(AssetVersion.id == version_id)
            )
        return session.scalar(select(Asset.campaign_id).where(Asset.id == asset_id))

    @staticmethod
    def blob_content_type(session: Session, sha: str) -> str | None:
        """The content type a version or variant stores `sha` as; None if nothing names it
        (signed blob URLs carry no asset id, only the signature)."""
        found = session.scalar(
            select(AssetVersion.content_type).where(AssetVersion.sha256 == sha).limit(1)
        )
        return found or session.scalar(
            select(BlobVariant.content_type).where(BlobVariant.sha256 == sha).limit(1)
        )

    # --- checks ---------------------------------------------------------------------------

    def _member(self, campaign_id: int) -> CampaignAccess:
        if self.access is None or self.access.campaign_id != campaign_id:
            raise NotFound(f"No campaign {campaign_id} of yours.", code="campaign_not_found")
        return self.access

    def _check_may_add(self, meta: AssetMeta) -> None:
        if meta.campaign_id is None:
            return
        access = self._member(meta.campaign_id)
        if not access.is_dm and meta.visibility not in access.visible():
            raise Forbidden(
                f"Players add assets that they can see themselves ({', '.join(access.visible())}"
                f"); {meta.visibility!r} is for the DMs to set.",
                code="visibility_not_allowed",
            )

    def _check_may_change(self, asset: Asset) -> None:
        if asset.creator_id == self.principal.user_id:
            return
        if self.access is not None and self.access.is_dm:
            return  # _visible_asset already matched the campaign
        raise Forbidden(
            "Only the asset's creator or the campaign's DMs change or delete it.",
            code="asset_not_yours",
        )

    def _check_quota(self, campaign_id: int | None, data: bytes) -> None:
        used, _, _ = self._usage(campaign_id)
        if self.session.scalar(
            select(AssetVersion.id)
            .join(Asset, Asset.id == AssetVersion.asset_id)
            .where(AssetVersion.sha256 == sha256_hex(data), self._scope(campaign_id))
            .limit(1)
        ):
            return  # the campaign holds these bytes already: they take no more space
        if used + len(data) > self.limits.quota_bytes:
            where = f"campaign {campaign_id}" if campaign_id else "your private assets"
            raise TooLarge(
                f"This would take {where} to {used + len(data)} bytes, over its quota of "
                f"{self.limits.quota_bytes}. Delete assets (then run GC) or raise "
                "LOREKEEPER_ASSET_QUOTA_BYTES.",
                code="quota_exceeded",
                used_bytes=used,
                quota_bytes=self.limits.quota_bytes,
            )

    def _usage(self, campaign_id: int | None) -> tuple[int, int, int]:
        """(bytes of distinct blobs, assets, versions) of a campaign or the caller's own."""
        scope = self._scope(campaign_id)
        blobs = (
            select(AssetVersion.sha256, func.max(AssetVersion.size).label("size"))
            .join(Asset, Asset.id == AssetVersion.asset_id)
            .where(scope)
            .group_by(AssetVersion.sha256)
            .subquery()
        )
        used = self.session.scalar(select(func.coalesce(func.sum(blobs.c.size), 0))) or 0
        assets = self.session.scalar(select(func.count()).where(scope)) or 0
        versions = (
            self.session.scalar(
                select(func.count())
                .select_from(AssetVersion)
                .join(Asset, Asset.id == AssetVersion.asset_id)
                .where(scope)
            )
            or 0
        )
        return int(used), assets, versions

    def _scope(self, campaign_id: int | None) -> Any:
        """The assets a quota counts: a campaign's, or the caller's private ones."""
        if campaign_id is not None:
            return Asset.campaign_id == campaign_id
        return Asset.campaign_id.is_(None) & (Asset.creator_id == self.principal.user_id)

    def _visible_in(self, campaign_id: int | None) -> list[Any]:
        if campaign_id is None:
            return [Asset.campaign_id.is_(None), Asset.creator_id == self.principal.user_id]
        access = self._member(campaign_id)
        where: list[Any] = [Asset.campaign_id == campaign_id]
        if not access.is_dm:
            where.append(Asset.visibility.in_(access.visible()))
        return where

    def _can_see(self, asset: Asset) -> bool:
        if asset.campaign_id is None:
            return asset.creator_id == self.principal.user_id
        access = self.access
        return (
            access is not None
            and access.campaign_id == asset.campaign_id
            and access.can_see(asset.visibility)
        )

    def _visible_asset(self, asset_id: int) -> Asset:
        asset = self.session.get(Asset, asset_id)
        if asset is None or not self._can_see(asset):
            raise NotFound(f"No asset {asset_id} that you may see.", code="asset_not_found")
        return asset

    def _visible_version(self, version_id: int) -> AssetVersion:
        version = self.session.get(AssetVersion, version_id)
        if version is None:
            raise NotFound(
                f"No asset version {version_id} that you may see.", code="asset_not_found"
            )
        asset = self.session.get_one(Asset, version.asset_id)
        if not self._can_see(asset):
            raise NotFound(
                f"No asset version {version_id} that you may see.", code="asset_not_found"
            )
        return version

    def _next_number(self, asset: Asset) -> int:
        # Compare-and-set: of two writers adding a version at once, the second retries on
        # the number the first took (versions branch from any parent; none is refused).
        for _ in range(20):
            current = asset.version_count
            done = self.session.execute(
                update(Asset)
                .where(Asset.id == asset.id, Asset.version_count == current)
                .values(version_count=current + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            self.session.refresh(asset)
            if done:
                return current + 1
        raise RuntimeError(f"asset {asset.id}: version number contended 20 times")

    # --- shaping --------------------------------------------------------------------------

    def _latest_versions(self, asset_ids: list[int]) -> dict[int, AssetVersion]:
        if not asset_ids:
            return {}
        newest = (
            select(AssetVersion.asset_id, func.max(AssetVersion.number).label("n"))
            .where(AssetVersion.asset_id.in_(asset_ids))
            .group_by(AssetVersion.asset_id)
            .subquery()
        )
        rows = self.session.scalars(
            select(AssetVersion).join(
                newest,
                (AssetVersion.asset_id == newest.c.asset_id) & (AssetVersion.number == newest.c.n),
            )
        ).all()
        return {v.asset_id: v for v in rows}

    def _asset_out(self, asset: Asset, latest: AssetVersion) -> AssetOut:
        return AssetOut(
            id=asset.id,
            kind=asset.kind,  # type: ignore[arg-type]
            campaign_id=asset.campaign_id,
            visibility=asset.visibility,
            creator_id=asset.creator_id,
            created_at=asset.created_at,
            version_count=asset.version_count,
            latest=self._version_out(latest),
        )

    def _version_out(self, v: AssetVersion) -> AssetVersionOut:
        found = self.session.scalars(
            select(BlobVariant).where(BlobVariant.source_sha256 == v.sha256)
        ).all()
        urls = {"content": content_path(v.id)}
        urls |= {row.name: variant_path(v.id, row.name) for row in found}
        return AssetVersionOut(
            asset_id=v.asset_id,
            version_id=v.id,
            number=v.number,
            parent_version_id=v.parent_id,
            sha256=v.sha256,
            size=v.size,
            content_type=v.content_type,
            meta=AssetMeta.model_validate(v.meta),
            creator_id=v.creator_id,
            created_at=v.created_at,
            variants=[_variant_out(row) for row in found],
            urls=urls,
        )


def _variant_out(row: BlobVariant) -> VariantOut:
    return VariantOut(
        name=row.name,  # type: ignore[arg-type]
        sha256=row.sha256,
        size=row.size,
        content_type=row.content_type,
        width=row.width,
        height=row.height,
    )
