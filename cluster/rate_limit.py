"""Fixed-window rate limits: Redis when LOREKEEPER_REDIS_URL is set (shared by every gateway
replica), an in-process table otherwise (each replica counts alone). Also the limits on
login and registration, and the client address they count by."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Protocol

from redis.asyncio import Redis

from cluster.settings import Settings
from domain.errors import RateLimited

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
    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self._redis = Redis.from_url(url)
        self._prefix = prefix

    async def hit(self, key: str, limit: int, window_s: int) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            count, _, ttl = (
                await pipe.incr(name).expire(name, window_s, nx=True).ttl(name).execute()
            )
        return 0 if count <= limit else max(1, int(ttl))


def make_rate_limiter(settings: Settings) -> RateLimiter:
    return RedisRateLimiter(settings.redis_url) if settings.redis_url else MemoryRateLimiter()


Network = IPv4Network | IPv6Network


def client_address(peer: str, x_forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The address to count a request by.

    X-Forwarded-For is believed only when the TCP peer is a trusted proxy, and then read from
    the right: each trusted proxy appended the address it saw, so the first untrusted hop is
    the client. Anything left of it was written by the client and is ignored.
    """
    address = _parse(peer)
    if address is None or not _trusted(address, trusted) or not x_forwarded_for:
        return str(address or peer)
    for hop in reversed(x_forwarded_for.split(",")):
        seen = _parse(hop.strip())
        if seen is None:  # not written by a proxy: keep the nearest hop a proxy vouched for
            break
        address = seen
        if not _trusted(address, trusted):
            break
    return str(address)


def _parse(text: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:10.0.0.1 is 10.0.0.1
    return mapped or address


def _trusted(address: IPv4Address | IPv6Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


async def check_login(
    limiter: RateLimiter, settings: Settings, username: str, address: str
) -> None:
    """Count a login attempt against the username (from any address, so that spraying one
    account from many addresses is capped) and against the client address (across
    usernames); raise 429 `rate_limited` with `retry_after` when either is over."""
    waits = await asyncio.gather(
        limiter.hit(
            f"login:user:{username.strip().lower()}", settings.login_attempts_per_minute, 60
        ),
        limiter.hit(f"login:addr:{address}", settings.login_attempts_per_address_per_minute, 60),
    )
    _raise_if_waiting(max(waits))


async def check_registration(limiter: RateLimiter, settings: Settings, address: str) -> None:
    """Count a registration against the client address; 429 `rate_limited` when over."""
    _raise_if_waiting(
        await limiter.hit(f"register:{address}", settings.registrations_per_minute, 60)
    )


def _raise_if_waiting(retry_after: int) -> None:
    if retry_after:
        raise RateLimited(
            f"Too many attempts: wait {retry_after} s and try again.", retry_after=retry_after
        )
