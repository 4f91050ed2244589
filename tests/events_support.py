"""Helpers for the event hub's tests: hubs on either transport, emitting, settling."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from redis import Redis

from cluster.database import Database
from cluster.events.config import HubSettings
from cluster.events.hub import EventHub
from cluster.settings import Settings
from domain.events import outbox
from domain.events.schemas import Event

REDIS_URL = os.environ.get("LOREKEEPER_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
# Fast retries so that a test sees a delivery fail, wait and come back within a second.
FAST = {
    "retry_base_ms": 20,
    "retry_max_ms": 200,
    "poll_ms": 5,
    "max_deliveries": 3,
    "breaker_failures": 2,
    "breaker_reset_s": 0.3,
}


def emit(db: Database, *events: Event) -> None:
    with db.session() as session:
        for event in events:
            outbox.record(session, event)


def settle(hub: EventHub, until: Callable[[], bool], timeout: float = 10) -> None:
    """Drain the hub until `until()` holds (retries come due while it waits)."""
    deadline = time.monotonic() + timeout
    while True:
        hub.drain()
        if until():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled after {timeout} s: {hub.status()}")
        time.sleep(0.02)


def clear_redis(prefix: str) -> None:
    redis = Redis.from_url(REDIS_URL)
    keys = list(redis.scan_iter(f"{prefix}*"))
    if keys:
        redis.delete(*keys)
    redis.close()


@pytest.fixture(params=["database", "redis"])
def make_hub(request, db: Database, settings: Settings) -> Iterator[Callable[..., EventHub]]:
    """Builds hubs on the transport of the parameter, with a Redis key prefix of its own."""
    prefix = f"lk-test:{uuid.uuid4().hex[:10]}:"
    redis_url = REDIS_URL if request.param == "redis" else None
    hubs: list[EventHub] = []

    def make(groups=None, **tuning) -> EventHub:
        hub_settings = HubSettings(**{**FAST, **tuning, "redis_prefix": prefix})
        hub_env = settings.model_copy(update={"redis_url": redis_url})
        hub = EventHub(db, hub_env, hub_settings, **({"groups": groups} if groups else {}))
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.stop()
    if redis_url:
        clear_redis(prefix)
