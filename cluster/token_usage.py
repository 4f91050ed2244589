"""Token accounting for the LLM: tokens used per user, campaign and model, and the daily
per-user and per-campaign quotas checked before each generation. Redis when
LOREKEEPER_REDIS_URL is set (one ledger for every replica of every LLM application), an
in-process table otherwise (each replica counts alone, as the rate limits do)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from cluster.rate_limit import RateLimiter
from cluster.settings import Settings
from domain.errors import RateLimited

PREFIX = "lorekeeper:llm:"


class TokenQuota(BaseModel):
    """Per-user limits, shared by /v1 and the generation endpoints."""

    tokens_per_day: int | None = Field(
        200_000, ge=1, description="Prompt and output tokens per UTC day; unset: no quota."
    )
    requests_per_minute: int = Field(60, ge=1, le=100_000)


class UsageRow(BaseModel):
    user_id: int
    campaign_id: int | None
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class TokenLedger(Protocol):
    async def used_today(self, user_id: int) -> int: ...

    async def campaign_used_today(self, campaign_id: int) -> int:
        """Tokens every user used for the campaign today."""
        ...

    async def record(
        self, user_id: int, campaign_id: int | None, model: str, prompt: int, completion: int
    ) -> None: ...

    async def rows(self, user_id: int | None = None) -> list[UsageRow]:
        """All-time totals per (user, campaign, model); `None`: every user."""
        ...


def _day(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%d")


def seconds_to_midnight(now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


def _field(campaign_id: int | None, model: str) -> str:
    return f"{'' if campaign_id is None else campaign_id}|{model}"


def _row(user_id: int, field: str, prompt: int, completion: int) -> UsageRow:
    campaign, _, model = field.partition("|")
    return UsageRow(
        user_id=user_id,
        campaign_id=int(campaign) if campaign else None,
        model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
    )


class MemoryLedger:
    def __init__(self) -> None:
        self._today: dict[tuple[str, int], int] = defaultdict(int)
        self._campaign_today: dict[tuple[str, int], int] = defaultdict(int)
        self._totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
        self._lock = asyncio.Lock()

    async def used_today(self, user_id: int) -> int:
        return self._today.get((_day(), user_id), 0)

    async def campaign_used_today(self, campaign_id: int) -> int:
        return self._campaign_today.get((_day(), campaign_id), 0)

    async def record(
        self, user_id: int, campaign_id: int | None, model: str, prompt: int, completion: int
    ) -> None:
        async with self._lock:
            day = _day()
            self._today = defaultdict(int, {k: v for k, v in self._today.items() if k[0] == day})
            self._today[(day, user_id)] += prompt + completion
            if campaign_id is not None:
                self._campaign_today = defaultdict(
                    int, {k: v for k, v in self._campaign_today.items() if k[0] == day}
                )
                self._campaign_today[(day, campaign_id)] += prompt + completion
            total = self._totals[(user_id, _field(campaign_id, model))]
            total[0] += prompt
            total[1] += completion

    async def rows(self, user_id: int | None = None) -> list[UsageRow]:
        return [
            _row(user, field, prompt, completion)
            for (user, field), (prompt, completion) in sorted(self._totals.items())
            if user_id is None or user == user_id
        ]


class RedisLedger:
    """`used:<day>:<user>` and `used:<day>:campaign:<id>` count the quotas (expire after two
    days); `user:<id>` is a hash of all-time totals (`<campaign>|<model>|p` and `...|c`);
    `users` the set of users."""

    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self._redis = Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    async def used_today(self, user_id: int) -> int:
        return int(await self._redis.get(f"{self._prefix}used:{_day()}:{user_id}") or 0)

    async def campaign_used_today(self, campaign_id: int) -> int:
        key = f"{self._prefix}used:{_day()}:campaign:{campaign_id}"
        return int(await self._redis.get(key) or 0)

    async def record(
        self, user_id: int, campaign_id: int | None, model: str, prompt: int, completion: int
    ) -> None:
        used = f"{self._prefix}used:{_day()}:{user_id}"
        totals, field = f"{self._prefix}user:{user_id}", _field(campaign_id, model)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(used, prompt + completion).expire(used, 2 * 86400)
            if campaign_id is not None:
                spent = f"{self._prefix}used:{_day()}:campaign:{campaign_id}"
                pipe.incrby(spent, prompt + completion).expire(spent, 2 * 86400)
            pipe.hincrby(totals, f"{field}|p", prompt).hincrby(totals, f"{field}|c", completion)
            pipe.sadd(f"{self._prefix}users", user_id)
            await pipe.execute()

    async def rows(self, user_id: int | None = None) -> list[UsageRow]:
        users = (
            [user_id]
            if user_id is not None
            else sorted(int(u) for u in await self._redis.smembers(f"{self._prefix}users"))
        )
        out: list[UsageRow] = []
        for user in users:
            counts = await self._redis.hgetall(f"{self._prefix}user:{user}")
            fields = sorted({key.rpartition("|")[0] for key in counts})
            out += [
                _row(user, f, int(counts.get(f"{f}|p", 0)), int(counts.get(f"{f}|c", 0)))
                for f in fields
            ]
        return out


def make_ledger(settings: Settings, prefix: str = PREFIX) -> TokenLedger:
    return RedisLedger(settings.redis_url, prefix) if settings.redis_url else MemoryLedger()


async def admit(ledger: TokenLedger, limiter: RateLimiter, quota: TokenQuota, user_id: int) -> None:
    """Before a generation: 429 `rate_limited` over the request rate, 429
    `token_quota_exceeded` once the day's tokens are spent (both with Retry-After)."""
    wait = await limiter.hit(f"llm:user:{user_id}", quota.requests_per_minute, 60)
    if wait:
        raise RateLimited(
            f"Over {quota.requests_per_minute} generation requests a minute: wait {wait} s.",
            retry_after=wait,
        )
    if quota.tokens_per_day is not None and await ledger.used_today(user_id) >= (
        quota.tokens_per_day
    ):
        wait = seconds_to_midnight()
        raise RateLimited(
            f"Your daily quota of {quota.tokens_per_day} tokens is spent; it renews at "
            f"midnight UTC (in {wait} s). Ask an admin for a larger quota.",
            code="token_quota_exceeded",
            retry_after=wait,
            quota=quota.tokens_per_day,
        )


