"""Token accounting for the LLM: tokens used per user, campaign and model, and the daily
per-user and per-campaign quotas checked before each generation. Redis when
LOREKEEPER_REDIS_URL is set (one ledger for every replica of every LLM application), an
in-process table otherwise (each replica counts alone, as the rate limits do).

A generation holds its `max_tokens` against today's counts from the moment it is admitted
(the check and the hold are one atomic step), and the hold is replaced by what it used when
it ends. So concurrent requests see each other: a quota is overshot by at most one
request's tokens, not by one per concurrent request. A replica that dies mid-generation
leaves its hold counted until the day ends (the safe side); one running across midnight UTC
gives its hold back to the new day (a credit of at most its max_tokens)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
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

    async def reserve(
        self,
        user_id: int,
        campaign_id: int | None,
        tokens: int,
        user_limit: int | None,
        campaign_limit: int | None,
    ) -> None:
        """Adds `tokens` to today's counts of the user (and campaign), in one atomic step with
        the check that neither count has reached its limit (None: no limit); 429
        `token_quota_exceeded` or `campaign_token_quota_exceeded` if one has."""
        ...

    async def record(
        self,
        user_id: int,
        campaign_id: int | None,
        model: str,
        prompt: int,
        completion: int,
        reserved: int = 0,
    ) -> None:
        """Counts what a generation used, in place of the `reserved` tokens it held."""
        ...

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
        self._day = _day()
        self._today: dict[int, int] = defaultdict(int)  # user -> today's tokens
        self._campaign_today: dict[int, int] = defaultdict(int)
        self._totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])

    def _counts(self) -> tuple[dict[int, int], dict[int, int]]:
        """Today's counts of users and campaigns (emptied when a new day starts)."""
        if (day := _day()) != self._day:
            self._day = day
            self._today.clear()
            self._campaign_today.clear()
        return self._today, self._campaign_today

    async def used_today(self, user_id: int) -> int:
        return max(0, self._counts()[0].get(user_id, 0))

    async def campaign_used_today(self, campaign_id: int) -> int:
        return max(0, self._counts()[1].get(campaign_id, 0))

    async def reserve(
        self,
        user_id: int,
        campaign_id: int | None,
        tokens: int,
        user_limit: int | None,
        campaign_limit: int | None,
    ) -> None:
        # No await from the checks to the hold: atomic on the replica's event loop.
        users, campaigns = self._counts()
        if user_limit is not None and users.get(user_id, 0) >= user_limit:
            raise user_quota_spent(user_limit)
        spent = campaigns.get(campaign_id, 0) if campaign_id is not None else 0
        if campaign_id is not None and campaign_limit is not None and spent >= campaign_limit:
            raise campaign_quota_spent(campaign_id, campaign_limit)
        self._add(user_id, campaign_id, tokens)

    async def record(
        self,
        user_id: int,
        campaign_id: int | None,
        model: str,
        prompt: int,
        completion: int,
        reserved: int = 0,
    ) -> None:
        self._add(user_id, campaign_id, prompt + completion - reserved)
        if prompt or completion:
            total = self._totals[(user_id, _field(campaign_id, model))]
            total[0] += prompt
            total[1] += completion

    def _add(self, user_id: int, campaign_id: int | None, tokens: int) -> None:
        users, campaigns = self._counts()
        users[user_id] += tokens
        if campaign_id is not None:
            campaigns[campaign_id] += tokens

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

    # KEYS: today's counts (the user's, then the campaign's); ARGV: the tokens, the keys'
    # lifetime, then each key's limit (-1: none). 0 when held, else the index of the key
    # whose limit is reached (nothing held then).
    _RESERVE = """
    for i, key in ipairs(KEYS) do
      local limit = tonumber(ARGV[i + 2])
      if limit >= 0 and tonumber(redis.call('GET', key) or '0') >= limit then return i end
    end
    for _, key in ipairs(KEYS) do
      redis.call('INCRBY', key, ARGV[1])
      redis.call('EXPIRE', key, ARGV[2])
    end
    return 0
    """
    _TTL = 2 * 86400

    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self._redis = Redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._reserve = self._redis.register_script(self._RESERVE)

    def _used(self, user_id: int) -> str:
        return f"{self._prefix}used:{_day()}:{user_id}"

    def _spent(self, campaign_id: int) -> str:
        return f"{self._prefix}used:{_day()}:campaign:{campaign_id}"

    async def used_today(self, user_id: int) -> int:
        return max(0, int(await self._redis.get(self._used(user_id)) or 0))

    async def campaign_used_today(self, campaign_id: int) -> int:
        return max(0, int(await self._redis.get(self._spent(campaign_id)) or 0))

    async def reserve(
        self,
        user_id: int,
        campaign_id: int | None,
        tokens: int,
        user_limit: int | None,
        campaign_limit: int | None,
    ) -> None:
        keys, limits = [self._used(user_id)], [user_limit]
        if campaign_id is not None:
            keys.append(self._spent(campaign_id))
            limits.append(campaign_limit)
        args = [tokens, self._TTL, *(-1 if limit is None else limit for limit in limits)]
        spent = await self._reserve(keys=keys, args=args)
        if spent == 1:
            raise user_quota_spent(user_limit or 0)
        if spent == 2:
            raise campaign_quota_spent(campaign_id or 0, campaign_limit or 0)

    async def record(
        self,
        user_id: int,
        campaign_id: int | None,
        model: str,
        prompt: int,
        completion: int,
        reserved: int = 0,
    ) -> None:
        used, change = self._used(user_id), prompt + completion - reserved
        totals, field = f"{self._prefix}user:{user_id}", _field(campaign_id, model)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(used, change).expire(used, self._TTL)
            if campaign_id is not None:
                spent = self._spent(campaign_id)
                pipe.incrby(spent, change).expire(spent, self._TTL)
            if prompt or completion:
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


