from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
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


# --- the hub's own state: delivery queue (database transport), dedupe, dead letters, registry


class EventDelivery(Base):
    """One event waiting for one consumer group (the database transport's queue).

    A consumer leases rows (`lease_owner`, `leased_until`); the handler's effect, its
    `ProcessedEvent` and the deletion of this row commit together. A lease that runs out
    (the consumer died) makes the row claimable again.
    """

    __tablename__ = "event_deliveries"
    __table_args__ = (
        UniqueConstraint("group", "event_seq"),
        Index("ix_event_deliveries_claim", "group", "rank", "event_seq"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    group: Mapped[str] = mapped_column(String(60))
    event_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("event_outbox.seq", ondelete="CASCADE"),
    )
    rank: Mapped[int]  # 0 high, 1 normal, 2 replayed or redriven (drained last)
    deliveries: Mapped[int] = mapped_column(default=0)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    leased_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedEvent(Base):
    """An event a consumer group has applied: written in the handler's transaction, so a
    redelivered or replayed event is skipped (handlers are idempotent by event id)."""

    __tablename__ = "event_processed"

    group: Mapped[str] = mapped_column(String(60), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeadLetter(Base):
    """An event a group gave up on after its deliveries ran out (database transport)."""

    __tablename__ = "event_dead_letters"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    group: Mapped[str] = mapped_column(String(60), index=True)
    event_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("event_outbox.seq", ondelete="CASCADE"),
    )
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    type: Mapped[str] = mapped_column(String(80))
    error: Mapped[str] = mapped_column(Text)
    deliveries: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventConsumer(Base):
    """A running relay or consumer: it upserts its row every few seconds (the registry)."""

    __tablename__ = "event_consumers"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    group: Mapped[str] = mapped_column(String(60))  # "relay" for a relay
    role: Mapped[str] = mapped_column(String(10))  # relay or consumer
    transport: Mapped[str] = mapped_column(String(10))
    host: Mapped[str] = mapped_column(String(120))
    pid: Mapped[int]
    breaker: Mapped[str] = mapped_column(String(10))  # closed, open, half_open
    processed: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    failed: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
