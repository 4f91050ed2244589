"""The domain services a replica can run, and the one way to call them.

A gateway never touches the database: it names a service, a method and its arguments,
and a domain replica (or, for tests and the bare-uvicorn benchmark, the same code in
process) opens a transaction, builds the service and calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cluster.database import Database
from cluster.logs import get_logger
from cluster.settings import Settings
from domain.characters.service import CharacterService
from domain.errors import Unauthorized, Unavailable
from domain.homebrew.service import HomebrewService
from domain.rules.catalog import CatalogService
from domain.users.schemas import Principal
from domain.users.service import AccountService

log = get_logger("services")
Factory = Callable[[Session, Principal | None, Settings], Any]


def _characters(session: Session, principal: Principal | None, _: Settings) -> Any:
    return CharacterService(session, _require(principal))


def _homebrew(session: Session, principal: Principal | None, _: Settings) -> Any:
    return HomebrewService(session, _require(principal))


def _rules(session: Session, principal: Principal | None, _: Settings) -> Any:
    return CatalogService(HomebrewService(session, _require(principal)).rules)


def _accounts(session: Session, _: Principal | None, settings: Settings) -> Any:
    return AccountService(
        session,
        secret=settings.resolved_jwt_secret,
        access_ttl=settings.access_ttl,
        refresh_ttl=settings.refresh_ttl,
    )


def _require(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthorized("Log in first: this needs a bearer token.")
    return principal


SERVICES: dict[str, Factory] = {
    "characters": _characters,
    "homebrew": _homebrew,
    "rules": _rules,
    "accounts": _accounts,
}


# Which domain deployment (serve_config.yaml's names) runs which services.
DEPLOYMENT_SERVICES: dict[str, tuple[str, ...]] = {
    "Characters": ("characters", "homebrew", "rules"),
    "Accounts": ("accounts",),
}


def invoke(
    db: Database,
    settings: Settings,
    service: str,
    principal: Principal | None,
    method: str,
    kwargs: dict[str, Any],
) -> Any:
    """Run one service method in its own transaction (rolled back if it raises).

    SQLite has one writer at a time: a transaction whose snapshot went stale while another
    committed fails with "database is locked". It is retried from the start, where the
    version check then answers 409 or the write goes through.
    """
    for attempt in range(_SQLITE_RETRIES + 1):
        try:
            with db.session() as session:
                svc = SERVICES[service](session, principal, settings)
                return getattr(svc, method)(**kwargs)
        except OperationalError as exc:
            if attempt == _SQLITE_RETRIES or not db.is_sqlite_lock(exc):
                log.error("database error", exc_info=exc)
                raise Unavailable(
                    "The database is not answering; retry shortly. If it persists, check "
                    "that it runs and LOREKEEPER_DATABASE_URL points at it.",
                    code="database_unavailable",
                ) from None
    raise AssertionError("unreachable")


_SQLITE_RETRIES = 3
