from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, JSONDoc, utcnow


class OutboxEvent(Base):
    """An event, written in the transaction of the change it reports; the relay publishes it.

    Rows are kept after publication: the table is also the durable, ordered event log that
    replay and the SSE stream's `Last-Event-ID` resume read (`seq` is that order).
    """

    __tablename__ = "event_outbox"
    __table_args__ = (
        Index("ix_event_outbox_unpublished", "published_at", "seq"),
        Index("ix_event_outbox_campaign_seq", "campaign_id", "seq"),
    )

    # SQLite autoincrements an INTEGER primary key only.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    type: Mapped[str] = mapped_column(String(80))
    version: Mapped[int]
    priority: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime]
    actor_id: Mapped[int | None]
    campaign_id: Mapped[int | None]
    character_id: Mapped[int | None] = mapped_column(index=True)
    visibility: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
