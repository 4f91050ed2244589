from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from deployments.campaigns import api_router, play_router, records_router
from deployments.campaigns.deps import PREFIX
from deployments.campaigns.live import Feeds
from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress, validated_args
from deployments.common.runner import ServiceRunner, signed_in
from domain.campaigns.access import CampaignAccess
from domain.campaigns.content import NPC, Location
from domain.campaigns.context import CampaignContext
from domain.campaigns.messages import RecordIn
from domain.campaigns.services import Campaigns
from domain.users.schemas import Principal


class CampaignsConfig(AppConfig):
    pass


class CampaignsIngress(AppIngress):
    """Implements `deployments.calls.campaigns.CampaignCalls`."""

    route_prefix = PREFIX
    config_type = CampaignsConfig
    config: CampaignsConfig

    def create_app(self) -> FastAPI:
        self.campaigns = ServiceRunner(
            self.db,
            lambda session, principal: Campaigns(session, signed_in(principal)),
            threads=self.config.threads,
        )
        app = self.new_app(
            title="Lorekeeper campaigns",
            description="Campaigns: members and visibility, story, world, sessions, awards, "
            "timeline, export and a live event stream.",
            # Fixed paths (/themes, /invitations, /import) before /{campaign_id}.
            routers=[api_router.router, records_router.router, play_router.router],
        )
        app.state.campaigns = self.campaigns
        self.feeds = app.state.feeds = Feeds(self.db)  # the live streams' shared pollers
        return app

    async def access(self, principal: Principal, campaign_id: int) -> CampaignAccess:
        return await self.campaigns.run(principal, lambda s: s.campaigns.access(campaign_id))

    async def context(
        self,
        principal: Principal,
        campaign_id: int,
        chapter_id: int | None = None,
        character_ids: list[int] | None = None,
    ) -> CampaignContext:
        return await self.campaigns.run(
            principal, lambda s: s.context.context(campaign_id, chapter_id, character_ids)
        )

    async def save_npc(
        self, principal: Principal, campaign_id: int, npc: NPC, visibility: str = "dm"
    ) -> int:
        return await self._save(principal, campaign_id, "npc", npc, visibility)

    async def save_location(
        self, principal: Principal, campaign_id: int, location: Location, visibility: str = "dm"
    ) -> int:
        return await self._save(principal, campaign_id, "location", location, visibility)

    async def _save(
        self, principal: Principal, campaign_id: int, kind: str, content: Any, visibility: str
    ) -> int:
        req = RecordIn(kind=kind, visibility=visibility, body=content.model_dump(mode="json"),
                       reason="generated")

        def save(s: Campaigns) -> int:
            s.campaigns.dm_access(campaign_id, f"store a generated {kind}")
            return s.records.create(campaign_id, req).id

        return await self.campaigns.run(principal, save)


CampaignsApp = serve.deployment(name="Campaigns")(serve.ingress()(CampaignsIngress))


def build(args: dict[str, Any]) -> Application:
    """serve_config.yaml's builder: `args` is validated into the config object."""
    return CampaignsApp.bind(validated_args(CampaignsApp, args))
