"""What a transport does for the relay and the consumers; two implementations:
`DatabaseTransport` (default) and `RedisTransport`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from domain.events.envelope import Envelope
from domain.events.models import OutboxEvent


@dataclass
class Delivery:
    envelope: Envelope
    deliveries: int  # this one included
    handle: Any  # the transport's own reference (row id and lease, or stream and entry id)


@dataclass
class GroupStats:
    group: str
    lag: int  # events not yet handed to the group's consumers (published or not)
    pending: int  # handed to a consumer, not yet acknowledged
    retrying: int  # waiting for a redelivery after a failure (DB transport; Redis: in pending)
    dead: int


@dataclass
class DeadLetterOut:
    id: str
    group: str
    seq: int
    event_id: str
    type: str
    error: str
    deliveries: int
    created_at: datetime | None


class Transport(Protocol):
    name: str

    def ensure_group(self, group: str) -> None: ...

    def publish(self, session: Session, rows: Sequence[OutboxEvent]) -> None:
        """Hand the rows on; runs inside the relay's transaction, which then marks them
        published (so a failure here leaves them for the next round)."""

    def fetch(self, group: str, consumer: str, count: int) -> list[Delivery]:
        """Up to `count` deliveries, redeliveries that are due first, then high priority,
        then normal, then replayed/redriven ones."""
        ...

    def ack_in(self, session: Session, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge inside the handlers' transaction, where the transport can."""

    def acked(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge after the handlers' transaction committed (idempotent)."""

    def retry(self, delivery: Delivery, error: str, *, counted: bool = True) -> None:
        """Redeliver later; `counted=False` gives the delivery back (an outage downstream,
        a write conflict) without spending one of its deliveries."""

    def dead_letter(self, delivery: Delivery, error: str) -> None: ...

    def stats(self, group: str) -> GroupStats:
        """The group's queue in this transport (the hub adds the relay's backlog to lag)."""
        ...

    def dead_letters(self, group: str, limit: int = 100) -> list[DeadLetterOut]: ...

    def redrive(self, group: str, ids: Sequence[str] | None = None) -> int:
        """Deliver dead letters (all, or `ids`) to the group again; returns how many."""
        ...

    def replay(self, group: str, envelopes: Sequence[Envelope]) -> int:
        """Deliver logged events to one group again (it skips those it applied before)."""
        ...


RANK = {"high": 0, "normal": 1}
REPLAY_RANK = 2
