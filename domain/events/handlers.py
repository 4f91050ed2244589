"""Consumer groups and their handlers, and the dedupe by event id every transport uses.

A handler is plain domain code: `handle(session, event)` in the caller's transaction. The
transports (cluster/events) only decide when it runs; deduplication by event id happens
here (`applied`, `mark_applied`), in the same transaction as the handler's effect. A consumer
checks a whole batch with one query and records it with one INSERT.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from domain.db import utcnow
from domain.events.envelope import Envelope
from domain.events.models import ProcessedEvent
from domain.events.schemas import Event

HandlerFn = Callable[[Session, Any], None]


@dataclass(frozen=True)
class Handler:
    event_type: type[Event]
    handle: HandlerFn


@dataclass(frozen=True)
class ConsumerGroup:
    """A named subscriber: every group receives each event of the types it handles once."""

    name: str
    handlers: dict[str, Handler] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, *handlers: Handler) -> ConsumerGroup:
        return cls(name, {h.event_type.type: h for h in handlers})

    def handles(self, event_type: str) -> bool:
        return event_type in self.handlers


def applied(session: Session, group: str, event_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the events the group applied before: one query for a consumer's batch."""
    if not event_ids:
        return set()
    return set(
        session.scalars(
            select(ProcessedEvent.event_id).where(
                ProcessedEvent.group == group, ProcessedEvent.event_id.in_(list(event_ids))
            )
        )
    )


def run(session: Session, group: ConsumerGroup, envelope: Envelope) -> bool:
    """The group's handler for the event, in the caller's transaction; False if it has none.
    The caller checked `applied` before and calls `mark_applied` in the same transaction."""
    handler = group.handlers.get(envelope.type)
    if handler is None:
        return False
    handler.handle(session, envelope.to_event(handler.event_type))
    return True


def mark_applied(session: Session, group: str, event_ids: Collection[uuid.UUID]) -> None:
    """Record the events as applied (one INSERT). A concurrent delivery of one of them that
    committed first makes it raise IntegrityError: the caller rolls back all of it."""
    if event_ids:
        session.execute(
            insert(ProcessedEvent),
            [{"group": group, "event_id": i, "processed_at": utcnow()} for i in event_ids],
        )
