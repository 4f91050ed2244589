"""The base of every application's ingress class: settings, database, the FastAPI app and
the calls every application answers (`AppCalls`: readiness, OpenAPI).

The same object serves in a Serve replica (constructed by Serve with the config object) and
in process (tests, `lorekeeper serve-local`: constructed with settings and a database).
"""

from __future__ import annotations

from typing import Any, ClassVar

import anyio
from fastapi import APIRouter, FastAPI
from redis.asyncio import Redis
from starlette.types import ASGIApp, Receive, Scope, Send

from cluster import logs, migrate
from cluster.database import Database
from cluster.settings import Settings, get_settings
from deployments.calls.app import Readiness
from deployments.common.config import AppConfig
from deployments.http.app import new_app


class AppIngress:
    # Must equal the application's route_prefix in serve_config.yaml (checked at start):
    # routes are declared with full paths, so a search for a URL finds its route.
    route_prefix: ClassVar[str]
    config_type: ClassVar[type[AppConfig]]
    uses_database: ClassVar[bool] = True
    # False for applications that hold a model engine: `compose_local` (tests, serve-local)
    # leaves them out; their tests build them with a tiny model.
    composed_locally: ClassVar[bool] = True

    def __init__(
        self,
        config: AppConfig | dict[str, Any],
        settings: Settings | None = None,
        db: Database | None = None,
    ):
        # Serve hands the bound config over as a dict; tests pass the object.
        self.config = self.config_type.model_validate(config)
        self.behind_serve = settings is None
        self.settings = settings or get_settings()
        logs.configure_logging(self.settings.log_level)
        if db is None and self.uses_database:
            # `lorekeeper run` migrates first; this makes a bare `serve run` work too.
            migrate.upgrade(self.settings.resolved_database_url)
            db = Database(self.settings.resolved_database_url)
        self._db = db
        self._redis = Redis.from_url(self.settings.redis_url) if self.settings.redis_url else None
        self.http = self.create_app()  # "app" is taken by Serve's ingress wrapper

    @classmethod
    def prepare(cls, config: AppConfig, settings: Settings) -> None:
        """Work done once before Ray starts (`lorekeeper run`): building or converting a
        model, so replicas only load it."""

    @property
    def db(self) -> Database:
        assert self._db is not None, f"{type(self).__name__} uses no database"
        return self._db

    def create_app(self) -> FastAPI:
        raise NotImplementedError

    def new_app(
        self, *, title: str, description: str, routers: list[APIRouter], serve_openapi: bool = True
    ) -> FastAPI:
        """The toolkit's app for this application: its settings, prefix and dependencies."""
        return new_app(
            self.settings,
            title=title,
            description=description,
            route_prefix=self.route_prefix,
            routers=routers,
            behind_serve=self.behind_serve,
            serve_openapi=serve_openapi,
            uses_database=self.uses_database,
        )

    def __serve_build_asgi_app__(self) -> ASGIApp:
        return _FullPaths(self.http)

    # --- AppCalls -------------------------------------------------------------------------

    async def ready(self) -> Readiness:
        deps: dict[str, Any] = {}
        if self.uses_database:
            deps["database"] = "ok" if await anyio.to_thread.run_sync(self.db.ping) else "down"
        deps["redis"] = await self._redis_state()
        return Readiness(ready="down" not in deps.values(), dependencies=deps)

    async def openapi(self) -> dict[str, Any]:
        return self.http.openapi()

    async def _redis_state(self) -> str:
        if self._redis is None:
            return "not configured"
        try:
            return "ok" if await self._redis.ping() else "down"
        except Exception:
            return "down"


class _FullPaths:
    """Serve sets root_path to the route prefix, so Starlette would route on the rest of the
    path; our routes carry the full path, so route on all of it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "root_path": ""}
        await self.app(scope, receive, send)


def validated_args(deployment: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A builder's `args` checked against the ingress's config object: a wrong key or value
    fails the deploy with pydantic's message naming it. Serve passes the result, a dict, to
    the ingress constructor."""
    ingress: type[AppIngress] = deployment.func_or_class
    return ingress.config_type.model_validate(args).model_dump()
