from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, JSONDoc, utcnow


class HomebrewContent(Base):
    """One homebrew entry. Deleting keeps the row (`deleted_at`), so characters that still
    name it can be told so; registering the slug again brings the row back."""

    __tablename__ = "homebrew"
    __table_args__ = (UniqueConstraint("ruleset", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ruleset: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(20))
    slug: Mapped[str] = mapped_column(String(80))
    # Who may use it: "global" (every character); "campaign:<id>" once campaigns exist.
    scope: Mapped[str] = mapped_column(String(40), default="global")
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Raised by every change, so the sum over a ruleset names one state of its homebrew.
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
