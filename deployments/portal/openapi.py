"""One OpenAPI document for the whole cluster, merged from every application's own."""

from __future__ import annotations

from typing import Any

from cluster.logs import get_logger

log = get_logger("portal")


def merge(info: dict[str, Any], docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`docs`: application name -> its OpenAPI document (paths are already full paths).
    Components of the same name must agree; a clash is logged and the first one kept."""
    out: dict[str, Any] = {"openapi": "3.1.0", "info": info, "paths": {}, "components": {}}
    tags: dict[str, dict[str, Any]] = {}
    for name, doc in docs.items():
        for path, item in doc.get("paths", {}).items():
            if path in out["paths"]:
                log.warning("path served by two applications", extra={"path": path, "app": name})
                continue
            out["paths"][path] = item
        for kind, entries in doc.get("components", {}).items():
            merged = out["components"].setdefault(kind, {})
            for key, value in entries.items():
                if key in merged and merged[key] != value:
                    log.warning("OpenAPI component clash", extra={"component": key, "app": name})
                    continue
                merged[key] = value
        for tag in doc.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        out["tags"] = list(tags.values())
    return out
