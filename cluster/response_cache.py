"""A response cache for deterministic generations (temperature 0, or a seed), keyed by model,
prompt and parameters: Redis when LOREKEEPER_REDIS_URL is set (shared by every replica), a
bounded in-process table otherwise. It counts its hits and misses."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any, Protocol

from redis.asyncio import Redis

from cluster.settings import Settings

PREFIX = "lorekeeper:llm:cache:"


def cache_key(model: str, prompt: str, params: dict[str, Any]) -> str:
    doc = json.dumps([model, prompt, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(doc.encode()).hexdigest()


class ResponseCache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str) -> None: ...

    async def stats(self) -> dict[str, int]:
        """{"hits": n, "misses": n}"""
        ...


class MemoryCache:
    def __init__(self, max_entries: int = 1024) -> None:
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._max = max_entries
        self._hits = self._misses = 0

    async def get(self, key: str) -> str | None:
        value = self._entries.get(key)
        if value is None:
            self._misses += 1
        else:
            self._hits += 1
            self._entries.move_to_end(key)
        return value

    async def put(self, key: str, value: str) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def stats(self) -> dict[str, int]:
        return {"hits": self._hits, "misses": self._misses}


class RedisCache:
    def __init__(self, url: str, ttl_s: int, prefix: str = PREFIX) -> None:
        self._redis = Redis.from_url(url, decode_responses=True)
        self._ttl = ttl_s
        self._prefix = prefix

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        await self._redis.incr(self._prefix + ("stats:hits" if value else "stats:misses"))
        return value

    async def put(self, key: str, value: str) -> None:
        await self._redis.set(self._prefix + key, value, ex=self._ttl)

    async def stats(self) -> dict[str, int]:
        hits, misses = await self._redis.mget(
            self._prefix + "stats:hits", self._prefix + "stats:misses"
        )
        return {"hits": int(hits or 0), "misses": int(misses or 0)}


def make_cache(settings: Settings, ttl_s: int, prefix: str = PREFIX) -> ResponseCache:
    return RedisCache(settings.redis_url, ttl_s, prefix) if settings.redis_url else MemoryCache()
