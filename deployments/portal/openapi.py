"""One OpenAPI document for the whole cluster, merged from every application's own."""

from __future__ import annotations

from typing import Any

from cluster.logs import get_logger

log = get_logger("portal")


def merge(info: dict[str, Any], docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`docs`: application name -> its OpenAPI document (paths are already full paths).
    Components of the same name that differ (two applications' `Usage`) are kept apart: the
    later application's is renamed `<app>__<name>`, and its references with it."""
    out: dict[str, Any] = {"openapi": "3.1.0", "info": info, "paths": {}, "components": {}}
    tags: dict[str, dict[str, Any]] = {}
    for name, doc in docs.items():
        doc = _apart(name, doc, out["components"])
        for path, item in doc.get("paths", {}).items():
            if path in out["paths"]:
                log.warning("path served by two applications", extra={"path": path, "app": name})
                continue
            out["paths"][path] = item
        for kind, entries in doc.get("components", {}).items():
            out["components"].setdefault(kind, {}).update(entries)
        for tag in doc.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        out["tags"] = list(tags.values())
    return out


def _apart(app: str, doc: dict[str, Any], merged: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`doc` with each component that clashes with one already merged renamed."""
    renames: dict[str, str] = {}
    for kind, entries in doc.get("components", {}).items():
        for key, value in entries.items():
            if key in merged.get(kind, {}) and merged[kind][key] != value:
                renames[f"#/components/{kind}/{key}"] = f"#/components/{kind}/{app}__{key}"
    if not renames:
        return doc
    doc = _rewrite(doc, renames)
    for ref, new in renames.items():
        kind, key, new_key = ref.split("/")[2], ref.split("/")[3], new.split("/")[3]
        doc["components"][kind][new_key] = doc["components"][kind].pop(key)
    return doc


def _rewrite(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite(v, renames)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(v, renames) for v in node]
    return node
