"""The registry of running relays and consumers: each upserts its row every heartbeat; a row
whose heartbeat is older than three intervals is shown as not alive."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy import delete, select

from cluster.database import Database
from domain.db import utcnow
from domain.events.models import EventConsumer


class Runner(Protocol):
    name: str
    role: str
    processed: int
    failed: int

    @property
    def group_name(self) -> str: ...

    @property
    def breaker_state(self) -> str: ...


class ConsumerOut(BaseModel):
    name: str
    group: str
    role: str
    transport: str
    host: str
    pid: int
    breaker: str
    processed: int
    failed: int
    started_at: datetime
    heartbeat_at: datetime
    alive: bool


def heartbeat(db: Database, runners: Sequence[Runner], transport: str, pid: int) -> None:
    now = utcnow()
    host = socket.gethostname()[:120]
    with db.session() as session:
        for runner in runners:
            row = session.get(EventConsumer, runner.name)
            if row is None:
                row = EventConsumer(name=runner.name, started_at=now)
                session.add(row)
            row.group = runner.group_name
            row.role = runner.role
            row.transport = transport
            row.host = host
            row.pid = pid
            row.breaker = runner.breaker_state
            row.processed = runner.processed
            row.failed = runner.failed
            row.heartbeat_at = now


def deregister(db: Database, names: Sequence[str]) -> None:
    with db.session() as session:
        session.execute(delete(EventConsumer).where(EventConsumer.name.in_(names)))


def consumers(db: Database, heartbeat_s: float, forget_after_s: float = 3600) -> list[ConsumerOut]:
    """Every runner heard from in the last hour (older rows are removed)."""
    now = utcnow()
    with db.session() as session:
        session.execute(
            delete(EventConsumer).where(
                EventConsumer.heartbeat_at < now - timedelta(seconds=forget_after_s)
            )
        )
        rows = session.scalars(
            select(EventConsumer).order_by(EventConsumer.group, EventConsumer.name)
        )
        alive_since = now - timedelta(seconds=3 * heartbeat_s)
        return [
            ConsumerOut.model_validate({**_columns(r), "alive": r.heartbeat_at >= alive_since})
            for r in rows
        ]


def _columns(row: EventConsumer) -> dict[str, object]:
    return {c.key: getattr(row, c.key) for c in EventConsumer.__table__.columns}
