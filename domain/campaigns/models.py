"""Campaign tables: the campaign document, its members, invitations, records and the
characters playing in it. Every record (chapter, NPC, location, session ...) lives in one
table, its body validated by its kind's schema (domain.campaigns.records)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, JSONDoc, utcnow


class Campaign(Base):
    """The current campaign document; every state it had is a `CampaignVersion`."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    ruleset: Mapped[str] = mapped_column(String(4))
    version: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignVersion(Base):
    """Immutable: written once, never updated."""

    __tablename__ = "campaign_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignMember(Base):
    __tablename__ = "campaign_members"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # owner, codm, player
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignInvitation(Base):
    """An invitation of one user, by id; accepting it makes them a member."""

    __tablename__ = "campaign_invitations"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    invited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignRecord(Base):
    """One piece of a campaign: chapter, plot, NPC, location, faction, relationship, note,
    in-world event, game session, player action, award or story impact."""

    __tablename__ = "campaign_records"
    __table_args__ = (
        Index("ix_campaign_records_campaign_kind", "campaign_id", "kind"),
        Index("ix_campaign_records_campaign_world", "campaign_id", "world_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))  # the body's name or title, for lists
    visibility: Mapped[str] = mapped_column(String(30))
    version: Mapped[int]
    body: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    position: Mapped[int | None]  # chapter order
    # In-world date as a sortable day number (domain.campaigns.calendar), when it has one.
    world_at: Mapped[int | None] = mapped_column(BigInteger)
    real_at: Mapped[datetime | None]  # a game session's real-world date
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignRecordVersion(Base):
    """Immutable: each write of a record, with the visibility it had then."""

    __tablename__ = "campaign_record_versions"
    __table_args__ = (UniqueConstraint("record_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_records.id", ondelete="CASCADE")
    )
    number: Mapped[int]
    visibility: Mapped[str] = mapped_column(String(30))
    body: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignRecordRef(Base):
    """What a record refers to ("record:<id>" or "character:<id>"): the timeline's location
    and faction filters and the relationship graph query these."""

    __tablename__ = "campaign_record_refs"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_records.id", ondelete="CASCADE"), primary_key=True
    )
    ref: Mapped[str] = mapped_column(String(30), primary_key=True, index=True)


class CampaignCharacter(Base):
    """A character playing in a campaign."""

    __tablename__ = "campaign_characters"
    __table_args__ = (UniqueConstraint("campaign_id", "character_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    character_id: Mapped[int] = mapped_column(
        ForeignKey("characters.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the character's owner
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