def user_quota_spent(tokens_per_day: int) -> RateLimited:
    wait = seconds_to_midnight()
    return RateLimited(
        f"Your daily quota of {tokens_per_day} tokens is spent; it renews at midnight UTC "
        f"(in {wait} s). Ask an admin for a larger quota.",
        code="token_quota_exceeded",
        retry_after=wait,
        quota=tokens_per_day,
    )


def campaign_quota_spent(campaign_id: int, tokens_per_day: int) -> RateLimited:
    wait = seconds_to_midnight()
    return RateLimited(
        f"Campaign {campaign_id}'s daily budget of {tokens_per_day} tokens is spent; it "
        f"renews at midnight UTC (in {wait} s). A DM of the campaign can raise it.",
        code="campaign_token_quota_exceeded",
        retry_after=wait,
        quota=tokens_per_day,
    )


async def rate_limit(limiter: RateLimiter, quota: TokenQuota, user_id: int) -> None:
    """429 `rate_limited` (with Retry-After) over the user's generation requests a minute."""
    wait = await limiter.hit(f"llm:user:{user_id}", quota.requests_per_minute, 60)
    if wait:
        raise RateLimited(
            f"Over {quota.requests_per_minute} generation requests a minute: wait {wait} s.",
            retry_after=wait,
        )


async def admit(ledger: TokenLedger, limiter: RateLimiter, quota: TokenQuota, user_id: int) -> None:
    """Before a request's work (a prompt to assemble): the rate limit, and 429
    `token_quota_exceeded` (with Retry-After) once the day's tokens are spent. The
    generation's `reserve` checks again, atomically."""
    await rate_limit(limiter, quota, user_id)
    limit = quota.tokens_per_day
    if limit is not None and await ledger.used_today(user_id) >= limit:
        raise user_quota_spent(limit)


async def admit_campaign(ledger: TokenLedger, campaign_id: int, tokens_per_day: int | None) -> None:
    """Before a request's work for a campaign: 429 `campaign_token_quota_exceeded` (with
    Retry-After) once its members have spent the campaign's tokens for the day."""
    if tokens_per_day is not None and await ledger.campaign_used_today(campaign_id) >= (
        tokens_per_day
    ):
        raise campaign_quota_spent(campaign_id, tokens_per_day)


@dataclass
class Spend:
    """What one generation has used: set when it ends, or as a stream goes; nothing if it
    failed before the engine answered."""

    model: str = ""
    prompt: int = 0
    completion: int = 0

    def used(self, model: str, prompt: int, completion: int) -> None:
        self.model, self.prompt, self.completion = model, prompt, completion


@asynccontextmanager
async def held(
    ledger: TokenLedger,
    user_id: int,
    campaign_id: int | None,
    tokens: int,
    user_limit: int | None,
    campaign_limit: int | None = None,
    metrics: TokenMetrics | None = None,
) -> AsyncIterator[Spend]:
    """One generation: `tokens` held against today's quotas (429 if one is spent), then
    replaced by what the block last reported with `Spend.used`, however the block ends (a
    stream reports as it goes, so one cut short counts what it used)."""
    await ledger.reserve(user_id, campaign_id, tokens, user_limit, campaign_limit)
    spend = Spend()
    try:
        yield spend
    finally:
        await ledger.record(
            user_id, campaign_id, spend.model, spend.prompt, spend.completion, reserved=tokens
        )
        if metrics is not None:
            metrics.count(spend.model, spend.prompt, spend.completion)


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
