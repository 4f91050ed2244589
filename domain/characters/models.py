from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, JSONDoc, utcnow


class Character(Base):
    """The current state of a character; every state it had is a `CharacterVersion`."""

    __tablename__ = "characters"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    ruleset: Mapped[str] = mapped_column(String(4))
    version: Mapped[int]  # number of the newest CharacterVersion
    document: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CharacterVersion(Base):
    """Immutable: written once, never updated."""

    __tablename__ = "character_versions"
    __table_args__ = (UniqueConstraint("character_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    character_id: Mapped[int] = mapped_column(ForeignKey("characters.id", ondelete="CASCADE"))
    number: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    diff: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class XpAward(Base):
    __tablename__ = "xp_awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    character_id: Mapped[int] = mapped_column(
        ForeignKey("characters.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # "xp" or "milestone"
    amount: Mapped[int]  # XP added (0 for a milestone)
    reason: Mapped[str] = mapped_column(String(500))
    level_before: Mapped[int]
    level_after: Mapped[int]
    version: Mapped[int]  # the character version this award produced
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CharacterLink(Base):
    """An Antitheticon identity link: a character and its mirrored counterpart."""

    __tablename__ = "character_links"
    __table_args__ = (UniqueConstraint("character_id", "counterpart_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    character_id: Mapped[int] = mapped_column(
        ForeignKey("characters.id", ondelete="CASCADE"), index=True
    )
    counterpart_id: Mapped[int] = mapped_column(
        ForeignKey("characters.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="antitheticon")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
