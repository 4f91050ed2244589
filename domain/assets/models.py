"""Asset tables. Bytes live in the blob store; rows name them by sha256."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, JSONDoc, utcnow


class Asset(Base):
    """One picture or file of a campaign (or of a user, without one); its content is in its
    versions."""

    __tablename__ = "assets"
    __table_args__ = (Index("ix_assets_campaign_kind", "campaign_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[int | None]
    visibility: Mapped[str] = mapped_column(String(30))
    # Plain numbers, no foreign keys (as campaign_id): an asset archive restores on its own.
    creator_id: Mapped[int] = mapped_column(index=True)
    version_count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssetVersion(Base):
    """Immutable: written once. A modification is a new version naming its parent."""

    __tablename__ = "asset_versions"
    __table_args__ = (UniqueConstraint("asset_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    number: Mapped[int]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("asset_versions.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    meta: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    cache_key: Mapped[str | None] = mapped_column(String(128), index=True)
    creator_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlobVariant(Base):
    """A rendition of a blob (thumbnail, WebP, AVIF), made once per source blob."""

    __tablename__ = "blob_variants"

    source_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
