"""The transactional outbox: `record` adds an event to the caller's session, so it commits
or rolls back with the change it reports. Never publish from domain code directly."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.events.models import OutboxEvent
from domain.events.schemas import Event


def record(session: Session, event: Event) -> OutboxEvent:
    row = OutboxEvent(
        id=event.id,
        type=event.type,
        version=event.version,
        priority=event.priority,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        campaign_id=event.campaign_id,
        character_id=event.character_id,
        visibility=event.visibility,
        payload=event.payload(),
    )
    session.add(row)
    return row


def read_after(
    session: Session, campaign_id: int, after_seq: int = 0, limit: int = 100
) -> list[OutboxEvent]:
    """A campaign's events in order, after `after_seq` (the SSE stream's Last-Event-ID)."""
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.campaign_id == campaign_id, OutboxEvent.seq > after_seq)
        .order_by(OutboxEvent.seq)
        .limit(limit)
    )
    return list(session.scalars(stmt))
