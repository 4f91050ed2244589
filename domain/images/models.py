"""Image tables: the job queue, campaign style presets, and the style embeddings' metadata
(the vectors themselves are in the vector store)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, JSONDoc, utcnow


class ImageJob(Base):
    """One generation or modification request. The queue lives here, so a replica killed
    mid-job loses nothing: its lease runs out and another replica takes the job again."""

    __tablename__ = "image_jobs"
    __table_args__ = (Index("ix_image_jobs_queue", "state", "priority", "not_before", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    operation: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12))
    priority: Mapped[int]  # 0 interactive, 1 batch: lower runs first
    # The resolved plan: specs, asset metadata, inputs (uploaded image, mask).
    request: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    result: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    step: Mapped[int]
    steps: Mapped[int]
    attempts: Mapped[int]
    max_attempts: Mapped[int]
    not_before: Mapped[datetime]  # retries wait out their backoff
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_expires: Mapped[datetime | None]
    cancel_requested: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StylePreset(Base):
    """A DM's style for one campaign: prompt template, negative prompt, sampler and so on."""

    __tablename__ = "image_style_presets"
    __table_args__ = (UniqueConstraint("campaign_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(index=True)
    slug: Mapped[str] = mapped_column(String(60))
    document: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StyleEmbedding(Base):
    """An image's style vector's record: its score when made, and its point in the vector
    store."""

    __tablename__ = "image_style_embeddings"

    version_id: Mapped[int] = mapped_column(primary_key=True)  # the asset version
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    style: Mapped[str] = mapped_column(String(100))
    embedder: Mapped[str] = mapped_column(String(40))
    score: Mapped[float]
    flagged: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StyleCentroid(Base):
    """The running sum of a campaign style's vectors: centroid = total / count."""

    __tablename__ = "image_style_centroids"

    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    style: Mapped[str] = mapped_column(String(100), primary_key=True)
    embedder: Mapped[str] = mapped_column(String(40))
    total: Mapped[list[float]] = mapped_column(JSONDoc)
    count: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
