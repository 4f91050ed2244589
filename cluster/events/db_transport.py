"""The default transport: a queue table in the application's own database.

The relay fans each outbox row out to one `EventDelivery` per consumer group that handles
its type, in the transaction that marks the row published. A consumer leases rows with one
UPDATE (SKIP LOCKED on PostgreSQL, so consumers never wait on each other), and deletes its
row in the handler's own transaction: on this transport an event is applied exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from cluster.database import Database
from cluster.events.config import HubSettings
from cluster.events.transport import (
    RANK,
    REPLAY_RANK,
    DeadLetterOut,
    Delivery,
    GroupStats,
)
from domain.db import utcnow
from domain.events.envelope import Envelope
from domain.events.models import DeadLetter, EventDelivery, OutboxEvent


class LeaseLost(RuntimeError):
    """The lease ran out and another consumer took the delivery: this one must roll back."""


class DatabaseTransport:
    name = "database"

    def __init__(self, db: Database, groups: Mapping[str, frozenset[str]], hub: HubSettings):
        self.db = db
        self.groups = groups  # group name -> the event types it handles
        self.hub = hub
        self._skip_locked = db.engine.dialect.name == "postgresql"

    def ensure_group(self, group: str) -> None:
        return None  # a group is just a name on its rows

    def publish(self, session: Session, rows: Sequence[OutboxEvent]) -> None:
        now = utcnow()
        values = [
            {
                "group": group,
                "event_seq": row.seq,
                "rank": RANK.get(row.priority, RANK["normal"]),
                "deliveries": 0,
                "available_at": now,
                "created_at": now,
            }
            for row in rows
            for group, types in self.groups.items()
            if row.type in types
        ]
        if values:
            session.execute(insert(EventDelivery), values)

    def fetch(self, group: str, consumer: str, count: int) -> list[Delivery]:
        now = utcnow()
        token = f"{consumer[:40]}:{uuid.uuid4().hex[:16]}"
        due = (
            select(EventDelivery.id)
            .where(
                EventDelivery.group == group,
                EventDelivery.available_at <= now,
                or_(EventDelivery.leased_until.is_(None), EventDelivery.leased_until < now),
            )
            .order_by(EventDelivery.rank, EventDelivery.event_seq)
            .limit(count)
        )
        if self._skip_locked:
            due = due.with_for_update(skip_locked=True)
        with self.db.session() as session:
            leased = session.execute(
                update(EventDelivery)
                .where(EventDelivery.id.in_(due))
                .values(
                    leased_until=now + timedelta(seconds=self.hub.lease_s),
                    lease_owner=token,
                    deliveries=EventDelivery.deliveries + 1,
                )
                .returning(
                    EventDelivery.id,
                    EventDelivery.event_seq,
                    EventDelivery.rank,
                    EventDelivery.deliveries,
                )
                .execution_options(synchronize_session=False)
            ).all()
            if not leased:
                return []
            events = session.scalars(
                select(OutboxEvent).where(OutboxEvent.seq.in_([r.event_seq for r in leased]))
            )
            by_seq = {row.seq: Envelope.from_row(row) for row in events}
        leased.sort(key=lambda r: (r.rank, r.event_seq))
        return [Delivery(by_seq[r.event_seq], r.deliveries, (r.id, token, group)) for r in leased]

    def ack_in(self, session: Session, deliveries: Sequence[Delivery]) -> None:
        """One DELETE for the batch (a fetch leases its rows under one token)."""
        by_token: dict[str, list[int]] = {}
        for delivery in deliveries:
            row_id, token, _ = delivery.handle
            by_token.setdefault(token, []).append(row_id)
        for token, ids in by_token.items():
            gone = session.execute(
                delete(EventDelivery).where(
                    EventDelivery.id.in_(ids), EventDelivery.lease_owner == token
                )
            ).rowcount
            if gone != len(ids):
                raise LeaseLost(
                    f"the lease on {len(ids) - gone} of deliveries {ids} ran out; another "
                    "consumer has them"
                )

    def acked(self, deliveries: Sequence[Delivery]) -> None:
        return None  # done in the handler's transaction

    def retry(self, delivery: Delivery, error: str, *, counted: bool = True) -> None:
        row_id, token, _ = delivery.handle
        spent = delivery.deliveries if counted else delivery.deliveries - 1
        with self.db.session() as session:
            session.execute(
                update(EventDelivery)
                .where(EventDelivery.id == row_id, EventDelivery.lease_owner == token)
                .values(
                    leased_until=None,
                    lease_owner=None,
                    deliveries=spent,
                    available_at=utcnow() + timedelta(seconds=self.hub.backoff_s(max(1, spent))),
                    last_error=error,
                )
            )

    def dead_letter(self, delivery: Delivery, error: str) -> None:
        row_id, token, group = delivery.handle
        env = delivery.envelope
        with self.db.session() as session:
            gone = session.execute(
                delete(EventDelivery).where(
                    EventDelivery.id == row_id, EventDelivery.lease_owner == token
                )
            ).rowcount
            if gone == 1:
                session.add(
                    DeadLetter(
                        group=group,
                        event_seq=env.seq,
                        event_id=env.id,
                        type=env.type,
                        error=error,
                        deliveries=delivery.deliveries,
                    )
                )

    def stats(self, group: str) -> GroupStats:
        now = utcnow()
        mine = EventDelivery.group == group
        with self.db.session() as session:
            queued = session.scalar(select(func.count()).where(mine)) or 0
            pending = (
                session.scalar(select(func.count()).where(mine, EventDelivery.leased_until > now))
                or 0
            )
            retrying = (
                session.scalar(
                    select(func.count()).where(
                        mine,
                        EventDelivery.available_at > now,
                        or_(
                            EventDelivery.leased_until.is_(None), EventDelivery.leased_until <= now
                        ),
                    )
                )
                or 0
            )
            dead = session.scalar(select(func.count()).where(DeadLetter.group == group)) or 0
        return GroupStats(group, queued, pending, retrying, dead)

    def dead_letters(self, group: str, limit: int = 100) -> list[DeadLetterOut]:
        with self.db.session() as session:
            rows = session.scalars(
                select(DeadLetter)
                .where(DeadLetter.group == group)
                .order_by(DeadLetter.id.desc())
                .limit(limit)
            )
            return [
                DeadLetterOut(
                    id=str(r.id),
                    group=r.group,
                    seq=r.event_seq,
                    event_id=str(r.event_id),
                    type=r.type,
                    error=r.error,
                    deliveries=r.deliveries,
                    created_at=r.created_at,
                )
                for r in rows
            ]

    def redrive(self, group: str, ids: Sequence[str] | None = None) -> int:
        query = select(DeadLetter).where(DeadLetter.group == group)
        if ids is not None:
            query = query.where(DeadLetter.id.in_([int(i) for i in ids if i.isdigit()]))
        with self.db.session() as session:
            letters = list(session.scalars(query.order_by(DeadLetter.id)))
            self._enqueue(session, group, [d.event_seq for d in letters])
            for letter in letters:
                session.delete(letter)
        return len(letters)

    def replay(self, group: str, envelopes: Sequence[Envelope]) -> int:
        with self.db.session() as session:
            return self._enqueue(session, group, [e.seq for e in envelopes])

    def _enqueue(self, session: Session, group: str, seqs: list[int]) -> int:
        """Queue these events for the group at the lowest rank, except those already queued."""
        if not seqs:
            return 0
        queued = set(
            session.scalars(
                select(EventDelivery.event_seq).where(
                    EventDelivery.group == group, EventDelivery.event_seq.in_(seqs)
                )
            )
        )
        now = utcnow()
        values = [
            {
                "group": group,
                "event_seq": seq,
                "rank": REPLAY_RANK,
                "deliveries": 0,
                "available_at": now,
                "created_at": now,
            }
            for seq in dict.fromkeys(seqs)
            if seq not in queued
        ]
        if values:
            session.execute(insert(EventDelivery), values)
        return len(values)
