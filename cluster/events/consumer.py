"""Runs one consumer group's handlers on deliveries from a transport.

Failures are sorted three ways. A conflict (a concurrent write, the same event applied by
another consumer a moment earlier) is retried without spending a delivery. A downstream
failure (the database or a service not answering) also spends none, and counts towards the
circuit breaker: when it opens, this consumer stops taking deliveries until it half-opens.
Anything else is the message's fault: it is retried with backoff, and after
`max_deliveries` it goes to the dead letters with its error while the rest flow.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from contextlib import nullcontext

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from cluster.database import Database
from cluster.events.breaker import CircuitBreaker
from cluster.events.config import HubSettings
from cluster.events.db_transport import LeaseLost
from cluster.events.transport import Delivery, Transport
from cluster.logs import get_logger
from domain.errors import Conflict, DomainError, Unavailable
from domain.events.handlers import ConsumerGroup, applied, mark_applied, run

log = get_logger("events.consumer")

DOWNSTREAM = (
    Unavailable,
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
)


def runner_name(role: str) -> str:
    return f"{role}:{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Consumer:
    role = "consumer"

    def __init__(
        self,
        db: Database,
        transport: Transport,
        group: ConsumerGroup,
        hub: HubSettings,
        name: str | None = None,
    ):
        self.db = db
        self.transport = transport
        self.group = group
        self.hub = hub
        self.name = name or runner_name(group.name)
        self.breaker = CircuitBreaker(hub.breaker_failures, hub.breaker_reset_s)
        self.processed = 0
        self.failed = 0
        # SQLite has one writer, and pysqlite's savepoints need a connection set up apart:
        # there each event keeps its own transaction.
        self._per_event = db.engine.dialect.name == "sqlite"

    @property
    def group_name(self) -> str:
        return self.group.name

    @property
    def breaker_state(self) -> str:
        return self.breaker.state

    def poll_once(self) -> int:
        """Fetch and handle one batch; the number of deliveries taken (0: nothing to do, or
        the breaker is open)."""
        state = self.breaker.state
        if state == "open":
            return 0
        count = self.hub.batch if state == "closed" else 1  # half open: one trial
        deliveries = self.transport.fetch(self.group.name, self.name, count)
        fresh = []
        for delivery in deliveries:
            if delivery.deliveries > self.hub.max_deliveries:  # its consumers kept dying on it
                self._give_up(delivery)
            else:
                fresh.append(delivery)
        while fresh:
            fresh = self._handle_batch(fresh)
        return len(deliveries)

    def _give_up(self, delivery: Delivery) -> None:
        last = getattr(self.transport, "last_error", lambda _d: None)(delivery)
        self.failed += 1
        self.transport.dead_letter(
            delivery,
            last
            or f"no answer after {delivery.deliveries - 1} deliveries: a consumer "
            "stopped while handling it each time",
        )

    def _handle_batch(self, deliveries: list[Delivery]) -> list[Delivery]:
        """Handle deliveries in one transaction, each handler in a savepoint of its own: a
        failing one rolls back to its savepoint alone, and the rest commit together with
        their dedupe rows and acks (one commit, one flush to disk, for the batch). The
        transaction closes after `tx_ms`, and on SQLite after each event (`_per_event`);
        returns the deliveries left for the next transaction."""
        began = time.monotonic()
        done: list[Delivery] = []
        fresh: list[uuid.UUID] = []  # applied now: their dedupe rows go in with them
        failed: list[tuple[Delivery, Exception]] = []
        waiting: list[Delivery] = []  # the breaker opened during this batch
        taken = 0
        try:
            with self.db.session() as session:
                ahead = deliveries[:1] if self._per_event else deliveries
                seen = applied(session, self.group.name, {d.envelope.id for d in ahead})
                for delivery in deliveries:
                    if taken and (
                        self._per_event or time.monotonic() - began > self.hub.tx_ms / 1000
                    ):
                        break
                    taken += 1
                    event = delivery.envelope
                    if event.id in seen:  # applied before, or earlier in this batch
                        done.append(delivery)
                        continue
                    if not self.breaker.allow():
                        waiting.append(delivery)
                        continue
                    try:
                        with nullcontext() if self._per_event else session.begin_nested():
                            handled = run(session, self.group, event)
                    except Exception as exc:
                        if self._per_event:  # the whole transaction rolls back
                            raise
                        failed.append((delivery, exc))
                        self._breaker_after(exc)
                        continue
                    self.breaker.success()
                    done.append(delivery)
                    if handled:
                        seen.add(event.id)
                        fresh.append(event.id)
                mark_applied(session, self.group.name, fresh)
                self.transport.ack_in(session, done)
        except Exception as exc:  # nothing of this batch was applied
            batch = deliveries[: taken or len(deliveries)]  # 0: it failed before the first
            self._batch_failed(batch, failed, exc)
            return deliveries[len(batch) :]
        self.transport.acked(done)
        self.processed += len(done)
        for delivery, exc in failed:
            self._settle(delivery, exc)
        for delivery in waiting:  # their deliveries unspent
            self.transport.retry(delivery, "circuit open", counted=False)
        return deliveries[taken:]

    def _batch_failed(
        self,
        batch: list[Delivery],
        failed: list[tuple[Delivery, Exception]],
        exc: Exception,
    ) -> None:
        """The batch's transaction failed as a whole (its commit, the connection, or the one
        event of a per-event transaction): each delivery in it goes back, those that failed
        on their own with their own error."""
        if isinstance(exc, LeaseLost):  # those still ours go back at once, unspent
            log.warning("delivery taken over", extra={"error": str(exc)})
            for delivery in batch:
                self.transport.retry(delivery, str(exc), counted=False)
            return
        self._breaker_after(exc)
        own = {id(d): e for d, e in failed}
        for delivery in batch:
            self._settle(delivery, own.get(id(delivery), exc))

    def _breaker_after(self, exc: Exception) -> None:
        kind = self._kind(exc)
        if kind == "downstream":
            self.breaker.failure()
        elif kind == "message":  # the downstream answered: the message is at fault
            self.breaker.success()

    def _kind(self, exc: Exception) -> str:
        if isinstance(exc, Conflict) or _applied_elsewhere(exc) or _contention(exc):
            return "conflict"
        if self.db.is_sqlite_lock(exc):
            return "conflict"
        return "downstream" if isinstance(exc, DOWNSTREAM) else "message"

    def _settle(self, delivery: Delivery, exc: Exception) -> None:
        """After a failure: redeliver, or dead-letter once its deliveries are spent."""
        error = _describe(exc)
        event = delivery.envelope
        kind = self._kind(exc)
        if kind == "conflict":
            self.transport.retry(delivery, error, counted=False)
            return
        self.failed += 1
        if kind == "downstream":
            log.warning(
                "downstream failure, delivery kept",
                extra={"group": self.group.name, "event": str(event.id), "error": error},
            )
            self.transport.retry(delivery, error, counted=False)
        elif delivery.deliveries >= self.hub.max_deliveries:
            log.error(
                "dead letter",
                extra={"group": self.group.name, "event": str(event.id), "error": error},
            )
            self.transport.dead_letter(delivery, error)
        else:
            self.transport.retry(delivery, error)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                taken = self.poll_once()
            except Exception:  # the transport itself is down: try again shortly
                log.exception("consumer poll failed", extra={"group": self.group.name})
                stop.wait(1)
                continue
            if taken:
                continue
            if self.breaker.state == "open":
                stop.wait(min(1.0, max(0.01, self.breaker.wait_s())))
            elif self.transport.name != "redis":  # Redis reads block for poll_ms themselves
                stop.wait(self.hub.poll_ms / 1000)


def _contention(exc: Exception) -> bool:
    """PostgreSQL gave up on this transaction for another's sake (deadlock, serialization):
    nobody is at fault, it goes again."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in ("40001", "40P01")


def _applied_elsewhere(exc: Exception) -> bool:
    """Another delivery of the same event committed its `ProcessedEvent` first."""
    return isinstance(exc, IntegrityError) and "event_processed" in str(exc.orig)


def _describe(exc: Exception) -> str:
    """The error as an operator reads it in the dead letters: a domain error with its code
    and each of its errors (a rule a character breaks, a field a payload lacks)."""
    if isinstance(exc, DomainError):
        text = f"{exc.code}: {exc.detail}"
        details = [
            f"{e.get('path') or e.get('loc', '')}: {e.get('message') or e.get('msg', '')}"
            for e in exc.errors[:10]
        ]
        if details:
            text += " [" + "; ".join(details) + "]"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:2000]
