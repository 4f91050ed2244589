from __future__ import annotations

import asyncio
import uuid

import pytest
from starlette.testclient import TestClient

from cluster.rate_limit import MemoryRateLimiter, RedisRateLimiter
from deployments.apps import compose_local

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def limited(request, db, settings):
    redis_url = REDIS_URL if request.param == "redis" else None
    limited_settings = settings.model_copy(
        update={"redis_url": redis_url, "login_attempts_per_minute": 3}
    )
    app, _ = compose_local(limited_settings, db)
    with TestClient(app) as client:
        yield client


def test_login_attempts_are_limited_per_username(limited):
    name = f"user-{uuid.uuid4().hex[:8]}"  # Redis outlives tests: a fresh key each run
    creds = {"username": name, "password": "a long password"}
    assert limited.post("/api/v2/auth/register", json=creds).status_code == 201
    wrong = {**creds, "password": "wrong password"}
    assert [limited.post("/api/v2/auth/login", json=wrong).status_code for _ in range(3)] == [
        401,
        401,
        401,
    ]
    r = limited.post("/api/v2/auth/login", json=creds)  # even the right password now waits
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    other = {"username": f"other-{name}", "password": "whatever"}
    assert limited.post("/api/v2/auth/login", json=other).status_code == 401


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_windows_reset(kind):
    async def run() -> list[int]:
        limiter = MemoryRateLimiter() if kind == "memory" else RedisRateLimiter(REDIS_URL)
        key = f"test:{uuid.uuid4().hex}"
        first = [await limiter.hit(key, 2, 1) for _ in range(3)]
        await asyncio.sleep(1.2)
        return [*first, await limiter.hit(key, 2, 1)]

    results = asyncio.run(run())
    assert results[:2] == [0, 0] and results[2] >= 1 and results[3] == 0
