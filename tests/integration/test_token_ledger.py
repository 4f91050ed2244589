"""The token ledger's quotas under concurrency, in process and on the real Redis: a
generation's max_tokens is held from its admission, atomically with the check, so concurrent
requests cannot all slip under a quota that none of them has spent yet."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator

import pytest

from cluster.token_usage import MemoryLedger, RedisLedger, TokenLedger, held
from domain.errors import RateLimited
from tests.events_support import REDIS_URL, clear_redis


@pytest.fixture(params=["memory", "redis"])
def make_ledger(request) -> Iterator[Callable[[], TokenLedger]]:
    """Ledgers of the parameter's kind (made inside the test's event loop)."""
    prefix = f"lk-test:{uuid.uuid4().hex[:10]}:"
    if request.param == "memory":
        yield MemoryLedger
        return
    yield lambda: RedisLedger(REDIS_URL, prefix=prefix)
    clear_redis(prefix)


async def _generate(ledger: TokenLedger, gate: asyncio.Event, **limits: int | None) -> str:
    """One generation of up to 60 tokens that uses 15; 'ok' or the 429's code."""
    try:
        async with held(ledger, 7, 3, 60, **limits) as spend:
            await gate.wait()  # every request is in flight before any ends
            spend.used("tiny", 10, 5)
    except RateLimited as exc:
        return exc.code
    return "ok"


def test_concurrent_requests_share_the_quota(make_ledger):
    async def run() -> tuple[list[str], list[str], int, int]:
        ledger = make_ledger()
        gate = asyncio.Event()
        users = [
            asyncio.create_task(_generate(ledger, gate, user_limit=100, campaign_limit=None))
            for _ in range(10)
        ]
        await asyncio.sleep(0.05)
        gate.set()
        by_user = await asyncio.gather(*users)
        # The campaign's budget, every member's own quota aside.
        gate = asyncio.Event()
        campaign = [
            asyncio.create_task(_generate(ledger, gate, user_limit=None, campaign_limit=40))
            for _ in range(5)
        ]
        await asyncio.sleep(0.05)
        gate.set()
        by_campaign = await asyncio.gather(*campaign)
        return by_user, by_campaign, await ledger.used_today(7), await ledger.campaign_used_today(3)

    by_user, by_campaign, used, campaign_used = asyncio.run(run())
    # 0 and 60 are under 100; at 120 held, the other eight are refused (without the hold, all
    # ten saw 0 and ran).
    assert sorted(by_user) == ["ok"] * 2 + ["token_quota_exceeded"] * 8
    # The campaign had 30 spent: one request holds 60, and the rest are refused.
    assert sorted(by_campaign) == ["campaign_token_quota_exceeded"] * 4 + ["ok"]
    # Holds gave way to what was used: 15 a generation.
    assert (used, campaign_used) == (45, 45)


def test_a_failed_or_cut_generation_gives_its_hold_back(make_ledger):
    async def run() -> tuple[int, list, int]:
        ledger = make_ledger()
        with pytest.raises(TimeoutError):
            async with held(ledger, 8, None, 500, user_limit=1000):
                assert await ledger.used_today(8) == 500  # held while it runs
                raise TimeoutError
        task = asyncio.create_task(_hold_forever(ledger))
        await asyncio.sleep(0.05)
        task.cancel()  # a client that went away
        await asyncio.gather(task, return_exceptions=True)
        return await ledger.used_today(8), await ledger.rows(8), await ledger.used_today(9)

    used, rows, other = asyncio.run(run())
    assert (used, rows, other) == (0, [], 0)


async def _hold_forever(ledger: TokenLedger) -> None:
    async with held(ledger, 8, None, 500, user_limit=1000):
        await asyncio.Event().wait()
