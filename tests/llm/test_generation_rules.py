"""The generation rules without a model: the context manager, validation and its
regeneration budget, the generation schemas, token accounting and the response cache (on
Redis and in process)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cluster.rate_limit import MemoryRateLimiter
from cluster.response_cache import MemoryCache, RedisCache, cache_key
from cluster.token_usage import MemoryLedger, RedisLedger, TokenQuota, admit, admit_campaign
from deployments.generation.generator import clean, generation_schema
from domain.campaigns.content import NPC, Encounter, Location
from domain.campaigns.context import CampaignContext, ContextItem, StyleGuide, ThemeSummary
from domain.errors import RateLimited
from domain.generation import prompts
from domain.generation.context import Focus, assemble
from domain.generation.validation import (
    ContentRejected,
    Violation,
    check_content,
    check_text,
    find_terms,
    parse_content,
    until_valid,
)

REDIS = "redis://127.0.0.1:6379/5"
CAMPAIGN_REDIS = "redis://127.0.0.1:6379/7"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def words(text: str) -> int:  # a counting function: one token per word
    return len(text.split())


def campaign(**kw) -> CampaignContext:
    items = [
        ContextItem(kind="npc", id=1, name="Mira", text="the innkeeper, kind and nosy", at=T0),
        ContextItem(
            kind="npc",
            id=2,
            name="Old Tom",
            text="a fisherman, drowned last winter",
            facts={"alive": False},
            at=T0 + timedelta(days=1),
        ),
        ContextItem(
            kind="location",
            id=3,
            name="Greywater",
            text="a town of " + "wet " * 40,
            at=T0 + timedelta(days=2),
        ),
        ContextItem(kind="faction", id=4, name="The Reed Guild", text="smugglers", at=T0),
        ContextItem(
            kind="npc", id=5, name="Vex", text="the lich behind it all", facts={"visibility": "dm"}
        ),
    ]
    return CampaignContext(
        campaign_id=7,
        name="Fog over Greywater",
        ruleset="2024",
        theme=ThemeSummary(slug="heroic", tone="hopeful", forbids=["school:necromancy"]),
        style=StyleGuide(guide="Short sentences.", examples=["The fog came in at dusk."]),
        chapter=ContextItem(kind="chapter", id=9, name="The Drowned Bell", text="find the bell"),
        items=items,
        characters=[ContextItem(kind="character", id=11, name="Ash", text="elf wizard 3")],
        recent_events=[
            ContextItem(
                kind="event",
                id=20 + i,
                name=f"Event {i}",
                text="something happened",
                at=T0 + timedelta(hours=i),
            )
            for i in range(6)
        ],
        **kw,
    )


def test_context_ranks_and_fits_the_budget():
    ctx = campaign()
    whole = assemble(ctx, words, 10_000, may_see=lambda v: v != "dm")
    assert whole.left_out == [] and "npc:Vex" not in whole.included  # hidden, not reported
    assert "Vex" not in whole.text and "lich" not in whole.text
    assert whole.text.index("Current chapter:") < whole.text.index("Recent events:")
    assert "Old Tom (dead)" in whole.text

    small = assemble(
        ctx, words, 40, focus=Focus(text="Ask Mira about the bell", character_ids=[11])
    )
    assert small.tokens <= 40 and small.budget == 40
    # The chapter, the involved character and the NPC the request names come first; the
    # long location does not fit, and is reported.
    assert {"chapter:The Drowned Bell", "character:Ash", "npc:Mira"} <= set(small.included)
    assert "location:Greywater" in small.left_out
    assert set(small.included).isdisjoint(small.left_out)
    assert len(small.included) + len(small.left_out) == len(whole.included) + 1  # + Vex
    # Newer events rank above older ones.
    events = [x for x in small.included + small.left_out[::-1] if x.startswith("event:")]
    assert events[0] == "event:Event 5"

    nothing = assemble(ctx, words, 0)
    assert nothing.text == "" and nothing.included == [] and len(nothing.left_out) == 13


def test_every_prompt_carries_the_style():
    ctx = campaign()
    for prompt in (
        prompts.story(ctx, "notes", "scene", "The harbour at night.", None),
        prompts.content(ctx, "", "npc", ""),
        prompts.theme_check(ctx, "A text."),
        prompts.modify(ctx, "A text.", theme=None, tone="grim", reading_level=None, length=None),
    ):
        assert "Style: Short sentences." in prompt and "The fog came in at dusk." in prompt
        assert "Fog over Greywater" in prompt
    assert prompts.story(ctx, "", "dialogue", "Greet them.", "Mira").endswith('Mira says: "')


def test_text_checks():
    ctx = campaign()
    policy = ["gore"]
    assert check_text("Mira pours the ale.", ctx, policy) == []
    found = {v.code for v in check_text("Necromancy and GORE, said Old Tom.", ctx, policy)}
    assert found == {"theme_forbidden", "policy_violation"}  # "said Old Tom": not him speaking
    for line in ('Old Tom says: "Hello."', "Old Tom: I'm back!", "Old Tom whispered, go"):
        assert [v.code for v in check_text(line, ctx, [])] == ["canon_conflict"], line
    assert find_terms(
        "a demon armor and cure-wounds", ["item:demon-armor", "spell:cure-wounds", "spell:heal"]
    ) == ["item:demon-armor", "spell:cure-wounds"]


def test_content_checks_against_canon():
    ctx = campaign()
    assert check_content(NPC(name="Brann", role="smith"), ctx, []) == []
    assert [v.message for v in check_content(NPC(name="old tom"), ctx, [])] == [
        "old tom died in this campaign."
    ]
    assert "already a location" in check_content(NPC(name="Greywater"), ctx, [])[0].message
    assert (
        "campaign's own name" in check_content(NPC(name="fog over greywater"), ctx, [])[0].message
    )
    assert "already has a npc" in check_content(NPC(name="Mira"), ctx, [])[0].message
    assert check_content(Location(name="Mira's Inn", description="gore"), ctx, ["gore"])


def test_parsing_structured_output():
    npc, errors = parse_content('{"name": "Br\\u0000ann", "role": "line\nbreak"}', NPC)
    assert errors == [] and npc.name == "Brann" and npc.role == "line\nbreak"
    assert clean("a\x00b") == "ab"
    for text in ("{", '{"name": ""}', '{"name": "x", "alive": "yes"}', "[]"):
        assert [v.code for v in parse_content(text, NPC)[1]] == ["schema_invalid"], text


def test_until_valid_regenerates_within_the_budget():
    calls: list[int] = []

    async def attempt(n: int) -> str:
        calls.append(n)
        return "bad" if n < 2 else "good"

    def check(text: str) -> list[Violation]:
        return [Violation("policy_violation", "bad")] if text == "bad" else []

    assert asyncio.run(until_valid(attempt, check, 3)) == ("good", 3)
    calls.clear()
    with pytest.raises(ContentRejected) as rejected:
        asyncio.run(until_valid(attempt, check, 2))
    assert calls == [0, 1] and rejected.value.extra["attempts"] == 2
    assert rejected.value.errors[0]["code"] == "policy_violation"


def test_generation_schema_is_tighter_than_the_model():
    schema = generation_schema(Encounter, 20)
    monster = schema["$defs"]["EncounterMonster"]["properties"]["name"]
    assert monster["maxLength"] == 20 and schema["properties"]["monsters"]["maxItems"] == 5
    assert "maxLength" not in schema["properties"]["difficulty"]  # an enum
    assert "pattern" in NPC.model_json_schema()["properties"]["name"]
    assert "pattern" not in generation_schema(NPC, 20)["properties"]["name"]
    assert generation_schema(NPC, 4000)["properties"]["description"]["maxLength"] == 4000


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_token_ledger_and_quota(backend):
    prefix = f"lorekeeper:test:{uuid.uuid4().hex}:"
    ledger = MemoryLedger() if backend == "memory" else RedisLedger(REDIS, prefix)
    limiter = MemoryRateLimiter()
    quota = TokenQuota(tokens_per_day=100, requests_per_minute=3)

    async def scenario():
        await admit(ledger, limiter, quota, 1)
        await ledger.record(1, 7, "tiny", 50, 20)
        await ledger.record(1, None, "tiny", 5, 5)
        await ledger.record(2, 7, "tiny", 1, 1)
        await admit(ledger, limiter, quota, 1)  # 80 of 100 used
        await ledger.record(1, 7, "tiny", 10, 10)
        with pytest.raises(RateLimited) as over:
            await admit(ledger, limiter, quota, 1)
        await admit(ledger, limiter, quota, 2)
        return over.value, await ledger.rows(1), await ledger.rows(), await ledger.used_today(1)

    over, mine, everyone, used = asyncio.run(scenario())
    assert over.code == "token_quota_exceeded" and over.extra["retry_after"] > 0
    assert used == 100
    assert [(r.campaign_id, r.prompt_tokens, r.completion_tokens) for r in mine] == [
        (7, 60, 30),
        (None, 5, 5),
    ]
    assert {r.user_id for r in everyone} == {1, 2} and mine[0].total_tokens == 90


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_campaign_budget(backend):
    prefix = f"lorekeeper:test:{uuid.uuid4().hex}:"
    ledger = MemoryLedger() if backend == "memory" else RedisLedger(CAMPAIGN_REDIS, prefix)

    async def scenario():
        await admit_campaign(ledger, 7, 100)
        await ledger.record(1, 7, "tiny", 40, 20)
        await ledger.record(2, 7, "other", 20, 10)  # every member and model counts
        await ledger.record(1, 8, "tiny", 500, 500)  # another campaign's does not
        await ledger.record(1, None, "tiny", 500, 500)  # nor /v1's
        await admit_campaign(ledger, 7, 100)  # 90 of 100
        await admit_campaign(ledger, 7, None)  # no budget
        await ledger.record(2, 7, "tiny", 5, 5)
        with pytest.raises(RateLimited) as over:
            await admit_campaign(ledger, 7, 100)
        await admit_campaign(ledger, 8, 1001)
        return over.value, await ledger.campaign_used_today(7), await ledger.used_today(1)

    over, campaign_used, user_used = asyncio.run(scenario())
    assert over.code == "campaign_token_quota_exceeded" and over.extra["retry_after"] > 0
    assert over.extra["quota"] == 100 and campaign_used == 100 and user_used == 2060


def test_request_rate_limit():
    limiter, ledger = MemoryRateLimiter(), MemoryLedger()
    quota = TokenQuota(tokens_per_day=None, requests_per_minute=2)

    async def scenario():
        for _ in range(2):
            await admit(ledger, limiter, quota, 1)
        with pytest.raises(RateLimited) as over:
            await admit(ledger, limiter, quota, 1)
        return over.value

    assert asyncio.run(scenario()).code == "rate_limited"


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_response_cache(backend):
    prefix = f"lorekeeper:test:{uuid.uuid4().hex}:"
    cache = MemoryCache(max_entries=2) if backend == "memory" else RedisCache(REDIS, 60, prefix)
    key = cache_key("tiny", "Once", {"temperature": 0, "seed": None})
    assert key == cache_key("tiny", "Once", {"seed": None, "temperature": 0})
    assert key != cache_key("tiny", "Once", {"temperature": 0, "seed": 1})

    async def scenario():
        assert await cache.get(key) is None
        await cache.put(key, json.dumps({"text": "x"}))
        assert json.loads(await cache.get(key) or "{}") == {"text": "x"}
        return await cache.stats()

    assert asyncio.run(scenario()) == {"hits": 1, "misses": 1}
