from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress, validated_args
from deployments.common.runner import ServiceRunner, signed_in
from deployments.rules import api_router, homebrew_router
from domain.campaigns.membership import campaign_roles
from domain.homebrew.service import HomebrewService


class RulesConfig(AppConfig):
    pass


class RulesIngress(AppIngress):
    route_prefix = api_router.PREFIX
    config_type = RulesConfig
    config: RulesConfig

    def create_app(self) -> FastAPI:
        app = self.new_app(
            title="Lorekeeper rules",
            description="The rules catalog (SRD 5.1 and 5.2 plus homebrew) and homebrew.",
            # Homebrew first: its paths would otherwise match /{ruleset}/{table}.
            routers=[homebrew_router.router, api_router.router],
        )
        app.state.homebrew = ServiceRunner(
            self.db,
            lambda session, principal: HomebrewService(
                session, signed_in(principal), campaign_roles
            ),
            threads=self.config.threads,
        )
        return app


Rules = serve.deployment(name="Rules")(serve.ingress()(RulesIngress))


def build(args: dict[str, Any]) -> Application:
    """serve_config.yaml's builder: `args` is validated into the config object."""
    return Rules.bind(validated_args(Rules, args))
