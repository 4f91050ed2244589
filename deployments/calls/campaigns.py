"""The campaigns application's calls: what the LLM, images and pipelines may ask of it."""

from __future__ import annotations

from typing import Protocol

from deployments.calls.app import AppCalls
from domain.campaigns.access import CampaignAccess
from domain.campaigns.content import NPC, Location
from domain.campaigns.context import CampaignContext
from domain.users.schemas import Principal


class CampaignCalls(AppCalls, Protocol):
    async def access(self, principal: Principal, campaign_id: int) -> CampaignAccess:
        """`principal`'s role in the campaign; NotFound if they are not a member."""
        ...

    async def context(
        self,
        principal: Principal,
        campaign_id: int,
        chapter_id: int | None = None,
        character_ids: list[int] | None = None,
    ) -> CampaignContext:
        """The campaign as `principal` may see it, for generation (no secrets for players)."""
        ...

    async def save_npc(
        self, principal: Principal, campaign_id: int, npc: NPC, visibility: str = "dm"
    ) -> int:
        """Store a (generated) NPC in the campaign; returns its record id. DMs only."""
        ...

    async def save_location(
        self, principal: Principal, campaign_id: int, location: Location, visibility: str = "dm"
    ) -> int:
        """Store a (generated) location in the campaign; returns its record id. DMs only."""
        ...
