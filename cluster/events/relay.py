"""The outbox relay: publishes committed outbox rows, oldest first, and marks them.

It picks rows by `published_at IS NULL`, not by a position, so a transaction that took a
lower `seq` but committed later is still published. On PostgreSQL rows are locked with
SKIP LOCKED, so several relays share the work.
"""

from __future__ import annotations

import threading

from sqlalchemy import select, update

from cluster.database import Database
from cluster.events.config import HubSettings
from cluster.events.consumer import runner_name
from cluster.events.transport import Transport
from cluster.logs import get_logger
from domain.db import utcnow
from domain.events.models import OutboxEvent

log = get_logger("events.relay")


class Relay:
    role = "relay"

    def __init__(self, db: Database, transport: Transport, hub: HubSettings):
        self.db = db
        self.transport = transport
        self.hub = hub
        self.name = runner_name("relay")
        self.processed = 0
        self.failed = 0
        self._skip_locked = db.engine.dialect.name == "postgresql"

    group_name = "relay"
    breaker_state = "closed"

    def publish_once(self) -> int:
        query = (
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.seq)
            .limit(self.hub.batch)
        )
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True)
        with self.db.session() as session:
            rows = list(session.scalars(query))
            if not rows:
                return 0
            # A crash after this line and before the commit publishes the rows again (Redis):
            # consumers drop the repeat by event id.
            self.transport.publish(session, rows)
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.seq.in_([r.seq for r in rows]))
                .values(published_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        self.processed += len(rows)
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                published = self.publish_once()
            except Exception:
                self.failed += 1
                log.exception("relay round failed; retrying")
                stop.wait(1)
                continue
            if published < self.hub.batch:
                stop.wait(self.hub.poll_ms / 1000)
