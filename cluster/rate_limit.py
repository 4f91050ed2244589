"""Fixed-window rate limits: Redis when LOREKEEPER_REDIS_URL is set (shared by every gateway
replica), an in-process table otherwise (each replica counts alone)."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from redis.asyncio import Redis

from cluster.settings import Settings

PREFIX = "lorekeeper:ratelimit:"


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_s: int) -> int:
        """Count one hit; 0 if allowed, else the seconds until the window resets."""
        ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str, limit: int, window_s: int) -> int:
        now = time.monotonic()
        async with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= window_s:
                start, count = now, 0
            self._windows[key] = (start, count + 1)
            if len(self._windows) > 100_000:  # forget windows that have ended
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window_s}
        return 0 if count < limit else max(1, int(start + window_s - now + 0.999))


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url)

    async def hit(self, key: str, limit: int, window_s: int) -> int:
        name = PREFIX + key
        async with self._redis.pipeline(transaction=True) as pipe:
            count, _, ttl = (
                await pipe.incr(name).expire(name, window_s, nx=True).ttl(name).execute()
            )
        return 0 if count <= limit else max(1, int(ttl))


def make_rate_limiter(settings: Settings) -> RateLimiter:
    return RedisRateLimiter(settings.redis_url) if settings.redis_url else MemoryRateLimiter()