async def admit_campaign(ledger: TokenLedger, campaign_id: int, tokens_per_day: int | None) -> None:
    """Before a generation for a campaign: 429 `campaign_token_quota_exceeded` (with
    Retry-After) once its members have spent the campaign's tokens for the day."""
    if tokens_per_day is None or await ledger.campaign_used_today(campaign_id) < tokens_per_day:
        return
    wait = seconds_to_midnight()
    raise RateLimited(
        f"Campaign {campaign_id}'s daily budget of {tokens_per_day} tokens is spent; it "
        f"renews at midnight UTC (in {wait} s). A DM of the campaign can raise it.",
        code="campaign_token_quota_exceeded",
        retry_after=wait,
        quota=tokens_per_day,
    )


class TokenMetrics:
    """Ray's /metrics counter of tokens (`ray_lorekeeper_llm_tokens_total`), by model, token
    type (prompt, completion) and source (`v1`, `generation`). Per user and campaign, the
    ledger answers (GET /api/v2/llm/usage): users would make too many series."""

    def __init__(self, source: str, enabled: bool):
        self.source = source
        self._counter = None
        if enabled:  # Ray's metrics need a Ray worker: Serve replicas only
            from ray.serve.metrics import Counter

            self._counter = Counter(
                "lorekeeper_llm_tokens",
                description="LLM tokens processed, by model, type and source.",
                tag_keys=("model", "type", "source"),
            )

    def count(self, model: str, prompt: int, completion: int) -> None:
        if self._counter is None:
            return
        for kind, value in (("prompt", prompt), ("completion", completion)):
            if value:
                self._counter.inc(value, {"model": model, "type": kind, "source": self.source})
