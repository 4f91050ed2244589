from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, JSONDoc, utcnow


class GenerationRecord(Base):
    """One output of the model, immutable. Regenerations and restores are new rows of the
    same lineage (`root_id`, numbered by `version`), each linked to its `parent`."""

    __tablename__ = "generations"
    __table_args__ = (
        Index("ix_generations_user_created", "user_id", "created_at"),
        Index("ix_generations_campaign_created", "campaign_id", "created_at"),
        Index("ix_generations_root_version", "root_id", "version", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    root_id: Mapped[int | None]  # the lineage's first output (its own id for that one)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("generations.id"))
    version: Mapped[int]
    restored_from: Mapped[int | None] = mapped_column(ForeignKey("generations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Campaign records live in the campaigns service: ids only, no foreign keys.
    campaign_id: Mapped[int | None]
    chapter_id: Mapped[int | None]
    character_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(30))
    prompt: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    # The sampling parameters and the request that made it (what a regeneration repeats).
    params: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    prompt_tokens: Mapped[int]
    completion_tokens: Mapped[int]
    output: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignTokenQuota(Base):
    """A campaign's own daily token budget, set by one of its DMs. No row: the config's
    default (`campaign_tokens_per_day`) alone applies."""

    __tablename__ = "generation_campaign_quotas"

    # Campaign records live in the campaigns service: its id only, no foreign key.
    campaign_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tokens_per_day: Mapped[int]
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
