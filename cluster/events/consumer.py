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
import uuid

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
from domain.events.handlers import ConsumerGroup, apply

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
        for delivery in deliveries:
            if self.breaker.allow():
                self.handle(delivery)
            else:  # opened during this batch: the rest wait, their deliveries unspent
                self.transport.retry(delivery, "circuit open", counted=False)
        return len(deliveries)

    def handle(self, delivery: Delivery) -> None:
        if delivery.deliveries > self.hub.max_deliveries:  # its consumers kept dying on it
            last = getattr(self.transport, "last_error", lambda _d: None)(delivery)
            self.failed += 1
            self.transport.dead_letter(
                delivery,
                last
                or f"no answer after {delivery.deliveries - 1} deliveries: a consumer "
                "stopped while handling it each time",
            )
            return
        try:
            with self.db.session() as session:
                apply(session, self.group, delivery.envelope)
                self.transport.ack_in(session, delivery)
        except LeaseLost as exc:  # another consumer has it now
            log.warning("delivery taken over", extra={"error": str(exc)})
            return
        except Exception as exc:
            self._failed(delivery, exc)
            return
        self.transport.acked(delivery)
        self.breaker.success()
        self.processed += 1

    def _failed(self, delivery: Delivery, exc: Exception) -> None:
        error = _describe(exc)
        event = delivery.envelope
        if isinstance(exc, Conflict) or _applied_elsewhere(exc) or self.db.is_sqlite_lock(exc):
            self.transport.retry(delivery, error, counted=False)
            return
        self.failed += 1
        if isinstance(exc, DOWNSTREAM):
            self.breaker.failure()
            log.warning(
                "downstream failure, delivery kept",
                extra={"group": self.group.name, "event": str(event.id), "error": error},
            )
            self.transport.retry(delivery, error, counted=False)
            return
        self.breaker.success()  # the downstream answered: the message is at fault
        if delivery.deliveries >= self.hub.max_deliveries:
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
