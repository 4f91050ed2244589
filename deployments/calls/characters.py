"""The characters application's calls: what other applications and pipelines may ask of it
(a campaign awarding XP, generation reading a character, a re-index streaming them all)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from deployments.calls.app import AppCalls
from domain.characters.messages import CharacterOut, CharacterSummary, XpAwardRequest, XpAwardResult
from domain.sheet import Ruleset
from domain.users.schemas import Principal


class CharacterCalls(AppCalls, Protocol):
    async def get(self, principal: Principal, character_id: int) -> CharacterOut:
        """One character as `principal` may see it (404 if they may not)."""
        ...

    async def award_xp(
        self, principal: Principal, character_id: int, req: XpAwardRequest
    ) -> XpAwardResult:
        """Award XP or a milestone; crossing a threshold levels the character up."""
        ...

    async def summaries(
        self, principal: Principal, ruleset: Ruleset | None = None, page_size: int = 100
    ) -> AsyncIterator[CharacterSummary]:
        """Every character `principal` may see, streamed page by page."""
        raise NotImplementedError
        yield  # makes this an async generator: `remote()` streams it
