from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import Field
from ray import serve
from ray.serve import Application

from cluster.rate_limit import make_rate_limiter
from deployments.accounts import api_router
from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress, validated_args
from deployments.common.runner import ServiceRunner
from domain.users.service import AccountService


class AccountsConfig(AppConfig):
    # argon2 hashing is CPU-bound and deliberate: few at once per replica.
    threads: int = Field(4, ge=1, le=64)


class AccountsIngress(AppIngress):
    route_prefix = api_router.PREFIX
    config_type = AccountsConfig
    config: AccountsConfig

    def create_app(self) -> FastAPI:
        settings = self.settings
        app = self.new_app(
            title="Lorekeeper accounts",
            description="Registration, login, tokens, roles and invitations.",
            routers=[api_router.router],
        )
        app.state.rate_limiter = make_rate_limiter(settings)
        app.state.accounts = ServiceRunner(
            self.db,
            lambda session, principal: AccountService(
                session,
                secret=settings.resolved_jwt_secret,
                access_ttl=settings.access_ttl,
                refresh_ttl=settings.refresh_ttl,
                principal=principal,
            ),
            threads=self.config.threads,
        )
        return app


Accounts = serve.deployment(name="Accounts")(serve.ingress()(AccountsIngress))


def build(args: dict[str, Any]) -> Application:
    """serve_config.yaml's builder: `args` is validated into the config object."""
    return Accounts.bind(validated_args(Accounts, args))
