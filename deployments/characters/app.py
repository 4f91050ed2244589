from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from deployments.characters import api_router
from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress, validated_args
from deployments.common.runner import ServiceRunner, signed_in
from domain.campaigns.membership import campaign_roles
from domain.characters.messages import CharacterOut, CharacterSummary, XpAwardRequest, XpAwardResult
from domain.characters.service import CharacterService
from domain.sheet import Ruleset
from domain.users.schemas import Principal


class CharactersConfig(AppConfig):
    pass


class CharactersIngress(AppIngress):
    """Implements `deployments.calls.characters.CharacterCalls`."""

    route_prefix = api_router.PREFIX
    config_type = CharactersConfig
    config: CharactersConfig

    def create_app(self) -> FastAPI:
        self.characters = ServiceRunner(
            self.db,
            lambda session, principal: CharacterService(
                session, signed_in(principal), campaign_roles
            ),
            threads=self.config.threads,
        )
        app = self.new_app(
            title="Lorekeeper characters",
            description="Characters checked against their edition's rules, versioned, themed.",
            routers=[api_router.router],
        )
        app.state.characters = self.characters
        return app

    async def get(self, principal: Principal, character_id: int) -> CharacterOut:
        return await self.characters.run(principal, lambda s: s.get(character_id))

    async def award_xp(
        self, principal: Principal, character_id: int, req: XpAwardRequest
    ) -> XpAwardResult:
        return await self.characters.run(principal, lambda s: s.award_xp(character_id, req))

    async def summaries(
        self, principal: Principal, ruleset: Ruleset | None = None, page_size: int = 100
    ) -> AsyncIterator[CharacterSummary]:
        offset = 0
        while True:
            page = await self.characters.run(
                principal, lambda s, o=offset: s.list(limit=page_size, offset=o, ruleset=ruleset)
            )
            for item in page.items:
                yield item
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return


Characters = serve.deployment(name="Characters")(serve.ingress()(CharactersIngress))


def build(args: dict[str, Any]) -> Application:
    """serve_config.yaml's builder: `args` is validated into the config object."""
    return Characters.bind(validated_args(Characters, args))
