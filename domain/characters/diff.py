"""Field-level diff between two JSON documents, as stored with each version."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Changes from `old` to `new`: [{path, op: add|remove|replace, old?, new?}].

    Dicts are compared key by key and lists index by index, so a change deep in the
    inventory shows as "inventory.3.quantity" rather than a whole new list.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(old.keys() | new.keys()):
            out += _pair(old.get(key, _MISSING), new.get(key, _MISSING), _join(path, key))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            a = old[i] if i < len(old) else _MISSING
            b = new[i] if i < len(new) else _MISSING
            out += _pair(a, b, _join(path, str(i)))
        return out
    if old == new and type(old) is type(new):
        return []
    return [{"path": path, "op": "replace", "old": old, "new": new}]


def _pair(a: Any, b: Any, path: str) -> list[dict[str, Any]]:
    if a is _MISSING:
        return [{"path": path, "op": "add", "new": b}]
    if b is _MISSING:
        return [{"path": path, "op": "remove", "old": a}]
    return diff(a, b, path)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
