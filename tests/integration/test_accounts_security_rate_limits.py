"""Login and registration limits, with the in-process limiter and the real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from cluster.rate_limit import (
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    check_login,
    check_registration,
)
from cluster.settings import Settings
from domain.errors import RateLimited

REDIS_URL = "redis://127.0.0.1:6379/0"
SETTINGS = Settings(
    login_attempts_per_minute=3,
    login_attempts_per_address_per_minute=4,
    registrations_per_minute=2,
)

Scenario = Callable[[RateLimiter], Awaitable[None]]


@pytest.fixture(params=["memory", "redis"])
def run_with(request) -> Callable[[Scenario], None]:
    """Run a scenario against a fresh limiter; Redis keys get a unique prefix, then go."""

    def run(scenario: Scenario) -> None:
        async def go() -> None:
            if request.param == "memory":
                return await scenario(MemoryRateLimiter())
            prefix = f"lorekeeper:test:{uuid.uuid4().hex}:"
            redis = Redis.from_url(REDIS_URL)
            try:
                await scenario(RedisRateLimiter(REDIS_URL, prefix=prefix))
            finally:
                keys = [key async for key in redis.scan_iter(f"{prefix}*")]
                if keys:
                    await redis.delete(*keys)
                await redis.aclose()

        asyncio.run(go())

    return run


async def refused(attempt: Awaitable[None]) -> int:
    with pytest.raises(RateLimited) as limited:
        await attempt
    assert limited.value.code == "rate_limited"
    return limited.value.extra["retry_after"]


def test_one_username_is_capped_across_addresses(run_with):
    async def scenario(limiter: RateLimiter) -> None:
        for i in range(3):
            await check_login(limiter, SETTINGS, "Alice", f"198.51.100.{i}")
        assert 1 <= await refused(check_login(limiter, SETTINGS, "alice", "203.0.113.9")) <= 60
        await check_login(limiter, SETTINGS, "bob", "203.0.113.9")  # others still get in

    run_with(scenario)


def test_one_address_is_capped_across_usernames(run_with):
    async def scenario(limiter: RateLimiter) -> None:
        for i in range(4):
            await check_login(limiter, SETTINGS, f"user-{i}", "198.51.100.7")
        assert await refused(check_login(limiter, SETTINGS, "user-9", "198.51.100.7")) >= 1
        await check_login(limiter, SETTINGS, "user-9", "198.51.100.8")

    run_with(scenario)


def test_registrations_are_capped_per_address(run_with):
    async def scenario(limiter: RateLimiter) -> None:
        for _ in range(2):
            await check_registration(limiter, SETTINGS, "2001:db8::1")
        assert await refused(check_registration(limiter, SETTINGS, "2001:db8::1")) >= 1
        await check_registration(limiter, SETTINGS, "2001:db8::2")

    run_with(scenario)
