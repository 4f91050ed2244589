"""The applications of serve_config.yaml, read and checked before anything starts, and
composed in one process for tests and `lorekeeper serve-local`.

serve_config.yaml stays the one place that says which applications run, at which route
prefix, with which config object: this module reads it rather than repeating it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from cluster.database import Database
from cluster.settings import Settings
from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress
from deployments.portal import PortalIngress
from deployments.portal.directory import LocalDirectory

SERVE_CONFIG = Path(__file__).resolve().parent.parent / "serve_config.yaml"


class ConfigError(ValueError):
    """serve_config.yaml names something that cannot run; the message says what to fix."""


@dataclass(frozen=True)
class AppSpec:
    name: str
    route_prefix: str
    ingress: type[AppIngress]
    config: AppConfig


def load_specs(path: Path = SERVE_CONFIG) -> list[AppSpec]:
    return [_spec(path, app) for app in _applications(path.read_text())]


@lru_cache(maxsize=8)
def _applications(text: str) -> tuple[dict[str, Any], ...]:
    """Parsed once per text (tests compose the applications once per test); read only."""
    return tuple(yaml.safe_load(text).get("applications", []))


def _spec(path: Path, app: dict[str, Any]) -> AppSpec:
    name = app.get("name", "?")
    where = f"{path.name}, application {name!r}"
    module_name, _, builder_name = app.get("import_path", "").partition(":")
    try:
        module = importlib.import_module(module_name)
        builder = getattr(module, builder_name)
        ingress: type[AppIngress] = module.INGRESS
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(
            f"{where}: import_path {app.get('import_path')!r} does not name an application "
            f"builder (module:function with INGRESS beside it): {exc}"
        ) from None
    if not callable(builder):
        raise ConfigError(f"{where}: {builder_name!r} is not an application builder.")
    try:
        config = ingress.config_type.model_validate(app.get("args") or {})
    except ValidationError as exc:
        raise ConfigError(f"{where}: invalid args:\n{exc}") from None
    prefix = app.get("route_prefix")
    if prefix != ingress.route_prefix:
        raise ConfigError(
            f"{where}: route_prefix must be {ingress.route_prefix!r} (the prefix of its "
            f"routes), not {prefix!r}."
        )
    return AppSpec(name, prefix, ingress, config)


def compose_local(
    settings: Settings, db: Database, path: Path = SERVE_CONFIG
) -> tuple[ASGIApp, dict[str, AppIngress]]:
    """Every application in this process, routed by prefix as Serve's proxy routes them;
    model engines (`composed_locally = False`) are left out."""
    specs = [spec for spec in load_specs(path) if spec.ingress.composed_locally]
    ingresses: dict[str, AppIngress] = {}
    for spec in specs:
        if spec.ingress is not PortalIngress:
            ingresses[spec.name] = spec.ingress(spec.config, settings, db)
    if (campaigns := ingresses.get("campaigns")) is not None:  # typed calls, in process
        for app in ingresses.values():
            if use_campaigns := getattr(app, "use_campaigns", None):
                use_campaigns(campaigns)
    if (assets := ingresses.get("assets")) is not None:
        for app in ingresses.values():
            if use_assets := getattr(app, "use_assets", None):
                use_assets(assets)
    directory = LocalDirectory({name: (app.route_prefix, app) for name, app in ingresses.items()})
    for spec in specs:
        if spec.ingress is PortalIngress:
            ingresses[spec.name] = PortalIngress(spec.config, settings, db, directory=directory)
    routes = {spec.route_prefix: ingresses[spec.name].http for spec in specs}
    return PrefixRouter(routes), ingresses


class PrefixRouter:
    """Longest route prefix wins, as in Serve's proxy."""

    def __init__(self, routes: dict[str, ASGIApp]):
        self.routes = sorted(routes.items(), key=lambda r: len(r[0]), reverse=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # our applications keep no lifespan state
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path = scope["path"]
        for prefix, app in self.routes:
            if prefix == "/" or path == prefix or path.startswith(prefix + "/"):
                await app(scope, receive, send)
                return
