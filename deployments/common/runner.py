"""Runs domain service code: one transaction per call, on a worker thread, with SQLite's
lock conflicts retried and database outages turned into 503s.

Routes and typed calls both go through `ServiceRunner.run`, which hands the callback a
service built for the caller, so every service method is called directly (typed, searchable).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import anyio
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cluster.database import Database
from cluster.logs import get_logger
from domain.errors import Unauthorized, Unavailable
from domain.users.schemas import Principal

log = get_logger("runner")
S = TypeVar("S")
R = TypeVar("R")
_SQLITE_RETRIES = 3


class ServiceRunner(Generic[S]):
    def __init__(
        self,
        db: Database,
        factory: Callable[[Session, Principal | None], S],
        *,
        threads: int = 16,
    ):
        self.db = db
        self.factory = factory
        # Bounded like a replica's max_ongoing_requests, and within the DB pool.
        self._limiter = anyio.CapacityLimiter(threads)

    async def run(self, principal: Principal | None, call: Callable[[S], R]) -> R:
        """`call(service)` in its own transaction (rolled back if it raises)."""
        return await anyio.to_thread.run_sync(
            self._run_sync, principal, call, limiter=self._limiter
        )

    def _run_sync(self, principal: Principal | None, call: Callable[[S], R]) -> R:
        # SQLite has one writer: a transaction whose snapshot went stale while another
        # committed fails with "database is locked"; retried from the start, the version
        # check then answers 409 or the write goes through.
        for attempt in range(_SQLITE_RETRIES + 1):
            try:
                with self.db.session() as session:
                    return call(self.factory(session, principal))
            except OperationalError as exc:
                if attempt == _SQLITE_RETRIES or not self.db.is_sqlite_lock(exc):
                    log.error("database error", exc_info=exc)
                    raise Unavailable(
                        "The database is not answering; retry shortly. If it persists, check "
                        "that it runs and LOREKEEPER_DATABASE_URL points at it.",
                        code="database_unavailable",
                    ) from None
        raise AssertionError("unreachable")


def signed_in(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthorized("Log in first: this needs a bearer token.")
    return principal
