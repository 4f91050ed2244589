"""The FastAPI application of the gateway. Who answers its calls (Serve handles or the
domain code in process) is `app.state.backend`, set by whoever hosts it."""

from __future__ import annotations

from fastapi import FastAPI, Request

from cluster.rate_limit import make_rate_limiter
from cluster.settings import Settings
from deployments.gateway import problems
from deployments.gateway.accounts.api_router import router as accounts_router
from deployments.gateway.characters.api_router import router as characters_router
from deployments.gateway.deps import backend
from deployments.gateway.homebrew.api_router import router as homebrew_router
from deployments.gateway.middleware import RequestContext
from deployments.gateway.rules.api_router import router as rules_router
from domain.errors import Unavailable


def build_app(settings: Settings, *, behind_serve_proxy: bool = False) -> FastAPI:
    """`behind_serve_proxy`: Serve's proxy already echoes X-Request-ID (it uses the same ID),
    so the app must not add a second header."""
    app = FastAPI(
        title="Lorekeeper",
        version="0.1.0",
        description="Characters, campaigns and their generated lore for D&D 5e (2014 and 2024).",
    )
    app.state.jwt_secret = settings.resolved_jwt_secret
    app.state.echo_request_id = not behind_serve_proxy
    app.state.settings = settings
    app.state.rate_limiter = make_rate_limiter(settings)
    problems.install(app)
    app.add_middleware(
        RequestContext,
        max_body_bytes=settings.max_body_bytes,
        echo_header=not behind_serve_proxy,
    )
    app.include_router(accounts_router)
    app.include_router(characters_router)
    app.include_router(homebrew_router)
    app.include_router(rules_router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        """The gateway process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> dict:
        """Ready only when the domain replicas and their database answer."""
        if not await backend(request).ready():
            raise Unavailable(
                "The database does not answer yet; check LOREKEEPER_DATABASE_URL.",
                code="not_ready",
            )
        return {"status": "ready"}

    return app
