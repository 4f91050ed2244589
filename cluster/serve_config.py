"""serve_config.yaml with overlays: a file of differences (a GPU node group's, say) merged
onto the base by application and deployment name, so the base stays the one place for
deployment options and runs as is on one CPU machine."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml


class OverlayError(ValueError):
    """An overlay names an application or deployment the base does not have."""


def read(path: Path, overlays: Iterable[Path] = ()) -> dict[str, Any]:
    config = yaml.safe_load(path.read_text())
    for overlay in overlays:
        config = merge(config, yaml.safe_load(overlay.read_text()) or {}, where=overlay.name)
    return config


def merge(base: dict[str, Any], overlay: dict[str, Any], where: str = "overlay") -> dict[str, Any]:
    """`overlay["applications"]` maps an application's name to the keys to change; its
    `deployments` map a deployment's name likewise. A null value removes the key."""
    merged = {k: v for k, v in base.items() if k != "applications"}
    merged = _deep(merged, {k: v for k, v in overlay.items() if k != "applications"})
    apps = {app["name"]: app for app in base.get("applications", [])}
    for name, change in (overlay.get("applications") or {}).items():
        if name not in apps:
            raise OverlayError(f"{where}: no application {name!r} in the base config")
        app, change = dict(apps[name]), dict(change)
        deployments = {d["name"]: d for d in app.get("deployments", [])}
        for dname, dchange in (change.pop("deployments", None) or {}).items():
            if dname not in deployments:
                raise OverlayError(f"{where}: application {name!r} has no deployment {dname!r}")
            deployments[dname] = _deep(deployments[dname], dchange)
        app = _deep(app, change)
        if deployments:
            app["deployments"] = list(deployments.values())
        apps[name] = app
    merged["applications"] = list(apps.values())
    return merged


def _deep(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep(out[key], value)
        else:
            out[key] = value
    return out


def write(config: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
