"""Consumer groups and their handlers, and the idempotent apply every transport calls.

A handler is plain domain code: `handle(session, event)` in the caller's transaction. The
transports (cluster/events) only decide when it runs; deduplication by event id happens
here, in the same transaction as the handler's effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

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


def already_applied(session: Session, group: str, envelope: Envelope) -> bool:
    return session.get(ProcessedEvent, (group, envelope.id)) is not None


def apply(session: Session, group: ConsumerGroup, envelope: Envelope) -> bool:
    """Run the group's handler for the event unless the group applied it before; False if
    skipped. The `ProcessedEvent` row is flushed last: a concurrent delivery of the same event
    that got there first makes it raise IntegrityError, and the caller rolls back."""
    handler = group.handlers.get(envelope.type)
    if handler is None or already_applied(session, group.name, envelope):
        return False
    handler.handle(session, envelope.to_event(handler.event_type))
    session.add(ProcessedEvent(group=group.name, event_id=envelope.id))
    session.flush()
    return True
