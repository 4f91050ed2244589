"""Typed calls in process: the same CharacterCalls methods that Serve handles forward to
(tests/e2e/test_serve_calls.py runs them over real handles)."""

from __future__ import annotations

import asyncio

import pytest

from deployments.calls.characters import CharacterCalls
from deployments.characters import CharactersConfig, CharactersIngress
from domain.characters.examples import EXAMPLE_2014, EXAMPLE_2024
from domain.characters.messages import XpAwardRequest
from domain.errors import NotFound
from domain.users.schemas import Principal


@pytest.fixture
def calls(settings, db) -> CharacterCalls:
    return CharactersIngress(CharactersConfig(), settings, db)


def test_get_award_and_stream(calls, player, other_player):
    ids = [player.post("/api/v2/characters", json=doc).json()["id"] for doc in (EXAMPLE_2024,) * 3]
    other_player.post("/api/v2/characters", json=EXAMPLE_2014)
    me = Principal(player.user_id, "player")

    async def scenario():
        out = await calls.get(me, ids[0])
        result = await calls.award_xp(
            me, ids[0], XpAwardRequest(kind="xp", amount=1800, reason="the siege")
        )
        streamed = [s.id async for s in calls.summaries(me, page_size=2)]
        with pytest.raises(NotFound):  # another player's character reads as missing
            await calls.get(Principal(other_player.user_id, "player"), ids[0])
        return out, result, streamed, await calls.ready()

    out, result, streamed, ready = asyncio.run(scenario())
    assert out.id == ids[0] and out.document["name"] == EXAMPLE_2024["name"]
    assert result.character.derived.total_level == 4
    assert streamed == ids  # three pages of two: only the caller's own characters
    assert ready.ready and ready.dependencies["database"] == "ok"
