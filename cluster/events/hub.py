"""The event hub of one process: its transport, relay and consumers, their threads and
heartbeats, and the operations (status, dead letters, redrive, replay).

Serve's `events` application and `lorekeeper events worker` run one each. Tests call
`drain()` to deliver everything that is due, in the calling thread.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select

from cluster.database import Database
from cluster.events import registry
from cluster.events.config import HubSettings
from cluster.events.consumer import Consumer
from cluster.events.db_transport import DatabaseTransport
from cluster.events.groups import GROUPS, find
from cluster.events.redis_transport import RedisTransport
from cluster.events.relay import Relay
from cluster.events.transport import DeadLetterOut, Transport
from cluster.logs import get_logger
from cluster.settings import Settings
from domain.errors import InvalidRequest
from domain.events.envelope import Envelope
from domain.events.handlers import ConsumerGroup
from domain.events.models import OutboxEvent

log = get_logger("events.hub")


class GroupStatus(BaseModel):
    group: str
    transport: str
    lag: int  # events the group has not received yet, the relay's backlog included
    pending: int  # received by a consumer and not acknowledged
    retrying: int  # failed, waiting for their redelivery
    dead: int
    consumers_alive: int


def make_transport(
    db: Database, settings: Settings, hub: HubSettings, groups: Sequence[ConsumerGroup]
) -> Transport:
    if settings.redis_url:
        return RedisTransport(settings.redis_url, hub)
    return DatabaseTransport(db, {g.name: frozenset(g.handlers) for g in groups}, hub)


class EventHub:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        hub: HubSettings | None = None,
        groups: Sequence[ConsumerGroup] = GROUPS,
        transport: Transport | None = None,
    ):
        self.db = db
        self.hub = hub or HubSettings()
        self.groups = tuple(groups)
        self.transport = transport or make_transport(db, settings, self.hub, self.groups)
        for group in self.groups:
            self.transport.ensure_group(group.name)
        self.relay = Relay(db, self.transport, self.hub)
        self.consumers = [Consumer(db, self.transport, g, self.hub) for g in self.groups]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: list[Relay | Consumer] = []

    # --- running -----------------------------------------------------------------------------

    def start(self, relay: bool = True, consumers: bool = True) -> None:
        self._stop.clear()
        self._running = [
            *([self.relay] if relay else []),
            *(self.consumers if consumers else []),
        ]
        for runner in self._running:
            self._thread(runner.name, runner.run)
        self._thread("events-heartbeat", self._heartbeats)
        log.info(
            "event hub started",
            extra={"transport": self.transport.name, "runners": [r.name for r in self._running]},
        )

    def _thread(self, name: str, target: Callable[[threading.Event], None]) -> None:
        thread = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _heartbeats(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                registry.heartbeat(self.db, self._running, self.transport.name, os.getpid())
            except Exception:
                log.exception("heartbeat failed")
            stop.wait(self.hub.heartbeat_s)

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        try:
            registry.deregister(self.db, [r.name for r in self._running])
        except Exception:
            log.exception("could not deregister")

    def drain(self, rounds: int = 1000) -> int:
        """Publish and handle until nothing is due (retries waiting for their backoff stay);
        the number of deliveries handled. For tests and the CLI."""
        handled = 0
        for _ in range(rounds):
            moved = self.relay.publish_once()
            for consumer in self.consumers:
                taken = consumer.poll_once()
                moved += taken
                handled += taken
            if not moved:
                return handled
        return handled

    # --- operations ------------------------------------------------------------------------

    def status(self) -> list[GroupStatus]:
        alive: dict[str, int] = {}
        for runner in registry.consumers(self.db, self.hub.heartbeat_s):
            alive[runner.group] = alive.get(runner.group, 0) + runner.alive
        out = []
        for group in self.groups:
            stats = self.transport.stats(group.name)
            out.append(
                GroupStatus(
                    group=group.name,
                    transport=self.transport.name,
                    lag=stats.lag + self._unpublished(group),
                    pending=stats.pending,
                    retrying=stats.retrying,
                    dead=stats.dead,
                    consumers_alive=alive.get(group.name, 0),
                )
            )
        return out

    def _unpublished(self, group: ConsumerGroup) -> int:
        with self.db.session() as session:
            return (
                session.scalar(
                    select(func.count()).where(
                        OutboxEvent.published_at.is_(None),
                        OutboxEvent.type.in_(list(group.handlers)),
                    )
                )
                or 0
            )

    def dead_letters(self, group: str, limit: int = 100) -> list[DeadLetterOut]:
        return self.transport.dead_letters(find(group, self.groups).name, limit)

    def redrive(self, group: str, ids: Sequence[str] | None = None) -> int:
        return self.transport.redrive(find(group, self.groups).name, ids)

    def replay(self, group: str, start: str, chunk: int = 1000) -> int:
        """Deliver the logged events from `start` (an outbox seq, an event id or an ISO time)
        to `group` again. Events it applied before are skipped by its dedupe, so a replay
        fills in what the group missed (trimmed from Redis, or from before it existed)."""
        target = find(group, self.groups)
        after = self._seq_before(start)
        total = 0
        while True:
            with self.db.session() as session:
                rows = list(
                    session.scalars(
                        select(OutboxEvent)
                        .where(
                            OutboxEvent.seq > after,
                            OutboxEvent.published_at.is_not(None),
                            OutboxEvent.type.in_(list(target.handlers)),
                        )
                        .order_by(OutboxEvent.seq)
                        .limit(chunk)
                    )
                )
                envelopes = [Envelope.from_row(r) for r in rows]
            if not envelopes:
                return total
            total += self.transport.replay(target.name, envelopes)
            after = envelopes[-1].seq

    def _seq_before(self, start: str) -> int:
        """The seq just before the first event to replay."""
        text = start.strip()
        if text.isdigit():
            return int(text) - 1
        with self.db.session() as session:
            try:
                event_id = uuid.UUID(text)
            except ValueError:
                pass
            else:
                seq = session.scalar(select(OutboxEvent.seq).where(OutboxEvent.id == event_id))
                if seq is None:
                    raise InvalidRequest(f"No logged event has the id {text}.", code="bad_start")
                return seq - 1
            try:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise InvalidRequest(
                    f"--from {text!r}: give an event seq (42), an event id (a UUID) or an ISO "
                    "time (2026-11-26T17:00:00Z).",
                    code="bad_start",
                ) from None
            first = session.scalar(
                select(func.min(OutboxEvent.seq)).where(OutboxEvent.occurred_at >= when)
            )
            return (first - 1) if first is not None else 2**62
