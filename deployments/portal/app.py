"""The portal application at "/": the merged OpenAPI document, the offline API docs, and
liveness and per-application readiness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from ray import serve
from ray.serve import Application

from cluster.database import Database
from cluster.settings import Settings
from deployments.calls.app import Readiness
from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress, validated_args
from deployments.http.app import VERSION
from deployments.portal.directory import AppEntry, Directory, ServeDirectory
from deployments.portal.openapi import merge
from domain.errors import NotFound

# Swagger UI's files ship in the fastapi-offline wheel: /docs needs no internet.
_SWAGGER = Path(fastapi_offline.__file__).parent / "static"
router = APIRouter(tags=["health"])


class PortalConfig(AppConfig):
    name: str = Field("portal", description="This application's name in serve_config.yaml.")
    title: str = "Lorekeeper"
    probe_timeout_s: float = Field(2.0, gt=0, le=30, description="Per-application probe limit.")


class AppState(BaseModel):
    status: str  # Serve's: RUNNING, DEPLOYING, DEPLOY_FAILED, ...
    route_prefix: str
    ready: bool
    dependencies: dict[str, str] = {}
    message: str = ""


class ClusterReadiness(BaseModel):
    ready: bool
    applications: dict[str, AppState]


class PortalIngress(AppIngress):
    route_prefix = "/"
    config_type = PortalConfig
    uses_database = False
    config: PortalConfig

    def __init__(
        self,
        config: PortalConfig | dict[str, Any],
        settings: Settings | None = None,
        db: Database | None = None,
        directory: Directory | None = None,
    ):
        name = PortalConfig.model_validate(config).name
        self.directory: Directory = directory or ServeDirectory(name)
        self._openapi: dict[tuple[str, float], dict[str, Any]] = {}
        super().__init__(config, settings, db)

    def create_app(self) -> FastAPI:
        app = self.new_app(
            title=self.config.title,
            description="Characters, campaigns and their generated lore for D&D 5e.",
            routers=[router],
            serve_openapi=False,  # /openapi.json is the merged document below
        )
        app.state.portal = self
        app.mount("/docs/static", StaticFiles(directory=_SWAGGER), name="swagger")
        app.add_api_route("/openapi.json", self.openapi_route, include_in_schema=False)
        app.add_api_route("/docs", self.docs_route, include_in_schema=False)
        return app

    async def readiness(self, entry: AppEntry) -> AppState:
        state = AppState(
            status=entry.status,
            route_prefix=entry.route_prefix,
            ready=False,
            message=entry.message,
        )
        if entry.status != "RUNNING":
            return state
        try:
            with anyio.fail_after(self.config.probe_timeout_s):
                report: Readiness = await self.directory.calls(entry.name).ready()
        except Exception as exc:  # a probe that fails or hangs means "not ready", never a 500
            state.message = f"readiness probe failed: {type(exc).__name__}"
            return state
        state.ready, state.dependencies = report.ready, dict(report.dependencies)
        return state

    async def cluster_readiness(self) -> ClusterReadiness:
        entries = await self.directory.entries()
        states: dict[str, AppState] = {}

        async def probe(entry: AppEntry) -> None:
            states[entry.name] = await self.readiness(entry)

        async with anyio.create_task_group() as tasks:
            for entry in entries:
                tasks.start_soon(probe, entry)
        apps = {name: states[name] for name in sorted(states)}
        return ClusterReadiness(ready=all(s.ready for s in apps.values()), applications=apps)

    async def merged_openapi(self) -> dict[str, Any]:
        docs: dict[str, dict[str, Any]] = {"portal": self.http.openapi()}
        for entry in await self.directory.entries():
            if entry.status != "RUNNING":
                continue  # a loading application joins the document once it runs
            key = (entry.name, entry.deployed_at)
            if key not in self._openapi:  # fetched once per deployment of each application
                with anyio.move_on_after(self.config.probe_timeout_s):
                    self._openapi[key] = await self.directory.calls(entry.name).openapi()
            if key in self._openapi:
                docs[entry.name] = self._openapi[key]
        info = {"title": self.config.title, "version": VERSION, "description": _DESCRIPTION}
        return merge(info, docs)

    async def openapi_route(self) -> JSONResponse:
        return JSONResponse(await self.merged_openapi())

    async def docs_route(self) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{self.config.title} API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon.png",
        )


def _portal(request: Request) -> PortalIngress:
    return request.app.state.portal


@router.get("/healthz")
async def healthz() -> dict:
    """The HTTP front answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ClusterReadiness}})
async def readyz(request: Request) -> JSONResponse:
    """Every application's state and dependencies; 200 only when all are ready."""
    report = await _portal(request).cluster_readiness()
    return JSONResponse(report.model_dump(), status_code=200 if report.ready else 503)


@router.get("/readyz/{app}", responses={503: {"model": AppState}})
async def readyz_app(app: str, request: Request) -> JSONResponse:
    """One application's readiness: a load balancer checks only the one it routes to, so an
    application that is still loading leaves the others ready."""
    portal = _portal(request)
    entry = next((e for e in await portal.directory.entries() if e.name == app), None)
    if entry is None:
        raise NotFound(f"No application named {app!r}; GET /readyz lists them.")
    state = await portal.readiness(entry)
    return JSONResponse(state.model_dump(), status_code=200 if state.ready else 503)


_DESCRIPTION = (
    "Characters, campaigns and their generated lore for D&D 5e (2014 and 2024). One document "
    "for every application of the cluster; each also serves its own at <route prefix>/openapi.json."
)

Portal = serve.deployment(name="Portal")(serve.ingress()(PortalIngress))


def build(args: dict[str, Any]) -> Application:
    """serve_config.yaml's builder: `args` is validated into the config object."""
    return Portal.bind(validated_args(Portal, args))
