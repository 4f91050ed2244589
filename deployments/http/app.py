"""One FastAPI application, made the same way for every domain: problem+json errors, request
ids, limits, security headers and JSON logs. Routes stay in each application's package."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, request_response
from starlette.routing import BaseRoute

from cluster.settings import Settings
from deployments.http import etags, problems
from deployments.http.middleware import RequestContext

VERSION = "0.2.0"

# The routes built from each list of routers, once per process: including a router makes
# every route's dependency tree and pydantic fields, most of an app's making, and the same
# for every app made from the same routers (in-process composition makes each application
# once per test). Our routers add no startup handlers or lifespans.
# Keyed by the routers' ids; each entry holds its routers, so no id is reused while cached.
_ROUTES: dict[tuple[int, ...], tuple[list[APIRouter], list[BaseRoute]]] = {}


def new_app(
    settings: Settings,
    *,
    title: str,
    description: str,
    route_prefix: str,
    routers: list[APIRouter],
    behind_serve: bool,
    serve_openapi: bool = True,
    uses_database: bool = True,
) -> FastAPI:
    """`behind_serve`: Serve already echoes X-Request-ID (made safe by
    cluster.request_ids), so the app must not add a second header. `uses_database`: its
    routes may answer 503 `database_unavailable` (documented on each operation)."""
    app = FastAPI(
        title=title,
        version=VERSION,
        description=description,
        # Each application's own document lives under its prefix.
        openapi_url=f"{route_prefix.rstrip('/')}/openapi.json" if serve_openapi else None,
        # One offline Swagger UI at /docs (the portal) shows every application's routes.
        docs_url=None,
        redoc_url=None,
    )
    app.state.jwt_secret = settings.resolved_jwt_secret
    app.state.echo_request_id = not behind_serve
    app.state.settings = settings
    problems.install(app)
    _document(app, uses_database=uses_database)
    app.add_middleware(
        RequestContext, max_body_bytes=settings.max_body_bytes, echo_header=not behind_serve
    )
    _include(app, routers)
    return app


def _include(app: FastAPI, routers: list[APIRouter]) -> None:
    """`app.include_router` for each router, with the routes built once per process."""
    cached = _ROUTES.get(key := tuple(map(id, routers)))
    if cached is None:
        first = len(app.router.routes)
        for router in routers:
            app.include_router(router)
        _ROUTES[key] = (list(routers), app.router.routes[first:])
        return
    for route in cached[1]:
        if isinstance(route, APIRoute):  # its handler looks up this app's dependency_overrides
            route = copy.copy(route)
            route.dependency_overrides_provider = app
            route.app = request_response(route.get_route_handler())
        app.router.routes.append(route)


def _document(app: FastAPI, *, uses_database: bool) -> None:
    """The OpenAPI document says what the toolkit does for every route: If-Match, and the
    problem+json answers."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = generate()
            _keys_match_their_pattern(doc)
            etags.document(doc)
            problems.document(doc, uses_database=uses_database)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _keys_match_their_pattern(node: Any) -> None:
    """pydantic writes a dict whose keys have a pattern (`dict[Slug, ...]`) as
    `patternProperties` alone, which lets any other key through; pydantic rejects those."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _keys_match_their_pattern(value)
    elif isinstance(node, list):
        for value in node:
            _keys_match_their_pattern(value)
